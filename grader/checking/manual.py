"""Answers no machine can decide (proofs, essays): route to a person with a proposed score.

The proposal is the weighted share of expected elements found in the text, capped by any
recognised mistake. It is never ``correct``: a proof whose last line repeats the statement
of the question has proved nothing a machine can see.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from grader.answers.extract import extract, latex_key
from grader.answers.models import Answer
from grader.answers.prose import prose_text
from grader.checking.base import CheckContext, Checker, result
from grader.checking.result import PartResult
from grader.rubric.parts import ExpectedElement, ManualPart, Mistake


def round_half(value: float) -> float:
    """Down to a half point: a proposal never gives more than the evidence supports."""
    return math.floor(value * 2 + 1e-9) / 2


@dataclass(frozen=True)
class ElementReview:
    """Which expected elements and recognised mistakes the text shows (shared with derivations)."""

    found: list[ExpectedElement]
    missing: list[ExpectedElement]
    mistakes: list[Mistake]

    @property
    def share(self) -> float:
        """Weighted share of expected elements found; 0.5 when the rubric lists none (no evidence either way)."""
        total = sum(e.weight for e in (*self.found, *self.missing))
        return sum(e.weight for e in self.found) / total if total else 0.5

    def cap(self, proposed: float) -> float:
        for mistake in self.mistakes:
            proposed = min(proposed, mistake.points)
        return proposed

    def reasons(self) -> list[str]:
        out = [f"found: {e.description}" for e in self.found]
        out += [f"not found: {e.description}" for e in self.missing]
        out += [f"recognised mistake: {m.id}" for m in self.mistakes]
        return out

    def evidence(self) -> dict[str, object]:
        return {"found": [e.id for e in self.found], "missing": [e.id for e in self.missing], "mistakes": [m.id for m in self.mistakes]}


def review_elements(expected: list[ExpectedElement], mistakes: list[Mistake], answer: Answer) -> ElementReview:
    # Prose patterns read the text as written; math patterns read the compact LaTeX key
    # (fonts, spacing and single-token braces removed), so either kind of pattern can match.
    haystacks = (prose_text(answer.text), latex_key(answer.text))

    def seen(patterns: list[str]) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in patterns for text in haystacks)

    found = [e for e in expected if seen(e.patterns)]
    missing = [e for e in expected if e not in found]
    return ElementReview(found, missing, [m for m in mistakes if m.patterns and seen(m.patterns)])


class ManualChecker(Checker[ManualPart]):
    kind = "manual"
    part_model = ManualPart

    def check(self, part: ManualPart, answer: Answer, ctx: CheckContext) -> PartResult:
        review = review_elements(part.expected, part.mistakes, answer)
        proposed = review.cap(round_half(part.points * review.share))
        return result(
            part,
            self.kind,
            verdict="undecided",
            method="manual",
            proposed_score=proposed,
            feedback=[m.feedback for m in review.mistakes],
            extracted=extract(answer, None, part_id=part.id, mode="prose"),
            reasons=["a person must judge this answer (proof or free text)", *review.reasons()],
            evidence=review.evidence(),
        )
