"""Helpers of the batch tests: a tiny rubric, a class of submissions for it, process and file probes."""

from __future__ import annotations

import os
from pathlib import Path

from procs import live_processes

MINI = Path(__file__).resolve().parents[1] / "cli" / "fixtures" / "mini"

# Right, partly right, wrong and missing answers, so reports differ between students.
ANSWERS = (
    "## 1\n$\\lambda = \\frac{1-p}{p}$\n\n## 2\nThe forward KL.\n\n## 3\n$x = 0.5$\n",
    "## 1\n$$\\lambda = \\frac{p}{1-p}$$\n\n## 2\nI would use the reverse KL.\n",
    "## 1\n$\\lambda = \\frac{1}{p} - 1$\n\n## 3\n$x = 1/2$\n",
    "## 2\nforward\n\n## 3\n$x = 0.25$\n",
)


def write_class(folder: Path, count: int) -> list[Path]:
    """``count`` submissions ``s00.md``, ``s01.md``, ... cycling through ``ANSWERS``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"s{k:02d}.md"
        path.write_text(ANSWERS[k % len(ANSWERS)], encoding="utf-8")
        paths.append(path)
    return paths


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative name: what "byte-identical output" compares.

    The gradebook store is left out: it records when things happened (tests/gradebook compare it)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("gradebook.sqlite")
    }


def children() -> list[int]:
    """PIDs of this process's live (non-zombie) children, read from /proc."""
    return live_processes(parent=os.getpid())
