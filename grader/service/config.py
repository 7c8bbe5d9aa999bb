"""What one ``grader serve`` is configured with; every field has the embedded default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.executors.base import default_jobs

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` attempts in any ``seconds`` window."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``30/10m``, ``600/60`` (seconds), ``5/1h``."""
        match = _RATE.match(text)
        if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
            raise ValueError(f"a rate is COUNT/PERIOD such as 30/10m or 600/60s, not {text!r}")
        return cls(int(match[1]), float(match[2]) * _UNIT_SECONDS[match[3]])

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}s"


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    data_dir: Path
    db_url: str = ""  # default: a SQLite file in data_dir
    rubrics_root: Path | None = None  # rubric folders an instructor may pick on the server
    jobs: int = field(default_factory=default_jobs)  # grading worker processes
    scheduler: str | None = None  # a Dask scheduler instead of local workers
    check_rate: Rate = Rate(30, 600.0)  # self-checks per student token
    check_workers: int = field(default_factory=default_jobs)  # processes answering self-checks
    max_upload_bytes: int = 50_000_000  # one request's body
    session_hours: float = 12.0
    secure_cookies: bool = False  # True behind HTTPS
    poll_seconds: float = 0.5  # how often the job runner looks for new work
    lease_seconds: float = 30.0  # a running job whose runner stopped renewing goes back to the queue

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'grader.db').resolve()}"
