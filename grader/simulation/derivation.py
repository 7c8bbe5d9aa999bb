"""A derivation read line by line: the chain of displayed equalities, each step checked numerically.

Why steps and not just the last line: in a "show that" question the last line is the statement
of the question, so it proves nothing; what a grader wants to know is where the argument first
goes wrong. Each displayed equality ``a = b`` is a claim that can be tested on random instances
(matrices of the declared shapes, Monte Carlo where an expectation over a random variable
appears, quadrature over declared densities), so a wrong step shows up with a counterexample and
a step whose shapes do not conform shows up as a shape error.

Reading the chain: ``a = b = c`` gives the steps ``a = b`` and ``b = c``; a row or display that
starts with ``=`` (``&= …`` in ``aligned``) continues from the last expression before it; an
equation that *defines* something (``D^* := …``) is not the anchor of a continuation. Inline
math is not a step, but an inline ``M = X \\odot R`` naming a new symbol is used as a definition.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grader.answers.extract import equations, repair_damage
from grader.answers.models import Answer
from grader.document.models import Formula
from grader.math.evaluate import (
    NotEvaluable,
    ShapeError,
    TooLarge,
    Undefined,
    check_size,
    describe,
    format_value,
)
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import Node, ParseError, Sym
from grader.simulation.montecarlo import FALSE_REJECT, Comparison, Model, compare_sides
from grader.simulation.trees import Definition, mentions, read_entries, replace_maximizers, substitute

__all__ = ["MAX_STEPS", "Item", "Step", "StepResult", "check_steps", "local_definitions", "parse_definitions", "read_steps"]

StepStatus = Literal["holds", "fails", "shape error", "unparseable", "skipped"]
MAX_STEPS = 60
MAX_ITEM_CHARS = 3000
_DEFINING = (":=", "\\coloneqq", "\\coloneq", "\\triangleq", "≜", "≔", "=:", "\\eqqcolon", "\\equiv", "≡")
_APPROXIMATE = ("\\approx", "≈", "\\simeq", "\\doteq", "\\cong")
_EQUAL = ("=", *_APPROXIMATE, *_DEFINING)
#: how close the two sides of "≈" must be (relative): a rounded value is still an honest step
APPROXIMATE_RTOL = 0.02
_EDGE = ("\\\\", "\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\!", "\\ ", "&")


@dataclass(frozen=True)
class Item:
    """One side of a step as written: its LaTeX, the line it starts on, and its tree (or why none)."""

    text: str
    line: int
    tree: Node | None
    error: str | None = None


@dataclass(frozen=True)
class Step:
    """``left relation right``; ``line`` is where the right-hand side starts."""

    line: int
    left: Item
    right: Item
    relation: str
    defining: bool = False


@dataclass(frozen=True)
class StepResult:
    line: int
    status: StepStatus
    detail: str
    claim: str
    counterexample: dict[str, Any] | None = None
    method: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "status": self.status, "detail": self.detail}
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        return out

    @property
    def failing(self) -> bool:
        return self.status in ("fails", "shape error")


# ---------------------------------------------------------------------------------------------
# Reading


def _clean(text: str) -> str:
    """Without alignment marks, spacing and sentence punctuation at its ends."""
    text = repair_damage(text).strip()
    changed = True
    while changed and text:
        changed = False
        for edge in _EDGE:
            if text.startswith(edge):
                text, changed = text[len(edge) :].strip(), True
            if text.endswith(edge) and not text.endswith("\\" + edge):
                text, changed = text[: -len(edge)].strip(), True
        if text and text[-1] in ".,;" and not text.endswith("\\" + text[-1]):
            text, changed = text[:-1].strip(), True
    return text


def _item(latex: str, start: int, end: int, formula: Formula, symbols: SymbolTable) -> Item:
    text = _clean(latex[start:end])
    lead = len(latex[start:end]) - len(latex[start:end].lstrip())
    line = formula.line + latex.count("\n", 0, start + lead)
    if not text:
        return Item(text, line, None, "empty")
    if len(text) > MAX_ITEM_CHARS:
        return Item(text, line, None, f"longer than {MAX_ITEM_CHARS} characters")
    parsed = parse_latex(text, symbols)
    if isinstance(parsed, ParseError):
        return Item(text, line, None, parsed.message)
    try:
        check_size(parsed.tree)  # before any comparison: equality of trees recurses with their depth
    except TooLarge as error:
        return Item(text, line, None, error.reason)
    return Item(text, line, parsed.tree)


def read_steps(answer: Answer, symbols: SymbolTable) -> list[Step]:
    """The steps of the displayed chains, in order, at most MAX_STEPS.

    An item that cannot be read still makes a step (reported as unparseable), but the next step
    compares with the last item that could be read, so one damaged line hides only itself.
    """
    steps: list[Step] = []
    anchor: Item | None = None
    pending: tuple[Item, str] | None = None  # "a =" at the end of a row, continued on the next
    for formula in answer.formulas:
        if not formula.display:
            continue
        latex = formula.latex
        for chain in equations(latex):
            spans = chain.items
            ops = [latex[spans[k][1] : spans[k + 1][0]].strip() for k in range(len(spans) - 1)]
            items = [_item(latex, a, b, formula, symbols) for a, b in spans]
            defining = any(op in _DEFINING for op in ops)
            if pending is not None and items[0].text:
                left, op = pending
                steps.append(Step(items[0].line, left, items[0], op, op in _DEFINING))
            pending = None
            previous = anchor if not items[0].text else items[0]
            for k, op in enumerate(ops):
                right = items[k + 1]
                if not right.text:
                    if previous is not None and k == len(ops) - 1:
                        pending = (previous, op)
                    continue
                if previous is not None:
                    steps.append(Step(right.line, previous, right, op, op in _DEFINING))
                if right.tree is not None or previous is None or previous.tree is None:
                    previous = right
            if not defining and previous is not None and previous.text:
                anchor = previous
            if len(steps) >= MAX_STEPS:
                return steps[:MAX_STEPS]
    return steps


def parse_definitions(texts: Mapping[str, str], symbols: SymbolTable) -> dict[str, Definition]:
    """The rubric's definitions (``'L(w)' = '\\|y - (X \\odot R)w\\|^2'``) as trees; raises ValueError on a bad one."""
    out: dict[str, Definition] = {}
    for head, body in texts.items():
        parsed_head, parsed_body = parse_latex(head, symbols), parse_latex(body, symbols)
        if isinstance(parsed_head, ParseError) or isinstance(parsed_body, ParseError):
            bad = parsed_head if isinstance(parsed_head, ParseError) else parsed_body
            assert isinstance(bad, ParseError)
            raise ValueError(f"definition {head!r}: {bad.message}")
        definition = _definition_of(parsed_head.tree, parsed_body.tree)
        if definition is None:
            raise ValueError(f"definition {head!r}: the name must be a symbol or a function of symbols, like 'L(w)'")
        out[definition.name] = definition
    return out


def _definition_of(head: Node, body: Node) -> Definition | None:
    from grader.math.tree import Call

    if isinstance(head, Sym):
        return Definition(head.name, (), body)
    if isinstance(head, Call) and all(isinstance(a, Sym) for a in head.args):
        return Definition(head.func, tuple(a.name for a in head.args if isinstance(a, Sym)), body)
    return None


def local_definitions(answer: Answer, symbols: SymbolTable, known: frozenset[str]) -> dict[str, Definition]:
    """Names the student introduced (``M = X \\odot R``, ``\\mu = \\frac12(p_0 + p_1)``), first occurrence.

    Only a new name (not declared, not defined by the rubric) equal to an expression in declared
    names counts: ``x = 0`` is a value, not an abbreviation.
    """
    declared = frozenset(symbols.symbols) | known
    found: dict[str, Definition] = {}
    for formula in answer.formulas:
        latex = formula.latex
        for chain in equations(latex):
            if len(chain.items) < 2:
                continue
            op = latex[chain.items[0][1] : chain.items[1][0]].strip()
            if op not in _EQUAL:
                continue
            head_text = _clean(latex[chain.items[0][0] : chain.items[0][1]])
            body_text = _clean(latex[chain.items[1][0] : chain.items[1][1]])
            if not head_text or not body_text or len(body_text) > MAX_ITEM_CHARS:
                continue
            head, body = parse_latex(head_text, symbols), parse_latex(body_text, symbols)
            if isinstance(head, ParseError) or isinstance(body, ParseError) or not isinstance(head.tree, Sym):
                continue
            name = head.tree.name
            if name in declared or name in found or mentions(body.tree, {name}) or not mentions(body.tree, set(declared)):
                continue
            try:
                check_size(body.tree)
            except TooLarge:
                continue
            found[name] = Definition(name, (), body.tree)
    return found


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass
class StepChecker:
    """Checks steps against a model; ``definitions`` are applied to both sides first."""

    model: Model
    definitions: Mapping[str, Definition]
    maximizers: Mapping[str, str]
    seed: int
    instances: int = 3
    exact_instances: int = 4
    attempts: int = 12
    false_reject: float = FALSE_REJECT
    methods: set[str] = field(default_factory=set)
    samples: int = 0

    def prepare(self, tree: Node) -> tuple[Node, list[str]]:
        notes: list[str] = []
        tree = substitute(tree, self.definitions)
        tree, argmax_notes = replace_maximizers(tree, self.maximizers)
        notes += argmax_notes
        tree = substitute(tree, self.definitions)
        tree, entrywise = read_entries(tree, self.model.symbols)
        if entrywise:
            notes.append("entries such as X_ij were read as the whole matrix (an entrywise statement)")
        return tree, notes

    def check(self, index: int, step: Step) -> StepResult:
        claim = _claim(step)
        if step.left.tree is None or step.right.tree is None:
            bad = step.left if step.left.tree is None else step.right
            return StepResult(step.line, "unparseable", f"the formula on line {bad.line} could not be read: {bad.error}", claim)
        if step.relation not in _EQUAL:
            return StepResult(step.line, "skipped", f"a relation '{step.relation}' (not an equality) is not checked", claim)
        try:
            left, left_notes = self.prepare(step.left.tree)
            right, right_notes = self.prepare(step.right.tree)
            check_size(left, right)  # definitions put in may have made the sides too deep to compare
        except NotEvaluable as error:
            return StepResult(step.line, "skipped", f"not evaluable: {error.reason}", claim)
        notes = list(dict.fromkeys(left_notes + right_notes))
        for side in (left, right):
            if isinstance(side, Sym) and side.name not in self.model.symbols.symbols and side.name not in self.model.random:
                return StepResult(step.line, "skipped", f"introduces the name {describe(side)}", claim)
        if left == right:
            return StepResult(step.line, "holds", _with_notes("both sides are the same expression", notes), claim, method="structural")
        return self._simulate(index, step, left, right, notes, claim)

    def _simulate(self, index: int, step: Step, left: Node, right: Node, notes: list[str], claim: str) -> StepResult:
        wanted = self.instances
        rtol = APPROXIMATE_RTOL if step.relation in _APPROXIMATE else 1e-6
        valid = 0
        undefined: list[str] = []
        last: Comparison | None = None
        for attempt in range(self.attempts):
            rng = np.random.default_rng([self.seed, index, attempt])
            try:
                instance = self.model.instance([left, right], rng)
                comparison = compare_sides(
                    left, right, self.model, instance, rng, instances=wanted, rtol=rtol, atol=1e-9, false_reject=self.false_reject
                )
            except ShapeError as error:
                return StepResult(step.line, "shape error", _with_notes(error.reason, notes), claim)
            except NotEvaluable as error:
                return StepResult(step.line, "skipped", _with_notes(f"not evaluable: {error.reason}", notes), claim)
            except Undefined as error:
                undefined.append(error.reason)
                continue
            self.methods.add(comparison.method)
            self.samples = max(self.samples, comparison.samples)
            if comparison.method == "exact":
                wanted = max(wanted, self.exact_instances)
            if not comparison.holds:
                return StepResult(
                    step.line,
                    "fails",
                    _with_notes(_counterexample_text(comparison, instance.text()), notes),
                    claim,
                    counterexample=_counterexample(comparison, instance.text()),
                    method=comparison.method,
                )
            last = comparison
            valid += 1
            if valid >= wanted:
                break
        if valid == 0 or last is None:
            reason = undefined[0] if undefined else "no instance could be evaluated"
            return StepResult(step.line, "skipped", _with_notes(f"undefined at every random instance ({reason})", notes), claim)
        return StepResult(step.line, "holds", _with_notes(_holds_text(last, valid), notes), claim, method=last.method)


def check_steps(
    steps: Sequence[Step],
    checker: StepChecker,
    *,
    deadline: float | None = None,
) -> list[StepResult]:
    """Every step's result, in order; steps after the deadline (``time.monotonic()``) are skipped."""
    results: list[StepResult] = []
    for index, step in enumerate(steps):
        if deadline is not None and time.monotonic() > deadline:
            results.append(StepResult(step.line, "skipped", "not checked: the time for this check ran out", _claim(step)))
            continue
        outcome = checker.check(index, step)
        if outcome.status == "unparseable" and results and results[-1].status == "unparseable" and results[-1].line == outcome.line:
            continue  # one unreadable line is one row of the table, however many steps it held
        results.append(outcome)
    return results


def _claim(step: Step) -> str:
    relation = _RELATION_TEXT.get(step.relation, step.relation)
    return f"{readable(step.left.text, 70)} {relation} {readable(step.right.text, 70)}"


_FONT = re.compile(r"\\(?:boldsymbol|mathbf|bm|pmb|mathrm|mathit|mathsf|mathbb|mathcal|operatorname\*?|textrm|text)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|bigg|Bigg|displaystyle)(?![A-Za-z])|\\[,;:! ]|\\q?quad(?![A-Za-z])")
_WORDS = {
    "\\odot": "⊙", "\\cdot": "·", "\\times": "×", "\\|": "‖", "||": "‖", "\\sim": "∼", "\\infty": "∞",
    "\\partial": "∂", "\\nabla": "∇", "\\sum": "∑", "\\int": "∫", "\\pm": "±", "\\log": "log", "\\exp": "exp",
    "\\Gamma": "Γ", "\\gamma": "γ", "\\lambda": "λ", "\\theta": "θ", "\\psi": "ψ", "\\phi": "φ", "\\sigma": "σ",
    "\\mu": "μ", "\\max": "max", "\\arg": "arg ", "\\mathcal": "", "\\tfrac": "\\frac", "\\dfrac": "\\frac",
}  # fmt: skip
_TRANSPOSE = re.compile(r"\^\s*\{?\s*(?:\\top|T|\\intercal)\s*\}?")
_RELATION_TEXT = {"\\coloneqq": ":=", "\\approx": "≈", "\\equiv": "≡", "\\triangleq": "≜"}


def readable(latex: str, limit: int = 100) -> str:
    """The LaTeX as a student would read it back: fonts, sizing and spacing dropped, common symbols as characters."""
    text = repair_damage(latex)
    for _ in range(3):
        text = _FONT.sub(r"\1", text)
    text = _SPACING.sub(" ", text)
    text = _TRANSPOSE.sub("ᵀ", text)
    for command, char in _WORDS.items():
        text = text.replace(command, char)
    return _short(text, limit)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _with_notes(text: str, notes: list[str]) -> str:
    return text + "".join(f"; {note}" for note in notes)


def _holds_text(comparison: Comparison, valid: int) -> str:
    if comparison.method == "monte-carlo":
        return f"agrees on {valid} random instances (Monte Carlo, {comparison.samples} samples each, within {comparison.z:.1f} standard errors)"
    if comparison.method == "quadrature":
        return f"agrees on {valid} random instances (expectations by quadrature)"
    return f"agrees on {valid} random instances"


def _counterexample_text(comparison: Comparison, instance: str) -> str:
    where = f"at {instance}: " if instance else ""
    text = f"{where}{comparison.values_text()}"
    if comparison.method == "monte-carlo":
        text += (
            f" (Monte Carlo with {comparison.samples} samples: the difference {format_value(comparison.difference, 3)} "
            f"is {comparison.difference / max(comparison.standard_error, 1e-300):.0f} standard errors)"
            if comparison.standard_error > 0
            else f" (Monte Carlo with {comparison.samples} samples)"
        )
    return text


def _counterexample(comparison: Comparison, instance: str) -> dict[str, Any]:
    k = comparison.worst
    out: dict[str, Any] = {
        "instance": instance,
        "left": _json_number(complex(comparison.left[k])),
        "right": _json_number(complex(comparison.right[k])),
        "method": comparison.method,
    }
    if comparison.where():
        out["entry"] = comparison.where().removeprefix("entry ").removesuffix(": ")
    if comparison.method == "monte-carlo":
        out["samples"] = comparison.samples
        out["standard_error"] = float(f"{comparison.standard_error:.3g}")
    return out


def _json_number(value: complex) -> float | str:
    if value.imag == 0:
        return float(f"{value.real:.6g}")
    return format_value(value, 6)
