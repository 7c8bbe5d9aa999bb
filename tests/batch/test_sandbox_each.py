"""``run_bounded_each``: one helper for many calls, each with its own limits, replaced after a kill."""

from __future__ import annotations

import os
import signal
import time

import pytest
from batch_helpers import children

from grader._internal.sandbox import Crashed, Finished, OutOfMemory, TimedOut, helper_pids, run_bounded_each


def _step(kind: str, value: int = 0) -> object:
    """One call of a run, doing what ``kind`` says."""
    if kind == "ok":
        return (value, os.getpid())
    if kind == "spin":
        while True:
            pass
    if kind == "sleep":
        time.sleep(3600)
    if kind == "raise":
        raise ValueError("boom")
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "allocate":
        return len(bytearray(value * 1024 * 1024))
    if kind == "unpicklable":
        return lambda: None
    raise AssertionError(kind)


@pytest.fixture(autouse=True)
def _sandbox_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)


def _pids(outcomes: list[object]) -> list[int]:
    return [o.value[1] for o in outcomes if isinstance(o, Finished) and isinstance(o.value, tuple)]


def test_one_child_runs_all_calls_in_order() -> None:
    outcomes = run_bounded_each(_step, [("ok", k) for k in range(5)], timeout_s=5, memory_mb=64)
    assert [o.value[0] for o in outcomes if isinstance(o, Finished)] == [0, 1, 2, 3, 4]
    pids = _pids(outcomes)
    assert len(set(pids)) == 1 and pids[0] != os.getpid()


def test_an_overrunning_call_times_out_and_a_new_child_takes_the_rest() -> None:
    calls = [("ok", 1), ("spin",), ("ok", 2), ("sleep",), ("ok", 3)]
    outcomes = run_bounded_each(_step, calls, timeout_s=0.3, memory_mb=64)
    assert [type(o) for o in outcomes] == [Finished, TimedOut, Finished, TimedOut, Finished]
    assert len(set(_pids(outcomes))) == 3  # a fresh child after each kill
    assert children() == helper_pids() == [_pids(outcomes)[-1]]  # the killed ones are gone


def test_a_call_that_kills_its_child_costs_only_that_call() -> None:
    outcomes = run_bounded_each(_step, [("ok", 1), ("kill",), ("ok", 2)], timeout_s=5, memory_mb=64)
    assert isinstance(outcomes[1], Crashed) and "SIGKILL" in outcomes[1].message
    assert isinstance(outcomes[0], Finished) and isinstance(outcomes[2], Finished)


def test_exceptions_and_unpicklable_results_do_not_end_the_child() -> None:
    outcomes = run_bounded_each(_step, [("raise",), ("unpicklable",), ("ok", 7)], timeout_s=5, memory_mb=64)
    assert isinstance(outcomes[0], Crashed) and "ValueError: boom" in outcomes[0].message
    assert isinstance(outcomes[1], Crashed) and "could not be sent back" in outcomes[1].message
    assert isinstance(outcomes[2], Finished) and outcomes[2].value[0] == 7


def test_each_call_gets_its_own_memory_limit() -> None:
    """A call over the limit fails; the next one, under it, still gets the whole limit."""
    calls = [("allocate", 400), ("allocate", 150), ("allocate", 150), ("ok", 1)]
    outcomes = run_bounded_each(_step, calls, timeout_s=10, memory_mb=200)
    assert outcomes[:3] == [OutOfMemory(200), Finished(150 * 1024 * 1024), Finished(150 * 1024 * 1024)]
    assert isinstance(outcomes[3], Finished)


def test_no_calls_no_child() -> None:
    assert run_bounded_each(_step, [], timeout_s=1, memory_mb=64) == []


def test_switched_off_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "off")
    outcomes = run_bounded_each(_step, [("ok", 1), ("raise",)], timeout_s=1, memory_mb=64)
    assert _pids(outcomes) == [os.getpid()]
    assert isinstance(outcomes[1], Crashed)
