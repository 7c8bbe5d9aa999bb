"""The interface every checker implements, and the context a check runs in."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from grader.answers.models import Answer, Extraction
from grader.checking.result import PartResult, PartStatus, Verdict
from grader.errors import Problem
from grader.math.symbols import SymbolTable
from grader.rubric.parts import Mistake, PartBase

P = TypeVar("P", bound=PartBase)


class CheckContext(BaseModel):
    """Everything a check may depend on besides the part and the answer (so it is reproducible)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    question_id: str
    symbols: SymbolTable
    seed: int
    timeout_s: float = 10.0
    memory_mb: int = 1024


class LintContext(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    question_id: str
    symbols: SymbolTable


class Checker(ABC, Generic[P]):
    kind: ClassVar[str]
    part_model: ClassVar[type[PartBase]]

    def lint(self, part: P, ctx: LintContext) -> list[Problem]:
        """Problems a rubric author must fix in this part (references that do not parse, ...)."""
        return []

    @abstractmethod
    def check(self, part: P, answer: Answer, ctx: CheckContext) -> PartResult:
        """Decide the part. Must not raise for anything a student wrote."""


def result(
    part: PartBase,
    kind: str,
    *,
    verdict: Verdict,
    method: str,
    score: float | None = None,
    status: PartStatus | None = None,
    feedback: list[str] | None = None,
    mistake: Mistake | None = None,
    extracted: Extraction | None = None,
    evidence: dict[str, object] | None = None,
    reasons: list[str] | None = None,
    proposed_score: float | None = None,
) -> PartResult:
    """Build a PartResult with the status and score that follow from the verdict."""
    messages = list(feedback or [])
    if verdict == "right":
        score = part.points if score is None else score
        status = status or "correct"
        if part.feedback_correct:
            messages.append(part.feedback_correct)
    elif verdict == "wrong":
        if mistake is not None:
            score = min(mistake.points, part.points)
            messages.append(mistake.feedback)
        else:
            score = 0 if score is None else score
            if part.feedback_incorrect:
                messages.append(part.feedback_incorrect)
        status = status or ("partial" if score > 0 else "incorrect")
    else:
        proposed_score = 0.0 if proposed_score is None else proposed_score
        score = proposed_score
        status = status or "needs_review"
    return PartResult(
        id=part.id,
        kind=kind,
        status=status,
        verdict=verdict,
        method=method,
        score=round(score, 4),
        max_score=part.points,
        proposed_score=proposed_score,
        feedback=messages,
        mistake=mistake.id if mistake else None,
        extracted=extracted,
        evidence=dict(evidence or {}),
        reasons=list(reasons or []),
    )
