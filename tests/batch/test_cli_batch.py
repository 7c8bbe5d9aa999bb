"""``grader grade`` with the batch options: exact stdout, progress on stderr, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import MINI, tree_bytes, write_class
from click.testing import CliRunner

import grader.grading.batch as batch
import grader.grading.executors.dask_executor as dask_executor
from grader.cli import main
from grader.grading.batch import BatchInterrupted


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def lines(files: list[Path], scores: list[str]) -> str:
    return "".join(f"{path}: {score} / 6 (graded)\n" for path, score in zip(files, scores, strict=True))


SCORES = ["6", "1", "4", "2"]  # what the mini rubric gives batch_helpers.ANSWERS


def test_parallel_grade_prints_in_input_order_with_progress_on_stderr(tmp_path: Path) -> None:
    files = write_class(tmp_path / "in", 4)
    out = tmp_path / "out"
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, "--jobs", 2, "--progress", "lines")
    assert code == 0, stderr
    assert stdout == lines(files, SCORES) + f"wrote 4 report(s), index.html and grades.csv to {out}\n"
    progress = stderr.splitlines()
    assert len(progress) == 4 and all(line.startswith(("graded 1/4: ", "graded 2/4: ", "graded 3/4: ", "graded 4/4: ")) for line in progress)


def test_resume_says_what_was_kept_and_changes_nothing(tmp_path: Path) -> None:
    files = write_class(tmp_path / "in", 4)
    out = tmp_path / "out"
    assert run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, "--progress", "none")[0] == 0
    before = tree_bytes(out)
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, "--resume", "--progress", "none")
    assert (code, stderr) == (0, "")
    assert stdout == lines(files, SCORES) + f"wrote 0 report(s) (4 already up to date), index.html and grades.csv to {out}\n"
    assert tree_bytes(out) == before


def test_unreadable_and_too_large_files_fail_alone_with_exit_1(tmp_path: Path) -> None:
    files = write_class(tmp_path / "in", 2)
    huge = tmp_path / "in" / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB on paper, nothing on disk
    out = tmp_path / "out"
    code, stdout, stderr = run("grade", *files, huge, "--rubric", MINI, "--out", out, "--progress", "none")
    assert code == 1
    assert stdout == lines(files, SCORES[:2]) + f"wrote 2 report(s), index.html and grades.csv to {out}\n"
    assert stderr == (
        f"error: {huge}: the file is 50.0 MB, more than the 2.0 MB limit; "
        "submit only your answers as Markdown text, without embedded images or data [submission.too_large]\n"
    )


def test_limits_reach_the_checks(tmp_path: Path) -> None:
    write_class(tmp_path / "in", 1)
    out = tmp_path / "out"
    code, _, _ = run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, "--timeout", "2.5", "--memory", "300", "--jobs", 1)
    assert code == 0
    assert (out / "s00.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "Invalid value for '--jobs' / '-j': 0 is not in the range x>=1."),
        (["--timeout", "0"], "Invalid value for '--timeout': 0.0 is not in the range 0<x<=600."),
        (["--timeout", "1000"], "Invalid value for '--timeout': 1000.0 is not in the range 0<x<=600."),
        (["--memory", "10"], "Invalid value for '--memory': 10 is not in the range 64<=x<=16384."),
        (["--progress", "fancy"], "Invalid value for '--progress': 'fancy' is not one of 'auto', 'bar', 'lines', 'none'."),
        (["--scheduler", "tcp://h:8786"], "--scheduler goes with --executor dask"),
        (["--export", "canvas"], "--export canvas needs --roster FILE (which student each submission is)"),
        (["--export", "moodle", "--export", "canvas"], "--export canvas and moodle needs --roster FILE"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write_class(tmp_path / "in", 1)
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", tmp_path / "out", *args)
    assert code == 2
    assert message in stderr and stdout == ""
    assert not (tmp_path / "out").exists()


def test_dask_without_the_extra_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_executor, "dask_available", lambda: False)
    write_class(tmp_path / "in", 1)
    code, _, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", tmp_path / "out", "--executor", "dask")
    assert code == 2
    assert "the dask executor needs dask.distributed; install the optional extra: pip install 'grader[dask]'" in stderr


def test_exports_and_roster(tmp_path: Path) -> None:
    write_class(tmp_path / "in", 2)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "submission,name,id,sis_user_id,email\ns00.md,Ada,1,S1,ada@example.edu\ns01.md,Bob,2,S2,bob@example.edu\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["--export", "canvas", "--export", "moodle", "--export", "gradescope", "--roster", roster, "--canvas-assignment-id", "77"]
    code, stdout, _ = run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, "--progress", "none", *args)
    assert code == 0
    assert stdout.splitlines()[-3:] == [
        f"wrote {out / 'canvas.csv'} (2 submission(s))",
        f"wrote {out / 'moodle.csv'} (2 submission(s))",
        f"wrote {out / 'gradescope_autograder.zip'} (2 submission(s))",
    ]
    assert (out / "moodle.csv").read_text().splitlines()[:2] == [
        "Email address,A tiny rubric for CLI tests,A tiny rubric for CLI tests feedback",
        "ada@example.edu,6,6/6 points (1: 2/2; 2: 2/2; 3: 2/2).",
    ]
    assert (out / "canvas.csv").read_text().splitlines()[0].endswith(",A tiny rubric for CLI tests (77)")
    assert "Ada" in (out / "s00.html").read_text()  # the roster names the student on the page


def test_a_roster_missing_a_student_is_rejected_before_grading(tmp_path: Path) -> None:
    write_class(tmp_path / "in", 2)
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,id\ns00.md,Ada,1\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["--export", "canvas", "--roster", roster, "--canvas-assignment-id", "77"]
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, *args)
    assert code == 1
    assert "submission 's01.md' has no roster entry" in stderr
    assert stdout == "" and not (out / "s00.json").exists()  # nothing was graded


def test_canvas_needs_the_assignment_id_before_grading(tmp_path: Path) -> None:
    write_class(tmp_path / "in", 1)
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,id\ns00.md,Ada,1\n", encoding="utf-8")
    code, _, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", tmp_path / "out", "--export", "canvas", "--roster", roster)
    assert code == 2 and "--canvas-assignment-id" in stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "shown"), [("--show-reference", True), ("--hide-reference", False), (None, False)])
def test_reference_in_the_pages(tmp_path: Path, flag: str | None, shown: bool) -> None:
    write_class(tmp_path / "in", 1)
    out = tmp_path / "out"
    run("grade", tmp_path / "in", "--rubric", MINI, "--out", out, *([flag] if flag else []))
    assert ("<dt>Reference</dt>" in (out / "s00.html").read_text()) is shown


def test_interrupted_batch_exits_130_and_says_how_to_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise BatchInterrupted(3, 10)

    monkeypatch.setattr(batch, "grade_batch", interrupted)  # the command imports it when it runs
    write_class(tmp_path / "in", 1)
    code, stdout, stderr = run("grade", tmp_path / "in", "--rubric", MINI, "--out", tmp_path / "out")
    assert code == 130
    assert stderr == "error: interrupted: 3 of 10 report(s) are written; run again with --resume to finish\n"
