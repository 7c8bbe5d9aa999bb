"""Progress on stderr: a bar with counts and ETA on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from grader.errors import Problem
from grader.grading.batch import BarProgress, LineProgress, Progress, SubmissionResult, make_progress
from grader.scoring.models import Report


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _graded(name: str, score: float = 3) -> SubmissionResult:
    report = Report(
        submission=name,
        rubric="mini",
        grader_version="0",
        submission_sha256="",
        rubric_sha256="",
        score=score,
        max_score=6,
        status="graded",
        questions=[],
    )
    return SubmissionResult(path=Path(name), report=report)


def _failed(name: str) -> SubmissionResult:
    problem = Problem(code="submission.empty", message="the file is empty", file=name)
    return SubmissionResult(path=Path(name), report=None, problems=(problem,))


def test_lines_one_per_submission_in_completion_order() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress.start(4, resumed=1)
    progress.update(_graded("b.md", 4.5))
    progress.update(_failed("a.md"))
    progress.finish()
    assert stream.getvalue() == (
        "resumed 1/4: report(s) already up to date\n"
        "graded 2/4: b.md 4.5/6\n"
        "failed 3/4: a.md: the file is empty\n"
    )


def test_bar_counts_failures_and_resumed_and_estimates_the_rest() -> None:
    clock = _Clock()
    bar = BarProgress(io.StringIO(), clock=clock)
    bar.start(10, resumed=2)
    assert bar.line(80) == "[" + "#" * 6 + "." * 24 + "] 2/10, 2 resumed  0:00 elapsed, ETA --:--"
    clock.now += 30
    bar.update(_graded("a.md"))
    bar.update(_failed("b.md"))
    # 2 graded in 30 s, 6 to go: 90 s more; resumed ones do not make the estimate optimistic.
    line = bar.line(80)
    assert line == "[" + "#" * 10 + "." * 17 + "] 4/10, 1 failed, 2 resumed  0:30 elapsed, ETA 1:30"
    assert len(line) <= 80  # the bar gives up width to the counts
    assert bar.line(30) == "4/10, 1 failed, 2 resumed  0:3"  # no room for a bar: the counts first


def test_bar_draws_on_one_line_and_ends_it() -> None:
    stream = _Terminal()
    bar = BarProgress(stream, clock=_Clock(), min_interval=0)
    bar.start(1, resumed=0)
    bar.update(_graded("a.md"))
    bar.finish()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("done\x1b[K\n")


def test_bar_clears_itself_around_other_output(capsys: pytest.CaptureFixture[str]) -> None:
    stream = _Terminal()
    bar = BarProgress(stream, clock=_Clock(), min_interval=0)
    bar.start(2, resumed=0)
    before = len(stream.getvalue())
    bar.echo("a.md: 6 / 6 (graded)")
    assert capsys.readouterr().out == "a.md: 6 / 6 (graded)\n"
    redrawn = stream.getvalue()[before:]
    assert redrawn.startswith("\r\x1b[K\r[") and "0/2" in redrawn


def test_make_progress_chooses_by_terminal() -> None:
    assert isinstance(make_progress("auto", _Terminal()), BarProgress)
    assert isinstance(make_progress("auto", io.StringIO()), LineProgress)
    assert isinstance(make_progress("lines", _Terminal()), LineProgress)
    assert isinstance(make_progress("bar", io.StringIO()), BarProgress)
    silent = make_progress("none", io.StringIO())
    assert type(silent) is Progress


def test_auto_is_lines_on_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(make_progress("auto", _Terminal()), LineProgress)
