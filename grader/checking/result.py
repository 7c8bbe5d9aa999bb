"""What a checker says about one part: a three-way verdict, the method that decided, the evidence."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.answers.models import Extraction

Verdict = Literal["right", "wrong", "undecided"]
PartStatus = Literal["correct", "partial", "incorrect", "missing", "needs_review", "error"]


class PartResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str = Field(description="the checker that ran")
    status: PartStatus
    verdict: Verdict
    method: str = Field(description="what decided: structural, symbolic, numeric, choice-phrase, manual, ...")
    score: float = Field(description="points given; provisional (the proposed score) when needs_review")
    max_score: float
    proposed_score: float | None = None
    feedback: list[str] = Field(default_factory=list)
    mistake: str | None = Field(default=None, description="id of the rubric mistake that matched")
    extracted: Extraction | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list, description="why a person must look (needs_review)")


def missing_part(part_id: str, kind: str, points: float) -> PartResult:
    return PartResult(
        id=part_id,
        kind=kind,
        status="missing",
        verdict="wrong",
        method="none",
        score=0,
        max_score=points,
        feedback=["No answer was found for this question."],
    )
