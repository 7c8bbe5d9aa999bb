"""The sealed checkers on one reference of each kind: verdicts like the open rubric's, feedback
that tells what is wrong without the expected value, and boxes that only the answer opens."""

from __future__ import annotations

import cmath
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.authoring.quickcheck import context, latex_answer_text
from grader.authoring.testing import _answer
from grader.checking.result import PartResult
from grader.checking.sealed_math import box_key, match_quanta, open_box, quanta, quantum, seal_box, unlock
from grader.grading.pipeline import check_part
from grader.math.latex import parse_latex
from grader.math.tree import ParseError
from grader.rubric.models import Rubric
from grader.rubric.sealed import SealedMathPart


def check(rubric: Rubric, question_id: str, latex: str) -> PartResult:
    question = rubric.question(question_id)
    part = question.parts[0]
    text = latex_answer_text(part, latex) if part.kind in ("symbolic", "numeric", "sealed-math") else latex
    return check_part(part, _answer(question_id, text), context(rubric, question, part))


def both(kinds: Rubric, sealed: Rubric, question_id: str, latex: str) -> tuple[PartResult, PartResult]:
    return check(kinds, question_id, latex), check(sealed, question_id, latex)


# --- quanta: a value within the tolerance always shares a cell with the reference


@settings(max_examples=300, deadline=None)
@given(
    re=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    im=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    angle=st.floats(min_value=0, max_value=6.3),
    share=st.floats(min_value=0, max_value=0.999),
    rtol=st.sampled_from([1e-3, 1e-6]),
)
def test_values_within_rtol_always_match(re: float, im: float, angle: float, share: float, rtol: float) -> None:
    z = complex(re, im)
    q, zero = match_quanta(rtol, 1e-9)
    other = z + share * rtol * abs(z) * cmath.exp(1j * angle)
    assert quantum(z, q, zero) in quanta(other, q, zero)


@settings(max_examples=300, deadline=None)
@given(
    re=st.floats(min_value=1e-3, max_value=1e6),
    sign=st.sampled_from([1.0, -1.0]),
    factor=st.floats(min_value=4.01, max_value=1000),
    rtol=st.sampled_from([1e-3, 1e-6]),
)
def test_values_beyond_four_rtol_never_match(re: float, sign: float, factor: float, rtol: float) -> None:
    z = complex(sign * re)
    q, zero = match_quanta(rtol, 1e-9)
    assert quantum(z, q, zero) not in quanta(z * (1 + factor * rtol), q, zero)


def test_zero_matches_within_atol() -> None:
    q, zero = match_quanta(1e-6, 1e-9)
    assert quantum(0j, q, zero) in quanta(complex(5e-10), q, zero)
    assert quantum(0j, q, zero) not in quanta(complex(1e-6), q, zero)


def test_boxes_open_only_with_their_key() -> None:
    box = seal_box(box_key("salt", "cell"), "Right: (1 - p)/p.", nonce=b"n" * 12)
    assert open_box(box_key("salt", "cell"), box) == "Right: (1 - p)/p."
    assert open_box(box_key("salt", "other"), box) is None
    assert open_box(box_key("pepper", "cell"), box) is None
    assert "(1 - p)/p" not in box


# --- verdicts, feedback, mistakes


def test_expression_right_wrong_and_mistake(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex in (r"\frac{1}{p} - 1", r"(1-p)p^{-1}", r"\frac{p}{1-p}", r"1-p", r"\frac{1-p}{p} + 0 \cdot q", r"\frac{1-p}{p} + q"):
        open_, sealed = both(kinds_rubric, sealed_kinds, "1", latex)
        assert (sealed.verdict, sealed.mistake, sealed.score) == (open_.verdict, open_.mistake, open_.score), latex
    right = check(sealed_kinds, "1", r"\frac{1}{p} - 1")
    assert right.feedback == ["Right: lambda = (1 - p)/p."]  # unlocked by the answer itself
    inverted = check(sealed_kinds, "1", r"\frac{p}{1-p}")
    assert (inverted.mistake, inverted.score, inverted.feedback) == ("inverted", 1, ["Inverted: it is (1 - p)/p."])


def test_wrong_expression_shows_the_students_value_not_the_expected(sealed_kinds: Rubric) -> None:
    wrong = check(sealed_kinds, "1", "1-p")
    assert wrong.verdict == "wrong"
    (message,) = wrong.feedback
    assert message.startswith("at p = ") and "yours gives" in message and message.endswith("which is not the expected value")
    counterexample = wrong.evidence["comparisons"][0]["counterexample"]
    assert set(counterexample) == {"point", "student"}
    p = counterexample["point"]["p"]
    assert counterexample["student"] == pytest.approx(1 - p, rel=1e-5)


def test_a_wrong_answer_opens_no_box(sealed_kinds: Rubric) -> None:
    part = sealed_kinds.question("1").parts[0]
    assert isinstance(part, SealedMathPart)
    table = sealed_kinds.symbol_table

    def opened(latex: str) -> dict[str, str]:
        parsed = parse_latex(latex, table)
        assert not isinstance(parsed, ParseError)
        return unlock(part, parsed.tree, table, seed=1)

    assert set(opened(r"\frac{1-p}{p}")) == {"correct"}
    assert set(opened(r"\frac{p}{1-p}")) == {"m0"}
    assert opened("1-p") == {}


def test_constant_within_tolerance(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex, verdict in (("0.3333", "right"), ("0.333", "right"), (r"\frac{2}{6}", "right"), ("0.33", "wrong"), ("0.3", "wrong")):
        open_, sealed = both(kinds_rubric, sealed_kinds, "2", latex)
        assert (open_.verdict, sealed.verdict) == (verdict, verdict), latex
    assert check(sealed_kinds, "2", "0.3").feedback == ["yours gives 0.3, which is not the expected value"]


def test_concrete_matrix_names_wrong_entries_only(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    zero = r"\begin{pmatrix} 0 & 0 \\ 0 & 0 \end{pmatrix}"
    open_, sealed = both(kinds_rubric, sealed_kinds, "3", zero)
    assert open_.verdict == sealed.verdict == "wrong"
    assert sealed.feedback == ["2 entries differ: row 1, column 2 (yours: 0); row 2, column 1 (yours: 0)"]
    assert sealed.evidence["comparisons"][0]["wrong_entries"] == [[1, 2], [2, 1]]
    assert "1/2" in open_.feedback[0]  # the open rubric may say what is expected; the sealed one does not
    right = r"\begin{bmatrix} 0 & -0.5 \\ 0.5 & 0 \end{bmatrix}"
    assert both(kinds_rubric, sealed_kinds, "3", right)[1].verdict == "right"
    small = r"\begin{pmatrix} 0 & 1 \end{pmatrix}"
    assert check(sealed_kinds, "3", small).feedback == ["yours is a 1×2 matrix, but the answer is 2×2"]


def test_list_of_values_says_how_many_are_missing(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex, verdict in ((r"\pm\frac{i}{2}, -0.5", "right"), (r"-\frac12, \frac{i}{2}", "wrong"), ("0", "wrong")):
        open_, sealed = both(kinds_rubric, sealed_kinds, "4", latex)
        assert (open_.verdict, sealed.verdict) == (verdict, verdict), latex
    assert check(sealed_kinds, "4", r"-\frac12, \frac{i}{2}").feedback == ["1 of the 3 expected values is missing"]
    assert check(sealed_kinds, "4", "0").feedback == ["3 of the 3 expected values are missing; not expected 0"]


def test_tuple_component_by_component(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex in ("(0, 0, 1)", "(1, 0, 0)", "(0, 1)"):
        open_, sealed = both(kinds_rubric, sealed_kinds, "5", latex)
        assert open_.verdict == sealed.verdict, latex
    assert check(sealed_kinds, "5", "(0, 1)").feedback == ["yours has 2 components, but the answer has 3"]
    assert check(sealed_kinds, "5", "(1, 0, 1)").feedback == ["component 1: yours gives 1, which is not the expected value"]


def test_equation_reference_is_matched_exactly_or_left_to_a_person(sealed_kinds: Rubric) -> None:
    assert check(sealed_kinds, "6", "x + y = 1").verdict == "right"
    other = check(sealed_kinds, "6", "y = 1 - x")  # the same line, but only the open rubric can tell
    assert other.verdict == "undecided" and other.status == "needs_review"


def test_unknown_functions_get_stand_ins(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex, verdict, mistake in (
        (r"\frac{p_1(x)}{p_1(x)+p_0(x)}", "right", None),
        (r"\frac{p_0(x)}{p_0(x)+p_1(x)}", "wrong", "swapped"),
        (r"\frac{1}{1 + p_0(x)/p_1(x)}", "right", None),
    ):
        open_, sealed = both(kinds_rubric, sealed_kinds, "7", latex)
        assert (sealed.verdict, sealed.mistake) == (verdict, mistake), latex
        assert (open_.verdict, open_.mistake) == (verdict, mistake), latex


def test_matrix_expression(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex in (
        r"X^\top (X X^\top + \lambda I)^{-1} y",
        r"(X^\top X)^{-1} X^\top y",
        r"(X^\top X + \lambda I)^{-1} X y",
        r"(X^\top X + 2\lambda I)^{-1} X^\top y",
    ):
        open_, sealed = both(kinds_rubric, sealed_kinds, "8", latex)
        assert (sealed.verdict, sealed.mistake) == (open_.verdict, open_.mistake), latex
    shape = check(sealed_kinds, "8", r"(X^\top X + \lambda I)^{-1} X y")
    assert shape.verdict == "wrong" and "not defined for the declared shapes" in shape.feedback[0]
    wrong = check(sealed_kinds, "8", r"(X^\top X + 2\lambda I)^{-1} X^\top y")
    assert wrong.feedback[0].startswith("for random X (n×d), y (n×1) and λ = ")
    assert "which is not the expected value" in wrong.feedback[0]


def test_choice_and_manual(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    right = check(sealed_kinds, "9", "The forward KL.")
    assert (right.verdict, right.feedback) == ("right", ["Right: the forward KL."])
    wrong = check(sealed_kinds, "9", "The reverse KL.")
    assert (wrong.verdict, wrong.mistake, wrong.feedback) == ("wrong", "swapped-kl", ["Your answer reads as: reverse.", "Not reverse: forward."])
    assert check(sealed_kinds, "9", "Either.").verdict == "undecided"
    proof = check(sealed_kinds, "10", "The log-det terms cancel.")
    assert (proof.status, proof.score, proof.kind) == ("needs_review", 0, "sealed-manual")
    assert proof.reasons == ["a person grades this part (proof or free text) when your instructor grades"]


def test_sealed_part_stores_points_and_hashes_never_values(sealed_kinds: Rubric) -> None:
    part = sealed_kinds.question("1").parts[0]
    data = json.loads(part.model_dump_json())
    samples = data["accepted"][0]["fingerprint"]["samples"]
    assert len(samples) == 24
    p = samples[0]["at"]["p"]["number"]
    assert 0 < p < 1 and p == float(f"{p:.2g}")  # a readable random point, in the domain
    assert re.fullmatch(r"[0-9a-f]{32}", samples[0]["value"]["number"])  # the value only as a hash
    assert str(round((1 - p) / p, 3))[:5] not in part.model_dump_json()
    constant = sealed_kinds.question("2").parts[0].model_dump()
    assert re.fullmatch(r"[0-9a-f]{32}", constant["accepted"][0]["fingerprint"]["samples"][0]["value"]["number"])
