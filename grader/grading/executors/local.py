"""A pool of forked worker processes that the parent can kill and replace one at a time.

Why not ``concurrent.futures.ProcessPoolExecutor`` or ``multiprocessing.Pool``: the first
breaks the whole pool when one worker dies, the second loses the dead worker's task (it waits
forever), and neither can stop one task that is stuck. Here each worker has its own pipe, the
parent waits on pipes and process sentinels with a deadline, and a worker that dies, runs out of
memory or overruns its submission's budget is killed, reported for that submission only, and
replaced before its next task.

Workers are forked after the batch process has warmed up for the rubric (``grader.grading.warm``:
checkers imported, parser tables built, the rubric's simulations cached), so they start in
milliseconds with everything imported; each starts its bounded helpers before its first job.
Each one caps its own address space at its size when it starts plus the rubric's
``check_memory_mb``; each check it runs is capped the same way by the sandbox. Workers ignore SIGINT (Ctrl-C reaches the whole process group; the parent decides) and
die with the parent (``PR_SET_PDEATHSIG``), so an interrupted batch leaves no process behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from grader._internal.processes import die_with_parent, frozen_heap
from grader._internal.sandbox import stop_helpers
from grader.grading.executors.base import Done, Executor, Job, Setup, default_jobs, failure, grade_job
from grader.grading.warm import start_helpers

__all__ = ["LocalExecutor"]

_FORK = multiprocessing.get_context("fork")
_STOP_GRACE_S = 2.0


@dataclass(slots=True)
class _Worker:
    process: Any  # multiprocessing's forked Process (closed once retired: keep its pid below)
    conn: Connection
    pid: int
    job: Job | None = None
    started: float = 0.0
    deadline: float = 0.0


class LocalExecutor(Executor):
    """Grade on this machine with ``jobs`` worker processes (default: the usable cores)."""

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs or default_jobs()
        self._slots: list[_Worker | None] = []

    def run(self, setup: Setup, jobs: Sequence[Job]) -> Iterator[Done]:
        pending = deque(jobs)
        self._slots = [None] * min(self.jobs, len(pending))
        finished = False
        # Objects that exist now are never garbage in a worker: frozen, a worker's collector
        # skips them, so it neither spends time on them nor copies their pages on write.
        with frozen_heap():
            try:
                yield from self._loop(setup, pending)
                finished = True
            finally:
                self._stop(graceful=finished)

    def _loop(self, setup: Setup, pending: deque[Job]) -> Iterator[Done]:
        while True:
            yield from self._fill(setup, pending)
            busy = [(slot, w) for slot, w in enumerate(self._slots) if w is not None and w.job is not None]
            if not busy:
                if pending:
                    continue
                break
            ended = list(self._collect(busy))
            # Idle workers get their next job before the caller writes and records these
            # results, so the parent's share of the work overlaps the workers' instead of
            # leaving them waiting.
            refused = list(self._fill(setup, pending))
            yield from ended
            yield from refused

    def close(self) -> None:
        self._stop(graceful=False)

    # ------------------------------------------------------------------ parent side

    def _fill(self, setup: Setup, pending: deque[Job]) -> Iterator[Done]:
        """Give a job to every idle slot; what could not be started comes back as a Done."""
        for slot, worker in enumerate(self._slots):
            if pending and (worker is None or worker.job is None):
                refused = self._dispatch(slot, setup, pending.popleft())
                if refused is not None:
                    yield refused

    def _dispatch(self, slot: int, setup: Setup, job: Job) -> Done | None:
        """Give ``job`` to the worker in ``slot``, starting one if needed; a Done if impossible."""
        for _attempt in range(2):
            worker = self._slots[slot]
            if worker is None or not worker.process.is_alive():
                self._retire(slot)
                try:
                    worker = self._spawn(setup)
                except OSError as error:  # out of processes or memory: this job cannot run now
                    return failure(
                        job.index,
                        job.path,
                        "grading.no_worker",
                        f"could not start a worker process: {error}",
                        "free some memory or use fewer --jobs, then run again with --resume",
                    )
                self._slots[slot] = worker
            try:
                worker.conn.send(job)
            except (OSError, ValueError):  # it died between the check and the send
                self._retire(slot)
                continue
            worker.job = job
            worker.started = time.monotonic()
            worker.deadline = worker.started + setup.budget_s
            return None
        return failure(
            job.index,
            job.path,
            "grading.no_worker",
            "the worker process died before it could take this submission",
            "run again with --resume",
        )

    def _collect(self, busy: list[tuple[int, _Worker]]) -> Iterator[Done]:
        """Wait for the first answer, death or deadline among busy workers; yield what ended."""
        now = time.monotonic()
        timeout = max(0.0, min(w.deadline for _, w in busy) - now)
        handles: list[Any] = [w.conn for _, w in busy] + [w.process.sentinel for _, w in busy]
        ready = set(wait(handles, timeout))
        for slot, worker in busy:
            job = worker.job
            assert job is not None
            answered = worker.conn in ready
            died = worker.process.sentinel in ready
            if answered:
                done = self._receive(worker, job)
                if done is not None:
                    worker.job = None
                    if done.fatal:
                        self._retire(slot)
                    yield done
                    continue
                died = True
            if died:
                seconds = time.monotonic() - worker.started
                worker.process.join(1.0)
                reason = _death(worker.process.exitcode, worker.process.is_alive())
                self._retire(slot)
                yield failure(
                    job.index,
                    job.path,
                    "grading.worker_died",
                    f"the worker grading this submission {reason}; it was replaced",
                    "report this file to the grader's maintainers; the rest of the batch was graded",
                    worker=f"pid {worker.pid}",
                    seconds=seconds,
                )
            elif time.monotonic() >= worker.deadline:
                seconds = time.monotonic() - worker.started
                self._retire(slot)
                yield failure(
                    job.index,
                    job.path,
                    "grading.timeout",
                    f"grading this submission did not finish within {seconds:.0f} s, although every check is limited; "
                    "the worker was stopped and replaced",
                    "report this file to the grader's maintainers; the rest of the batch was graded",
                    worker=f"pid {worker.pid}",
                    seconds=seconds,
                )

    def _receive(self, worker: _Worker, job: Job) -> Done | None:
        """The worker's answer, or None when its pipe closed (it died)."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            return None
        except Exception as error:  # the answer arrived but could not be rebuilt here
            return failure(
                job.index,
                job.path,
                "grading.crashed",
                f"the worker's result could not be read: {type(error).__name__}: {error}",
                "report this file to the grader's maintainers",
            )
        if not isinstance(message, Done) or message.index != job.index:
            return failure(
                job.index, job.path, "grading.crashed", "the worker answered with something unexpected", "run again"
            )
        return message

    def _spawn(self, setup: Setup) -> _Worker:
        parent_end, child_end = _FORK.Pipe(duplex=True)
        inherited = [w.conn for w in self._slots if w is not None]
        process = _FORK.Process(
            target=_worker_main,
            args=(child_end, parent_end, inherited, setup, os.getpid()),
            name="grader-worker",
            daemon=False,  # a daemonic process may not start the sandbox's children
        )
        try:
            process.start()
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()  # only the worker holds this end, so its death reads as EOF here
        return _Worker(process=process, conn=parent_end, pid=process.pid or 0)

    def _retire(self, slot: int) -> None:
        """Kill the worker in ``slot`` (if any) and free the slot; a new one starts on demand."""
        worker = self._slots[slot]
        self._slots[slot] = None
        if worker is not None:
            _kill(worker)

    def _stop(self, *, graceful: bool) -> None:
        """Ask idle workers to exit when the batch ended normally; kill everything otherwise."""
        workers = [w for w in self._slots if w is not None]
        self._slots = []
        if graceful:
            for worker in workers:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
            deadline = time.monotonic() + _STOP_GRACE_S
            for worker in workers:
                worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            _kill(worker)


def _kill(worker: _Worker) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        if worker.process.is_alive():
            os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.join()
    with contextlib.suppress(OSError):
        worker.conn.close()
    with contextlib.suppress(ValueError):
        worker.process.close()


def _death(exitcode: int | None, alive: bool) -> str:
    """How a worker ended, in words for the report."""
    if alive or exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        if -exitcode in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            return f"crashed with {name} (possibly out of memory)"
        return f"was killed by {name}"
    return f"exited with status {exitcode} without a result"


# ---------------------------------------------------------------------- worker side


def _worker_main(
    conn: Connection, parent_end: Connection, inherited: list[Connection], setup: Setup, parent_pid: int
) -> None:
    """Grade jobs from ``conn`` until told to stop (None) or the parent goes away."""
    die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler must not run here
    for end in (parent_end, *inherited):  # other workers' pipes are none of this worker's business
        with contextlib.suppress(OSError):
            end.close()
    _limit_memory(setup.memory_mb)
    start_helpers()  # forked from this warm worker now, not during its first submission
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            stop_helpers(graceful=True)  # their CPU time then counts as this worker's children's
            return
        done = grade_job(setup, job)
        try:
            conn.send(done)
        except (EOFError, OSError):
            return
        except Exception as error:  # the report could not be pickled: say so instead
            conn.send(
                failure(
                    job.index,
                    job.path,
                    "grading.crashed",
                    f"the result could not be sent back: {type(error).__name__}: {error}",
                    "report this file to the grader's maintainers",
                )
            )
        if done.fatal:
            return


def _limit_memory(memory_mb: int) -> None:
    """Cap this worker's address space at its current size plus ``memory_mb``.

    Relative, like the sandbox's limit: the imported libraries already take hundreds of
    megabytes that differ between machines, and the limit is about what grading adds. Only
    the soft limit: the check children forked from this worker set their own, so a check gets
    the same memory however much this worker has grown (else a verdict could depend on
    which worker, and so on ``--jobs``).
    """
    try:
        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return
    wanted = current + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (value, hard))
