"""The job runner: a process beside the web server that grades queued submissions.

It holds no state of its own: each round it returns abandoned jobs to the queue (their runner's
pid is gone, or their lease ran out), claims a batch of queued jobs of one assignment, grades
them on the executor (local worker processes, or a Dask cluster), and records each result the
moment it arrives, in the transaction that marks its job done. Killed at any instant (even
``kill -9`` of the server, which takes the runner and its workers with it), a restart finds
every unfinished job still queued or running under a dead pid, and grades each one once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader._internal.processes import die_with_parent
from grader.checking.lint import load_rubric
from grader.errors import GraderError, Problem
from grader.grading.batch import make_executor
from grader.grading.executors.base import Executor, ExecutorUnavailable, Job, Setup
from grader.grading.recording import BatchRecorder
from grader.rubric.load import rubric_digest
from grader.service.db import make_engine
from grader.service.store import Claimed, Store, runner_id

MAX_TRIES = 3  # a job claimed this often without a result is reported, not tried forever


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """What the runner process needs (picklable: it is started with ``spawn``)."""

    db_url: str
    data_dir: Path
    jobs: int
    scheduler: str | None
    poll_seconds: float
    lease_seconds: float


def run_forever(config: RunnerConfig) -> None:
    """The runner process's main: grade until the parent (the web server) goes away."""
    _die_with_parent()
    parent = os.getppid()
    store = Store(make_engine(config.db_url), config.data_dir)
    me = runner_id()
    try:
        executor = make_executor("dask" if config.scheduler else "local", jobs=config.jobs, scheduler=config.scheduler)
    except (ExecutorUnavailable, ValueError) as error:
        print(f"grader serve: the job runner cannot start: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    stop = threading.Event()
    heartbeat = threading.Thread(target=_renew, args=(store, me, config, stop), daemon=True)
    heartbeat.start()
    setups: dict[str, tuple[Setup, BatchRecorder]] = {}
    with executor:
        while os.getppid() == parent:
            store.requeue_abandoned(me, config.lease_seconds)
            claimed = store.claim(me, max(1, config.jobs) * 4, config.lease_seconds)
            if not claimed:
                time.sleep(config.poll_seconds)
                continue
            try:
                grade_round(store, me, executor, claimed, setups)
            except Exception as error:  # a bug outside the bounded grading: put the jobs back, go on
                print(f"grader serve: a grading round failed ({type(error).__name__}: {error}); its jobs are queued again", file=sys.stderr, flush=True)
                store.release(me)
                for _, recorder in setups.values():
                    recorder.close()
                setups.clear()
                time.sleep(config.poll_seconds)
    stop.set()


def grade_round(store: Store, me: str, executor: Executor, claimed: list[Claimed], setups: dict[str, tuple[Setup, BatchRecorder]]) -> None:
    """Grade jobs of one assignment and record each result as it arrives: in the gradebook, then the job.

    The gradebook's record of a submission is replaced, not added to, when the same file is recorded
    again, so a crash between the two writes costs a second grading of that file, never a second row.
    A result the gradebook could not take leaves its job to be claimed again (up to ``MAX_TRIES``).
    """
    aid = claimed[0].assignment_id
    for job in [c for c in claimed if c.tries > MAX_TRIES]:
        message = f"grading was started {job.tries - 1} times and never finished (the server stopped or failed each time)"
        store.complete(me, job, None, [failed_problem(job.name, message)])
    claimed = [c for c in claimed if c.tries <= MAX_TRIES]
    if not claimed:
        return
    try:
        setup, recorder = setups.get(aid) or _setup(store, aid)
    except GraderError as error:
        for job in claimed:
            store.complete(me, job, None, error.problems)
        return
    setups[aid] = (setup, recorder)
    recorder.roster = store.roster(aid)
    by_index = dict(enumerate(claimed))
    outcomes = executor.run(setup, [Job(index=i, path=str(c.path)) for i, c in by_index.items()])
    try:
        for done in outcomes:
            job = by_index[done.index]
            failures = len(recorder.failed)
            recorder.record(job.path, done.report, done.problems)
            if len(recorder.failed) == failures:
                store.complete(me, job, done.report, done.problems)
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()
        store.release(me)  # what was not recorded goes back to the queue


def _setup(store: Store, aid: str) -> tuple[Setup, BatchRecorder]:
    path = store.rubric_file(aid)
    rubric = load_rubric(path)
    digest = rubric_digest(path)
    recorder = BatchRecorder(store.engine.url.render_as_string(hide_password=False), rubric, digest, store.data_dir, show_reference=rubric.settings.show_reference, roster=None, html=False)
    return Setup.for_rubric(rubric, digest), recorder


def _renew(store: Store, me: str, config: RunnerConfig, stop: threading.Event) -> None:
    while not stop.wait(config.lease_seconds / 3):
        with contextlib.suppress(Exception):  # a busy database: the next beat tries again
            store.renew(me, config.lease_seconds)


def _die_with_parent() -> None:
    """SIGKILL this process when the server dies (its workers die with it in turn)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the server decides


def failed_problem(name: str, message: str) -> Problem:
    return Problem(code="service.grading_failed", message=message, file=name, fix="report this file to the grader's maintainers; a person can grade it meanwhile")
