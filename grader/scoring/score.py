"""From part results to question results: points add up, the status says what a person must do."""

from __future__ import annotations

from collections.abc import Sequence

from grader.answers.models import Mapping
from grader.checking.result import PartResult
from grader.scoring.models import QuestionResult, QuestionStatus


def question_status(parts: Sequence[PartResult]) -> QuestionStatus:
    """Worst-first: an error or a needed review outranks any score."""
    statuses = {p.status for p in parts}
    if "error" in statuses:
        return "error"
    if "needs_review" in statuses:
        return "needs_review"
    if statuses == {"missing"}:
        return "missing"
    if statuses == {"correct"}:
        return "correct"
    if all(p.score == 0 for p in parts):
        return "incorrect"
    return "partial"


def score_question(
    question_id: str,
    title: str,
    max_score: float,
    parts: Sequence[PartResult],
    answer_lines: tuple[int, int] | None,
    located: Mapping | None = None,
) -> QuestionResult:
    score = round(min(max_score, sum(p.score for p in parts)), 4)
    feedback = [message for p in parts for message in p.feedback]
    return QuestionResult(
        id=question_id,
        title=title,
        score=score,
        max_score=max_score,
        status=question_status(parts),
        feedback=list(dict.fromkeys(feedback)),
        answer_lines=answer_lines,
        located=located,
        parts=list(parts),
    )
