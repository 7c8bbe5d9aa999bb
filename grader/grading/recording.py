"""A batch writes into the gradebook store as each submission settles, then the class files.

Each submission is one transaction, so a batch killed at any instant leaves whole rows only; a
regrade reports which earlier decisions were kept (same answer) and which were flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from grader.errors import Problem
from grader.gradebook.book import Gradebook, open_gradebook
from grader.gradebook.models import GradebookRow, RecordOutcome
from grader.gradebook.store import GradebookError
from grader.reports.gradebook import write_class_files, write_pages
from grader.reports.roster import Roster
from grader.rubric.models import Rubric
from grader.scoring.models import Report

__all__ = ["BatchRecorder"]

_NOT_RECORDED = frozenset({"batch.duplicate_name"})  # another file owns that name in the store


class BatchRecorder:
    def __init__(
        self,
        location: str | Path,
        rubric: Rubric,
        rubric_sha256: str,
        out: Path,
        *,
        show_reference: bool,
        roster: Roster | None,
        html: bool,
    ) -> None:
        self.book: Gradebook = open_gradebook(location, keep_reports=True)
        self.assignment = self.book.set_assignment(rubric, rubric_sha256, show_reference=show_reference)
        self.out, self.roster, self.html = out, roster, html
        self.outcomes: list[RecordOutcome] = []
        self.failed: list[str] = []

    def record(self, path: Path, report: Report | None, problems: Sequence[Problem]) -> None:
        """Record one settled submission; a store that fails costs a message, not the batch."""
        try:
            self._record(path, report, problems)
        except SQLAlchemyError as error:
            self.failed.append(f"{path.name}: {getattr(error, 'orig', None) or error}")

    def _record(self, path: Path, report: Report | None, problems: Sequence[Problem]) -> None:
        name = report.submission if report is not None else path.name
        entry = self.roster.lookup(name) if self.roster is not None else None
        student = {
            "student_id": entry.student_id if entry is not None else "",
            "student_name": entry.name if entry is not None else "",
            "roster": entry.identifiers() if entry is not None else None,
        }
        if report is not None:
            outcome = self.book.record_report(self.assignment, report, path=str(path), **student)  # type: ignore[arg-type]
            if self.html and (outcome.kept or outcome.flagged):
                write_pages(self.book, self.assignment, self.out, [name], roster=self.roster)
        elif any(p.code in _NOT_RECORDED for p in problems):
            return
        else:
            reason = "; ".join(f"{p.message} ({p.fix})" if p.fix else p.message for p in problems) or "no report"
            outcome = self.book.record_unreadable(self.assignment, name, reason=reason, path=str(path), **student)  # type: ignore[arg-type]
        if outcome.kept or outcome.flagged:
            self.outcomes.append(outcome)

    def finish(self) -> list[GradebookRow]:
        rows = write_class_files(self.book, self.assignment, self.out, roster=self.roster, html=self.html)
        if self.failed:
            raise GradebookError(
                [
                    Problem(
                        code="gradebook.not_recorded",
                        message=f"{len(self.failed)} submission(s) could not be recorded in the gradebook (first: {self.failed[0]})",
                        fix="their reports are written; free the store (disk space, a lock) and run again with --resume",
                    )
                ]
            )
        return rows

    def close(self) -> None:
        self.book.close()
