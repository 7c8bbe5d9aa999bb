"""Linearity as a ratio of CPU time at two sizes measured in the same run, never a wall-clock limit.

A loaded machine slows both sizes alike, so the ratio holds where "under 3 s" fails at random:
an input 8 times larger costs about 8 times more when the code is linear and 64 times more
when it is quadratic; the margin sits between the two.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

SCALE = 8
#: Wide on purpose: linear code measures 6-12, quadratic code 40-64.
MAX_RATIO = 30.0
#: CPU times below this are mostly noise, so they count as this much.
FLOOR_S = 0.02


def cpu_seconds(run: Callable[[], Any], repeat: int = 3) -> float:
    """The least CPU time of ``repeat`` runs (the least is the least disturbed), garbage collection
    paused so that the size of the rest of the test session's heap does not count."""
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.process_time()
            run()
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best


def growth_ratio(run: Callable[[Any], Any], build: Callable[[int], Any]) -> float:
    """CPU time of ``run(build(SCALE))`` over that of ``run(build(1))``."""
    small, large = build(1), build(SCALE)
    return max(cpu_seconds(lambda: run(large)), FLOOR_S) / max(cpu_seconds(lambda: run(small)), FLOOR_S)


def assert_linear(run: Callable[[Any], Any], build: Callable[[int], Any]) -> None:
    ratio = growth_ratio(run, build)
    assert ratio < MAX_RATIO, f"{SCALE}x the input took {ratio:.1f}x the CPU time (linear is about {SCALE}x)"
