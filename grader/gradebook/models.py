"""What the gradebook hands to the CLI, the web service and the exports: frozen data."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.scoring.models import Report

ItemState = Literal["pending", "decided", "flagged", "automatic"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AssignmentInfo(_Frozen):
    id: int
    rubric_id: str
    rubric_sha256: str
    title: str
    max_score: float
    canvas_assignment_id: str | None = None
    show_reference: bool = False


class Decision(_Frozen):
    """One row of a part's review history: accept, override, or undo of an earlier row."""

    id: int
    item: int | None = Field(description="the part's ITEM id (None when the part is gone from the rubric)")
    submission: str
    question: str
    part: str
    action: Literal["accept", "override", "undo"]
    score: float | None
    from_score: float | None
    comment: str = ""
    reviewer: str
    decided_at: datetime
    answer: str = Field(default="", description="the answer the decision was made for")
    undoes: int | None = None


class ReviewNote(_Frozen):
    """How a person's decision stands on a part now; what pages and exports show."""

    state: Literal["decided", "flagged"]
    score: float
    from_score: float | None
    reviewer: str
    decided_at: datetime
    comment: str = ""
    answer: str = ""


class QueueItem(_Frozen):
    """One part of one submission in the review queue (or any part, when asked for by ITEM)."""

    item: int
    submission: str
    student: str = ""
    question: str
    part: str
    state: ItemState
    status: str
    verdict: str
    method: str
    score: float = Field(description="the points the part has now (the decision's, or the proposed)")
    proposed_score: float | None
    max_score: float
    answer: str
    cluster: int = Field(description="the first ITEM with the same question, part and normalised answer")
    reasons: list[str] = Field(default_factory=list)
    note: ReviewNote | None = None


class Cluster(_Frozen):
    """Identical normalised answers to one part: decide once, apply to everyone who wrote it."""

    cluster: int
    question: str
    part: str
    answer: str
    max_score: float
    items: list[QueueItem]


class ItemDetail(_Frozen):
    item: QueueItem
    feedback: list[str] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    history: list[Decision] = Field(default_factory=list)
    same_answer: list[int] = Field(default_factory=list, description="other ITEMs in its cluster")


class RecordOutcome(_Frozen):
    """What recording one graded (or unreadable) submission did to earlier decisions."""

    submission: str
    kept: list[QueueItem] = Field(default_factory=list)
    flagged: list[QueueItem] = Field(default_factory=list)


class GradebookRow(_Frozen):
    """One submission as the gradebook stands: what every export is made from."""

    submission: str
    path: str = ""
    student_id: str = ""
    student_name: str = ""
    roster: dict[str, str] = Field(default_factory=dict)
    status: Literal["graded", "needs_review", "unreadable"]
    reason: str = ""
    score: float | None
    max_score: float
    provisional: bool
    pending: int = 0
    flagged: int = 0
    reviewed: int = 0
    reviewers: list[str] = Field(default_factory=list)
    questions: dict[str, float] = Field(default_factory=dict)
    report: Report | None = Field(default=None, description="the report with every decision applied")
    notes: dict[str, ReviewNote] = Field(default_factory=dict, description="by 'question/part'")
