"""What a batch can be told (limits, progress, executor, jobs), importable without the pipeline.

The command line reads these to declare its options, so ``grader --help`` and ``grader --version``
need neither SymPy nor the checkers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from grader.rubric.models import Rubric

__all__ = [
    "EXECUTORS",
    "MAX_MEMORY_MB",
    "MAX_TIMEOUT_S",
    "MIN_MEMORY_MB",
    "PROGRESS_MODES",
    "ExecutorName",
    "Limits",
    "ProgressMode",
    "default_jobs",
]

MIN_MEMORY_MB = 64
MAX_MEMORY_MB = 16384
MAX_TIMEOUT_S = 600.0

ExecutorName = Literal["local", "dask"]
EXECUTORS: tuple[ExecutorName, ...] = ("local", "dask")
ProgressMode = Literal["auto", "bar", "lines", "none"]
PROGRESS_MODES: tuple[ProgressMode, ...] = ("auto", "bar", "lines", "none")


def default_jobs() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Limits:
    """Overrides of the rubric's per-check limits (``grader grade --timeout/--memory``).

    ``None`` keeps the rubric's value. The ranges are the rubric's own, so an override can
    never make a limit that a rubric could not have set.
    """

    timeout_s: float | None = None
    memory_mb: int | None = None

    def __post_init__(self) -> None:
        if self.timeout_s is not None and not 0 < self.timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"the time limit must be more than 0 and at most {MAX_TIMEOUT_S:g} s, not {self.timeout_s:g}")
        if self.memory_mb is not None and not MIN_MEMORY_MB <= self.memory_mb <= MAX_MEMORY_MB:
            raise ValueError(f"the memory limit must be {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB, not {self.memory_mb}")

    def apply(self, rubric: Rubric) -> Rubric:
        """The rubric with these limits in its settings (the same object when nothing changes)."""
        update: dict[str, float | int] = {}
        if self.timeout_s is not None and self.timeout_s != rubric.settings.check_timeout_s:
            update["check_timeout_s"] = float(self.timeout_s)
        if self.memory_mb is not None and self.memory_mb != rubric.settings.check_memory_mb:
            update["check_memory_mb"] = int(self.memory_mb)
        if not update:
            return rubric
        return rubric.model_copy(update={"settings": rubric.settings.model_copy(update=update)})


#: What a check runs on, for a one-off command to let its helpers import while it reads the
#: rubric and the answer (``grader._internal.sandbox.prime_helpers``); names only, so this module
#: stays light. SymPy is not among them: most answers are confirmed exactly without it
#: (``grader.math.rational``), and a check that needs it imports it.
CHECK_MODULES = (
    "grader.grading.pipeline",
    "grader.checking.symbolic",
    "grader.checking.numeric",
)
#: Bounded calls nest this deep: a check, the comparison inside it, SymPy inside that.
HELPER_DEPTH = 3
