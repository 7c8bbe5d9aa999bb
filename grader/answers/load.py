"""Input, document and alignment in one call: a file to its answers (for scripts and tests;
the pipeline runs the same steps under its time and memory limits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from grader.answers.align import align
from grader.answers.models import Submission
from grader.answers.questions import QuestionInfo, bare_questions
from grader.document.read import read_document
from grader.input.models import SubmissionProblem
from grader.input.open import MAX_BYTES, read_submission_text


def load_submission(
    path: Path,
    questions: Sequence[QuestionInfo] | Sequence[str],
    *,
    aliases: Mapping[str, Sequence[str]] | None = None,
    max_bytes: int = MAX_BYTES,
) -> Submission | SubmissionProblem:
    """Read, parse and align; the file's hash and read warnings are kept on the Submission."""
    read = read_submission_text(path, max_bytes=max_bytes)
    if isinstance(read, SubmissionProblem):
        return read
    document = read_document(read)
    if isinstance(document, SubmissionProblem):
        return document
    infos = [q if isinstance(q, QuestionInfo) else None for q in questions]
    known = tuple(q for q in infos if q is not None) if all(infos) else bare_questions([str(q) for q in questions], dict(aliases or {}))
    return align(document, known)
