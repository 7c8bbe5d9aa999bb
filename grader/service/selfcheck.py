"""Student self-checks: the feedback of ``grader check`` from the sealed rubric, in worker processes.

The web server never checks answers in its own process: checks fork sandboxed children, and a
threaded server is no place to fork. A pool of processes started with ``spawn`` (fresh, single
threaded) runs them; each caches the sealed rubric it was sent and dies with the server. The open
rubric never reaches a worker: checks run against the sealed copy made when the assignment was
created, and every feedback line is then searched for the open rubric's references (whitespace
ignored) and withheld if one appears, so a hint an instructor wrote with the answer in it does
not leak either.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import re
import signal
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from grader._internal.processes import die_with_parent
from grader.authoring.quickcheck import QuickCheckError, quick_check
from grader.authoring.seal import seal_rubric, sealed_json
from grader.checking.lint import load_rubric
from grader.checking.result import PartResult
from grader.errors import GraderError, Problem
from grader.grading.pipeline import grade_text
from grader.input.models import SubmissionProblem
from grader.input.open import decode_submission
from grader.rubric.load import RUBRIC_FILE
from grader.rubric.models import Rubric
from grader.rubric.parts import DerivationPart, DivergencePart, NumericPart, SymbolicPart
from grader.scoring.models import QuestionResult
from grader.service.models import PartFeedback, QuestionFeedback

T = TypeVar("T")
WITHHELD = "(this feedback is withheld here because it states the answer; your instructor's report shows it)"
_SPACE = re.compile(r"\s+")
_MIN_REFERENCE_CHARS = 3  # "0" or "1" would match any text; such answers are not hints anyway


class CheckRefused(ValueError):
    """The input cannot be checked (an unknown question, an unreadable file); the problems say why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:  # crosses the process pool intact
        return (CheckRefused, (self.problems,))


# ---------------------------------------------------------------------- in the worker processes


def prepare_rubric(text: str) -> str:
    """Validate an open rubric's TOML and seal it: ``{"open": ..., "sealed": ...}`` as JSON."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / RUBRIC_FILE
            path.write_text(text, encoding="utf-8")
            rubric = load_rubric(path)
    except GraderError as error:
        raise CheckRefused([p.model_copy(update={"file": RUBRIC_FILE}) if p.file else p for p in error.problems]) from None
    sealed, _notes = seal_rubric(rubric)
    return json.dumps({"open": rubric.model_dump(mode="json"), "sealed": json.loads(sealed_json(sealed))})


@lru_cache(maxsize=16)
def _sealed(text: str) -> Rubric:
    return Rubric.model_validate(json.loads(text)["rubric"])


def check_file(sealed: str, data: bytes, name: str) -> dict[str, Any]:
    """Grade a whole answer file against the sealed rubric: the report as JSON-ready data."""
    rubric = _sealed(sealed)
    read = decode_submission(data, name)
    if isinstance(read, SubmissionProblem):
        raise CheckRefused([read.to_problem()])
    try:
        report = grade_text(read, rubric)
    except GraderError as error:
        raise CheckRefused(error.problems) from None
    return {"questions": [q.model_dump(mode="json") for q in report.questions], "warnings": report.warnings, "skipped": []}


def check_answer(sealed: str, question: str, part: str | None, latex: str | None, calc: str | None) -> dict[str, Any]:
    """One answer to one question (``grader check --question``)."""
    rubric = _sealed(sealed)
    try:
        quick = quick_check(rubric, question, latex=latex, text=calc, part_id=part)
    except QuickCheckError as error:
        raise CheckRefused([Problem(code="check.bad_request", message=str(error), question=question, fix="see the questions on the page")]) from None
    return {"questions": [quick.question.model_dump(mode="json")], "warnings": [], "skipped": list(quick.skipped)}


def _worker_start() -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---------------------------------------------------------------------- in the server


class CheckPool:
    """A process pool for checks and sealing; a broken pool (a worker killed) is replaced."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not forkserver: a fork server's children keep it alive after the server is killed
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start)
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        for attempt in range(2):
            try:
                return await loop.run_in_executor(self._executor(), fn, *args)
            except BrokenProcessPool:
                self.close(wait=False)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self, *, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None


def references(rubric: Rubric) -> tuple[str, ...]:
    """The open rubric's math references, whitespace removed: what feedback must never state."""
    found: list[str] = []
    for question in rubric.questions:
        for part in question.parts:
            if isinstance(part, SymbolicPart):
                found += [part.reference, *part.alternatives]
            elif isinstance(part, NumericPart):
                found.append(part.reference)
            elif isinstance(part, DerivationPart | DivergencePart):
                found += part.definitions.values()  # they state other parts' answers
    squeezed = (_SPACE.sub("", text) for text in found)
    return tuple(sorted({text for text in squeezed if len(text) >= _MIN_REFERENCE_CHARS}))


def _clean(lines: Iterable[str], refs: tuple[str, ...]) -> list[str]:
    out = []
    for line in lines:
        bare = _SPACE.sub("", line)
        out.append(WITHHELD if any(ref in bare for ref in refs) else line)
    return list(dict.fromkeys(out))


def _part(part: PartResult, refs: tuple[str, ...]) -> PartFeedback:
    return PartFeedback(id=part.id, kind=part.kind, status=part.status, score=part.score, max_score=part.max_score, feedback=_clean(part.feedback, refs))


def question_feedback(questions: Iterable[dict[str, Any]], refs: tuple[str, ...]) -> list[QuestionFeedback]:
    """The student's view: statuses, points and feedback; no evidence, no reasons, no references."""
    out = []
    for data in questions:
        question = QuestionResult.model_validate(data)
        out.append(
            QuestionFeedback(
                id=question.id,
                title=question.title,
                status=question.status,
                score=question.score,
                max_score=question.max_score,
                answer_lines=question.answer_lines,
                feedback=_clean(question.feedback, refs),
                parts=[_part(p, refs) for p in question.parts],
            )
        )
    return out


def input_digest(*pieces: str | bytes | None) -> str:
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(b"\x00" if piece is None else (piece.encode("utf-8") if isinstance(piece, str) else piece))
        digest.update(b"\x1f")
    return digest.hexdigest()
