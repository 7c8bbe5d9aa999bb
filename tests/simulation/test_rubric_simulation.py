"""The rubric's [random] and [systems] tables: shared with the parts that simulate, linted at load time."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from grader.checking.lint import lint_rubric
from grader.rubric.models import Rubric

BASE = """
[assignment]
id = "t"
title = "t"

[dimensions]
n = 4
d = 2

[symbols.X]
kind = "matrix"
shape = ["n", "d"]

[symbols.R]
kind = "matrix"
shape = ["n", "d"]

[symbols.p]
kind = "scalar"
domain = "(0, 1)"

[symbols.gamma]
kind = "scalar"
domain = "positive"

[random.R]
distribution = "bernoulli"
parameter = "p"

[systems.decay]
variables = ["a", "b"]
field = '\\begin{pmatrix} -\\gamma a \\\\ -b \\end{pmatrix}'
equilibrium = [0, 0]

[[questions]]
id = "1"
points = 3

  [[questions.parts]]
  id = "proof"
  kind = "derivation"
  points = 1

  [[questions.parts]]
  id = "stationary"
  kind = "dynamics"
  mode = "stationary"
  system = "decay"
  target = '(a^*, b^*)'
  points = 1

  [[questions.parts]]
  id = "manual"
  kind = "manual"
  points = 1
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(text: str) -> Rubric:
    import tomllib

    return Rubric.model_validate(tomllib.loads(text))


def test_tables_reach_the_parts_that_simulate() -> None:
    rubric = _load(BASE)
    proof, stationary, manual = rubric.questions[0].parts
    assert set(proof.random) == {"R"}  # type: ignore[union-attr]
    assert set(stationary.systems) == {"decay"}  # type: ignore[union-attr]
    assert not hasattr(manual, "random")


def test_a_part_may_declare_its_own_table() -> None:
    text = BASE.replace('  kind = "derivation"\n', '  kind = "derivation"\n  random = { R = { distribution = "bernoulli", parameter = 0.3 } }\n')
    proof = _load(text).questions[0].parts[0]
    assert proof.random["R"].parameter == 0.3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('system = "decay"', 'system = "nothing"'), "is not declared"),
        (('parameter = "p"', 'parameter = 1.5'), "between 0 and 1"),
        (("equilibrium = [0, 0]", "equilibrium = [0, 0, 0]"), "3 coordinates"),
        (('  mode = "stationary"\n', '  mode = "stability"\n'), "needs 'options'"),
    ],
)
def test_invalid_declarations_are_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _load(BASE.replace(*change))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (('parameter = "p"', 'parameter = "gamma"'), "rubric.random_invalid"),  # may leave [0, 1]
        (("[random.R]", "[random.Q]"), "rubric.random_invalid"),  # not declared
        ((r"-\gamma a", r"1 - \gamma a"), "rubric.system_invalid"),  # not zero at the equilibrium
        ((r"-\gamma a \\ -b", r"-\gamma a"), "rubric.system_invalid"),  # one component for two variables
    ],
)
def test_lint_finds_simulation_problems(tmp_path: Path, change: tuple[str, str], code: str) -> None:
    assert change[0] in BASE
    problems = lint_rubric(_write(tmp_path, BASE.replace(*change)))
    assert code in {p.code for p in problems}, problems


def test_the_flagship_rubric_lints_clean() -> None:
    assert lint_rubric(Path(__file__).resolve().parents[2] / "rubrics" / "a3") == []
