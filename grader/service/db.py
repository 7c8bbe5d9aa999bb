"""The service's tables: assignments, tokens, sessions, submissions with their jobs, self-check attempts.

Grading results, review decisions and exports live in the gradebook (``grader.gradebook``), in the
same database; these tables hold what only the service needs.

SQLAlchemy Core, so the same code runs on the default SQLite file and on PostgreSQL by URL.
Submissions keep their bytes here (the job table and the file commit together: an accepted
upload is never lost); reports are stored as the pipeline's JSON. SQLite runs in WAL mode with
a busy timeout, so the web threads and the job runner share the file safely.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

metadata = MetaData()

assignments = Table(
    "service_assignments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("rubric_id", String(200), nullable=False),
    Column("rubric_text", Text, nullable=False),
    Column("rubric_sha256", String(64), nullable=False),
    Column("prepared_json", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("roster_csv", Text),
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "service_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("subject", Text, nullable=False),
    Column("assignment_id", String(64), ForeignKey("service_assignments.id")),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "service_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("service_tokens.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

submissions = Table(
    "service_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment_id", String(64), ForeignKey("service_assignments.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("student", Text, nullable=False, default=""),
    Column("content", LargeBinary),
    Column("size", Integer, nullable=False),
    Column("current", Boolean, nullable=False, default=True),
    Column("state", String(20), nullable=False),  # queued | running | graded | unreadable
    Column("report_json", Text),
    Column("problems_json", Text),
    Column("created_at", Float, nullable=False),
    Column("graded_at", Float),
    UniqueConstraint("assignment_id", "name", "sha256", name="uq_service_submission_bytes"),
)

jobs = Table(
    "service_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("service_submissions.id"), nullable=False, unique=True),
    Column("state", String(20), nullable=False),  # queued | running | done
    Column("runner", String(200)),
    Column("lease_until", Float),
    Column("tries", Integer, nullable=False, default=0),
    Column("queued_at", Float, nullable=False),
    Column("finished_at", Float),
)

completions = Table(
    "service_completions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("service_submissions.id"), nullable=False),
    Column("runner", String(200), nullable=False),
    Column("at", Float, nullable=False),
)

attempts = Table(
    "service_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", Integer, ForeignKey("service_tokens.id"), nullable=False),
    Column("assignment_id", String(64), ForeignKey("service_assignments.id"), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(20), nullable=False),  # file | answer
    Column("question", Text),
    Column("input_sha256", String(64), nullable=False),
    Column("outcome", String(20), nullable=False),  # checked | refused | failed
    Column("score", Float),
    Column("max_score", Float),
    Column("client", Text, nullable=False, default=""),
)

Index("ix_service_jobs_state", jobs.c.state)
Index("ix_service_submissions_assignment", submissions.c.assignment_id, submissions.c.current)
Index("ix_service_attempts_token", attempts.c.token_id, attempts.c.at)


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a committed job survives a power cut, not only kill -9
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the service's tables created (a no-op when they exist)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine
