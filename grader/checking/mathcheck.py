"""The shared path of the math checkers: extract, parse, compare with references, then mistakes.

Reading the answer (extraction and parsing) and deciding from the comparisons are shared by
every math checker; only the comparison itself differs. An open rubric compares with its
reference LaTeX through the math engine; a sealed rubric with the forms its boxes hold, once the
student's answer has opened them, by the same comparison. So the judge is built per student
formula (a sealed judge opens boxes with the student's own answer), and a formula already parsed (the quick
check's calculator syntax) goes through the same decision as one read from a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from grader.answers.extract import extract
from grader.answers.models import Answer, Extraction
from grader.checking.base import CheckContext, LintContext, result
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.equivalence import Equivalence, check_equivalence
from grader.math.forms import arbitrary_constants, free_indices, names_of, operations_left, unknown_names
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import Neg, Node, Num, ParseError
from grader.rubric.parts import ComparisonOptions, FormOptions, Mistake, PartBase

Compare = Callable[[Node], Equivalence]


@dataclass(frozen=True)
class Judge:
    """What a student's formula is compared with: accepted forms first, then known mistakes.

    ``feedback_correct`` replaces the part's own text when set (a sealed part stores it
    encrypted and can show it only once the answer itself has unlocked it).
    """

    accepted: Sequence[Compare]
    mistakes: Sequence[tuple[Mistake, Compare]] = field(default_factory=tuple)
    feedback_correct: str | None = None
    # What is understood (issue 12): the declared symbols, and the names the references use.
    symbols: SymbolTable | None = None
    known: frozenset[str] = frozenset()
    arbitrary: tuple[str, ...] | None = None  # compared up to constants: C, K, C_1 and these are understood


JudgeFor = Callable[[Node], Judge]


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


def compare_with_reference(
    reference: str, ctx: CheckContext, *, rtol: float, atol: float, options: FormOptions | None = None
) -> Compare:
    """The comparison with one reference formula: the open rubric's, and a sealed rubric's once
    the student's answer has opened the box that holds the formula. ``options`` (an accepted
    form's part) say how to compare and what a final answer may not contain."""

    def compare(student: Node) -> Equivalence:
        reference_tree = _parse_trusted(reference, ctx)
        outcome = check_equivalence(
            student,
            reference_tree,
            ctx.symbols,
            seed=ctx.seed,
            rtol=rtol,
            atol=atol,
            timeout_s=ctx.timeout_s,
            memory_mb=ctx.memory_mb,
            up_to=getattr(options, "up_to", None),
            constants=getattr(options, "constants", ()),
        )
        if outcome.verdict == "equivalent" and options is not None and options.final_form:
            given = [_parse_trusted(text, ctx) for text in options.given]
            left = operations_left(student, [reference_tree], given)
            if left:
                return outcome.model_copy(
                    update={
                        "verdict": "not_equivalent",
                        "detail": f"your answer still contains {', '.join(left)}: carry it out to give the result",
                    }
                )
        return outcome

    return compare


def reference_judge(
    part: PartBase, ctx: CheckContext, references: Sequence[str], *, rtol: float, atol: float
) -> JudgeFor:
    """The open rubric's judge: the math engine against the reference LaTeX and the mistakes'."""
    options = part if isinstance(part, FormOptions) else None
    judge = Judge(
        accepted=[compare_with_reference(reference, ctx, rtol=rtol, atol=atol, options=options) for reference in references],
        mistakes=[(m, compare_with_reference(m.answer, ctx, rtol=rtol, atol=atol)) for m in part.mistakes if m.answer is not None],
        symbols=ctx.symbols,
        known=frozenset(names_of(_parse_trusted(text, ctx) for text in references)) | target_names(part, ctx),
        arbitrary=tuple(part.constants) if isinstance(part, ComparisonOptions) and part.up_to is not None else None,
    )
    return lambda _student: judge


def target_names(part: PartBase, ctx: CheckContext) -> frozenset[str]:
    """Names the part's targets use (the student may restate them): understood like declared ones."""
    texts = part.all_targets if isinstance(part, FormOptions) else [part.target] if part.target else []
    trees = [parsed.tree for text in texts if not isinstance(parsed := parse_latex(text, ctx.symbols), ParseError)]
    return frozenset(names_of(trees))


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
    """Check an answer against reference LaTeX (the symbolic and numeric checkers)."""
    return check_math_with(part, kind, answer, ctx, reference_judge(part, ctx, references, rtol=rtol, atol=atol))


def check_math_with(part: PartBase, kind: str, answer: Answer, ctx: CheckContext, judge_for: JudgeFor) -> PartResult:
    """Extract and parse the student's formula, then decide with ``judge_for``."""
    read = read_formula(part, kind, answer, ctx)
    if isinstance(read, PartResult):
        return read
    extraction, student = read
    outcome = decide(part, kind, student, extraction, judge_for(student))
    decimal = _decimal_reading(extraction.latex or "")
    if outcome.verdict != "right" and decimal is not None:
        # "6,0" is a list (6, 0) or the decimal 6.0: the decimal counts when only it is right
        other = decide(part, kind, decimal, extraction, judge_for(decimal))
        if other.verdict == "right":
            return other.model_copy(update={"reasons": [*other.reasons, f"read {extraction.latex.strip()} as a decimal comma"]})  # type: ignore[union-attr]
    return outcome


_DECIMAL_COMMA = re.compile(r"^\s*(-?\d+),(\d+)\s*$")


def _decimal_reading(latex: str) -> Node | None:
    """``6,0`` read with a decimal comma, when the whole formula is two digit runs around one comma."""
    match = _DECIMAL_COMMA.match(latex)
    if match is None or len(match.group(2)) == 3:  # 1,000 groups digits
        return None
    number = Num(f"{match.group(1).lstrip('-')}.{match.group(2)}")
    return Neg(number) if match.group(1).startswith("-") else number


def check_tree(
    part: PartBase,
    kind: str,
    student: Node,
    judge_for: JudgeFor,
    *,
    source: str = "",
    line: int | None = None,
    question_id: str = "",
) -> PartResult:
    """Decide a formula that is already parsed (``grader check --text``): it *is* the answer to
    the part, so it counts like ``target = ...`` written out and a mismatch is wrong."""
    extraction = Extraction(
        question_id=question_id,
        part_id=part.id,
        how="target_equation",
        latex=source or None,
        text=source,
        line=line,
        description="read the answer given on the command line",
    )
    return decide(part, kind, student, extraction, judge_for(student))


def read_formula(part: PartBase, kind: str, answer: Answer, ctx: CheckContext) -> tuple[Extraction, Node] | PartResult:
    """The student's formula for this part, or the undecided result saying why it was not read."""
    extraction = _extract_any(answer, part)
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
        return unreadable(part, kind, parsed, extraction)
    return extraction, parsed.tree


def unreadable(part: PartBase, kind: str, error: ParseError, extraction: Extraction | None = None) -> PartResult:
    """Undecided, with where and why the student's formula could not be read (never wrong)."""
    where = f" at column {error.position + 1}" if error.position is not None else ""
    return result(
        part,
        kind,
        verdict="undecided",
        method="parse",
        extracted=extraction,
        reasons=[f"the formula could not be read{where}: {error.message}"],
        feedback=[f"grader could not read your formula{where}: {error.message}" + (f" ({error.hint})" if error.hint else "")],
    )


def _extract_any(answer: Answer, part: PartBase) -> Extraction:
    """The answer stated for the first of the part's targets found (``L = …``, ``\\lim_{x→0} … = …``)."""
    targets: list[str] = part.all_targets if isinstance(part, FormOptions) and part.targets else []
    for target in targets:
        found = extract(answer, target, part_id=part.id)
        if found.how == "target_equation":
            return found
    return extract(answer, part.target, part_id=part.id)


def screen(part: PartBase, kind: str, student: Node, extraction: Extraction, judge: Judge) -> PartResult | None:
    """Before comparing (issue 12): a name nobody declared is undecided, never a random value; and
    ``x_i`` outside a sum is not a number."""
    if judge.symbols is None:
        return None
    known = judge.known
    if judge.arbitrary is not None:
        known = known | set(arbitrary_constants([student], judge.symbols, judge.arbitrary, besides=judge.known))
    unknown = unknown_names(student, judge.symbols, known)
    if unknown:
        listed = ", ".join(unknown)
        noun = "symbol" if len(unknown) == 1 else "symbols"
        return result(
            part,
            kind,
            verdict="undecided",
            method="names",
            extracted=extraction,
            reasons=[f"unknown {noun} {listed}: the rubric does not declare {'it' if len(unknown) == 1 else 'them'}"],
            feedback=[f"{listed} is not a name this question defines, so your answer was not compared; a person will read it."],
        )
    free = free_indices(student, judge.symbols)
    if free:
        return result(
            part,
            kind,
            verdict="wrong",
            method="names",
            extracted=extraction,
            feedback=[f"{free[0]} outside a sum is not a number: sum over the index, or use the mean"],
        )
    return None


def decide(part: PartBase, kind: str, student: Node, extraction: Extraction, judge: Judge) -> PartResult:
    """Accepted forms, then mistakes, then the first definite difference; otherwise undecided."""
    screened = screen(part, kind, student, extraction, judge)
    if screened is not None:
        return screened
    if judge.feedback_correct is not None:
        part = part.model_copy(update={"feedback_correct": judge.feedback_correct})
    outcomes = [compare(student) for compare in judge.accepted]
    evidence: dict[str, object] = {"comparisons": [o.model_dump(mode="json") for o in outcomes]}
    for outcome in outcomes:
        if outcome.verdict == "equivalent":
            return result(part, kind, verdict="right", method=outcome.method, extracted=extraction, evidence=evidence)
    method = outcomes[0].method if outcomes else "none"
    for mistake, compare in judge.mistakes:
        if compare(student).verdict == "equivalent":
            return result(part, kind, verdict="wrong", method=method, mistake=mistake, extracted=extraction, evidence=evidence)
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
        method=method,
        extracted=extraction,
        evidence=evidence,
        reasons=[o.detail for o in outcomes if o.detail] or ["the comparison could not be decided"],
    )
