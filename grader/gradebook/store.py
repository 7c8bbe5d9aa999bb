"""Opening the store: SQLite beside the reports by default, PostgreSQL by URL; migrated on open.

SQLite runs in WAL mode with ``synchronous=FULL`` and every transaction starts ``BEGIN
IMMEDIATE``: a batch recording results and a person reviewing at the same time wait for each
other briefly instead of failing, and a process killed at any instant (``kill -9``) leaves
every committed decision and no half-written row. Nothing needs to be started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from grader.errors import GraderError, Problem

__all__ = ["DEFAULT_FILE", "HEAD", "GradebookError", "database_url", "open_engine", "session_scope"]

DEFAULT_FILE = "gradebook.sqlite"
#: The newest migration; a store at this revision is opened without loading Alembic.
HEAD = "0001"
_MIGRATIONS = Path(__file__).parent / "migrations"
_BUSY_MS = 30_000


class GradebookError(GraderError):
    """The store cannot be opened or does not hold what was asked for."""


def _problem(message: str, fix: str, *, code: str = "gradebook.unavailable", file: str | None = None) -> GradebookError:
    return GradebookError([Problem(code=code, message=message, file=file, fix=fix)])


def database_url(location: str | Path) -> str:
    """``postgresql://…`` or ``sqlite:///…`` as given; a folder means its ``gradebook.sqlite``."""
    given = str(location)
    if "://" in given:
        if given.startswith("postgresql://") or given.startswith("postgres://"):
            return "postgresql+psycopg://" + given.split("://", 1)[1]
        return given
    path = Path(given)
    if path.is_dir() or (not path.suffix and not path.exists()):
        path = path / DEFAULT_FILE
    return f"sqlite:///{path.resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself (below)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_engine(location: str | Path) -> Engine:
    """An engine on the store at ``location``, migrated to the newest schema."""
    url = database_url(location)
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    try:
        if url.startswith("sqlite:///"):
            file = Path(url.removeprefix("sqlite:///"))
            if not file.parent.is_dir():
                raise _problem(
                    "the folder for the gradebook does not exist", "create it, or pass --db with another path", file=str(file)
                )
            engine = create_engine(url, connect_args={"timeout": _BUSY_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _begin_immediate)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as error:
        raise _problem(f"cannot use the database {shown}: {error}", "pass a folder, a .sqlite file or a postgresql:// URL") from None
    except ModuleNotFoundError as error:
        raise _problem(
            f"the database driver is not installed ({error.name})",
            "install it with: pip install 'grader[postgres]'",
        ) from None
    try:
        _migrate(engine)
    except OperationalError as error:
        engine.dispose()
        raise _problem(
            f"cannot open the gradebook {shown}: {error.orig}", "check the path or URL, the permissions and that the server runs"
        ) from None
    return engine


def _migrate(engine: Engine) -> None:
    with engine.begin() as connection:
        if _revision(connection) == HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _revision(connection: Connection) -> str | None:
    try:
        with connection.begin_nested():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no table yet: a new store
        return None


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed whole at the end, rolled back whole on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
