"""The class summary ``DIR/index.html``: who got what, where the class went wrong, what needs a person.

Built for the instructor: a table of submissions linking to their reports, a score
distribution per question (inline SVG, no script), the rubric mistakes seen most often, the
wrong answers several students gave identically (normalised like the checkers compare LaTeX),
and the ``needs_review`` queue grouped by identical answer, so a person grades each distinct
answer once. Deterministic: reports are sorted by submission, questions and parts follow the
rubric, ties are broken by text.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from markupsafe import Markup

from grader.checking.result import PartResult
from grader.gradebook.answers import answer_key
from grader.gradebook.models import ReviewNote
from grader.reports.html import (
    environment,
    html_filename,
    part_anchor,
    points,
    question_anchor,
    write_text_atomic,
)
from grader.reports.mathml import render_math, render_text_with_math
from grader.reports.roster import Roster
from grader.rubric.models import Rubric
from grader.scoring.models import Report

__all__ = ["answer_key", "render_class_summary", "write_class_summary"]

_TEXT_SHOWN = 300
_MAX_DISTINCT_BARS = 16
_REVIEW_STATUSES = ("needs_review", "error")


# ---------------------------------------------------------------------------------------------
# Charts: geometry here, drawing in the template


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    w: str
    h: str
    cx: str
    count_y: str
    count: int
    label: str
    title: str


@dataclass(frozen=True)
class Chart:
    label: str
    bars: tuple[Bar, ...]
    width: int = 240
    height: int = 120
    left: int = 6
    right: int = 234
    baseline: int = 100
    label_y: int = 113


def _f(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(bins: Sequence[tuple[str, int, str]], *, label: str) -> Chart:
    """Bars for ``(label, count, tooltip)`` bins, scaled to the tallest; counts written above."""
    chart = Chart(label=label, bars=())
    top = 14
    slot = (chart.right - chart.left) / max(len(bins), 1)
    tallest = max((count for _, count, _ in bins), default=0) or 1
    bars = []
    for k, (text, count, title) in enumerate(bins):
        height = (chart.baseline - top) * count / tallest
        x = chart.left + k * slot + slot * 0.15
        bars.append(
            Bar(
                x=_f(x),
                y=_f(chart.baseline - height),
                w=_f(slot * 0.7),
                h=_f(height),
                cx=_f(x + slot * 0.35),
                count_y=_f(chart.baseline - height - 3),
                count=count,
                label=text,
                title=title,
            )
        )
    return Chart(label=label, bars=tuple(bars))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def score_distribution(scores: Sequence[float], max_score: float, *, label: str) -> Chart:
    """One bar per score that occurs (and 0 and full marks); ten equal bins when there are too many."""
    values = sorted(set(scores) | {0.0, float(max_score)})
    if len(values) <= _MAX_DISTINCT_BARS:
        bins = [
            (points(v), n, f"{points(v)} points: {_plural(n, 'submission')}")
            for v in values
            for n in [sum(1 for s in scores if s == v)]
        ]
        return bar_chart(bins, label=label)
    return _histogram(scores, max_score, label=label)


def _histogram(scores: Sequence[float], max_score: float, *, label: str) -> Chart:
    width = max_score / 10 if max_score > 0 else 1.0
    counts = [0] * 10
    for s in scores:
        counts[min(max(int(s / width), 0), 9)] += 1
    # Short axis labels (whole points where the bins are wide enough); exact bounds in the tooltip.
    short = (lambda x: f"{x:.0f}") if width >= 1 else (lambda x: f"{x:.1f}")
    bins = [
        (
            short(k * width),
            counts[k],
            f"{points(round(k * width, 2))}–{points(round((k + 1) * width, 2))} points: {_plural(counts[k], 'submission')}",
        )
        for k in range(10)
    ]
    return bar_chart(bins, label=label)


# ---------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    score: str = ""
    status: str = ""


@dataclass(frozen=True)
class Cell:
    score: str
    status: str
    href: str


@dataclass(frozen=True)
class Row:
    link: Link
    student: str
    cells: tuple[Cell | None, ...]
    total: str
    status: str
    review: str = ""  # who decided, and whether the total is still provisional


@dataclass(frozen=True)
class UnreadableRow:
    name: str
    student: str
    reason: str


@dataclass(frozen=True)
class QuestionStats:
    id: str
    title: str
    max_score: str
    mean: str
    chart: Chart
    statuses: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class MistakeGroup:
    question: str
    part: str
    mistake: str
    feedback: str
    submissions: tuple[Link, ...]


@dataclass(frozen=True)
class AnswerGroup:
    question: str
    part: str
    max_score: str
    answer: Markup
    submissions: tuple[Link, ...]
    consistent: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SummaryView:
    assignment: str
    course: str
    due: str
    count: int
    max_score: str
    mean: str
    median: str
    low: str
    high: str
    review_count: int
    has_students: bool
    question_ids: tuple[str, ...]
    rows: tuple[Row, ...]
    total_chart: Chart
    questions: tuple[QuestionStats, ...]
    mistakes: tuple[MistakeGroup, ...]
    answers: tuple[AnswerGroup, ...]
    queue: tuple[AnswerGroup, ...]
    unreadable: tuple[UnreadableRow, ...] = ()


def _answer_markup(part: PartResult) -> Markup:
    extracted = part.extracted
    if extracted is not None and extracted.latex:
        return render_math(extracted.latex, display=True)
    text = " ".join((extracted.text if extracted else "").split())
    if len(text) > _TEXT_SHOWN:
        text = text[: _TEXT_SHOWN - 1] + "…"
    return render_text_with_math(text)


def _page(report: Report) -> str:
    return "./" + quote(html_filename(report), safe="")


def _href(page: str, anchor: str = "") -> str:
    return f"{page}#{quote(anchor, safe='-._~')}" if anchor else page


def _mean(values: Sequence[float]) -> str:
    return points(round(statistics.fmean(values), 2)) if values else "–"


def _review_text(report: Report, notes: Mapping[str, ReviewNote]) -> str:
    decided = sorted({n.reviewer for n in notes.values() if n.state == "decided"})
    flagged = sum(1 for n in notes.values() if n.state == "flagged")
    text = f"reviewed by {', '.join(decided)}" if decided else ""
    if flagged:
        text += ("; " if text else "") + f"{flagged} decision(s) flagged: the answer changed"
    if report.status == "needs_review":
        text += ("; " if text else "") + "provisional"
    return text


def summary_view(
    reports: Sequence[Report],
    rubric: Rubric,
    *,
    roster: Roster | None = None,
    reviews: Mapping[str, Mapping[str, ReviewNote]] | None = None,
    unreadable: Sequence[tuple[str, str]] = (),
) -> SummaryView:
    """``reviews`` (by submission, then ``"question/part"``) and ``unreadable`` ((file, reason)) come
    from the gradebook; without them the page is what the reports alone say."""
    ordered = sorted(reports, key=lambda r: r.submission)
    page = {r.submission: _page(r) for r in ordered}  # a report is linked from many cells
    reviewed = reviews or {}
    question_ids = tuple(q.id for q in rubric.questions)
    part_order = {(q.id, p.id): (i, j) for i, q in enumerate(rubric.questions) for j, p in enumerate(q.parts)}
    mistake_feedback = {
        (q.id, p.id, m.id): m.feedback for q in rubric.questions for p in q.parts for m in p.mistakes
    }

    rows = []
    for report in ordered:
        by_id = {q.id: q for q in report.questions}
        student = roster.lookup(report.submission) if roster is not None else None
        rows.append(
            Row(
                link=Link(report.submission, page[report.submission]),
                student=student.name if student is not None else "",
                cells=tuple(
                    Cell(points(q.score), q.status, _href(page[report.submission], question_anchor(q.id)))
                    if q is not None
                    else None
                    for q in (by_id.get(i) for i in question_ids)
                ),
                total=points(report.score),
                status=report.status,
                review=_review_text(report, reviewed[report.submission]) if reviewed.get(report.submission) else "",
            )
        )

    questions = []
    for rq in rubric.questions:
        results = [q for r in ordered for q in r.questions if q.id == rq.id]
        scores = [q.score for q in results]
        statuses = sorted({q.status for q in results})
        questions.append(
            QuestionStats(
                id=rq.id,
                title=rq.title,
                max_score=points(rq.points),
                mean=_mean(scores),
                chart=score_distribution(
                    scores, rq.points, label=f"Scores on {rq.id} (out of {points(rq.points)})"
                ),
                statuses=tuple((s, sum(1 for q in results if q.status == s)) for s in statuses),
            )
        )

    mistakes: dict[tuple[str, str, str], list[Link]] = defaultdict(list)
    same: dict[tuple[str, str, str], list[tuple[Report, PartResult]]] = defaultdict(list)
    queue: dict[tuple[str, str, str], list[tuple[Report, PartResult]]] = defaultdict(list)
    for report in ordered:
        for question in report.questions:
            for part in question.parts:
                anchor = part_anchor(question.id, part.id)
                if part.mistake:
                    mistakes[(question.id, part.id, part.mistake)].append(
                        Link(report.submission, _href(page[report.submission], anchor), points(part.score), part.status)
                    )
                key = answer_key(part)
                if key is not None and part.status not in ("correct", "missing"):
                    same[(question.id, part.id, key)].append((report, part))
                if part.status in _REVIEW_STATUSES:
                    queue[(question.id, part.id, key or f"submission:{report.submission}")].append(
                        (report, part)
                    )

    def order(key: tuple[str, str, str], count: int) -> tuple[object, ...]:
        return (-count, part_order.get(key[:2], (len(part_order), 0)), key)

    mistake_groups = tuple(
        MistakeGroup(q, p, m, mistake_feedback.get((q, p, m), ""), tuple(links))
        for (q, p, m), links in sorted(mistakes.items(), key=lambda item: order(item[0], len(item[1])))
    )

    def group(key: tuple[str, str, str], members: list[tuple[Report, PartResult]]) -> AnswerGroup:
        first = members[0][1]
        scores = {part.score for _, part in members}
        return AnswerGroup(
            question=key[0],
            part=key[1],
            max_score=points(first.max_score),
            answer=_answer_markup(first),
            submissions=tuple(
                Link(r.submission, _href(page[r.submission], part_anchor(key[0], key[1])), points(p.score), p.status)
                for r, p in members
            ),
            consistent=len(scores) <= 1,
            reasons=tuple(first.reasons[:4]),
        )

    answer_groups = tuple(
        group(key, members)
        for key, members in sorted(same.items(), key=lambda item: order(item[0], len(item[1])))
        if len(members) > 1
    )
    queue_groups = tuple(
        group(key, members)
        for key, members in sorted(
            queue.items(),
            key=lambda item: (part_order.get(item[0][:2], (len(part_order), 0)), -len(item[1]), item[0]),
        )
    )

    totals = [r.score for r in ordered]
    return SummaryView(
        assignment=rubric.assignment.title,
        course=rubric.assignment.course,
        due=rubric.assignment.due,
        count=len(ordered),
        max_score=points(rubric.max_score),
        mean=_mean(totals),
        median=points(round(statistics.median(totals), 2)) if totals else "–",
        low=points(min(totals)) if totals else "–",
        high=points(max(totals)) if totals else "–",
        review_count=sum(1 for r in ordered if r.status == "needs_review"),
        has_students=roster is not None,
        question_ids=question_ids,
        rows=tuple(rows),
        total_chart=_histogram(
            totals, rubric.max_score, label=f"Total scores (out of {points(rubric.max_score)})"
        ),
        questions=tuple(questions),
        mistakes=mistake_groups,
        answers=answer_groups,
        queue=queue_groups,
        unreadable=tuple(
            UnreadableRow(name, _student_name(roster, name), reason) for name, reason in sorted(unreadable)
        ),
    )


def _student_name(roster: Roster | None, submission: str) -> str:
    entry = roster.lookup(submission) if roster is not None else None
    return entry.name if entry is not None else ""


def render_class_summary(
    reports: Sequence[Report],
    rubric: Rubric,
    *,
    roster: Roster | None = None,
    reviews: Mapping[str, Mapping[str, ReviewNote]] | None = None,
    unreadable: Sequence[tuple[str, str]] = (),
) -> str:
    """The page as text; the same reports in any order give the same bytes."""
    view = summary_view(reports, rubric, roster=roster, reviews=reviews, unreadable=unreadable)
    return environment().get_template("summary.html.j2").render(s=view)


def write_class_summary(
    reports: Sequence[Report], rubric: Rubric, out_dir: Path, *, roster: Roster | None = None
) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path."""
    path = out_dir / "index.html"
    write_text_atomic(path, render_class_summary(reports, rubric, roster=roster))
    return path
