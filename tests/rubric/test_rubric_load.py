"""Rubric loading: the flagship rubric is valid; every kind of mistake gets a located, fixable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checking.lint import lint_rubric, load_rubric
from grader.errors import RubricError
from grader.rubric.load import rubric_schema

ROOT = Path(__file__).resolve().parents[2]
A3 = ROOT / "rubrics" / "a3"

EXPECTED_IDS = "1.1 1.2 1.3 1.4 2.1 2.2 2.3a 2.3b 2.3c 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 5.5 5.6".split()

MINIMAL = """
[assignment]
id = "t"
title = "test"

[[questions]]
id = "1"
points = 2

  [[questions.parts]]
  id = "a"
  kind = "symbolic"
  points = 2
  reference = '\\frac{1-p}{p}'
"""


def test_flagship_rubric_is_valid_and_complete() -> None:
    rubric = load_rubric(A3)
    assert [q.id for q in rubric.questions] == EXPECTED_IDS
    assert rubric.max_score == 66
    assert lint_rubric(A3) == []


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "rubric.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_minimal_rubric_loads(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path, MINIMAL))
    assert rubric.questions[0].parts[0].kind == "symbolic"


@pytest.mark.parametrize(
    ("edit", "code", "question", "part", "field", "fragment"),
    [
        (lambda t: t.replace('kind = "symbolic"', 'kind = "symbolc"'), "rubric.union_tag_invalid", "1", "a", None, "unknown kind 'symbolc'"),
        (lambda t: t.replace("reference =", "refrence ="), "rubric.extra_forbidden", "1", "a", "refrence", "did you mean 'reference'"),
        (lambda t: t.replace("reference =", "# reference ="), "rubric.missing", "1", "a", "reference", "required field is missing"),
        (lambda t: t.replace("points = 2\n\n", "points = 3\n\n", 1), "rubric.value_error", "1", None, None, "add up to 2"),
        (lambda t: t.replace('title = "test"', 'title = "test"\ntotal_points = 10'), "rubric.value_error", None, None, None, "assignment.total_points is 10"),
        (lambda t: t.replace("'\\frac{1-p}{p}'", "'\\frac{1-p}{p'"), "rubric.reference_unparseable", "1", "a", "reference", "does not parse"),
        (lambda t: t + '\n[symbols.p]\nkind = "scalar"\ndomain = "between 0 and 1"\n', "rubric.value_error", None, None, "symbols.p.domain", "unknown domain"),
    ],
)
def test_rubric_problems_are_located(tmp_path: Path, edit, code, question, part, field, fragment) -> None:  # type: ignore[no-untyped-def]
    folder = _write(tmp_path, edit(MINIMAL))
    problems = lint_rubric(folder)
    assert problems, "the broken rubric must be reported"
    problem = next((p for p in problems if p.code == code), None)
    assert problem is not None, problems
    assert problem.question == question
    assert problem.part == part
    assert problem.field == field
    assert fragment in problem.one_line()
    assert problem.file == str(folder / "rubric.toml")
    assert problem.fix
    with pytest.raises(RubricError):
        load_rubric(folder)


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    problems = lint_rubric(_write(tmp_path, MINIMAL.replace('id = "t"', 'id = "t')))
    assert [p.code for p in problems] == ["rubric.toml_syntax"]
    assert "line" in problems[0].message


def test_missing_rubric_folder(tmp_path: Path) -> None:
    problems = lint_rubric(tmp_path)
    assert [p.code for p in problems] == ["rubric.not_found"]


def test_schema_is_json_with_part_kinds() -> None:
    import json

    schema = json.loads(rubric_schema())
    text = json.dumps(schema)
    for kind in ("choice", "manual", "numeric", "symbolic"):
        assert f'"const": "{kind}"' in text or f'"enum": ["{kind}"]' in text
