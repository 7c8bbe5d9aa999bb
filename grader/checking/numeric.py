"""Numbers (and concrete matrices or sets of numbers) within a tolerance."""

from __future__ import annotations

from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext
from grader.checking.mathcheck import check_math, lint_latex
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.rubric.parts import NumericPart


class NumericChecker(Checker[NumericPart]):
    kind = "numeric"
    part_model = NumericPart

    def lint(self, part: NumericPart, ctx: LintContext) -> list[Problem]:
        problems = lint_latex(part.reference, ctx, part, "reference")
        for mistake in part.mistakes:
            if mistake.answer is not None:
                problems += lint_latex(mistake.answer, ctx, part, f"mistakes.{mistake.id}.answer")
        return problems

    def check(self, part: NumericPart, answer: Answer, ctx: CheckContext) -> PartResult:
        return check_math(part, self.kind, answer, ctx, [part.reference], rtol=part.rtol, atol=part.atol)
