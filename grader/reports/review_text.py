"""``grader review`` in a terminal: the queue, one item, what a decision did. Plain, aligned text.

Everything a student wrote (answers, file names) goes through ``terminal_text``: one line, no
escape sequence, so a hostile answer cannot forge a line of the output.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader._internal.safe_text import terminal_text
from grader.gradebook.models import Cluster, Decision, ItemDetail, QueueItem, RecordOutcome

__all__ = ["decisions_text", "item_text", "outcome_text", "queue_text", "clusters_text"]

_ANSWER_WIDTH = 60


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _short(text: str, width: int = _ANSWER_WIDTH) -> str:
    flat = terminal_text(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[k]) for k, cell in enumerate(row)).rstrip() for row in rows]


def _points_cell(item: QueueItem) -> str:
    if item.state == "decided":
        return f"{_points(item.score)} / {_points(item.max_score)}"
    proposed = item.proposed_score if item.proposed_score is not None else item.score
    return f"{_points(proposed)} / {_points(item.max_score)} proposed"


def _counts(items: Sequence[QueueItem]) -> str:
    pending = sum(1 for i in items if i.state == "pending")
    flagged = sum(1 for i in items if i.state == "flagged")
    decided = sum(1 for i in items if i.state == "decided")
    shown = [f"{n} {label}" for n, label in ((pending, "pending"), (flagged, "flagged"), (decided, "decided")) if n]
    return ", ".join(shown)


def queue_text(items: Sequence[QueueItem]) -> str:
    if not items:
        return "nothing waits for review\n"
    rows = [("ITEM", "SUBMISSION", "QUESTION", "PART", "STATE", "POINTS", "ANSWER")]
    rows += [
        (str(i.item), terminal_text(i.submission), i.question, i.part, i.state, _points_cell(i), _short(i.answer) or "(nothing read)")
        for i in items
    ]
    return "\n".join([*_table(rows), f"{len(items)} item(s): {_counts(items)}"]) + "\n"


def clusters_text(clusters: Sequence[Cluster]) -> str:
    if not clusters:
        return "nothing waits for review\n"
    lines = []
    for c in clusters:
        proposed = sorted({i.proposed_score if i.proposed_score is not None else i.score for i in c.items})
        shown = " or ".join(_points(p) for p in proposed)
        lines.append(
            f"cluster {c.cluster}: {c.question} {c.part}, {len(c.items)} submission(s), proposed {shown} / {_points(c.max_score)}: "
            f"{_short(c.answer) or '(nothing read)'}"
        )
        lines.append(f"  items {', '.join(str(i.item) for i in c.items)}: {', '.join(terminal_text(i.submission) for i in c.items)}")
    items = [i for c in clusters for i in c.items]
    lines.append(f"{len(clusters)} cluster(s), {len(items)} item(s): {_counts(items)}")
    return "\n".join(lines) + "\n"


def item_text(detail: ItemDetail) -> str:
    i = detail.item
    student = f" ({terminal_text(i.student)})" if i.student else ""
    lines = [
        f"item {i.item}: {terminal_text(i.submission)}{student}, question {i.question}, part {i.part}",
        f"state: {i.state} (machine: {i.status.replace('_', ' ')}, verdict {i.verdict}, method {i.method})",
        f"points: {_points(i.score)} / {_points(i.max_score)}"
        + (f" (proposed {_points(i.proposed_score)})" if i.proposed_score is not None else ""),
        f"answer: {terminal_text(' '.join(i.answer.split())) or '(nothing read)'}",
    ]
    if i.note is not None and i.note.state == "flagged":
        lines.append(
            f"flagged: {terminal_text(i.note.reviewer)} decided {_points(i.note.score)} for a different answer: "
            f"{terminal_text(' '.join(i.note.answer.split())) or '(nothing read)'}"
        )
    for title, entries in (("why a person must look", i.reasons), ("feedback", detail.feedback)):
        if entries:
            lines.append(f"{title}:")
            lines.extend(f"  - {terminal_text(e)}" for e in entries)
    if detail.evidence:
        lines.append("evidence:")
        lines.extend(f"  {terminal_text(k)}: {_short(str(v), 100)}" for k, v in sorted(detail.evidence.items()))
    if detail.history:
        lines.append("history:")
        lines.extend(f"  {_decision_line(d)}" for d in detail.history)
    if detail.same_answer:
        lines.append(f"same answer: items {', '.join(map(str, detail.same_answer))} (cluster {i.cluster})")
    return "\n".join(lines) + "\n"


def _decision_line(d: Decision) -> str:
    when = f"{d.decided_at:%Y-%m-%d %H:%M}"
    who = terminal_text(d.reviewer)
    if d.action == "undo":
        return f"#{d.id} {when} {who} undid #{d.undoes}"
    change = f"{_points(d.from_score)} → {_points(d.score)}"
    comment = f": {terminal_text(d.comment)}" if d.comment else ""
    return f"#{d.id} {when} {who} {d.action} {change}{comment}"


def decisions_text(decisions: Sequence[Decision]) -> str:
    lines = []
    for d in decisions:
        where = f"item {d.item if d.item is not None else '–'} ({terminal_text(d.submission)} {d.question} {d.part})"
        if d.action == "undo":
            lines.append(f"undid decision {d.undoes} on {where}")
        else:
            comment = f": {terminal_text(d.comment)}" if d.comment else ""
            lines.append(f"{d.action} {where}: {_points(d.from_score)} → {_points(d.score)} by {terminal_text(d.reviewer)}{comment}")
    return "\n".join(lines) + "\n"


def outcome_text(outcomes: Sequence[RecordOutcome]) -> str:
    """After a regrade: the decisions kept (same answer) and those flagged (the answer changed)."""
    kept = [i for o in outcomes for i in o.kept]
    flagged = [i for o in outcomes for i in o.flagged]
    if not kept and not flagged:
        return ""
    lines = [f"review: kept {len(kept)} decision(s) whose answer did not change, flagged {len(flagged)} whose answer changed"]
    for i in flagged:
        note = i.note
        was = f"{terminal_text(note.reviewer)} decided {_points(note.score)} for {_short(note.answer, 40) or '(nothing read)'}" if note else "decided"
        lines.append(
            f"  flagged item {i.item}: {terminal_text(i.submission)} {i.question} {i.part}: {was}; now {_short(i.answer, 40) or '(nothing read)'}"
        )
    return "\n".join(lines) + "\n"
