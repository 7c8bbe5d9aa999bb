"""The class files made from the gradebook store: ``grades.csv``, ``index.html``, reviewed pages.

``grades.csv`` has one row per submission, every one of them (an unreadable one with its reason),
the student's name and id from the roster, one column per sub-question, and whether the total
is final or still provisional (parts waiting for a person, or decisions flagged by a regrade).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader._internal.safe_text import csv_row
from grader.gradebook.book import Gradebook
from grader.gradebook.models import AssignmentInfo, GradebookRow
from grader.reports.html import html_filename, points, render_html_report, write_text_atomic
from grader.reports.roster import Roster, RosterEntry
from grader.reports.summary import render_class_summary
from grader.rubric.models import Rubric

__all__ = ["GRADES_FILE", "SUMMARY_FILE", "gradebook_csv", "write_class_files", "write_pages"]

GRADES_FILE = "grades.csv"
SUMMARY_FILE = "index.html"


def gradebook_csv(rubric: Rubric, rows: Sequence[GradebookRow]) -> str:
    ids = [q.id for q in rubric.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "student_name", "student_id", *ids, "total", "max_score", "status", "provisional", "reviewed_by", "note"])
    for row in sorted(rows, key=lambda r: r.submission):
        if row.report is None:
            cells = ["" for _ in ids]
            total, provisional, note = "", "", row.reason
        else:
            cells = [points(row.questions[i]) if i in row.questions else "" for i in ids]
            total = points(row.score) if row.score is not None else ""
            provisional = "yes" if row.provisional else "no"
            waiting = []
            if row.pending:
                waiting.append(f"{row.pending} part(s) wait for review")
            if row.flagged:
                waiting.append(f"{row.flagged} decision(s) flagged: the answer changed")
            note = "; ".join(waiting)
        writer.writerow(
            csv_row(
                [row.submission, row.student_name, row.student_id, *cells, total, points(row.max_score), row.status, provisional, ", ".join(row.reviewers), note]
            )
        )
    return out.getvalue()


def _roster_from_rows(rows: Iterable[GradebookRow]) -> Roster | None:
    entries = tuple(
        RosterEntry(submission=row.submission, **{k: v for k, v in row.roster.items() if k != "submission"}) for row in rows if row.roster
    )
    return Roster(entries=entries) if entries else None


def write_pages(book: Gradebook, assignment: AssignmentInfo, out_dir: Path, submissions: Iterable[str], *, roster: Roster | None = None) -> list[Path]:
    """Render again the pages of ``submissions`` with the decisions in force (after a review)."""
    rubric = book.rubric(assignment)
    written = []
    for name in dict.fromkeys(submissions):
        row = book.reviewed(assignment, name)
        if row.report is None:
            continue
        lookup = roster if roster is not None else _roster_from_rows([row])
        student = lookup.lookup(row.submission) if lookup is not None else None
        path = out_dir / html_filename(row.report)
        write_text_atomic(path, render_html_report(row.report, rubric, show_reference=assignment.show_reference, student=student, reviews=row.notes))
        written.append(path)
    return written


def write_class_files(
    book: Gradebook, assignment: AssignmentInfo, out_dir: Path, *, roster: Roster | None = None, html: bool = True
) -> list[GradebookRow]:
    """Write ``grades.csv`` (and ``index.html``) from every submission the store holds; return the rows."""
    rubric = book.rubric(assignment)
    rows = book.rows(assignment)
    write_text_atomic(out_dir / GRADES_FILE, gradebook_csv(rubric, rows))
    if html:
        reports = [row.report for row in rows if row.report is not None]
        reviews = {row.submission: row.notes for row in rows if row.notes}
        unreadable = [(row.submission, row.reason) for row in rows if row.report is None]
        page_roster = roster if roster is not None else _roster_from_rows(rows)
        write_text_atomic(
            out_dir / SUMMARY_FILE,
            render_class_summary(reports, rubric, roster=page_roster, reviews=reviews, unreadable=unreadable),
        )
    return rows
