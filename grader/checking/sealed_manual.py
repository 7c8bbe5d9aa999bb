"""Sealed manual parts: proofs and essays, which only a person can grade, and any part whose
kind has no sealed form (it is then checked when the instructor grades, with the open rubric).

The open part's expected elements and reviewer guidance list the key steps of the proof, so a
sealed rubric drops them; the student learns that the part is graded by a person, and no score
is proposed (a proposal from patterns the student cannot see would only mislead). Mistakes
recognised by phrases stay only when the instructor seals with ``--keep-hints``.
"""

from __future__ import annotations

import re

from grader.answers.extract import extract, latex_key
from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, result
from grader.checking.result import PartResult
from grader.rubric.parts import PartBase
from grader.rubric.sealed import SealedManualPart

KIND = "sealed-manual"
REASON = "a person grades this part (proof or free text) when your instructor grades"
LATER = "this part is checked when your instructor grades (a sealed rubric cannot check it)"


def seal_manual(part: PartBase, *, keep_hints: bool, proof: bool = True) -> SealedManualPart:
    """Any part as one the instructor grades; only ids, title, points and target are kept."""
    return SealedManualPart(
        kind=KIND,
        id=part.id,
        title=part.title,
        points=part.points,
        target=part.target,
        mistakes=[m for m in part.mistakes if m.patterns] if keep_hints and proof else [],
        note="" if proof else LATER,
    )


class SealedManualChecker(Checker[SealedManualPart]):
    kind = KIND
    part_model = SealedManualPart

    def check(self, part: SealedManualPart, answer: Answer, ctx: CheckContext) -> PartResult:
        haystacks = (" ".join(answer.text.split()), latex_key(answer.text))
        seen = [m for m in part.mistakes if any(re.search(p, h, re.IGNORECASE) for p in m.patterns for h in haystacks)]
        return result(
            part,
            self.kind,
            verdict="undecided",
            method="manual",
            proposed_score=0.0,
            feedback=[m.feedback for m in seen],
            extracted=extract(answer, None, part_id=part.id, mode="prose"),
            reasons=[part.note or REASON],
            evidence={"mistakes": [m.id for m in seen]},
        )
