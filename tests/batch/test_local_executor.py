"""The local pool: a worker that dies, hangs or runs out of memory costs one submission, is
replaced, and leaves no process behind; closing the pool early stops every worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from batch_helpers import children

import grader.grading.executors.local as local
from grader.grading.executors.base import Done, Job, Setup
from grader.grading.executors.local import LocalExecutor
from grader.rubric.models import Rubric


def _fake_grade(setup: Setup, job: Job) -> Done:
    """Stands in for grading (workers are forked, so they run this patched version)."""
    name = Path(job.path).name
    if name == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "exit":
        os._exit(7)
    if name == "hang":
        time.sleep(3600)
    if name == "oom":
        return Done(index=job.index, report=None, fatal=True, worker=f"pid {os.getpid()}")
    return Done(index=job.index, report=None, worker=f"pid {os.getpid()}")


@pytest.fixture
def setup(mini: Rubric, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setattr(local, "grade_job", _fake_grade)
    return Setup(rubric=mini, rubric_sha256="x", budget_s=1.0)


def _run(executor: LocalExecutor, setup: Setup, names: list[str]) -> dict[int, Done]:
    done = {d.index: d for d in executor.run(setup, [Job(index=k, path=name) for k, name in enumerate(names)])}
    assert sorted(done) == list(range(len(names)))  # exactly one outcome per job
    return done


def test_every_job_gets_one_outcome_from_the_pool(setup: Setup) -> None:
    done = _run(LocalExecutor(2), setup, [f"ok{k}" for k in range(7)])
    assert all(d.problems == () for d in done.values())
    assert len({d.worker for d in done.values()}) == 2  # workers are reused, not one per job
    assert children() == []


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("die", "grading.worker_died", "was killed by SIGKILL; it was replaced"),
        ("exit", "grading.worker_died", "exited with status 7 without a result; it was replaced"),
        ("hang", "grading.timeout", "did not finish within 1 s, although every check is limited"),
    ],
)
def test_a_lost_worker_costs_one_submission(setup: Setup, name: str, code: str, message: str) -> None:
    done = _run(LocalExecutor(2), setup, ["ok0", name, "ok1", "ok2", "ok3"])
    problem = done[1].problems[0]
    assert (problem.code, problem.file) == (code, name)
    assert message in problem.message
    assert [d.problems for i, d in done.items() if i != 1] == [(), (), (), ()]
    assert children() == []


def test_a_worker_out_of_memory_is_not_reused(setup: Setup) -> None:
    done = _run(LocalExecutor(1), setup, ["oom", "ok0", "ok1"])
    assert done[0].worker != done[1].worker == done[2].worker


def test_closing_early_stops_every_worker(setup: Setup) -> None:
    outcomes = LocalExecutor(2).run(setup, [Job(index=0, path="ok"), Job(index=1, path="hang"), Job(index=2, path="hang")])
    next(outcomes)
    assert len(children()) == 2
    outcomes.close()  # type: ignore[attr-defined]
    assert children() == []


def test_jobs_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LocalExecutor(0)


def test_a_worker_has_its_next_job_while_the_parent_handles_a_result(setup: Setup) -> None:
    """Writing and recording a result happens in the parent; the worker is not left waiting."""
    executor = LocalExecutor(1)
    outcomes = executor.run(setup, [Job(index=k, path=f"ok{k}") for k in range(3)])
    first = next(outcomes)
    assert first.index == 0
    busy = [slot.job.index for slot in executor._slots if slot is not None and slot.job is not None]
    assert busy == [1]
    assert [d.index for d in outcomes] == [1, 2]
