"""``grade_batch``: what it writes, in which order it reports, and what resuming keeps."""

from __future__ import annotations

import fcntl
import gc
import json
import os
from pathlib import Path

import pytest
from batch_helpers import tree_bytes, write_class

import grader.grading.batch as batch
from grader._internal.processes import frozen_heap
from grader.grading.batch import SubmissionResult, grade_batch
from grader.grading.executors.local import LocalExecutor
from grader.grading.recording import BatchRecorder
from grader.rubric.models import Rubric


def _grade(files: list[Path], rubric: Rubric, out: Path, **kwargs: object) -> batch.BatchResult:
    return grade_batch(files, rubric, out, rubric_sha256="digest", **kwargs)  # type: ignore[arg-type]


def test_writes_a_report_and_a_page_per_submission_then_the_class_pages(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 5)
    seen: list[SubmissionResult] = []
    result = _grade(files, mini, tmp_path / "out", jobs=2, on_result=seen.append)
    assert [r.path for r in seen] == files  # input order, whatever finished first
    assert (result.graded, result.resumed, result.failed) == (5, 0, ())
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(["gradebook.sqlite", "grades.csv", "index.html", *(f"s{k:02d}.{ext}" for k in range(5) for ext in ("json", "html"))])
    report = json.loads((tmp_path / "out" / "s00.json").read_text())
    assert (report["submission"], report["score"], report["rubric_sha256"]) == ("s00.md", 6, "digest")
    assert 'href="./s04.html"' in (tmp_path / "out" / "index.html").read_text()


def test_the_same_bytes_whatever_the_parallelism(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 6)
    _grade(files, mini, tmp_path / "one", jobs=1)
    _grade(files, mini, tmp_path / "two", jobs=2)
    with LocalExecutor(3) as executor:
        _grade(list(reversed(files)), mini, tmp_path / "three", executor=executor)
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two") == tree_bytes(tmp_path / "three")


def test_the_heap_stays_frozen_through_the_class_pages_and_is_thawed_after(
    tmp_path: Path, mini: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class pages come after the workers stop and allocate the most: the collector must
    still skip what the batch process held, then see it again once the batch returns."""
    frozen: list[int] = []
    finish = BatchRecorder.finish

    def spy(self: BatchRecorder) -> object:
        frozen.append(gc.get_freeze_count())
        return finish(self)

    monkeypatch.setattr(BatchRecorder, "finish", spy)
    _grade(write_class(tmp_path / "in", 2), mini, tmp_path / "out", jobs=1)
    assert len(frozen) == 1 and frozen[0] > 0
    assert gc.get_freeze_count() == 0


def test_only_the_outermost_frozen_heap_thaws() -> None:
    with frozen_heap():
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0  # the inner block (an executor's run) leaves it frozen
    assert gc.get_freeze_count() == 0


def test_no_html_writes_reports_and_gradebook_only(tmp_path: Path, mini: Rubric) -> None:
    _grade(write_class(tmp_path / "in", 2), mini, tmp_path / "out", jobs=1, html=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gradebook.sqlite", "grades.csv", "s00.json", "s01.json"]


def test_resume_grades_only_what_changed(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 4)
    out = tmp_path / "out"
    _grade(files, mini, out, jobs=2)
    before = tree_bytes(out)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    files[2].write_text("## 1\n$\\lambda = 3$\n", encoding="utf-8")  # a resubmission
    result = _grade(files, mini, out, jobs=2, resume=True)
    assert [r.resumed for r in result.results] == [True, True, False, True]
    after = tree_bytes(out)
    assert {name for name in after if after[name] != before[name]} == {"s02.json", "s02.html", "grades.csv", "index.html"}
    for name in ("s00.json", "s00.html", "s03.json", "s03.html"):
        assert (out / name).stat().st_mtime_ns == stamps[name]  # kept, not rewritten


@pytest.mark.parametrize("change", ["rubric", "version", "damaged", "missing"])
def test_resume_regrades_what_is_not_up_to_date(
    tmp_path: Path, mini: Rubric, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    files = write_class(tmp_path / "in", 2)
    out = tmp_path / "out"
    _grade(files, mini, out, jobs=1)
    digest = "digest"
    if change == "rubric":
        digest = "another digest"
    elif change == "version":
        monkeypatch.setattr(batch, "__version__", "99.0")
    elif change == "damaged":
        (out / "s00.json").write_text('{"submission": "s00.md", "sco', encoding="utf-8")
    else:
        (out / "s00.json").unlink()
    result = grade_batch(files, mini, out, rubric_sha256=digest, jobs=1, resume=True)
    regraded = [not r.resumed for r in result.results]
    assert regraded == ([True, True] if change in ("rubric", "version") else [True, False])


def test_resume_renders_pages_with_this_runs_options(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 1)
    out = tmp_path / "out"
    _grade(files, mini, out, jobs=1, show_reference=False)
    report = (out / "s00.json").read_bytes()
    assert "<dt>Reference</dt>" not in (out / "s00.html").read_text()
    result = _grade(files, mini, out, jobs=1, show_reference=True, resume=True)
    assert result.resumed == 1
    assert "<dt>Reference</dt>" in (out / "s00.html").read_text()
    assert (out / "s00.json").read_bytes() == report


def test_an_unreadable_submission_fails_alone(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 2)
    empty = tmp_path / "in" / "empty.md"
    empty.write_bytes(b"")
    result = _grade([files[0], empty, files[1]], mini, tmp_path / "out", jobs=2)
    assert [r.ok for r in result.results] == [True, False, True]
    assert result.results[1].problems[0].code == "submission.empty"
    assert not (tmp_path / "out" / "empty.json").exists()
    rows = [row.split(",") for row in (tmp_path / "out" / "grades.csv").read_text().splitlines()]
    assert [(row[0], row[-4]) for row in rows] == [
        ("submission", "status"),
        ("empty.md", "unreadable"),  # still in the gradebook, with its reason (issue 13)
        ("s00.md", "graded"),
        ("s01.md", "graded"),
    ]
    assert "not graded: the file is empty" in (tmp_path / "out" / "index.html").read_text()


def test_two_files_with_one_report_name(tmp_path: Path, mini: Rubric) -> None:
    first = write_class(tmp_path / "a", 1)[0]
    second = write_class(tmp_path / "b", 1)[0]
    result = _grade([first, second], mini, tmp_path / "out", jobs=1)
    assert result.results[0].ok
    problem = result.results[1].problems[0]
    assert problem.code == "batch.duplicate_name"
    assert f"{first} also writes s00.json" in problem.message


def test_a_report_that_cannot_be_written_is_a_problem_not_a_crash(tmp_path: Path, mini: Rubric) -> None:
    files = write_class(tmp_path / "in", 2)
    (tmp_path / "out" / "s01.json").mkdir(parents=True)  # nothing can replace a folder
    result = _grade(files, mini, tmp_path / "out", jobs=1)
    assert result.results[0].ok and not result.results[1].ok
    assert result.results[1].problems[0].code == "batch.write_failed"
    assert not [p for p in (tmp_path / "out").iterdir() if ".tmp" in p.name]


def test_temporaries_of_a_killed_batch_are_removed(tmp_path: Path, mini: Rubric) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = out / ".s00.json.tmp999999999"
    ours = out / f".s00.html.tmp{os.getpid()}"
    reused = out / ".s01.json.tmp1"  # pid 1 is alive, but it is not the batch that wrote this
    other = out / ".notes.txt"
    for path in (dead, ours, reused, other):
        path.write_text("half a fil", encoding="utf-8")
    _grade(write_class(tmp_path / "in", 1), mini, out, jobs=1)
    assert not dead.exists() and not ours.exists() and not reused.exists()
    assert other.exists()  # not ours to remove


def test_a_temporary_being_written_is_left_alone(tmp_path: Path) -> None:
    """Its writer (another batch writing into the same folder) holds its lock."""
    out = tmp_path / "out"
    out.mkdir()
    held = out / ".s00.json.tmp999999999"
    held.write_text("half a fil", encoding="utf-8")
    with open(held, "rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        batch._remove_stale_temporaries(out)
        assert held.exists()
    batch._remove_stale_temporaries(out)
    assert not held.exists()


def test_a_temporary_removed_before_its_writer_locked_it_is_made_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The instant between creating and locking: another batch's cleanup may remove the file."""
    target = tmp_path / "s00.json"
    real_flock = fcntl.flock
    removed: list[bool] = []

    def flock_after_a_cleaner(fd: int, op: int) -> None:
        if not removed:
            removed.append(True)
            (tmp_path / f".s00.json.tmp{os.getpid()}").unlink()
        real_flock(fd, op)

    monkeypatch.setattr(batch.fcntl, "flock", flock_after_a_cleaner)
    batch._write_atomic(target, "whole")
    assert removed and target.read_text(encoding="utf-8") == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["s00.json"]


def test_report_names_that_differ_only_in_case_are_duplicates(tmp_path: Path, mini: Rubric) -> None:
    """On a case-insensitive file system ``Alice.json`` would overwrite ``alice.json``."""
    (tmp_path / "in").mkdir()
    lower, upper = tmp_path / "in" / "alice.md", tmp_path / "in" / "ALICE.md"
    for path in (lower, upper):
        path.write_text("## 1\n$\\lambda = \\frac{1-p}{p}$\n", encoding="utf-8")
    result = _grade([lower, upper], mini, tmp_path / "out", jobs=1)
    assert result.results[0].ok
    assert result.results[1].problems[0].code == "batch.duplicate_name"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["alice.json"]


@pytest.mark.parametrize("name", ["index.md", "Index.md", "results.md"])
def test_a_submission_never_takes_the_name_of_a_class_file(tmp_path: Path, mini: Rubric, name: str) -> None:
    """``index.md``'s page is ``index.submission.html``: the class summary keeps ``index.html``."""
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / name
    path.write_text("## 1\n$\\lambda = \\frac{1-p}{p}$\n", encoding="utf-8")
    out = tmp_path / "out"
    result = _grade([path], mini, out, jobs=1)
    report = result.results[0].report
    assert report is not None and report.submission == name
    stem = name.removesuffix(".md")
    assert (out / f"{stem}.submission.html").is_file() and (out / f"{stem}.submission.json").is_file()
    summary = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="./{stem}.submission.html"' in summary  # the class page, linking to the student's
    resumed = _grade([path], mini, out, jobs=1, resume=True)
    assert resumed.resumed == 1


def test_names_that_clash_with_no_class_file_are_kept() -> None:
    assert batch.report_name(Path("grades.md")) == "grades.json"  # the gradebook is grades.csv
    assert batch.report_name(Path("index.txt.md")) == "index.txt.json"
