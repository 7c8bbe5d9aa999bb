"""Gradebook exports made from the store: Canvas and Moodle import CSVs, a Gradescope autograder.

Each carries the *final* score of a submission: the machine's where it decided, a person's where
they reviewed. A submission still waiting for review is provisional and is held back from the
LMS files unless ``include_provisional``; an unreadable one is held back too (with its reason,
in ``grades.csv`` and in what the CLI prints). Held back means *absent*, not blank: Moodle reads
an empty grade cell as "no grade" and would erase a grade entered by hand (Moodle's
``gradeimport_csv_load_data::update_grade_item``), so an import file only ever says what is known.

Canvas and Moodle match rows to students by identifiers the submissions do not carry, so those
two need the roster (stored with each submission when graded, or passed again). Every cell goes
through ``csv_cell`` (no spreadsheet formulas). Exports never contain references.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from grader._internal.safe_text import csv_row
from grader.errors import GraderError, Problem
from grader.gradebook.models import GradebookRow, ReviewNote
from grader.reports.html import points, write_text_atomic
from grader.reports.roster import (
    CANVAS_IDENTIFIERS,
    MOODLE_FIELDS,
    Roster,
    RosterEntry,
    RosterError,
    moodle_identifier,
    no_common_identifier,
)
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report

__all__ = [
    "CANVAS_COLUMNS",
    "EXPORT_KINDS",
    "ExportKind",
    "ExportResult",
    "Held",
    "canvas_csv",
    "gradescope_autograder",
    "gradescope_json",
    "gradescope_results",
    "moodle_csv",
    "write_exports",
]

ExportKind = Literal["canvas", "moodle", "gradescope"]
EXPORT_KINDS: tuple[str, ...] = get_args(ExportKind)

# Canvas's own gradebook export starts with these columns, then one column per assignment named
# "Name (assignment id)": with the id Canvas updates that assignment, without it makes a new one.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "    Points Possible"
GRADESCOPE_ZIP = "gradescope_autograder.zip"


@dataclass(frozen=True, slots=True)
class Held:
    """A submission left out of an import file, and why."""

    submission: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    written: int
    held: tuple[Held, ...] = ()


def _export_error(code: str, message: str, fix: str) -> GraderError:
    return GraderError([Problem(code=code, message=message, fix=fix)])


def _writer() -> tuple[io.StringIO, Any]:
    out = io.StringIO()
    return out, csv.writer(out, lineterminator="\n")


def _entry(row: GradebookRow, roster: Roster | None) -> RosterEntry | None:
    if roster is not None:
        return roster.lookup(row.submission)
    return RosterEntry(submission=row.submission, **{k: v for k, v in row.roster.items() if k != "submission"}) if row.roster else None


def _entries(rows: Sequence[GradebookRow], roster: Roster | None, fields: tuple[str, ...], export: str) -> dict[str, RosterEntry]:
    """Every row's roster entry with one of ``fields``; else one error listing every row at fault."""
    found: dict[str, RosterEntry] = {}
    problems: list[Problem] = []
    for row in rows:
        entry = _entry(row, roster)
        if entry is None:
            problems.append(
                Problem(
                    code="roster.no_entry" if roster is not None or row.roster else "roster.missing",
                    message=f"submission {row.submission!r} has no roster entry, so the {export} export cannot name its student",
                    file=roster.source if roster is not None and roster.source else None,
                    fix="pass --roster FILE (a CSV with a 'submission' column and the students' identifiers)",
                )
            )
        elif not any(getattr(entry, f) for f in fields):
            problems.append(
                Problem(
                    code="roster.no_identifier",
                    message=f"the roster row of {row.submission!r} has none of the columns the {export} export needs ({', '.join(fields)})",
                    fix=f"fill in one of: {', '.join(fields)}",
                )
            )
        else:
            found[row.submission] = entry
    if problems:
        raise RosterError(problems)
    return found


def _sendable(rows: Sequence[GradebookRow], include_provisional: bool) -> tuple[list[GradebookRow], list[Held]]:
    sent: list[GradebookRow] = []
    held: list[Held] = []
    for row in rows:
        if row.status == "unreadable" or row.score is None:
            held.append(Held(row.submission, f"unreadable: {row.reason}" if row.reason else "not graded"))
        elif row.provisional and not include_provisional:
            waiting = row.pending + row.flagged
            held.append(Held(row.submission, f"provisional: {waiting} part(s) wait for a person's review"))
        else:
            sent.append(row)
    return sent, held


def canvas_csv(
    rows: Sequence[GradebookRow],
    rubric: Rubric,
    *,
    assignment_id: str,
    roster: Roster | None = None,
    include_provisional: bool = False,
) -> tuple[str, list[Held]]:
    """Canvas's Gradebook import: the assignment column is ``"Title (assignment id)"``."""
    if not re.fullmatch(r"[0-9]+", assignment_id or ""):
        raise _export_error(
            "export.canvas_assignment_id",
            f"the Canvas export needs the assignment's Canvas id (a number), not {assignment_id!r}",
            "pass --canvas-assignment-id N: N is the number after /assignments/ in the assignment's Canvas address",
        )
    sent, held = _sendable(rows, include_provisional)
    entries = _entries(sent, roster, CANVAS_IDENTIFIERS, "canvas")
    out, writer = _writer()
    writer.writerow(csv_row([*CANVAS_COLUMNS, f"{rubric.assignment.title} ({assignment_id})"]))
    writer.writerow(csv_row([CANVAS_POINTS_ROW, "", "", "", "", points(rubric.max_score)]))
    for row in sorted(sent, key=lambda r: (entries[r.submission].name, r.submission)):
        entry = entries[row.submission]
        assert row.score is not None
        writer.writerow(csv_row([entry.name, entry.canvas_id, entry.sis_user_id, entry.sis_login_id, entry.section, points(row.score)]))
    return out.getvalue(), held


def feedback_text(row: GradebookRow) -> str:
    """One paragraph for the LMS: per-question points, the reviewers and their comments."""
    report = row.report
    if report is None:
        return row.reason
    parts = [f"{q.id}: {points(q.score)}/{points(q.max_score)}" for q in report.questions]
    text = f"{points(report.score)}/{points(report.max_score)} points ({'; '.join(parts)})."
    comments = [f"{key.replace('/', ' ')}: {note.comment}" for key, note in sorted(row.notes.items()) if note.state == "decided" and note.comment]
    if row.reviewers:
        text += f" Reviewed by {', '.join(row.reviewers)}."
    if comments:
        text += " " + " ".join(c if c.endswith(".") else c + "." for c in comments)
    if row.provisional:
        text += " Provisional: some parts still wait for a person's review."
    return text


def moodle_csv(
    rows: Sequence[GradebookRow],
    rubric: Rubric,
    *,
    roster: Roster | None = None,
    include_provisional: bool = False,
) -> tuple[str, list[Held]]:
    """An identifier column (the first of email, ID number, username every row has), the grade, the feedback."""
    sent, held = _sendable(rows, include_provisional)
    entries = _entries(sent, roster, MOODLE_FIELDS, "moodle")
    identifier = moodle_identifier(entries.values())
    if identifier is None:
        raise RosterError([no_common_identifier(roster.source if roster is not None else "")])
    header, field = identifier
    title = rubric.assignment.title
    out, writer = _writer()
    writer.writerow(csv_row([header, title, f"{title} feedback"]))
    for row in sorted(sent, key=lambda r: (entries[r.submission].name, r.submission)):
        assert row.score is not None
        writer.writerow(csv_row([getattr(entries[row.submission], field), points(row.score), feedback_text(row)]))
    return out.getvalue(), held


# ---------------------------------------------------------------------------------- Gradescope


def _question_output(question: QuestionResult, notes: Mapping[str, ReviewNote]) -> str:
    lines: list[str] = []
    if question.status in ("needs_review", "error"):
        lines.append("Needs a person's review: the points are proposed, not final.")
    for part in question.parts:
        prefix = f"[{part.id}] " if len(question.parts) > 1 else ""
        label = "partial credit" if part.status == "partial" else part.status.replace("_", " ")
        lines.append(f"{prefix}{label}: {points(part.score)} / {points(part.max_score)}")
        note = notes.get(f"{question.id}/{part.id}")
        if note is not None and note.state == "decided":
            lines.append(f"{prefix}reviewed by {note.reviewer}" + (f": {note.comment}" if note.comment else ""))
        extracted = part.extracted
        if extracted is not None and extracted.line is not None and extracted.latex and part.status != "correct":
            lines.append(f"{prefix}read line {extracted.line}: {extracted.latex}")
        lines.extend(f"{prefix}{message}" for message in part.feedback)
        if part.status in ("needs_review", "error"):
            lines.extend(f"{prefix}{reason}" for reason in part.reasons)
    return "\n".join(lines)


def _test_status(question: QuestionResult) -> str:
    """Gradescope marks a test below its maximum as failing unless told: partial credit passes."""
    return "passed" if question.score > 0 or question.max_score == 0 else "failed"


def gradescope_results(report: Report, rubric: Rubric, notes: Mapping[str, ReviewNote] | None = None) -> dict[str, Any]:
    """Gradescope's ``results.json``: one test per question; provisional ones ``after_published``.

    Gradescope hides the total from students while any test is hidden, so a provisional score
    is never shown before the instructor publishes the grades.
    """
    reviewed = notes or {}
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
                "status": _test_status(q),
                "output": _question_output(q, reviewed),
                "output_format": "text",
                "visibility": "after_published" if q.id in provisional else "visible",
            }
            for q in report.questions
        ],
    }


def gradescope_json(report: Report, rubric: Rubric, notes: Mapping[str, ReviewNote] | None = None) -> str:
    return json.dumps(gradescope_results(report, rubric, notes), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


_SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu): install grader.
set -euo pipefail
apt-get install -y python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install /autograder/source/grader_src
"""

_RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes /autograder/results/results.json.
exec /autograder/venv/bin/python /autograder/source/grade_submission.py
"""

_GRADE_SUBMISSION = '''"""Grade /autograder/submission with the bundled rubric; write /autograder/results/results.json.

A submission the instructor has reviewed (same bytes, see gradebook.json) gets the reviewed
result; anything else is graded here, provisional questions hidden until grades are published.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("GRADER_AUTOGRADER_ROOT", "/autograder"))
SOURCE = ROOT / "source"
SUFFIXES = (".md", ".markdown", ".txt", ".tex")


def write(results):
    out = ROOT / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, sort_keys=True) + "\\n", encoding="utf-8")


def main():
    files = sorted(p for p in (ROOT / "submission").rglob("*") if p.is_file() and not p.is_symlink() and p.suffix.lower() in SUFFIXES)
    if not files:
        write({"score": 0, "visibility": "after_published", "output": "No answer file (.md, .txt or .tex) was found in the submission; a person will look at it.", "tests": []})
        return 0
    reviewed = json.loads((SOURCE / "gradebook.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(files[0].read_bytes()).hexdigest()
    if digest in reviewed:
        write(reviewed[digest])
        return 0
    from grader.checking.lint import load_rubric
    from grader.errors import GraderError
    from grader.grading.pipeline import grade_file
    from grader.reports.exports import gradescope_results

    rubric = load_rubric(SOURCE / "rubric.json")
    try:
        report = grade_file(files[0], rubric, rubric_sha256=hashlib.sha256((SOURCE / "rubric.json").read_bytes()).hexdigest())
    except GraderError as error:
        reason = "; ".join(p.message + (" (" + p.fix + ")" if p.fix else "") for p in error.problems)
        write({"score": 0, "visibility": "after_published", "output": "The submission could not be read: " + reason, "tests": []})
        return 0
    write(gradescope_results(report, rubric))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _add(archive: zipfile.ZipFile, name: str, data: str | bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)


def _grader_source(archive: zipfile.ZipFile) -> None:
    """This grader's own package and a minimal ``pyproject.toml``, for setup.sh to pip-install."""
    package = Path(__file__).resolve().parents[1]
    kept = (".py", ".lark", ".j2", ".html", ".css", ".mako", ".typed")
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in kept and "__pycache__" not in path.parts:
            _add(archive, f"grader_src/grader/{path.relative_to(package).as_posix()}", path.read_bytes())
    try:
        meta = importlib.metadata.metadata("grader")
        requires = [r for r in (importlib.metadata.requires("grader") or []) if "extra ==" not in r]
        version = meta["Version"]
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        requires, version = [], "0"
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "grader"\nversion = "{version}"\nrequires-python = ">=3.11"\n'
        f"dependencies = {json.dumps(requires)}\n\n"
        '[tool.setuptools.packages.find]\ninclude = ["grader*"]\n\n'
        '[tool.setuptools.package-data]\ngrader = ["**/*.lark", "**/*.html", "**/*.j2", "**/*.css", "**/*.mako", "py.typed"]\n'
    )
    _add(archive, "grader_src/pyproject.toml", pyproject)


def gradescope_autograder(rows: Sequence[GradebookRow], rubric: Rubric, *, include_provisional: bool = False) -> bytes:
    """The autograder zip (Gradescope's spec: ``setup.sh`` and ``run_autograder`` at the root).

    ``gradebook.json`` maps each graded submission's SHA-256 to its results with every decision
    applied, so "Regrade all submissions" on Gradescope brings the reviewed scores over.
    """
    reviewed: dict[str, Any] = {}
    for row in rows:
        if row.report is None or (row.provisional and not include_provisional):
            continue
        reviewed[row.report.submission_sha256] = gradescope_results(row.report, rubric, row.notes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "setup.sh", _SETUP_SH, executable=True)
        _add(archive, "run_autograder", _RUN_AUTOGRADER, executable=True)
        _add(archive, "grade_submission.py", _GRADE_SUBMISSION)
        _add(archive, "rubric.json", rubric.model_dump_json(indent=2) + "\n")
        _add(archive, "gradebook.json", json.dumps(reviewed, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        _grader_source(archive)
    return buffer.getvalue()


def write_exports(
    kind: str,
    rows: Sequence[GradebookRow],
    rubric: Rubric,
    out_dir: Path,
    roster: Roster | None = None,
    *,
    canvas_assignment_id: str | None = None,
    include_provisional: bool = False,
) -> ExportResult:
    """Write one export into ``out_dir``: ``canvas.csv``, ``moodle.csv`` or ``gradescope_autograder.zip``.

    Raises ``RosterError`` when the roster cannot name every student sent, ``GraderError`` for a
    missing Canvas assignment id.
    """
    if kind == "canvas":
        text, held = canvas_csv(rows, rubric, assignment_id=canvas_assignment_id or "", roster=roster, include_provisional=include_provisional)
        path = out_dir / "canvas.csv"
        write_text_atomic(path, text)
        return ExportResult(path, len(rows) - len(held), tuple(held))
    if kind == "moodle":
        text, held = moodle_csv(rows, rubric, roster=roster, include_provisional=include_provisional)
        path = out_dir / "moodle.csv"
        write_text_atomic(path, text)
        return ExportResult(path, len(rows) - len(held), tuple(held))
    if kind == "gradescope":
        path = out_dir / GRADESCOPE_ZIP
        data = gradescope_autograder(rows, rubric, include_provisional=include_provisional)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        kept = sum(1 for r in rows if r.report is not None and (include_provisional or not r.provisional))
        held = [Held(r.submission, "graded on Gradescope when submitted there") for r in rows if r.report is None or (r.provisional and not include_provisional)]
        return ExportResult(path, kept, tuple(held))
    raise ValueError(f"unknown export {kind!r}; use one of {', '.join(EXPORT_KINDS)}")
