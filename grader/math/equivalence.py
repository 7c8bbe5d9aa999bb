"""Is a student's expression the reference? Three answers: equivalent, not equivalent, undecided.

Order of evidence, cheapest first:
1. the same tree (``structural``);
2. evaluation at seeded random points of the declared domains (``numeric``), or with random
   matrices of the declared shapes (``matrix_numeric``): one disagreement at a valid point is a
   definitive ``not_equivalent`` with the point as counterexample; agreement at every point
   (at least 12 for scalars, 6 matrix draws) is ``equivalent``;
3. SymPy (``symbolic``) when the numbers cannot decide (unknown functions, no valid points).

Sets and ``±`` lists are matched as multisets (``set``), relations up to flipping, rearranging
and scaling (``relation``), concrete matrices entry by entry (``entrywise``). All numeric and
symbolic work for one check runs inside one bounded, killable worker: a timeout or a refused
size is ``undecided``, never ``not_equivalent``.

Points outside the real domain of one answer (``log x`` at ``x < 0``: a real input gave a
non-real value) are skipped, not counted as counterexamples.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from grader._internal.sandbox import Crashed, Finished, OutOfMemory, TimedOut, run_bounded
from grader.math import forms
from grader.math.evaluate import (
    EvalError,
    Evaluator,
    Mat,
    NotEvaluable,
    RandomFunction,
    Sample,
    Scaling,
    ShapeError,
    TooLarge,
    Undefined,
    Value,
    check_size,
    describe,
    dims_text,
    expand_plus_minus,
    format_value,
    functions_to_sample,
    matrix_context,
    names_to_sample,
    pretty_name,
    sample_point,
    summation_bounds,
)
from grader.math.rational import rational_text, rational_value
from grader.math.sampling import bound_walk
from grader.math.symbols import MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Div,
    Interval,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    PlusMinus,
    Relation,
    RelOp,
    Seq,
    Sym,
    symbols_in,
    walk,
)
from grader.math.values import kind_text

__all__ = ["Equivalence", "Method", "Verdict", "check_equivalence"]

Verdict = Literal["equivalent", "not_equivalent", "undecided"]
Method = Literal[
    "structural", "symbolic", "numeric", "matrix_numeric", "entrywise", "set", "relation", "order", "up_to", "none"
]
#: compared up to an additive constant (antiderivatives), a nonzero factor (eigenvectors), or the
#: arbitrary constants of a general solution (see ``grader.math.forms``)
UpTo = forms.UpTo

SCALAR_POINTS = 12
MATRIX_DRAWS = 6
MAX_ATTEMPTS = 60
MAX_SET_ITEMS = 100
_SYMBOLIC_MARGIN_S = 0.3
EXACT_SCREEN_RTOL = 1e-6
EXACT_SCREEN_ATOL = 1e-9


class Equivalence(BaseModel):
    """The outcome of one comparison; ``detail`` is a sentence a student or instructor can read.

    ``counterexample`` (JSON-safe) is e.g. ``{"point": {"p": 0.3}, "student": 2.1, "reference": 2.33}``;
    ``wrong_entries`` lists 1-based ``(row, column)`` pairs of a concrete matrix that differ.
    """

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    method: Method
    detail: str = ""
    counterexample: dict[str, Any] | None = None
    wrong_entries: list[tuple[int, int]] | None = None


def check_equivalence(
    student: Node,
    reference: Node,
    symbols: SymbolTable | None = None,
    *,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    timeout_s: float = 5.0,
    memory_mb: int = 1024,
    up_to: UpTo | None = None,
    constants: Sequence[str] = (),
) -> Equivalence:
    """Compare two trees; never raises for anything a student wrote, and returns within about ``timeout_s``.

    ``up_to`` compares up to an additive constant, a nonzero factor or the arbitrary constants
    (``constants`` names them besides the recognised ``C``, ``C_1``, ``K``); expansions with an
    ``O(·)`` term are compared up to their order (``grader.math.forms``).

    ``rtol``/``atol`` say how close two values must be. ``rtol = atol = 0`` asks for *exact*
    equality: values are screened in double precision with the default tolerances (a larger
    difference is a counterexample; smaller ones can be rounding noise) and every agreement of
    scalar answers is confirmed with 60-digit arithmetic in which a decimal is the exact number
    it writes, so ``0.333333333333333`` is not ``1/3`` but ``100.4 - 80.0`` is ``20.4``. With a
    tolerance, decimals are approximations and only decimal-free answers get that confirmation.
    """
    if rtol < 0 or atol < 0:
        raise ValueError("rtol and atol must not be negative")
    table = symbols or SymbolTable()
    try:
        check_size(student, reference)  # first: comparing trees recurses with their depth
    except TooLarge as error:
        return _undecided("none", f"too large: {error.reason}")
    if student == reference and up_to is None:
        return _equal("structural", "your answer is written exactly like the reference")
    settings = _Settings(table, seed, rtol, atol, timeout_s, memory_mb, up_to=up_to, constants=tuple(constants))
    outcome = run_bounded(_decide, student, reference, settings, timeout_s=timeout_s, memory_mb=memory_mb)
    match outcome:
        case Finished(value):
            assert isinstance(value, Equivalence)
            return value
        case TimedOut(seconds):
            return _undecided("none", f"timed out: the comparison did not finish within {seconds:g} s")
        case OutOfMemory(limit):
            return _undecided("none", f"too large: the comparison needed more than {limit} MB of memory")
        case Crashed(message):
            return _undecided("none", f"the comparison failed: {message}")
    return _undecided("none", "the comparison gave no result")


# ---------------------------------------------------------------------------------------------
# Inside the worker


@dataclass(frozen=True)
class _Settings:
    symbols: SymbolTable
    seed: int
    rtol: float
    atol: float
    timeout_s: float
    memory_mb: int
    exact: bool = False  # rtol = atol = 0 was asked for; rtol/atol are then the screening tolerances
    started: float = field(default_factory=time.monotonic)
    up_to: UpTo | None = None
    constants: tuple[str, ...] = ()

    def remaining(self) -> float:
        return self.timeout_s - (time.monotonic() - self.started)


def _decide(student: Node, reference: Node, settings: _Settings) -> Equivalence:
    """Runs in the sandbox; restart the clock here so the symbolic step's budget is honest."""
    exact = settings.rtol == 0 and settings.atol == 0
    fresh = _Settings(
        settings.symbols,
        settings.seed,
        EXACT_SCREEN_RTOL if exact else settings.rtol,
        EXACT_SCREEN_ATOL if exact else settings.atol,
        settings.timeout_s,
        settings.memory_mb,
        exact,
        up_to=settings.up_to,
        constants=settings.constants,
    )
    try:
        if fresh.up_to is not None:
            return _compare_up_to(unwrap(student), unwrap(reference), fresh)
        return _compare(student, reference, fresh)
    except TooLarge as error:
        return _undecided("none", f"too large: {error.reason}")
    except EvalError as error:
        return _undecided("none", error.reason)


def _compare_up_to(student: Node, reference: Node, cfg: _Settings) -> Equivalence:
    """Answers right up to a constant, a factor or the names of the arbitrary constants."""
    table, seed, rtol, atol = cfg.symbols, cfg.seed, cfg.rtol, cfg.atol
    s_values, r_values = assigned_values(student), assigned_values(reference)
    if len(s_values) == 1 and len(r_values) == 1:  # y = C e^{-kt}: compare what each side is set to
        student, reference = s_values[0], r_values[0]
    elif isinstance(student, Relation) or isinstance(reference, Relation):
        return _undecided("up_to", "an equation is compared up to a constant only as 'name = expression'")
    assert cfg.up_to is not None
    outcome = forms.compare_up_to(
        cfg.up_to, student, reference, table, constants=cfg.constants, seed=seed, rtol=rtol, atol=atol
    )
    return _from_outcome("up_to", outcome)


def _from_outcome(method: Method, outcome: forms.Outcome | None) -> Equivalence:
    if outcome is None:
        return _undecided(method, "the comparison does not apply")
    return Equivalence(verdict=outcome.verdict, method=method, detail=outcome.detail)


def _equal(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="equivalent", method=method, detail=detail)


def _different(
    method: Method,
    detail: str,
    counterexample: dict[str, Any] | None = None,
    wrong_entries: list[tuple[int, int]] | None = None,
) -> Equivalence:
    return Equivalence(
        verdict="not_equivalent",
        method=method,
        detail=detail,
        counterexample=counterexample,
        wrong_entries=wrong_entries,
    )


def _undecided(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="undecided", method=method, detail=detail)


def unwrap(node: Node) -> Node:
    while isinstance(node, Seq) and len(node.items) == 1 and node.kind != "set":
        node = node.items[0]
    return node


def has_plus_minus(node: Node) -> bool:
    return any(isinstance(n, PlusMinus) for n in walk(node))


def is_collection(node: Node) -> bool:
    return isinstance(node, Seq) or has_plus_minus(node)


def _compare(student: Node, reference: Node, cfg: _Settings) -> Equivalence:
    student, reference = unwrap(student), unwrap(reference)
    if student == reference:
        return _equal("structural", "your answer is written exactly like the reference")
    if forms.has_order_term(student) or forms.has_order_term(reference):
        return _from_outcome("order", forms.agree_to_order(student, reference, cfg.symbols, seed=cfg.seed))
    intervals = _compare_as_intervals(student, reference, cfg)
    if intervals is not None:
        return intervals
    for assigns, bare in ((student, reference), (reference, student)):
        values = assignment_list(assigns)
        if values is not None and isinstance(bare, Seq) and bare.kind in ("list", "tuple"):
            if not any(isinstance(item, Relation) for item in bare.items):
                # "AB = 4, CD = 5" against "4, 5": the values, in the order they are named
                s_side, r_side = (
                    (values, list(bare.items)) if assigns is student else (list(bare.items), values)
                )
                return _compare_tuples(Seq(tuple(s_side), "tuple"), Seq(tuple(r_side), "tuple"), cfg)
    if is_relation_collection(student) and is_relation_collection(reference):
        return _compare_relation_sets(_relations_of(student), _relations_of(reference), cfg)
    s_rel, r_rel = isinstance(student, Relation), isinstance(reference, Relation)
    if s_rel or r_rel:
        if s_rel and r_rel:
            assert isinstance(student, Relation) and isinstance(reference, Relation)
            return _compare_relations(student, reference, cfg)
        values = assigned_values(student) if s_rel else assigned_values(reference)
        if values:
            return _compare_assigned(values, reference if s_rel else student, cfg, student_assigns=s_rel)
        if s_rel:
            return _different(
                "relation", "you wrote an equation or inequality, but the answer is an expression"
            )
        return _different("relation", "the answer is an equation or inequality, but you wrote an expression")
    if is_relation_collection(student) or is_relation_collection(reference):
        return _different("relation", "one side is a list of equations or inequalities and the other is not")
    if is_collection(student) or is_collection(reference):
        s_tuple = isinstance(student, Seq) and student.kind == "tuple"
        r_tuple = isinstance(reference, Seq) and reference.kind == "tuple"
        if s_tuple or r_tuple:
            return _compare_tuples(student, reference, cfg)
        as_set = any(isinstance(n, Seq) and n.kind == "set" for n in (student, reference))
        return _compare_sets(items_of(student), items_of(reference), cfg, as_set=as_set)
    if isinstance(student, MatrixLit) or isinstance(reference, MatrixLit):
        return _compare_entrywise(student, reference, cfg)
    return _compare_expressions(student, reference, cfg)


def assignment_list(node: Node) -> list[Node] | None:
    """``x = -5, p = 14/3``: a list of two or more assignments, each giving one named value."""
    if not (isinstance(node, Seq) and node.kind == "list" and len(node.items) >= 2):
        return None
    values: list[Node] = []
    for item in node.items:
        assigned = assigned_values(item)
        if len(assigned) != 1:
            return None
        values.append(assigned[0])
    return values


# ---------------------------------------------------------------------------------------------
# Intervals


_LESS = {"<": True, "<=": False}  # op -> is the end open
_GREATER = {">": True, ">=": False}


def _interval_view(node: Node, *, from_seq: bool) -> Interval | None:
    """``node`` read as an interval: an ``Interval``; with ``from_seq`` a pair ``(a, b)`` (open) or
    ``[a, b]`` (closed); or a double inequality ``a < E <= b`` (``E`` anything, the ends numbers)."""
    if isinstance(node, Interval):
        return node
    if from_seq and isinstance(node, Seq) and node.kind in ("tuple", "list") and len(node.items) == 2:
        if not any(isinstance(item, (Relation, Seq, Interval)) for item in node.items):
            open_ = node.kind == "tuple"
            return Interval(node.items[0], node.items[1], open_, open_)
    if isinstance(node, Relation) and len(node.ops) == 2 and not has_plus_minus(node):
        low, middle, high = node.items
        if symbols_in(low) or symbols_in(high) or not symbols_in(middle):
            return None
        if all(op in _LESS for op in node.ops):
            return Interval(low, high, _LESS[node.ops[0]], _LESS[node.ops[1]])
        if all(op in _GREATER for op in node.ops):
            return Interval(high, low, _GREATER[node.ops[1]], _GREATER[node.ops[0]])
    return None


def _compare_as_intervals(student: Node, reference: Node, cfg: _Settings) -> Equivalence | None:
    """Intervals against intervals, pairs read as intervals and double inequalities; None when
    neither side is one. An interval inside arithmetic (``-[0, 1)``) is not a number."""
    s_interval, r_interval = isinstance(student, Interval), isinstance(reference, Interval)
    s_chain = _interval_view(student, from_seq=False) is not None and isinstance(student, Relation)
    r_chain = _interval_view(reference, from_seq=False) is not None and isinstance(reference, Relation)
    s_pair = isinstance(student, Seq) and _interval_view(student, from_seq=True) is not None
    r_pair = isinstance(reference, Seq) and _interval_view(reference, from_seq=True) is not None
    if s_interval or r_interval or (s_chain and r_pair) or (s_pair and r_chain):
        s_view = _interval_view(student, from_seq=True)
        r_view = _interval_view(reference, from_seq=True)
        if s_view is None:
            return _different("set", "the answer is an interval, but yours is not")
        if r_view is None:
            return _different("set", "yours is an interval, but the answer is not")
        return _compare_intervals(s_view, r_view, cfg)
    s_inside = any(isinstance(n, Interval) for n in walk(student))
    r_inside = any(isinstance(n, Interval) for n in walk(reference))
    if s_inside != r_inside and not isinstance(student, Seq) and not isinstance(reference, Seq):
        return _different("set", "one answer uses an interval (a set of numbers) and the other does not")
    return None


def _compare_intervals(student: Interval, reference: Interval, cfg: _Settings) -> Equivalence:
    undecided: list[str] = []
    for which, s_end, r_end in (
        ("lower", student.low, reference.low),
        ("upper", student.high, reference.high),
    ):
        outcome = _compare(s_end, r_end, cfg)
        if outcome.verdict == "not_equivalent":
            return _different("set", f"the {which} end of the interval differs: {outcome.detail}")
        if outcome.verdict == "undecided":
            undecided.append(f"{which} end: {outcome.detail}")
    for which, s_open, r_open in (
        ("lower", student.low_open, reference.low_open),
        ("upper", student.high_open, reference.high_open),
    ):
        if s_open != r_open:
            included = "excludes" if s_open else "includes"
            return _different("set", f"your interval {included} its {which} end, the answer's does not")
    if undecided:
        return _undecided("set", "; ".join(undecided))
    return _equal("set", "the same interval")


def assigned_values(relation: Node) -> list[Node]:
    """``x = 5``, ``λ = (1-p)/p``, ``(p, q) = (3, 2)``, ``f(x) = 1``: the values a chain gives a named
    quantity, to compare with a bare answer. Empty when the left side is not a name (``x + y = 1``
    is an equation, not an answer) or the name occurs in the values."""
    if not (
        isinstance(relation, Relation) and relation.ops and all(op in ("=", "approx") for op in relation.ops)
    ):
        return []
    names = _label_names(relation.items[0])
    if names is None:
        return []
    values = list(relation.items[1:])
    if any(names & symbols_in(value) for value in values):
        return []
    return values


def _label_names(node: Node) -> set[str] | None:
    """The names a label consists of (``f`` for ``f(x)``), or None if the node is not a label."""
    match node:
        case Sym(name):
            return {name}
        case Call(func, args) if all(isinstance(a, (Sym, Num)) for a in args):
            return {func}
        case Seq(items, "tuple") if all(isinstance(i, Sym) for i in items):
            return {i.name for i in items if isinstance(i, Sym)}
        case Norm(arg, _):
            return _label_names(arg)
        case Mul(factors) if all(isinstance(f, Sym) for f in factors):
            return {f.name for f in factors if isinstance(f, Sym)}
        case Div(num, den):
            top, bottom = _label_names(num), _label_names(den)
            return None if top is None or bottom is None else top | bottom
    return None


def _compare_assigned(
    values: list[Node], bare: Node, cfg: _Settings, *, student_assigns: bool
) -> Equivalence:
    """Every value in the chain must equal the bare answer (``x = 5+5+1 = 7`` is not ``11``)."""
    outcome = _equal("structural", "")
    for value in values:
        outcome = _compare(value, bare, cfg) if student_assigns else _compare(bare, value, cfg)
        if outcome.verdict != "equivalent":
            return outcome
    if outcome.method == "structural":
        return _equal("structural", "the value given is written exactly like the answer")
    return outcome


# ---------------------------------------------------------------------------------------------
# Expressions: scalars and symbolic matrices


@dataclass
class _Sample:
    point: dict[str, Sample]
    student: Value
    reference: Value


def _compare_expressions(student: Node, reference: Node, cfg: _Settings) -> Equivalence:
    table = cfg.symbols
    is_matrix = matrix_context([student, reference], table)
    method: Method = "matrix_numeric" if is_matrix else "numeric"
    names = names_to_sample([student, reference], table)
    functions = functions_to_sample([student, reference], table)
    integers = summation_bounds([student, reference])
    varies = bool(names or functions)
    need = 1 if not varies else (MATRIX_DRAWS if is_matrix else SCALAR_POINTS)
    attempts_allowed = 1 if not varies else MAX_ATTEMPTS
    rng = np.random.default_rng(cfg.seed)
    valid = 0
    undefined: Counter[str] = Counter()
    student_undefined: list[tuple[dict[str, Sample], str]] = []
    blocker: str | None = None
    branch_point: dict[str, Sample] | None = None
    real_points: list[dict[str, Sample]] = []
    attempts = 0
    for attempts in range(1, attempts_allowed + 1):  # noqa: B007 - attempts is reported below
        try:
            point = sample_point(names, table, rng, functions, integers)
        except TooLarge as error:
            return _undecided(method, f"too large: {error.reason}")
        except NotEvaluable as error:
            blocker = error.reason
            break
        in_context = is_matrix
        ref_eval = Evaluator(table, point, in_matrix_context=in_context)
        try:
            ref_value = ref_eval.eval(reference)
        except ShapeError as error:
            return _undecided(
                method,
                f"the reference answer is not defined for the declared shapes ({error.reason}); "
                "the rubric author should check the reference and the symbols' shapes",
            )
        except TooLarge as error:  # 175!, (x-a)^6000: SymPy may still decide exactly
            blocker = f"too large: {error.reason}"
            break
        except NotEvaluable as error:
            blocker = f"the reference cannot be evaluated: {error.reason}"
            break
        except Undefined as error:
            undefined[error.reason] += 1
            continue
        stu_eval = Evaluator(table, point, in_matrix_context=in_context)
        try:
            stu_value = stu_eval.eval(student)
        except ShapeError as error:
            return _different(
                method, f"your expression is not defined for the declared shapes: {error.reason}"
            )
        except TooLarge as error:
            blocker = f"too large: {error.reason}"
            break
        except NotEvaluable as error:
            blocker = f"your answer cannot be evaluated: {error.reason}"
            break
        except Undefined as error:
            undefined[error.reason] += 1
            if error.exact:
                student_undefined.append((point, error.reason))
            continue
        match, mismatch = values_match(stu_value, ref_value, cfg.rtol, cfg.atol)
        if mismatch is not None:
            return _different(method, mismatch)
        if not match:
            if ref_eval.left_reals or stu_eval.left_reals:
                undefined["outside the real domain of one of the answers"] += 1
                branch_point = branch_point or point
                continue
            if not is_matrix and _cancels(student, reference, point, stu_value, ref_value, cfg):
                return _decide_exactly(student, reference, names, functions, cfg, method)
            return _counterexample(student, reference, _Sample(point, stu_value, ref_value), cfg, method)
        valid += 1
        if not (ref_eval.left_reals or stu_eval.left_reals):
            real_points.append(point)
        if valid >= need:
            break
    if valid >= need:
        if branch_point is not None and not is_matrix:
            probe = _probe_special_points(student, reference, names, functions, cfg, method)
            if probe is not None:
                return probe
        if not is_matrix:
            confirmed = _confirm_exactly(student, reference, real_points[:3], cfg)
            if confirmed is not None:
                return confirmed
        if not varies:
            return _equal(method, "both evaluate to the same number")
        what = "random matrix draws" if is_matrix else "random points"
        if functions:
            listed = ", ".join(pretty_name(f) for f in functions)
            what += f", each with new random functions for {listed}"
        return _equal(method, f"your answer agrees with the reference at {valid} {what}")
    if student_undefined and len(student_undefined) >= (1 if not varies else max(2, valid + 1)):
        point, reason = student_undefined[0]
        return _different(
            method,
            undefined_detail(point_text(point, table), reason),
            counterexample={"point": json_point(point, table), "student": None, "reference": None},
        )
    if blocker is None:
        common = undefined.most_common(1)[0][0] if undefined else "no valid point"
        blocker = f"only {valid} of {attempts} random points gave values for both answers (most common problem: {common})"
    if not is_matrix:
        symbolic = _symbolic(student, reference, cfg)
        if symbolic is not None:
            return symbolic
    return _undecided(method, blocker)


def undefined_detail(where: str, reason: str) -> str:
    """The student's expression has no value where the reference has one."""
    at = f" at {where}" if where else ""
    return f"your expression is undefined{at} ({reason}) where the reference has a value"


_SPECIAL_VALUES = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.5, 2.0, 3.0)


def _probe_special_points(
    student: Node, reference: Node, names: list[str], functions: list[str], cfg: _Settings, method: Method
) -> Equivalence | None:
    """Small integers and halves, where powers of negative numbers are real again.

    Random points skip where an answer leaves the reals (``log x`` for ``x < 0``), so the
    answers are only compared where both are real. That misses ``(a^b)^c`` against ``a^(bc)``,
    which differ at ``a = -2, b = 2, c = 1/2`` (a set of measure zero). Run only after a branch
    disagreement was seen; a difference where both sides are real is a counterexample.
    """
    table = cfg.symbols
    grid_names = [n for n in names if not table.is_matrix(n)][:3]
    if not grid_names or len(grid_names) < len(names):
        return None
    drawn = sample_point([], table, np.random.default_rng(cfg.seed + 2), functions)
    for combo in itertools.product(_SPECIAL_VALUES, repeat=len(grid_names)):
        point: dict[str, Sample] = dict(drawn)
        for name, value in zip(grid_names, combo, strict=True):
            decl = table.get(name)
            domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else None
            if domain is not None and (domain.complex or not domain.contains(value)):
                break
            point[name] = complex(value)
        else:
            try:
                ref_eval = Evaluator(table, point, in_matrix_context=False)
                stu_eval = Evaluator(table, point, in_matrix_context=False)
                ref_value, stu_value = ref_eval.eval(reference), stu_eval.eval(student)
            except EvalError:
                continue
            if ref_eval.left_reals or stu_eval.left_reals:
                continue
            match, mismatch = values_match(stu_value, ref_value, cfg.rtol, cfg.atol)
            if not match and mismatch is None:
                return _counterexample(student, reference, _Sample(point, stu_value, ref_value), cfg, method)
    return None


def values_match(student: Value, reference: Value, rtol: float, atol: float) -> tuple[bool, str | None]:
    """(equal?, shape message): the message is set when the kinds or shapes differ (definitive)."""
    if isinstance(student, Mat) and student.shape == (1, 1) and not isinstance(reference, Mat):
        student = complex(student.a[0, 0])
    if isinstance(reference, Mat) and reference.shape == (1, 1) and not isinstance(student, Mat):
        reference = complex(reference.a[0, 0])
    if isinstance(student, Scaling) and isinstance(reference, Mat):
        as_matrix = _identity_like(student, reference)
        if as_matrix is None:
            return (
                False,
                f"yours is a multiple of the identity, expected a {dims_text(reference.dims)} matrix",
            )
        student = as_matrix
    if isinstance(reference, Scaling) and isinstance(student, Mat):
        converted = _identity_like(reference, student)
        if converted is None:
            return False, f"yours is a {dims_text(student.dims)} matrix, expected a multiple of the identity"
        reference = converted
    if isinstance(student, Scaling) and isinstance(reference, Scaling):
        return _close(student.c, reference.c, rtol, atol), None
    if isinstance(student, Mat) and isinstance(reference, Mat):
        if student.shape != reference.shape:
            return False, f"yours is {dims_text(student.dims)}, but the answer is {dims_text(reference.dims)}"
        scale = max(float(np.abs(reference.a).max(initial=0)), float(np.abs(student.a).max(initial=0)))
        return bool(np.abs(student.a - reference.a).max(initial=0) <= atol + rtol * scale), None
    if isinstance(student, complex) and isinstance(reference, complex):
        return _close(student, reference, rtol, atol), None
    return False, f"yours is {kind_text(student)}, but the answer is {kind_text(reference)}"


def _identity_like(scaling: Scaling, like: Mat) -> Mat | None:
    rows, cols = like.shape
    return Mat(scaling.c * np.eye(rows, dtype=np.complex128), like.dims) if rows == cols else None


def _close(a: complex, b: complex, rtol: float, atol: float) -> bool:
    if math.isinf(a.real) or math.isinf(b.real):
        return a == b
    scale = max(abs(a), abs(b))
    return abs(a - b) <= atol + rtol * scale + 1e-14 * scale  # a few ulps: 1 - 0.95 is 0.05000000000000004


def _counterexample(
    student: Node, reference: Node, sample: _Sample, cfg: _Settings, method: Method
) -> Equivalence:
    sample = _nicer_point(student, reference, sample, cfg)
    table = cfg.symbols
    where = point_text(sample.point, table)
    s_val, r_val = sample.student, sample.reference
    if isinstance(s_val, Mat) and isinstance(r_val, Mat):
        diff = np.abs(s_val.a - r_val.a)
        i, j = (int(k) for k in np.unravel_index(int(np.argmax(diff)), diff.shape))
        shapes = ", ".join(
            f"{pretty_name(n)} {dims_text(_decl_dims(table, n))}"
            for n in sorted(sample.point)
            if table.is_matrix(n)
        )
        extra = f" and {where}" if where else ""
        detail = (
            f"for random {shapes}{extra}, yours differs from the reference: row {i + 1}, column {j + 1} is "
            f"{format_value(s_val.a[i, j])}, expected {format_value(r_val.a[i, j])}"
        )
        return _different(
            method,
            detail,
            counterexample={
                "point": json_point(sample.point, table),
                "entry": [i + 1, j + 1],
                "student": json_number(complex(s_val.a[i, j])),
                "reference": json_number(complex(r_val.a[i, j])),
            },
        )
    s_num, r_num = _as_number(s_val), _as_number(r_val)
    functions = sorted(n for n, v in sample.point.items() if isinstance(v, RandomFunction))
    if functions:
        listed = ", ".join(pretty_name(f) for f in functions)
        where = (
            f"{where} and random positive functions {listed}"
            if where
            else f"random positive functions {listed}"
        )
    prefix = f"at {where} " if where else ""
    s_text, r_text = _distinct_texts(s_val, r_val)
    detail = f"{prefix}yours gives {s_text}, expected {r_text}"
    return _different(
        method,
        detail,
        counterexample={
            "point": json_point(sample.point, table),
            "student": json_number(s_num) if s_num is not None else _value_text(s_val),
            "reference": json_number(r_num) if r_num is not None else _value_text(r_val),
        },
    )


def _nicer_point(student: Node, reference: Node, sample: _Sample, cfg: _Settings) -> _Sample:
    """Round a scalar counterexample to 1-2 decimals when it still shows the difference."""
    table = cfg.symbols
    values = {n: v for n, v in sample.point.items() if not isinstance(v, RandomFunction)}
    if any(not isinstance(v, complex) or v.imag != 0 for v in values.values()):
        return sample
    in_context = matrix_context([student, reference], table)
    for digits in (1, 2):
        rounded: dict[str, Sample] = {n: v for n, v in sample.point.items() if isinstance(v, RandomFunction)}
        for name, value in values.items():
            assert isinstance(value, complex)
            x = round(value.real, digits)
            decl = table.get(name)
            domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else None
            if domain is not None and not domain.contains(x):
                break
            rounded[name] = complex(x)
        else:
            try:
                ref_eval = Evaluator(table, rounded, in_matrix_context=in_context)
                stu_eval = Evaluator(table, rounded, in_matrix_context=in_context)
                r_val, s_val = ref_eval.eval(reference), stu_eval.eval(student)
            except EvalError:
                continue
            if ref_eval.left_reals or stu_eval.left_reals:
                continue
            match, mismatch = values_match(s_val, r_val, cfg.rtol, cfg.atol)
            if not match and mismatch is None:
                return _Sample(rounded, s_val, r_val)
    return sample


def _decl_dims(table: SymbolTable, name: str) -> tuple[str | int, str | int]:
    decl = table.get(name)
    assert isinstance(decl, MatrixSymbol)
    return decl.shape[0], decl.shape[1]


def point_text(point: Mapping[str, Sample], table: SymbolTable) -> str:
    return ", ".join(
        f"{pretty_name(n)} = {format_value(v)}" for n, v in sorted(point.items()) if isinstance(v, complex)
    )


def json_point(point: Mapping[str, Sample], table: SymbolTable) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in sorted(point.items()):
        if isinstance(value, complex):
            out[name] = json_number(value)
        elif isinstance(value, Mat):
            out[name] = f"random {value.shape[0]}×{value.shape[1]} matrix"
    return out


def json_number(value: complex) -> float | str:
    if value.imag == 0 and math.isfinite(value.real):
        return float(f"{value.real:.6g}")
    return format_value(value, 6)


def _as_number(value: Value) -> complex | None:
    if isinstance(value, complex):
        return value
    if isinstance(value, Mat) and value.shape == (1, 1):
        return complex(value.a[0, 0])
    return None


def _value_text(value: Value, digits: int = 4) -> str:
    number = _as_number(value)
    if number is not None:
        return format_value(number, digits)
    return kind_text(value)


def _distinct_texts(student: Value, reference: Value) -> tuple[str, str]:
    """Both values with as few digits as show that they differ (1.333 against 1.3333)."""
    for digits in (4, 6, 9, 12, 15):
        s_text, r_text = _value_text(student, digits), _value_text(reference, digits)
        if s_text != r_text:
            break
    return s_text, r_text


# ---------------------------------------------------------------------------------------------
# Symbolic fallback and exact confirmation


def _has_decimal(node: Node) -> bool:
    return any(isinstance(n, Num) and not n.text.replace(",", "").strip().isdigit() for n in walk(node))


def _confirm_exactly(
    student: Node, reference: Node, points: list[dict[str, Sample]], cfg: _Settings
) -> Equivalence | None:
    """Re-check numeric agreement with 60-digit arithmetic for decimal-free answers (and for
    answers with decimals, read as exact numbers, when exact equality was asked for).

    Double precision cannot tell ``99999999/10^8`` from ``99999998/99999999`` or a degree-13
    polynomial from one whose constant term is off by 1. None keeps the numeric verdict.
    """
    if not cfg.exact and (_has_decimal(student) or _has_decimal(reference)):
        return None
    budget = min(2.0, cfg.remaining() - _SYMBOLIC_MARGIN_S)
    if budget < 0.2:
        return None
    scalar_points = [{k: v for k, v in p.items() if isinstance(v, complex)} for p in points] or [{}]
    outcome = run_bounded(
        _exact_worker,
        student,
        reference,
        cfg.symbols,
        scalar_points,
        cfg.exact,
        timeout_s=budget,
        memory_mb=cfg.memory_mb,
    )
    if not isinstance(outcome, Finished) or outcome.value is None:
        return None
    index, s_text, r_text = outcome.value
    point = points[index] if points else {}
    where = point_text(point, cfg.symbols)
    prefix = f"at {where} " if where else ""
    return _different(
        "symbolic",
        f"{prefix}yours gives {s_text}, expected {r_text} (they differ beyond double precision)",
        counterexample={"point": json_point(point, cfg.symbols), "student": s_text, "reference": r_text},
    )


def _exact_worker(
    student: Node, reference: Node, symbols: SymbolTable, points: list[dict[str, complex]], exact: bool
) -> tuple[int, str, str] | None:
    rational = _rational_difference(student, reference, points, exact)
    if rational is not False:
        return rational
    from grader.math.sympy_bridge import convert, exact_difference

    try:
        a = convert(student, symbols, exact_decimals=exact)
        b = convert(reference, symbols, exact_decimals=exact)
        result = exact_difference(a, b, points)
    except Exception:  # Unsupported, TooLarge, or SymPy failing on an odd construction
        return None
    if not isinstance(result, tuple):
        return None
    index, s_value, r_value = result
    return index, _digits(s_value), _digits(r_value)


def _rational_difference(
    student: Node, reference: Node, points: list[dict[str, complex]], exact: bool
) -> tuple[int, str, str] | None | Literal[False]:
    """The exact re-check in rational arithmetic: the first point where the two differ, None
    when they agree at every point, False when either is not rational there (SymPy decides)."""
    for index, point in enumerate(points):
        s_value = rational_value(student, point, exact_decimals=exact)
        r_value = rational_value(reference, point, exact_decimals=exact)
        if s_value is None or r_value is None:
            return False
        if s_value != r_value:
            return index, rational_text(s_value), rational_text(r_value)
    return None


def _digits(value: Any) -> str:
    text = str(value.evalf(20))
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text and "I" not in text else text


def _symbolic(student: Node, reference: Node, cfg: _Settings) -> Equivalence | None:
    """SymPy in a nested bounded worker, so a hanging ``simplify`` still leaves time to answer."""
    budget = cfg.remaining() - _SYMBOLIC_MARGIN_S
    if budget < 0.2:
        return None
    outcome = run_bounded(
        _symbolic_worker, student, reference, cfg.symbols, timeout_s=budget, memory_mb=cfg.memory_mb
    )
    if not isinstance(outcome, Finished) or outcome.value is None:
        return None
    verdict, detail = outcome.value
    if verdict is True:
        return _equal("symbolic", detail)
    if verdict is False:
        return _different("symbolic", detail)
    return None


def _symbolic_worker(student: Node, reference: Node, symbols: SymbolTable) -> tuple[bool | None, str] | None:
    from grader.math.sympy_bridge import convert, symbolic_equal

    try:
        a, b = convert(student, symbols), convert(reference, symbols)
    except (TooLarge, Exception):  # Unsupported, or SymPy refusing an odd construction
        return None
    result = symbolic_equal(a, b)
    if result is True:
        return True, "SymPy simplifies the difference to 0"
    if result is False:
        try:
            s_text, r_text = _exact_text(a), _exact_text(b)
        except (TypeError, ValueError, OverflowError):
            return False, "the two values differ"
        return False, f"yours is {s_text}, expected {r_text}"
    return None


def _exact_text(value: Any) -> str:
    """A SymPy number for a person: ``2.333``, and ``7.887e+374`` for 200! (beyond a float)."""
    number = complex(value.evalf(15))
    if math.isfinite(number.real) and math.isfinite(number.imag):
        return format_value(number)
    return str(value.evalf(4))


# ---------------------------------------------------------------------------------------------
# Catastrophic cancellation: a difference double precision cannot see is checked exactly

#: Rounding error of a sum is about this many ulps of the size of its terms.
_SUM_ULPS = 16 * 2.0**-52
EXACT_POINTS = 6


def rounding_noise(tree: Node, point: Mapping[str, Sample], table: SymbolTable, in_context: bool) -> float:
    """An estimate of the absolute rounding error of ``tree`` at ``point``: the size of the terms of
    its largest sum, in ulps. ``(a+b)^{300} - (a^2+2ab+b^2)^{150}`` has terms near 1e180 and a
    noise far above any tolerance; an ordinary formula's noise is near 1e-15."""
    noise = 0.0
    for node, bound in bound_walk(tree):
        if not isinstance(node, Add) or bound:  # a term with a summation index has no value of its own
            continue
        total = 0.0
        for term in node.terms:
            try:
                value = Evaluator(table, dict(point), in_matrix_context=in_context).eval(term)
            except EvalError:
                return math.inf
            total += float(np.abs(_flat(value)).max(initial=0))
        noise = max(noise, _SUM_ULPS * total)
    return noise


def _cancels(
    student: Node, reference: Node, point: dict[str, Sample], s_val: Value, r_val: Value, cfg: _Settings
) -> bool:
    """Whether a difference seen at ``point`` may be rounding noise of either side."""
    gap = float(np.abs(_flat(s_val) - _flat(r_val)).max(initial=0)) if _flat(s_val).shape == _flat(r_val).shape else math.inf
    if not math.isfinite(gap):
        gap = math.inf
    noise = max(
        rounding_noise(student, point, cfg.symbols, False), rounding_noise(reference, point, cfg.symbols, False)
    )
    return noise >= 0.01 * gap


def rational_point(point: dict[str, Sample], table: SymbolTable, digits: int = 3) -> dict[str, complex] | None:
    """The scalars of ``point`` rounded to ``digits`` significant digits inside their domains (small
    exact rationals, so exact arithmetic stays cheap); None when a value is not a real scalar."""
    out: dict[str, complex] = {}
    for name, value in point.items():
        if isinstance(value, RandomFunction):
            return None
        if not isinstance(value, complex) or value.imag != 0:
            return None
        x = float(f"{value.real:.{digits}g}")
        decl = table.get(name)
        domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else None
        if domain is not None and not domain.contains(x):
            x = value.real
        out[name] = complex(x)
    return out


def _decide_exactly(
    student: Node, reference: Node, names: list[str], functions: list[str], cfg: _Settings, method: Method
) -> Equivalence:
    """Double precision could not tell the answers apart from rounding noise: compare them in
    exact arithmetic at small rational points (bounded), or say that it could not be decided."""
    unreliable = _undecided(
        method,
        "the values are numerically unreliable (terms far larger than the result cancel) and an exact "
        "check did not finish",
    )
    if functions:
        return unreliable
    rng = np.random.default_rng(cfg.seed + 3)
    points = []
    for _ in range(EXACT_POINTS):
        point = rational_point(sample_point(names, cfg.symbols, rng), cfg.symbols)
        if point is None:
            return unreliable
        points.append(point)
    budget = min(3.0, cfg.remaining() - _SYMBOLIC_MARGIN_S)
    if budget < 0.2:
        return unreliable
    outcome = run_bounded(
        _exact_values_worker,
        [student, reference],
        cfg.symbols,
        points,
        cfg.exact,
        timeout_s=budget,
        memory_mb=cfg.memory_mb,
    )
    if not isinstance(outcome, Finished) or outcome.value is None:
        return unreliable
    for point, (s_exact, r_exact) in zip(points, outcome.value, strict=True):
        s_num, r_num = complex(s_exact), complex(r_exact)
        if not _close(s_num, r_num, cfg.rtol, cfg.atol):
            where = point_text(dict(point), cfg.symbols)
            return _different(
                "symbolic",
                f"at {where} yours gives {format_value(s_num)}, expected {format_value(r_num)} (in exact arithmetic)",
                counterexample={"point": json_point(dict(point), cfg.symbols), "student": json_number(s_num), "reference": json_number(r_num)},
            )
    return _equal(
        "symbolic",
        f"exact arithmetic at {len(points)} rational points agrees (double precision is unreliable here: large terms cancel)",
    )


def exact_values(tree: Node, symbols: SymbolTable, points: list[dict[str, complex]], exact: bool = False) -> list[complex] | None:
    """``tree`` at each point in exact arithmetic (the points' decimals read as exact rationals),
    rounded to double precision at the end; None when SymPy cannot give a finite number. Run it
    in a bounded worker: an exact power can be large."""
    found = _exact_values_worker([tree], symbols, points, exact)
    return None if found is None else [row[0] for row in found]


def _exact_values_worker(
    trees: list[Node], symbols: SymbolTable, points: list[dict[str, complex]], exact: bool
) -> list[tuple[complex, ...]] | None:
    import sympy

    from grader.math.sympy_bridge import convert

    try:
        converted = [convert(tree, symbols, exact_decimals=exact) for tree in trees]
    except Exception:  # Unsupported, TooLarge, or SymPy refusing an odd construction
        return None
    rows: list[tuple[complex, ...]] = []
    for point in points:
        mapping = {}
        for expr in converted:
            for symbol in expr.free_symbols:
                if not isinstance(symbol, sympy.Symbol) or symbol.name not in point:
                    return None
                value = point[symbol.name]
                mapping[symbol] = sympy.Rational(repr(value.real)) + sympy.I * sympy.Rational(repr(value.imag))
        row = []
        for expr in converted:
            try:
                number = complex(sympy.N(expr.xreplace(mapping), 30))
            except (TypeError, ValueError, OverflowError):
                return None
            if not (math.isfinite(number.real) and math.isfinite(number.imag)):
                return None
            row.append(number)
        rows.append(tuple(row))
    return rows


# ---------------------------------------------------------------------------------------------
# Concrete matrices, entry by entry


def _compare_entrywise(student: Node, reference: Node, cfg: _Settings) -> Equivalence:
    table = cfg.symbols
    names = names_to_sample([student, reference], table)
    functions = functions_to_sample([student, reference], table)
    integers = summation_bounds([student, reference])
    rng = np.random.default_rng(cfg.seed)
    varies = bool(names or functions)

    def draws() -> Iterator[tuple[dict[str, Sample], Value, bool] | Equivalence]:
        for _ in range(MAX_ATTEMPTS if varies else 1):
            try:
                point = sample_point(names, table, rng, functions, integers)
                ref_eval = Evaluator(table, point, in_matrix_context=True)
                yield point, ref_eval.eval(reference), ref_eval.left_reals
            except ShapeError as error:
                yield _undecided(
                    "entrywise",
                    f"the reference matrix is not well formed ({error.reason}); the rubric author should check it",
                )
            except (TooLarge, NotEvaluable) as error:
                yield _undecided("entrywise", f"the reference cannot be evaluated: {error.reason}")
            except Undefined:
                continue

    return _entrywise(student, reference, draws(), SCALAR_POINTS if varies else 1, cfg)


def compare_with_values(
    student: Node,
    samples: Sequence[tuple[dict[str, Value], Value]],
    symbols: SymbolTable,
    *,
    rtol: float,
    atol: float,
) -> Equivalence:
    """A matrix answer against known reference values at given points (a simulated Jacobian),
    entry by entry with the same rules and wording as a concrete reference matrix."""
    cfg = _Settings(symbols, 0, rtol, atol, 5.0, 1024)
    try:
        check_size(student)
        return _entrywise(student, None, ((dict(p), v, False) for p, v in samples), len(samples), cfg)
    except TooLarge as error:
        return _undecided("none", f"too large: {error.reason}")
    except EvalError as error:
        return _undecided("none", error.reason)


def _entrywise(
    student: Node,
    reference: Node | None,
    draws: Iterable[tuple[dict[str, Sample], Value, bool] | Equivalence],
    need: int,
    cfg: _Settings,
) -> Equivalence:
    """The student's matrix against the reference's value at each drawn point; ``reference`` (the
    tree, when there is one) only words the entries as written."""
    table = cfg.symbols
    wrong: dict[tuple[int, int], tuple[complex, complex, dict[str, Sample]]] = {}
    valid = 0
    for draw in draws:
        if isinstance(draw, Equivalence):
            return draw
        point, ref_value, ref_left_reals = draw
        try:
            stu_eval = Evaluator(table, point, in_matrix_context=True)
            stu_value = stu_eval.eval(student)
        except ShapeError as error:
            return _different("entrywise", f"your matrix is not well formed: {error.reason}")
        except (TooLarge, NotEvaluable) as error:
            return _undecided("entrywise", f"your answer cannot be evaluated: {error.reason}")
        except Undefined:
            continue
        if not isinstance(ref_value, Mat) or not isinstance(stu_value, Mat):
            return _different(
                "entrywise", f"yours is {kind_text(stu_value)}, but the answer is {kind_text(ref_value)}"
            )
        if stu_value.shape != ref_value.shape:
            (sr, sc), (rr, rc) = stu_value.shape, ref_value.shape
            return _different("entrywise", f"yours is a {sr}×{sc} matrix, but the answer is {rr}×{rc}")
        differing = {
            (int(i), int(j)): (complex(entry), complex(ref_value.a[i, j]))
            for (i, j), entry in np.ndenumerate(stu_value.a)
            if not _close(complex(entry), complex(ref_value.a[i, j]), cfg.rtol, cfg.atol)
        }
        if differing and (ref_left_reals or stu_eval.left_reals):
            continue  # outside the real domain of one answer: not evidence either way
        for cell, (mine, theirs) in differing.items():
            wrong.setdefault(cell, (mine, theirs, point))
        valid += 1
        if valid >= need:
            break
    if wrong:
        cells = sorted(wrong)
        parts = []
        for i, j in cells[:4]:
            s_entry, r_entry, _point = wrong[(i, j)]
            parts.append(
                f"row {i + 1}, column {j + 1}: yours {_entry_text(student, i, j, s_entry)}, "
                f"expected {_entry_text(reference, i, j, r_entry) if reference is not None else format_value(r_entry)}"
            )
        more = f" (and {len(cells) - 4} more)" if len(cells) > 4 else ""
        count = "1 entry differs" if len(cells) == 1 else f"{len(cells)} entries differ"
        first_point = wrong[cells[0]][2]
        return _different(
            "entrywise",
            f"{count}: " + "; ".join(parts) + more,
            counterexample={"point": json_point(first_point, table)} if first_point else None,
            wrong_entries=[(i + 1, j + 1) for i, j in cells],
        )
    if valid == 0:
        return _undecided("entrywise", "no random point gave values for both matrices")
    return _equal("entrywise", "every entry matches")


def _entry_text(node: Node, i: int, j: int, value: complex) -> str:
    """The entry as written (``-1/2``) when the side is a literal, else its value."""
    if isinstance(node, MatrixLit) and i < len(node.rows) and j < len(node.rows[i]):
        return describe(node.rows[i][j], 30)
    return format_value(value)


# ---------------------------------------------------------------------------------------------
# Sets, lists with ±, tuples


def items_of(node: Node) -> list[Node]:
    items = list(node.items) if isinstance(node, Seq) else [node]
    out: list[Node] = []
    for item in items:
        out.extend(expand_plus_minus(item))
        if len(out) > MAX_SET_ITEMS:
            raise TooLarge(f"more than {MAX_SET_ITEMS} values to compare")
    return out


def _compare_sets(student: list[Node], reference: list[Node], cfg: _Settings, *, as_set: bool) -> Equivalence:
    """Multiset comparison with tolerance; with ``as_set`` repeated values count once."""
    if any(isinstance(n, (Seq, MatrixLit, Interval)) for n in (*student, *reference)):
        return _compare_structured_sets(student, reference, cfg)
    table = cfg.symbols
    names = names_to_sample([*student, *reference], table)
    functions = functions_to_sample([*student, *reference], table)
    integers = summation_bounds([*student, *reference])
    in_context = matrix_context([*student, *reference], table)
    rng = np.random.default_rng(cfg.seed)
    need = 1 if not (names or functions) else SCALAR_POINTS
    s_rows: list[list[Value | None]] = []
    r_rows: list[list[Value | None]] = []
    for _ in range(1 if not (names or functions) else MAX_ATTEMPTS):
        try:
            point = sample_point(names, table, rng, functions, integers)
        except NotEvaluable as error:
            return _undecided("set", error.reason)
        r_vals = _evaluate_items(reference, point, cfg, in_context)
        if isinstance(r_vals, Equivalence):
            return _undecided("set", f"the reference cannot be evaluated: {r_vals.detail}")
        s_vals = _evaluate_items(student, point, cfg, in_context)
        if isinstance(s_vals, Equivalence):
            if s_vals.verdict == "not_equivalent":
                return s_vals
            return _undecided("set", f"your answer cannot be evaluated: {s_vals.detail}")
        if all(v is None for v in r_vals):
            continue
        s_rows.append(s_vals)
        r_rows.append(r_vals)
        if len(r_rows) >= need:
            break
    if not r_rows:
        return _undecided("set", "no random point gave values for the reference")

    def same(a_rows: list[list[Value | None]], i: int, b_rows: list[list[Value | None]], j: int) -> bool:
        seen = False
        for a_row, b_row in zip(a_rows, b_rows, strict=True):
            a, b = a_row[i], b_row[j]
            if a is None or b is None:
                continue
            seen = True
            match, _ = values_match(a, b, cfg.rtol, cfg.atol)
            if not match:
                return False
        return seen

    s_keep = list(range(len(student)))
    r_keep = list(range(len(reference)))
    if as_set:
        s_keep = _distinct(s_keep, lambda i, j: same(s_rows, i, s_rows, j))
        r_keep = _distinct(r_keep, lambda i, j: same(r_rows, i, r_rows, j))
    pairs = _matching(s_keep, r_keep, lambda i, j: same(s_rows, i, r_rows, j))
    matched_s = {i for i, _ in pairs}
    matched_r = {j for _, j in pairs}
    extra = [student[i] for i in s_keep if i not in matched_s]
    missing = [reference[j] for j in r_keep if j not in matched_r]
    if not extra and not missing:
        return _equal(
            "set", f"the same {len(r_keep)} value{'s' if len(r_keep) != 1 else ''} (order does not matter)"
        )
    parts = []
    if missing:
        parts.append("missing " + ", ".join(describe(n, 30) for n in missing))
    if extra:
        parts.append("not expected " + ", ".join(describe(n, 30) for n in extra))
    return _different("set", "; ".join(parts))


def _compare_structured_sets(student: list[Node], reference: list[Node], cfg: _Settings) -> Equivalence:
    """Lists of tuples or matrices (``(1, 2), (2, 1)``): each item is compared with the full engine.

    A list of solution tuples is a set: listing a solution twice does not make it another answer.
    """
    if len(student) * len(reference) > 400:
        raise TooLarge("too many pairs of items to compare")
    verdicts = {(i, j): _compare(s, r, cfg) for i, s in enumerate(student) for j, r in enumerate(reference)}

    def same(i: int, j: int) -> bool:
        return verdicts[(i, j)].verdict == "equivalent"

    s_keep = _distinct(
        list(range(len(student))), lambda i, k: _compare(student[i], student[k], cfg).verdict == "equivalent"
    )
    r_keep = _distinct(
        list(range(len(reference))),
        lambda j, k: _compare(reference[j], reference[k], cfg).verdict == "equivalent",
    )
    pairs = _matching(s_keep, r_keep, same)
    matched_s = {i for i, _ in pairs}
    matched_r = {j for _, j in pairs}
    extra = [i for i in s_keep if i not in matched_s]
    missing = [j for j in r_keep if j not in matched_r]
    if not extra and not missing:
        return _equal(
            "set", f"the same {len(r_keep)} item{'s' if len(r_keep) != 1 else ''} (order does not matter)"
        )
    undecided = any(verdicts[(i, j)].verdict == "undecided" for i in extra for j in missing)
    if undecided:
        return _undecided("set", "some items could not be compared")
    parts = []
    if missing:
        parts.append("missing " + ", ".join(describe(reference[j], 30) for j in missing))
    if extra:
        parts.append("not expected " + ", ".join(describe(student[i], 30) for i in extra))
    return _different("set", "; ".join(parts))


def _evaluate_items(
    items: list[Node], point: dict[str, Sample], cfg: _Settings, in_context: bool
) -> list[Value | None] | Equivalence:
    values: list[Value | None] = []
    for item in items:
        try:
            values.append(Evaluator(cfg.symbols, point, in_matrix_context=in_context).eval(item))
        except Undefined:
            values.append(None)
        except ShapeError as error:
            return _different(
                "set", f"{describe(item, 30)} is not defined for the declared shapes: {error.reason}"
            )
        except NotEvaluable as error:
            return _undecided("set", error.reason)
    return values


def _distinct(indices: list[int], same: Callable[[int, int], bool]) -> list[int]:
    kept: list[int] = []
    for i in indices:
        if not any(same(i, k) for k in kept):
            kept.append(i)
    return kept


def _matching(left: list[int], right: list[int], same: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Maximum bipartite matching (augmenting paths; the lists are short)."""
    edges = {i: [j for j in right if same(i, j)] for i in left}
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in left:
        augment(i, set())
    return [(i, j) for j, i in owner.items()]


def _compare_tuples(student: Node, reference: Node, cfg: _Settings) -> Equivalence:
    s_items = list(student.items) if isinstance(student, Seq) else [student]
    r_items = list(reference.items) if isinstance(reference, Seq) else [reference]
    if len(s_items) != len(r_items):
        return _different(
            "entrywise", f"yours has {len(s_items)} components, but the answer has {len(r_items)}"
        )
    undecided: list[str] = []
    for index, (s_item, r_item) in enumerate(zip(s_items, r_items, strict=True), start=1):
        outcome = _compare(s_item, r_item, cfg)
        if outcome.verdict == "not_equivalent":
            return _different(
                "entrywise",
                f"component {index}: {outcome.detail}",
                counterexample=outcome.counterexample,
            )
        if outcome.verdict == "undecided":
            undecided.append(f"component {index}: {outcome.detail}")
    if undecided:
        return _undecided("entrywise", "; ".join(undecided))
    return _equal("entrywise", f"all {len(r_items)} components match, in order")


# ---------------------------------------------------------------------------------------------
# Relations


_FLIP: dict[str, RelOp] = {">": "<", ">=": "<="}
_OP_TEXT = {"=": "=", "approx": "≈", "!=": "≠", "<": "<", "<=": "≤"}


@dataclass(frozen=True)
class _Pair:
    """One link ``left op right`` of a chain, with ``>``/``≥`` flipped to ``<``/``≤``."""

    left: Node
    op: RelOp
    right: Node

    @property
    def kind(self) -> str:
        return {
            "=": "equation",
            "approx": "equation",
            "!=": "inequation",
            "<": "inequality",
            "<=": "inequality",
        }[self.op]


def _pairs(relation: Relation) -> list[_Pair]:
    out = []
    for left, op, right in zip(relation.items, relation.ops, relation.items[1:], strict=False):
        if op in _FLIP:
            out.append(_Pair(right, _FLIP[op], left))
        else:
            out.append(_Pair(left, op, right))
    return out


def is_relation_collection(node: Node) -> bool:
    """A list of relations, or one relation whose ``±`` makes it several (``x = ±2``)."""
    if isinstance(node, Relation):
        return has_plus_minus(node)
    return isinstance(node, Seq) and bool(node.items) and all(isinstance(i, Relation) for i in node.items)


def _relations_of(node: Node) -> list[Relation]:
    items = list(node.items) if isinstance(node, Seq) else [node]
    out: list[Relation] = []
    for item in items:
        for expanded in expand_plus_minus(item):
            if not isinstance(expanded, Relation):
                raise NotEvaluable("a list mixes equations and expressions")
            out.append(expanded)
    return out


def _compare_relation_sets(student: list[Relation], reference: list[Relation], cfg: _Settings) -> Equivalence:
    """``x = ±2`` vs ``x = 2, x = -2``: each relation must match one on the other side."""
    verdicts = {
        (i, j): _compare_relations(s, r, cfg) for i, s in enumerate(student) for j, r in enumerate(reference)
    }
    pairs = _matching(
        list(range(len(student))),
        list(range(len(reference))),
        lambda i, j: verdicts[(i, j)].verdict == "equivalent",
    )
    if len(pairs) == len(student) == len(reference):
        return _equal("relation", "the same relations (order does not matter)")
    matched_s = {i for i, _ in pairs}
    unmatched = [i for i in range(len(student)) if i not in matched_s]
    definite = all(
        all(verdicts[(i, j)].verdict == "not_equivalent" for j in range(len(reference))) for i in unmatched
    )
    if len(student) != len(reference) or (unmatched and definite):
        return _different(
            "relation",
            f"yours has {len(student)} relation(s) and the answer {len(reference)}, and they do not all match",
        )
    return _undecided("relation", "some of the relations could not be compared")


def _compare_relations(student: Relation, reference: Relation, cfg: _Settings) -> Equivalence:
    s_pairs, r_pairs = _pairs(student), _pairs(reference)
    if len(s_pairs) != len(r_pairs):
        return _different(
            "relation", f"yours has {len(s_pairs)} relation(s), but the answer has {len(r_pairs)}"
        )
    if len(s_pairs) == 1:
        return _compare_pair(s_pairs[0], r_pairs[0], cfg)
    if len(s_pairs) > 4:
        order = [tuple(range(len(s_pairs)))]
    else:
        order = list(itertools.permutations(range(len(s_pairs))))
    cache: dict[tuple[int, int], Equivalence] = {}

    def outcome(i: int, j: int) -> Equivalence:
        if (i, j) not in cache:
            cache[(i, j)] = _compare_pair(s_pairs[i], r_pairs[j], cfg)
        return cache[(i, j)]

    for perm in order:
        if all(outcome(i, j).verdict == "equivalent" for i, j in enumerate(perm)):
            return _equal("relation", "the same chain of relations")
    straight = [outcome(i, i) for i in range(len(s_pairs))]
    bad = next((o for o in straight if o.verdict == "not_equivalent"), None)
    if bad is not None and all(
        any(outcome(i, j).verdict == "not_equivalent" for j in range(len(r_pairs)))
        for i in range(len(s_pairs))
    ):
        return _different("relation", bad.detail, counterexample=bad.counterexample)
    return _undecided(
        "relation", "; ".join(o.detail for o in straight if o.verdict != "equivalent") or "the chains differ"
    )


def _compare_pair(student: _Pair, reference: _Pair, cfg: _Settings) -> Equivalence:
    if student.kind != reference.kind:
        return _different("relation", f"you wrote an {student.kind}, but the answer is an {reference.kind}")
    if student.kind == "inequality":
        return _compare_inequalities(student, reference, cfg)
    return _compare_equations(student, reference, cfg)


def _compare_equations(student: _Pair, reference: _Pair, cfg: _Settings) -> Equivalence:
    s_l, s_r, r_l, r_r = student.left, student.right, reference.left, reference.right
    if (s_l == r_l and s_r == r_r) or (s_l == r_r and s_r == r_l):
        return _equal("relation", "the same equation (sides may be swapped)")
    # One side is the same lone symbol (w = …, λ = …): compare what it is set to.
    for common_s, other_s in ((s_l, s_r), (s_r, s_l)):
        for common_r, other_r in ((r_l, r_r), (r_r, r_l)):
            if (
                isinstance(common_s, Sym)
                and common_s == common_r
                and common_s.name not in symbols_in(other_s) | symbols_in(other_r)
            ):
                inner = _compare(other_s, other_r, cfg)
                return inner.model_copy(
                    update={
                        "method": "relation"
                        if inner.method in ("numeric", "symbolic", "structural")
                        else inner.method
                    }
                )
    f_s, f_r = _difference(s_l, s_r), _difference(r_l, r_r)
    return _proportional(f_s, f_r, cfg)


def _difference(left: Node, right: Node) -> Node:
    return Add((left, Neg(right)))


def _proportional(f_s: Node, f_r: Node, cfg: _Settings) -> Equivalence:
    """Equations ``f_s = 0`` and ``f_r = 0`` are the same if ``f_s = k·f_r`` for a constant ``k ≠ 0``;
    otherwise a point on one solution set that misses the other is a counterexample."""
    table = cfg.symbols
    names = names_to_sample([f_s, f_r], table)
    functions = functions_to_sample([f_s, f_r], table)
    integers = summation_bounds([f_s, f_r])
    in_context = matrix_context([f_s, f_r], table)
    rng = np.random.default_rng(cfg.seed)
    ratios: list[complex] = []
    both_zero = 0
    blocker: str | None = None
    not_proportional = False
    for _ in range(MAX_ATTEMPTS if (names or functions) else 1):
        try:
            point = sample_point(names, table, rng, functions, integers)
            r_val = _flat(Evaluator(table, point, in_matrix_context=in_context).eval(f_r))
        except Undefined:
            continue
        except ShapeError as error:
            return _undecided(
                "relation",
                f"the reference equation is not defined for the declared shapes ({error.reason}); the rubric author should check it",
            )
        except NotEvaluable as error:
            blocker = error.reason
            break
        try:
            s_val = _flat(Evaluator(table, point, in_matrix_context=in_context).eval(f_s))
        except Undefined:
            continue
        except ShapeError as error:
            return _different(
                "relation", f"the two sides of your equation do not have compatible shapes: {error.reason}"
            )
        except NotEvaluable as error:
            blocker = error.reason
            break
        if s_val.shape != r_val.shape:
            return _different("relation", "the two equations relate objects of different shapes")
        scale_r = float(np.abs(r_val).max(initial=0))
        scale_s = float(np.abs(s_val).max(initial=0))
        r_zero = scale_r <= cfg.atol
        s_zero = scale_s <= cfg.atol
        if r_zero and s_zero:
            both_zero += 1
        elif r_zero or s_zero:
            not_proportional = True
        else:
            mask = np.abs(r_val) > 1e-9 * scale_r
            if np.any(np.abs(s_val[~mask]) > 1e-7 * scale_s):
                not_proportional = True
            else:
                ratios.extend(complex(x) for x in (s_val[mask] / r_val[mask]).ravel())
        if not_proportional:
            break
        if len(ratios) + both_zero >= (SCALAR_POINTS if (names or functions) else 1):
            break
    if blocker is None and not not_proportional:
        if ratios and all(_close(k, ratios[0], 1e-6, 1e-12) for k in ratios) and abs(ratios[0]) > 1e-12:
            return _equal("relation", "the same equation up to rearranging and scaling")
        if not ratios and both_zero:
            return _equal("relation", "both equations hold identically")
        not_proportional = bool(ratios)
    if not_proportional and not in_context:
        return _solution_sets(f_s, f_r, cfg)
    if blocker is not None and not in_context:
        symbolic = _symbolic_ratio(f_s, f_r, cfg)
        if symbolic is not None:
            return symbolic
        return _undecided("relation", blocker)
    return _undecided(
        "relation", "the equations are not multiples of each other, and their solutions could not be compared"
    )


def _flat(value: Value) -> np.ndarray:
    if isinstance(value, Mat):
        return value.a
    if isinstance(value, Scaling):
        return np.array([[value.c]])
    return np.array([[value]])


def _solution_sets(f_s: Node, f_r: Node, cfg: _Settings) -> Equivalence:
    """Equations that are not constant multiples of each other: compare their real solutions.

    Points on each solution set are found by solving for one variable (the others random) and
    the other equation is checked there. A real solution of one that is not a real solution of
    the other is definitive. When every solution checks, the two are the same equation up to a
    factor that neither vanishes nor blows up on the solutions (``1/x + 1/y = 2`` and
    ``y = x/(2x-1)``; ``e^x = e^2`` and ``x = 2``) if the derivatives across the solutions are
    in a finite nonzero ratio; ``(x-2)^2 = 0`` against ``x = 2`` has the solution with another
    multiplicity and is not the same equation.
    """
    table = cfg.symbols
    names = [n for n in names_to_sample([f_s, f_r], table) if not table.is_matrix(n)]
    functions = functions_to_sample([f_s, f_r], table)
    integers = summation_bounds([f_s, f_r])
    if not names:
        return _different("relation", "the equations are not equivalent")
    rng = np.random.default_rng(cfg.seed + 1)
    checked = 0
    for attempt in range(24):
        variable = names[attempt % len(names)]
        base = sample_point(names, table, rng, functions, integers)
        for source, target, whose in ((f_r, f_s, "reference"), (f_s, f_r, "student")):
            root = _root_along(source, base, variable, cfg)
            if root is None:
                continue
            point = {**base, variable: complex(root)}
            where = point_text(point, table)
            try:
                evaluator = Evaluator(table, point, in_matrix_context=False)
                value = evaluator.eval(target)
                scale_value = _term_scale(target, point, table)
            except Undefined:
                continue
            if not isinstance(value, complex):
                continue
            holds_there = "the reference equation holds" if whose == "reference" else "your equation holds"
            other = "yours" if whose == "reference" else "the reference's"
            if evaluator.left_reals or abs(value.imag) > 1e-9 * max(1.0, scale_value):
                detail = f"at {where} {holds_there} but {other} is not defined in the real numbers"
                return _different("relation", detail, counterexample={"point": json_point(point, table)})
            if abs(value) > 1e-6 * max(1.0, scale_value):
                detail = f"at {where} {holds_there} but {other} does not"
                return _different("relation", detail, counterexample={"point": json_point(point, table)})
            ratio = _slope_ratio(f_s, f_r, point, variable, cfg)
            if ratio is None:
                continue
            if not 1e-5 < abs(ratio) < 1e5:
                return _different(
                    "relation",
                    f"both equations hold at {where}, but one of them has that solution with a higher "
                    "multiplicity (a repeated factor), so they are not the same equation",
                )
            checked += 1
        if checked >= SCALAR_POINTS:
            break
    if checked:
        return _equal("relation", f"the two equations have the same solutions (checked at {checked} points)")
    return _undecided(
        "relation",
        "the equations are not multiples of each other, and no solutions could be found to compare",
    )


def _slope_ratio(
    f_s: Node, f_r: Node, point: dict[str, Sample], variable: str, cfg: _Settings
) -> float | None:
    """(df_s/dv) / (df_r/dv) at a common solution, by central differences (None if not real)."""
    centre = point[variable]
    assert isinstance(centre, complex)
    h = 1e-6 * max(1.0, abs(centre))
    slopes = []
    for f in (f_s, f_r):
        values = []
        for step in (h, -h):
            try:
                evaluator = Evaluator(
                    cfg.symbols, {**point, variable: centre + step}, in_matrix_context=False
                )
                value = evaluator.eval(f)
            except EvalError:
                return None
            if not isinstance(value, complex) or evaluator.left_reals:
                return None
            values.append(value.real)
        slopes.append((values[0] - values[1]) / (2 * h))
    if slopes[1] == 0:
        return math.inf if slopes[0] != 0 else None
    return slopes[0] / slopes[1]


def _term_scale(node: Node, point: dict[str, Sample], table: SymbolTable) -> float:
    """Size of the terms of ``left - right``, so "zero" is judged relative to them."""
    if isinstance(node, Add):
        total = 0.0
        for term in node.terms:
            value = Evaluator(table, point, in_matrix_context=False).eval(term)
            total += abs(value) if isinstance(value, complex) else 0.0
        return total
    return 0.0


def _root_along(f: Node, base: dict[str, Sample], variable: str, cfg: _Settings) -> float | None:
    """A real root of ``f`` in ``variable`` (others fixed), by a sign change on a grid and bisection."""
    decl = cfg.symbols.get(variable)
    domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else None
    low, high = -10.0, 10.0
    if domain is not None:
        if domain.complex:
            return None
        low = max(low, domain.low)
        high = min(high, domain.high)
    grid = np.linspace(low, high, 201)[1:-1]
    grid = grid + (high - low) * 1e-3 * 0.37  # avoid landing exactly on simple values

    def value(t: float) -> float | None:
        try:
            evaluator = Evaluator(cfg.symbols, {**base, variable: complex(t)}, in_matrix_context=False)
            out = evaluator.eval(f)
        except EvalError:
            return None
        if (
            not isinstance(out, complex)
            or evaluator.left_reals
            or abs(out.imag) > 1e-9 * max(1.0, abs(out.real))
        ):
            return None
        return out.real

    previous: tuple[float, float] | None = None
    for t in grid:
        v = value(float(t))
        if v is None:
            previous = None
            continue
        if v == 0:
            return float(t)
        if previous is not None and (previous[1] < 0) != (v < 0):
            lo, hi, f_lo = previous[0], float(t), previous[1]
            for _ in range(80):
                mid = (lo + hi) / 2
                f_mid = value(mid)
                if f_mid is None:
                    return None
                if (f_mid < 0) == (f_lo < 0):
                    lo, f_lo = mid, f_mid
                else:
                    hi = mid
            # A sign change across a pole is not a root.
            final = value((lo + hi) / 2)
            if final is not None and abs(final) <= 1e-6 * max(1.0, abs(previous[1]), abs(v)):
                return (lo + hi) / 2
        previous = (float(t), v)
    return None


def _symbolic_ratio(f_s: Node, f_r: Node, cfg: _Settings) -> Equivalence | None:
    budget = cfg.remaining() - _SYMBOLIC_MARGIN_S
    if budget < 0.2:
        return None
    outcome = run_bounded(_ratio_worker, f_s, f_r, cfg.symbols, timeout_s=budget, memory_mb=cfg.memory_mb)
    if isinstance(outcome, Finished) and outcome.value:
        return _equal("symbolic", "SymPy shows the equations are multiples of each other")
    return None


def _ratio_worker(f_s: Node, f_r: Node, symbols: SymbolTable) -> bool:
    from grader.math.sympy_bridge import convert, symbolic_ratio

    try:
        ratio = symbolic_ratio(convert(f_s, symbols), convert(f_r, symbols))
    except Exception:
        return False
    return ratio is not None and ratio != 0 and bool(ratio.is_finite)


def _compare_inequalities(student: _Pair, reference: _Pair, cfg: _Settings) -> Equivalence:
    if student.left == reference.left and student.right == reference.right:
        if student.op == reference.op:
            return _equal("relation", "the same inequality")
    if student.left == reference.right and student.right == reference.left:
        return _different("relation", "your inequality points the other way")
    g_s, g_r = _difference(student.right, student.left), _difference(reference.right, reference.left)
    strict_s, strict_r = student.op == "<", reference.op == "<"
    table = cfg.symbols
    names = names_to_sample([g_s, g_r], table)
    functions = functions_to_sample([g_s, g_r], table)
    integers = summation_bounds([g_s, g_r])
    rng = np.random.default_rng(cfg.seed)
    agree = 0
    points: list[dict[str, Sample]] = []
    for _ in range(MAX_ATTEMPTS if (names or functions) else 1):
        try:
            point = sample_point(names, table, rng, functions, integers)
            truth = _truths(g_s, g_r, point, cfg)
        except NotEvaluable as error:
            return _undecided("relation", error.reason)
        except ShapeError as error:
            return _different("relation", f"the inequality does not compare numbers: {error.reason}")
        if truth is None:
            continue
        s_true, r_true = truth
        if s_true != r_true:
            return _inequality_counterexample(point, s_true, cfg)
        agree += 1
        points.append(point)
        if agree >= (2 * SCALAR_POINTS if (names or functions) else 1):
            break
    if agree == 0:
        return _undecided("relation", "no random point gave values for both inequalities")
    # Boundaries: just beside each boundary point of one inequality the other must agree too.
    scalar_names = [n for n in names if not table.is_matrix(n)]
    for index, point in enumerate(points[:8]):
        if not scalar_names:
            break
        variable = scalar_names[index % len(scalar_names)]
        for g in (g_r, g_s):
            root = _root_along(g, point, variable, cfg)
            if root is None:
                continue
            for offset in (-1e-4, 1e-4):
                near = {**point, variable: complex(root + offset * max(1.0, abs(root)))}
                try:
                    truth = _truths(g_s, g_r, near, cfg)
                except EvalError:
                    continue
                if truth is not None and truth[0] != truth[1]:
                    return _inequality_counterexample(near, truth[0], cfg)
    if strict_s != strict_r:
        s_text, r_text = _OP_TEXT[student.op], _OP_TEXT[reference.op]
        return _different(
            "relation",
            f"yours uses {s_text} but the answer uses {r_text}: the boundary is treated differently",
        )
    return _equal(
        "relation", f"the inequalities hold at the same {agree} random points and share their boundary"
    )


def _truths(g_s: Node, g_r: Node, point: dict[str, Sample], cfg: _Settings) -> tuple[bool, bool] | None:
    """Whether each inequality ``g > 0`` holds at the point (None where either is undefined or on the boundary)."""
    values = []
    for g in (g_s, g_r):
        try:
            evaluator = Evaluator(cfg.symbols, point, in_matrix_context=False)
            value = evaluator.eval(g)
        except Undefined:
            return None
        if isinstance(value, Mat) and value.shape == (1, 1):
            value = complex(value.a[0, 0])
        if not isinstance(value, complex):
            raise ShapeError(f"one side is {kind_text(value)}")
        if evaluator.left_reals or abs(value.imag) > 1e-12 * max(1.0, abs(value.real)):
            return None
        values.append(value.real)
    if any(abs(v) <= cfg.atol for v in values):
        return None
    return values[0] > 0, values[1] > 0


def _inequality_counterexample(point: dict[str, Sample], student_true: bool, cfg: _Settings) -> Equivalence:
    where = point_text(point, cfg.symbols)
    prefix = f"at {where} " if where else ""
    if student_true:
        detail = f"{prefix}your inequality holds but the answer's does not"
    else:
        detail = f"{prefix}the answer's inequality holds but yours does not"
    return _different("relation", detail, counterexample={"point": json_point(point, cfg.symbols)})
