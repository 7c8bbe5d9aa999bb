"""A divergence written with a trained discriminator, checked against the divergence itself.

The student's expression (e.g. JSD(p_0, p_1) = ½(E_{p_1}[log D*] + E_{p_0}[log(1 − D*)]) + log 2)
is evaluated for pairs of declared densities (two Gaussians, drawn per instance from the
rubric's ranges) with the optimal discriminator substituted, and compared with the divergence
computed by adaptive quadrature. A form that is right for every pair is right; one pair where it
is not is the counterexample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.answers.extract import extract, latex_key
from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.derivation import local_symbols
from grader.checking.lint_random import lint_random
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.evaluate import EvalError, entries, format_value, pretty_name
from grader.math.latex import parse_latex
from grader.math.tree import Node, ParseError
from grader.rubric.parts import DivergencePart, Mistake
from grader.simulation.derivation import parse_definitions
from grader.simulation.divergence import divergence
from grader.simulation.montecarlo import Instance, Model, evaluate_side, free_names
from grader.simulation.trees import mentions, replace_maximizers, substitute

_NAMES = {"jsd": ("JSD", "JS", "D_JS", "D_JSD"), "kl": ("KL", "D_KL")}


class DivergenceChecker(Checker[DivergencePart]):
    kind = "divergence"
    part_model = DivergencePart

    def lint(self, part: DivergencePart, ctx: LintContext) -> list[Problem]:
        problems = lint_random(part.random, ctx, part)
        for name in part.between:
            if name not in part.random:
                problems.append(
                    Problem(
                        code="rubric.random_invalid", message=f"{name!r} has no distribution", file=ctx.file, question=ctx.question_id,
                        part=part.id, field="between", fix=f"declare [random.{name}] with distribution = 'normal'",
                    )
                )  # fmt: skip
        try:
            parse_definitions(part.definitions, ctx.symbols)
        except ValueError as error:
            problems.append(
                Problem(code="rubric.definition_invalid", message=str(error), file=ctx.file, question=ctx.question_id, part=part.id, field="definitions", fix="write the body in LaTeX")
            )
        return problems

    def check(self, part: DivergencePart, answer: Answer, ctx: CheckContext) -> PartResult:
        symbols = local_symbols(ctx.symbols, part.scalars)
        extraction = extract(answer, part.target, part_id=part.id)
        if extraction.latex is None:
            return result(part, self.kind, verdict="undecided", method="none", extracted=extraction, reasons=["no formula was found in the answer"])
        parsed = parse_latex(extraction.latex, symbols)
        if isinstance(parsed, ParseError):
            return result(
                part, self.kind, verdict="undecided", method="parse", extracted=extraction,
                reasons=[f"the formula could not be read: {parsed.message}"], feedback=[f"grader could not read your formula: {parsed.message}"],
            )  # fmt: skip
        model = Model(symbols, part.random)
        definitions = parse_definitions(part.definitions, symbols)
        mistake = next((m for m in part.mistakes if m.patterns and _matches(m, extraction.latex)), None)
        tree, notes = _prepared(parsed.tree, definitions, part.maximizers)
        if mentions(tree, set(_NAMES[part.divergence])):
            return result(part, self.kind, verdict="undecided", method="quadrature", extracted=extraction, reasons=["the expression uses the divergence itself"])
        free = [n for n in free_names(tree, model) if n not in part.random]
        evidence: dict[str, Any] = {"method": "quadrature (scipy.integrate.quad for the divergence, Gauss–Legendre for the expression)", "seed": ctx.seed}
        name = _NAMES[part.divergence][0]
        if free:
            why = f"your expression depends on {', '.join(map(pretty_name, free))}, but {name}({', '.join(part.between)}) is a number"
            return result(part, self.kind, verdict="wrong", method="quadrature", extracted=extraction, evidence=evidence, mistake=mistake, feedback=[_join(why, notes)])
        pairs: list[dict[str, Any]] = []
        for index in range(part.instances):
            rng = np.random.default_rng([ctx.seed, index])
            instance = model.instance([tree], rng)
            try:
                value = _number(evaluate_side(tree, model, instance))
            except EvalError as error:
                return result(part, self.kind, verdict="undecided" if mistake is None else "wrong", method="quadrature", extracted=extraction,
                              evidence=evidence, mistake=mistake, reasons=[_join(error.reason, notes)])  # fmt: skip
            p, q = (instance.densities[n] for n in part.between)
            reference = divergence(part.divergence, p, q)
            pairs.append({"densities": _densities(instance, part.between), "yours": _round(value), "reference": _round(reference)})
            evidence["pairs"] = pairs
            if abs(value - reference) > part.atol + part.rtol * abs(reference):
                densities = ", ".join(d.text() for d in (p, q))
                why = f"for {densities}: yours gives {format_value(value, 5)}, but {name} = {format_value(reference, 5)}"
                return result(part, self.kind, verdict="wrong", method="quadrature", extracted=extraction, evidence=evidence, mistake=mistake, feedback=[_join(why, notes)])
        confirmed = f"Matches {name} computed by quadrature for {len(pairs)} pairs of Gaussians."
        return result(part, self.kind, verdict="right", method="quadrature", extracted=extraction, evidence=evidence, feedback=[confirmed])


def _prepared(tree: Node, definitions: Any, maximizers: dict[str, str]) -> tuple[Node, list[str]]:
    tree = substitute(tree, definitions)
    tree, notes = replace_maximizers(tree, maximizers)
    return substitute(tree, definitions), notes


def _number(value: Any) -> float:
    flat = entries(value)
    if flat.shape[1] != 1 or flat.shape[0] != 1:
        raise EvalError("the expression is not a single number")
    number = complex(flat[0, 0])
    if number.imag != 0:
        raise EvalError("the expression is not a real number")
    return number.real


def _matches(mistake: Mistake, latex: str) -> bool:
    import re

    key = latex_key(latex)
    return any(re.search(p, text, re.IGNORECASE) for p in mistake.patterns for text in (latex, key))


def _densities(instance: Instance, names: tuple[str, str]) -> list[str]:
    return [instance.densities[n].text() for n in names]


def _round(value: float) -> float:
    return float(f"{value:.8g}")


def _join(text: str, notes: list[str]) -> str:
    return text + "".join(f" ({note})" for note in notes)
