"""Live processes read from /proc, for tests that check nothing is left running."""

from __future__ import annotations

from pathlib import Path

_PPID, _PGRP = 1, 2  # fields after the state in /proc/PID/stat


def live_processes(*, parent: int | None = None, group: int | None = None) -> list[int]:
    """PIDs of live (non-zombie) processes with this parent, or in this process group."""
    field, wanted = (_PPID, parent) if parent is not None else (_PGRP, group)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[field]) == wanted and fields[0] != "Z":
            found.append(int(entry.name))
    return found
