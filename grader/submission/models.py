"""What the submission stage hands to checkers and reports: frozen, line-numbered data.

Line numbers are 1-based lines of the file as read (after CRLF/CR became LF), so a report can
point a student at the exact place in their own file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.errors import Problem

SubmissionProblemCode = Literal[
    "submission.not_found",
    "submission.empty",
    "submission.binary",
    "submission.too_large",
    "submission.encoding",
]
ExtractionHow = Literal["target_equation", "boxed", "last_display", "last_formula", "prose", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Formula(_Frozen):
    """One piece of math found in the text; ``line`` is where its LaTeX begins, not its delimiter."""

    latex: str = Field(description="the content between the delimiters, whitespace-trimmed")
    line: int = Field(description="1-based line where the LaTeX starts")
    end_line: int = Field(description="1-based line where the LaTeX ends")
    display: bool = Field(description="display math ($$, \\[, equation-like environments) rather than inline")


class Answer(_Frozen):
    """One sub-question's answer as the student wrote it, with the question text kept apart."""

    question_id: str
    heading_line: int | None = Field(
        description="line of the marker such as '1.2' or '## 1.2'; None if not found"
    )
    start_line: int = Field(
        description="first line of the answer (after any 'Answer:'); 0 when no marker was found"
    )
    end_line: int = Field(description="last line of the answer; equals start_line for an empty answer")
    text: str = Field(description="the answer's raw text")
    prompt_text: str = Field(default="", description="question text between the marker and 'Answer:'")
    formulas: tuple[Formula, ...] = ()
    status: Literal["answered", "missing"]


class Submission(_Frozen):
    """A segmented submission: exactly one Answer per expected id, in the rubric's order."""

    path: str
    sha256: str = Field(
        description="hex digest of the file's bytes (of the text when segmented from a string)"
    )
    answers: dict[str, Answer]
    unassigned_text: str = Field(
        default="", description="text that belongs to no answer: preamble, question statements"
    )
    warnings: tuple[str, ...] = ()


class Extraction(_Frozen):
    """What was read from an answer for one rubric part, and a sentence saying how, for the report."""

    question_id: str
    part_id: str = ""
    how: ExtractionHow
    latex: str | None = Field(
        default=None, description="the extracted math, e.g. the right-hand side after the target"
    )
    text: str = Field(default="", description="the prose, or the whole formula the math came from")
    line: int | None = None
    formula: str | None = Field(default=None, description="the whole formula the math came from")
    description: str = ""


class SubmissionText(_Frozen):
    """A submission file that could be read, as LF-normalised text."""

    path: str
    text: str
    sha256: str = Field(description="hex digest of the file's bytes as stored")
    size_bytes: int
    warnings: tuple[str, ...] = ()


class SubmissionProblem(_Frozen):
    """Why a submission file cannot be read at all, worded for the student who must fix it."""

    code: SubmissionProblemCode
    path: str
    message: str = Field(description="what is wrong, one line")
    fix: str = Field(description="what the student should do, one line")

    def one_line(self) -> str:
        """``submissions/x.md: the file is empty; write your answers in Markdown and submit again``."""
        return f"{self.path}: {self.message}; {self.fix}"

    def to_problem(self) -> Problem:
        """The project-wide ``Problem`` (for ``SubmissionError`` and lint-style output)."""
        return Problem(code=self.code, message=self.message, file=self.path, fix=self.fix)
