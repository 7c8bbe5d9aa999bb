"""Per-question results and the report of one submission: the JSON report's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.answers.models import Mapping
from grader.checking.result import PartResult

QuestionStatus = Literal["correct", "partial", "incorrect", "missing", "needs_review", "error"]


class QuestionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str = ""
    score: float
    max_score: float
    status: QuestionStatus
    feedback: list[str] = Field(default_factory=list)
    answer_lines: tuple[int, int] | None = Field(default=None, description="first and last line of the answer")
    located: Mapping | None = Field(default=None, description="how the answer was found in the file, and how sure that is")
    parts: list[PartResult]


class Report(BaseModel):
    """One graded submission. Field names are stable: scripts and gradebooks read them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    submission: str
    rubric: str
    grader_version: str
    submission_sha256: str
    rubric_sha256: str
    score: float
    max_score: float
    status: Literal["graded", "needs_review"]
    questions: list[QuestionResult]
    warnings: list[str] = Field(default_factory=list)
