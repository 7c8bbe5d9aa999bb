"""Gradebook exports: Canvas and Moodle import CSVs, and Gradescope autograder ``results.json``.

Canvas and Moodle match rows to students by identifiers the submissions do not carry, so
those two need a roster (``grader.report.roster``). Scores are the reports' scores, including
the proposed points of parts still waiting for review (the same numbers as ``grades.csv``);
the Gradescope file says which questions are provisional. Exports never contain references.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from grader.errors import Problem
from grader.reports.html import points, write_text_atomic
from grader.reports.roster import Roster, RosterEntry, RosterError
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report

__all__ = [
    "CANVAS_COLUMNS",
    "EXPORT_KINDS",
    "MOODLE_IDENTIFIERS",
    "ExportKind",
    "canvas_csv",
    "gradescope_json",
    "gradescope_results",
    "moodle_csv",
    "write_exports",
]

ExportKind = Literal["canvas", "moodle", "gradescope"]
EXPORT_KINDS: tuple[str, ...] = get_args(ExportKind)

# Canvas's own gradebook export starts with these columns, then one column per assignment
# ("Name" or "Name (assignment id)"), and a second row with the points possible.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_CANVAS_IDENTIFIERS = ("canvas_id", "sis_user_id", "sis_login_id")
CANVAS_POINTS_ROW = "    Points Possible"
# Moodle's "Import grades > CSV file" maps one identifier column to a user field.
MOODLE_IDENTIFIERS = (("Email address", "email"), ("ID number", "id_number"), ("Username", "username"))


def _display_text(value: str) -> str:
    """A name a spreadsheet would read as a formula (``=HYPERLINK(...)``) gets a leading quote.

    Only for display columns: identifiers must stay exactly as the gradebook stores them.
    """
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _writer() -> tuple[io.StringIO, Any]:
    out = io.StringIO()
    return out, csv.writer(out, lineterminator="\n")


def _need_roster(roster: Roster | None, export: str) -> Roster:
    if roster is None:
        raise RosterError(
            [
                Problem(
                    code="roster.missing",
                    message=f"the {export} export needs to know which student each submission belongs to",
                    fix="pass --roster FILE (a CSV with a 'submission' column and the students' identifiers)",
                )
            ]
        )
    return roster


def _sorted_rows(
    reports: Sequence[Report], entries: dict[str, RosterEntry]
) -> list[tuple[Report, RosterEntry]]:
    return sorted(
        ((r, entries[r.submission]) for r in reports), key=lambda pair: (pair[1].name, pair[0].submission)
    )


def canvas_csv(
    reports: Sequence[Report], rubric: Rubric, roster: Roster | None, *, assignment_column: str | None = None
) -> str:
    """Rows for Canvas's Gradebook import; ``assignment_column`` may carry Canvas's id: ``"A3 (1234)"``."""
    entries = _need_roster(roster, "canvas").require(
        (r.submission for r in reports), fields=_CANVAS_IDENTIFIERS, export="canvas"
    )
    out, writer = _writer()
    writer.writerow([*CANVAS_COLUMNS, assignment_column or rubric.assignment.title])
    writer.writerow([CANVAS_POINTS_ROW, "", "", "", "", points(rubric.max_score)])
    for report, entry in _sorted_rows(reports, entries):
        writer.writerow(
            [
                _display_text(entry.name),
                entry.canvas_id,
                entry.sis_user_id,
                entry.sis_login_id,
                entry.section,
                points(report.score),
            ]
        )
    return out.getvalue()


def moodle_csv(
    reports: Sequence[Report], rubric: Rubric, roster: Roster | None, *, grade_column: str | None = None
) -> str:
    """An identifier column (the first of email, ID number, username that every row has), then the grade."""
    fields = tuple(field for _, field in MOODLE_IDENTIFIERS)
    entries = _need_roster(roster, "moodle").require(
        (r.submission for r in reports), fields=fields, export="moodle"
    )
    header, field = next(
        ((h, f) for h, f in MOODLE_IDENTIFIERS if all(getattr(e, f) for e in entries.values())),
        (None, None),
    )
    if header is None or field is None:
        raise RosterError(
            [
                Problem(
                    code="roster.no_common_identifier",
                    message="no identifier column (email, id_number, username) is filled in for every student",
                    file=_need_roster(roster, "moodle").source or None,
                    fix="fill in one of these columns for every roster row",
                )
            ]
        )
    out, writer = _writer()
    writer.writerow([header, grade_column or rubric.assignment.title])
    for report, entry in _sorted_rows(reports, entries):
        writer.writerow([getattr(entry, field), points(report.score)])
    return out.getvalue()


def _question_output(question: QuestionResult) -> str:
    lines: list[str] = []
    if question.status == "needs_review":
        lines.append("Needs a person's review: the points are proposed, not final.")
    for part in question.parts:
        prefix = f"[{part.id}] " if len(question.parts) > 1 else ""
        lines.append(
            f"{prefix}{part.status.replace('_', ' ')}: {points(part.score)} / {points(part.max_score)}"
        )
        extracted = part.extracted
        if (
            extracted is not None
            and extracted.line is not None
            and extracted.latex
            and part.status != "correct"
        ):
            lines.append(f"{prefix}read line {extracted.line}: {extracted.latex}")
        lines.extend(f"{prefix}{message}" for message in part.feedback)
        if part.status in ("needs_review", "error"):
            lines.extend(f"{prefix}{reason}" for reason in part.reasons)
    return "\n".join(lines)


def gradescope_results(report: Report, rubric: Rubric) -> dict[str, Any]:
    """Gradescope's autograder results: one test per question, scores as in the native report."""
    titles = {q.id: q.title for q in rubric.questions}
    provisional = [q.id for q in report.questions if q.status in ("needs_review", "error")]
    output = f"{points(report.score)} / {points(report.max_score)} points."
    if len(provisional) == 1:
        output += f" Question {provisional[0]} needs a person's review; its points are proposed."
    elif provisional:
        output += f" Questions {', '.join(provisional)} need a person's review; their points are proposed."
    return {
        "score": report.score,
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "submission": report.submission,
            "rubric": report.rubric,
            "status": report.status,
            "needs_review": provisional,
            "grader_version": report.grader_version,
        },
        "tests": [
            {
                "name": f"{q.id} {q.title or titles.get(q.id, '')}".strip(),
                "number": q.id,
                "score": q.score,
                "max_score": q.max_score,
                "status": "passed" if q.status == "correct" else "failed",
                "output": _question_output(q),
                "output_format": "text",
                "visibility": "visible",
            }
            for q in report.questions
        ],
    }


def gradescope_json(report: Report, rubric: Rubric) -> str:
    return json.dumps(gradescope_results(report, rubric), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_exports(
    kind: str, reports: Sequence[Report], rubric: Rubric, out_dir: Path, roster: Roster | None = None
) -> Path:
    """Write one export into ``out_dir`` and return what was written.

    ``canvas`` → ``canvas.csv``; ``moodle`` → ``moodle.csv`` (both need ``roster``);
    ``gradescope`` → ``results.json`` for one submission (what an autograder writes to
    ``/autograder/results/``), or ``gradescope/<stem>.json`` per submission for several, in
    which case the folder is returned. Raises ``RosterError`` when the roster cannot serve.
    """
    if kind == "canvas":
        path = out_dir / "canvas.csv"
        write_text_atomic(path, canvas_csv(reports, rubric, roster))
        return path
    if kind == "moodle":
        path = out_dir / "moodle.csv"
        write_text_atomic(path, moodle_csv(reports, rubric, roster))
        return path
    if kind == "gradescope":
        if len(reports) == 1:
            path = out_dir / "results.json"
            write_text_atomic(path, gradescope_json(reports[0], rubric))
            return path
        folder = out_dir / "gradescope"
        folder.mkdir(parents=True, exist_ok=True)
        for report in sorted(reports, key=lambda r: r.submission):
            write_text_atomic(
                folder / f"{Path(report.submission).stem}.json", gradescope_json(report, rubric)
            )
        return folder
    raise ValueError(f"unknown export {kind!r}; use one of {', '.join(EXPORT_KINDS)}")
