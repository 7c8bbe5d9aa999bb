"""The one place checkers are registered; a rubric part's ``kind`` selects one of them.

The ``sealed-*`` kinds are what ``grader rubric seal`` turns the open kinds into: the same
questions, checked against fingerprints instead of reference answers.
"""

from __future__ import annotations

from typing import Any

from grader.checking.base import Checker
from grader.checking.choice import ChoiceChecker
from grader.checking.derivation import DerivationChecker
from grader.checking.divergence import DivergenceChecker
from grader.checking.dynamics import DynamicsChecker
from grader.checking.manual import ManualChecker
from grader.checking.numeric import NumericChecker
from grader.checking.sealed_choice import SealedChoiceChecker
from grader.checking.sealed_manual import SealedManualChecker
from grader.checking.sealed_math import SealedMathChecker
from grader.checking.symbolic import SymbolicChecker
from grader.rubric.models import PART_MODELS

CHECKERS: dict[str, Checker[Any]] = {
    checker.kind: checker
    for checker in (
        ChoiceChecker(),
        ManualChecker(),
        NumericChecker(),
        SymbolicChecker(),
        SealedMathChecker(),
        SealedChoiceChecker(),
        SealedManualChecker(),
        DerivationChecker(),
        DynamicsChecker(),
        DivergenceChecker(),
    )
}

#: Kinds whose answer is a formula (checked through grader.checking.mathcheck).
MATH_KINDS = frozenset({"symbolic", "numeric", "sealed-math"})
SEALED_KINDS = frozenset({"sealed-math", "sealed-choice", "sealed-manual"})


if {kind: checker.part_model for kind, checker in CHECKERS.items()} != PART_MODELS:
    raise RuntimeError("every part kind of the rubric needs exactly one checker")  # a wiring bug, caught at import


def checker_for(kind: str) -> Checker[Any]:
    return CHECKERS[kind]
