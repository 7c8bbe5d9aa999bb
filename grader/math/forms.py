"""What an answer is, before and beside its value: unknown names, operations left undone, order
terms, and comparisons up to an additive constant, a nonzero factor or the arbitrary constants.

A checker says right or wrong only about what it understood, so before comparing values it asks:
- :func:`unknown_names`: a name or function the rubric does not declare and that is not standard
  mathematics (``\\bar{x}`` when no sample ``x`` is declared) makes the comparison undecided;
- :func:`free_indices`: ``x_i`` outside a sum over ``i`` is not a number;
- :func:`operations_left`: ``\\det`` of a matrix written out, ``A^{-1}`` of one, ``\\lim``, ``\\int``,
  ``\\frac{d}{dx}``, a sum with numbers for bounds, or the question's own expression: the answer
  restates the question instead of giving the result.

The comparisons here (:func:`compare_up_to`, :func:`agree_to_order`) evaluate at seeded random points with the one evaluator and return an
:class:`Outcome`; they run inside the comparison's bounded worker like every other comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from grader.math.evaluate import Evaluator
from grader.math.functions import CALCULUS_FUNCTIONS, KNOWN_FUNCTIONS, NOTATION_FUNCTIONS
from grader.math.render import describe, pretty_name
from grader.math.sampling import (
    IMAGINARY_UNIT,
    bound_walk,
    functions_to_sample,
    is_identity_name,
    matrix_context,
    names_to_sample,
    sample_point,
    summation_bounds,
)
from grader.math.symbols import ArbitrarySymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Index,
    MatrixLit,
    Neg,
    Node,
    Num,
    Operator,
    Pow,
    Relation,
    Sym,
    walk,
)
from grader.math.values import EvalError, Mat, NotEvaluable, Sample, Scaling, ShapeError, Undefined, Value

__all__ = [
    "OrderTerm",
    "Outcome",
    "agree_to_order",
    "arbitrary_constants",
    "compare_up_to",
    "free_indices",
    "has_order_term",
    "operations_left",
    "order_terms",
    "unknown_names",
    "without_order_terms",
]

Verdict = Literal["equivalent", "not_equivalent", "undecided"]

#: names every course reads the same way without a declaration (besides π, e, ∞, which parse as constants)
STANDARD_NAMES = frozenset({IMAGINARY_UNIT})
_STANDARD_FUNCTIONS = frozenset({*KNOWN_FUNCTIONS, *CALCULUS_FUNCTIONS, *NOTATION_FUNCTIONS})
#: constants of integration recognised without a declaration where a part compares up to constants
_CONSTANT_NAME = re.compile(r"^(?:[CK](?:_[A-Za-z0-9]+)?|c_\d+)$")
POINTS = 12
ATTEMPTS = 60


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    detail: str
    counterexample: dict[str, object] | None = field(default=None, compare=False)


# ---------------------------------------------------------------------------------------------
# What the answer is made of


def unknown_names(tree: Node, symbols: SymbolTable, known: Iterable[str] = ()) -> list[str]:
    """Names and functions the answer uses that nobody declared: not in the rubric's symbols, not
    standard mathematics (the whitelisted functions, ``i``, ``I`` among matrices), not bound by a
    sum, integral or limit, and not in ``known`` (the names the part's own references use).

    Returned as written for a person (``x̄``, ``σ(…)``), sorted; empty when everything is understood.
    """
    allowed = set(known) | set(symbols.symbols)
    in_matrix_context = matrix_context([tree], symbols)
    found: set[str] = set()
    for node, bound in bound_walk(tree):
        if isinstance(node, Sym):
            name = node.name
            if name in allowed or name in bound or name in STANDARD_NAMES:
                continue
            if in_matrix_context and is_identity_name(name):
                continue
            found.add(pretty_name(name))
        elif isinstance(node, Call):
            if node.func in allowed or node.func in _STANDARD_FUNCTIONS:
                continue
            found.add(f"{pretty_name(node.func)}(…)")
        elif isinstance(node, Index) and node.name not in allowed:
            found.add(pretty_name(node.name))
    return sorted(found)


def names_of(trees: Iterable[Node]) -> set[str]:
    """Every symbol and function name in the trees (what a reference makes known)."""
    out: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Sym | Index):
                out.add(node.name)
            elif isinstance(node, Call):
                out.add(node.func)
    return out


def free_indices(tree: Node, symbols: SymbolTable) -> list[str]:
    """``x_i`` of a declared sample where no sum binds ``i`` (and ``i`` has no value of its own)."""
    found: list[str] = []
    for node, bound in bound_walk(tree):
        if (
            isinstance(node, Index)
            and isinstance(node.index, Sym)
            and node.index.name not in bound
            and node.index.name not in symbols.symbols
        ):
            shown = describe(node)
            if shown not in found:
                found.append(shown)
    return found


def _concrete(node: Node) -> bool:
    return isinstance(node, MatrixLit)


def _has_symbols(node: Node) -> bool:
    return any(isinstance(n, Sym | Index) for n in walk(node))


def _operations(tree: Node) -> dict[str, str]:
    """kind -> how it reads, for every operation left to carry out in ``tree``."""
    found: dict[str, str] = {}
    for node in walk(tree):
        match node:
            case Call("det", (arg,)) if _concrete(arg):
                found.setdefault("det", "the determinant \\det of a matrix written out")
            case Pow(base, Num("-1")) if _concrete(base):
                found.setdefault("inverse", "the inverse ^{-1} of a matrix written out")
            case Call("diff", _):
                found.setdefault("diff", "a derivative")
            case Call("grad", _):
                found.setdefault("grad", "a gradient")
            case Operator("lim", _, _, _):
                found.setdefault("lim", "a limit")
            case Operator("int", _, _, _):
                found.setdefault("int", "an integral")
            case Operator("sum" | "prod", _, sub, sup) if (
                isinstance(sup, Const) or (sup is not None and not _has_symbols(sup))
            ) and (sub is None or not any(_has_symbols(item) for item in (sub.items[1:] if isinstance(sub, Relation) else ()))):
                found.setdefault(node.name, "a sum to work out" if node.name == "sum" else "a product to work out")
    return found


def operations_left(
    tree: Node, references: Sequence[Node] = (), given: Sequence[Node] = ()
) -> list[str]:
    """What the answer still asks to compute, for feedback: operations on concrete values (``\\det``,
    ``^{-1}`` of a matrix written out, ``\\lim``, ``\\int``, ``\\frac{d}{dx}``, a sum with number
    bounds) that no reference contains, and any of the question's ``given`` expressions restated."""
    allowed: set[str] = set()
    for reference in references:
        allowed |= set(_operations(reference))
    left = [text for kind, text in _operations(tree).items() if kind not in allowed]
    for expression in given:
        if any(node == expression for node in walk(tree)):
            left.append(f"the question's own expression {describe(expression, 40)}")
    return left


# ---------------------------------------------------------------------------------------------
# Order terms: 1 + x/2 - x^2/8 + O(x^3)


@dataclass(frozen=True)
class OrderTerm:
    """``O((x - point)^order)`` as ``x → point``."""

    variable: str
    point: float
    order: int


def has_order_term(tree: Node) -> bool:
    return any(isinstance(node, Call) and node.func == "O" for node in walk(tree))


def order_terms(tree: Node) -> list[OrderTerm] | None:
    """The ``O(·)`` terms of an expansion, or None when one cannot be read as ``O((x-a)^k)``."""
    terms: list[OrderTerm] = []
    for node in walk(tree):
        if isinstance(node, Call) and node.func == "O":
            term = _order_term(node.args[0]) if len(node.args) == 1 else None
            if term is None:
                return None
            terms.append(term)
    return terms


def _order_term(arg: Node) -> OrderTerm | None:
    base, order = (arg.base, arg.exp) if isinstance(arg, Pow) else (arg, Num("1"))
    if not (isinstance(order, Num) and order.text.isdigit() and 0 < int(order.text) <= 20):
        return None
    if isinstance(base, Sym):
        return OrderTerm(base.name, 0.0, int(order.text))
    if isinstance(base, Add) and len(base.terms) == 2 and isinstance(base.terms[0], Sym):
        shift = base.terms[1]
        negative = isinstance(shift, Neg)
        value = _number(shift.arg if isinstance(shift, Neg) else shift)
        if value is not None:  # O((x - a)^k) is about x → a
            return OrderTerm(base.terms[0].name, value if negative else -value, int(order.text))
    return None


def _number(node: Node) -> float | None:
    return float(node.text) if isinstance(node, Num) else None


def without_order_terms(tree: Node) -> Node:
    """The expansion with its ``O(·)`` terms left out (``1 + x + O(x^2)`` → ``1 + x``)."""
    if isinstance(tree, Add):
        kept = tuple(t for t in tree.terms if not (isinstance(t, Call) and t.func == "O"))
        if not kept:
            return Num("0")
        return kept[0] if len(kept) == 1 else Add(kept)
    if isinstance(tree, Call) and tree.func == "O":
        return Num("0")
    return tree


def agree_to_order(
    student: Node, reference: Node, symbols: SymbolTable, *, seed: int = 0
) -> Outcome | None:
    """Expansions compared up to their order; None when neither side has an ``O(·)`` term.

    The order is the reference's ``O`` term if it has one; otherwise the reference is exact (a
    Taylor polynomial of degree d, or a function), and the student's ``O((x-a)^m)`` must reach
    past it (m > d): ``1 + x/2 + O(x^2)`` is less than ``T_2`` asks for, ``… + x^3/16 + O(x^4)``
    is more, and right. Terms beyond the order are ignored on both sides.
    """
    s_terms, r_terms = order_terms(student), order_terms(reference)
    if s_terms is None or r_terms is None:
        return Outcome("undecided", "an O(·) term could not be read as O((x - a)^k)")
    if not s_terms and not r_terms:
        return None
    terms = r_terms or s_terms
    variables = {(t.variable, t.point) for t in s_terms + r_terms}
    if len(variables) != 1:
        return Outcome("undecided", "the O(·) terms are about different variables or points")
    variable, point = variables.pop()
    s_body, r_body = without_order_terms(student), without_order_terms(reference)
    s_order = min((t.order for t in s_terms), default=None)
    if r_terms:
        order = min(t.order for t in terms)
        if s_order is not None and s_order < order:
            return Outcome(
                "not_equivalent", f"your expansion stops at O({variable}^{s_order}); the answer needs terms up to order {order - 1}"
            )
    else:
        assert s_order is not None
        degree = _polynomial_degree(r_body, variable, symbols)
        if degree is not None and s_order <= degree:
            return Outcome(
                "not_equivalent",
                f"your expansion stops at O({variable}^{s_order}); the answer has terms up to order {degree}",
            )
        order = s_order if degree is None else degree + 1
    return _vanishes_to_order(s_body, r_body, variable, point, order, symbols, seed)


def _fixed_point(trees: Sequence[Node], variable: str, symbols: SymbolTable, rng: np.random.Generator) -> dict[str, Sample]:
    names = [n for n in names_to_sample(trees, symbols) if n != variable]
    return sample_point(names, symbols, rng, functions_to_sample(trees, symbols), summation_bounds(trees))


def _scalar_at(tree: Node, point: dict[str, Sample], symbols: SymbolTable) -> complex:
    value = Evaluator(symbols, point, in_matrix_context=False).eval(tree)
    if not isinstance(value, complex):
        raise ShapeError("an expansion must be a number")
    return value


def _polynomial_degree(tree: Node, variable: str, symbols: SymbolTable) -> int | None:
    """The degree in ``variable`` when ``tree`` is a polynomial in it (SymPy, exactly), else None."""
    import sympy

    from grader.math.sympy_bridge import MAX_EXPANDED_TERMS, Unsupported, convert, expanded_terms

    try:
        expr = convert(tree, symbols)
    except (Unsupported, EvalError):
        return None
    symbol = next((s for s in expr.free_symbols if isinstance(s, sympy.Symbol) and s.name == variable), None)
    if symbol is None:
        return 0
    if expanded_terms(expr) > MAX_EXPANDED_TERMS or not expr.is_polynomial(symbol):
        return None
    return int(sympy.Poly(expr, symbol).degree())


def _vanishes_to_order(
    student: Node, reference: Node, variable: str, point: float, order: int, symbols: SymbolTable, seed: int
) -> Outcome:
    """``student - reference = O((x - point)^order)``: the difference over h^order stays bounded as h shrinks."""
    rng = np.random.default_rng([seed, 29])
    checked = 0
    steps = 0.2 * 0.5 ** np.arange(8)
    for _ in range(ATTEMPTS):
        try:
            base = _fixed_point([student, reference], variable, symbols, rng)
            at = [{**base, variable: complex(point + h)} for h in steps]
            s_values = np.array([_scalar_at(student, p, symbols) for p in at])
            r_values = np.array([_scalar_at(reference, p, symbols) for p in at])
        except Undefined:
            continue
        except NotEvaluable as error:
            return Outcome("undecided", error.reason)
        except ShapeError as error:
            return Outcome("not_equivalent", error.reason)
        sizes = np.abs(s_values - r_values)
        noise = 1e-12 * np.maximum(1.0, np.maximum(np.abs(s_values), np.abs(r_values)))
        significant = sizes > noise
        if significant[-3:].any():
            ratios = np.where(significant, sizes, 0.0) / steps**order
            # a term of lower order grows the ratio by 2 (or more) per halving
            if ratios[-1] > 8 * max(float(ratios[0]), 1e-300):
                return Outcome(
                    "not_equivalent",
                    f"your expansion differs from the answer's at order {_leading_order(steps, sizes)} in "
                    f"{pretty_name(variable)} (the answer is compared up to order {order - 1})",
                )
        checked += 1
        if checked >= 4:
            return Outcome("equivalent", f"the expansions agree up to order {order - 1} in {pretty_name(variable)}")
    return Outcome("undecided", "the expansions could not be evaluated near the point of expansion")


def _leading_order(steps: np.ndarray, sizes: np.ndarray) -> int:
    slopes = np.diff(np.log(np.maximum(sizes, 1e-300))) / np.diff(np.log(steps))
    return max(0, int(round(float(slopes[-1]))))


# ---------------------------------------------------------------------------------------------
# Up to a constant, a factor, or the arbitrary constants


def arbitrary_constants(
    trees: Iterable[Node], symbols: SymbolTable, extra: Iterable[str] = (), besides: Iterable[str] | None = None
) -> list[str]:
    """Constants a family leaves free: declared ``arbitrary``, ``extra``, or recognised (``C``,
    ``C_1``, ``C_2``, ``K``, ``c_1``) when not declared as something else. With ``besides`` (the
    reference's names), any other undeclared name is one too: ``A\\cos t + B\\sin t``."""
    wanted = set(extra)
    others = None if besides is None else set(besides)
    found: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Sym):
                decl = symbols.get(node.name)
                if isinstance(decl, ArbitrarySymbol) or node.name in wanted or (
                    decl is None
                    and node.name not in STANDARD_NAMES
                    and (_CONSTANT_NAME.match(node.name) or (others is not None and node.name not in others))
                ):
                    found.add(node.name)
    return sorted(found)


UpTo = Literal["constant", "factor", "constants"]


@dataclass(frozen=True)
class _Job:
    """One comparison up to something: the answers, the symbols, and how close is equal."""

    student: Node
    reference: Node
    symbols: SymbolTable
    constants: tuple[str, ...] = ()
    seed: int = 0
    rtol: float = 1e-6
    atol: float = 1e-9

    @property
    def student_constants(self) -> list[str]:
        """The student's constants: recognised ones, and any name the reference does not use."""
        return arbitrary_constants([self.student], self.symbols, self.constants, besides=names_of([self.reference]))

    @property
    def in_context(self) -> bool:
        return matrix_context([self.student, self.reference], self.symbols)

    def values(self, trees: Sequence[Node], point: dict[str, Sample]) -> list[np.ndarray] | Outcome | None:
        """The trees' values (flattened) at ``point``; None where undefined here; an outcome when
        they cannot be evaluated anywhere (undecided) or not for the declared shapes (wrong)."""
        try:
            return [_flat(Evaluator(self.symbols, point, in_matrix_context=self.in_context).eval(tree)) for tree in trees]
        except Undefined:
            return None
        except NotEvaluable as error:
            return Outcome("undecided", error.reason)
        except ShapeError as error:
            return Outcome("not_equivalent", error.reason)


def compare_up_to(
    up_to: UpTo, student: Node, reference: Node, symbols: SymbolTable, *, constants: Sequence[str] = (), seed: int = 0,
    rtol: float = 1e-6, atol: float = 1e-9,
) -> Outcome:  # fmt: skip
    """``constant``: antiderivatives, right when ``student - reference`` does not depend on the
    variables (only on arbitrary constants such as ``C``): ``x^3/3``, ``x^3/3 + C`` and ``x^3/3 + 5``
    all pass. ``factor``: eigenvectors, right when at every point the student's value is a nonzero
    multiple of the reference's. ``constants``: general solutions, the same family of functions
    whatever the arbitrary constants are called (see :func:`_same_family`)."""
    job = _Job(student, reference, symbols, tuple(constants), seed, rtol, atol)
    if up_to == "constant":
        return _differ_by_constant(job)
    if up_to == "factor":
        return _up_to_factor(job)
    return _same_family(job)


def _flat(value: Value) -> np.ndarray:
    if isinstance(value, Mat):
        return value.a.ravel()
    if isinstance(value, Scaling):
        return np.array([value.c])
    return np.array([value])


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    scale = max(float(np.max(np.abs(a), initial=0)), float(np.max(np.abs(b), initial=0)))
    return bool(np.max(np.abs(a - b), initial=0) <= atol + rtol * scale + 1e-13 * scale)


def _at_points(job: _Job, judge: Callable[[np.ndarray, np.ndarray], Outcome | bool], success: str, hold: Iterable[str] = ()) -> Outcome:
    """Both answers at seeded random points; ``judge`` says per point: counts (True), skip (False),
    or the outcome. ``hold`` keeps names (arbitrary constants) at their first point's values."""
    trees = [job.student, job.reference]
    names, functions, integers = names_to_sample(trees, job.symbols), functions_to_sample(trees, job.symbols), summation_bounds(trees)
    rng = np.random.default_rng([job.seed, 41])
    held: dict[str, Sample] | None = None
    checked = 0
    for _ in range(ATTEMPTS):
        point = {**sample_point(names, job.symbols, rng, functions, integers), **(held or {})}
        values = job.values(trees, point)
        if values is None:
            continue
        if isinstance(values, Outcome):
            return values
        s_value, r_value = values
        if s_value.shape != r_value.shape:
            return Outcome("not_equivalent", "your answer and the reference have different shapes")
        verdict = judge(s_value, r_value)
        if isinstance(verdict, Outcome):
            return verdict
        if held is None:
            held = {name: point[name] for name in hold if name in point}
        checked += verdict
        if checked >= POINTS:
            return Outcome("equivalent", success)
    return Outcome("undecided", "too few random points gave values for both answers")


def _differ_by_constant(job: _Job) -> Outcome:
    first: list[np.ndarray] = []

    def judge(s_value: np.ndarray, r_value: np.ndarray) -> Outcome | bool:
        difference = s_value - r_value
        if not first:
            first.append(difference)
        elif not _close(difference, first[0], job.rtol, job.atol):
            return Outcome(
                "not_equivalent",
                "yours and the answer differ by more than a constant: the difference changes with the variables",
            )
        return True

    hold = arbitrary_constants([job.reference], job.symbols, job.constants) + job.student_constants
    return _at_points(job, judge, "the same up to an additive constant", hold)


def _up_to_factor(job: _Job) -> Outcome:
    def judge(s_value: np.ndarray, r_value: np.ndarray) -> Outcome | bool:
        if np.max(np.abs(s_value), initial=0) <= job.atol:
            return Outcome("not_equivalent", "yours is zero, and a zero multiple is not allowed")
        if np.max(np.abs(r_value), initial=0) <= job.atol:
            return False
        k = int(np.argmax(np.abs(r_value)))
        if not _close(s_value, s_value[k] / r_value[k] * r_value, job.rtol, job.atol):
            return Outcome("not_equivalent", "yours is not a multiple of the answer")
        return True

    return _at_points(job, judge, "the same up to a nonzero factor")


def _same_family(job: _Job) -> Outcome:
    """General solutions: each side's family is sampled as functions of the other names (values at
    the same points), one member per draw of its constants; the two sets of members must span the
    same affine set (``C_1 e^t + C_2 e^{-t}`` is ``A e^{-t} + B e^{t}``; ``C e^{-kt}`` is not
    ``5 e^{-kt}``). A family that is not linear in its constants is undecided."""
    student, reference, symbols = job.student, job.reference, job.symbols
    s_constants = job.student_constants
    r_constants = arbitrary_constants([reference], symbols, job.constants)
    if not r_constants:
        return Outcome("undecided", "the reference has no arbitrary constant (C, C_1, …) to compare families by")
    rng = np.random.default_rng([job.seed, 53])
    trees = [student, reference]
    variables = [n for n in names_to_sample(trees, symbols) if n not in {*s_constants, *r_constants}]
    functions, integers = functions_to_sample(trees, symbols), summation_bounds(trees)
    grid: list[dict[str, Sample]] = []
    for _ in range(ATTEMPTS):
        point = sample_point(variables, symbols, rng, functions, integers)
        probe = job.values(trees, {**point, **{n: complex(rng.uniform(-2, 2)) for n in {*s_constants, *r_constants}}})
        if isinstance(probe, Outcome):
            return probe
        if probe is not None:
            grid.append(point)
        if len(grid) >= 10:
            break
    if len(grid) < 3:
        return Outcome("undecided", "too few random points gave values for both answers")
    members = 2 * max(len(s_constants), len(r_constants)) + 3

    def family(tree: Node, names: list[str]) -> np.ndarray | Outcome:
        rows = []
        for _ in range(members):
            constants = {n: complex(rng.uniform(-2, 2)) for n in names}
            row = [job.values([tree], {**at, **constants}) for at in grid]
            bad = next((v for v in row if isinstance(v, Outcome)), None)
            if bad is not None:
                return bad
            if all(isinstance(v, list) for v in row):
                rows.append(np.concatenate([v[0] for v in row if isinstance(v, list)]))
        if len(rows) < 2:
            return Outcome("undecided", "too few random points gave values for both answers")
        return np.array(rows)

    s_rows, r_rows = family(student, s_constants), family(reference, r_constants)
    if isinstance(s_rows, Outcome):
        return s_rows
    if isinstance(r_rows, Outcome):
        return r_rows
    s_dim, r_dim = _affine_rank(s_rows), _affine_rank(r_rows)
    if s_dim > len(s_constants) or r_dim > len(r_constants):
        return Outcome("undecided", "a family that is not linear in its constants is not compared automatically")
    if not _inside(s_rows, r_rows, job.rtol):
        return Outcome("not_equivalent", "some of your solutions are not solutions of the answer's family")
    if s_dim < r_dim:
        return Outcome(
            "not_equivalent",
            f"yours has {s_dim} free constant(s) where the general solution has {r_dim}: it is not the whole family",
        )
    return Outcome("equivalent", "the same family of functions, whatever the constants are called")


def _affine_rank(rows: np.ndarray) -> int:
    shifted = rows[1:] - rows[0]
    if shifted.size == 0:
        return 0
    singular = np.linalg.svd(shifted, compute_uv=False)
    return int(np.sum(singular > 1e-8 * max(1.0, float(singular[0]))))


def _inside(rows: np.ndarray, family: np.ndarray, rtol: float) -> bool:
    """Every row of ``rows`` lies in the affine hull of the rows of ``family`` (least squares)."""
    origin = family[0]
    basis = (family[1:] - origin).T
    for row in rows:
        target = row - origin
        if basis.size:
            coefficients, *_ = np.linalg.lstsq(basis, target, rcond=None)
            residual = target - basis @ coefficients
        else:
            residual = target
        scale = max(1.0, float(np.max(np.abs(row))))
        if float(np.max(np.abs(residual))) > max(rtol, 1e-7) * scale * math.sqrt(row.size):
            return False
    return True
