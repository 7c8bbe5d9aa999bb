"""What an answer is made of, and comparisons up to a constant, a factor, the arbitrary constants
or an order: tables of (reference, answer, expected) in both directions."""

from __future__ import annotations

import pytest

from grader.math import forms
from grader.math.api import symbol_table
from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.tree import Node, ParseError

TABLE = symbol_table(
    {
        "x": {"kind": "scalar"},
        "t": {"kind": "scalar"},
        "k": {"kind": "scalar", "domain": "positive"},
        "a": {"kind": "scalar"},
        "s": {"kind": "sample", "length": "n"},
        "n": {"kind": "scalar", "domain": "positive_integer"},
        "A": {"kind": "matrix", "shape": [2, 2]},
        "f": {"kind": "function"},
        "D": {"kind": "arbitrary"},
    }
)


def tree(text: str) -> Node:
    parsed = parse_latex(text, TABLE)
    assert not isinstance(parsed, ParseError), parsed
    return parsed.tree


@pytest.mark.parametrize(
    ("text", "known", "unknown"),
    [
        (r"x^2 + \sin x + e^{i\pi} + \sqrt{2}", (), []),
        (r"\bar{z}", (), ["z̄"]),
        (r"\sigma(x)", (), ["σ"]),
        (r"\operatorname{KL}(x, t)", (), ["KL(…)"]),
        (r"\sum_{k=1}^{3} j^2 + \sum_{j=1}^3 j", (), ["j"]),
        (r"\int_0^1 u^2\,du + \lim_{h \to 0} h", (), []),
        (r"\bar{s} + \sum s_i + s_1", (), []),
        (r"(A + I)^{-1}", (), []),
        (r"y + z", ("y",), ["z"]),
        (r"f(2x) + D", (), []),
    ],
)
def test_unknown_names(text: str, known: tuple[str, ...], unknown: list[str]) -> None:
    assert forms.unknown_names(tree(text), TABLE, known) == unknown


@pytest.mark.parametrize(
    ("text", "free"),
    [
        ("s_i", ["s_i"]),
        (r"\sum_i s_i + s_j", ["s_j"]),
        (r"\sum s_i^2", []),
        (r"\sum_{j=1}^n s_j s_{j}", []),
        (r"s_1 + s_n", []),
    ],
)
def test_free_indices(text: str, free: list[str]) -> None:
    assert forms.free_indices(tree(text), TABLE) == free


@pytest.mark.parametrize(
    ("answer", "references", "left"),
    [
        (r"\det\begin{pmatrix}2&1\\1&2\end{pmatrix}", ["3"], ["the determinant \\det of a matrix written out"]),
        (r"\begin{vmatrix}2&1\\1&2\end{vmatrix}", ["3"], ["the determinant \\det of a matrix written out"]),
        (r"\begin{pmatrix}2&1\\1&2\end{pmatrix}^{-1}", ["0"], ["the inverse ^{-1} of a matrix written out"]),
        (r"\det(A)", [r"\det A"], []),
        (r"(A + I)^{-1}", [r"(A+I)^{-1}"], []),
        (r"\lim_{x \to 0}\frac{\sin x}{x}", ["1"], ["a limit"]),
        (r"\int_0^1 x^2\,dx", [r"\frac13"], ["an integral"]),
        (r"\int_0^x f(t)\,dt", [r"\int_0^x f(t)\,dt"], []),
        (r"\frac{d}{dx} x^3", ["3x^2"], ["a derivative"]),
        (r"\sum_{k=1}^{3} k", ["6"], ["a sum to work out"]),
        (r"\sum_{k=1}^{\infty} \frac{1}{k^2}", [r"\frac{\pi^2}{6}"], ["a sum to work out"]),
        (r"\frac{1}{n}\sum_{i=1}^n s_i", [r"\bar{s}"], []),
        (r"\binom{5}{2}", ["10"], []),
    ],
)
def test_operations_left(answer: str, references: list[str], left: list[str]) -> None:
    assert forms.operations_left(tree(answer), [tree(r) for r in references]) == left


def test_the_questions_own_expression_is_not_the_result() -> None:
    given = [tree(r"\frac{x^2-1}{x-1}")]
    assert forms.operations_left(tree(r"\frac{x^2 - 1}{x - 1}"), [tree("x+1")], given) == [
        "the question's own expression (x^2 - 1)/(x - 1)"
    ]
    assert forms.operations_left(tree("x + 1"), [tree("x+1")], given) == []


# reference, answer, up_to, expected verdict
UP_TO = [
    (r"\frac{x^3}{3}", r"\frac{x^3}{3} + C", "constant", "equivalent"),
    (r"\frac{x^3}{3} + C", r"\frac{x^3}{3}", "constant", "equivalent"),
    (r"\frac{x^3}{3}", r"\frac{x^3}{3} - 7", "constant", "equivalent"),
    (r"\frac{x^3}{3}", r"\frac{x^3}{3} + D", "constant", "equivalent"),
    (r"\frac{x^3}{3}", r"\frac{x^3}{3} + x", "constant", "not_equivalent"),
    (r"\sin^2 x", r"-\frac{\cos 2x}{2}", "constant", "equivalent"),
    (r"\begin{pmatrix}1\\a\end{pmatrix}", r"\begin{pmatrix}-2\\-2a\end{pmatrix}", "factor", "equivalent"),
    (r"\begin{pmatrix}1\\a\end{pmatrix}", r"\begin{pmatrix}a\\a^2\end{pmatrix}", "factor", "equivalent"),
    (r"\begin{pmatrix}1\\a\end{pmatrix}", r"\begin{pmatrix}a\\1\end{pmatrix}", "factor", "not_equivalent"),
    (r"C e^{-kt}", r"K e^{-kt}", "constants", "equivalent"),
    (r"y = C e^{-kt}", r"y = K e^{-kt}", "constants", "equivalent"),
    (r"C_1 \cos t + C_2 \sin t", r"C_1 \sin t + C_2 \cos t", "constants", "equivalent"),
    (r"C_1 \cos t + C_2 \sin t", r"C \cos(t - D)", "constants", "equivalent"),  # amplitude and phase
    (r"C_1 \cos t + C_2 \sin t", r"\frac{1}{C - t}", "constants", "undecided"),  # not linear in C
    (r"C_1 \cos t + C_2 \sin t", r"C_1 \cos t", "constants", "not_equivalent"),
    (r"C e^{-kt}", r"e^{-kt}", "constants", "not_equivalent"),
    (r"x + C e^{-t}", r"x + C_2 e^{-t} + 1", "constants", "not_equivalent"),
]


@pytest.mark.parametrize(("reference", "answer", "up_to", "verdict"), UP_TO, ids=[f"{c[1]} ~ {c[0]}" for c in UP_TO])
def test_up_to(reference: str, answer: str, up_to: str, verdict: str) -> None:
    outcome = check_equivalence(tree(answer), tree(reference), TABLE, up_to=up_to, constants=["D"])  # type: ignore[arg-type]
    assert outcome.verdict == verdict, outcome.detail
    assert outcome.method == "up_to"


# reference, answer, expected: expansions with O(·), in both directions
ORDER = [
    (r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", "equivalent"),
    (r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", r"1 + \frac{x}{2} - \frac{x^2}{8}", "equivalent"),
    (r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", r"1 + \frac{x}{2} - \frac{x^2}{8} + \frac{x^3}{16}", "equivalent"),
    (r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 + \frac{x}{2} + O(x^2)", "not_equivalent"),
    (r"1 + \frac{x}{2} - \frac{x^2}{8} + O(x^3)", r"1 + \frac{x}{2} + O(x^2)", "not_equivalent"),
    (r"1 + \frac{x}{2} - \frac{x^2}{8}", r"1 - \frac{x}{2} - \frac{x^2}{8} + O(x^3)", "not_equivalent"),
    (r"\sqrt{1+x}", r"1 + \frac{x}{2} + O(x^2)", "equivalent"),
    (r"\sqrt{1+x}", r"1 + \frac{x}{3} + O(x^2)", "not_equivalent"),
    (r"1 + a(x-1) + O((x-1)^2)", r"1 + a(x - 1)", "equivalent"),
    (r"e^{kx}", r"1 + kx + \frac{k^2x^2}{2} + O(x^3)", "equivalent"),
]


@pytest.mark.parametrize(("reference", "answer", "verdict"), ORDER, ids=[c[1] for c in ORDER])
def test_expansions_agree_to_their_order(reference: str, answer: str, verdict: str) -> None:
    outcome = check_equivalence(tree(answer), tree(reference), TABLE)
    assert (outcome.verdict, outcome.method) == (verdict, "order"), outcome.detail


def test_an_order_term_it_cannot_read_is_undecided() -> None:
    outcome = check_equivalence(tree(r"1 + x + O(\sin x)"), tree("1 + x"), TABLE)
    assert outcome.verdict == "undecided" and "O((x - a)^k)" in outcome.detail
