"""kill -9 while grading and while reviewing: no committed decision lost, no half-written row.

Each recording and each decision is one transaction (SQLite in WAL mode, synchronous=FULL), so
whatever instant the process dies at, the store holds whole submissions and whole decisions,
and every final score agrees with the decisions in force.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.gradebook.book import open_gradebook

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "cli" / "fixtures" / "mini"
RUBRIC = Path(__file__).parent / "fixtures" / "review"
ANSWERS = ["## 1\n$\\lambda = \\frac{1-p}{p}$\n## 2\nforward\n## 3\n$x = 0.5$\n", "## 1\n$\\lambda = \\frac{p}{1-p}$\n## 2\nreverse\n"]


def _count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
            return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def _assert_whole(db: Path) -> None:
    """Integrity, and no row without its companions: parts and a final score per graded submission."""
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = connection.execute(
            "SELECT s.file_name FROM submissions s LEFT JOIN final_scores f ON f.submission_id = s.id WHERE f.submission_id IS NULL"
        ).fetchall()
        assert orphans == []
        partless = connection.execute(
            "SELECT s.file_name FROM submissions s WHERE s.status != 'unreadable' AND NOT EXISTS (SELECT 1 FROM part_results p WHERE p.submission_id = s.id)"
        ).fetchall()
        assert partless == []
    with open_gradebook(db) as book:
        assignment = book.assignment()
        for row in book.rows(assignment):
            assert row.report is not None
            assert row.score == row.report.score  # the stored final score is the decisions' result


@pytest.mark.slow
def test_kill_9_while_grading_leaves_whole_rows(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k in range(60):
        (inputs / f"s{k:02d}.md").write_text(ANSWERS[k % 2], encoding="utf-8")
    out = tmp_path / "out"
    db = out / "gradebook.sqlite"
    command = [sys.executable, "-m", "grader", "grade", str(inputs), "--rubric", str(MINI), "--out", str(out), "--jobs", "2", "--progress", "none"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while _count(db, "final_scores") < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    recorded = _count(db, "submissions")
    assert 5 <= recorded < 60, "the batch was not killed half-way"
    _assert_whole(db)
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _count(db, "submissions") == 60
    _assert_whole(db)


_REVIEWER = textwrap.dedent(
    """
    import sys
    from grader.gradebook.book import open_gradebook
    book = open_gradebook(sys.argv[1])
    items = [i.item for i in book.queue(book.assignment(), include_decided=True)]
    n = 0
    while True:
        item = items[n % len(items)]
        made = book.override([item], score=(n % 3), comment=f"pass {n}", reviewer="ta")
        print(made[0].id, flush=True)
        n += 1
    """
)


@pytest.mark.slow
def test_kill_9_while_reviewing_loses_no_decision(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for k in range(6):
        (inputs / f"r{k}.md").write_text(f"## 1\n$$o = q^{k}$$\n\n## 2\nIt grows, case {k}.\n\n## 3\npositive\n", encoding="utf-8")
    out = tmp_path / "out"
    graded = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(inputs), "--rubric", str(RUBRIC), "--out", str(out), "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert graded.returncode == 0, graded.stderr
    db = out / "gradebook.sqlite"
    process = subprocess.Popen([sys.executable, "-c", _REVIEWER, str(db)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    confirmed: list[int] = []
    while len(confirmed) < 40:
        line = process.stdout.readline()
        assert line, "the reviewer stopped before it was killed"
        confirmed.append(int(line))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    with sqlite3.connect(db) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM review_decisions")}
        complete = connection.execute(
            "SELECT count(*) FROM review_decisions WHERE reviewer = 'ta' AND score IS NOT NULL AND comment LIKE 'pass %'"
        ).fetchone()[0]
    assert set(confirmed) <= stored  # every decision the reviewer was told about is there
    assert complete == len(stored)  # and no row is half-written
    _assert_whole(db)
