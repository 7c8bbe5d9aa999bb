"""Proofs whose displayed chain of equalities is checked step by step, then routed to a person.

A "show that" answer still needs a person (the last line is the statement of the question), but
a machine can say which lines hold and which do not: each displayed equality is tested on random
instances (see :mod:`grader.simulation.derivation`). The proposed score combines the expected
elements found (as for ``manual``) with the share of checked steps that hold, and the first
failing step is named in the feedback with its line.
"""

from __future__ import annotations

import time

from grader.answers.extract import extract
from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.lint_random import lint_random
from grader.checking.manual import review_elements, round_half
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import ParseError
from grader.rubric.parts import DerivationPart
from grader.simulation.derivation import (
    StepChecker,
    StepResult,
    check_steps,
    local_definitions,
    parse_definitions,
    read_steps,
)
from grader.simulation.montecarlo import FALSE_REJECT, Model

#: the share of the time limit the steps may use (the rest is for building the result)
_TIME_SHARE = 0.6


class DerivationChecker(Checker[DerivationPart]):
    kind = "derivation"
    part_model = DerivationPart

    def lint(self, part: DerivationPart, ctx: LintContext) -> list[Problem]:
        problems = lint_random(part.random, ctx, part)

        def problem(field: str, message: str, fix: str) -> Problem:
            return Problem(
                code="rubric.definition_invalid", message=message, file=ctx.file, question=ctx.question_id, part=part.id, field=field, fix=fix
            )

        try:
            parse_definitions(part.definitions, ctx.symbols)
        except ValueError as error:
            problems.append(problem("definitions", str(error), "write the name as a symbol or a call such as 'L(w)', and the body in LaTeX"))
        for variable, best in part.maximizers.items():
            if isinstance(parse_latex(best, ctx.symbols), ParseError):
                problems.append(problem(f"maximizers.{variable}", f"{best!r} does not parse", "name the maximizer as a symbol, e.g. 'D^*'"))
        return problems

    def check(self, part: DerivationPart, answer: Answer, ctx: CheckContext) -> PartResult:
        started = time.monotonic()
        review = review_elements(part.expected, part.mistakes, answer)
        symbols = local_symbols(ctx.symbols, part.scalars)
        definitions = parse_definitions(part.definitions, symbols)
        model = Model(symbols, part.random, samples=part.samples)
        known = frozenset(definitions) | frozenset(part.random)
        local = local_definitions(answer, symbols, known)
        checker = StepChecker(
            model=model,
            definitions={**local, **definitions},
            maximizers=part.maximizers,
            seed=ctx.seed,
            instances=part.instances,
        )
        steps = read_steps(answer, symbols)
        results = check_steps(steps, checker, deadline=started + _TIME_SHARE * ctx.timeout_s)
        holding = sum(r.status == "holds" for r in results)
        failing = [r for r in results if r.failing]
        checked = holding + len(failing)
        # One wrong step in a long correct chain costs little; a chain that mostly fails costs most.
        step_share = (holding + 1) / (checked + 1)
        proposed = review.cap(round_half(part.points * review.share * step_share))
        feedback = [m.feedback for m in review.mistakes]
        first = failing[0] if failing else None
        if first is not None:
            feedback.insert(0, f"first failing step: line {first.line}: {first.claim}: {first.status}: {first.detail}")
        counts = {status: sum(r.status == status for r in results) for status in ("holds", "fails", "shape error", "unparseable", "skipped")}
        summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no displayed equalities"
        reasons = ["a person must judge this proof; its displayed steps were checked numerically", f"steps: {summary}"]
        if len(failing) > 1:
            reasons.append("also failing: " + ", ".join(f"line {r.line} ({r.status})" for r in failing[1:6]))
        reasons += review.reasons()
        evidence: dict[str, object] = {
            **review.evidence(),
            "steps": [r.as_json() for r in results],
            "method": _method(checker.methods),
            "seed": ctx.seed,
            "instances_per_step": part.instances,
            "false_reject_rate_per_step": FALSE_REJECT,
        }
        if checker.samples:
            evidence["samples"] = checker.samples
        if first is not None:
            evidence["first_failing_line"] = first.line
        if local:
            evidence["student_definitions"] = sorted(local)
        return result(
            part,
            self.kind,
            verdict="undecided",
            method="derivation",
            proposed_score=proposed,
            feedback=feedback,
            extracted=extract(answer, None, part_id=part.id, mode="prose"),
            reasons=reasons,
            evidence=evidence,
        )


def local_symbols(symbols: SymbolTable, scalars: list[str]) -> SymbolTable:
    """The rubric's symbols with ``scalars`` undeclared, so they read as plain scalars in this part."""
    if not scalars:
        return symbols
    kept = {name: decl for name, decl in symbols.symbols.items() if name not in scalars}
    return SymbolTable(symbols=kept, dimensions=dict(symbols.dimensions))


def _method(methods: set[str]) -> str:
    order = ("monte-carlo", "quadrature", "exact")
    chosen = [m for m in order if m in methods]
    return " + ".join(chosen) if chosen else "none"


__all__ = ["DerivationChecker", "DerivationPart", "StepResult"]
