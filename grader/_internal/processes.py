"""Small process facts the batch and the service share: is a pid alive, die with the parent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (a process we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so no orphan goes on working."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
