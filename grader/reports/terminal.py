"""Feedback in the terminal for a student checking their own answers.

Per question: a coloured status, the points, the line of the student's file that was read, the
feedback, and for a wrong formula the counterexample (the student's value at a point; never the
expected one). A summary line ends the output; ``quiet`` prints only that line. Colour is the
caller's choice (the CLI uses it only on a terminal without NO_COLOR).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from grader._internal.safe_text import terminal_text
from grader.checking.result import PartResult
from grader.scoring.models import QuestionResult, Report

_LABELS = {
    "correct": "correct",
    "partial": "partial",
    "incorrect": "incorrect",
    "missing": "missing",
    "needs_review": "needs review",
    "error": "error",
}
_COLOURS = {
    "correct": "green",
    "partial": "yellow",
    "incorrect": "red",
    "missing": "red",
    "needs_review": "cyan",
    "error": "magenta",
}
_SUMMARY = (
    ("correct", "correct"),
    ("partial", "partial"),
    ("incorrect", "incorrect"),
    ("missing", "missing"),
    ("needs_review", "need review"),
    ("error", "error"),
)


def colour_wanted(stream: IO[str] | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to something (no-color.org)."""
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty and not environ.get("NO_COLOR")


def _points(value: float) -> str:
    return f"{value:g}"


def summary_line(score: float, max_score: float, questions: Sequence[QuestionResult]) -> str:
    """``score 29.5 / 66: 6 correct, 2 partial, 5 incorrect, 2 missing, 4 need review``."""
    counts = [(sum(1 for q in questions if q.status == status), label) for status, label in _SUMMARY]
    shown = ", ".join(f"{count} {label}" for count, label in counts if count)
    return f"score {_points(score)} / {_points(max_score)}" + (f": {shown}" if shown else "")


def render_terminal(report: Report, *, colour: bool = False, quiet: bool = False) -> str:
    summary = summary_line(report.score, report.max_score, report.questions)
    if quiet:
        return summary + "\n"
    lines = [f"{terminal_text(report.submission)} ({report.rubric}): {_points(report.score)} / {_points(report.max_score)}"]
    for question in report.questions:
        lines.extend(_question_lines(question, colour=colour, show_lines=True))
    review = sum(1 for q in report.questions if q.status == "needs_review")
    if review:
        lines.append(f"{review} question(s) need a person's review; their points are proposed, not final.")
    lines.extend(f"warning: {terminal_text(w)}" for w in report.warnings)
    lines.append(summary)
    return "\n".join(lines) + "\n"


def render_question(question: QuestionResult, *, colour: bool = False, quiet: bool = False, skipped: Iterable[str] = ()) -> str:
    """One question's result (the quick check of a single answer)."""
    summary = summary_line(question.score, question.max_score, [question])
    if quiet:
        return summary + "\n"
    lines = _question_lines(question, colour=colour, show_lines=False)
    left = list(skipped)
    if left:
        lines.append(f"        not checked by this answer: {', '.join(left)}")
    lines.append(summary)
    return "\n".join(lines) + "\n"


def _question_lines(question: QuestionResult, *, colour: bool, show_lines: bool) -> list[str]:
    import click

    label = f"{_LABELS[question.status]:<12}"
    if colour:
        label = click.style(label, fg=_COLOURS.get(question.status))
    lines = [f"  {question.id:<5} {label} {_points(question.score):>4} / {_points(question.max_score)}"]
    # Details quote what the student wrote: one line each, no escape sequence (issue 15.5).
    lines.extend(f"        {terminal_text(line)}" for line in _details(question, show_lines=show_lines))
    return lines


def _details(question: QuestionResult, *, show_lines: bool) -> list[str]:
    out: list[str] = []
    for part in question.parts:
        if part.status == "missing":
            continue
        prefix = f"[{part.id}] " if len(question.parts) > 1 else ""
        if show_lines and part.extracted is not None and part.extracted.line is not None and part.status != "correct":
            out.append(f"{prefix}read line {part.extracted.line}: {_short(part.extracted.latex or part.extracted.text)}")
        for message in part.feedback:
            out.append(f"{prefix}{message}")
        counterexample = counterexample_text(part)
        if counterexample is not None:
            out.append(f"{prefix}counterexample: {counterexample}")
        if part.status == "needs_review":
            out.extend(f"{prefix}{reason}" for reason in part.reasons[:3])
    return out


def counterexample_text(part: PartResult) -> str | None:
    """The point where a wrong formula differs and the student's value there, unless the feedback
    already says it. The expected value is never shown (a sealed rubric does not even have it)."""
    from grader.math.evaluate import format_value, pretty_name

    if part.verdict != "wrong" or part.mistake is not None:
        return None
    found = _first_counterexample(part.evidence)
    if found is None:
        return None
    point = found.get("point") or {}
    numbers = [f"{pretty_name(n)} = {format_value(v)}" for n, v in point.items() if isinstance(v, int | float)]
    matrices = [f"{pretty_name(n)} ({v.removeprefix('random ').removesuffix(' matrix')})" for n, v in point.items() if isinstance(v, str)]
    if not numbers and not matrices:
        return None
    if any(numbers[0] in message for message in part.feedback) if numbers else any("random" in m for m in part.feedback):
        return None  # the feedback already names the point
    where = ", ".join(numbers)
    if matrices:
        where = "random " + ", ".join(matrices) + (f" and {where}" if where else "")
    if "student" not in found:
        return f"they differ at {where}"
    student = found["student"]
    if student is None:
        return f"at {where} your answer is undefined"
    shown = format_value(student) if isinstance(student, int | float) else str(student)
    entry = found.get("entry")
    if isinstance(entry, list) and len(entry) == 2:
        return f"for {where}, row {entry[0]}, column {entry[1]} of yours is {shown}"
    return f"at {where}, yours gives {shown}"


def _first_counterexample(evidence: dict[str, Any]) -> dict[str, Any] | None:
    for comparison in evidence.get("comparisons") or []:
        if isinstance(comparison, dict) and comparison.get("verdict") == "not_equivalent":
            found = comparison.get("counterexample")
            return found if isinstance(found, dict) else None
    return None


def _short(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
