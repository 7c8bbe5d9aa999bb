"""Killing a real ``grader grade`` half-way, then ``--resume``: only complete files, no process
left behind, and in the end the same bytes as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_helpers import MINI, tree_bytes, write_class

pytestmark = pytest.mark.slow

COUNT = 150  # seconds of grading with 2 warm workers (tens of ms a submission): time enough to interrupt half-way


def _grade(inputs: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "grader", "grade", str(inputs), "--rubric", str(MINI), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--progress", "none", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell job: Ctrl-C reaches all of it
        preexec_fn=_as_a_terminal_job,
    )


def _as_a_terminal_job() -> None:
    """Ctrl-C on: a job a terminal starts has it, but a test run started in the background
    (``&`` in a script) hands its children SIGINT ignored, and Python keeps it so."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _in_session(sid: int) -> list[int]:
    """Processes of a session (the CLI, its workers and their check children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[4]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _reports(out: Path) -> list[Path]:
    return list(out.glob("*.json")) if out.exists() else []


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every file different (a title line per student moves the answers), so that no answer is
    met twice: a remembered verdict would make the batch too quick to interrupt half-way."""
    folder = tmp_path_factory.mktemp("class")
    for k, path in enumerate(write_class(folder, COUNT)):
        path.write_text("# Homework\n" * (k + 1) + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def uninterrupted(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference") / "out"
    process = _grade(inputs, out, "--jobs", "1")
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return tree_bytes(out)


@pytest.mark.parametrize(
    ("how", "sig"),
    [("kill -9", signal.SIGKILL), ("kill", signal.SIGTERM), ("Ctrl-C", signal.SIGINT)],
)
def test_interrupt_then_resume_gives_the_uninterrupted_bytes(
    tmp_path: Path, inputs: Path, uninterrupted: dict[str, bytes], how: str, sig: signal.Signals
) -> None:
    out = tmp_path / "out"
    process = _grade(inputs, out, "--jobs", "2")
    deadline = time.monotonic() + 120
    while len(_reports(out)) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if how == "Ctrl-C":
        os.killpg(process.pid, sig)  # the terminal sends it to the whole foreground group
    else:
        os.kill(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    written = len(_reports(out))
    assert 5 <= written < COUNT, "the batch was not interrupted half-way"

    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130, stderr
        assert stderr.endswith("report(s) are written; run again with --resume to finish\n")
        assert not [p.name for p in out.iterdir() if ".tmp" in p.name]  # a clean stop leaves no temporaries
    deadline = time.monotonic() + 10
    while _in_session(process.pid) and time.monotonic() < deadline:  # workers die with the batch
        time.sleep(0.05)
    assert _in_session(process.pid) == []

    for path in out.iterdir():  # whatever is there is complete: the very bytes of the full run
        if ".tmp" not in path.name and not path.name.startswith("gradebook.sqlite"):  # tests/gradebook check the store
            assert path.read_bytes() == uninterrupted[path.name], path.name
    assert all(json.loads(p.read_text())["submission"] for p in _reports(out))

    resumed = _grade(inputs, out, "--jobs", "2", "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert stdout.endswith(f"already up to date), index.html and grades.csv to {out}\n")
    assert tree_bytes(out) == uninterrupted
