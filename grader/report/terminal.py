"""Feedback in the terminal for a student checking their own answers."""

from __future__ import annotations

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


def _points(value: float) -> str:
    return f"{value:g}"


def render_terminal(report: Report, *, colour: bool = False) -> str:
    import click

    def paint(text: str, status: str) -> str:
        return click.style(text, fg=_COLOURS.get(status)) if colour else text

    lines = [f"{report.submission} ({report.rubric}): {_points(report.score)} / {_points(report.max_score)}"]
    for question in report.questions:
        label = paint(f"{_LABELS[question.status]:<12}", question.status)
        lines.append(
            f"  {question.id:<5} {label} {_points(question.score):>4} / {_points(question.max_score)}"
        )
        lines.extend(f"        {line}" for line in _details(question))
    review = sum(1 for q in report.questions if q.status == "needs_review")
    if review:
        lines.append(f"{review} question(s) need a person's review; their points are proposed, not final.")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines) + "\n"


def _details(question: QuestionResult) -> list[str]:
    out: list[str] = []
    for part in question.parts:
        if part.status == "missing":
            continue
        prefix = f"[{part.id}] " if len(question.parts) > 1 else ""
        if part.extracted is not None and part.extracted.line is not None and part.status != "correct":
            out.append(
                f"{prefix}read line {part.extracted.line}: {_short(part.extracted.latex or part.extracted.text)}"
            )
        for message in part.feedback:
            out.append(f"{prefix}{message}")
        if part.status == "needs_review":
            out.extend(f"{prefix}{reason}" for reason in part.reasons[:3])
    return out


def _short(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
