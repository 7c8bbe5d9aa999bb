"""Every bundled rubric, sealed: the same verdict as the open rubric on every decidable test answer,
tolerances with one meaning (``rtol = 0``, ``atol`` only, both zero), no answer in the file's
texts, and the old format refused with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selfcheck_data import ROOT, SECRET, TEST_KDF

from grader.authoring.quickcheck import context
from grader.authoring.seal import WITHHELD, normal_text, seal_rubric, sealed_json
from grader.authoring.testing import _answer, answer_text
from grader.checking.lint import load_rubric
from grader.checking.result import PartResult
from grader.grading.pipeline import check_part
from grader.math.evaluate import describe
from grader.math.latex import parse_latex
from grader.math.tree import ParseError
from grader.rubric.load import read_rubric
from grader.rubric.models import Rubric
from grader.rubric.parts import NumericPart, SymbolicPart

BUNDLED = sorted({path.parent for path in [*(ROOT / "rubrics").glob("*/rubric.toml"), *(ROOT / "tests").rglob("rubric.toml")]})


def _decided_disagreements(rubric: Rubric, sealed: Rubric) -> tuple[list[str], int]:
    problems, decided = [], 0
    for question, q_sealed in zip(rubric.questions, sealed.questions, strict=True):
        for part, p_sealed in zip(question.parts, q_sealed.parts, strict=True):
            if p_sealed.kind == "sealed-manual":
                continue
            for test in part.tests:
                answer = _answer(question.id, answer_text(part, test.answer))
                open_ = check_part(part, answer, context(rubric, question, part))
                shut = check_part(p_sealed, answer, context(sealed, q_sealed, p_sealed))
                if open_.verdict in ("right", "wrong"):
                    decided += 1
                    if (open_.verdict, open_.mistake, open_.score) != (shut.verdict, shut.mistake, shut.score):
                        problems.append(f"{question.id}/{part.id} {test.answer[:40]!r}: open {open_.verdict}/{open_.mistake} sealed {shut.verdict}/{shut.mistake}")
                elif shut.verdict == "wrong":
                    problems.append(f"{question.id}/{part.id} {test.answer[:40]!r}: open undecided, sealed wrong")
    return problems, decided


@pytest.mark.slow
@pytest.mark.parametrize("folder", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_sealed_and_open_agree_on_every_decidable_test_answer(folder: Path) -> None:
    rubric = load_rubric(folder)
    problems, decided = _decided_disagreements(rubric, seal_rubric(rubric, secret=SECRET, kdf=TEST_KDF)[0])
    assert problems == []
    assert decided >= 3


def test_the_kinds_rubric_agrees_too(kinds_rubric: Rubric, sealed_kinds: Rubric) -> None:
    problems, decided = _decided_disagreements(kinds_rubric, sealed_kinds)
    assert problems == [] and decided == 0  # it has no tests of its own: test_sealed_math compares it


def _tolerance_rubric(rtol: float, atol: float) -> Rubric:
    data = {
        "assignment": {"id": "tol", "title": "Tolerances"},
        "symbols": {"p": {"kind": "scalar", "domain": "(0, 1)"}},
        "questions": [
            {"id": "1", "points": 1, "parts": [{"id": "c", "kind": "numeric", "points": 1, "target": "x", "reference": r"\frac{1}{3}", "rtol": rtol, "atol": atol}]},
            {"id": "2", "points": 1, "parts": [{"id": "f", "kind": "symbolic", "points": 1, "target": "y", "reference": r"\frac{1-p}{p}", "rtol": max(rtol, 1e-9), "atol": atol}]},
        ],
    }
    return Rubric.model_validate(data)


def _verdicts(rubric: Rubric, question_id: str, answers: list[str]) -> list[str]:
    question = rubric.question(question_id)
    part = question.parts[0]
    out: list[str] = []
    for latex in answers:
        answer = _answer(question_id, f"$$ {part.target} = {latex} $$")
        result: PartResult = check_part(part, answer, context(rubric, question, part))
        out.append(result.verdict)
    return out


@pytest.mark.parametrize(
    ("rtol", "atol", "answers", "expected"),
    [
        (0.0, 1e-3, ["0.3334", "0.3343", "0.3345", "0.332"], ["right", "right", "wrong", "wrong"]),
        (1e-2, 0.0, ["0.336", "0.3366", "0.337", "0.33"], ["right", "right", "wrong", "right"]),
        (0.0, 0.0, [r"\frac{2}{6}", "0.333333333333333", "0.3333"], ["right", "wrong", "wrong"]),
        (1e-3, 1e-6, ["0.333", "0.3333", "0.3329"], ["right", "right", "wrong"]),
    ],
)
def test_tolerances_have_one_meaning_open_and_sealed(rtol: float, atol: float, answers: list[str], expected: list[str]) -> None:
    rubric = _tolerance_rubric(rtol, atol)
    sealed = seal_rubric(rubric, secret=SECRET, kdf=TEST_KDF)[0]
    assert _verdicts(rubric, "1", answers) == expected
    assert _verdicts(sealed, "1", answers) == expected
    formulas = [r"\frac{1}{p} - 1", r"\frac{1-p}{p} + 10^{-2}", "1-p"]
    assert _verdicts(sealed, "2", formulas) == _verdicts(rubric, "2", formulas)


def test_float_cancellation_is_checked_exactly_open_and_sealed(a3_rubric: Rubric, sealed_a3: Rubric) -> None:
    """Issue 15.9: terms near 1e180 cancel exactly; double precision sees noise far above the answer."""
    # declared names only: an undeclared one would make the part undecided (issue 12)
    bomb = r"\frac{1-p}{p} + ((p+\theta)(\psi_0+\psi_1))^{300} - (p\psi_0+p\psi_1+\theta\psi_0+\theta\psi_1)^{300}"
    off = r"\frac{1-p}{p} + 10^{-3} + ((p+\theta)(\psi_0+\psi_1))^{300} - (p\psi_0+p\psi_1+\theta\psi_0+\theta\psi_1)^{300}"
    assert _verdicts(a3_rubric, "1.2", [bomb, off]) == ["right", "wrong"]
    assert _verdicts(sealed_a3, "1.2", [bomb, off]) == ["right", "wrong"]


def test_sealed_file_states_no_reference_anywhere(a3_rubric: Rubric, sealed_a3: Rubric) -> None:
    """Every text of the sealed file (feedback, labels, prompts) is searched for every reference,
    its items and entries, in any spelling; feedback that stated one is withheld."""
    text = normal_text(sealed_json(sealed_a3))
    for question in a3_rubric.questions:
        for part in question.parts:
            formulas = [part.reference, *part.alternatives] if isinstance(part, SymbolicPart) else [part.reference] if isinstance(part, NumericPart) else []
            for formula in formulas:
                parsed = parse_latex(formula, a3_rubric.symbol_table)
                assert not isinstance(parsed, ParseError)
                for spelling in (normal_text(formula), normal_text(describe(parsed.tree, 400))):
                    assert spelling not in text, (question.id, part.id, spelling)
    for needle in ("(1-p)/p", "±i/2", "-1/2"):
        assert normal_text(needle) not in text


def test_cross_part_feedback_is_withheld(sealed_a3: Rubric) -> None:
    """1.2's choice would state λ = (1 − p)/p, 5.3's stability claim ±i/2: both withheld."""
    choice = sealed_a3.question("1.2").parts[1]
    stability = sealed_a3.question("5.3").parts[1]
    from grader.checking.sealed_choice import SealedChoiceChecker

    wrong = SealedChoiceChecker().check(choice, _answer("1.2", "It increases as p increases."), context(sealed_a3, sealed_a3.question("1.2"), choice))
    assert wrong.verdict == "wrong" and WITHHELD in wrong.feedback
    claims = SealedChoiceChecker().check(stability, _answer("5.3", "The system is stable."), context(sealed_a3, sealed_a3.question("5.3"), stability))
    assert claims.verdict == "wrong" and WITHHELD in claims.feedback


def test_default_kdf_costs_are_in_the_file(a3_rubric: Rubric, tmp_path: Path) -> None:
    small = Rubric.model_validate({**a3_rubric.model_dump(mode="json", exclude={"questions"}), "assignment": {"id": "a3", "title": "a3"}, "questions": [a3_rubric.questions[1].model_dump(mode="json")]})
    sealed = seal_rubric(small, secret=SECRET)[0]
    data = json.loads(sealed_json(sealed))
    kdfs = [part["kdf"] for q in data["rubric"]["questions"] for part in q["parts"] if "kdf" in part]
    assert kdfs and all(k == {"n": 2**14, "r": 16, "p": 1} for k in kdfs)


def test_the_old_sealed_format_is_refused_with_a_message(tmp_path: Path) -> None:
    old = tmp_path / "a3.sealed.json"
    old.write_text('{"format": "grader-sealed-rubric/1", "rubric": {}}', encoding="utf-8")
    rubric, problems = read_rubric(old)
    assert rubric is None and [p.code for p in problems] == ["rubric.sealed_format"]
    assert "old format" in problems[0].message and "seal" in (problems[0].fix or "")
