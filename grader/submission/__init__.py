"""The submission stage: read a student's Markdown, split it into answers, extract what to check."""

from grader.submission.extract import extract, latex_key, repair_damage
from grader.submission.formulas import find_formulas
from grader.submission.models import (
    Answer,
    Extraction,
    Formula,
    Submission,
    SubmissionProblem,
    SubmissionText,
)
from grader.submission.read import MAX_BYTES, decode_submission, load_submission, read_submission_text
from grader.submission.segment import segment

__all__ = [
    "MAX_BYTES",
    "Answer",
    "Extraction",
    "Formula",
    "Submission",
    "SubmissionProblem",
    "SubmissionText",
    "decode_submission",
    "extract",
    "find_formulas",
    "latex_key",
    "load_submission",
    "read_submission_text",
    "repair_damage",
    "segment",
]
