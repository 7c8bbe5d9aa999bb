"""Math parts of other courses, through the checker: the right notation is right, near-misses are
wrong, and what the rubric does not declare is undecided (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import answer, context

from grader.checking.numeric import NumericChecker
from grader.checking.symbolic import SymbolicChecker
from grader.math.api import symbol_table
from grader.math.symbols import SymbolTable
from grader.rubric.parts import NumericPart, SymbolicPart

STATISTICS = symbol_table(
    {
        "x": {"kind": "sample", "length": "n", "domain": "positive"},
        "y": {"kind": "sample", "length": "n"},
        "n": {"kind": "scalar", "domain": "positive_integer"},
        "mu": {"kind": "scalar"},
        "sigma": {"kind": "scalar", "domain": "positive"},
        "Phi": {"kind": "function", "library": "normal_cdf"},
    }
)
CALCULUS = symbol_table(
    {
        "x": {"kind": "scalar"},
        "t": {"kind": "scalar"},
        "k": {"kind": "scalar", "domain": "positive"},
        "y_0": {"kind": "scalar", "latex": ["y(0)"]},
        "C": {"kind": "arbitrary"},
    }
)
LINEAR = symbol_table({"A": {"kind": "matrix", "shape": [2, 2]}, "j": {"kind": "constant", "value": "%i"}})
TABLES = {"stats": STATISTICS, "calculus": CALCULUS, "linear": LINEAR}

# course, kind, target, reference, answer, part options, expected verdict
CASES: list[tuple[str, str, str, str, str, dict[str, Any], str]] = [
    # samples and indexed families
    ("stats", "symbolic", r"\hat\mu", r"\frac{1}{n}\sum_{i=1}^n x_i", r"\bar{x}", {}, "right"),
    ("stats", "symbolic", r"\hat\mu", r"\bar{x}", r"\frac1n\sum_{j=1}^n x_j", {}, "right"),
    ("stats", "symbolic", r"\hat\mu", r"\bar{x}", r"\frac{1}{n}\sum x_i", {}, "right"),
    ("stats", "symbolic", r"\hat\mu", r"\bar{x}", r"\frac{\sum_i x_i}{n}", {}, "right"),
    ("stats", "symbolic", r"\hat\lambda", r"\bar{x}", r"\frac{\sum x_i^2}{\sum x_i}", {}, "wrong"),
    ("stats", "symbolic", r"\hat\lambda", r"\bar{x}", r"x_i", {}, "wrong"),
    ("stats", "symbolic", r"\hat\lambda", r"\bar{x}", r"\frac{1}{n-1}\sum x_i", {}, "wrong"),
    ("stats", "symbolic", r"s^2", r"\frac{1}{n-1}\sum_{i=1}^n (x_i - \bar{x})^2", r"\frac{\sum x_i^2 - n\bar{x}^2}{n-1}", {}, "right"),
    ("stats", "symbolic", r"s^2", r"\frac{1}{n-1}\sum_{i=1}^n (x_i - \bar{x})^2", r"\frac{1}{n}\sum_{i=1}^n (x_i - \bar{x})^2", {}, "wrong"),
    ("stats", "symbolic", r"r", r"\sum x_i y_i", r"\sum_{k=1}^{n} y_k x_k", {}, "right"),
    ("stats", "symbolic", r"\hat\mu", r"\bar{x}", r"\bar{z}", {}, "undecided"),
    ("stats", "symbolic", r"\hat\mu", r"\bar{x}", r"\bar{x} + \epsilon", {}, "undecided"),
    ("stats", "symbolic", r"z", r"\frac{x_1 - \mu}{\sigma}", r"\frac{x_1 - \mu}{\sigma}", {}, "right"),
    ("stats", "symbolic", r"z", r"\frac{x_1 - \mu}{\sigma}", r"\frac{x_1 - \mu}{\sigma(X)}", {}, "undecided"),
    # special functions, percentages, decimal commas
    ("stats", "numeric", "P", r"1-\Phi(1)", r"0.1587", {}, "right"),
    ("stats", "numeric", "P", r"0.158655", r"1-\Phi(1)", {}, "right"),
    ("stats", "numeric", "P", r"0.158655", r"15.87\%", {}, "right"),
    ("stats", "numeric", "P", r"0.158655", r"0,1587", {}, "right"),
    ("stats", "numeric", "P", r"0.158655", r"0,1687", {}, "wrong"),
    ("stats", "numeric", "P", r"0.158655", r"\frac{1}{2}\left(1 - \operatorname{erf}\left(\frac{1}{\sqrt{2}}\right)\right)", {}, "right"),
    ("stats", "numeric", "N", r"10", r"\binom{5}{2}", {"final_form": False}, "right"),
    ("stats", "numeric", "N", r"10", r"\binom{5}{3}", {"final_form": False}, "right"),
    ("stats", "numeric", "N", r"10", r"\binom{6}{2}", {}, "wrong"),
    ("stats", "numeric", "N", r"10", r"\operatorname{binom}(10^{9}, 10^{8})", {}, "undecided"),
    # calculus: values of derivatives, integrals, limits, series
    ("calculus", "numeric", "I", r"\frac{1}{3}", r"\int_0^1 x^2\,dx", {"final_form": False}, "right"),
    ("calculus", "numeric", "I", r"\frac{1}{3}", r"\int_0^1 x^2\,dx", {}, "wrong"),
    ("calculus", "numeric", "L", r"1", r"\lim_{x \to 0} \frac{\sin x}{x}", {}, "wrong"),
    ("calculus", "numeric", "S", r"\frac{\pi^2}{6}", r"\sum_{k=1}^{\infty} \frac{1}{k^2}", {"final_form": False}, "right"),
    ("calculus", "symbolic", "f'(x)", r"3x^2", r"\frac{d}{dx} x^3", {"final_form": False}, "right"),
    ("calculus", "symbolic", "f'(x)", r"3x^2", r"\frac{d}{dx} x^3", {}, "wrong"),
    ("calculus", "symbolic", "f'(x)", r"3x^2", r"3x^3", {}, "wrong"),
    # up to an additive constant (antiderivatives)
    ("calculus", "symbolic", "F(x)", r"\frac{x^3}{3}", r"\frac{x^3}{3} + C", {"up_to": "constant"}, "right"),
    ("calculus", "symbolic", "F(x)", r"\frac{x^3}{3}", r"\frac{x^3}{3} + 5", {"up_to": "constant"}, "right"),
    ("calculus", "symbolic", "F(x)", r"\frac{x^3}{3} + C", r"\frac{x^3}{3}", {"up_to": "constant"}, "right"),
    ("calculus", "symbolic", "F(x)", r"\frac{x^3}{3}", r"\frac{x^3}{3} + x", {"up_to": "constant"}, "wrong"),
    ("calculus", "symbolic", "F(x)", r"\frac{x^3}{3}", r"x^3", {"up_to": "constant"}, "wrong"),
    # general solutions: the arbitrary constants may be called anything
    ("calculus", "symbolic", "y", r"C e^{-kt}", r"K e^{-kt}", {"up_to": "constants"}, "right"),
    ("calculus", "symbolic", "y", r"C e^{-kt}", r"A e^{-kt}", {"up_to": "constants", "constants": ["A"]}, "right"),
    ("calculus", "symbolic", "y", r"C_1 e^{t} + C_2 e^{-t}", r"C_2 e^{t} + C_1 e^{-t}", {"up_to": "constants"}, "right"),
    ("calculus", "symbolic", "y", r"C e^{-kt}", r"5 e^{-kt}", {"up_to": "constants"}, "wrong"),
    ("calculus", "symbolic", "y", r"C e^{-kt}", r"C e^{kt}", {"up_to": "constants"}, "wrong"),
    ("calculus", "symbolic", "y", r"y_0 e^{-kt}", r"y(0)e^{-kt}", {}, "right"),
    ("calculus", "symbolic", "y", r"y_0 e^{-kt}", r"y(1)e^{-kt}", {}, "wrong"),
    # expansions with an order term
    ("calculus", "symbolic", "T_2(x)", r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", {}, "right"),
    ("calculus", "symbolic", "T_2(x)", r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} - \frac{x^2}{8} + \frac{x^3}{16} + O(x^4)", {}, "right"),
    ("calculus", "symbolic", "T_2(x)", r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} + O(x^2)", {}, "wrong"),
    ("calculus", "symbolic", "T_2(x)", r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} + \frac{x^2}{8} + O(x^3)", {}, "wrong"),
    ("calculus", "symbolic", "T_2(x)", r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", r"1 + \frac{x}{2} - \frac{x^2}{8}", {}, "right"),
    # linear algebra: final form, up to a factor, j as the imaginary unit where declared
    ("linear", "numeric", r"\det M", r"3", r"\det\begin{pmatrix}2&1\\1&2\end{pmatrix}", {}, "wrong"),
    ("linear", "numeric", r"M^{-1}", r"\frac{1}{3}\begin{pmatrix}2&-1\\-1&2\end{pmatrix}", r"\begin{pmatrix}2&1\\1&2\end{pmatrix}^{-1}", {}, "wrong"),
    ("linear", "numeric", r"M^{-1}", r"\frac{1}{3}\begin{pmatrix}2&-1\\-1&2\end{pmatrix}", r"\begin{pmatrix}2/3&-1/3\\-1/3&2/3\end{pmatrix}", {}, "right"),
    ("linear", "numeric", "v", r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}-3\\-6\end{pmatrix}", {"up_to": "factor"}, "right"),
    ("linear", "numeric", "v", r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}2\\1\end{pmatrix}", {"up_to": "factor"}, "wrong"),
    ("linear", "numeric", "v", r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{pmatrix}0\\0\end{pmatrix}", {"up_to": "factor"}, "wrong"),
    ("linear", "numeric", r"\lambda", r"-1 + 2i, -1 - 2i", r"-1 \pm 2j", {}, "right"),
    ("linear", "numeric", r"\lambda", r"-1 + 2i, -1 - 2i", r"-1 \pm 2i", {}, "right"),
    ("linear", "numeric", r"\lambda", r"-1 + 2i, -1 - 2i", r"1 \pm 2j", {}, "wrong"),
    ("linear", "numeric", r"\lambda", r"-1 + 2i, -1 - 2i", r"-1 \pm 2k", {}, "undecided"),
    ("calculus", "symbolic", "g(x)", r"x + 1", r"\frac{x^2-1}{x-1}", {"given": [r"\frac{x^2-1}{x-1}"]}, "wrong"),
    ("calculus", "symbolic", "g(x)", r"x + 1", r"1 + x", {"given": [r"\frac{x^2-1}{x-1}"]}, "right"),
]


def _part(kind: str, target: str, reference: str, options: dict[str, Any]) -> SymbolicPart | NumericPart:
    model = SymbolicPart if kind == "symbolic" else NumericPart
    return model.model_validate({"kind": kind, "id": "p", "points": 1, "target": target, "reference": reference, **options})


def _check(table: SymbolTable, part: SymbolicPart | NumericPart, text: str) -> Any:
    checker = SymbolicChecker() if isinstance(part, SymbolicPart) else NumericChecker()
    return checker.check(part, answer(f"$${part.target} = {text}$$"), context(table))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("course", "kind", "target", "reference", "text", "options", "verdict"),
    CASES,
    ids=[f"{c[0]}: {c[4]} ({c[6]})" for c in CASES],
)
def test_notation(course: str, kind: str, target: str, reference: str, text: str, options: dict[str, Any], verdict: str) -> None:
    outcome = _check(TABLES[course], _part(kind, target, reference, options), text)
    assert outcome.verdict == verdict, (outcome.reasons, outcome.feedback)


def test_an_unknown_name_says_which_and_goes_to_a_person() -> None:
    outcome = _check(STATISTICS, _part("symbolic", r"\hat\mu", r"\bar{x}", {}), r"\bar{z}")
    assert (outcome.status, outcome.verdict) == ("needs_review", "undecided")
    assert outcome.reasons == ["unknown symbol z̄: the rubric does not declare it"]


def test_sigma_is_no_function_unless_the_rubric_imports_one() -> None:
    """σ is a standard deviation in this course: σ(X) is not the logistic function."""
    part = _part("symbolic", "z", r"\frac{x_1 - \mu}{\sigma}", {})
    assert _check(STATISTICS, part, r"\frac{x_1 - \mu}{\sigma}").verdict == "right"
    undeclared = symbol_table({"u": "real"})
    logistic = _check(undeclared, _part("symbolic", "y", r"\frac{1}{1+e^{-u}}", {}), r"\sigma(u)")
    assert logistic.verdict == "undecided" and "σ" in logistic.reasons[0]


def test_a_free_index_is_wrong_and_says_why() -> None:
    outcome = _check(STATISTICS, _part("symbolic", r"\hat\lambda", r"\bar{x}", {}), "x_i")
    assert outcome.verdict == "wrong"
    assert outcome.feedback[0].startswith("x_i outside a sum is not a number")


def test_restating_the_question_says_what_is_left_to_do() -> None:
    outcome = _check(LINEAR, _part("numeric", r"\det M", "3", {}), r"\det\begin{pmatrix}2&1\\1&2\end{pmatrix}")
    assert outcome.verdict == "wrong"
    assert "still contains the determinant" in outcome.feedback[0]


def test_several_targets_find_the_answer_under_any_of_them() -> None:
    part = _part("symbolic", "L", "1", {"targets": [r"\lim_{x \to 0} \frac{\sin x}{x}"], "final_form": False})
    text = r"$$\lim_{x \to 0} \frac{\sin x}{x} = 1$$"
    outcome = SymbolicChecker().check(part, answer(text), context(CALCULUS))  # type: ignore[arg-type]
    assert outcome.verdict == "right" and outcome.extracted is not None and outcome.extracted.how == "target_equation"
    approx = _part("symbolic", "T", "1 + x/2", {"targets": [r"\sqrt{1+x}"]})
    near = SymbolicChecker().check(approx, answer(r"$$\sqrt{1+x} \approx 1 + \frac{x}{2}$$"), context(CALCULUS))  # type: ignore[arg-type]
    assert near.verdict == "right", near.reasons
