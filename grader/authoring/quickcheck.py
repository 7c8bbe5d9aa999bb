"""Checking one answer to one question without a file: ``grader check --question 1.2 --answer ...``.

An answer given as LaTeX becomes what a student would write, ``$$ target = ANSWER $$`` (or
the answer as written when it already states the target), and goes through the same reading
as a file. Calculator syntax (``--text '(1-p)/p'``) is parsed by the safe text parser and the
tree is compared directly. Choice parts read a LaTeX answer as prose. Only the parts the
answer applies to are reported: a formula answers the math parts, a sentence the choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from grader._internal.sandbox import run_bounded
from grader.answers.extract import extract
from grader.answers.models import Answer
from grader.authoring.template import answer_kind
from grader.checking.base import CheckContext
from grader.checking.mathcheck import Judge, check_tree, reference_judge, unreadable
from grader.checking.registry import MATH_KINDS
from grader.checking.result import PartResult
from grader.checking.sealed_math import sealed_judge, unsealed_result
from grader.document.formulas import find_formulas
from grader.grading.pipeline import check_part, part_context, result_of
from grader.math.text import parse_text
from grader.math.tree import Node, ParseError
from grader.rubric.models import AnyPart, Question, Rubric
from grader.rubric.parts import NumericPart, SymbolicPart
from grader.rubric.sealed import SealedMathPart
from grader.scoring.models import QuestionResult
from grader.scoring.score import score_question

_TEXT_ARGUMENT = re.compile(r"\\(?:text\w*|math\w*|operatorname\*?|mbox|begin|end)\s*\{[^{}]*\}")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{4,}(?![A-Za-z])")
_PLAIN = re.compile(r"[A-Za-z\s.,;:!?'\"-]+")


def looks_like_prose(answer: str) -> bool:
    """Two or more plain words of four letters or more, outside LaTeX commands and \\text{...}, or
    only words ("unstable"): "it decreases as p increases" is a sentence, ``\\frac{1-p}{p}`` is not."""
    bare = _COMMAND.sub(" ", _TEXT_ARGUMENT.sub(" ", answer))
    words = _WORD.findall(bare)
    return len(words) >= 2 or (bool(words) and _PLAIN.fullmatch(answer) is not None)


class QuickCheckError(ValueError):
    """The request cannot be checked (unknown question or part); the message says what to pass."""


@dataclass(frozen=True)
class QuickResult:
    question: QuestionResult
    skipped: list[str]  # parts the answer does not apply to


def context(rubric: Rubric, question: Question, part: AnyPart) -> CheckContext:
    """The same context (seed, limits) the pipeline gives this part, so verdicts agree with a file."""
    return part_context(rubric, question, part, "<command line>")


def find_question(rubric: Rubric, question_id: str) -> Question:
    wanted = question_id.strip()
    for question in rubric.questions:
        if question.id == wanted or wanted in question.aliases:
            return question
    ids = ", ".join(q.id for q in rubric.questions)
    raise QuickCheckError(f"no question {question_id!r} in this rubric; its questions are {ids}")


def judge_for(part: AnyPart, ctx: CheckContext) -> Callable[[Node], Judge] | None:
    """The judge of a math part (open or sealed), or None for a part that is not a formula."""
    if isinstance(part, SymbolicPart):
        return reference_judge(part, ctx, [part.reference, *part.alternatives], rtol=part.rtol, atol=part.atol)
    if isinstance(part, NumericPart):
        return reference_judge(part, ctx, [part.reference], rtol=part.rtol, atol=part.atol)
    if isinstance(part, SealedMathPart):
        return sealed_judge(part, ctx)
    return None


def check_formula(part: AnyPart, tree: Node, ctx: CheckContext, *, source: str = "") -> PartResult:
    """Decide a parsed formula for one math part, in a bounded worker like every check."""
    return result_of(part, ctx, run_bounded(_check_formula, part, tree, ctx, source, timeout_s=ctx.timeout_s, memory_mb=ctx.memory_mb))


def _check_formula(part: AnyPart, tree: Node, ctx: CheckContext, source: str) -> PartResult:
    if isinstance(part, SealedMathPart) and not part.accepted:
        return unsealed_result(part)
    judge = judge_for(part, ctx)
    if judge is None:
        raise ValueError(f"part {part.id!r} is not a formula")
    return check_tree(part, part.kind, tree, judge, source=source, question_id=ctx.question_id)


def _answer(question_id: str, text: str) -> Answer:
    return Answer(
        question_id=question_id,
        heading_line=None,
        start_line=1,
        end_line=1 + text.count("\n"),
        text=text,
        formulas=find_formulas(text, 1),
        status="answered",
    )


def latex_answer_text(part: AnyPart, latex: str) -> str:
    """``$$ target = ANSWER $$``, or the answer itself when it already says ``target = ...``."""
    if not part.target:
        return f"$$ {latex} $$"
    as_written = f"$$ {latex} $$"
    if extract(_answer("q", as_written), part.target, part_id=part.id).how == "target_equation":
        return as_written
    return f"$$ {part.target} = {latex} $$"


def quick_check(
    rubric: Rubric,
    question_id: str,
    *,
    latex: str | None = None,
    text: str | None = None,
    part_id: str | None = None,
) -> QuickResult:
    """Check one answer (LaTeX or calculator syntax) against the parts of one question it applies to."""
    if (latex is None) == (text is None):
        raise QuickCheckError("pass the answer either as LaTeX (--answer) or in calculator syntax (--text)")
    question = find_question(rubric, question_id)
    parts = list(question.parts)
    if part_id is not None:
        parts = [p for p in parts if p.id == part_id]
        if not parts:
            ids = ", ".join(p.id for p in question.parts)
            raise QuickCheckError(f"question {question.id} has no part {part_id!r}; its parts are {ids}")
    results: list[PartResult] = []
    skipped: list[str] = []
    tree: Node | ParseError | None = None
    if text is not None:
        parsed = parse_text(text, rubric.symbol_table)
        tree = parsed if isinstance(parsed, ParseError) else parsed.tree
    prose = latex is not None and looks_like_prose(latex) and part_id is None
    kinds: dict[str, str] = {}
    for part in parts:
        ctx = context(rubric, question, part)
        kinds[part.id] = kind = answer_kind(part)
        if kind == "formula" and text is not None and part.kind in MATH_KINDS:
            assert tree is not None
            results.append(_text_result(part, tree, text, ctx))
        elif kind == "formula" and latex is not None and not prose:
            results.append(check_part(part, _answer(question.id, latex_answer_text(part, latex)), ctx))
        elif kind != "formula" and latex is not None:
            results.append(check_part(part, _answer(question.id, latex), ctx))
        else:
            skipped.append(part.id)
    if not results:
        if text is None:
            raise QuickCheckError(f"question {question.id} asks for a formula; pass it with --answer in LaTeX or --text")
        if "formula" in kinds.values():
            raise QuickCheckError(f"this rubric checks question {question.id} from LaTeX: pass the answer with --answer")
        raise QuickCheckError(f"question {question.id} is answered in words: pass a sentence with --answer")
    results, more = _applicable(results, kinds, explicit=part_id is not None)
    skipped += more
    return QuickResult(score_question(question.id, question.title, sum(r.max_score for r in results), results, (1, 1)), skipped)


def _text_result(part: AnyPart, tree: Node | ParseError, text: str, ctx: CheckContext) -> PartResult:
    if isinstance(tree, ParseError):
        return unreadable(part, part.kind, tree)
    return check_formula(part, tree, ctx, source=text)


def _applicable(results: list[PartResult], kinds: dict[str, str], *, explicit: bool) -> tuple[list[PartResult], list[str]]:
    """Drop parts the answer says nothing about: a choice with no option recognised, a formula
    that is not one when a choice was answered, proofs next to anything decided, and, when a
    question has several formula parts, the ones it does not match (unless none matches)."""
    if explicit or len(results) <= 1:
        return results, []
    kept = [r for r in results if not (kinds[r.id] == "sentence" and r.verdict == "undecided")]
    if any(r.verdict != "undecided" for r in kept):
        kept = [r for r in kept if not (kinds[r.id] == "formula" and r.method == "parse")]
    if any(kinds[r.id] != "text" for r in kept):
        kept = [r for r in kept if kinds[r.id] != "text"]
    formulas = [r for r in kept if kinds[r.id] == "formula"]
    if len(formulas) > 1:
        hits = [r for r in formulas if r.verdict == "right" or r.mistake is not None]
        if hits:
            kept = [r for r in kept if kinds[r.id] != "formula" or r in hits]
    if not kept:
        return results, []
    return kept, [r.id for r in results if r not in kept]
