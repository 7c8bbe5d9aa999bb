"""The flagship assignment end to end: every sample gets all 19 ids, and the seed gets the key's verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.pipeline import grade_file
from grader.reports.json_report import report_json
from grader.scoring.models import Report

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "submissions").glob("*.md"))
IDS = "1.1 1.2 1.3 1.4 2.1 2.2 2.3a 2.3b 2.3c 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 5.5 5.6".split()


@pytest.fixture(scope="module")
def seed_report(a3_rubric) -> Report:  # type: ignore[no-untyped-def]
    return grade_file(ROOT / "submissions" / "seed_student.md", a3_rubric)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_sample_has_all_questions(a3_rubric, sample: Path) -> None:  # type: ignore[no-untyped-def]
    report = grade_file(sample, a3_rubric)
    assert [q.id for q in report.questions] == IDS
    assert report.max_score == 66
    assert 0 <= report.score <= 66


# The answer key's table for the seed, where a machine can decide.
@pytest.mark.parametrize(
    ("question", "status"),
    [
        ("1.2", "correct"),
        ("1.3", "correct"),
        ("2.2", "incorrect"),
        ("2.3b", "correct"),
        ("2.3c", "incorrect"),
        ("3.2", "correct"),
        ("5.1", "partial"),
        ("5.2", "incorrect"),
        ("5.3", "incorrect"),
        ("5.5", "missing"),
        ("5.6", "missing"),
        # Proofs and essays go to a person.
        ("1.1", "needs_review"),
        ("2.1", "needs_review"),
        ("3.1", "needs_review"),
        ("4.2", "needs_review"),
    ],
)
def test_seed_gets_the_answer_keys_verdicts(seed_report: Report, question: str, status: str) -> None:
    result = next(q for q in seed_report.questions if q.id == question)
    assert result.status == status, result


def test_seed_1_4_is_not_full_credit(seed_report: Report) -> None:
    result = next(q for q in seed_report.questions if q.id == "1.4")
    assert result.score < result.max_score
    assert result.parts[0].mistake is None  # a manual part reports mistakes as evidence, not as a verdict
    assert "off-topic-depth" in result.parts[0].evidence["mistakes"]


def test_seed_5_1_stationary_point_right_field_wrong(seed_report: Report) -> None:
    parts = {p.id: p for p in next(q for q in seed_report.questions if q.id == "5.1").parts}
    assert parts["stationary"].status == "correct"
    assert parts["field"].status == "incorrect"


def test_extraction_is_reported_with_its_line(seed_report: Report) -> None:
    part = next(q for q in seed_report.questions if q.id == "1.2").parts[0]
    assert part.extracted is not None
    assert part.extracted.how == "target_equation"
    assert part.extracted.line == 95
    assert part.extracted.latex == r"\frac{(1-p)}{p}"


def test_reports_are_byte_identical_across_runs(a3_rubric) -> None:  # type: ignore[no-untyped-def]
    path = ROOT / "submissions" / "seed_student.md"
    assert report_json(grade_file(path, a3_rubric)) == report_json(grade_file(path, a3_rubric))
