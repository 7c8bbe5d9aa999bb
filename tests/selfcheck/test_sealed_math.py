"""The sealed checkers on one reference of each kind: verdicts like the open rubric's, feedback
that tells what is wrong without the expected value, and boxes that only the answer opens."""

from __future__ import annotations

import cmath
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from grader._internal.secretbox import derive_key, open_box, seal_box
from grader.authoring.quickcheck import context, latex_answer_text
from grader.authoring.seal import WITHHELD
from grader.authoring.testing import _answer
from grader.checking.result import PartResult
from grader.checking.sealed_math import Env, Grid, evaluation_table, gate_outcome, open_payload
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


# --- cells: a value the open comparison accepts always shares the reference's cell


def _admitted_shift(grid: Grid, z: complex) -> tuple[float, float]:
    for k in range(400):
        shift = ((k * 0.6180339887) % 1, (k * 0.7548776662) % 1)
        if grid.admits(z, shift):
            return shift
    raise AssertionError("no shift admits the value")


@settings(max_examples=300, deadline=None)
@given(
    re=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    im=st.sampled_from([0.0, 0.5, -3.0, 1e-12]),
    angle=st.floats(min_value=0, max_value=6.3),
    share=st.floats(min_value=0, max_value=1.0),
    tolerances=st.sampled_from([(1e-3, 1e-6), (1e-6, 1e-9), (0.0, 1e-4), (1e-3, 0.0), (0.0, 0.0)]),
)
def test_values_within_tolerance_always_share_the_cell(re: float, im: float, angle: float, share: float, tolerances: tuple[float, float]) -> None:
    rtol, atol = tolerances
    z = complex(re, im)
    # Below 1e-300 with a relative tolerance only, a float has too few digits for any cell
    # (5e-324 is found by hypothesis): no shift admits it, and sealing picks another point or
    # leaves the part to the instructor (test_a_subnormal_value_is_never_admitted).
    assume(atol > 0 or z == 0 or abs(z) >= 1e-300)
    grid = Grid.of(rtol, atol, 16.0)
    shift = _admitted_shift(grid, z)
    exact_rtol, exact_atol = (grid.rtol, grid.atol)
    other = z + share * (exact_atol + exact_rtol * abs(z)) * cmath.exp(1j * angle)
    assert grid.cell(other, shift) == grid.cell(z, shift)


def test_a_subnormal_value_is_never_admitted() -> None:
    grid = Grid.of(1e-3, 0.0, 16.0)
    assert not any(grid.admits(complex(5e-324), ((k * 0.618) % 1, (k * 0.755) % 1)) for k in range(400))


@settings(max_examples=300, deadline=None)
@given(
    re=st.floats(min_value=1e-3, max_value=1e6),
    sign=st.sampled_from([1.0, -1.0]),
    factor=st.floats(min_value=80, max_value=1e4),
)
def test_values_far_beyond_the_tolerance_never_share_the_cell(re: float, sign: float, factor: float) -> None:
    grid = Grid.of(1e-6, 1e-9, 16.0)
    z = complex(sign * re)
    shift = _admitted_shift(grid, z)
    assert grid.cell(z * (1 + factor * 1e-6), shift) != grid.cell(z, shift)


def test_boxes_open_only_with_their_key() -> None:
    key = derive_key("cells", "salt", SealedMathPart.model_fields["kdf"].get_default(call_default_factory=True))
    box = seal_box(key, "Right: (1 - p)/p.", nonce=b"n" * 12)
    assert open_box(key, box) == "Right: (1 - p)/p."
    assert open_box(derive_key("other cells", "salt", SealedMathPart.model_fields["kdf"].get_default(call_default_factory=True)), box) is None
    assert "(1 - p)/p" not in box


# --- verdicts, feedback, mistakes


def test_expression_right_wrong_and_mistake(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex in (r"\frac{1}{p} - 1", r"(1-p)p^{-1}", r"\frac{p}{1-p}", r"1-p", r"\frac{1-p}{p} + 0 \cdot q", r"\frac{1-p}{p} + q"):
        open_, sealed = both(kinds_rubric, sealed_kinds, "1", latex)
        assert (sealed.verdict, sealed.mistake, sealed.score) == (open_.verdict, open_.mistake, open_.score), latex
    right = check(sealed_kinds, "1", r"\frac{1}{p} - 1")
    assert right.feedback == ["Right: lambda = (1 - p)/p."]  # unlocked by the answer itself
    inverted = check(sealed_kinds, "1", r"\frac{p}{1-p}")
    # the mistake's own feedback states the answer, so the sealed copy withholds it
    assert (inverted.mistake, inverted.score, inverted.feedback) == ("inverted", 1, [WITHHELD])


def test_wrong_expression_shows_the_students_value_not_the_expected(sealed_kinds: Rubric) -> None:
    wrong = check(sealed_kinds, "1", "1-p")
    assert wrong.verdict == "wrong"
    (message,) = wrong.feedback
    assert message.startswith("yours does not agree with the answer at the 12 points checked (at p = ")
    p = float(message.split("at p = ")[1].split(" ")[0])
    assert f"yours gives {1 - p:.4g}" in message.replace("yours gives 0.", "yours gives 0.")
    assert "counterexample" not in json.dumps(wrong.evidence) or wrong.evidence["comparisons"][0]["counterexample"] is None


def test_a_wrong_answer_opens_no_box(sealed_kinds: Rubric) -> None:
    part = sealed_kinds.question("1").parts[0]
    assert isinstance(part, SealedMathPart)
    table = sealed_kinds.symbol_table
    env = Env(part, evaluation_table(table, part.functions), seed=1)

    def opened(latex: str) -> set[str]:
        parsed = parse_latex(latex, table)
        assert not isinstance(parsed, ParseError)
        found = set()
        for name, form in [("correct", f) for f in part.accepted] + [(m.ref, m) for m in part.recognised]:
            if open_payload(part, gate_outcome(parsed.tree, part.gates[form.gate], form.gate, env).key, form.box) is not None:
                found.add(name)
        return found

    assert opened(r"\frac{1-p}{p}") == {"correct"}
    assert opened(r"\frac{1}{p} - 1") == {"correct"}
    assert opened(r"\frac{p}{1-p}") == {"m0"}
    assert opened("1-p") == set()
    assert opened(r"\frac{1-p}{p} \cdot 1.0001") == set()  # 1e-4 off: beyond the cell, no box opens


def test_constant_within_tolerance(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex, verdict in (("0.3333", "right"), ("0.333", "right"), (r"\frac{2}{6}", "right"), ("0.33", "wrong"), ("0.3", "wrong")):
        open_, sealed = both(kinds_rubric, sealed_kinds, "2", latex)
        assert (open_.verdict, sealed.verdict) == (verdict, verdict), latex
    assert check(sealed_kinds, "2", "0.3").feedback == ["yours does not agree with the answer (yours gives 0.3)"]


def test_concrete_matrix_is_checked_whole(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    """Entries are never checked one at a time (that would let each be searched alone), so a
    wrong matrix is wrong as a whole; the open rubric may name entries and expected values."""
    zero = r"\begin{pmatrix} 0 & 0 \\ 0 & 0 \end{pmatrix}"
    open_, sealed = both(kinds_rubric, sealed_kinds, "3", zero)
    assert open_.verdict == sealed.verdict == "wrong"
    assert sealed.feedback == ["yours does not agree with the answer"]
    assert "1/2" in open_.feedback[0]
    right = r"\begin{bmatrix} 0 & -0.5 \\ 0.5 & 0 \end{bmatrix}"
    assert both(kinds_rubric, sealed_kinds, "3", right)[1].verdict == "right"
    small = r"\begin{pmatrix} 0 & 1 \end{pmatrix}"
    assert check(sealed_kinds, "3", small).feedback == ["yours is a 1×2 matrix, but the answer is 2×2"]


def test_list_of_values_is_checked_whole(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex, verdict in ((r"\pm\frac{i}{2}, -0.5", "right"), (r"-\frac12, \frac{i}{2}", "wrong"), ("0", "wrong")):
        open_, sealed = both(kinds_rubric, sealed_kinds, "4", latex)
        assert (open_.verdict, sealed.verdict) == (verdict, verdict), latex
    assert check(sealed_kinds, "4", r"-\frac12, \frac{i}{2}").feedback == ["yours does not agree with the answer"]


def test_tuple_component_by_component(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    for latex in ("(0, 0, 1)", "(1, 0, 0)", "(0, 1)"):
        open_, sealed = both(kinds_rubric, sealed_kinds, "5", latex)
        assert open_.verdict == sealed.verdict, latex
    assert check(sealed_kinds, "5", "(0, 1)").feedback == ["yours has 2 components, but the answer has 3"]
    assert check(sealed_kinds, "5", "(1, 0, 1)").feedback == ["yours does not agree with the answer"]


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
    assert wrong.feedback == ["yours does not agree with the answer at the 6 points checked"]


def test_choice_and_manual(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    right = check(sealed_kinds, "9", "The forward KL.")
    assert (right.verdict, right.feedback) == ("right", ["Right: the forward KL."])
    wrong = check(sealed_kinds, "9", "The reverse KL.")
    assert (wrong.verdict, wrong.mistake, wrong.feedback) == ("wrong", "swapped-kl", ["Your answer reads as: reverse.", "Not reverse: forward."])
    assert check(sealed_kinds, "9", "Either.").verdict == "undecided"
    proof = check(sealed_kinds, "10", "The log-det terms cancel.")
    assert (proof.status, proof.score, proof.kind) == ("needs_review", 0, "sealed-manual")
    assert proof.reasons == ["a person grades this part (proof or free text) when your instructor grades"]


def test_sealed_part_stores_points_and_boxes_never_values(sealed_kinds: Rubric) -> None:
    part = sealed_kinds.question("1").parts[0]
    assert isinstance(part, SealedMathPart)
    data = json.loads(part.model_dump_json())
    (gate,) = data["gates"]
    assert len(gate["points"]) == 12 and len(gate["shifts"]) == 12
    p = gate["points"][0]["p"]["number"]
    assert 0 < p < 1 and p == float(f"{p:.2g}")  # a readable random point, in the domain
    assert str(round((1 - p) / p, 3))[:5] not in part.model_dump_json()
    assert set(data["accepted"][0]) == {"gate", "box"} and set(data["recognised"][0]) == {"ref", "points", "gate", "box"}
    constant = sealed_kinds.question("2").parts[0].model_dump()
    assert constant["gates"][0]["points"] == [{}] and "0.333" not in json.dumps(constant)
