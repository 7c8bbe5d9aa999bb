"""The gradebook's tables (SQLAlchemy 2.x). The schema itself is created by the migrations.

Rows are never deleted by a review: a decision is undone by a newer ``undo`` row, and a
regrade updates a part's result in place (its id, the ITEM a person types, stays).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AssignmentRow(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rubric_id: Mapped[str] = mapped_column(String(200), unique=True)
    rubric_sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    max_score: Mapped[float] = mapped_column(Float)
    rubric_json: Mapped[str] = mapped_column(Text)
    show_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    canvas_assignment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubmissionRow(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment_id", "file_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    file_name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    rubric_sha256: Mapped[str] = mapped_column(String(64), default="")
    grader_version: Mapped[str] = mapped_column(String(64), default="")
    student_id: Mapped[str] = mapped_column(Text, default="")
    student_name: Mapped[str] = mapped_column(Text, default="")
    roster_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # graded | needs_review | unreadable
    reason: Mapped[str] = mapped_column(Text, default="")
    report_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    graded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PartRow(Base):
    __tablename__ = "part_results"
    __table_args__ = (UniqueConstraint("submission_id", "question_id", "part_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    question_id: Mapped[str] = mapped_column(Text)
    part_id: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    question_max: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    proposed_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    answer_key: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    feedback_json: Mapped[str] = mapped_column(Text, default="[]")
    evidence_json: Mapped[str] = mapped_column(Text, default="{}")
    reasons_json: Mapped[str] = mapped_column(Text, default="[]")


class DecisionRow(Base):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    question_id: Mapped[str] = mapped_column(Text)
    part_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(10))  # accept | override | undo
    action_group: Mapped[str] = mapped_column(String(40), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    from_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answer_key: Mapped[str] = mapped_column(Text, default="")
    answer_text: Mapped[str] = mapped_column(Text, default="")
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("review_decisions.id"), nullable=True)


class FinalScoreRow(Base):
    __tablename__ = "final_scores"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float] = mapped_column(Float)
    provisional: Mapped[bool] = mapped_column(Boolean)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    reviewed: Mapped[int] = mapped_column(Integer, default=0)
    reviewers: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
