"""Problems reported to people: a stable code, where it is, what is wrong, and how to fix it.

A ``Problem`` is data (it goes into reports and lint output); ``GraderError`` carries one or
more problems across the API boundary so the CLI can print them without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    question: str | None = None
    part: str | None = None
    field: str | None = None
    fix: str | None = None

    def one_line(self) -> str:
        """``file:line: question 1.2, part lambda, field reference: message; fix [code]``."""
        where = []
        if self.question:
            where.append(f"question {self.question}")
        if self.part:
            where.append(f"part {self.part}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = f"{self.file}{f':{self.line}' if self.line else ''}: " if self.file else ""
        located = f"{', '.join(where)}: " if where else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{prefix}{located}{self.message}{fix} [{self.code}]"


class GraderError(Exception):
    """Raised at stage boundaries when input cannot be used at all."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(p.one_line() for p in self.problems))


class RubricError(GraderError):
    """The rubric cannot be loaded: the rubric author must fix it."""


class SubmissionError(GraderError):
    """A submission cannot be read at all: the student must fix it."""
