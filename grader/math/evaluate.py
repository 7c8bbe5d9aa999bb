"""Numeric evaluation of expression trees at one point, with matrix shapes and hard size guards.

Why numeric first: evaluating both answers at random points of the declared domains decides
most questions in microseconds and gives a concrete counterexample when they differ, and random
matrices of the declared shapes respect that matrix products do not commute.

Values: scalars are Python ``complex`` (so a square root of a negative number is a value, not an
error), matrices are :class:`Mat` (a complex128 array plus its *named* dimensions, so shape errors
can say "inner sizes d and n differ"), and an identity whose size comes from context is
:class:`Scaling` (``c·I``), resolved when it meets a matrix in a sum or product.

Errors tell the caller what a failure means:
- :class:`ShapeError`: the expression is not defined for the declared shapes (any point);
- :class:`NotEvaluable`: this engine cannot evaluate it (E, max, unknown functions; ``TooLarge``);
- :class:`Undefined`: not defined at *this* point (division by zero, overflow): try another point.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import numpy.random  # loaded now: a sandboxed child may lack the memory to map it later

from grader.math.symbols import Domain, FunctionSymbol, MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    Interval,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Operator,
    PlusMinus,
    Pow,
    Relation,
    Seq,
    Sym,
    Text,
    Transpose,
    children,
    rebuild,
    symbols_in,
    walk,
)

__all__ = [
    "IMAGINARY_UNIT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FACTORIAL",
    "MAX_MATRIX_DIM",
    "MAX_NODES",
    "MAX_SUM_TERMS",
    "EvalError",
    "Evaluator",
    "Mat",
    "NotEvaluable",
    "RandomFunction",
    "Sample",
    "Scaling",
    "ShapeError",
    "TooLarge",
    "Undefined",
    "Value",
    "check_size",
    "describe",
    "dims_text",
    "evaluate",
    "expand_plus_minus",
    "format_value",
    "functions_to_sample",
    "is_identity_name",
    "matrix_context",
    "names_to_sample",
    "pretty_name",
    "sample_assignment",
    "sample_point",
    "sample_scalar",
    "summation_bounds",
]

MAX_EXPONENT = 1000
MAX_FACTORIAL = 170
MAX_MATRIX_DIM = 200
MAX_NODES = 20_000
MAX_DEPTH = 200
MAX_SUM_TERMS = 1000
MAX_PLUS_MINUS = 6
_SINGULAR_COND = 1e12
#: The parsers leave a bare ``i`` as ``Sym("i")``; undeclared and not a summation index, it is
#: the imaginary unit (eigenvalues ``±i/2``). Declare ``i`` in the rubric to make it a scalar.
IMAGINARY_UNIT = "i"

Dim: TypeAlias = str | int


@dataclass(frozen=True, slots=True, eq=False)
class Mat:
    """A concrete matrix and the names of its dimensions (``("n", "d")``, or ints for literals)."""

    a: np.ndarray
    dims: tuple[Dim, Dim]

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.a.shape
        return int(rows), int(cols)


@dataclass(frozen=True, slots=True)
class Scaling:
    """``c·I`` with the size of whatever matrix it meets (``λI`` in ``XᵀX + λI``)."""

    c: complex


Value: TypeAlias = complex | Mat | Scaling


class RandomFunction:
    """A random smooth positive function standing in for a declared function without a definition.

    ``p_0``, ``p_1`` (densities), ``D`` (a discriminator): the rubric says only that they are
    functions, so an answer is right when it is right for *every* function. The comparison draws
    a new function per sample point, from a seed, so several independent draws must all agree:

        f(t_1, …, t_k) = exp(Σ a_j t_j + b) · (1 + c · sin(Σ d_j t_j + g · t_1 t_2 + φ)),  0 < c < 1,

    positive on real arguments (so logs and ratios of densities are defined) and generic enough
    that no identity holds by accident. A matrix argument (a declared vector ``x``) enters
    through a random linear functional of its entries; scalars and vectors therefore both work.
    """

    __slots__ = ("name", "seed")

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.seed = seed

    def __repr__(self) -> str:
        return f"RandomFunction({self.name!r}, {self.seed})"

    def __call__(self, args: list[Value]) -> complex:
        count = len(args)
        rng = np.random.default_rng([self.seed, count])
        a = rng.uniform(-0.8, 0.8, count)
        b = rng.uniform(-0.5, 0.5)
        c = rng.uniform(0.3, 0.8)
        d = rng.uniform(0.7, 2.0, count) * rng.choice([-1.0, 1.0], count)
        g = rng.uniform(-0.5, 0.5)
        phase = rng.uniform(0.0, 2 * math.pi)
        t = [self._scalar(value, k) for k, value in enumerate(args)]
        linear = sum((complex(a[k]) * t[k] for k in range(count)), complex(b))
        inner = sum((complex(d[k]) * t[k] for k in range(count)), complex(phase))
        if count >= 2:
            inner += g * t[0] * t[1]
        return cmath.exp(linear) * (1 + c * cmath.sin(inner))

    def _scalar(self, value: Value, index: int) -> complex:
        if isinstance(value, complex):
            return value
        if isinstance(value, Scaling):
            return value.c
        rows, cols = value.shape
        weights = np.random.default_rng([self.seed, 1000 + index, rows, cols]).standard_normal((rows, cols))
        return complex(np.sum(weights * value.a)) / math.sqrt(rows * cols)


#: what a sample point assigns: values to symbols, random functions to uninterpreted functions
Sample: TypeAlias = Value | RandomFunction


class EvalError(Exception):
    """Base class; ``reason`` is a sentence for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotEvaluable(EvalError):
    """This engine cannot evaluate the expression at any point."""


class TooLarge(NotEvaluable):
    """Refused before computing: the work or the result would be unreasonably large."""


class ShapeError(EvalError):
    """The expression is not defined for the declared shapes (independent of the point)."""


class Undefined(EvalError):
    """Not defined at this point; ``exact`` is True for a division by zero or a singular matrix."""

    def __init__(self, reason: str, *, exact: bool = False) -> None:
        super().__init__(reason)
        self.exact = exact


# ---------------------------------------------------------------------------------------------
# Tree helpers


def check_size(*trees: Node) -> None:
    """Raise TooLarge for trees beyond the node or depth limits (before any evaluation)."""
    total = 0
    for tree in trees:
        stack: list[tuple[Node, int]] = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            total += 1
            if total > MAX_NODES:
                raise TooLarge(f"the expression is too large (more than {MAX_NODES} parts)")
            if depth > MAX_DEPTH:
                raise TooLarge(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
            stack.extend((child, depth + 1) for child in children(node))


def is_identity_name(name: str) -> bool:
    """``I``, ``I_n``, ``I_{d}``, ``I_3``: an identity matrix when it appears among matrices."""
    return name == "I" or name.startswith("I_")


def matrix_context(trees: Iterable[Node], symbols: SymbolTable) -> bool:
    """True when any tree mentions a declared matrix or a matrix literal (then ``I`` is an identity)."""
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, MatrixLit):
                return True
            if isinstance(node, Sym) and symbols.is_matrix(node.name):
                return True
    return False


def names_to_sample(trees: Iterable[Node], symbols: SymbolTable) -> list[str]:
    """Free symbols that need a value: scalars and declared matrices, not functions or identities."""
    trees = list(trees)
    in_matrix_context = matrix_context(trees, symbols)
    names: set[str] = set()
    for tree in trees:
        for node in _free_nodes(tree):
            if not isinstance(node, Sym):
                continue
            decl = symbols.get(node.name)
            if isinstance(decl, FunctionSymbol):
                continue
            if isinstance(decl, MatrixSymbol) and decl.structure == "identity":
                continue
            if decl is None and in_matrix_context and is_identity_name(node.name):
                continue
            if decl is None and node.name == IMAGINARY_UNIT:
                continue
            names.add(node.name)
    return sorted(names)


def _free_nodes(tree: Node) -> list[Node]:
    """Nodes outside the scope of a summation index: ``k`` in ``∑_{k=1}^{n} k²`` needs no value."""
    out: list[Node] = []
    stack: list[tuple[Node, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, Sym) and node.name in bound:
            continue
        out.append(node)
        if (
            isinstance(node, Operator)
            and isinstance(node.sub, Relation)
            and isinstance(node.sub.items[0], Sym)
        ):
            inner = bound | {node.sub.items[0].name}
            stack.append((node.body, inner))
            stack.extend((item, bound) for item in node.sub.items[1:])
            if node.sup is not None:
                stack.append((node.sup, bound))
            continue
        stack.extend((child, bound) for child in children(node))
    return out


def expand_plus_minus(node: Node) -> list[Node]:
    """Every reading of ``±``: ``a ± b`` becomes ``[a + b, a - b]``; each ``±`` varies independently."""
    count = sum(1 for n in walk(node) if isinstance(n, PlusMinus))
    if count == 0:
        return [node]
    if count > MAX_PLUS_MINUS:
        raise TooLarge(f"too many ± signs ({count}) to expand")
    return _expand(node)


def _expand(node: Node) -> list[Node]:
    match node:
        case PlusMinus(left, right):
            rights = _expand(right)
            plus = [r for r in rights]
            minus: list[Node] = [Neg(r) for r in rights]
            if left is None:
                return plus + minus
            out: list[Node] = []
            for lhs in _expand(left):
                out.extend(Add((lhs, r)) for r in plus)
                out.extend(Add((lhs, m)) for m in minus)
            return out
        case _:
            kids = children(node)
            if not kids or not any(isinstance(n, PlusMinus) for k in kids for n in walk(k)):
                return [node]
            options = [_expand(k) for k in kids]
            combos: list[tuple[Node, ...]] = [()]
            for opts in options:
                combos = [c + (o,) for c in combos for o in opts]
            return [rebuild(node, combo) for combo in combos]


# ---------------------------------------------------------------------------------------------
# Rendering (for messages)

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ", "lambda": "λ",
    "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Sigma": "Σ", "Delta": "Δ", "Lambda": "Λ", "Omega": "Ω", "xi": "ξ",
    "eta": "η", "kappa": "κ", "zeta": "ζ", "chi": "χ", "Phi": "Φ", "Psi": "Ψ", "Theta": "Θ",
}  # fmt: skip


def pretty_name(name: str) -> str:
    head, sep, rest = name.partition("_")
    return _GREEK.get(head, head) + sep + rest


def describe(node: Node, limit: int = 80) -> str:
    """A short plain-text rendering (``(XᵀX + λI)⁻¹Xᵀy``) for feedback sentences."""
    text = _render(node, 0)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render(node: Node, parent: int) -> str:
    # precedence: 1 sum, 2 product, 3 unary minus, 4 power, 5 atom
    match node:
        case Num(text):
            return text
        case Sym(name):
            return pretty_name(name)
        case Const(name):
            return {"pi": "π", "e": "e", "i": "i", "inf": "∞"}[name]
        case Add(terms):
            parts = [_render(terms[0], 1)]
            for term in terms[1:]:
                if isinstance(term, Neg):
                    parts.append(" - " + _render(term.arg, 2))
                else:
                    parts.append(" + " + _render(term, 1))
            return _wrap("".join(parts), 1, parent)
        case Neg(arg):
            return _wrap("-" + _render(arg, 2), 2, parent)
        case Mul(factors):
            rendered = [
                _render(f, 2) if k == 0 or not isinstance(f, Neg) else f"({_render(f, 0)})"
                for k, f in enumerate(factors)
            ]
            return _wrap(("·" if _needs_dot(factors) else "").join(rendered), 2, parent)
        case Div(num, den):
            return _wrap(f"{_render(num, 2)}/{_render(den, 3)}", 2, parent)
        case Pow(base, Num("-1")):
            return _render(base, 4) + "⁻¹"
        case Pow(base, exp):
            return _wrap(f"{_render(base, 4)}^{_render(exp, 4)}", 4, parent)
        case Transpose(arg):
            return _render(arg, 4) + "ᵀ"
        case Hadamard(left, right):
            return _wrap(f"{_render(left, 2)} ⊙ {_render(right, 2)}", 2, parent)
        case Norm(arg, "abs"):
            return f"|{_render(arg, 0)}|"
        case Norm(arg, _):
            return f"‖{_render(arg, 0)}‖"
        case Call(func, args):
            return f"{pretty_name(func)}({', '.join(_render(a, 0) for a in args)})"
        case Operator(name, body, _, _):
            return f"{name}(…{_render(body, 0)})"
        case MatrixLit(rows):
            return "[" + "; ".join(", ".join(_render(c, 0) for c in row) for row in rows) + "]"
        case PlusMinus(left, right):
            text = ("" if left is None else _render(left, 1) + " ") + "± " + _render(right, 2)
            return _wrap(text, 1, parent)
        case Interval(low, high, low_open, high_open):
            return (
                f"{'(' if low_open else '['}{_render(low, 0)}, {_render(high, 0)}{')' if high_open else ']'}"
            )
        case Seq(items, kind):
            inner = ", ".join(_render(i, 0) for i in items)
            return {"set": "{" + inner + "}", "tuple": "(" + inner + ")", "list": inner}[kind]
        case Relation(items, ops):
            out = _render(items[0], 0)
            for op, item in zip(ops, items[1:], strict=False):
                out += f" {op} {_render(item, 0)}"
            return out
        case Factorial(arg):
            return _render(arg, 4) + "!"
        case Text(text):
            return f'"{text}"'
    return "?"


def _needs_dot(factors: tuple[Node, ...]) -> bool:
    return any(isinstance(f, Num) for f in factors[1:])


def _wrap(text: str, own: int, parent: int) -> str:
    return f"({text})" if own < parent else text


def dims_text(dims: tuple[Dim, Dim]) -> str:
    return f"({dims[0]}×{dims[1]})"


def format_value(value: complex | float, digits: int = 4) -> str:
    """``2.333``, ``-0.5``, ``0.5i``, ``1 - 2i``: short, for feedback."""
    z = complex(value)
    re_part = _short(z.real, digits)
    if abs(z.imag) <= 1e-12 * max(1.0, abs(z.real)):
        return re_part
    im_abs = _short(abs(z.imag), digits)
    im_text = ("" if im_abs == "1" else im_abs) + "i"
    if abs(z.real) <= 1e-12 * max(1.0, abs(z.imag)):
        return ("-" if z.imag < 0 else "") + im_text
    return f"{re_part} {'-' if z.imag < 0 else '+'} {im_text}"


def _short(x: float, digits: int) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


# ---------------------------------------------------------------------------------------------
# Sampling


def functions_to_sample(trees: Iterable[Node], symbols: SymbolTable) -> list[str]:
    """Declared functions without a definition that the trees apply: uninterpreted, so a
    comparison gives them random functions (σ without a definition stays the logistic function)."""
    found: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Call) and node.func != "sigma":
                decl = symbols.get(node.func)
                if isinstance(decl, FunctionSymbol) and decl.definition is None:
                    found.add(node.func)
    return sorted(found)


def summation_bounds(trees: Iterable[Node]) -> list[str]:
    """Names in the bounds of a sum or product (``n`` in ``∑_{k=0}^{n-1}``): they are integers."""
    found: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Operator) and node.name in ("sum", "prod"):
                if isinstance(node.sub, Relation):
                    for item in node.sub.items[1:]:
                        found |= symbols_in(item)
                if node.sup is not None:
                    found |= symbols_in(node.sup)
    return sorted(found)


def sample_assignment(
    names: Iterable[str],
    symbols: SymbolTable,
    rng: np.random.Generator,
    integers: Iterable[str] = (),
) -> dict[str, Value]:
    """Random values for ``names`` from their declared domains and shapes (sorted, so seeded = reproducible).

    Scalars: bounded intervals uniform inside with a 5% margin; ``(0, ∞)`` log-uniform in 0.1..10;
    unrestricted reals uniform in (-3, 3) away from 0; integer domains small integers; complex
    domains both parts in (-2, 2). Matrices: the declared shape with standard normal entries
    (diagonal, symmetric, binary {0,1}, identity structures respected). Undeclared ``integers``
    (see :func:`summation_bounds`) are drawn from 1..8.
    """
    values: dict[str, Value] = {}
    whole = set(integers)
    for name in sorted(set(names)):
        decl = symbols.get(name)
        if isinstance(decl, MatrixSymbol):
            values[name] = _sample_matrix(decl, symbols, rng)
        elif isinstance(decl, FunctionSymbol):
            continue
        elif isinstance(decl, ScalarSymbol):
            values[name] = sample_scalar(decl.parsed_domain, rng)
        elif name in whole:
            values[name] = sample_scalar(Domain(low=0, integer=True), rng)
        else:
            values[name] = sample_scalar(Domain(), rng)
    return values


def sample_point(
    names: Iterable[str],
    symbols: SymbolTable,
    rng: np.random.Generator,
    functions: Iterable[str] = (),
    integers: Iterable[str] = (),
) -> dict[str, Sample]:
    """:func:`sample_assignment`, then a fresh :class:`RandomFunction` for each of ``functions``
    (see :func:`functions_to_sample`), drawn after the values so seeded points do not move."""
    point: dict[str, Sample] = dict(sample_assignment(names, symbols, rng, integers))
    for name in sorted(set(functions)):
        point[name] = RandomFunction(name, int(rng.integers(2**62)))
    return point


def sample_scalar(domain: Domain, rng: np.random.Generator) -> complex:
    """One value inside ``domain``; points outside the domain are rejected and redrawn."""
    if domain.complex:
        return complex(rng.uniform(-2, 2), rng.uniform(-2, 2))
    for _ in range(200):
        x = _draw_integer(domain, rng) if domain.integer else _draw_real(domain, rng)
        if domain.contains(x):
            return complex(x)
    raise NotEvaluable("no sample point could be drawn inside the declared domain")


def _draw_real(domain: Domain, rng: np.random.Generator) -> float:
    low, high = domain.low, domain.high
    if math.isfinite(low) and math.isfinite(high):
        return float(low + (high - low) * rng.uniform(0.05, 0.95))
    log_uniform = float(math.exp(rng.uniform(math.log(0.1), math.log(10.0))))
    if math.isfinite(low):
        return low + log_uniform
    if math.isfinite(high):
        return high - log_uniform
    x = float(rng.uniform(-3, 3))
    return x if abs(x) >= 0.2 else math.copysign(0.2 + abs(x), x if x else 1.0)


def _draw_integer(domain: Domain, rng: np.random.Generator) -> float:
    low, high = domain.low, domain.high
    lo = math.ceil(low) if math.isfinite(low) else None
    hi = math.floor(high) if math.isfinite(high) else None
    if lo is not None and domain.low_open and lo == low:
        lo += 1
    if hi is not None and domain.high_open and hi == high:
        hi -= 1
    if lo is None and hi is None:
        value = int(rng.integers(1, 7)) * (1 if rng.uniform() < 0.5 else -1)
        return float(value)
    if lo is None:
        assert hi is not None
        lo = hi - 7
    if hi is None:
        hi = lo + 7
    return float(rng.integers(lo, hi + 1)) if hi >= lo else float(lo)


def _sample_matrix(decl: MatrixSymbol, symbols: SymbolTable, rng: np.random.Generator) -> Mat:
    rows, cols = (symbols.size(d) for d in decl.shape)
    if max(rows, cols) > MAX_MATRIX_DIM:
        raise TooLarge(
            f"a declared matrix is {rows}×{cols}; matrices above {MAX_MATRIX_DIM} rows or columns are not evaluated"
        )
    if rows < 1 or cols < 1:
        raise NotEvaluable("a declared matrix has an empty shape")
    match decl.structure:
        case "identity":
            a = np.eye(rows, cols)
        case "diagonal":
            a = np.zeros((rows, cols))
            k = min(rows, cols)
            a[range(k), range(k)] = rng.standard_normal(k)
        case "symmetric":
            b = rng.standard_normal((rows, cols))
            a = (b + b.T) / 2 if rows == cols else b
        case "binary":
            a = rng.integers(0, 2, size=(rows, cols)).astype(float)
        case _:
            a = rng.standard_normal((rows, cols))
    return Mat(a.astype(np.complex128), (decl.shape[0], decl.shape[1]))


# ---------------------------------------------------------------------------------------------
# Evaluation


def evaluate(node: Node, values: Mapping[str, Value], symbols: SymbolTable | None = None) -> Value:
    """Evaluate ``node`` with ``values`` for its free symbols; raises an :class:`EvalError` subclass."""
    table = symbols or SymbolTable()
    check_size(node)
    return Evaluator(table, values, in_matrix_context=matrix_context([node], table)).eval(node)


class Evaluator:
    """Evaluates trees at one assignment; ``left_reals`` records a real input giving a non-real result.

    That flag lets the comparison ignore points outside the real domain of one answer (``log x``
    at ``x < 0``) instead of calling them counterexamples.
    """

    def __init__(
        self, symbols: SymbolTable, values: Mapping[str, Sample], *, in_matrix_context: bool
    ) -> None:
        self.symbols = symbols
        self.values = dict(values)
        self.in_matrix_context = in_matrix_context
        self.left_reals = False

    # -- dispatch -------------------------------------------------------------------------
    def eval(self, node: Node) -> Value:
        try:
            with np.errstate(all="ignore"):
                value = self._eval(node)
        except (ZeroDivisionError, FloatingPointError) as error:
            raise Undefined(f"division by zero ({error})", exact=True) from None
        except OverflowError:
            raise Undefined("a number overflowed") from None
        except (ValueError, ArithmeticError) as error:
            raise Undefined(f"not defined here ({error})") from None
        except np.linalg.LinAlgError as error:
            raise Undefined(f"a matrix is singular ({error})", exact=True) from None
        return _finite(value)

    def _eval(self, node: Node) -> Value:
        value = self._eval_node(node)
        if isinstance(value, complex) and value.imag == 0 and math.copysign(1.0, value.imag) < 0:
            # 1/(x + 0j) has a -0j part that would flip sqrt/log to the other side of the branch cut
            return complex(value.real, 0.0)
        return value

    def _eval_node(self, node: Node) -> Value:
        match node:
            case Num(text):
                return _number(text)
            case Const(name):
                return _CONSTANTS[name]
            case Sym(name):
                return self._symbol(name)
            case Add(terms):
                return self._add([self._eval(t) for t in terms], terms)
            case Neg(arg):
                value = self._eval(arg)
                return complex(-value.real, -value.imag) if isinstance(value, complex) else _scale(value, -1)
            case Mul(factors):
                return self._mul_all(factors)
            case Div(num, den):
                return self._div(self._eval(num), self._eval(den), num, den)
            case Pow(base, exp):
                return self._pow(base, exp)
            case Transpose(arg):
                value = self._eval(arg)
                return (
                    Mat(value.a.T.copy(), (value.dims[1], value.dims[0])) if isinstance(value, Mat) else value
                )
            case Hadamard(left, right):
                return self._hadamard(self._eval(left), self._eval(right), left, right)
            case Norm(arg, kind):
                return self._norm(self._eval(arg), kind, arg)
            case Call(func, args):
                return self._call(func, args)
            case Factorial(arg):
                return self._factorial(self._eval(arg))
            case Operator(name, body, sub, sup):
                return self._operator(name, body, sub, sup)
            case MatrixLit(rows):
                return self._matrix_literal(rows)
            case PlusMinus():
                raise NotEvaluable("a ± inside a single expression must be compared as a set of values")
            case Seq():
                raise NotEvaluable("a list of values cannot be used inside an expression")
            case Interval():
                raise NotEvaluable("an interval is a set of numbers, not a number")
            case Relation():
                raise NotEvaluable("an equation or inequality cannot be used inside an expression")
            case Text(text):
                raise NotEvaluable(f"the text {text!r} cannot be evaluated")
        raise NotEvaluable(f"unsupported expression {type(node).__name__}")

    # -- leaves ---------------------------------------------------------------------------
    def _symbol(self, name: str) -> Value:
        value = self.values.get(name)
        if value is not None and not isinstance(value, RandomFunction):
            return value
        decl = self.symbols.get(name)
        if isinstance(decl, MatrixSymbol) and decl.structure == "identity":
            rows, cols = (self.symbols.size(d) for d in decl.shape)
            if max(rows, cols) > MAX_MATRIX_DIM:
                raise TooLarge(
                    f"{name} is {rows}×{cols}; matrices above {MAX_MATRIX_DIM} rows or columns are not evaluated"
                )
            return Mat(np.eye(rows, cols, dtype=np.complex128), (decl.shape[0], decl.shape[1]))
        if decl is None and self.in_matrix_context and is_identity_name(name):
            return Scaling(1)
        if decl is None and name == IMAGINARY_UNIT:
            return 1j
        if isinstance(decl, FunctionSymbol):
            raise NotEvaluable(f"the function {pretty_name(name)} is used without an argument")
        raise NotEvaluable(f"no value for {pretty_name(name)}")

    def _matrix_literal(self, rows: tuple[tuple[Node, ...], ...]) -> Mat:
        if not rows or not rows[0]:
            raise NotEvaluable("an empty matrix")
        width = len(rows[0])
        if any(len(row) != width for row in rows):
            raise ShapeError("the rows of the matrix have different lengths")
        if max(len(rows), width) > MAX_MATRIX_DIM:
            raise TooLarge(f"a {len(rows)}×{width} matrix is too large to evaluate")
        out = np.zeros((len(rows), width), dtype=np.complex128)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                out[r, c] = self._scalar(self._eval(cell), "a matrix entry")
        return Mat(out, (len(rows), width))

    # -- arithmetic -----------------------------------------------------------------------
    def _add(self, values: list[Value], terms: tuple[Node, ...]) -> Value:
        scalar: complex | None = None
        scaling: complex | None = None
        matrix: Mat | None = None
        matrix_term: Node | None = None
        for value, term in zip(values, terms, strict=True):
            if isinstance(value, Mat) and value.shape == (1, 1) and matrix is None:
                # a 1×1 matrix acts as a scalar next to scalars (yᵀy + λ)
                if any(not isinstance(v, Mat) for v in values):
                    value = complex(value.a[0, 0])
            if isinstance(value, Mat):
                if matrix is None:
                    matrix, matrix_term = value, term
                else:
                    if not self._same_shape(matrix.dims, value.dims):
                        raise ShapeError(
                            f"{describe(matrix_term or term, 40)} {dims_text(matrix.dims)} and {describe(term, 40)} "
                            f"{dims_text(value.dims)} cannot be added: their shapes differ"
                        )
                    matrix = Mat(matrix.a + value.a, matrix.dims)
            elif isinstance(value, Scaling):
                scaling = value.c if scaling is None else scaling + value.c
            else:
                scalar = value if scalar is None else scalar + value
        if matrix is not None:
            if scalar is not None:
                raise ShapeError(
                    f"a scalar cannot be added to {describe(matrix_term or terms[0], 40)}, a {dims_text(matrix.dims)} matrix"
                )
            if scaling is not None:
                rows, cols = matrix.shape
                if rows != cols:
                    raise ShapeError(
                        f"the identity cannot be added to {describe(matrix_term or terms[0], 40)}: it is "
                        f"{dims_text(matrix.dims)}, not square"
                    )
                return Mat(matrix.a + scaling * np.eye(rows), matrix.dims)
            return matrix
        if scaling is not None:
            if scalar is not None:
                raise ShapeError("a scalar cannot be added to the identity matrix")
            return Scaling(scaling)
        return scalar if scalar is not None else 0j

    def _same_shape(self, a: tuple[Dim, Dim], b: tuple[Dim, Dim]) -> bool:
        return self._conform(a[0], b[0]) and self._conform(a[1], b[1])

    def _conform(self, a: Dim, b: Dim) -> bool:
        """Named dimensions must match by name (``n`` is not ``d`` even if sizes coincide) unless
        the rubric fixed both sizes explicitly; a number matches a name of that size."""
        if a == b:
            return True
        if isinstance(a, str) and isinstance(b, str):
            fixed = self.symbols.dimensions
            return a in fixed and b in fixed and fixed[a] == fixed[b]
        return self.symbols.size(a) == self.symbols.size(b)

    def _mul_all(self, factors: tuple[Node, ...]) -> Value:
        value = self._eval(factors[0])
        for index in range(1, len(factors)):
            value = self._mul(value, self._eval(factors[index]), factors[:index], factors[index])
        return value

    def _mul(self, left: Value, right: Value, left_nodes: tuple[Node, ...], right_node: Node) -> Value:
        if isinstance(left, Mat) and isinstance(right, Mat):
            if self._conform(left.dims[1], right.dims[0]):
                return Mat(left.a @ right.a, (left.dims[0], right.dims[1]))
            if left.shape == (1, 1):
                return Mat(left.a[0, 0] * right.a, right.dims)
            if right.shape == (1, 1):
                return Mat(left.a * right.a[0, 0], left.dims)
            left_text = describe(Mul(left_nodes) if len(left_nodes) > 1 else left_nodes[0], 40)
            raise ShapeError(
                f"the product {left_text}·{describe(right_node, 40)} is not defined: "
                f"{dims_text(left.dims)}·{dims_text(right.dims)} does not conform: inner sizes "
                f"{left.dims[1]} and {right.dims[0]} differ"
            )
        if isinstance(left, Scaling):
            return Scaling(left.c * right) if isinstance(right, complex) else _scale(right, left.c)
        if isinstance(right, Scaling):
            return Scaling(right.c * left) if isinstance(left, complex) else _scale(left, right.c)
        if isinstance(left, Mat):
            assert isinstance(right, complex)
            return _scale(left, right)
        return _scale(right, left)

    def _div(self, num: Value, den: Value, num_node: Node, den_node: Node) -> Value:
        if isinstance(den, Mat):
            if den.shape != (1, 1):
                raise ShapeError(
                    f"dividing by the matrix {describe(den_node, 40)} {dims_text(den.dims)} is not defined; "
                    "write the inverse ⁻¹ on the correct side"
                )
            den = complex(den.a[0, 0])
        if isinstance(den, Scaling):
            if den.c == 0:
                raise Undefined("division by zero", exact=True)
            return Scaling(num / den.c) if isinstance(num, complex) else _scale(num, 1 / den.c)
        if den == 0:
            raise Undefined("division by zero", exact=True)
        return _scale(num, 1 / den)

    def _pow(self, base_node: Node, exp_node: Node) -> Value:
        base = self._eval(base_node)
        if (
            isinstance(base, Mat)
            and isinstance(exp_node, Sym)
            and exp_node.name in ("T", "top")
            and self.symbols.get(exp_node.name) is None
        ):  # M^T read as a power by a lenient parser
            return Mat(base.a.T.copy(), (base.dims[1], base.dims[0]))
        exp = self._scalar(self._eval(exp_node), "an exponent")
        if abs(exp) > MAX_EXPONENT:
            raise TooLarge(f"an exponent is too large ({format_value(exp)}; the limit is {MAX_EXPONENT})")
        if isinstance(base, Scaling):
            return Scaling(self._pow_scalar(base.c, exp))
        if isinstance(base, Mat):
            if base.shape == (1, 1):
                return self._pow_scalar(complex(base.a[0, 0]), exp)
            return self._pow_matrix(base, exp, base_node)
        return self._pow_scalar(base, exp)

    def _pow_scalar(self, base: complex, exp: complex) -> complex:
        if base.imag == 0 and exp.imag == 0:
            b, e = base.real, exp.real
            if b > 0 or e.is_integer():
                if b == 0 and e < 0:
                    raise Undefined("division by zero (0 to a negative power)", exact=True)
                return complex(math.pow(b, e))
            if b == 0:
                return 0j if e > 0 else _raise_undefined("0 to a non-positive power")
            self.left_reals = True
            return cmath.exp(e * cmath.log(b))
        if base == 0:
            if exp.real > 0:
                return 0j
            raise Undefined("0 to a complex power", exact=True)
        return cmath.exp(exp * cmath.log(base))

    def _pow_matrix(self, base: Mat, exp: complex, base_node: Node) -> Mat:
        rows, cols = base.shape
        if rows != cols:
            raise ShapeError(
                f"{describe(base_node, 40)} is {dims_text(base.dims)}, not square, so it has no powers or inverse"
            )
        if exp.imag != 0:
            raise NotEvaluable("a complex power of a matrix")
        e = exp.real
        if e.is_integer():
            k = int(e)
            a = base.a
            if k < 0:
                a = _inverse(a)
                k = -k
            return Mat(np.linalg.matrix_power(a, k), base.dims)
        off_diagonal = base.a - np.diag(np.diag(base.a))
        if np.any(off_diagonal != 0):
            raise NotEvaluable(
                f"a fractional power of {describe(base_node, 40)} (only diagonal matrices are supported)"
            )
        diagonal = np.array([self._pow_scalar(complex(x), exp) for x in np.diag(base.a)], dtype=np.complex128)
        return Mat(np.diag(diagonal), base.dims)

    def _hadamard(self, left: Value, right: Value, left_node: Node, right_node: Node) -> Value:
        if isinstance(left, Scaling) and isinstance(right, Mat):
            left, right = right, left
        if isinstance(left, Mat) and isinstance(right, Scaling):
            if left.shape[0] != left.shape[1]:
                raise ShapeError(f"{describe(left_node, 40)} {dims_text(left.dims)} ⊙ I: the shapes differ")
            return Mat(np.diag(np.diag(left.a)) * right.c, left.dims)
        if isinstance(left, Mat) and isinstance(right, Mat):
            if not self._same_shape(left.dims, right.dims):
                raise ShapeError(
                    f"{describe(left_node, 40)} {dims_text(left.dims)} ⊙ {describe(right_node, 40)} "
                    f"{dims_text(right.dims)}: an elementwise product needs equal shapes"
                )
            return Mat(left.a * right.a, left.dims)
        if isinstance(left, complex) and isinstance(right, complex):
            return left * right
        raise ShapeError("an elementwise product ⊙ of a scalar and a matrix is not defined")

    def _norm(self, value: Value, kind: str, arg: Node) -> Value:
        if isinstance(value, complex):
            return complex(abs(value))
        if isinstance(value, Scaling):
            raise NotEvaluable("the norm of an identity of unknown size")
        a = value.a
        rows, cols = value.shape
        if rows == 1 or cols == 1:
            flat = np.abs(a.ravel())
            if kind == "1":
                return complex(flat.sum())
            if kind == "inf":
                return complex(flat.max())
            return complex(np.sqrt((flat**2).sum()))
        if kind in ("2", "fro"):
            return complex(np.sqrt((np.abs(a) ** 2).sum()))
        if kind == "1":
            return complex(np.abs(a).sum(axis=0).max())
        if kind == "inf":
            return complex(np.abs(a).sum(axis=1).max())
        if rows == cols:  # |A| of a square matrix: the determinant (|Σ| in a Gaussian density)
            return complex(np.linalg.det(a))
        raise NotEvaluable(f"|{describe(arg, 30)}| of a {dims_text(value.dims)} matrix is ambiguous")

    def _factorial(self, value: Value) -> complex:
        x = self._scalar(value, "a factorial")
        if x.imag != 0:
            raise NotEvaluable("the factorial of a complex number")
        n = x.real
        if n > MAX_FACTORIAL:
            raise TooLarge(f"a factorial of {format_value(n)} is too large (the limit is {MAX_FACTORIAL}!)")
        if n < 0 and n.is_integer():
            raise Undefined("the factorial of a negative integer", exact=True)
        return complex(math.gamma(n + 1))

    # -- functions ------------------------------------------------------------------------
    def _call(self, func: str, args: tuple[Node, ...]) -> Value:
        decl = self.symbols.get(func)
        if isinstance(decl, FunctionSymbol) and decl.definition is not None:
            return self._defined(func, decl, args)
        uninterpreted = self.values.get(func)
        if isinstance(uninterpreted, RandomFunction):
            if not args:
                raise NotEvaluable(f"{pretty_name(func)} needs an argument")
            return uninterpreted([self._eval(a) for a in args])
        if func in _MATRIX_FUNCTIONS:
            return _MATRIX_FUNCTIONS[func](self, [self._eval(a) for a in args], args)
        if func in ("Var", "Cov"):
            raise NotEvaluable(f"{func}[…] cannot be evaluated numerically")
        if func == "log" and len(args) == 2:
            x, base = (self._scalar(self._eval(a), "a logarithm") for a in args)
            return self._apply(_log, x) / self._apply(_log, base)
        if func == "root" and len(args) == 2:
            x, n = (self._scalar(self._eval(a), "a root") for a in args)
            return self._root(x, n)
        if func in ("max", "min") and len(args) >= 2:
            xs = [self._scalar(self._eval(a), func) for a in args]
            if any(x.imag != 0 for x in xs):
                raise Undefined(f"{func} of complex numbers")
            chosen = max(x.real for x in xs) if func == "max" else min(x.real for x in xs)
            return complex(chosen)
        if func == "atan2" and len(args) == 2:
            y, x = (self._scalar(self._eval(a), "atan2") for a in args)
            if y.imag != 0 or x.imag != 0:
                raise Undefined("atan2 of complex numbers")
            if y == 0 and x == 0:
                raise Undefined("atan2(0, 0)", exact=True)
            return complex(math.atan2(y.real, x.real))
        if func in ("binom", "binomial") and len(args) == 2:
            n, k = (self._scalar(self._eval(a), "a binomial coefficient") for a in args)
            if n.imag or k.imag or abs(n.real) > MAX_FACTORIAL:
                raise TooLarge("a binomial coefficient is too large")
            return complex(_binom(n.real, k.real))
        impl = _SCALAR_FUNCTIONS.get(func)
        if impl is None and func == "sigma":  # σ without a definition is the logistic function
            impl = _logistic
        if impl is None:
            if isinstance(decl, FunctionSymbol):
                raise NotEvaluable(f"the function {pretty_name(func)} has no definition in the rubric")
            raise NotEvaluable(f"the function {pretty_name(func)} is not known")
        if len(args) != 1:
            raise NotEvaluable(f"{pretty_name(func)} takes one argument, not {len(args)}")
        value = self._eval(args[0])
        if isinstance(value, Mat):  # functions of vectors act entrywise (σ(Xw))
            return Mat(
                np.vectorize(lambda z: self._apply(impl, complex(z)), otypes=[np.complex128])(value.a),
                value.dims,
            )
        return self._apply(impl, self._scalar(value, pretty_name(func)))

    def _apply(self, impl: Callable[[complex], complex], x: complex) -> complex:
        out = impl(x)
        if x.imag == 0 and out.imag != 0:
            self.left_reals = True
        return out

    def _root(self, x: complex, n: complex) -> complex:
        if n == 0:
            raise Undefined("a 0th root", exact=True)
        if x.imag == 0 and n.imag == 0 and x.real < 0 and n.real.is_integer() and int(n.real) % 2 == 1:
            return complex(-math.pow(-x.real, 1 / n.real))
        return self._pow_scalar(x, 1 / n)

    def _defined(self, func: str, decl: FunctionSymbol, args: tuple[Node, ...]) -> Value:
        assert decl.definition is not None
        body = _definition_tree(decl.definition)
        if isinstance(body, str):
            raise NotEvaluable(f"the rubric's definition of {pretty_name(func)} does not parse: {body}")
        params = ("u", "v", "w")[: max(1, len(args))]
        if len(args) != decl.arity or len(args) > len(params):
            raise NotEvaluable(f"{pretty_name(func)} takes {decl.arity} argument(s), not {len(args)}")
        inner_values = dict(self.values)
        for param, arg in zip(params, args, strict=False):
            inner_values[param] = self._eval(arg)
        inner = Evaluator(self.symbols, inner_values, in_matrix_context=self.in_matrix_context)
        value = inner._eval(body)
        self.left_reals = self.left_reals or inner.left_reals
        return value

    # -- big operators --------------------------------------------------------------------
    def _operator(self, name: str, body: Node, sub: Node | None, sup: Node | None) -> Value:
        if name not in ("sum", "prod"):
            label = {"E": "an expectation E[…]", "int": "an integral", "lim": "a limit"}.get(
                name, f"{name}(…)"
            )
            raise NotEvaluable(f"{label} cannot be evaluated numerically")
        if (
            not (
                isinstance(sub, Relation)
                and sub.ops == ("=",)
                and len(sub.items) == 2
                and isinstance(sub.items[0], Sym)
            )
            or sup is None
        ):
            raise NotEvaluable(f"a {name} without explicit integer bounds cannot be evaluated")
        index = sub.items[0].name
        lo = self._integer(self._eval(sub.items[1]), f"the lower bound of a {name}")
        hi = self._integer(self._eval(sup), f"the upper bound of a {name}")
        count = hi - lo + 1
        if count > MAX_SUM_TERMS:
            raise TooLarge(
                f"a {name} with {count} terms is too large to evaluate (the limit is {MAX_SUM_TERMS})"
            )
        saved = self.values.get(index)
        total: Value = 0j if name == "sum" else 1 + 0j
        try:
            for k in range(lo, hi + 1):
                self.values[index] = complex(k)
                term = self._eval(body)
                if name == "sum":
                    total = self._add([total, term], (body, body))
                else:
                    total = self._mul(total, term, (body,), body)
        finally:
            if saved is None:
                self.values.pop(index, None)
            else:
                self.values[index] = saved
        return total

    # -- coercions ------------------------------------------------------------------------
    def _scalar(self, value: Value, what: str) -> complex:
        if isinstance(value, Mat):
            if value.shape == (1, 1):
                return complex(value.a[0, 0])
            raise ShapeError(f"{what} must be a number, not a {dims_text(value.dims)} matrix")
        if isinstance(value, Scaling):
            raise ShapeError(f"{what} must be a number, not an identity matrix")
        return value

    def _integer(self, value: Value, what: str) -> int:
        x = self._scalar(value, what)
        if x.imag != 0 or not math.isfinite(x.real) or abs(x.real - round(x.real)) > 1e-9:
            raise NotEvaluable(f"{what} is not an integer")
        if abs(x.real) > 10**9:
            raise TooLarge(f"{what} is too large")
        return int(round(x.real))


# ---------------------------------------------------------------------------------------------
# Scalar and matrix function tables


def _raise_undefined(reason: str) -> complex:
    raise Undefined(reason, exact=True)


def _number(text: str) -> complex:
    cleaned = text.replace(",", "").replace(" ", "").replace("{}", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise NotEvaluable(f"the number {text!r} cannot be read") from None
    if math.isinf(value):
        raise TooLarge(f"the number {text[:20]}… is too large to evaluate")
    return complex(value)


def _finite(value: Value) -> Value:
    if isinstance(value, complex):
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            if math.isinf(value.real) and value.imag == 0:
                return value  # ±∞ stays a value: "∞" can equal "∞"
            raise Undefined("the value is not a finite number")
        return value
    if isinstance(value, Mat):
        if not np.all(np.isfinite(value.a)):
            raise Undefined("a matrix entry is not a finite number")
        return value
    if not (math.isfinite(value.c.real) and math.isfinite(value.c.imag)):
        raise Undefined("the value is not a finite number")
    return value


def _scale(value: Value, factor: complex) -> Value:
    if isinstance(value, Mat):
        return Mat(value.a * factor, value.dims)
    if isinstance(value, Scaling):
        return Scaling(value.c * factor)
    if factor.imag == 0 and value.imag == 0:
        return complex(value.real * factor.real)  # keeps 2·∞ = ∞ (complex multiplication gives nan)
    return value * factor


def _inverse(a: np.ndarray) -> np.ndarray:
    if np.linalg.cond(a) > _SINGULAR_COND:
        raise Undefined("the matrix to invert is singular", exact=True)
    return np.linalg.inv(a)


def _log(x: complex) -> complex:
    if x == 0:
        raise Undefined("log of 0", exact=True)
    return cmath.log(x)


def _logistic(x: complex) -> complex:
    if x.imag == 0:
        r = x.real
        return complex(1 / (1 + math.exp(-r)) if r >= 0 else math.exp(r) / (1 + math.exp(r)))
    return 1 / (1 + cmath.exp(-x))


def _reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    def inverse(x: complex) -> complex:
        value = f(x)
        if value == 0:
            raise Undefined("division by zero", exact=True)
        return 1 / value

    return inverse


def _real_only(f: Callable[[float], float], name: str) -> Callable[[complex], complex]:
    def apply(x: complex) -> complex:
        if x.imag != 0:
            raise Undefined(f"{name} of a complex number")
        return complex(f(x.real))

    return apply


def _erf(x: complex) -> complex:
    if x.imag == 0:
        return complex(math.erf(x.real))
    from scipy.special import erf

    return complex(erf(x))


def _sign(x: float) -> float:
    return float((x > 0) - (x < 0))


def _binom(n: float, k: float) -> float:
    if n.is_integer() and k.is_integer() and n >= 0:
        return float(math.comb(int(n), int(k))) if 0 <= k <= n else 0.0
    return math.gamma(n + 1) / (math.gamma(k + 1) * math.gamma(n - k + 1))


def _sqrt(x: complex) -> complex:
    return cmath.sqrt(x)


def _of_reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    """``arcsec(x) = arccos(1/x)`` and friends (SymPy's conventions for real x)."""

    def apply(x: complex) -> complex:
        if x == 0:
            raise Undefined("division by zero", exact=True)
        return f(1 / x)

    return apply


def _arccot(x: complex) -> complex:
    return complex(math.pi / 2) if x == 0 else cmath.atan(1 / x)


def _round(x: float) -> float:
    return float(round(x))  # ties to even, like Maxima's round: round(2.5) = 2


_SCALAR_FUNCTIONS: dict[str, Callable[[complex], complex]] = {
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "cot": _reciprocal(cmath.tan),
    "sec": _reciprocal(cmath.cos),
    "csc": _reciprocal(cmath.sin),
    "arcsin": cmath.asin,
    "arccos": cmath.acos,
    "arctan": cmath.atan,
    "sinh": cmath.sinh,
    "cosh": cmath.cosh,
    "tanh": cmath.tanh,
    "sech": _reciprocal(cmath.cosh),
    "csch": _reciprocal(cmath.sinh),
    "coth": _reciprocal(cmath.tanh),
    "arcsinh": cmath.asinh,
    "arccosh": cmath.acosh,
    "arctanh": cmath.atanh,
    "arccot": _arccot,
    "arcsec": _of_reciprocal(cmath.acos),
    "arccsc": _of_reciprocal(cmath.asin),
    "exp": cmath.exp,
    "log": _log,
    "ln": _log,
    "sqrt": _sqrt,
    "floor": _real_only(math.floor, "floor"),
    "ceil": _real_only(math.ceil, "ceil"),
    "sign": _real_only(_sign, "sign"),
    "round": _real_only(_round, "round"),
    "erf": _erf,
    "abs": lambda x: complex(abs(x)),
}

_CONSTANTS: dict[str, complex] = {
    "pi": complex(math.pi),
    "e": complex(math.e),
    "i": 1j,
    "inf": complex(math.inf),
}


def _diag(ev: Evaluator, values: list[Value], nodes: tuple[Node, ...]) -> Value:
    if len(values) > 1:
        entries = [ev._scalar(v, "an entry of diag(…)") for v in values]
        return Mat(np.diag(np.array(entries, dtype=np.complex128)), (len(entries), len(entries)))
    (value,) = values
    if not isinstance(value, Mat):
        return value
    rows, cols = value.shape
    if rows == 1 or cols == 1:
        dim = value.dims[0] if cols == 1 else value.dims[1]
        return Mat(np.diag(value.a.ravel()), (dim, dim))
    if rows != cols:
        raise ShapeError(
            f"diag({describe(nodes[0], 40)}) needs a square matrix or a vector, not {dims_text(value.dims)}"
        )
    return Mat(np.diag(np.diag(value.a)), value.dims)


def _square(ev: Evaluator, values: list[Value], nodes: tuple[Node, ...], name: str) -> Mat | complex:
    if len(values) != 1:
        raise NotEvaluable(f"{name} takes one argument")
    value = values[0]
    if isinstance(value, Scaling):
        raise NotEvaluable(f"{name} of an identity of unknown size")
    if isinstance(value, complex):
        return value
    rows, cols = value.shape
    if rows != cols:
        raise ShapeError(
            f"{name}({describe(nodes[0], 40)}) needs a square matrix, not {dims_text(value.dims)}"
        )
    return value


def _trace(ev: Evaluator, values: list[Value], nodes: tuple[Node, ...]) -> Value:
    value = _square(ev, values, nodes, "tr")
    return complex(np.trace(value.a)) if isinstance(value, Mat) else value


def _det(ev: Evaluator, values: list[Value], nodes: tuple[Node, ...]) -> Value:
    value = _square(ev, values, nodes, "det")
    return complex(np.linalg.det(value.a)) if isinstance(value, Mat) else value


def _rank(ev: Evaluator, values: list[Value], nodes: tuple[Node, ...]) -> Value:
    if len(values) != 1 or isinstance(values[0], Scaling):
        raise NotEvaluable("rank needs one matrix of known size")
    value = values[0]
    if isinstance(value, complex):
        return complex(0 if value == 0 else 1)
    return complex(int(np.linalg.matrix_rank(value.a)))


_MATRIX_FUNCTIONS: dict[str, Callable[[Evaluator, list[Value], tuple[Node, ...]], Value]] = {
    "diag": _diag,
    "tr": _trace,
    "det": _det,
    "rank": _rank,
}


@lru_cache(maxsize=64)
def _definition_tree(definition: str) -> Node | str:
    """Parse a rubric function body (calculator syntax over ``u``) once; a string is the parse error."""
    from grader.math.text import parse_text
    from grader.math.tree import ParseError

    parsed = parse_text(definition)
    if isinstance(parsed, ParseError):
        return parsed.message
    return parsed.tree
