"""``grader serve``: the web server and its job runner, in one command.

The runner is a separate process (started with ``spawn``, so it forks its grading workers from a
single-threaded process) that dies with the server. On the first start the server issues an
instructor token, prints it once and writes it to ``DATA/instructor-token`` (mode 0600).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from grader.service.app import create_app
from grader.service.auth import has_instructor, issue_token
from grader.service.config import ServiceConfig
from grader.service.core import Service
from grader.service.runner import RunnerConfig, run_forever

TOKEN_FILE = "instructor-token"


def bootstrap_token(service: Service) -> str | None:
    """Issue the first instructor token if there is none; it is written to the data folder."""
    if has_instructor(service.engine):
        return None
    token = issue_token(service.engine, "instructor", "instructor")
    path = service.config.data_dir / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def start_runner(config: ServiceConfig) -> multiprocessing.process.BaseProcess:
    runner = RunnerConfig(
        db_url=config.database_url,
        data_dir=config.data_dir,
        jobs=config.jobs,
        scheduler=config.scheduler,
        poll_seconds=config.poll_seconds,
        lease_seconds=config.lease_seconds,
    )
    # Not a daemon: it starts worker processes of its own. It dies with the server (PR_SET_PDEATHSIG).
    process = multiprocessing.get_context("spawn").Process(target=run_forever, args=(runner,), name="grader-runner")
    process.start()
    return process


class RunnerSupervisor(threading.Thread):
    """Keeps one job runner alive: a runner that died (a bug, the OOM killer) is started again."""

    def __init__(self, config: ServiceConfig) -> None:
        super().__init__(name="grader-runner-supervisor", daemon=True)
        self.config = config
        self.process = start_runner(config)
        self._stopping = threading.Event()

    def run(self) -> None:
        delay = 1.0
        while not self._stopping.wait(delay):
            if self.process.is_alive():
                delay = 1.0
                continue
            print(f"grader serve: the job runner stopped (exit code {self.process.exitcode}); starting it again", file=sys.stderr, flush=True)
            self.process = start_runner(self.config)
            delay = min(60.0, delay * 2)

    def stop(self) -> None:
        self._stopping.set()
        self.process.terminate()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


class StartError(RuntimeError):
    """The service cannot start (an unusable database URL or data folder); the message says why."""


def open_service(config: ServiceConfig) -> Service:
    try:
        return Service(config)
    except ImportError as error:
        raise StartError(f"the database driver is not installed ({error}); for PostgreSQL: pip install 'grader[postgres]'") from None
    except (SQLAlchemyError, ValueError) as error:
        raise StartError(f"the database {_shown(config.database_url)} cannot be used: {str(error).splitlines()[0]}") from None
    except OSError as error:
        raise StartError(f"the data folder {config.data_dir} cannot be used: {error}") from None


def serve(config: ServiceConfig, host: str, port: int, *, log_level: str = "info") -> None:
    import uvicorn

    service = open_service(config)
    token = bootstrap_token(service)
    if token is not None:
        print(f"grader serve: first start; the instructor token is {token}", file=sys.stderr)
        print(f"grader serve: (also in {Path(config.data_dir) / TOKEN_FILE}; sign in at http://{host}:{port}/login)", file=sys.stderr, flush=True)
    supervisor = RunnerSupervisor(config)
    supervisor.start()
    print(f"grader serve: http://{host}:{port}/ (data in {config.data_dir}, database {_shown(config.database_url)})", file=sys.stderr, flush=True)
    try:
        uvicorn.run(create_app(config, service), host=host, port=port, log_level=log_level, proxy_headers=False, server_header=False)
    finally:
        supervisor.stop()
        service.close()


def _shown(url: str) -> str:
    """A database URL without its password, for the start-up line."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, _, where = rest.rpartition("@")
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{where}"
    return url
