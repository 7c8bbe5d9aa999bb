"""Fields every rubric part shares, whichever checker decides it.

Checker modules subclass ``PartBase`` with their own ``kind`` and options; the registry joins
them into one discriminated union, so a rubric's TOML is validated per kind with
``extra="forbid"`` and the JSON Schema offers each kind's own fields.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def compiled_patterns(patterns: list[str]) -> list[str]:
    """Validator body: every pattern must be a valid regular expression."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    return patterns


class RubricModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Mistake(RubricModel):
    """A common wrong answer, recognised like a reference, with the feedback it deserves."""

    id: str = Field(description="stable id, used in reports and class statistics (e.g. 'lambda-inverted')")
    answer: str | None = Field(default=None, description="the wrong form, in LaTeX (math checkers)")
    option: str | None = Field(default=None, description="the wrong option's id (choice checker)")
    patterns: list[str] = Field(
        default_factory=list, description="regexes over the answer's prose that reveal it (manual checker)"
    )
    feedback: str = Field(description="what the student should learn from this mistake")
    points: float = Field(default=0, ge=0, description="points the part still earns with this mistake")

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return compiled_patterns(patterns)


class PartTest(RubricModel):
    """An answer the rubric must judge as stated: the rubric's own regression test."""

    answer: str = Field(
        description="what a student writes for this part: the math after 'target =' (math checkers) or prose"
    )
    expect: Literal["right", "wrong", "undecided"]
    mistake: str | None = Field(default=None, description="the mistake id that must be recognised")
    note: str = ""


class PartBase(RubricModel):
    id: str = Field(description="part id, unique within the question (e.g. 'lambda', 'effect')")
    title: str = ""
    points: float = Field(gt=0)
    target: str | None = Field(
        default=None,
        description="what the answer is about, in LaTeX, e.g. '\\lambda^{\\text{dropout}}' or 'J^*'",
    )
    feedback_correct: str = Field(default="", description="shown when the part is right")
    feedback_incorrect: str = Field(default="", description="shown when the part is wrong and no mistake matched")
    mistakes: list[Mistake] = Field(default_factory=list)
    tests: list[PartTest] = Field(default_factory=list, description="answers with the verdict they must get")

    @field_validator("id")
    @classmethod
    def _id_is_simple(cls, value: str) -> str:
        if not value or not all(ch.isalnum() or ch in "-_." for ch in value):
            raise ValueError("use letters, digits, '-', '_' or '.' only")
        return value
