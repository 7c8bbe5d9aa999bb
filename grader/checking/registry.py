"""The one place checkers are registered; a rubric part's ``kind`` selects one of them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from grader.checking.base import Checker
from grader.checking.choice import ChoiceChecker, ChoicePart
from grader.checking.manual import ManualChecker, ManualPart
from grader.checking.numeric import NumericChecker, NumericPart
from grader.checking.symbolic import SymbolicChecker, SymbolicPart

AnyPart = Annotated[
    ChoicePart | ManualPart | NumericPart | SymbolicPart,
    Field(discriminator="kind"),
]

CHECKERS: dict[str, Checker[Any]] = {
    checker.kind: checker
    for checker in (ChoiceChecker(), ManualChecker(), NumericChecker(), SymbolicChecker())
}


def checker_for(kind: str) -> Checker[Any]:
    return CHECKERS[kind]
