"""The shared path of the math checkers: extract, parse, compare with references, then mistakes."""

from __future__ import annotations

from collections.abc import Sequence

from grader.checking.base import CheckContext, LintContext, result
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math import Equivalence, check_equivalence, parse_latex
from grader.math.tree import Node, ParseError
from grader.rubric.base import PartBase
from grader.submission.extract import extract
from grader.submission.models import Answer


def lint_latex(text: str, ctx: LintContext, part: PartBase, field: str) -> list[Problem]:
    parsed = parse_latex(text, ctx.symbols)
    if isinstance(parsed, ParseError):
        where = f" at column {parsed.position + 1}" if parsed.position is not None else ""
        return [
            Problem(
                code="rubric.reference_unparseable",
                message=f"{text!r} does not parse{where}: {parsed.message}",
                file=ctx.file,
                question=ctx.question_id,
                part=part.id,
                field=field,
                fix=parsed.hint or "write it in the LaTeX subset grader reads (see the README)",
            )
        ]
    return []


def _parse_trusted(text: str, ctx: CheckContext) -> Node:
    """Rubric LaTeX was linted at load time, so a failure here is a grader bug, not a student's."""
    parsed = parse_latex(text, ctx.symbols)
    if isinstance(parsed, ParseError):
        raise ValueError(f"rubric formula {text!r} does not parse: {parsed.message}")
    return parsed.tree


def check_math(
    part: PartBase,
    kind: str,
    answer: Answer,
    ctx: CheckContext,
    references: Sequence[str],
    *,
    rtol: float,
    atol: float,
) -> PartResult:
    extraction = extract(answer, part.target, part_id=part.id)
    if extraction.latex is None:
        return result(
            part,
            kind,
            verdict="undecided",
            method="none",
            extracted=extraction,
            reasons=["no formula was found in the answer"],
            feedback=["No formula was found; write the result as an equation, e.g. $" + (part.target or "x") + " = \\dots$."],
        )
    parsed = parse_latex(extraction.latex, ctx.symbols)
    if isinstance(parsed, ParseError):
        where = f" at column {parsed.position + 1}" if parsed.position is not None else ""
        return result(
            part,
            kind,
            verdict="undecided",
            method="parse",
            extracted=extraction,
            reasons=[f"the formula could not be read{where}: {parsed.message}"],
            feedback=[f"grader could not read your formula{where}: {parsed.message}" + (f" ({parsed.hint})" if parsed.hint else "")],
        )
    student = parsed.tree

    def compare(reference: str) -> Equivalence:
        return check_equivalence(
            student,
            _parse_trusted(reference, ctx),
            ctx.symbols,
            seed=ctx.seed,
            rtol=rtol,
            atol=atol,
            timeout_s=ctx.timeout_s,
            memory_mb=ctx.memory_mb,
        )

    outcomes = [compare(reference) for reference in references]
    evidence: dict[str, object] = {"comparisons": [o.model_dump(mode="json") for o in outcomes]}
    for outcome in outcomes:
        if outcome.verdict == "equivalent":
            return result(part, kind, verdict="right", method=outcome.method, extracted=extraction, evidence=evidence)
    for mistake in part.mistakes:
        if mistake.answer is None:
            continue
        if compare(mistake.answer).verdict == "equivalent":
            return result(
                part, kind, verdict="wrong", method=outcomes[0].method, mistake=mistake, extracted=extraction, evidence=evidence
            )
    definite = next((o for o in outcomes if o.verdict == "not_equivalent"), None)
    if definite is not None and part.target and extraction.how not in ("target_equation", "boxed"):
        # The student never wrote "target = ...": what was read is a guess, so a mismatch is not proof.
        return result(
            part,
            kind,
            verdict="undecided",
            method=definite.method,
            extracted=extraction,
            evidence=evidence,
            reasons=[
                f"no equation of the form {part.target} = ... was found; {extraction.description or 'the last formula was read'}, "
                f"and it does not match: {definite.detail}"
            ],
            feedback=[f"State your result as an equation, $ {part.target} = \\dots $, so it can be checked."],
        )
    if definite is not None:
        return result(
            part,
            kind,
            verdict="wrong",
            method=definite.method,
            extracted=extraction,
            evidence=evidence,
            feedback=[definite.detail] if definite.detail else [],
        )
    return result(
        part,
        kind,
        verdict="undecided",
        method=outcomes[0].method if outcomes else "none",
        extracted=extraction,
        evidence=evidence,
        reasons=[o.detail for o in outcomes if o.detail] or ["the comparison could not be decided"],
    )
