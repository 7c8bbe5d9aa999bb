"""Choices stated in prose or as an inequality: "which is bigger", "reverse or forward KL".

An option is recognised by phrases (regular expressions over the answer's prose) or by the
direction of an inequality between named terms (``amortized > instance``). Relations are the
student's formal statement, so they win over prose, and the last relation is the conclusion.
Conflicting prose is not guessed at: it goes to a person.
"""

from __future__ import annotations

import re
from typing import Any

from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.rubric.parts import RELATION, ChoicePart
from grader.submission.extract import extract, latex_key
from grader.submission.models import Answer
from grader.submission.prose import prose_text, relations_in, split_paragraphs, split_sentences


def _bigger_smaller(relation: str) -> tuple[str, str]:
    """``a > b`` and ``b < a`` both mean (bigger=a, smaller=b); strictness does not matter here."""
    match = RELATION.match(relation)
    assert match is not None
    left, op, right = match.groups()
    return (left, right) if op in (">", ">=") else (right, left)


class ChoiceChecker(Checker[ChoicePart]):
    kind = "choice"
    part_model = ChoicePart

    def lint(self, part: ChoicePart, ctx: LintContext) -> list[Problem]:
        problems = []
        for option in part.options:
            if not option.patterns and not option.relations:
                problems.append(
                    Problem(
                        code="rubric.choice_unrecognisable",
                        message=f"option {option.id!r} has neither patterns nor relations, so no answer can select it",
                        file=ctx.file,
                        question=ctx.question_id,
                        part=part.id,
                        field="options",
                        fix="add 'patterns' (phrases) or 'relations' (inequalities between terms)",
                    )
                )
        return problems

    def check(self, part: ChoicePart, answer: Answer, ctx: CheckContext) -> PartResult:
        text = answer.text
        if part.scope:
            scope = re.compile(part.scope, re.IGNORECASE)
            text = "\n\n".join(p for p in split_paragraphs(text) if scope.search(p))
            if len(self._found(part, text)) > 1:
                # One paragraph may hold every scenario: narrow to the sentences that name this one.
                text = " ".join(s for s in split_sentences(text) if scope.search(s))
            if not text.strip():
                return result(
                    part,
                    self.kind,
                    verdict="undecided",
                    method="choice",
                    reasons=["the part of the answer this asks about was not found"],
                    evidence={"scope": part.scope},
                )
        extraction = extract(answer, None, part_id=part.id, mode="prose")
        by_relation = self._from_relations(part, text)
        by_phrase = self._from_phrases(part, text)
        evidence: dict[str, object] = {"relations": by_relation, "phrases": by_phrase}
        if by_relation:
            chosen, method = by_relation[-1]["option"], "choice-relation"
        else:
            found = self._found(part, text, by_phrase)
            if not found:
                return result(
                    part,
                    self.kind,
                    verdict="undecided",
                    method="choice-phrase",
                    extracted=extraction,
                    evidence=evidence,
                    reasons=["none of the options was recognised in the answer"],
                )
            if len(found) > 1:
                return result(
                    part,
                    self.kind,
                    verdict="undecided",
                    method="choice-phrase",
                    extracted=extraction,
                    evidence=evidence,
                    reasons=[f"the answer mentions several options ({', '.join(found)})"],
                )
            chosen, method = found[0], "choice-phrase"
        evidence["chosen"] = chosen
        label = next(o.label or o.id for o in part.options if o.id == chosen)
        if chosen == part.answer:
            return result(part, self.kind, verdict="right", method=method, extracted=extraction, evidence=evidence)
        mistake = next((m for m in part.mistakes if m.option == chosen), None)
        return result(
            part,
            self.kind,
            verdict="wrong",
            method=method,
            mistake=mistake,
            extracted=extraction,
            evidence=evidence,
            feedback=[f"Your answer reads as: {label}."],
        )

    def _found(self, part: ChoicePart, text: str, hits: list[dict[str, Any]] | None = None) -> list[str]:
        """Options the prose supports, after each option's overrides remove the ones it wins over."""
        found = {hit["option"] for hit in (self._from_phrases(part, text) if hits is None else hits)}
        beaten = {other for option in part.options if option.id in found for other in option.overrides}
        return sorted(found - beaten)

    def _from_relations(self, part: ChoicePart, text: str) -> list[dict[str, Any]]:
        """Each inequality between two named terms, in order, with the option it supports."""
        if not part.terms:
            return []
        terms = {name: re.compile(pattern) for name, pattern in part.terms.items()}
        wanted = {
            _bigger_smaller(relation): option.id for option in part.options for relation in option.relations
        }
        hits: list[dict[str, Any]] = []
        for left, op, right in relations_in(text):
            left_terms = [name for name, rx in terms.items() if rx.search(latex_key(left))]
            right_terms = [name for name, rx in terms.items() if rx.search(latex_key(right))]
            if len(left_terms) != 1 or len(right_terms) != 1 or left_terms == right_terms:
                continue
            pair = (left_terms[0], right_terms[0]) if op in (">", ">=") else (right_terms[0], left_terms[0])
            if pair in wanted:
                hits.append({"option": wanted[pair], "relation": f"{pair[0]} > {pair[1]}", "latex": f"{left} {op} {right}"})
        return hits

    def _from_phrases(self, part: ChoicePart, text: str) -> list[dict[str, Any]]:
        prose = prose_text(text)
        hits: list[dict[str, Any]] = []
        for option in part.options:
            for pattern in option.patterns:
                match = re.search(pattern, prose, re.IGNORECASE)
                if match:
                    hits.append({"option": option.id, "phrase": match.group(0)[:200], "at": match.start()})
        return sorted(hits, key=lambda hit: hit["at"])
