"""Run a function in a killable child process with a time and a memory limit.

Why a process and not a thread or ``signal.alarm``: SymPy and NumPy can spin inside C code
that no Python-level timer can interrupt, and ``signal.alarm`` only works in the main thread.
A child can always be killed (SIGKILL) and its memory is capped with ``RLIMIT_AS``, so a
hostile formula costs at most ``timeout_s`` seconds and ``memory_mb`` megabytes. A timeout is
reported as :class:`TimedOut` ("could not decide"), never as a wrong answer.

Warm helpers: a fork and the copy-on-write faults after it cost more than most checks, so each
thread keeps one *helper*, a child forked on its first bounded call that then runs calls one at
a time, each under limits renewed just before it (CPU seconds and address space on top of the
helper's size at that moment). A call that overruns, runs out of memory or kills the helper
ends as it would in a fresh child, and the next call gets a new helper. A bounded call made
inside a helper goes to that helper's own helper, so a nested bound (a comparison inside a
check) costs a message, not a fork. Functions and arguments travel pickled; a call that cannot
be pickled (a lambda, a closure) gets a child forked for it alone, as before.

A helper holds the code of the moment it was forked: ``stop_helpers()`` makes the next call fork
again (tests that patch code rely on it, see tests/conftest.py).

Debugging: ``GRADER_SANDBOX=off`` runs the function in-process (no time limit, memory
errors still reported) so breakpoints and tracebacks work.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, TypeAlias

from grader._internal.processes import die_with_parent

__all__ = [
    "Crashed",
    "Finished",
    "OutOfMemory",
    "Outcome",
    "TimedOut",
    "helper_pids",
    "run_bounded",
    "run_bounded_each",
    "sandbox_enabled",
    "single_threaded_blas",
    "stop_helpers",
    "warm_helpers",
]


@dataclass(frozen=True, slots=True)
class Finished:
    """The function returned ``value``.

    ``hit_limit``: a bounded call inside this one timed out, ran out of memory or crashed, so
    the value may be different on a faster or slower machine (callers must not cache it).
    """

    value: Any
    hit_limit: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class TimedOut:
    """The child was still running after ``seconds`` and was killed."""

    seconds: float


@dataclass(frozen=True, slots=True)
class OutOfMemory:
    """The function needed more than ``limit_mb`` megabytes on top of what the process had."""

    limit_mb: int


@dataclass(frozen=True, slots=True)
class Crashed:
    """The function raised, returned something unpicklable, or the child died; ``message`` says which."""

    message: str


Outcome: TypeAlias = Finished | TimedOut | OutOfMemory | Crashed

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_EXIT_OOM = 3
_FORK = multiprocessing.get_context("fork")
_MB = 1024 * 1024
#: Limits of a priming call (imports only): generous, as nothing a student wrote runs in it.
_PRIME_TIMEOUT_S = 120.0
_PRIME_MEMORY_MB = 2048


def sandbox_enabled() -> bool:
    """True unless ``GRADER_SANDBOX=off`` (read on every call so tests can flip it)."""
    return os.environ.get("GRADER_SANDBOX", "on").strip().lower() not in ("off", "0", "false", "no")


def run_bounded(
    fn: Callable[..., Any], *args: Any, timeout_s: float, memory_mb: int, **kwargs: Any
) -> Outcome:
    """Call ``fn(*args, **kwargs)`` in a bounded child; never raises for anything ``fn`` does.

    ``memory_mb`` caps the address space the call may add beyond the child's current size
    (an absolute cap would count the imported libraries and differ between machines).
    Safe to call from any thread; every child is reaped, so no zombies are left behind.
    """
    if not sandbox_enabled():
        return _run_inline(fn, args, kwargs, memory_mb)
    request = _pickled(fn, args, kwargs)
    if request is None:
        return _noted(_run_forked(fn, args, kwargs, timeout_s, memory_mb))
    return _noted(_call_helper(request, timeout_s, memory_mb))


def run_bounded_each(
    fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], *, timeout_s: float, memory_mb: int
) -> list[Outcome]:
    """``[run_bounded(fn, *args, ...) for args in calls]``: one helper runs them all in order.

    The limits stay per call: each call gets ``timeout_s`` from the moment the previous one
    answered, and ``memory_mb`` on top of the helper's size when it starts. A call that
    overruns or kills the helper ends exactly as with ``run_bounded``, and a fresh helper takes
    the calls after it. Never raises.
    """
    if not sandbox_enabled():
        return [_run_inline(fn, args, {}, memory_mb) for args in calls]
    requests = [_pickled(fn, args, {}) for args in calls]
    if any(request is None for request in requests):
        return [_noted(outcome) for outcome in _run_forked_each(fn, calls, timeout_s, memory_mb)]
    return [_noted(_call_helper(request, timeout_s, memory_mb)) for request in requests if request is not None]


def warm_helpers(depth: int = 1) -> None:
    """Start this thread's helper now (and, for ``depth`` > 1, the helpers nested in it).

    A worker calls this after importing and priming what checks need, so every helper is
    forked warm and the first submission does not pay for the forks.
    """
    if depth >= 1 and sandbox_enabled():
        run_bounded(_warm, depth - 1, timeout_s=60, memory_mb=256)


def prime_helpers(modules: Sequence[str], depth: int = 1) -> None:
    """Start this thread's helper now and let it import ``modules`` (and start its own helpers,
    for ``depth`` > 1) while this process goes on: on two cores a one-off command's imports
    and its helpers' run side by side. Returns at once; the next bounded call waits for it.
    """
    if depth < 1 or not sandbox_enabled():
        return
    request = _pickled(_prime, (tuple(modules), depth - 1), {})
    try:
        helper = _helper()
        helper.conn.send((_PRIME_TIMEOUT_S, _PRIME_MEMORY_MB, request))
    except (OSError, ValueError):
        return
    helper.pending += 1


def stop_helpers(keep: Collection[int] = (), *, graceful: bool = False) -> None:
    """Stop and reap this process's helpers (but those whose pid is in ``keep``); the next
    bounded call forks a fresh one.

    ``graceful``: close their pipes and let them end (each first ends its own helpers), so the
    CPU time they used is counted in this process's children's time; killed after a second.
    """
    with _lock:
        helpers = [helper for helper in _helpers.values() if helper.pid not in keep]
        for helper in helpers:
            del _helpers[helper.thread.ident or 0]
    if graceful:
        for helper in helpers:
            _close(helper)
        deadline = time.monotonic() + 1.0
        for helper in helpers:
            while time.monotonic() < deadline and _running(helper):
                time.sleep(0.005)
    for helper in helpers:
        _kill_helper(helper)


def helper_pids() -> list[int]:
    """The process ids of this process's running helpers (for tests and diagnostics)."""
    with _lock:
        return [helper.pid for helper in _helpers.values()]


# ---------------------------------------------------------------------- helpers, parent side


@dataclass(eq=False)
class _Helper:
    pid: int
    conn: Connection
    pidfd: int | None
    thread: threading.Thread  # PR_SET_PDEATHSIG follows the thread that forked the helper
    grown_limit: int  # address space (bytes) beyond which the helper is replaced after a call
    pending: int = 0  # replies to calls sent without waiting (prime_helpers), read before the next call


_lock = threading.Lock()
_helpers: dict[int, _Helper] = {}  # by the ident of the thread that owns the helper
_limit_hit = False  # in a helper: a bounded call inside the current call did not finish normally


def _warm(depth: int) -> bool:
    if depth > 0:
        run_bounded(_warm, depth - 1, timeout_s=60, memory_mb=256)
    return True


def _prime(modules: tuple[str, ...], depth: int) -> bool:
    for name in modules:
        importlib.import_module(name)
    if depth > 0:
        run_bounded(_prime, modules, depth - 1, timeout_s=_PRIME_TIMEOUT_S, memory_mb=_PRIME_MEMORY_MB)
    return True


def _pickled(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes | None:
    """The call as bytes for a helper, or None when it holds something only a fork can carry."""
    try:
        return pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a lambda, a closure, a patched function: pickle refuses in many ways
        return None


def _noted(outcome: Outcome) -> Outcome:
    """Remember, for the enclosing helper call, that a bound inside it was hit."""
    global _limit_hit
    if not isinstance(outcome, Finished) or outcome.hit_limit:
        _limit_hit = True
    return outcome


def _call_helper(request: bytes, timeout_s: float, memory_mb: int) -> Outcome:
    for _attempt in range(2):
        try:
            helper = _helper()
        except OSError as error:  # fork refused: out of processes or memory
            return Crashed(f"could not start a worker process: {error}")
        while helper.pending:  # a priming call may still run: its reply comes first
            helper.pending -= 1
            if not isinstance(_await_reply(helper, _PRIME_TIMEOUT_S, _PRIME_MEMORY_MB), Finished):
                helper = _helper()  # it was retired: a fresh one takes the call
        try:
            helper.conn.send((timeout_s, memory_mb, request))
        except (OSError, ValueError):  # it died while idle (killed from outside): use a new one
            _retire(helper)
            continue
        try:
            return _await_reply(helper, timeout_s, memory_mb)
        except BaseException:  # interrupted while the call runs: its answer would come out of turn
            _retire(helper)
            raise
    return Crashed("the worker process died before it could take the call")


def _helper() -> _Helper:
    """This thread's live helper, started if there is none."""
    thread = threading.current_thread()
    with _lock:
        helper = _helpers.get(thread.ident or 0)
        stale = [h for h in _helpers.values() if not h.thread.is_alive()]
        for h in stale:
            _helpers.pop(h.thread.ident or 0, None)
    for h in stale:
        _kill_helper(h)
    if helper is not None and helper.thread is thread and _running(helper):
        return helper
    if helper is not None:
        _retire(helper)
    helper = _start_helper(thread)
    with _lock:
        _helpers[thread.ident or 0] = helper
    return helper


def _start_helper(thread: threading.Thread) -> _Helper:
    parent_end, child_end = _FORK.Pipe(duplex=True)
    parent_pid = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        parent_end.close()
        child_end.close()
        raise
    if pid == 0:  # the helper
        code = 0
        try:
            parent_end.close()
            _helper_main(child_end, parent_pid)
        except BaseException:  # noqa: B036 - nothing may escape into the parent's code
            code = 1
        finally:
            os._exit(code)
    child_end.close()  # only the helper holds this end, so its death reads as EOF here
    pidfd: int | None = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
    grown = _address_space_now() + 1024 * _MB
    return _Helper(pid=pid, conn=parent_end, pidfd=pidfd, thread=thread, grown_limit=grown)


def _running(helper: _Helper) -> bool:
    try:
        pid, _status = os.waitpid(helper.pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return pid == 0


def _await_reply(helper: _Helper, timeout_s: float, memory_mb: int) -> Outcome:
    """The helper's answer, or what became of it: killed at the deadline, dead, out of memory."""
    deadline = time.monotonic() + timeout_s
    answered = _wait_answer(helper, deadline)
    if answered is None:
        _retire(helper)
        return TimedOut(timeout_s)
    if answered:
        try:
            reply = helper.conn.recv()
        except (EOFError, OSError):
            reply = None
        except Exception as error:  # the pickled value could not be rebuilt here; the helper is fine
            return Crashed(f"the worker's result could not be read: {type(error).__name__}: {error}")
        if reply is not None:
            tag, payload, hit_limit, size = reply
            if tag == "ok":
                if size > helper.grown_limit:  # it kept what big calls left behind: start afresh
                    _retire(helper)
                return Finished(payload, hit_limit)
            if tag == "oom":
                _retire(helper)  # a MemoryError can leave half-imported modules behind
                return OutOfMemory(memory_mb)
            return Crashed(str(payload))
    status = _reap(helper, deadline)
    if status is None:
        return TimedOut(timeout_s)
    return _interpret_exit(status, memory_mb, timeout_s)


def _wait_answer(helper: _Helper, deadline: float) -> bool | None:
    """True: a message (or EOF) is there; False: the helper died; None: the deadline passed."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        if helper.pidfd is not None:
            ready = wait([helper.conn, helper.pidfd], remaining)
            if helper.conn in ready:
                return True
            if ready:
                return False
            continue
        if wait([helper.conn], min(remaining, 0.05)):
            return True
        if not _running(helper):
            return bool(helper.conn.poll(0))


def _reap(helper: _Helper, deadline: float) -> int | None:
    """Exit code of a helper whose pipe closed; None (and killed) when it is still alive at the deadline."""
    _forget(helper)
    grace = max(deadline, time.monotonic() + 0.1)
    while True:
        try:
            pid, raw = os.waitpid(helper.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: its status is lost
            _close(helper)
            return 1
        if pid != 0:
            _close(helper)
            return os.waitstatus_to_exitcode(raw)
        if time.monotonic() >= grace:
            _kill_helper(helper)
            return None
        time.sleep(0.002)


def _forget(helper: _Helper) -> None:
    with _lock:
        if _helpers.get(helper.thread.ident or 0) is helper:
            del _helpers[helper.thread.ident or 0]


def _retire(helper: _Helper) -> None:
    _forget(helper)
    _kill_helper(helper)


def _kill_helper(helper: _Helper) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        os.kill(helper.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(helper.pid, 0)
    _close(helper)


def _close(helper: _Helper) -> None:
    with contextlib.suppress(OSError):
        helper.conn.close()
    if helper.pidfd is not None:
        with contextlib.suppress(OSError):
            os.close(helper.pidfd)
        helper.pidfd = None


def _forget_inherited() -> None:
    """In a forked child: the parent's helpers are not ours (close our copies of their pipes)."""
    global _lock, _limit_hit
    inherited = list(_helpers.values())
    _helpers.clear()
    _lock = threading.Lock()  # another thread may have held it at the fork
    _limit_hit = False
    for helper in inherited:
        with contextlib.suppress(OSError):
            helper.conn.close()
        if helper.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(helper.pidfd)


def _kill_helpers_at_exit() -> None:
    """SIGKILL without waiting: the helpers' exit would only delay ours (init reaps them)."""
    with _lock:
        helpers = list(_helpers.values())
        _helpers.clear()
    for helper in helpers:
        with contextlib.suppress(OSError):
            os.kill(helper.pid, signal.SIGKILL)


os.register_at_fork(after_in_child=_forget_inherited)
atexit.register(_kill_helpers_at_exit)


# ---------------------------------------------------------------------- helpers, child side


def _helper_main(conn: Connection, parent_pid: int) -> None:
    """Run calls from ``conn`` until it closes; one reply per call."""
    global _limit_hit
    die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        return
    _close_inherited_files(keep=conn.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _threads_limited:  # a nested helper inherits its parent's limit
        for name in _THREAD_VARS:
            os.environ[name] = "1"
        _limit_threads()
    while True:
        try:
            timeout_s, memory_mb, request = conn.recv()
        except (EOFError, OSError):  # the parent is done with us: end our own helpers first
            stop_helpers(graceful=True)
            return
        _limit_hit = False
        _renew_limits(timeout_s, memory_mb)
        message = _run_call(functools.partial(_call_pickled, request))
        _set_soft_limit(resource.RLIMIT_AS, resource.RLIM_INFINITY)
        _send_message(conn, message, _limit_hit, _address_space_now())
        if message[0] == "oom":
            return


def _close_inherited_files(keep: int) -> None:
    """Close every descriptor but stdio and ``keep``: a helper lives long, and a pipe end it kept
    by inheritance would hide the end of whatever the parent's other children talk through."""
    try:
        inherited = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        inherited = list(range(3, 1024))
    for fd in inherited:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)


# ---------------------------------------------------------------------- one child per call


def _run_forked(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], timeout_s: float, memory_mb: int
) -> Outcome:
    """A child forked for this call alone: for calls that cannot travel to a helper."""
    reader, writer = _FORK.Pipe(duplex=False)
    limit_bytes = _address_space_now() + memory_mb * _MB
    cpu_limit = max(1, int(timeout_s) + 2)
    process = _FORK.Process(
        target=_child_main,
        args=(writer, fn, args, kwargs, limit_bytes, cpu_limit),
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


def _run_forked_each(
    fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], timeout_s: float, memory_mb: int
) -> list[Outcome]:
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
    _enter_child()
    for args in calls[start:]:
        _renew_limits(timeout_s, memory_mb)
        _send_result(writer, functools.partial(fn, *args))
    with contextlib.suppress(Exception):
        writer.close()


def _child_main(
    writer: Connection,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit_bytes: int,
    cpu_limit: int,
) -> None:
    """Body of a one-call child: limits first, then the call, then exactly one message."""
    _enter_child()
    _set_soft_limit(resource.RLIMIT_AS, limit_bytes)
    # Backstop: if the parent is gone and nobody kills us, the CPU limit ends the child.
    _set_soft_limit(resource.RLIMIT_CPU, cpu_limit)  # a forked child starts at zero CPU seconds
    _send_result(writer, functools.partial(fn, *args, **kwargs))
    with contextlib.suppress(Exception):
        writer.close()


def _send_result(writer: Connection, call: Callable[[], Any]) -> None:
    _send_message(writer, _run_call(call))


def _call_pickled(request: bytes) -> Any:
    fn, args, kwargs = pickle.loads(request)
    return fn(*args, **kwargs)


def _run_call(call: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", value)``, ``("oom", None)`` or ``("crash", why)``: a child reports everything."""
    try:
        return ("ok", call())
    except MemoryError:
        return ("oom", None)
    except RecursionError:
        return ("crash", "the computation recursed too deeply")
    except BaseException as error:  # noqa: B036 - the child reports everything, then goes on
        return ("crash", _describe(error))


def _send_message(conn: Connection, message: tuple[str, Any], *extra: Any) -> None:
    """Send ``message`` (with ``extra`` fields); a value that cannot be pickled is reported instead."""
    try:
        conn.send((*message, *extra))
    except MemoryError:
        os._exit(_EXIT_OOM)
    except Exception as error:  # the value was not picklable
        try:
            conn.send(("crash", f"the result could not be sent back: {type(error).__name__}: {error}", *extra))
        except Exception:
            os._exit(1)


def _await(reader: Connection, process: Any, started: float, timeout_s: float, memory_mb: int) -> Outcome:
    """Wait for a one-call child's message, or for the deadline; decide what happened."""
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


def _kill(process: Any) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        if process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------- shared


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


def _describe(error: BaseException) -> str:
    """``"ValueError: boom (at module.py:12)"``: the innermost frame is enough to find a bug."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _enter_child() -> None:
    """A one-off child's first steps: die with the parent, one BLAS thread."""
    die_with_parent()
    for name in _THREAD_VARS:
        os.environ[name] = "1"
    _limit_threads()


def _renew_limits(timeout_s: float, memory_mb: int) -> None:
    """The limits of the next call: ``memory_mb`` on top of the size now, and CPU seconds on top of
    those used so far (a backstop: if the parent is gone and nobody kills us, it ends the call)."""
    _set_soft_limit(resource.RLIMIT_AS, _address_space_now() + memory_mb * _MB)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _set_soft_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + max(1, int(timeout_s) + 2))


def _set_soft_limit(which: int, wanted: int) -> None:
    """Move only the soft limit (up or down), so the next call of the same child can get its own."""
    _soft, hard = resource.getrlimit(which)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (value, hard))


def _address_space_now() -> int:
    """Virtual size of this process in bytes (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_threads_limited = False  # this process's BLAS pools are down to one thread


def single_threaded_blas() -> None:
    """Ask for one BLAS thread through the environment, effective if NumPy has not loaded yet
    (then no helper needs threadpoolctl); a value the user set is kept."""
    global _threads_limited
    for name in _THREAD_VARS:
        os.environ.setdefault(name, "1")
    if "numpy" not in sys.modules and all(os.environ[name] == "1" for name in _THREAD_VARS):
        _threads_limited = True


def _limit_threads() -> None:
    """BLAS pools were sized at import; env vars are too late for them, so also ask threadpoolctl."""
    global _threads_limited
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    with contextlib.suppress(Exception):
        threadpool_limits(1)
        _threads_limited = True


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
