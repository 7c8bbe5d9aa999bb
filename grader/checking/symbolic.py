"""Formulas compared with a reference by the math engine: symbolic, random points, random matrices."""

from __future__ import annotations

from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext
from grader.checking.mathcheck import check_math, lint_latex
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.rubric.parts import SymbolicPart


class SymbolicChecker(Checker[SymbolicPart]):
    kind = "symbolic"
    part_model = SymbolicPart

    def lint(self, part: SymbolicPart, ctx: LintContext) -> list[Problem]:
        problems = lint_latex(part.reference, ctx, part, "reference")
        for index, alternative in enumerate(part.alternatives):
            problems += lint_latex(alternative, ctx, part, f"alternatives[{index}]")
        for mistake in part.mistakes:
            if mistake.answer is not None:
                problems += lint_latex(mistake.answer, ctx, part, f"mistakes.{mistake.id}.answer")
        return problems

    def check(self, part: SymbolicPart, answer: Answer, ctx: CheckContext) -> PartResult:
        references = [part.reference, *part.alternatives]
        return check_math(part, self.kind, answer, ctx, references, rtol=part.rtol, atol=part.atol)
