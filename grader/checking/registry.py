"""The one place checkers are registered; a rubric part's ``kind`` selects one of them.

The ``sealed-*`` kinds are what ``grader rubric seal`` turns the open kinds into: the same
questions, checked against fingerprints instead of reference answers.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from grader.checking.base import Checker
from grader.checking.choice import ChoiceChecker, ChoicePart
from grader.checking.derivation import DerivationChecker, DerivationPart
from grader.checking.divergence import DivergenceChecker, DivergencePart
from grader.checking.dynamics import DynamicsChecker, DynamicsPart
from grader.checking.manual import ManualChecker, ManualPart
from grader.checking.numeric import NumericChecker, NumericPart
from grader.checking.sealed_choice import SealedChoiceChecker, SealedChoicePart
from grader.checking.sealed_manual import SealedManualChecker, SealedManualPart
from grader.checking.sealed_math import SealedMathChecker, SealedMathPart
from grader.checking.symbolic import SymbolicChecker, SymbolicPart

AnyPart = Annotated[
    ChoicePart | ManualPart | NumericPart | SymbolicPart | SealedMathPart | SealedChoicePart | SealedManualPart
    | DerivationPart | DynamicsPart | DivergencePart,
    Field(discriminator="kind"),
]

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


def checker_for(kind: str) -> Checker[Any]:
    return CHECKERS[kind]
