"""Caches make grading faster and never change a report: the samples graded with and without
them, cold and warm, one worker and two, give the same bytes; an answer met again is not re-checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import grader.grading.pipeline as pipeline
from grader._internal.cache import forget_memory
from grader.grading.batch import grade_batch
from grader.grading.pipeline import grade_text
from grader.input.models import SubmissionText
from grader.input.open import decode_submission
from grader.rubric.models import Rubric

ROOT = Path(__file__).resolve().parents[2]
#: The richest samples: every kind of part, right and wrong answers, mistakes, derivations.
SAMPLES = [ROOT / "submissions" / "seed_student.md", ROOT / "submissions" / "sample_mistakes.md"]


def _tree(folder: Path) -> dict[str, bytes]:
    """The reports, pages and class files (not the gradebook store: a database records when)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith("gradebook.sqlite")}


@pytest.mark.slow
def test_reports_are_the_same_bytes_with_and_without_caches(
    a3_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_CACHE", "off")
    grade_batch(SAMPLES, a3_rubric, tmp_path / "uncached", jobs=1)
    monkeypatch.setenv("GRADER_CACHE", "on")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    twice = [*SAMPLES, *(tmp_path / "again" / p.name for p in SAMPLES)]  # the second copy meets warm caches
    (tmp_path / "again").mkdir()
    for sample in SAMPLES:
        (tmp_path / "again" / sample.name).write_bytes(sample.read_bytes())
    grade_batch(twice[: len(SAMPLES)], a3_rubric, tmp_path / "cold", jobs=1)
    grade_batch(twice[len(SAMPLES) :], a3_rubric, tmp_path / "warm", jobs=2)
    assert any((tmp_path / "cache").rglob("*.json")), "the run should have filled the disk cache"
    uncached = _tree(tmp_path / "uncached")
    assert _tree(tmp_path / "cold") == uncached
    assert _tree(tmp_path / "warm") == uncached


def _read(text: str, name: str) -> SubmissionText:
    read = decode_submission(text.encode(), name)
    assert isinstance(read, SubmissionText)
    return read


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many parts each bounded run checked (a remembered verdict is not checked again)."""
    counts: list[int] = []
    real = pipeline.run_bounded_each

    def counting(fn: Any, calls: Any, **limits: Any) -> Any:
        counts.append(len(calls))
        return real(fn, calls, **limits)

    monkeypatch.setattr(pipeline, "run_bounded_each", counting)
    return counts


def test_an_answer_met_again_is_not_checked_again(mini: Rubric, checked: list[int]) -> None:
    text = "## 1\n$\\lambda = \\frac{1-p}{p}$\n\n## 2\nThe forward KL.\n\n## 3\n$x = 0.5$\n"
    first = grade_text(_read(text, "alice.md"), mini)
    second = grade_text(_read(text, "bob.md"), mini)  # another student, the same answers
    assert checked == [3]
    assert first.questions == second.questions
    changed = grade_text(_read(text.replace("0.5", "0.25"), "carol.md"), mini)
    assert checked == [3, 1]  # only the new answer
    assert [q.parts[0].status for q in changed.questions] == ["correct", "correct", "incorrect"]


def test_a_verdict_is_shared_through_the_disk(mini: Rubric, checked: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's workers share verdicts on disk: another process (here: this one with its memory
    emptied) takes an answer another worker checked, with the same result."""
    text = "## 1\n$\\lambda = \\frac{1-p}{p}$\n\n## 2\nThe forward KL.\n\n## 3\n$x = 0.25$\n"
    first = grade_text(_read(text, "alice.md"), mini)
    forget_memory()  # what a worker forked before the first check would hold
    second = grade_text(_read(text, "bob.md"), mini)
    assert checked == [3]
    assert first.questions == second.questions

    monkeypatch.setenv("GRADER_CACHE", "off")  # and without the cache, the same verdicts
    assert grade_text(_read(text, "carol.md"), mini).questions == first.questions
    assert checked == [3, 3]
