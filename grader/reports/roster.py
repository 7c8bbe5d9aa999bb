"""The roster: which student a submission file belongs to, for gradebook exports.

A CSV file with a header row. One column names the submission (``submission`` or ``file``:
the file name, its stem, or its path as given to ``grader grade``); the others are the
identifiers gradebooks match on. Header names are read case-insensitively, with spaces,
hyphens and underscores alike, so a column copied from a Canvas or Moodle export
("SIS User ID", "Email address", "ID number") is understood as is::

    submission,name,id,sis_user_id,sis_login_id,section,email,id_number,username
    alice.md,"Liddell, Alice",1001,S1001,aliddell,Section 1,alice@example.edu,S1001,aliddell
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

from pydantic import BaseModel, ConfigDict

from grader._internal.safe_text import FORMULA_TRIGGERS
from grader.errors import GraderError, Problem

__all__ = [
    "CANVAS_IDENTIFIERS",
    "MOODLE_FIELDS",
    "MOODLE_IDENTIFIERS",
    "Roster",
    "RosterEntry",
    "RosterError",
    "load_roster",
    "moodle_identifier",
    "parse_roster",
]

_COLUMNS = {
    "submission": "submission",
    "file": "submission",
    "filename": "submission",
    "name": "name",
    "student": "name",
    "student_name": "name",
    "id": "canvas_id",
    "canvas_id": "canvas_id",
    "canvas_user_id": "canvas_id",
    "sis_user_id": "sis_user_id",
    "sis_login_id": "sis_login_id",
    "login_id": "sis_login_id",
    "section": "section",
    "email": "email",
    "email_address": "email",
    "id_number": "id_number",
    "idnumber": "id_number",
    "username": "username",
}


#: Canvas matches a row on any one of these; Moodle on one column every row has filled in.
CANVAS_IDENTIFIERS = ("canvas_id", "sis_user_id", "sis_login_id")
MOODLE_FIELDS = ("email", "id_number", "username")
_IDENTIFIER_FIELDS = ("canvas_id", "sis_user_id", "sis_login_id", "email", "id_number", "username")


class RosterError(GraderError):
    """The roster cannot be used; the instructor must fix the file or the submissions."""


class RosterEntry(BaseModel):
    """One student; every identifier is optional, the exports say which ones they need."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    submission: str
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    id_number: str = ""
    username: str = ""

    @property
    def student_id(self) -> str:
        """The id a person reads in ``grades.csv``: the institution's before the LMS's."""
        return next(
            (v for v in (self.sis_user_id, self.id_number, self.canvas_id, self.sis_login_id, self.username, self.email) if v),
            "",
        )

    def identifiers(self) -> dict[str, str]:
        """Every filled-in field, for the gradebook store (exports made later need them)."""
        return {k: v for k, v in self.model_dump().items() if v}


def _keys(name: str) -> list[str]:
    """How a submission may be named: the path as written, its file name, its stem."""
    keys = [name.strip()]
    for pure in (PurePosixPath(name.strip()), PureWindowsPath(name.strip())):
        keys += [pure.name, pure.stem]
    return list(dict.fromkeys(k for k in keys if k))


class Roster(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = ""
    entries: tuple[RosterEntry, ...] = ()

    def lookup(self, submission: str) -> RosterEntry | None:
        """The entry for a report's ``submission`` (a file name), matched by name or stem."""
        wanted = set(_keys(submission))
        matches = [e for e in self.entries if wanted & set(_keys(e.submission))]
        exact = [e for e in matches if PurePosixPath(e.submission.strip()).name == submission]
        if len(exact) == 1:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def check(self, submissions: Iterable[str], exports: Iterable[str]) -> None:
        """Before grading: every submission has one row, with what each export needs; else one error."""
        needs = {"canvas": CANVAS_IDENTIFIERS, "moodle": MOODLE_FIELDS}
        problems: list[Problem] = []
        names = list(submissions)
        for export in dict.fromkeys(exports):
            fields = needs.get(export)
            if fields is None:
                continue
            try:
                found = self.require(names, fields=fields, export=export)
            except RosterError as error:
                problems += [p for p in error.problems if p not in problems]
                continue
            if export == "moodle" and moodle_identifier(found.values()) is None:
                problems.append(no_common_identifier(self.source))
        if not any(needs.get(e) for e in exports):
            problems += [
                Problem(
                    code="roster.no_entry",
                    message=f"submission {name!r} has no roster entry (or more than one)",
                    file=self.source or None,
                    fix="add one row whose 'submission' column is the file name",
                )
                for name in sorted(set(names))
                if self.lookup(name) is None
            ]
        if problems:
            raise RosterError(problems)

    def require(
        self, submissions: Iterable[str], *, fields: tuple[str, ...], export: str
    ) -> dict[str, RosterEntry]:
        """Every submission's entry, each with at least one of ``fields``; else one error listing them all."""
        found: dict[str, RosterEntry] = {}
        problems: list[Problem] = []
        for submission in sorted(set(submissions)):
            entry = self.lookup(submission)
            if entry is None:
                problems.append(
                    Problem(
                        code="roster.no_entry",
                        message=f"submission {submission!r} has no roster entry (or more than one)",
                        file=self.source or None,
                        fix="add one row whose 'submission' column is the file name",
                    )
                )
            elif not any(getattr(entry, f) for f in fields):
                problems.append(
                    Problem(
                        code="roster.no_identifier",
                        message=f"the roster row of {submission!r} has none of the columns the {export} export needs ({', '.join(fields)})",
                        file=self.source or None,
                        fix=f"fill in one of: {', '.join(fields)}",
                    )
                )
            else:
                found[submission] = entry
        if problems:
            raise RosterError(problems)
        return found


#: Moodle's "Import grades > CSV file" maps one identifier column to a user field.
MOODLE_IDENTIFIERS = (("Email address", "email"), ("ID number", "id_number"), ("Username", "username"))


def moodle_identifier(entries: Iterable[RosterEntry]) -> tuple[str, str] | None:
    """(header, field) of the first identifier every entry has filled in."""
    listed = list(entries)
    return next(((h, f) for h, f in MOODLE_IDENTIFIERS if all(getattr(e, f) for e in listed)), None)


def no_common_identifier(source: str) -> Problem:
    return Problem(
        code="roster.no_common_identifier",
        message="no identifier column (email, id_number, username) is filled in for every student",
        file=source or None,
        fix="fill in one of these columns for every roster row",
    )


def _column(header: str) -> str | None:
    normal = re.sub(r"[\s\-]+", "_", header.strip().lower()).strip("_")
    return _COLUMNS.get(normal)


def parse_roster(text: str, *, source: str = "") -> Roster:
    """Parse roster CSV text; unknown columns are ignored, missing or repeated keys are errors."""

    def problem(message: str, fix: str, code: str = "roster.invalid") -> RosterError:
        return RosterError([Problem(code=code, message=message, file=source or None, fix=fix)])

    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise problem(
            "the roster is empty", "write a header row (submission,name,...) and one row per student"
        )
    header = [_column(cell) for cell in rows[0]]
    if "submission" not in header:
        raise problem(
            "the roster has no 'submission' column",
            "name the column holding the submission file names 'submission'",
        )
    repeated = sorted({c for c in header if c is not None and header.count(c) > 1})
    if repeated:
        raise problem(
            f"the roster has more than one column for {', '.join(repeated)}", "keep one column each"
        )
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {c: row[k].strip() for k, c in enumerate(header) if c is not None and k < len(row)}
        submission = values.get("submission", "")
        if not submission:
            raise problem(
                f"row {number} has no submission file name", "fill in the 'submission' column of every row"
            )
        if submission in seen:
            raise problem(
                f"row {number} repeats submission {submission!r} (first on row {seen[submission]})",
                "keep one row per submission",
            )
        seen[submission] = number
        hostile = [c for c in _IDENTIFIER_FIELDS if values.get(c, "").startswith(FORMULA_TRIGGERS)]
        if hostile:
            raise problem(
                f"row {number} has an identifier that a spreadsheet would run as a formula ({hostile[0]}: {values[hostile[0]]!r})",
                "identifiers never start with =, +, -, @ or a tab: copy them from the LMS's own export",
            )
        entries.append(RosterEntry(**values))
    return Roster(source=source, entries=tuple(entries))


def load_roster(path: Path) -> Roster:
    """Read a roster file (UTF-8, with or without a byte-order mark)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(
            [
                Problem(
                    code="roster.unreadable",
                    message=f"cannot read the roster: {exc}",
                    file=str(path),
                    fix="pass a UTF-8 CSV file",
                )
            ]
        ) from None
    return parse_roster(text, source=str(path))
