"""One registry: every part kind has exactly one checker, loaded when first asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from grader.checking.registry import KINDS, checker_for
from grader.rubric.models import PART_MODELS


@pytest.mark.parametrize("kind", sorted(PART_MODELS))
def test_every_part_kind_has_its_checker(kind: str) -> None:
    checker = checker_for(kind)
    assert (checker.kind, checker.part_model) == (kind, PART_MODELS[kind])
    assert checker_for(kind) is checker


def test_no_checker_for_an_unknown_kind() -> None:
    assert KINDS == set(PART_MODELS)
    with pytest.raises(KeyError):
        checker_for("telepathy")


def test_checking_a_formula_does_not_load_the_simulators() -> None:
    code = (
        "import sys; from grader.checking.registry import checker_for; checker_for('symbolic'); "
        "print(sorted(m for m in ('grader.simulation.dynamics', 'grader.simulation.montecarlo', 'scipy.integrate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
