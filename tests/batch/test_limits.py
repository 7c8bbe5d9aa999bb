"""Hard bounds per check: a check that overruns, runs out of memory or dies becomes ``undecided``
with the reason, and every other part of the submission is still graded."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

import grader.grading.pipeline as pipeline
from grader.checking.registry import checker_for
from grader.grading.pipeline import Limits, grade_text
from grader.input.models import SubmissionText
from grader.input.open import decode_submission
from grader.rubric.models import Rubric

ALL_RIGHT = "## 1\n$\\lambda = \\frac{1-p}{p}$\n\n## 2\nThe forward KL.\n\n## 3\n$x = 0.5$\n"


def _spin() -> None:
    while True:
        pass


def _allocate() -> None:
    bytearray(2 * 1024**3)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _Misbehaving:
    """Checks part ``lambda`` by running ``action``; every other part with its real checker."""

    def __init__(self, kind: str, action: Callable[[], None]) -> None:
        self.real = checker_for(kind)
        self.action = action

    def check(self, part: Any, answer: Any, ctx: Any) -> Any:
        if part.id == "lambda":
            self.action()
        return self.real.check(part, answer, ctx)


def _grade(rubric: Rubric, monkeypatch: pytest.MonkeyPatch, action: Callable[[], None], limits: Limits) -> Any:
    monkeypatch.setattr(pipeline, "checker_for", lambda kind: _Misbehaving(kind, action))
    read = decode_submission(ALL_RIGHT.encode(), "alice.md")
    assert isinstance(read, SubmissionText)
    return grade_text(read, rubric, limits=limits)


@pytest.mark.parametrize(
    ("action", "limits", "status", "reason"),
    [
        (_spin, Limits(timeout_s=0.5), "needs_review", "the check did not finish within 0.5 s"),
        (_allocate, Limits(memory_mb=64), "needs_review", "the check needed more than 64 MB of memory"),
        (_die, Limits(), "error", "the checker failed: the worker was killed by SIGKILL"),
    ],
    ids=["timeout", "memory", "killed"],
)
def test_a_bad_check_is_undecided_and_the_rest_is_graded(
    mini: Rubric, monkeypatch: pytest.MonkeyPatch, action: Callable[[], None], limits: Limits, status: str, reason: str
) -> None:
    report = _grade(mini, monkeypatch, action, limits)
    parts = {q.id: q.parts[0] for q in report.questions}
    assert (parts["1"].status, parts["1"].verdict, parts["1"].reasons) == (status, "undecided", [reason])
    assert parts["1"].score == 0
    assert [parts["2"].status, parts["3"].status] == ["correct", "correct"]
    assert report.status == "needs_review"
    assert report.score == 4


def test_limits_override_the_rubric_and_only_what_is_given(mini: Rubric) -> None:
    assert Limits().apply(mini) is mini
    changed = Limits(timeout_s=3).apply(mini)
    assert changed.settings.check_timeout_s == 3
    assert changed.settings.check_memory_mb == mini.settings.check_memory_mb
    assert Limits(memory_mb=128).apply(mini).settings.check_memory_mb == 128


@pytest.mark.parametrize("kwargs", [{"timeout_s": 0}, {"timeout_s": 601}, {"memory_mb": 63}, {"memory_mb": 16385}])
def test_limits_a_rubric_could_not_set_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="limit must be"):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_checks_share_one_child_per_submission(mini: Rubric, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why grading is fast: all parts of a submission are checked in one process, not one each."""
    original = pipeline._check

    def spy(part: Any, answer: Any, ctx: Any) -> Any:
        result = original(part, answer, ctx)
        return result.model_copy(update={"reasons": [*result.reasons, f"pid {os.getpid()}"]})

    monkeypatch.setattr(pipeline, "_check", spy)
    read = decode_submission(ALL_RIGHT.encode(), "alice.md")
    assert isinstance(read, SubmissionText)
    report = grade_text(read, mini)
    pids = {reason for q in report.questions for reason in q.parts[0].reasons if reason.startswith("pid ")}
    assert len(pids) == 1 and pids != {f"pid {os.getpid()}"}
