"""Alembic's entry point: always given an open connection by ``grader.gradebook.store``."""

from __future__ import annotations

from alembic import context

from grader.gradebook.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
