"""Alembic migrations of the gradebook store, run on open (never by hand)."""
