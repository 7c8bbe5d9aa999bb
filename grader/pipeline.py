"""The grading pipeline: rubric → submission → checking → scoring → report.

Each part is checked in a bounded, killable worker: a timeout or a crash becomes a result
(``needs_review`` or ``error``) for that part only, and the rest of the submission is graded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader import __version__
from grader._internal.sandbox import Crashed, Finished, OutOfMemory, TimedOut, run_bounded
from grader.checking.base import CheckContext
from grader.checking.registry import AnyPart, checker_for
from grader.checking.result import PartResult, missing_part
from grader.errors import SubmissionError
from grader.rubric.models import Question, Rubric
from grader.scoring.models import QuestionResult, Report
from grader.scoring.score import score_question
from grader.submission.models import Answer, Submission, SubmissionProblem
from grader.submission.read import load_submission
from grader.submission.segment import segment


def derive_seed(*labels: object) -> int:
    """Seeds come from the rubric and the part, so equal answers always get equal verdicts."""
    digest = hashlib.sha256("\x1f".join(str(label) for label in labels).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _aliases(rubric: Rubric) -> dict[str, list[str]]:
    return {q.id: q.aliases for q in rubric.questions if q.aliases}


def segment_text(text: str, rubric: Rubric, *, path: str) -> Submission:
    """Split text already in memory (the quick-check and test path)."""
    return segment(text, [q.id for q in rubric.questions], path=path, aliases=_aliases(rubric))


def grade_file(path: Path | str, rubric: Rubric, *, rubric_sha256: str = "") -> Report:
    """Grade one submission file; raises SubmissionError only when it cannot be read at all."""
    loaded = load_submission(Path(path), [q.id for q in rubric.questions], aliases=_aliases(rubric))
    if isinstance(loaded, SubmissionProblem):
        raise SubmissionError([loaded.to_problem()])
    return grade_submission(loaded, rubric, rubric_sha256=rubric_sha256)


def grade_submission(submission: Submission, rubric: Rubric, *, rubric_sha256: str = "") -> Report:
    questions = [grade_question(question, submission, rubric) for question in rubric.questions]
    score = round(sum(q.score for q in questions), 4)
    review = any(q.status in ("needs_review", "error") for q in questions)
    return Report(
        submission=Path(submission.path).name,
        rubric=rubric.assignment.id,
        grader_version=__version__,
        submission_sha256=submission.sha256,
        rubric_sha256=rubric_sha256,
        score=score,
        max_score=rubric.max_score,
        status="needs_review" if review else "graded",
        questions=questions,
        warnings=list(submission.warnings),
    )


def grade_question(question: Question, submission: Submission, rubric: Rubric) -> QuestionResult:
    answer = submission.answers.get(question.id)
    parts: list[PartResult] = []
    for part in question.parts:
        if answer is None or answer.status == "missing":
            parts.append(missing_part(part.id, part.kind, part.points))
            continue
        ctx = CheckContext(
            file=submission.path,
            question_id=question.id,
            symbols=rubric.symbol_table,
            seed=derive_seed(rubric.assignment.id, rubric.settings.seed, question.id, part.id),
            timeout_s=rubric.settings.check_timeout_s,
            memory_mb=rubric.settings.check_memory_mb,
        )
        parts.append(check_part(part, answer, ctx))
    lines = (answer.start_line, answer.end_line) if answer is not None and answer.status != "missing" else None
    return score_question(question.id, question.title, question.points, parts, lines)


def check_part(part: AnyPart, answer: Answer, ctx: CheckContext) -> PartResult:
    """Run one checker in a killable worker with the rubric's time and memory limits."""
    checker = checker_for(part.kind)
    outcome = run_bounded(checker.check, part, answer, ctx, timeout_s=ctx.timeout_s, memory_mb=ctx.memory_mb)
    if isinstance(outcome, Finished):
        value = outcome.value
        assert isinstance(value, PartResult)
        return value
    if isinstance(outcome, TimedOut):
        reason = f"the check did not finish within {ctx.timeout_s:g} s"
    elif isinstance(outcome, OutOfMemory):
        reason = f"the check needed more than {ctx.memory_mb} MB of memory"
    else:
        assert isinstance(outcome, Crashed)
        return PartResult(
            id=part.id,
            kind=part.kind,
            status="error",
            verdict="undecided",
            method="none",
            score=0,
            max_score=part.points,
            reasons=[f"the checker failed: {outcome.message}"],
            feedback=["grader could not check this part; a person will look at it."],
        )
    return PartResult(
        id=part.id,
        kind=part.kind,
        status="needs_review",
        verdict="undecided",
        method="none",
        score=0,
        max_score=part.points,
        proposed_score=0,
        reasons=[reason],
        feedback=["grader could not decide this part in time; a person will look at it."],
    )
