"""The grading pipeline: rubric → input → document → answers → checking → scoring → report.

Each part is checked in a bounded, killable worker: a timeout or a crash becomes a result
(``needs_review`` or ``error``) for that part only, and the rest of the submission is graded.
Splitting the file into answers runs under the same limits, so no stage of grading a hostile
file runs unbounded in the caller's process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader._internal.cache import Memo
from grader._internal.sandbox import (
    Crashed,
    Finished,
    Outcome,
    OutOfMemory,
    TimedOut,
    run_bounded,
    run_bounded_each,
)
from grader._internal.version import __version__
from grader.answers.align import align
from grader.answers.models import Answer, Submission
from grader.answers.questions import QuestionInfo, reading_hints, rubric_questions
from grader.checking.base import CheckContext
from grader.checking.registry import checker_for
from grader.checking.result import PartResult, missing_part
from grader.document.markdown import markdown_document
from grader.document.read import read_document
from grader.errors import Problem, SubmissionError
from grader.grading.options import Limits
from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import read_submission_text
from grader.rubric.models import AnyPart, Question, Rubric
from grader.scoring.models import QuestionResult, Report
from grader.scoring.score import score_question


def derive_seed(*labels: object) -> int:
    """Seeds come from the rubric and the part, so equal answers always get equal verdicts."""
    digest = hashlib.sha256("\x1f".join(str(label) for label in labels).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def segment_text(text: str, rubric: Rubric, *, path: str) -> Submission:
    """Align Markdown text already in memory (the quick-check and test path)."""
    return align(markdown_document(text, path=path), rubric_questions(rubric))


def grade_file(
    path: Path | str, rubric: Rubric, *, rubric_sha256: str = "", limits: Limits | None = None, root: Path | None = None
) -> Report:
    """Grade one submission file; raises SubmissionError only when it cannot be read at all.

    ``root`` is the folder the file was found in: a path that leaves it is refused.
    """
    read = read_submission_text(Path(path), root=root)
    if isinstance(read, SubmissionProblem):
        raise SubmissionError([read.to_problem()])
    return grade_text(read, rubric, rubric_sha256=rubric_sha256, limits=limits)


def grade_text(read: SubmissionText, rubric: Rubric, *, rubric_sha256: str = "", limits: Limits | None = None) -> Report:
    """Grade a file already read (a remote worker gets the text, not a path it may not see)."""
    if limits is not None:
        rubric = limits.apply(rubric)
    return grade_submission(split_bounded(read, rubric), rubric, rubric_sha256=rubric_sha256)


def split_bounded(read: SubmissionText, rubric: Rubric) -> Submission:
    """Read the document and align it under the rubric's check limits; a file that cannot be
    read in time is unreadable.

    The readers and the aligner are linear by design, but they are the stages that see the whole
    file, so a regression there must cost one submission a clear error rather than hang the batch.
    """
    settings = rubric.settings
    outcome = run_bounded(
        _split,
        read,
        rubric_questions(rubric),
        settings.check_timeout_s,
        timeout_s=settings.check_timeout_s,
        memory_mb=settings.check_memory_mb,
    )
    if isinstance(outcome, Finished) and isinstance(outcome.value, Submission):
        return outcome.value
    if isinstance(outcome, Finished) and isinstance(outcome.value, SubmissionProblem):
        raise SubmissionError([outcome.value.to_problem()])
    if isinstance(outcome, TimedOut):
        message = f"the file could not be split into answers within {settings.check_timeout_s:g} s"
    elif isinstance(outcome, OutOfMemory):
        message = f"splitting the file into answers needed more than {settings.check_memory_mb} MB of memory"
    else:
        detail = outcome.message if isinstance(outcome, Crashed) else "no result"
        message = f"the file could not be split into answers (grader failed: {detail})"
    raise SubmissionError(
        [
            Problem(
                code="submission.too_complex",
                message=message,
                file=read.path,
                fix="submit plain Markdown answers, without very long lines or deeply nested text",
            )
        ]
    )


def _split(read: SubmissionText, questions: Sequence[QuestionInfo], timeout_s: float) -> Submission | SubmissionProblem:
    """The document of a file read beforehand, aligned to the questions."""
    document = read_document(read, timeout_s=timeout_s)
    if isinstance(document, SubmissionProblem):
        return document
    return align(document, questions)


def grade_submission(
    submission: Submission, rubric: Rubric, *, rubric_sha256: str = "", limits: Limits | None = None
) -> Report:
    """Grade an aligned submission: every part checked in a bounded child (see ``check_parts``).

    No silent zero: a question whose answer could not be located, or was placed only by weak
    evidence, goes to a person with the reason, and so does the whole submission.
    """
    if limits is not None:
        rubric = limits.apply(rubric)
    answers = {
        question.id: answer.model_copy(update={"hints": reading_hints(rubric, question)})
        for question in rubric.questions
        if (answer := submission.answers.get(question.id)) is not None and answer.status == "answered"
    }
    tasks = [(question, part, answers[question.id]) for question in rubric.questions if question.id in answers for part in question.parts]
    checked = check_parts([(part, answer, part_context(rubric, question, part, submission.path)) for question, part, answer in tasks])
    results = {
        (question.id, part.id): _confirm_placement(result, answer)
        for (question, part, answer), result in zip(tasks, checked, strict=True)
    }
    for question in rubric.questions:
        answer = submission.answers.get(question.id)
        if answer is not None and answer.status == "unlocated":
            for part in question.parts:
                results[(question.id, part.id)] = unlocated_part(part.id, part.kind, part.points, question.id)
    questions = [grade_question(question, submission, results) for question in rubric.questions]
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


def unlocated_part(part_id: str, kind: str, points: float, question_id: str) -> PartResult:
    """A part whose answer may be in the file but could not be found: a person looks, nothing is scored."""
    return PartResult(
        id=part_id,
        kind=kind,
        status="needs_review",
        verdict="undecided",
        method="none",
        score=0,
        max_score=points,
        proposed_score=0,
        reasons=[f"the answer to question {question_id} could not be located in the file: it has no label, and no text matched it"],
        feedback=[f"grader could not find your answer to question {question_id}; a person will look. Label it on its own line, e.g. '{question_id}'."],
    )


def _confirm_placement(result: PartResult, answer: Answer) -> PartResult:
    """A verdict on an answer placed only by weak evidence (its order, a few words) is a proposal."""
    mapping = answer.mapping
    if mapping is None or mapping.confidence != "low" or result.status in ("needs_review", "error", "missing"):
        return result
    return result.model_copy(
        update={
            "status": "needs_review",
            "verdict": "undecided",
            "proposed_score": result.score,
            "reasons": [*result.reasons, f"which question this answer belongs to is uncertain ({mapping.description}); confirm it"],
        }
    )


def part_context(rubric: Rubric, question: Question, part: AnyPart, file: str) -> CheckContext:
    """Seed and limits of one part: the same wherever it is checked (file, quick check, rubric test)."""
    return CheckContext(
        file=file,
        question_id=question.id,
        symbols=rubric.symbol_table,
        seed=derive_seed(rubric.assignment.id, rubric.settings.seed, question.id, part.id),
        timeout_s=rubric.settings.check_timeout_s,
        memory_mb=rubric.settings.check_memory_mb,
    )


def grade_question(
    question: Question, submission: Submission, results: Mapping[tuple[str, str], PartResult]
) -> QuestionResult:
    """Score one question from its parts' results (a part without a result was not answered)."""
    answer = submission.answers.get(question.id)
    parts = [
        results.get((question.id, part.id)) or missing_part(part.id, part.kind, part.points) for part in question.parts
    ]
    lines = (answer.start_line, answer.end_line) if answer is not None and answer.status == "answered" else None
    located = answer.mapping if answer is not None and answer.status != "missing" else None
    return score_question(question.id, question.title, question.points, parts, lines, located)


def check_part(part: AnyPart, answer: Answer, ctx: CheckContext) -> PartResult:
    """Run one checker in a killable child with the rubric's time and memory limits."""
    return check_parts([(part, answer, ctx)])[0]


def check_parts(checks: Sequence[tuple[AnyPart, Answer, CheckContext]]) -> list[PartResult]:
    """Run checkers in order in one killable child, each with its own time and memory limit.

    One child for all (not one per part) because forking costs more than most checks; a check
    that overruns or kills the child becomes ``undecided`` with the reason, and a fresh child
    checks the parts after it. All checks of one call share one rubric, so one set of limits.

    An answer checked before by this process against the same part gets the same result
    without a second check (see ``_VERDICTS``).
    """
    if not checks:
        return []
    keys = [_VERDICTS.key(part, answer, ctx.model_copy(update={"file": ""})) for part, answer, ctx in checks]
    results: list[PartResult | None] = [_VERDICTS.get(key) for key in keys]
    todo = [index for index, found in enumerate(results) if found is None]
    if todo:
        ctx = checks[todo[0]][2]
        outcomes = run_bounded_each(_check, [checks[i] for i in todo], timeout_s=ctx.timeout_s, memory_mb=ctx.memory_mb)
        for index, outcome in zip(todo, outcomes, strict=True):
            part, _, part_ctx = checks[index]
            result = _portable(result_of(part, part_ctx, outcome))
            if isinstance(outcome, Finished) and not outcome.hit_limit:  # a limit's outcome depends on the machine
                _VERDICTS.put(keys[index], result)
            results[index] = result
    return [result for result in results if result is not None]


def _portable(result: PartResult) -> PartResult:
    """The result as a report read back from JSON holds it, so a remembered result and a fresh
    one (and a resumed report) give the same page."""
    return PartResult.model_validate_json(result.model_dump_json())


def _verdict_json(result: PartResult) -> Any:
    return json.loads(result.model_dump_json())


def _verdict(stored: Any) -> PartResult:
    return PartResult.model_validate_json(json.dumps(stored))  # as ``_portable`` reads it


#: Results by (part, answer, seed and limits, grader's code): a class in which many students
#: wrote the same answer (at the same place in the file) checks it once, in whichever worker
#: meets it first (the disk is shared by a batch's workers; memory is not). The file's name is
#: left out of the key: no checker reads it, and a verdict must not depend on it.
_VERDICTS: Memo[PartResult] = Memo("verdicts", size=2048, encode=_verdict_json, decode=_verdict)


def _check(part: AnyPart, answer: Answer, ctx: CheckContext) -> PartResult:
    return checker_for(part.kind).check(part, answer, ctx)


def result_of(part: AnyPart, ctx: CheckContext, outcome: Outcome) -> PartResult:
    """The checker's result, or an ``undecided`` result that says why there is none (every bounded
    check ends here: a file's parts, the quick check, the rubric's own tests)."""
    if isinstance(outcome, Finished):
        value = outcome.value
        assert isinstance(value, PartResult)
        return value
    if isinstance(outcome, TimedOut):
        reason = f"the check did not finish within {ctx.timeout_s:g} s"
    elif isinstance(outcome, OutOfMemory):
        reason = f"the check needed more than {ctx.memory_mb} MB of memory"
    else:
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
