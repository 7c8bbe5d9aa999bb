"""Sealed and open rubrics give the same verdicts on every part a machine decides.

Samples: every submission in submissions/ (and the CLI fixture), every test answer and every
mistake of the a3 rubric written as a student would, and every reference mutant (the tree path
of ``grader check --text``). Where the open rubric decides (right or wrong), the sealed one must
give the same verdict and recognise the same mistake; where it cannot decide, neither may the
sealed one call the answer wrong. A part whose kind has no sealed form is left for the
instructor: the sealed verdict is then "undecided", never right or wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selfcheck_data import ROOT, SECRET, TEST_KDF

from grader.authoring.mutants import mutants
from grader.authoring.quickcheck import check_formula, context
from grader.authoring.seal import seal_rubric
from grader.authoring.testing import _answer, answer_text
from grader.checking.lint import load_rubric
from grader.checking.result import PartResult
from grader.grading.pipeline import check_part, grade_file
from grader.math.latex import parse_latex
from grader.math.tree import Node, ParseError
from grader.rubric.models import Rubric
from grader.rubric.parts import SymbolicPart

SAMPLES = sorted((ROOT / "submissions").glob("*.md"))
MINI = ROOT / "tests" / "cli" / "fixtures" / "mini"
A3 = load_rubric(ROOT / "rubrics" / "a3")
A3_SEALED = seal_rubric(A3, secret=SECRET, kdf=TEST_KDF)[0]
SEALABLE = ("symbolic", "numeric", "choice", "dynamics")


def _agree(label: str, open_: PartResult, sealed: PartResult) -> list[str]:
    if sealed.kind == "sealed-manual":  # proofs, and kinds with no sealed form: the instructor's
        if open_.status != "missing" and sealed.verdict != "undecided":
            return [f"{label}: left for the instructor, but sealed says {sealed.verdict}"]
        return []
    if open_.verdict in ("right", "wrong"):
        if (open_.verdict, open_.mistake, open_.status, open_.score) != (sealed.verdict, sealed.mistake, sealed.status, sealed.score):
            return [
                f"{label}: open {open_.verdict}/{open_.mistake}/{open_.score} but sealed "
                f"{sealed.verdict}/{sealed.mistake}/{sealed.score} ({'; '.join(sealed.feedback + sealed.reasons)})"
            ]
    elif sealed.verdict == "wrong":
        return [f"{label}: open undecided but sealed wrong ({'; '.join(sealed.feedback)})"]
    return []


def _compare_files(paths: list[Path], open_rubric: Rubric, sealed_rubric: Rubric) -> tuple[list[str], int]:
    problems: list[str] = []
    decided = 0
    for path in paths:
        open_report, sealed_report = grade_file(path, open_rubric), grade_file(path, sealed_rubric)
        for q_open, q_sealed in zip(open_report.questions, sealed_report.questions, strict=True):
            for p_open, p_sealed in zip(q_open.parts, q_sealed.parts, strict=True):
                decided += p_open.kind in SEALABLE and p_open.verdict != "undecided"
                problems += _agree(f"{path.name} {q_open.id}/{p_open.id}", p_open, p_sealed)
    return problems, decided


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_gets_the_same_verdicts(sample: Path) -> None:
    problems, decided = _compare_files([sample], A3, A3_SEALED)
    assert problems == []
    assert decided >= (0 if sample.name.startswith("hostile") else 10)


def test_the_cli_fixture_gets_the_same_verdicts() -> None:
    mini = load_rubric(MINI)
    problems, decided = _compare_files([MINI / "answers.md"], mini, seal_rubric(mini, secret=SECRET, kdf=TEST_KDF)[0])
    assert problems == [] and decided == 3  # the missing question is decided too


def _parts() -> list[tuple[str, str]]:
    return [(q.id, p.id) for q in A3.questions for p in q.parts]


def test_every_kind_with_a_sealed_form_is_sealed() -> None:
    """Formulas, choices and simulated systems get fingerprints; only the rest is left to a person."""
    kinds = {(q.id, p.id): p.kind for q in A3.questions for p in q.parts}
    sealed = {(q.id, p.id): p.kind for q in A3_SEALED.questions for p in q.parts}
    assert [key for key, kind in kinds.items() if kind in SEALABLE and sealed[key] == "sealed-manual"] == []


def _pair(question_id: str, part_id: str):  # type: ignore[no-untyped-def]
    q_open, q_sealed = A3.question(question_id), A3_SEALED.question(question_id)
    p_open = next(p for p in q_open.parts if p.id == part_id)
    p_sealed = next(p for p in q_sealed.parts if p.id == part_id)
    return q_open, q_sealed, p_open, p_sealed


@pytest.mark.parametrize(("question_id", "part_id"), _parts(), ids=lambda x: str(x))
def test_rubric_answers_and_mistakes_get_the_same_verdicts(question_id: str, part_id: str) -> None:
    q_open, q_sealed, p_open, p_sealed = _pair(question_id, part_id)
    written = [t.answer for t in p_open.tests]
    if p_open.kind in ("symbolic", "numeric"):
        written += [m.answer for m in p_open.mistakes if m.answer]
    problems = []
    for text in written:
        answer = _answer(question_id, answer_text(p_open, text))
        sealed_result = check_part(p_sealed, answer, context(A3_SEALED, q_sealed, p_sealed))
        if p_sealed.kind == "sealed-manual":  # left for the instructor: no need to ask the open rubric
            assert sealed_result.verdict == "undecided", text
            continue
        open_result = check_part(p_open, answer, context(A3, q_open, p_open))
        problems += _agree(f"{question_id}/{part_id} {text[:50]!r}", open_result, sealed_result)
    assert problems == []


def _trees(part: object) -> list[tuple[str, Node]]:
    """The references, their mutants and the mistakes' answers, as parsed trees."""
    texts = [part.reference]
    texts += part.alternatives if isinstance(part, SymbolicPart) else []
    texts += [m.answer for m in part.mistakes if m.answer]
    out: list[tuple[str, Node]] = []
    for text in texts:
        parsed = parse_latex(text, A3.symbol_table)
        assert not isinstance(parsed, ParseError)
        out.append((text, parsed.tree))
    reference = out[0][1]
    out += [(f"mutant {m.operator}: {m.text}", m.tree) for m in mutants(reference, A3.symbol_table)]
    return out


def _math_parts() -> list[tuple[str, str]]:
    return [(q.id, p.id) for q in A3.questions for p in q.parts if p.kind in ("symbolic", "numeric")]


@pytest.mark.parametrize(("question_id", "part_id"), _math_parts(), ids=lambda x: str(x))
def test_references_mutants_and_mistakes_as_trees_get_the_same_verdicts(question_id: str, part_id: str) -> None:
    q_open, q_sealed, p_open, p_sealed = _pair(question_id, part_id)
    problems = []
    decided = 0
    trees = _trees(p_open)
    for label, tree in trees:
        open_result = check_formula(p_open, tree, context(A3, q_open, p_open))
        sealed_result = check_formula(p_sealed, tree, context(A3_SEALED, q_sealed, p_sealed))
        decided += open_result.verdict != "undecided"
        problems += _agree(f"{question_id}/{part_id} {label[:60]}", open_result, sealed_result)
    assert problems == []
    assert decided == len(trees)  # every reference, mistake and mutant is decided: the comparison is not vacuous
