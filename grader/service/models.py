"""What the service's store hands the web layer and what the JSON API returns: frozen models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.errors import Problem
from grader.gradebook.models import Cluster, QueueItem

SubmissionState = Literal["queued", "running", "graded", "unreadable"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AssignmentInfo(Frozen):
    id: str
    title: str
    rubric: str = Field(description="the rubric's assignment id")
    rubric_sha256: str
    source: str = Field(description="the rubric folder on the server, or 'upload'")
    questions: list[str]
    max_score: float
    has_roster: bool = False


class SubmissionInfo(Frozen):
    id: int
    assignment_id: str
    name: str
    student: str = ""
    sha256: str
    size: int
    state: SubmissionState
    score: float | None = None
    max_score: float | None = None
    status: str | None = Field(default=None, description="the report's status: graded or needs_review (after decisions)")
    problems: list[Problem] = Field(default_factory=list, description="why an unreadable submission has no report")


class UploadResult(Frozen):
    submissions: list[SubmissionInfo] = Field(description="every file recorded, or found already recorded with the same bytes")
    already_received: list[int] = Field(default_factory=list, description="ids of submissions uploaded before with the same name and bytes")
    problems: list[Problem] = Field(default_factory=list, description="entries refused, each with what to do")
    skipped: list[str] = Field(default_factory=list, description="archive entries that are not submissions")


class Progress(Frozen):
    assignment_id: str
    total: int
    queued: int
    running: int
    graded: int
    unreadable: int
    needs_review: int

    @property
    def done(self) -> bool:
        return self.queued == 0 and self.running == 0


class PartFeedback(Frozen):
    id: str
    kind: str
    status: str
    score: float
    max_score: float
    feedback: list[str]


class QuestionFeedback(Frozen):
    id: str
    title: str
    status: str
    score: float
    max_score: float
    answer_lines: tuple[int, int] | None = None
    feedback: list[str]
    parts: list[PartFeedback]


class CheckResult(Frozen):
    """A student's self-check: the feedback of ``grader check`` from the sealed rubric, no references."""

    assignment_id: str
    score: float
    max_score: float
    questions: list[QuestionFeedback]
    warnings: list[str] = Field(default_factory=list)
    skipped_parts: list[str] = Field(default_factory=list)
    attempts_left: int


class CheckRequest(Frozen):
    """Either a whole answer file (``text``), or one answer to one question (LaTeX or calculator syntax)."""

    text: str | None = Field(default=None, max_length=2_000_000, description="the whole answer file (Markdown with LaTeX)")
    question: str | None = Field(default=None, max_length=100)
    part: str | None = Field(default=None, max_length=100)
    latex: str | None = Field(default=None, max_length=20_000)
    calc: str | None = Field(default=None, max_length=20_000, description="calculator syntax, e.g. (1-p)/p")


class AttemptInfo(Frozen):
    id: int
    at: float
    student: str
    kind: str
    question: str | None
    outcome: str
    score: float | None
    max_score: float | None


class ReviewQueue(Frozen):
    """The gradebook's review queue of one assignment: ITEMs (parts of submissions), or clusters of identical answers."""

    assignment_id: str
    by: Literal["question", "cluster"]
    items: list[QueueItem] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    open: int = Field(description="ITEMs waiting for a person (pending, or flagged by a regrade)")


class DecisionRequest(Frozen):
    """What ``grader review accept|override|undo`` takes: ITEMs, or a cluster (named by its first ITEM)."""

    action: Literal["accept", "override", "undo"]
    items: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(default_factory=list, max_length=10_000, description="ITEM numbers from the review queue")
    cluster: int | None = Field(default=None, ge=1, le=2**62, description="a cluster's number: every undecided ITEM in it")
    score: float | None = Field(default=None, ge=0, le=1e9, description="override: the points given")
    comment: str = Field(default="", max_length=5000, description="why (required for an override; the student sees it)")


class TokenRequest(Frozen):
    role: Literal["instructor", "student", "bot"]
    subject: str = Field(min_length=1, max_length=200, description="who holds it: a student's name or id, a bot's name")
    assignment_id: str | None = Field(default=None, max_length=64, description="students: the assignment it opens")


class TokenIssued(Frozen):
    token: str = Field(description="shown once; keep it secret")
    role: str
    subject: str
    assignment_id: str | None


class AssignmentRequest(Frozen):
    """A rubric folder under the server's rubrics root, or a rubric's TOML text."""

    rubric_path: str | None = Field(default=None, max_length=500)
    rubric_toml: str | None = Field(default=None, max_length=5_000_000)
    title: str | None = Field(default=None, max_length=200)


class ErrorBody(Frozen):
    detail: str
    problems: list[Problem] = Field(default_factory=list)


