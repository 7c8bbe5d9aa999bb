"""The gradebook: assignments, submissions, part results, review decisions, final scores.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rubric_id", sa.String(200), nullable=False, unique=True),
        sa.Column("rubric_sha256", sa.String(64), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("rubric_json", sa.Text, nullable=False),
        sa.Column("show_reference", sa.Boolean, nullable=False),
        sa.Column("canvas_assignment_id", sa.String(64), nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), nullable=False, index=True),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rubric_sha256", sa.String(64), nullable=False),
        sa.Column("grader_version", sa.String(64), nullable=False),
        sa.Column("student_id", sa.Text, nullable=False),
        sa.Column("student_name", sa.Text, nullable=False),
        sa.Column("roster_json", sa.Text, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("report_json", sa.Text, nullable=True),
        sa.Column("graded_at", _WHEN, nullable=False),
        sa.UniqueConstraint("assignment_id", "file_name"),
    )
    op.create_table(
        "part_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("part_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("question_max", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("proposed_score", sa.Float, nullable=True),
        sa.Column("answer_key", sa.Text, nullable=False),
        sa.Column("answer_text", sa.Text, nullable=False),
        sa.Column("feedback_json", sa.Text, nullable=False),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.Column("reasons_json", sa.Text, nullable=False),
        sa.UniqueConstraint("submission_id", "question_id", "part_id"),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("question_id", sa.Text, nullable=False),
        sa.Column("part_id", sa.Text, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("action_group", sa.String(40), nullable=False, index=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("from_score", sa.Float, nullable=True),
        sa.Column("max_score", sa.Float, nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("reviewer", sa.Text, nullable=False),
        sa.Column("decided_at", _WHEN, nullable=False),
        sa.Column("answer_key", sa.Text, nullable=False),
        sa.Column("answer_text", sa.Text, nullable=False),
        sa.Column("undoes_id", sa.Integer, sa.ForeignKey("review_decisions.id"), nullable=True),
    )
    op.create_table(
        "final_scores",
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), primary_key=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("max_score", sa.Float, nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("pending", sa.Integer, nullable=False),
        sa.Column("flagged", sa.Integer, nullable=False),
        sa.Column("reviewed", sa.Integer, nullable=False),
        sa.Column("reviewers", sa.Text, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("final_scores", "review_decisions", "part_results", "submissions", "assignments"):
        op.drop_table(table)
