"""Answers no machine can decide (proofs, essays): route to a person with a proposed score.

The proposal is the weighted share of expected elements found in the text, capped by any
recognised mistake. It is never ``correct``: a proof whose last line repeats the statement
of the question has proved nothing a machine can see.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator

from grader._internal.latex_text import prose_text
from grader.checking.base import CheckContext, Checker, result
from grader.checking.result import PartResult
from grader.rubric.base import PartBase, RubricModel, compiled_patterns
from grader.submission.extract import extract, latex_key
from grader.submission.models import Answer


class ExpectedElement(RubricModel):
    id: str
    description: str = Field(description="what a good answer contains, for the reviewer and the student")
    patterns: list[str] = Field(min_length=1, description="regexes (case-insensitive); any one found counts")
    weight: float = Field(default=1.0, gt=0)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return compiled_patterns(patterns)


class ManualPart(PartBase):
    kind: Literal["manual"]
    guidance: str = Field(default="", description="notes for the person who reviews")
    expected: list[ExpectedElement] = Field(default_factory=list)


def _round_half(value: float) -> float:
    return math.floor(value * 2 + 1e-9) / 2


class ManualChecker(Checker[ManualPart]):
    kind = "manual"
    part_model = ManualPart

    def check(self, part: ManualPart, answer: Answer, ctx: CheckContext) -> PartResult:
        # Prose patterns read the text as written; math patterns read the compact LaTeX key
        # (fonts, spacing and single-token braces removed), so either kind of pattern can match.
        haystacks = (prose_text(answer.text), latex_key(answer.text))

        def seen(patterns: list[str]) -> bool:
            return any(re.search(p, text, re.IGNORECASE) for p in patterns for text in haystacks)

        found, missing = [], []
        for element in part.expected:
            if seen(element.patterns):
                found.append(element)
            else:
                missing.append(element)
        total = sum(e.weight for e in part.expected)
        share = sum(e.weight for e in found) / total if total else 0.5
        proposed = _round_half(part.points * share)
        feedback: list[str] = []
        mistakes = [m for m in part.mistakes if m.patterns and seen(m.patterns)]
        for mistake in mistakes:
            proposed = min(proposed, mistake.points)
            feedback.append(mistake.feedback)
        reasons = ["a person must judge this answer (proof or free text)"]
        reasons += [f"found: {e.description}" for e in found]
        reasons += [f"not found: {e.description}" for e in missing]
        reasons += [f"recognised mistake: {m.id}" for m in mistakes]
        return result(
            part,
            self.kind,
            verdict="undecided",
            method="manual",
            proposed_score=proposed,
            feedback=feedback,
            extracted=extract(answer, None, part_id=part.id, mode="prose"),
            reasons=reasons,
            evidence={
                "found": [e.id for e in found],
                "missing": [e.id for e in missing],
                "mistakes": [m.id for m in mistakes],
            },
        )
