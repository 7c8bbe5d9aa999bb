"""Real CLI runs on a tiny rubric: exact terminal output, files written, exit codes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from grader.cli import main

MINI = Path(__file__).parent / "fixtures" / "mini"

CHECK_OUTPUT = """\
answers.md (mini): 1 / 6
  1     partial         1 / 2
        read line 2: \\frac{p}{1-p}
        Inverted.
  2     incorrect       0 / 2
        read line 5: I would use the reverse KL.
        Your answer reads as: reverse.
  3     missing         0 / 2
warning: question 3 was not found; start its answer on its own line with '3'
score 1 / 6: 1 partial, 1 incorrect, 1 missing
"""


def test_check_prints_feedback() -> None:
    result = CliRunner().invoke(main, ["check", str(MINI / "answers.md"), "--rubric", str(MINI)])
    assert result.exit_code == 0, result.output
    assert result.stdout == CHECK_OUTPUT


def test_check_json_is_the_report() -> None:
    result = CliRunner().invoke(main, ["check", str(MINI / "answers.md"), "--rubric", str(MINI), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert list(report)[:3] == ["submission", "rubric", "grader_version"]
    assert (report["score"], report["max_score"]) == (1, 6)
    assert [(q["id"], q["status"]) for q in report["questions"]] == [("1", "partial"), ("2", "incorrect"), ("3", "missing")]
    part = report["questions"][0]["parts"][0]
    assert part["mistake"] == "inverted"
    assert part["extracted"]["line"] == 2


def test_grade_writes_reports_and_gradebook(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(MINI / "answers.md", subs / "alice.md")
    (subs / "bob.md").write_text("## 1\n$\\lambda = \\frac{1}{p} - 1$\n\n## 2\nforward\n\n## 3\n$x = 0.5$\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["grade", str(subs), "--rubric", str(MINI), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{subs / 'alice.md'}: 1 / 6 (graded)\n"
        f"{subs / 'bob.md'}: 6 / 6 (graded)\n"
        f"wrote 2 report(s), index.html and grades.csv to {out}\n"
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "alice.html",
        "alice.json",
        "bob.html",
        "bob.json",
        "gradebook.sqlite",
        "grades.csv",
        "index.html",
    ]
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows == [
        ["submission", "student_name", "student_id", "1", "2", "3", "total", "max_score", "status", "provisional", "reviewed_by", "note"],
        ["alice.md", "", "", "1", "0", "0", "1", "6", "graded", "no", "", ""],
        ["bob.md", "", "", "2", "2", "2", "6", "6", "graded", "no", "", ""],
    ]


def test_python_m_grader_runs() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "grader", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.strip() == "grader, version 0.1.0"
