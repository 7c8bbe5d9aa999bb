"""What the input stage hands on: a file's bytes and format, or why it cannot be used at all."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.errors import Problem

Format = Literal["markdown", "latex", "notebook", "docx", "text"]

#: Stable codes: the ``submission.*`` ones predate the input stage and keep their names.
InputProblemCode = Literal[
    "submission.not_found",
    "submission.empty",
    "submission.binary",
    "submission.too_large",
    "submission.encoding",
    "input.symlink",
    "input.unsupported_format",
    "input.unreadable_docx",
    "input.unreadable_notebook",
    "input.unreadable_latex",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubmissionText(_Frozen):
    """A submission file that could be opened: its text (LF line ends) or, for Word, its bytes."""

    path: str
    text: str = Field(description="the decoded text; empty for a binary format (docx)")
    sha256: str = Field(description="hex digest of the file's bytes as stored")
    size_bytes: int
    format: Format = "markdown"
    data: bytes = Field(default=b"", description="the raw bytes of a binary format (docx), else empty")
    warnings: tuple[str, ...] = ()


class SubmissionProblem(_Frozen):
    """Why a submission file cannot be read at all, worded for the student who must fix it."""

    code: InputProblemCode
    path: str
    message: str = Field(description="what is wrong, one line")
    fix: str = Field(description="what the student should do, one line")

    def one_line(self) -> str:
        """``submissions/x.md: the file is empty; write your answers in Markdown and submit again``."""
        return f"{self.path}: {self.message}; {self.fix}"

    def to_problem(self) -> Problem:
        """The project-wide ``Problem`` (for ``SubmissionError`` and lint-style output)."""
        return Problem(code=self.code, message=self.message, file=self.path, fix=self.fix)
