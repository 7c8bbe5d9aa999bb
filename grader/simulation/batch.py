"""Vectorised evaluation of expression trees: one walk of the tree evaluates a whole batch of points.

Why: a Monte Carlo expectation over dropout masks needs thousands of evaluations per step, and
an ODE solver calls a vector field thousands of times; walking the tree once per batch (numpy
arrays with a leading sample axis) instead of once per point makes both affordable.

The conventions follow :mod:`grader.math.evaluate` (named dimensions must conform by name, a 1×1
matrix acts as a scalar next to scalars, ``I`` takes the size of the matrix it meets, functions
act entrywise on matrices), so a derivation step is judged by the same rules as a final answer,
and the same exceptions say what a failure means (ShapeError, NotEvaluable, Undefined, TooLarge).

Values: scalars are complex arrays of shape ``(B,)``; matrices are :class:`BMat` with ``a`` of
shape ``(B, rows, cols)``; identities of unknown size are :class:`BScaling`. ``B`` may be 1 for
values shared by the whole batch (numpy broadcasting does the rest).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np

from grader.math.evaluate import (
    IMAGINARY_UNIT,
    MAX_EXPONENT,
    MAX_MATRIX_DIM,
    MAX_SUM_TERMS,
    NotEvaluable,
    ShapeError,
    TooLarge,
    Undefined,
    check_size,
    describe,
    dims_text,
    is_identity_name,
    pretty_name,
)
from grader.math.symbols import FunctionSymbol, MatrixSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
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
)

__all__ = ["BMat", "BScaling", "BValue", "BatchEvaluator", "as_batch", "batch_size", "entries", "kind_text"]

Dim: TypeAlias = str | int
_SINGULAR_COND = 1e12


@dataclass(frozen=True, slots=True, eq=False)
class BMat:
    """A batch of matrices, ``a`` of shape (B, rows, cols), with the names of its dimensions."""

    a: np.ndarray
    dims: tuple[Dim, Dim]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.a.shape[-2]), int(self.a.shape[-1])


@dataclass(frozen=True, slots=True, eq=False)
class BScaling:
    """A batch of ``c·I`` whose size comes from the matrix it meets."""

    c: np.ndarray


BValue: TypeAlias = np.ndarray | BMat | BScaling
#: a density: values of the pdf at an array of points (same shape out)
DensityFn: TypeAlias = Callable[[np.ndarray], np.ndarray]


def as_batch(value: complex | float | np.ndarray) -> np.ndarray:
    """A scalar as a batch of one (or an array as a batch of scalars)."""
    return np.atleast_1d(np.asarray(value, dtype=np.complex128))


def batch_size(value: BValue) -> int:
    if isinstance(value, BMat):
        return int(value.a.shape[0])
    if isinstance(value, BScaling):
        return int(value.c.shape[0])
    return int(value.shape[0])


def entries(value: BValue) -> np.ndarray:
    """The value as (B, k) entries, for comparisons and standard errors."""
    if isinstance(value, BMat):
        return value.a.reshape(value.a.shape[0], -1)
    if isinstance(value, BScaling):
        return value.c.reshape(-1, 1)
    return value.reshape(-1, 1)


def kind_text(value: BValue) -> str:
    if isinstance(value, BMat):
        return f"a {dims_text(value.dims)} matrix"
    if isinstance(value, BScaling):
        return "a multiple of the identity"
    return "a number"


class BatchEvaluator:
    """Evaluates trees for a batch of assignments at once.

    ``values`` maps symbol names to batched values; ``densities`` maps declared density names to
    their pdf, used for calls ``p_1(x)`` anywhere and for a bare ``p_1`` when ``point`` (the
    integration variable's values) is set. ``left_reals`` records a real input giving a non-real
    value (``log`` of a negative number), which callers treat as "outside the domain here".
    """

    def __init__(
        self,
        symbols: SymbolTable,
        values: Mapping[str, BValue],
        *,
        in_matrix_context: bool,
        densities: Mapping[str, DensityFn] | None = None,
        point: np.ndarray | None = None,
    ) -> None:
        self.symbols = symbols
        self.values = dict(values)
        self.in_matrix_context = in_matrix_context
        self.densities = dict(densities or {})
        self.point = point
        self.left_reals = False
        self._sized: dict[int, Node] = {}

    def eval(self, node: Node) -> BValue:
        """The value of ``node`` for the whole batch; trees beyond the size limits are refused first."""
        if id(node) not in self._sized:
            check_size(node)
            self._sized[id(node)] = node  # kept alive, so the id cannot be reused by another tree
        try:
            with np.errstate(all="ignore"):
                value = self._eval(node)
        except RecursionError:
            raise TooLarge("the expression is nested too deeply") from None
        except ZeroDivisionError as error:
            raise Undefined(f"division by zero ({error})", exact=True) from None
        except OverflowError:
            raise Undefined("a number overflowed") from None
        except np.linalg.LinAlgError as error:
            raise Undefined(f"a matrix is singular ({error})", exact=True) from None
        except (ValueError, ArithmeticError) as error:
            raise Undefined(f"not defined here ({error})") from None
        return _finite(value)

    # -- dispatch -------------------------------------------------------------------------
    def _eval(self, node: Node) -> BValue:
        match node:
            case Num(text):
                return as_batch(_number(text))
            case Const(name):
                return as_batch({"pi": math.pi, "e": math.e, "i": 1j, "inf": math.inf}[name])
            case Sym(name):
                return self._symbol(name)
            case Add(terms):
                return self._add([self._eval(t) for t in terms], terms)
            case Neg(arg):
                return _scale(self._eval(arg), -1)
            case Mul(factors):
                value = self._eval(factors[0])
                for index in range(1, len(factors)):
                    value = self._mul(value, self._eval(factors[index]), factors[:index], factors[index])
                return value
            case Div(num, den):
                return self._div(self._eval(num), self._eval(den), den)
            case Pow(base, exp):
                return self._pow(base, exp)
            case Transpose(arg):
                value = self._eval(arg)
                if isinstance(value, BMat):
                    return BMat(np.swapaxes(value.a, -1, -2), (value.dims[1], value.dims[0]))
                return value
            case Hadamard(left, right):
                return self._hadamard(self._eval(left), self._eval(right), left, right)
            case Norm(arg, kind):
                return self._norm(self._eval(arg), kind, arg)
            case Call(func, args):
                return self._call(func, args)
            case Factorial(arg):
                x = self._real(self._eval(arg), "a factorial")
                if np.any(x > 170):
                    raise TooLarge("a factorial is too large to evaluate")
                from scipy.special import gamma

                return as_batch(gamma(x + 1))
            case Operator(name, body, sub, sup):
                return self._operator(name, body, sub, sup)
            case MatrixLit(rows):
                return self._matrix_literal(rows)
            case PlusMinus():
                raise NotEvaluable("a ± inside a single expression must be compared as a set of values")
            case Seq():
                raise NotEvaluable("a list of values cannot be used inside an expression")
            case Relation():
                raise NotEvaluable("an equation or inequality cannot be used inside an expression")
            case Text(text):
                raise NotEvaluable(f"the text {text!r} cannot be evaluated")
        raise NotEvaluable(f"unsupported expression {type(node).__name__}")

    # -- leaves ---------------------------------------------------------------------------
    def _symbol(self, name: str) -> BValue:
        if name in self.values:
            return self.values[name]
        if name in self.densities:
            if self.point is None:
                raise NotEvaluable(f"the density {pretty_name(name)} is used outside an integral or expectation")
            return self._density(name, self.point)
        decl = self.symbols.get(name)
        if isinstance(decl, MatrixSymbol) and decl.structure == "identity":
            rows, cols = (self.symbols.size(d) for d in decl.shape)
            if max(rows, cols) > MAX_MATRIX_DIM:
                raise TooLarge(f"{name} is {rows}×{cols}; matrices above {MAX_MATRIX_DIM} rows or columns are not evaluated")
            return BMat(np.eye(rows, cols, dtype=np.complex128)[None], (decl.shape[0], decl.shape[1]))
        if decl is None and self.in_matrix_context and is_identity_name(name):
            return BScaling(as_batch(1))
        if decl is None and name == IMAGINARY_UNIT:
            return as_batch(1j)
        if isinstance(decl, FunctionSymbol):
            raise NotEvaluable(f"the function {pretty_name(name)} is used without an argument")
        raise NotEvaluable(f"no value for {pretty_name(name)}")

    def _density(self, name: str, x: np.ndarray) -> np.ndarray:
        if np.any(x.imag != 0):
            raise Undefined("a density at a complex point")
        return as_batch(self.densities[name](x.real))

    def _matrix_literal(self, rows: tuple[tuple[Node, ...], ...]) -> BMat:
        if not rows or not rows[0]:
            raise NotEvaluable("an empty matrix")
        width = len(rows[0])
        if any(len(row) != width for row in rows):
            raise ShapeError("the rows of the matrix have different lengths")
        if max(len(rows), width) > MAX_MATRIX_DIM:
            raise TooLarge(f"a {len(rows)}×{width} matrix is too large to evaluate")
        cells = [[self._scalar(self._eval(cell), "a matrix entry") for cell in row] for row in rows]
        size = max(c.shape[0] for row in cells for c in row)
        out = np.zeros((size, len(rows), width), dtype=np.complex128)
        for r, row in enumerate(cells):
            for c, cell in enumerate(row):
                out[:, r, c] = cell
        return BMat(out, (len(rows), width))

    # -- arithmetic -----------------------------------------------------------------------
    def _add(self, values: list[BValue], terms: tuple[Node, ...]) -> BValue:
        scalar: np.ndarray | None = None
        scaling: np.ndarray | None = None
        matrix: BMat | None = None
        matrix_term: Node | None = None
        any_scalar = any(not isinstance(v, BMat) for v in values)
        for value, term in zip(values, terms, strict=True):
            if isinstance(value, BMat) and value.shape == (1, 1) and matrix is None and any_scalar:
                value = value.a[:, 0, 0]  # a 1×1 matrix acts as a scalar next to scalars (yᵀy + λ)
            if isinstance(value, BMat):
                if matrix is None:
                    matrix, matrix_term = value, term
                else:
                    if not self._same_shape(matrix.dims, value.dims):
                        raise ShapeError(
                            f"{describe(matrix_term or term, 40)} {dims_text(matrix.dims)} and {describe(term, 40)} "
                            f"{dims_text(value.dims)} cannot be added: their shapes differ"
                        )
                    matrix = BMat(matrix.a + value.a, matrix.dims)
            elif isinstance(value, BScaling):
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
                return BMat(matrix.a + scaling[:, None, None] * np.eye(rows), matrix.dims)
            return matrix
        if scaling is not None:
            if scalar is not None:
                raise ShapeError("a scalar cannot be added to the identity matrix")
            return BScaling(scaling)
        return scalar if scalar is not None else as_batch(0)

    def _same_shape(self, a: tuple[Dim, Dim], b: tuple[Dim, Dim]) -> bool:
        return self._conform(a[0], b[0]) and self._conform(a[1], b[1])

    def _conform(self, a: Dim, b: Dim) -> bool:
        """As in grader.math.evaluate: named dimensions match by name unless both sizes are fixed."""
        if a == b:
            return True
        if isinstance(a, str) and isinstance(b, str):
            fixed = self.symbols.dimensions
            return a in fixed and b in fixed and fixed[a] == fixed[b]
        return self.symbols.size(a) == self.symbols.size(b)

    def _mul(self, left: BValue, right: BValue, left_nodes: tuple[Node, ...], right_node: Node) -> BValue:
        if isinstance(left, BMat) and isinstance(right, BMat):
            if self._conform(left.dims[1], right.dims[0]):
                return BMat(np.matmul(left.a, right.a), (left.dims[0], right.dims[1]))
            if left.shape == (1, 1):
                return BMat(left.a[:, :1, :1] * right.a, right.dims)
            if right.shape == (1, 1):
                return BMat(left.a * right.a[:, :1, :1], left.dims)
            left_text = describe(Mul(left_nodes) if len(left_nodes) > 1 else left_nodes[0], 40)
            raise ShapeError(
                f"the product {left_text}·{describe(right_node, 40)} is not defined: "
                f"{dims_text(left.dims)}·{dims_text(right.dims)} does not conform: inner sizes "
                f"{left.dims[1]} and {right.dims[0]} differ"
            )
        if isinstance(left, BScaling):
            return BScaling(left.c * right) if isinstance(right, np.ndarray) else _scale(right, left.c)
        if isinstance(right, BScaling):
            return BScaling(right.c * left) if isinstance(left, np.ndarray) else _scale(left, right.c)
        if isinstance(left, BMat):
            assert isinstance(right, np.ndarray)
            return _scale(left, right)
        return _scale(right, left)

    def _div(self, num: BValue, den: BValue, den_node: Node) -> BValue:
        if isinstance(den, BMat):
            if den.shape != (1, 1):
                raise ShapeError(
                    f"dividing by the matrix {describe(den_node, 40)} {dims_text(den.dims)} is not defined; "
                    "write the inverse ⁻¹ on the correct side"
                )
            den = den.a[:, 0, 0]
        if isinstance(den, BScaling):
            if np.any(den.c == 0):
                raise Undefined("division by zero", exact=True)
            return BScaling(num / den.c) if isinstance(num, np.ndarray) else _scale(num, 1 / den.c)
        if np.any(den == 0):
            raise Undefined("division by zero", exact=True)
        return _scale(num, 1 / den)

    def _pow(self, base_node: Node, exp_node: Node) -> BValue:
        base = self._eval(base_node)
        if isinstance(base, BMat) and isinstance(exp_node, Sym) and exp_node.name in ("T", "top") and self.symbols.get(exp_node.name) is None:
            return BMat(np.swapaxes(base.a, -1, -2), (base.dims[1], base.dims[0]))
        exp = self._scalar(self._eval(exp_node), "an exponent")
        if np.any(np.abs(exp) > MAX_EXPONENT):
            raise TooLarge(f"an exponent is too large (the limit is {MAX_EXPONENT})")
        if isinstance(base, BScaling):
            return BScaling(self._pow_scalar(base.c, exp))
        if isinstance(base, BMat):
            if base.shape == (1, 1):
                return self._pow_scalar(base.a[:, 0, 0], exp)
            return self._pow_matrix(base, exp, base_node)
        return self._pow_scalar(base, exp)

    def _pow_scalar(self, base: np.ndarray, exp: np.ndarray) -> np.ndarray:
        base, exp = np.broadcast_arrays(base, exp)
        real = (base.imag == 0) & (exp.imag == 0)
        integer = real & (exp.real == np.round(exp.real))
        if np.any(real & (base.real == 0) & (exp.real < 0)):
            raise Undefined("division by zero (0 to a negative power)", exact=True)
        plain = real & ((base.real > 0) | integer)
        out = np.empty(base.shape, dtype=np.complex128)
        out[plain] = np.power(base.real[plain], exp.real[plain])
        rest = ~plain
        if np.any(rest):
            zero = rest & (base == 0)
            out[zero] = 0
            other = rest & ~zero
            out[other] = np.exp(exp[other] * np.log(base[other]))
            if np.any(other & real):
                self.left_reals = True
        return out

    def _pow_matrix(self, base: BMat, exp: np.ndarray, base_node: Node) -> BMat:
        rows, cols = base.shape
        if rows != cols:
            raise ShapeError(f"{describe(base_node, 40)} is {dims_text(base.dims)}, not square, so it has no powers or inverse")
        if np.any(exp.imag != 0) or np.any(exp != exp[0]):
            raise NotEvaluable("a complex or varying power of a matrix")
        e = float(exp[0].real)
        if e.is_integer():
            k = int(e)
            a = base.a
            if k < 0:
                a = _inverse(a)
                k = -k
            return BMat(np.linalg.matrix_power(a, k), base.dims)
        diagonal = np.diagonal(base.a, axis1=-2, axis2=-1)
        if np.any(base.a - _diag_embed(diagonal) != 0):
            raise NotEvaluable(f"a fractional power of {describe(base_node, 40)} (only diagonal matrices are supported)")
        powered = self._pow_scalar(diagonal.reshape(-1), np.full(diagonal.size, e, dtype=np.complex128))
        return BMat(_diag_embed(powered.reshape(diagonal.shape)), base.dims)

    def _hadamard(self, left: BValue, right: BValue, left_node: Node, right_node: Node) -> BValue:
        if isinstance(left, BScaling) and isinstance(right, BMat):
            left, right = right, left
        if isinstance(left, BMat) and isinstance(right, BScaling):
            if left.shape[0] != left.shape[1]:
                raise ShapeError(f"{describe(left_node, 40)} {dims_text(left.dims)} ⊙ I: the shapes differ")
            return BMat(_diag_embed(np.diagonal(left.a, axis1=-2, axis2=-1)) * right.c[:, None, None], left.dims)
        if isinstance(left, BMat) and isinstance(right, BMat):
            if not self._same_shape(left.dims, right.dims):
                raise ShapeError(
                    f"{describe(left_node, 40)} {dims_text(left.dims)} ⊙ {describe(right_node, 40)} "
                    f"{dims_text(right.dims)}: an elementwise product needs equal shapes"
                )
            return BMat(left.a * right.a, left.dims)
        if isinstance(left, np.ndarray) and isinstance(right, np.ndarray):
            return left * right
        raise ShapeError("an elementwise product ⊙ of a scalar and a matrix is not defined")

    def _norm(self, value: BValue, kind: str, arg: Node) -> BValue:
        if isinstance(value, np.ndarray):
            return as_batch(np.abs(value))
        if isinstance(value, BScaling):
            raise NotEvaluable("the norm of an identity of unknown size")
        a = value.a
        rows, cols = value.shape
        if rows == 1 or cols == 1:
            flat = np.abs(a.reshape(a.shape[0], -1))
            if kind == "1":
                return as_batch(flat.sum(axis=1))
            if kind == "inf":
                return as_batch(flat.max(axis=1))
            return as_batch(np.sqrt((flat**2).sum(axis=1)))
        if kind in ("2", "fro"):
            return as_batch(np.sqrt((np.abs(a) ** 2).sum(axis=(1, 2))))
        if kind == "1":
            return as_batch(np.abs(a).sum(axis=1).max(axis=1))
        if kind == "inf":
            return as_batch(np.abs(a).sum(axis=2).max(axis=1))
        if rows == cols:
            return as_batch(np.linalg.det(a))
        raise NotEvaluable(f"|{describe(arg, 30)}| of a {dims_text(value.dims)} matrix is ambiguous")

    # -- functions ------------------------------------------------------------------------
    def _call(self, func: str, args: tuple[Node, ...]) -> BValue:
        if func in self.densities:
            if len(args) != 1:
                raise NotEvaluable(f"the density {pretty_name(func)} takes one argument")
            x = self._scalar(self._eval(args[0]), f"the argument of {pretty_name(func)}")
            return self._density(func, x)
        decl = self.symbols.get(func)
        if isinstance(decl, FunctionSymbol) and decl.definition is not None:
            return self._defined(func, decl, args)
        if func in ("diag", "tr", "det"):
            return self._matrix_function(func, [self._eval(a) for a in args], args)
        if func in ("Var", "Cov"):
            raise NotEvaluable(f"{func}[…] cannot be evaluated numerically")
        if func == "log" and len(args) == 2:
            x, base = (self._scalar(self._eval(a), "a logarithm") for a in args)
            return self._apply(_log, x) / self._apply(_log, base)
        if func in ("max", "min") and len(args) >= 2:
            xs = [self._real(self._eval(a), func) for a in args]
            stacked = np.stack(np.broadcast_arrays(*xs))
            return as_batch(stacked.max(axis=0) if func == "max" else stacked.min(axis=0))
        impl = _FUNCTIONS.get(func)
        if impl is None:
            if isinstance(decl, FunctionSymbol):
                raise NotEvaluable(f"the function {pretty_name(func)} has no definition in the rubric")
            raise NotEvaluable(f"the function {pretty_name(func)} is not known")
        if len(args) != 1:
            raise NotEvaluable(f"{pretty_name(func)} takes one argument, not {len(args)}")
        value = self._eval(args[0])
        if isinstance(value, BMat):  # functions of vectors act entrywise (σ(Xw))
            return BMat(self._apply(impl, value.a), value.dims)
        return self._apply(impl, self._scalar(value, pretty_name(func)))

    def _apply(self, impl: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
        out = np.asarray(impl(x), dtype=np.complex128)
        if np.any((x.imag == 0) & (out.imag != 0)):
            self.left_reals = True
        return out

    def _defined(self, func: str, decl: FunctionSymbol, args: tuple[Node, ...]) -> BValue:
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
        inner = BatchEvaluator(
            self.symbols, inner_values, in_matrix_context=self.in_matrix_context, densities=self.densities, point=self.point
        )
        value = inner._eval(body)
        self.left_reals = self.left_reals or inner.left_reals
        return value

    def _matrix_function(self, func: str, values: list[BValue], nodes: tuple[Node, ...]) -> BValue:
        if func == "diag" and len(values) > 1:
            cells = np.stack(np.broadcast_arrays(*(self._scalar(v, "an entry of diag(…)") for v in values)), axis=-1)
            return BMat(_diag_embed(cells), (len(values), len(values)))
        if len(values) != 1:
            raise NotEvaluable(f"{func} takes one argument")
        value = values[0]
        if isinstance(value, BScaling):
            raise NotEvaluable(f"{func} of an identity of unknown size")
        if isinstance(value, np.ndarray):
            return value
        rows, cols = value.shape
        if func == "diag":
            if rows == 1 or cols == 1:
                dim = value.dims[0] if cols == 1 else value.dims[1]
                return BMat(_diag_embed(value.a.reshape(value.a.shape[0], -1)), (dim, dim))
            if rows != cols:
                raise ShapeError(f"diag({describe(nodes[0], 40)}) needs a square matrix or a vector, not {dims_text(value.dims)}")
            return BMat(_diag_embed(np.diagonal(value.a, axis1=-2, axis2=-1)), value.dims)
        if rows != cols:
            raise ShapeError(f"{func}({describe(nodes[0], 40)}) needs a square matrix, not {dims_text(value.dims)}")
        if func == "tr":
            return as_batch(np.trace(value.a, axis1=-2, axis2=-1))
        return as_batch(np.linalg.det(value.a))

    # -- big operators --------------------------------------------------------------------
    def _operator(self, name: str, body: Node, sub: Node | None, sup: Node | None) -> BValue:
        if name not in ("sum", "prod"):
            label = {"E": "an expectation E[…]", "int": "an integral", "lim": "a limit"}.get(name, f"{name}(…)")
            raise NotEvaluable(f"{label} cannot be evaluated here")
        if not (isinstance(sub, Relation) and sub.ops == ("=",) and len(sub.items) == 2 and isinstance(sub.items[0], Sym)) or sup is None:
            raise NotEvaluable(f"a {name} without explicit integer bounds cannot be evaluated")
        index = sub.items[0].name
        lo = self._integer(self._eval(sub.items[1]), f"the lower bound of a {name}")
        hi = self._integer(self._eval(sup), f"the upper bound of a {name}")
        if hi - lo + 1 > MAX_SUM_TERMS:
            raise TooLarge(f"a {name} with {hi - lo + 1} terms is too large to evaluate (the limit is {MAX_SUM_TERMS})")
        saved = self.values.get(index)
        total: BValue = as_batch(0 if name == "sum" else 1)
        try:
            for k in range(lo, hi + 1):
                self.values[index] = as_batch(k)
                term = self._eval(body)
                total = self._add([total, term], (body, body)) if name == "sum" else self._mul(total, term, (body,), body)
        finally:
            if saved is None:
                self.values.pop(index, None)
            else:
                self.values[index] = saved
        return total

    # -- coercions ------------------------------------------------------------------------
    def _scalar(self, value: BValue, what: str) -> np.ndarray:
        if isinstance(value, BMat):
            if value.shape == (1, 1):
                return value.a[:, 0, 0]
            raise ShapeError(f"{what} must be a number, not a {dims_text(value.dims)} matrix")
        if isinstance(value, BScaling):
            raise ShapeError(f"{what} must be a number, not an identity matrix")
        return value

    def _real(self, value: BValue, what: str) -> np.ndarray:
        x = self._scalar(value, what)
        if np.any(x.imag != 0):
            raise Undefined(f"{what} of a complex number")
        return x.real

    def _integer(self, value: BValue, what: str) -> int:
        x = self._scalar(value, what)
        if x.shape[0] != 1 or x[0].imag != 0 or not math.isfinite(x[0].real) or abs(x[0].real - round(x[0].real)) > 1e-9:
            raise NotEvaluable(f"{what} is not an integer")
        if abs(x[0].real) > 10**9:
            raise TooLarge(f"{what} is too large")
        return int(round(x[0].real))


# ---------------------------------------------------------------------------------------------


def _number(text: str) -> complex:
    cleaned = text.replace(",", "").replace(" ", "").replace("{}", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise NotEvaluable(f"the number {text!r} cannot be read") from None
    if math.isinf(value):
        raise TooLarge(f"the number {text[:20]}… is too large to evaluate")
    return complex(value)


def _scale(value: BValue, factor: np.ndarray | complex) -> BValue:
    if isinstance(value, BMat):
        f = np.asarray(factor, dtype=np.complex128)
        return BMat(value.a * (f[:, None, None] if f.ndim else f), value.dims)
    if isinstance(value, BScaling):
        return BScaling(value.c * factor)
    return np.asarray(value * factor, dtype=np.complex128)


def _finite(value: BValue) -> BValue:
    array = value.a if isinstance(value, BMat) else value.c if isinstance(value, BScaling) else value
    if not np.all(np.isfinite(array)):
        raise Undefined("a value is not a finite number")
    return value


def _diag_embed(diagonal: np.ndarray) -> np.ndarray:
    size = diagonal.shape[-1]
    out = np.zeros((*diagonal.shape, size), dtype=np.complex128)
    index = np.arange(size)
    out[..., index, index] = diagonal
    return out


def _inverse(a: np.ndarray) -> np.ndarray:
    if np.any(np.linalg.cond(a) > _SINGULAR_COND):
        raise Undefined("the matrix to invert is singular", exact=True)
    return np.linalg.inv(a)


def _log(x: np.ndarray) -> np.ndarray:
    if np.any(x == 0):
        raise Undefined("log of 0", exact=True)
    return np.log(x)


def _logistic(x: np.ndarray) -> np.ndarray:
    if np.all(x.imag == 0):
        r = x.real
        return np.where(r >= 0, 1 / (1 + np.exp(-np.abs(r))), np.exp(-np.abs(r)) / (1 + np.exp(-np.abs(r)))).astype(np.complex128)
    return 1 / (1 + np.exp(-x))


def _reciprocal(f: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def inverse(x: np.ndarray) -> np.ndarray:
        value = f(x)
        if np.any(value == 0):
            raise Undefined("division by zero", exact=True)
        return 1 / value

    return inverse


def _real_only(f: Callable[[np.ndarray], np.ndarray], name: str) -> Callable[[np.ndarray], np.ndarray]:
    def apply(x: np.ndarray) -> np.ndarray:
        if np.any(x.imag != 0):
            raise Undefined(f"{name} of a complex number")
        return f(x.real).astype(np.complex128)

    return apply


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return np.asarray(erf(x), dtype=np.complex128)


_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "cot": _reciprocal(np.tan),
    "sec": _reciprocal(np.cos),
    "csc": _reciprocal(np.sin),
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": _log,
    "ln": _log,
    "sqrt": np.sqrt,
    "floor": _real_only(np.floor, "floor"),
    "ceil": _real_only(np.ceil, "ceil"),
    "sign": _real_only(np.sign, "sign"),
    "erf": _erf,
    "abs": lambda x: np.abs(x).astype(np.complex128),
    "sigma": _logistic,
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
