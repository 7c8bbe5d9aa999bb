"""``grader rubric lint``: undeclared names, alternatives that are not the reference, mistakes that
are, and failing rubric tests, each with file, line, question, field and a fix (exact messages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.authoring.lint import lint_fully, names_used
from grader.cli import main
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import ParseError

HEAD = """[assignment]
id = "stats"
title = "Lint fixture"

[symbols.a]
kind = "scalar"

[symbols.n]
kind = "scalar"
domain = "positive"

[[questions]]
id = "1"
points = 2

  [[questions.parts]]
  id = "mean"
  kind = "symbolic"
  points = 2
  target = 'm'
"""


def _lint(tmp_path: Path, part: str) -> tuple[int, str, str]:
    (tmp_path / "rubric.toml").write_text(HEAD + part, encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "lint", str(tmp_path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_undeclared_name_in_reference_is_rejected_with_line_and_fix(tmp_path: Path) -> None:
    code, out, err = _lint(tmp_path, "  reference = '\\frac{a + b}{2}'\n")
    file = tmp_path / "rubric.toml"
    assert (code, out) == (1, "")
    assert err == (
        f"error: {file}:21: question 1, part mean, field reference: 'b' is not declared, so it would be read as an "
        "unknown number; declare it: [symbols.b] with kind = \"scalar\" (or \"matrix\", \"function\"), or correct the "
        "spelling [rubric.undeclared_name]\n1 problem(s) found\n"
    )


def test_undeclared_names_in_alternatives_and_mistakes(tmp_path: Path) -> None:
    part = """  reference = 'a^2'
  alternatives = ['a \\cdot a',
    'a a + 0 c']

    [[questions.parts.mistakes]]
    id = "doubled"
    answer = '2 k'
    feedback = "squared, not doubled"
"""
    code, _, err = _lint(tmp_path, part)
    assert code == 1
    lines = err.splitlines()
    assert lines[0].split(": question")[0].endswith("rubric.toml:23")  # the second item of a multi-line array
    assert "field alternatives[1]: 'c' is not declared" in lines[0]
    assert lines[1].split(": question")[0].endswith("rubric.toml:27")
    assert "field mistakes[doubled].answer: 'k' is not declared" in lines[1]
    assert lines[2] == "2 problem(s) found"


def test_non_equivalent_alternative_is_rejected(tmp_path: Path) -> None:
    code, out, err = _lint(tmp_path, "  reference = '\\frac{a}{n}'\n  alternatives = ['\\frac{a}{n - 1}']\n")
    file = tmp_path / "rubric.toml"
    assert (code, out) == (1, "")
    first, summary = err.splitlines()
    assert first.startswith(
        f"error: {file}:22: question 1, part mean, field alternatives[0]: the alternative '\\\\frac{{a}}{{n - 1}}' is not "
        "equivalent to the reference '\\\\frac{a}{n}' ("
    )
    assert first.endswith("; correct the alternative or remove it: every alternative must equal the reference [rubric.alternative_not_equivalent]")
    assert summary == "1 problem(s) found"


def test_mistake_equal_to_the_reference_and_failing_test(tmp_path: Path) -> None:
    part = """  reference = '\\frac{a}{n}'

    [[questions.parts.mistakes]]
    id = "same"
    answer = 'a n^{-1}'
    feedback = "this is the reference"

    [[questions.parts.tests]]
    answer = '\\frac{a}{n+1}'
    expect = "right"
"""
    code, _, err = _lint(tmp_path, part)
    file = tmp_path / "rubric.toml"
    lines = err.splitlines()
    assert code == 1
    assert lines[0] == (
        f"error: {file}:25: question 1, part mean, field mistakes[same].answer: the mistake 'a n^{{-1}}' is equivalent to "
        "the reference, so a student writing it gets full marks; correct the mistake's answer, or remove the mistake "
        "[rubric.mistake_accepted]"
    )
    assert lines[1].startswith(f"error: {file}:28: question 1, part mean, field tests[0]: test answer '\\\\frac{{a}}{{n+1}}': expected right, got wrong")
    assert lines[2] == "2 problem(s) found"


def test_no_tests_option_skips_comparisons(tmp_path: Path) -> None:
    code, out, _ = _lint(tmp_path, "  reference = '\\frac{a}{n}'\n  alternatives = ['\\frac{a}{n - 1}']\n")
    assert code == 1
    result = CliRunner().invoke(main, ["rubric", "lint", "--no-tests", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (0, f"{tmp_path}: ok\n")


def test_clean_rubric_is_ok(tmp_path: Path) -> None:
    code, out, err = _lint(tmp_path, "  reference = '\\frac{a}{n}'\n  alternatives = ['a n^{-1}']\n")
    assert (code, out, err) == (0, f"{tmp_path}: ok\n", "")


@pytest.mark.parametrize(
    ("latex", "names"),
    [
        (r"\sum_{i=1}^n x_i", ["x_i", "n"]),
        (r"\lim_{t \to 0} \frac{a t}{t}", ["a"]),
        (r"\frac{d}{dt} a t^2", ["a"]),
        (r"\frac{p(x)}{p(x) + a}", ["a"]),
        (r"a + b", ["a", "b"]),
    ],
)
def test_names_used_leaves_out_bound_variables(latex: str, names: list[str]) -> None:
    table = SymbolTable.model_validate({"symbols": {"p": {"kind": "function"}}})
    parsed = parse_latex(latex, table)
    assert not isinstance(parsed, ParseError)
    assert names_used(parsed.tree, table) == names


def test_lint_fully_on_a_broken_file_reports_the_schema_problem(tmp_path: Path) -> None:
    (tmp_path / "rubric.toml").write_text('[assignment]\nid = "x"\n', encoding="utf-8")
    problems = lint_fully(tmp_path)
    assert [p.code for p in problems] == ["rubric.missing", "rubric.missing"]
