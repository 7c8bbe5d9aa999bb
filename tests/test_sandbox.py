"""The bounded worker: results, timeouts, memory limits, threads, and no zombies left behind."""

from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import time
from pathlib import Path

import pytest

from grader._internal.sandbox import (
    Crashed,
    Finished,
    OutOfMemory,
    TimedOut,
    helper_pids,
    prime_helpers,
    run_bounded,
    run_bounded_each,
    sandbox_enabled,
    stop_helpers,
)


def _add(a: int, b: int, *, times: int = 1) -> int:
    return (a + b) * times


def _spin() -> None:
    while True:
        pass


def _sleep_forever() -> None:
    time.sleep(3600)


def _allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def _numpy_allocate() -> float:
    import numpy as np

    return float(np.ones((30_000, 30_000)).sum())  # 7.2 GB


def _raise() -> None:
    raise ValueError("boom")


def _pid() -> int:
    return os.getpid()


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _unpicklable() -> object:
    return lambda: None


def _thread_env() -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS")


def _nested() -> object:
    return run_bounded(_add, 2, 3, timeout_s=2, memory_mb=64)


def _nested_timeout() -> object:
    return run_bounded(_spin, timeout_s=0.2, memory_mb=64)


def _zombie_children() -> list[int]:
    """PIDs of this process's children that are zombies (read from /proc)."""
    zombies = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == me and state == "Z":
            zombies.append(int(entry.name))
    return zombies


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _sandbox_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_SANDBOX", raising=False)


def test_returns_the_value_with_args_and_kwargs() -> None:
    assert run_bounded(_add, 2, 3, times=4, timeout_s=5, memory_mb=64) == Finished(20)


def test_runs_in_another_process_by_default() -> None:
    assert sandbox_enabled()
    outcome = run_bounded(_pid, timeout_s=5, memory_mb=64)
    assert isinstance(outcome, Finished)
    assert outcome.value != os.getpid()


def test_exception_becomes_crashed_with_the_message() -> None:
    outcome = run_bounded(_raise, timeout_s=5, memory_mb=64)
    assert isinstance(outcome, Crashed)
    assert "ValueError: boom" in outcome.message


@pytest.mark.parametrize("fn", [_spin, _sleep_forever])
def test_timeout_kills_the_child(fn: object) -> None:
    before = run_bounded(_pid, timeout_s=5, memory_mb=64)
    outcome = run_bounded(fn, timeout_s=0.3, memory_mb=64)  # type: ignore[arg-type]
    assert outcome == TimedOut(0.3)
    assert isinstance(before, Finished) and before.value not in _children()
    assert helper_pids() == []


def test_timeout_from_a_worker_thread() -> None:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(run_bounded(_spin, timeout_s=0.3, memory_mb=64)))
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert results == [TimedOut(0.3)]


def test_value_from_a_worker_thread() -> None:
    results: list[object] = []
    thread = threading.Thread(
        target=lambda: results.append(run_bounded(_add, 1, 1, timeout_s=5, memory_mb=64))
    )
    thread.start()
    thread.join(10)
    assert results == [Finished(2)]


@pytest.mark.parametrize("fn,args", [(_allocate, (2048,)), (_numpy_allocate, ())])
def test_memory_limit(fn: object, args: tuple[object, ...]) -> None:
    outcome = run_bounded(fn, *args, timeout_s=10, memory_mb=256)  # type: ignore[arg-type]
    assert outcome == OutOfMemory(256)


def test_small_allocation_within_the_limit_finishes() -> None:
    assert run_bounded(_allocate, 50, timeout_s=10, memory_mb=256) == Finished(50 * 1024 * 1024)


def test_child_killed_by_a_signal_is_crashed() -> None:
    outcome = run_bounded(_kill_self, timeout_s=5, memory_mb=64)
    assert isinstance(outcome, Crashed)
    assert "SIGKILL" in outcome.message


def test_unpicklable_result_is_crashed() -> None:
    outcome = run_bounded(_unpicklable, timeout_s=5, memory_mb=64)
    assert isinstance(outcome, Crashed)
    assert "could not be sent back" in outcome.message


def test_blas_threads_are_limited_in_the_child() -> None:
    assert run_bounded(_thread_env, timeout_s=5, memory_mb=64) == Finished("1")


def test_nested_calls_work() -> None:
    assert run_bounded(_nested, timeout_s=5, memory_mb=256) == Finished(Finished(5))
    assert run_bounded(_nested_timeout, timeout_s=5, memory_mb=256) == Finished(TimedOut(0.2))


def test_no_zombies_after_many_runs() -> None:
    for _ in range(5):
        run_bounded(_add, 1, 2, timeout_s=5, memory_mb=64)
        run_bounded(_spin, timeout_s=0.05, memory_mb=64)
        run_bounded(_raise, timeout_s=5, memory_mb=64)
        run_bounded(_kill_self, timeout_s=5, memory_mb=64)
    assert _zombie_children() == []
    assert sorted(_children()) == sorted(helper_pids())
    stop_helpers()
    assert _children() == [] and _zombie_children() == []


def test_outcomes_are_frozen_and_picklable() -> None:
    outcome = TimedOut(1.5)
    with pytest.raises(AttributeError):
        outcome.seconds = 2  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(Finished([1, 2]))) == Finished([1, 2])


def test_switch_off_runs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX", "off")
    assert not sandbox_enabled()
    assert run_bounded(_pid, timeout_s=5, memory_mb=64) == Finished(os.getpid())
    outcome = run_bounded(_raise, timeout_s=5, memory_mb=64)
    assert isinstance(outcome, Crashed) and "boom" in outcome.message


# -- warm helpers: one child reused across calls, nested bounds without nested forks ----------


def _nested_pids() -> tuple[int, object]:
    inner = run_bounded(_pid, timeout_s=5, memory_mb=64)
    return os.getpid(), inner.value if isinstance(inner, Finished) else inner


def _captured_value() -> str:
    return _PATCHABLE["value"]


_PATCHABLE = {"value": "original"}


def test_one_helper_runs_call_after_call() -> None:
    pids = {run_bounded(_pid, timeout_s=5, memory_mb=64) for _ in range(5)}
    assert len(pids) == 1 and pids != {Finished(os.getpid())}
    assert helper_pids() == [next(iter(pids)).value]  # type: ignore[union-attr]


def test_nested_calls_reuse_the_nested_helper() -> None:
    """A comparison inside a check costs a message, not a fork: both levels stay the same process."""
    first = run_bounded(_nested_pids, timeout_s=5, memory_mb=256)
    second = run_bounded(_nested_pids, timeout_s=5, memory_mb=256)
    assert isinstance(first, Finished) and first == second
    outer, inner = first.value
    assert outer != inner and os.getpid() not in (outer, inner)


def test_a_timeout_replaces_the_helper_and_the_next_call_works() -> None:
    before = run_bounded(_pid, timeout_s=5, memory_mb=64)
    assert run_bounded(_spin, timeout_s=0.2, memory_mb=64) == TimedOut(0.2)
    after = run_bounded(_pid, timeout_s=5, memory_mb=64)
    assert isinstance(after, Finished) and after != before


def test_a_helper_killed_while_idle_is_replaced() -> None:
    before = run_bounded(_pid, timeout_s=5, memory_mb=64)
    assert isinstance(before, Finished)
    os.kill(before.value, signal.SIGKILL)
    time.sleep(0.05)
    after = run_bounded(_add, 1, 2, timeout_s=5, memory_mb=64)
    assert after == Finished(3)
    assert before.value not in helper_pids()


def test_calls_that_cannot_be_pickled_get_a_child_of_their_own() -> None:
    assert run_bounded(lambda: 7, timeout_s=5, memory_mb=64) == Finished(7)
    local = 3
    assert run_bounded_each(lambda x: x + local, [(1,), (2,)], timeout_s=5, memory_mb=64) == [Finished(4), Finished(5)]


def test_a_limit_hit_inside_a_call_is_reported_with_its_value() -> None:
    """Callers must not cache a value that a nested timeout shaped."""
    clean = run_bounded(_nested, timeout_s=5, memory_mb=256)
    limited = run_bounded(_nested_timeout, timeout_s=5, memory_mb=256)
    assert isinstance(clean, Finished) and not clean.hit_limit
    assert isinstance(limited, Finished) and limited.hit_limit


def test_stop_helpers_makes_the_next_call_see_the_current_code() -> None:
    assert run_bounded(_captured_value, timeout_s=5, memory_mb=64) == Finished("original")
    _PATCHABLE["value"] = "patched"
    try:
        assert run_bounded(_captured_value, timeout_s=5, memory_mb=64) == Finished("original")  # the helper's copy
        stop_helpers()
        assert run_bounded(_captured_value, timeout_s=5, memory_mb=64) == Finished("patched")
    finally:
        _PATCHABLE["value"] = "original"
        stop_helpers()


def test_each_thread_has_its_own_helper_and_a_finished_thread_leaves_none() -> None:
    stop_helpers()
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(run_bounded(_pid, timeout_s=5, memory_mb=64)))
    thread.start()
    thread.join(10)
    mine = run_bounded(_pid, timeout_s=5, memory_mb=64)
    assert isinstance(mine, Finished) and seen and seen[0] != mine
    assert helper_pids() == [mine.value]  # the finished thread's helper was reaped
    assert _zombie_children() == []


def test_a_helper_keeps_no_inherited_pipe_open() -> None:
    """Else the parent's other pipes never see their end (Dask's resource tracker waited forever)."""
    stop_helpers()
    read_end, write_end = os.pipe()
    try:
        assert run_bounded(_add, 1, 1, timeout_s=5, memory_mb=64) == Finished(2)  # forked holding both ends
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], 5)
        assert ready and os.read(read_end, 1) == b""  # end of file: nobody else holds the write end
    finally:
        os.close(read_end)


def test_priming_a_helper_lets_the_next_call_find_the_modules_loaded() -> None:
    stop_helpers()
    prime_helpers(["fractions"], depth=2)
    assert run_bounded(_loaded, "fractions", timeout_s=30, memory_mb=256) == Finished(True)


def test_a_priming_that_fails_costs_the_next_call_nothing() -> None:
    stop_helpers()
    prime_helpers(["grader_no_such_module"], depth=1)
    assert run_bounded(_add, 2, 3, timeout_s=30, memory_mb=256) == Finished(5)


def _loaded(name: str) -> bool:
    import sys

    return name in sys.modules
