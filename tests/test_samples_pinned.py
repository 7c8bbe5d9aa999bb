"""The bundled samples' verdicts, part by part: the correct sample gets full marks wherever a
machine decides, the mistakes sample gets each mistake's feedback and points."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checking.result import PartResult
from grader.grading.pipeline import grade_file
from grader.scoring.models import Report

ROOT = Path(__file__).resolve().parents[1]
MANUAL = {("1.1", "proof"), ("1.4", "comparison"), ("2.1", "proof"), ("2.3a", "bias"), ("3.1", "proof"), ("4.1", "jsd"), ("4.2", "proof")}


@pytest.fixture(scope="module")
def reports(a3_rubric) -> dict[str, Report]:  # type: ignore[no-untyped-def]
    return {name: grade_file(ROOT / "submissions" / f"{name}.md", a3_rubric) for name in ("sample_headings", "sample_mistakes")}


def _parts(report: Report) -> dict[tuple[str, str], PartResult]:
    return {(q.id, p.id): p for q in report.questions for p in q.parts}


def test_correct_sample_full_marks_on_decidable_parts(reports: dict[str, Report]) -> None:
    parts = _parts(reports["sample_headings"])
    for key, part in parts.items():
        if key in MANUAL:
            assert part.status == "needs_review", key
            assert part.proposed_score is not None and part.proposed_score >= 0.5 * part.max_score, (key, part.reasons)
        else:
            assert (part.status, part.score) == ("correct", part.max_score), (key, part.feedback, part.reasons)


@pytest.mark.parametrize(
    ("question", "part", "status", "mistake", "score"),
    [
        ("1.2", "lambda", "partial", "lambda-inverted", 1),
        ("1.2", "effect-of-p", "incorrect", "lambda-grows-with-p", 0),
        ("1.3", "closed-form", "partial", "xxt-for-xtx", 1),
        ("2.2", "bigger", "incorrect", "inequality-reversed", 0),
        ("2.3c", "memory", "incorrect", "memory-reversed", 0),
        ("3.2", "scenario-1", "incorrect", "scenarios-swapped", 0),
        ("3.2", "scenario-2", "incorrect", "scenarios-swapped", 0),
        ("4.2", "proof", "missing", None, 0),
        ("5.1", "field", "incorrect", None, 0),
        ("5.1", "stationary", "correct", None, 0.5),
        ("5.2", "jacobian", "incorrect", "jacobian-sign-flipped", 0),
        ("5.3", "stability", "incorrect", "claims-stable", 0),
        ("5.6", "eigenvalues", "incorrect", "positive-real-parts", 0),
        ("5.6", "stability", "incorrect", "positive-real-parts", 0),
    ],
)
def test_mistakes_sample(reports: dict[str, Report], question: str, part: str, status: str, mistake: str | None, score: float) -> None:
    result = _parts(reports["sample_mistakes"])[(question, part)]
    assert (result.status, result.mistake, result.score) == (status, mistake, score), result.feedback


def test_mistake_feedback_is_shown(reports: dict[str, Report], a3_rubric) -> None:  # type: ignore[no-untyped-def]
    for question in a3_rubric.questions:
        for rubric_part in question.parts:
            result = _parts(reports["sample_mistakes"]).get((question.id, rubric_part.id))
            if result is None or result.mistake is None:
                continue
            mistake = next(m for m in rubric_part.mistakes if m.id == result.mistake)
            assert mistake.feedback in result.feedback
