"""What counts as "the same answer", for clusters in the review queue and for keeping decisions.

Math is compared by its normalised LaTeX key (fonts, spacing and redundant braces dropped), prose
by its whitespace- and case-folded text. A part with nothing extracted has no key of its own.
"""

from __future__ import annotations

from grader.answers.extract import latex_key
from grader.checking.result import PartResult

__all__ = ["answer_key", "answer_text"]


def answer_key(part: PartResult) -> str | None:
    """The normalised answer, or None when nothing was read for the part."""
    extracted = part.extracted
    if extracted is None or part.status == "missing":
        return None
    if extracted.latex:
        return "math:" + latex_key(extracted.latex)
    text = " ".join(extracted.text.split()).casefold()
    return "text:" + text if text else None


def answer_text(part: PartResult) -> str:
    """The answer as the student wrote it (LaTeX, or the prose), for a person to read."""
    extracted = part.extracted
    if extracted is None or part.status == "missing":
        return ""
    return extracted.latex or extracted.text
