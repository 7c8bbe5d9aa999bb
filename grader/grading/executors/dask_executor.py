"""Grade on a Dask distributed cluster, for courses that outgrow one machine (``grader[dask]``).

The client reads each file (so workers need no shared filesystem) and sends its text; the rubric
is broadcast once. Dask cannot stop a running task, so every task grades inside the same bounded,
killable child as a single check (``run_bounded``) with the submission's budget and memory
limit: a stuck or exploding submission costs its task a clear failure, never a worker thread.

Dask starts its worker processes as daemons, and a daemonic process may not start children;
each task lifts that flag for its own process, which is safe here because every child the
sandbox starts is killed with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from grader._internal.sandbox import Crashed, Finished, OutOfMemory, TimedOut, run_bounded
from grader.grading.executors.base import (
    Done,
    Executor,
    ExecutorUnavailable,
    Job,
    Setup,
    default_jobs,
    failure,
    grade_job,
)
from grader.input.models import SubmissionProblem, SubmissionText
from grader.input.open import read_submission_text

__all__ = ["DaskExecutor", "dask_available", "local_cluster_config", "local_cluster_options"]

_INSTALL = "install the optional extra: pip install 'grader[dask]'"
_CONNECT_TIMEOUT_S = 10


def dask_available() -> bool:
    """True when ``distributed`` can be imported (the ``grader[dask]`` extra is installed)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


class DaskExecutor(Executor):
    """Run jobs on the Dask scheduler at ``scheduler`` (``tcp://host:8786``), or on ``client``.

    Without either, a ``LocalCluster`` with ``jobs`` single-threaded worker processes is started
    and stopped with the executor (useful to try the executor, not faster than ``local``); it
    listens on 127.0.0.1 only, and serves its dashboard (127.0.0.1, a free port) only when
    ``dashboard`` is true: a dashboard has no authentication.
    """

    name = "dask"

    def __init__(
        self, scheduler: str | None = None, *, client: Any = None, jobs: int | None = None, dashboard: bool = False
    ) -> None:
        if not dask_available():
            raise ExecutorUnavailable(f"the dask executor needs dask.distributed; {_INSTALL}")
        self.scheduler = scheduler
        self.jobs = jobs or default_jobs()
        self.dashboard = dashboard  # a local cluster's dashboard (on 127.0.0.1); off unless asked
        self.dashboard_link: str | None = None
        self._client = client
        self._owned: list[Any] = []  # what this executor started and must close

    def run(self, setup: Setup, jobs: Sequence[Job]) -> Iterator[Done]:
        from distributed import as_completed

        client = self._connect()
        shared = client.scatter(setup, broadcast=True)
        with contextlib.suppress(Exception):  # best effort: a worker that cannot warm up still grades
            client.run(_warm_worker, setup.rubric)
        batch = uuid.uuid4().hex[:12]
        submitted: dict[str, tuple[Any, Job]] = {}
        try:
            for job in jobs:
                read = read_submission_text(Path(job.path))
                if isinstance(read, SubmissionProblem):
                    yield Done(index=job.index, report=None, problems=(read.to_problem(),))
                    continue
                future = client.submit(_grade_remote, shared, job, read, key=f"grader-{batch}-{job.index}", pure=False)
                submitted[future.key] = (future, job)
            for future in as_completed([future for future, _ in submitted.values()]):
                _, job = submitted.pop(future.key)
                try:
                    done = future.result()
                except Exception as error:  # the worker died (KilledWorker) or the task could not run
                    done = failure(
                        job.index,
                        job.path,
                        "grading.worker_died",
                        f"the Dask task grading this submission failed: {type(error).__name__}: {error}",
                        "check the Dask workers' logs, then run again with --resume",
                    )
                yield done
        finally:
            if submitted:
                with contextlib.suppress(Exception):
                    client.cancel([future for future, _ in submitted.values()])

    def close(self) -> None:
        while self._owned:
            with contextlib.suppress(Exception):
                self._owned.pop().close()

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        import dask
        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout=_CONNECT_TIMEOUT_S)
            except (OSError, ValueError, TypeError) as error:  # unreachable (OSError covers timeouts), or a bad address
                raise ExecutorUnavailable(f"cannot reach the Dask scheduler at {self.scheduler}: {error}") from None
            self._owned.append(self._client)
            return self._client
        with dask.config.set(local_cluster_config(dashboard=self.dashboard)):
            cluster = LocalCluster(**local_cluster_options(self.jobs, dashboard=self.dashboard))
        self._owned.append(cluster)
        if self.dashboard:
            self.dashboard_link = str(cluster.dashboard_link)
            print(f"Dask dashboard (this machine only): {self.dashboard_link}", file=sys.stderr, flush=True)
        self._client = Client(cluster)
        self._owned.append(self._client)
        return self._client


def local_cluster_options(jobs: int, *, dashboard: bool = False) -> dict[str, Any]:
    """``LocalCluster`` arguments for one user's machine: every server on the loopback interface
    at a free port (two batches never clash), the dashboard only when asked."""
    return {
        "n_workers": jobs,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": "127.0.0.1:0",
        "scheduler_kwargs": {"dashboard": dashboard},
    }


def local_cluster_config(*, dashboard: bool = False) -> dict[str, Any]:
    """Dask settings for that cluster: without a dashboard, its web servers answer nothing
    (Dask still opens them, and by default they list the workers and the tasks)."""
    config: dict[str, Any] = {"distributed.worker.daemon": False}
    if not dashboard:
        config.update({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []})
    return config


def _grade_remote(setup: Setup, job: Job, read: SubmissionText) -> Done:
    """The Dask task: grade in a bounded child so a stuck submission cannot pin a worker thread."""
    with contextlib.suppress(Exception):
        multiprocessing.current_process().daemon = False
    where = _worker_address()
    # Twice the check limit: the checks inside are capped on their own, and a hard cap of just
    # the limit here would leave them less room than on a local worker, changing verdicts.
    outcome = run_bounded(grade_job, setup, job, read, timeout_s=setup.budget_s, memory_mb=2 * setup.memory_mb)
    if isinstance(outcome, Finished) and isinstance(outcome.value, Done):
        return dataclasses.replace(outcome.value, worker=where)
    fix = "report this file to the grader's maintainers; the rest of the batch was graded"
    if isinstance(outcome, TimedOut):
        message = f"grading this submission did not finish within {setup.budget_s:.0f} s, although every check is limited"
        return failure(job.index, job.path, "grading.timeout", message, fix, worker=where)
    if isinstance(outcome, OutOfMemory):
        message = f"grading this submission needed more than {2 * setup.memory_mb} MB of memory outside the checks"
        return failure(job.index, job.path, "grading.out_of_memory", message, fix, worker=where)
    detail = outcome.message if isinstance(outcome, Crashed) else "no result"
    return failure(job.index, job.path, "grading.crashed", f"grader failed on this submission: {detail}", fix, worker=where)


def _warm_worker(rubric: Any) -> None:
    from grader.grading.warm import warm_up

    warm_up(rubric)


def _worker_address() -> str:
    with contextlib.suppress(Exception):
        from distributed import get_worker

        return str(get_worker().address)
    return ""
