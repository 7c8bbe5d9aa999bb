"""Rubric problems in simulation declarations, found at load time rather than while grading."""

from __future__ import annotations

from collections.abc import Mapping

from grader.checking.base import LintContext
from grader.errors import Problem
from grader.math.symbols import FunctionSymbol, ScalarSymbol
from grader.rubric.parts import PartBase
from grader.rubric.simulation import RandomDecl


def lint_random(random: Mapping[str, RandomDecl], ctx: LintContext, part: PartBase) -> list[Problem]:
    """Every random name must be declared: a matrix or scalar for a variable, a function for a density."""
    problems: list[Problem] = []

    def add(name: str, message: str, fix: str) -> None:
        problems.append(
            Problem(
                code="rubric.random_invalid", message=message, file=ctx.file, question=ctx.question_id, part=part.id, field=f"random.{name}", fix=fix
            )
        )

    for name, decl in random.items():
        symbol = ctx.symbols.get(name)
        if symbol is None:
            add(name, f"{name!r} has a distribution but is not declared under [symbols]", f"declare [symbols.{name}] with its kind and shape")
            continue
        if isinstance(symbol, FunctionSymbol) and decl.distribution == "bernoulli":
            add(name, f"{name!r} is a function (a density) but its distribution is Bernoulli", "use 'normal' or 'uniform' for a density")
        if decl.distribution == "bernoulli" and isinstance(decl.parameter, str):
            parameter = ctx.symbols.get(decl.parameter)
            if not isinstance(parameter, ScalarSymbol):
                add(name, f"the Bernoulli parameter {decl.parameter!r} is not a declared scalar", f"declare [symbols.{decl.parameter}] with domain '(0, 1)'")
            else:
                domain = parameter.parsed_domain
                if domain.low < 0 or domain.high > 1:
                    add(name, f"the Bernoulli parameter {decl.parameter!r} may leave [0, 1] (domain {parameter.domain!r})", "give it the domain '(0, 1)'")
    return problems
