"""The bounded worker: results, timeouts, memory limits, threads, and no zombies left behind."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import pytest

from grader._internal.sandbox import Crashed, Finished, OutOfMemory, TimedOut, run_bounded, sandbox_enabled


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
    outcome = run_bounded(fn, timeout_s=0.3, memory_mb=64)  # type: ignore[arg-type]
    assert outcome == TimedOut(0.3)
    assert _children() == []


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
    assert _children() == []


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
