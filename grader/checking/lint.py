"""Loading a rubric for grading: its schema (``grader.rubric.load``), then what only the checkers
can judge (references that do not parse, undeclared random names), so a rubric that loads is one
every checker can use.
"""

from __future__ import annotations

from pathlib import Path

from grader.checking.base import LintContext
from grader.checking.registry import CHECKERS
from grader.errors import Problem, RubricError
from grader.rubric.load import read_rubric, rubric_path
from grader.rubric.models import Rubric


def load_rubric(path: Path | str) -> Rubric:
    """Load and fully validate a rubric; raises RubricError listing every problem."""
    rubric, problems = _load(path)
    if rubric is None or problems:
        raise RubricError(problems)
    return rubric


def lint_rubric(path: Path | str) -> list[Problem]:
    """Every problem of a rubric, schema and semantics; an empty list means it is usable."""
    return _load(path)[1]


def lint_parts(rubric: Rubric, file: str) -> list[Problem]:
    """What each part's checker finds wrong with it."""
    problems: list[Problem] = []
    table = rubric.symbol_table
    for question in rubric.questions:
        ctx = LintContext(file=file, question_id=question.id, symbols=table)
        for part in question.parts:
            problems += CHECKERS[part.kind].lint(part, ctx)
    return problems


def _load(path: Path | str) -> tuple[Rubric | None, list[Problem]]:
    rubric, problems = read_rubric(path)
    if rubric is None or problems:
        return rubric, problems
    return rubric, lint_parts(rubric, str(rubric_path(Path(path))))
