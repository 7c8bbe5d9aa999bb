"""Loading a rubric for grading: its schema (``grader.rubric.load``), then what only the checkers
can judge (references that do not parse, undeclared random names), so a rubric that loads is one
every checker can use.
"""

from __future__ import annotations

from pathlib import Path

from grader._internal.cache import Memo
from grader.checking.base import LintContext
from grader.checking.registry import checker_for
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
            problems += checker_for(part.kind).lint(part, ctx)
    return problems


#: The checkers' verdict on a rubric depends on nothing else: a student checking answers again
#: and again, or each worker of a batch, needs it once (it parses every reference).
_LINTED: Memo[list[Problem]] = Memo(
    "lint",
    size=8,
    encode=lambda problems: [problem.model_dump(mode="json") for problem in problems],
    decode=lambda data: [Problem.model_validate(item) for item in data],
)


def _load(path: Path | str) -> tuple[Rubric | None, list[Problem]]:
    rubric, problems = read_rubric(path)
    if rubric is None or problems:
        return rubric, problems
    file = str(rubric_path(Path(path)))
    found = _LINTED.get_or_compute(_LINTED.key(rubric, file), lambda: lint_parts(rubric, file))
    return rubric, list(found)  # a copy: callers add to it, and the remembered list must not change
