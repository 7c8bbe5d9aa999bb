"""A link in a submission folder is refused and never read (issue 15, finding 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.input.models import SubmissionProblem
from grader.input.open import read_submission_text

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "cli" / "fixtures" / "mini"
SECRET = "THE-ANSWER-KEY-SAYS-lambda=(1-p)/p"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    key = tmp_path / "key.md"
    key.write_text(f"## 1\n$$\\lambda = \\frac{{1-p}}{{p}}$$\n{SECRET}\n", encoding="utf-8")
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "alice.md").write_text("## 1\n$$\\lambda = \\frac{p}{1-p}$$\n", encoding="utf-8")
    os.symlink(key, submissions / "mallory.md")
    return submissions


def test_a_link_is_refused_with_a_message(folder: Path) -> None:
    found = read_submission_text(folder / "mallory.md")
    assert isinstance(found, SubmissionProblem)
    assert found.code == "input.symlink"
    assert found.one_line().endswith("this is a symbolic link, not a file; links are never followed; submit the file itself, not a link to it")


def test_a_path_through_a_linked_folder_leaves_the_root(tmp_path: Path, folder: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.md").write_text("## 1\nx\n", encoding="utf-8")
    os.symlink(outside, folder / "linked")
    found = read_submission_text(folder / "linked" / "x.md", root=folder)
    assert isinstance(found, SubmissionProblem) and found.code == "input.symlink"
    assert not isinstance(read_submission_text(folder / "alice.md", root=folder), SubmissionProblem)


def test_grading_a_folder_never_reads_the_linked_file(tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["grade", str(folder), "--rubric", str(MINI), "--out", str(out), "--jobs", "1", "--progress", "none"])
    assert result.exit_code == 1, result.output
    assert "mallory.md: this is a symbolic link, not a file; links are never followed" in result.output
    assert "[input.symlink]" in result.output
    assert (out / "alice.json").is_file() and not (out / "mallory.json").exists()
    for written in out.rglob("*"):  # reports, pages, the gradebook database
        assert not written.is_file() or SECRET.encode() not in written.read_bytes(), written.name
