"""Shared by the service tests: a service over a temporary folder, and grading its queue in-process."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from grader.grading.executors.local import LocalExecutor
from grader.service.auth import issue_token
from grader.service.config import Rate, ServiceConfig
from grader.service.core import Service
from grader.service.runner import grade_round
from grader.service.store import runner_id

HERE = Path(__file__).resolve().parent
RUBRICS = HERE / "rubrics"
ROOT = HERE.parents[1]

WRONG_ANSWERS = """## 1
$$ r = \\frac{13}{7} q^2 $$

## 2
$$ x = 0.5 $$

## 3
The reverse KL.

## 4
As q grows, r grows because the derivative is positive.
"""

RIGHT_ANSWERS = """## 1
$$ r = \\frac{7 q^2}{13} $$

## 2
$$ x = 0.8137 $$

## 3
The forward KL.

## 4
The derivative 14q/13 is positive, so r grows with q.
"""


_OPEN: list[Service] = []


def open_service(config: ServiceConfig) -> Service:
    service = Service(config)
    _OPEN.append(service)
    return service


def close_service(service: Service) -> None:
    """Close it; the last one open also stops the resource tracker its check pool started (multiprocessing's
    helper process), since later tests count this process's children. Earlier, other pools still use it."""
    from multiprocessing import resource_tracker

    service.close()
    _OPEN.remove(service)
    if not _OPEN:
        resource_tracker._resource_tracker._stop()  # type: ignore[attr-defined]


def make_config(tmp: Path, **overrides: object) -> ServiceConfig:
    values: dict[str, object] = {"data_dir": tmp / "data", "rubrics_root": RUBRICS, "jobs": 1, "check_workers": 1, "check_rate": Rate(1000, 60)}
    values.update(overrides)
    return ServiceConfig(**values)  # type: ignore[arg-type]


def instructor(service: Service) -> dict[str, str]:
    return bearer(issue_token(service.engine, "instructor", "prof"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def drain(service: Service) -> int:
    """Grade every queued job here, with the runner's own code; the number graded."""
    me = runner_id()
    done = 0
    setups: dict[str, Any] = {}
    with LocalExecutor(1) as executor:
        while claimed := service.store.claim(me, 8, 60.0):
            grade_round(service.store, me, executor, claimed, setups)
            done += len(claimed)
    for _, recorder in setups.values():
        recorder.close()
    return done


def zip_bytes(entries: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, target)
    return buffer.getvalue()
