"""Run a function in a forked, killable child with a wall-clock and memory limit.

Why a process and not a thread or ``signal.alarm``: SymPy and NumPy can spin inside C code
that no Python-level timer can interrupt, and ``signal.alarm`` only works in the main thread.
A forked child can always be killed (SIGKILL) and its memory is capped with ``RLIMIT_AS``,
so a hostile formula costs at most ``timeout_s`` seconds and ``memory_mb`` megabytes.

The parent already has SymPy and NumPy imported, so ``fork`` costs a few milliseconds:
the child shares those pages copy-on-write. Results come back pickled through a pipe.
A timeout is reported as :class:`TimedOut` ("could not decide"), never as a wrong answer.

Debugging: ``GRADER_SANDBOX=off`` runs the function in-process (no time limit, memory
errors still reported) so breakpoints and tracebacks work.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeAlias

__all__ = [
    "Crashed",
    "Finished",
    "OutOfMemory",
    "Outcome",
    "TimedOut",
    "run_bounded",
    "run_bounded_each",
    "sandbox_enabled",
]


@dataclass(frozen=True, slots=True)
class Finished:
    """The function returned ``value``."""

    value: Any


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The child was still running after ``seconds`` and was killed."""

    seconds: float


@dataclass(frozen=True, slots=True)
class OutOfMemory:
    """The function needed more than ``limit_mb`` megabytes on top of what the parent had."""

    limit_mb: int


@dataclass(frozen=True, slots=True)
class Crashed:
    """The function raised, returned something unpicklable, or the child died; ``message`` says which."""

    message: str


Outcome: TypeAlias = Finished | TimedOut | OutOfMemory | Crashed

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_EXIT_OOM = 3
_PR_SET_PDEATHSIG = 1
_FORK = multiprocessing.get_context("fork")


def sandbox_enabled() -> bool:
    """True unless ``GRADER_SANDBOX=off`` (read on every call so tests can flip it)."""
    return os.environ.get("GRADER_SANDBOX", "on").strip().lower() not in ("off", "0", "false", "no")


def run_bounded(
    fn: Callable[..., Any], *args: Any, timeout_s: float, memory_mb: int, **kwargs: Any
) -> Outcome:
    """Call ``fn(*args, **kwargs)`` in a forked child; never raises for anything ``fn`` does.

    ``memory_mb`` caps the address space the child may add beyond the parent's current size
    (an absolute cap would count the parent's imported libraries and differ between machines).
    Safe to call from any thread; the child is always reaped, so no zombies are left behind.
    """
    if not sandbox_enabled():
        return _run_inline(fn, args, kwargs, memory_mb)
    reader, writer = _FORK.Pipe(duplex=False)
    limit_bytes = _address_space_now() + memory_mb * 1024 * 1024
    cpu_limit = max(1, int(timeout_s) + 2)
    process = _FORK.Process(
        target=_child_main,
        args=(writer, fn, args, kwargs, limit_bytes, cpu_limit, memory_mb),
        daemon=False,  # a daemon child could not start its own bounded child (nested checks)
    )
    started = time.monotonic()
    try:
        process.start()
    except OSError as error:  # fork refused: out of processes or memory in the parent
        reader.close()
        writer.close()
        return Crashed(f"could not start a worker process: {error}")
    writer.close()  # the parent keeps only the reading end, so a dead child reads as EOF
    try:
        return _await(reader, process, started, timeout_s, memory_mb)
    finally:
        reader.close()
        if process.is_alive():
            _kill(process)
        process.join()
        process.close()


def run_bounded_each(
    fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], *, timeout_s: float, memory_mb: int
) -> list[Outcome]:
    """``[run_bounded(fn, *args, ...) for args in calls]``, but one child runs all the calls.

    Why: a fork and its copy-on-write faults cost more than most checks (a submission has dozens
    of parts that take a few milliseconds each). The limits stay per call: each call gets
    ``timeout_s`` from the moment the previous one answered, and ``memory_mb`` on top of the
    child's size when it starts. A call that overruns or kills the child ends exactly as with
    ``run_bounded``, and a fresh child takes the calls after it. Never raises.
    """
    if not sandbox_enabled():
        return [_run_inline(fn, args, {}, memory_mb) for args in calls]
    outcomes: list[Outcome | None] = [None] * len(calls)
    start = 0
    while start < len(calls):
        start = _run_child_from(fn, calls, start, outcomes, timeout_s, memory_mb)
    return [outcome if outcome is not None else Crashed("no result") for outcome in outcomes]


def _run_child_from(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    start: int,
    outcomes: list[Outcome | None],
    timeout_s: float,
    memory_mb: int,
) -> int:
    """One child for ``calls[start:]``; fills ``outcomes`` and returns where the next child starts."""
    reader, writer = _FORK.Pipe(duplex=False)
    process = _FORK.Process(
        target=_each_child_main, args=(writer, fn, calls, start, timeout_s, memory_mb), daemon=False
    )
    try:
        process.start()
    except OSError as error:
        reader.close()
        writer.close()
        outcomes[start] = Crashed(f"could not start a worker process: {error}")
        return start + 1
    writer.close()
    current = start
    try:
        while current < len(calls):
            outcome = _await(reader, process, time.monotonic(), timeout_s, memory_mb)
            outcomes[current] = outcome
            current += 1
            # A child that finished every call may have exited with answers still in the pipe,
            # so only a kill, or a death that cost this call, needs a new child for the rest.
            if isinstance(outcome, TimedOut) or (not isinstance(outcome, Finished) and not process.is_alive()):
                break
        return current
    finally:
        reader.close()
        if process.is_alive():
            _kill(process)
        process.join()
        process.close()


def _each_child_main(
    writer: Connection,
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    start: int,
    timeout_s: float,
    memory_mb: int,
) -> None:
    """``_child_main`` for a run of calls: limits renewed before each call, one message per call."""
    _die_with_parent()
    for name in _THREAD_VARS:
        os.environ[name] = "1"
    _limit_threads()
    for args in calls[start:]:
        _set_soft_limit(resource.RLIMIT_AS, _address_space_now() + memory_mb * 1024 * 1024)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _set_soft_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + max(1, int(timeout_s) + 2))
        try:
            message: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            message = ("oom", None)
        except RecursionError:
            message = ("crash", "the computation recursed too deeply")
        except BaseException as error:  # noqa: B036 - the child reports everything, then goes on
            message = ("crash", _describe(error))
        try:
            writer.send(message)
        except MemoryError:
            os._exit(_EXIT_OOM)
        except Exception as error:  # the value was not picklable
            try:
                writer.send(("crash", f"the result could not be sent back: {type(error).__name__}: {error}"))
            except Exception:
                os._exit(1)
    with contextlib.suppress(Exception):
        writer.close()


def _set_soft_limit(which: int, wanted: int) -> None:
    """Move only the soft limit (up or down), so the next call of the same child can get its own."""
    _soft, hard = resource.getrlimit(which)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (value, hard))


def _await(reader: Connection, process: Any, started: float, timeout_s: float, memory_mb: int) -> Outcome:
    """Wait for the child's message, or for the deadline; decide what happened."""
    remaining = max(0.0, timeout_s - (time.monotonic() - started))
    try:
        ready = reader.poll(remaining)
    except (OSError, EOFError):
        ready = True
    if not ready:
        _kill(process)
        return TimedOut(timeout_s)
    try:
        message = reader.recv()
    except (EOFError, OSError):
        message = None
    except Exception as error:  # the pickled value could not be rebuilt in the parent
        return Crashed(f"the worker's result could not be read: {type(error).__name__}: {error}")
    if message is None:
        process.join(max(0.1, timeout_s - (time.monotonic() - started)))
        if process.is_alive():
            _kill(process)
            return TimedOut(timeout_s)
        return _interpret_exit(process.exitcode, memory_mb, timeout_s)
    tag, payload = message
    if tag == "ok":
        return Finished(payload)
    if tag == "oom":
        return OutOfMemory(memory_mb)
    return Crashed(str(payload))


def _interpret_exit(exitcode: int | None, memory_mb: int, timeout_s: float) -> Outcome:
    if exitcode == _EXIT_OOM:
        return OutOfMemory(memory_mb)
    if exitcode is not None and exitcode < 0:
        signum = -exitcode
        if signum == signal.SIGXCPU:
            return TimedOut(timeout_s)
        if signum in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            # C code that hits RLIMIT_AS often aborts instead of raising MemoryError.
            return Crashed(f"the worker died with {signal.Signals(signum).name} (possibly out of memory)")
        return Crashed(f"the worker was killed by {signal.Signals(signum).name}")
    return Crashed(f"the worker exited with status {exitcode} without a result")


def _kill(process: Any) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        if process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)


def _child_main(
    writer: Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit_bytes: int,
    cpu_limit: int,
    memory_mb: int,
) -> None:
    """Body of the child: limits first, then the call, then exactly one message."""
    _die_with_parent()
    for name in _THREAD_VARS:
        os.environ[name] = "1"
    _limit_threads()
    _set_limit(resource.RLIMIT_AS, limit_bytes)
    # Backstop: if the parent is gone and nobody kills us, the CPU limit ends the child.
    _set_limit(resource.RLIMIT_CPU, cpu_limit)  # a forked child starts at zero CPU seconds
    try:
        message: tuple[str, Any] = ("ok", fn(*args, **kwargs))
    except MemoryError:
        message = ("oom", None)
    except RecursionError:
        message = ("crash", "the computation recursed too deeply")
    except BaseException as error:  # noqa: B036 - the child reports everything, then exits
        message = ("crash", _describe(error))
    try:
        writer.send(message)
    except MemoryError:
        os._exit(_EXIT_OOM)
    except Exception as error:  # the value was not picklable
        with contextlib.suppress(Exception):
            writer.send(("crash", f"the result could not be sent back: {type(error).__name__}: {error}"))
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _describe(error: BaseException) -> str:
    """``"ValueError: boom (at module.py:12)"``: the innermost frame is enough to find a bug."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _set_limit(which: int, wanted: int) -> None:
    """Lower a resource limit, never above an inherited hard limit (nested sandboxes)."""
    _soft, hard = resource.getrlimit(which)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (value, value))


def _address_space_now() -> int:
    """Virtual size of this process in bytes (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this child if its parent dies, so no orphan keeps computing."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _limit_threads() -> None:
    """BLAS pools were sized at import; env vars are too late for them, so also ask threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    with contextlib.suppress(Exception):
        threadpool_limits(1)


def _run_inline(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], memory_mb: int
) -> Outcome:
    """The ``GRADER_SANDBOX=off`` path: same outcomes, but no time limit and no isolation."""
    try:
        return Finished(fn(*args, **kwargs))
    except MemoryError:
        return OutOfMemory(memory_mb)
    except Exception as error:
        return Crashed(f"{type(error).__name__}: {error}")
