"""The rubrics of other courses (statistics + linear algebra, calculus + ODE): they lint clean,
their own tests pass, every sample submission gets the verdicts a demanding instructor expects
(0 false accepts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.authoring.lint import lint_fully
from grader.checking.lint import load_rubric
from grader.grading.pipeline import grade_file

ROOT = Path(__file__).resolve().parents[2]
COURSES = ("stats-linalg", "calculus-ode")


@pytest.mark.slow
@pytest.mark.parametrize("course", COURSES)
def test_lints_clean_and_its_tests_pass(course: str) -> None:
    assert lint_fully(ROOT / "rubrics" / course) == []


# (submission, question) -> (status, mistake); "missing" for a placeholder or an empty answer.
PINNED: dict[str, dict[str, tuple[str, str | None]]] = {
    "stats-linalg/ana": {q: ("correct", None) for q in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "2.4", "2.5")},
    "stats-linalg/ben": {
        "1.1": ("incorrect", "median"),
        "1.2": ("partial", "cdf-not-tail"),
        "1.3": ("partial", "no-binomial-coefficient"),
        "1.4": ("incorrect", "p-compared-wrongly"),
        "1.5": ("incorrect", "variance-not-sd"),
        "1.6": ("incorrect", None),
        "2.1": ("incorrect", "trace"),
        "2.2": ("partial", "no-determinant"),
        "2.3": ("incorrect", None),
        "2.4": ("incorrect", None),
        "2.5": ("partial", "transpose-missing"),
    },
    "stats-linalg/chris": {
        "1.1": ("correct", None),
        "1.2": ("missing", None),
        "1.3": ("correct", None),
        "1.4": ("needs_review", None),
        "1.5": ("missing", None),
        "1.6": ("incorrect", None),
        "2.1": ("correct", None),
        "2.2": ("missing", None),
        "2.3": ("correct", None),
        "2.4": ("needs_review", None),
        "2.5": ("incorrect", "inverse-of-rectangular"),
    },
    "calculus-ode/dana": {q: ("correct", None) for q in ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4")},
    "calculus-ode/eli": {
        "1.1": ("incorrect", "product-of-derivatives"),
        "1.2": ("incorrect", "differentiated"),
        "1.3": ("incorrect", "standard-limit-misused"),
        "1.4": ("partial", "no-factorial"),
        "1.5": ("incorrect", None),
        "2.1": ("incorrect", "growth"),
        "2.2": ("incorrect", "sign"),
        "2.3": ("incorrect", None),
        "2.4": ("incorrect", "real-roots"),
    },
    "calculus-ode/fay": {
        "1.1": ("correct", None),
        "1.2": ("missing", None),
        "1.3": ("correct", None),
        "1.4": ("correct", None),
        "1.5": ("missing", None),
        "2.1": ("correct", None),
        "2.2": ("correct", None),
        "2.3": ("needs_review", None),
        "2.4": ("incorrect", None),
    },
}
_REPORTS: dict[str, object] = {}


def _report(name: str):  # type: ignore[no-untyped-def]
    if name not in _REPORTS:
        course, student = name.split("/")
        _REPORTS[name] = grade_file(ROOT / "rubrics" / course / "submissions" / f"{student}.md", load_rubric(ROOT / "rubrics" / course))
    return _REPORTS[name]


def _cases() -> list[object]:
    cases = []
    for name, questions in PINNED.items():
        for question, expected in questions.items():
            cases.append(pytest.param(name, question, expected, id=f"{name}-{question}"))
    return cases


@pytest.mark.parametrize(("name", "question", "expected"), _cases())
def test_pinned_verdicts(name: str, question: str, expected: tuple[str, str | None]) -> None:
    result = next(q for q in _report(name).questions if q.id == question)
    (part,) = result.parts
    assert (part.status, part.mistake) == expected, (part.feedback, part.reasons)


@pytest.mark.parametrize("name", list(PINNED))
def test_no_false_accepts(name: str) -> None:
    """Nothing the instructor marks wrong, or a person must see, is ever full marks."""
    for question in _report(name).questions:
        expected = PINNED[name][question.id][0]
        if expected != "correct":
            assert all(p.status != "correct" for p in question.parts), (name, question.id)
