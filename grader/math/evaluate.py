"""Numeric evaluation of expression trees, at one point or for a batch of points, with hard size guards.

Why numeric first: evaluating both answers at random points of the declared domains decides
most questions in microseconds and gives a concrete counterexample when they differ, and random
matrices of the declared shapes respect that matrix products do not commute. Why batches: a
Monte Carlo expectation over dropout masks needs thousands of evaluations per step and an ODE
solver calls a vector field thousands of times; one walk of the tree over numpy arrays with a
leading sample axis makes both affordable.

There is one evaluator, :class:`BatchEvaluator`, so a derivation step, a simulated flow and a
final answer are judged by the same rules; :class:`Evaluator` is its front for one point (the
values of ``grader.math.values``: ``complex``, :class:`Mat`, :class:`Scaling`). The rules: named
dimensions must conform by name, a 1×1 matrix acts as a scalar next to scalars, ``I`` takes the
size of the matrix it meets, functions act entrywise on matrices, a square root of a negative
number is a complex value (and the evaluator records that a real input left the reals), and a
real ``∞`` is a value only at one point (``∞ = ∞``), never inside a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import numpy.random  # loaded now: a sandboxed child may lack the memory to map it later

from grader.math import calculus
from grader.math.calculus import AtMany, AtOne
from grader.math.elementary import LIBRARY_KERNELS, SCALAR_KERNELS, Kernel, gamma_of, log_of, overflows
from grader.math.library import canonical as library_name
from grader.math.render import describe, dims_text, format_value, pretty_name
from grader.math.sampling import (
    IMAGINARY_UNIT,
    MAX_MATRIX_DIM,
    functions_to_sample,
    implicit_indices,
    is_identity_name,
    matrix_context,
    names_to_sample,
    sample_assignment,
    sample_point,
    sample_scalar,
    summation_bounds,
)
from grader.math.symbols import ConstantSymbol, FunctionSymbol, MatrixSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    Index,
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
    walk,
)
from grader.math.values import (
    BMat,
    BScaling,
    BValue,
    Data,
    EvalError,
    FreeIndex,
    Mat,
    NotEvaluable,
    RandomFunction,
    Sample,
    Scaling,
    ShapeError,
    TooLarge,
    Undefined,
    Value,
    as_batch,
    at_point,
    batch_size,
    entries,
    kind_text,
    to_batch,
)

__all__ = [
    "IMAGINARY_UNIT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FACTORIAL",
    "MAX_MATRIX_DIM",
    "MAX_NODES",
    "MAX_SUM_TERMS",
    "BMat",
    "BScaling",
    "BValue",
    "BatchEvaluator",
    "Data",
    "DensityFn",
    "EvalError",
    "Evaluator",
    "FreeIndex",
    "Mat",
    "NotEvaluable",
    "RandomFunction",
    "Sample",
    "Scaling",
    "ShapeError",
    "TooLarge",
    "Undefined",
    "Value",
    "as_batch",
    "batch_size",
    "check_size",
    "describe",
    "dims_text",
    "entries",
    "evaluate",
    "expand_plus_minus",
    "format_value",
    "functions_to_sample",
    "is_identity_name",
    "kind_text",
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
MAX_NODES = 20_000
MAX_DEPTH = 200
MAX_SUM_TERMS = 1000
MAX_PLUS_MINUS = 6
#: tree nodes one evaluation may visit (calculus revisits its body): beyond, the work is refused
MAX_VISITS = 2_000_000
_SINGULAR_COND = 1e12
_CONSTANTS: dict[str, complex] = {"pi": complex(math.pi), "e": complex(math.e), "i": 1j, "inf": complex(math.inf)}

#: a density: values of the pdf at an array of points (same shape out)
DensityFn = Callable[[np.ndarray], np.ndarray]


# ---------------------------------------------------------------------------------------------
# Tree guards


def check_size(*trees: Node) -> None:
    """Raise TooLarge for trees beyond the node or depth limits (before any evaluation)."""
    total = 0
    for tree in trees:
        stack: list[tuple[Node, int]] = [(tree, 1)]
        while stack:
            node, depth = stack.pop()
            total += 1
            if total > MAX_NODES:
                raise TooLarge(f"formula too large (more than {MAX_NODES} parts)")
            if depth > MAX_DEPTH:
                raise TooLarge(f"formula nested too deeply (more than {MAX_DEPTH} levels)")
            stack.extend((child, depth + 1) for child in children(node))


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
            minus: list[Node] = [Neg(r) for r in rights]
            if left is None:
                return rights + minus
            out: list[Node] = []
            for lhs in _expand(left):
                out.extend(Add((lhs, r)) for r in rights)
                out.extend(Add((lhs, m)) for m in minus)
            return out
        case _:
            kids = children(node)
            if not kids or not any(isinstance(n, PlusMinus) for k in kids for n in walk(k)):
                return [node]
            combos: list[tuple[Node, ...]] = [()]
            for options in (_expand(k) for k in kids):
                combos = [c + (o,) for c in combos for o in options]
            return [rebuild(node, combo) for combo in combos]


# ---------------------------------------------------------------------------------------------
# One point


def evaluate(node: Node, values: Mapping[str, Sample], symbols: SymbolTable | None = None) -> Value:
    """Evaluate ``node`` with ``values`` for its free symbols; raises an :class:`EvalError` subclass."""
    table = symbols or SymbolTable()
    check_size(node)
    return Evaluator(table, values, in_matrix_context=matrix_context([node], table)).eval(node)


class Evaluator:
    """Evaluates trees at one assignment; ``left_reals`` records a real input giving a non-real result.

    That flag lets the comparison ignore points outside the real domain of one answer (``log x``
    at ``x < 0``) instead of calling them counterexamples. Callers check sizes first
    (:func:`check_size`); this front adds nothing to the batch evaluator's rules.
    """

    def __init__(self, symbols: SymbolTable, values: Mapping[str, Sample], *, in_matrix_context: bool) -> None:
        batched: dict[str, BValue | Data | RandomFunction] = {
            name: value if isinstance(value, RandomFunction | Data) else to_batch(value) for name, value in values.items()
        }
        self._batch = BatchEvaluator(symbols, batched, in_matrix_context=in_matrix_context, at_one_point=True)

    @property
    def left_reals(self) -> bool:
        return self._batch.left_reals

    def eval(self, node: Node) -> Value:
        return at_point(self._batch.eval(node))


# ---------------------------------------------------------------------------------------------
# The evaluator


class BatchEvaluator:
    """Evaluates trees for a batch of assignments at once.

    ``values`` maps symbol names to batched values (or sample data, or random functions);
    ``densities`` maps declared density names to their pdf, used for calls ``p_1(x)`` anywhere
    and for a bare ``p_1`` when ``point`` (the integration variable's values) is set.
    ``left_reals`` records a real input giving a non-real value (``log`` of a negative number),
    which callers treat as "outside the domain here". ``at_one_point`` (the :class:`Evaluator`
    front) lets a real ``∞`` be a value and leaves size checks to the caller.
    """

    def __init__(
        self,
        symbols: SymbolTable,
        values: Mapping[str, BValue | Data | RandomFunction],
        *,
        in_matrix_context: bool,
        densities: Mapping[str, DensityFn] | None = None,
        point: np.ndarray | None = None,
        at_one_point: bool = False,
    ) -> None:
        self.symbols = symbols
        self.values: dict[str, BValue | Data | RandomFunction] = dict(values)
        self.in_matrix_context = in_matrix_context
        self.densities = dict(densities or {})
        self.point = point
        self.at_one_point = at_one_point
        self.left_reals = False
        self._sized: dict[int, Node] = {}
        self._visits = [0]  # shared with the evaluators of definitions' bodies

    def eval(self, node: Node) -> BValue:
        """The value of ``node`` for the whole batch; trees beyond the size limits are refused first."""
        if not self.at_one_point and id(node) not in self._sized:
            check_size(node)
            self._sized[id(node)] = node  # kept alive, so the id cannot be reused by another tree
        self._visits[0] = 0
        try:
            with np.errstate(all="ignore"):
                value = self._eval(node)
        except RecursionError:
            raise TooLarge("formula nested too deeply") from None
        except (ZeroDivisionError, FloatingPointError) as error:
            raise Undefined(f"division by zero ({error})", exact=True) from None
        except OverflowError:
            raise Undefined("a number overflowed") from None
        except np.linalg.LinAlgError as error:
            raise Undefined(f"a matrix is singular ({error})", exact=True) from None
        except (ValueError, ArithmeticError) as error:
            raise Undefined(f"not defined here ({error})") from None
        return self._finite(value)

    def _eval(self, node: Node) -> BValue:
        self._visits[0] += 1
        if self._visits[0] > MAX_VISITS:
            raise TooLarge(f"the expression needs too much work to evaluate (more than {MAX_VISITS:,} steps)")
        value = self._eval_node(node)
        if isinstance(value, np.ndarray) and np.any(np.signbit(value.imag) & (value.imag == 0)):
            # 1/(x + 0j) has a -0j part that would flip sqrt/log to the other side of the branch cut
            value = value.copy()
            value.imag[value.imag == 0] = 0.0
        return value

    def _eval_node(self, node: Node) -> BValue:
        match node:
            case Num(text):
                return as_batch(_number(text))
            case Const(name):
                return as_batch(_CONSTANTS[name])
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
                return self._factorial(self._eval(arg))
            case Index(name, index):
                return self._index(name, index)
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

    def _finite(self, value: BValue) -> BValue:
        if isinstance(value, np.ndarray):
            if np.all(np.isfinite(value)):
                return value
            if self.at_one_point and np.all(np.isinf(value.real) & (value.imag == 0)):
                return value  # ±∞ stays a value: "∞" can equal "∞"
            raise Undefined("the value is not a finite number")
        array = value.a if isinstance(value, BMat) else value.c
        if not np.all(np.isfinite(array)):
            raise Undefined("a matrix entry is not a finite number" if isinstance(value, BMat) else "the value is not a finite number")
        return value

    # -- leaves ---------------------------------------------------------------------------
    def _symbol(self, name: str) -> BValue:
        value = self.values.get(name)
        if isinstance(value, Data):
            raise NotEvaluable(f"{pretty_name(name)} is a sample; write {pretty_name(name)}_i inside a sum")
        if value is not None and not isinstance(value, RandomFunction):
            return value
        if name in self.densities:
            if self.point is None:
                raise NotEvaluable(f"the density {pretty_name(name)} is used outside an integral or expectation")
            return self._density(name, self.point)
        decl = self.symbols.get(name)
        if isinstance(decl, MatrixSymbol) and decl.structure == "identity":
            rows, cols = (self.symbols.size(d) for d in decl.shape)
            if max(rows, cols) > MAX_MATRIX_DIM:
                raise TooLarge(
                    f"{name} is {rows}×{cols}; matrices above {MAX_MATRIX_DIM} rows or columns are not evaluated"
                )
            return BMat(np.eye(rows, cols, dtype=np.complex128)[None], (decl.shape[0], decl.shape[1]))
        if decl is None and self.in_matrix_context and is_identity_name(name):
            return BScaling(as_batch(1))
        if decl is None and name == IMAGINARY_UNIT:
            return as_batch(1j)
        if isinstance(decl, ConstantSymbol):
            return self._constant(name, decl)
        if isinstance(decl, FunctionSymbol):
            raise NotEvaluable(f"the function {pretty_name(name)} is used without an argument")
        raise NotEvaluable(f"no value for {pretty_name(name)}")

    def _constant(self, name: str, decl: ConstantSymbol) -> BValue:
        tree = _definition_tree(decl.value)
        if isinstance(tree, str):
            raise NotEvaluable(f"the rubric's value of {pretty_name(name)} does not parse: {tree}")
        if any(isinstance(n, Sym) and n.name == name for n in walk(tree)):
            raise NotEvaluable(f"the rubric's value of {pretty_name(name)} refers to itself")
        return BatchEvaluator(SymbolTable(), {}, in_matrix_context=False, at_one_point=self.at_one_point)._eval(tree)

    def _index(self, name: str, index: Node) -> np.ndarray:
        """``x_i``: the i-th observation (1-based) of the sample ``x``; ``i`` must have a value."""
        data = self.values.get(name)
        if not isinstance(data, Data):
            raise NotEvaluable(f"no values for the sample {pretty_name(name)}")
        if isinstance(index, Sym) and index.name not in self.values:
            written = describe(Index(name, index))
            raise FreeIndex(f"{written} outside a sum over {index.name} is not a number")
        k = self._integer(self._eval(index), f"the index of {pretty_name(name)}")
        if not 1 <= k <= data.length:
            raise ShapeError(
                f"{describe(Index(name, index))} is outside the sample {pretty_name(name)}_1, …, "
                f"{pretty_name(name)}_n (here n = {data.length})"
            )
        return data.a[:, k - 1]

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

    def _same_shape(self, a: tuple[str | int, str | int], b: tuple[str | int, str | int]) -> bool:
        return self._conform(a[0], b[0]) and self._conform(a[1], b[1])

    def _conform(self, a: str | int, b: str | int) -> bool:
        """Named dimensions must match by name (``n`` is not ``d`` even if sizes coincide) unless
        the rubric fixed both sizes explicitly; a number matches a name of that size."""
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
            return BScaling(_times(left.c, right)) if isinstance(right, np.ndarray) else _scale(right, left.c)
        if isinstance(right, BScaling):
            return BScaling(_times(right.c, left)) if isinstance(left, np.ndarray) else _scale(left, right.c)
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
        if (
            isinstance(base, BMat)
            and isinstance(exp_node, Sym)
            and exp_node.name in ("T", "top")
            and self.symbols.get(exp_node.name) is None
        ):  # M^T read as a power by a lenient parser
            return BMat(np.swapaxes(base.a, -1, -2), (base.dims[1], base.dims[0]))
        exp = self._scalar(self._eval(exp_node), "an exponent")
        if np.any(np.abs(exp) > MAX_EXPONENT) and _overflows(base, exp):
            largest = exp[int(np.argmax(np.abs(exp)))]
            raise TooLarge(f"an exponent is too large ({format_value(largest)}; the limit is {MAX_EXPONENT})")
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
        b, e = base.real, exp.real
        plain = real & ((b > 0) | (e == np.round(e)))
        if np.any(plain & (b == 0) & (e < 0)):
            raise Undefined("division by zero (0 to a negative power)", exact=True)
        zero = ~plain & (base == 0)
        if np.any(zero & (e <= 0)):
            raise Undefined("0 to a non-positive or complex power", exact=True)
        out = np.zeros(base.shape, dtype=np.complex128)
        out[plain] = np.power(b[plain], e[plain])
        if np.any(np.isinf(out[plain]) & np.isfinite(b[plain])):
            raise Undefined("a number overflowed")
        other = ~plain & ~zero
        if np.any(other):
            out[other] = np.exp(exp[other] * np.log(base[other]))
            if np.any(other & real):
                self.left_reals = True
        return out

    def _pow_matrix(self, base: BMat, exp: np.ndarray, base_node: Node) -> BMat:
        rows, cols = base.shape
        if rows != cols:
            raise ShapeError(
                f"{describe(base_node, 40)} is {dims_text(base.dims)}, not square, so it has no powers or inverse"
            )
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
            raise NotEvaluable(
                f"a fractional power of {describe(base_node, 40)} (only diagonal matrices are supported)"
            )
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
            return _times(left, right)
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
        if rows == cols:  # |A| of a square matrix: the determinant (|Σ| in a Gaussian density)
            return as_batch(np.linalg.det(a))
        raise NotEvaluable(f"|{describe(arg, 30)}| of a {dims_text(value.dims)} matrix is ambiguous")

    def _factorial(self, value: BValue) -> np.ndarray:
        x = self._scalar(value, "a factorial")
        if np.any(x.imag != 0):
            raise NotEvaluable("the factorial of a complex number")
        n = x.real
        if np.any(n > MAX_FACTORIAL):
            raise TooLarge(
                f"a factorial of {format_value(float(np.max(n)))} is too large (the limit is {MAX_FACTORIAL}!)"
            )
        if np.any((n < 0) & (n == np.round(n))):
            raise Undefined("the factorial of a negative integer", exact=True)
        return gamma_of(as_batch(n + 1))

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
        uninterpreted = self.values.get(func)
        if isinstance(uninterpreted, RandomFunction):
            if not args:
                raise NotEvaluable(f"{pretty_name(func)} needs an argument")
            return uninterpreted.batch([self._eval(a) for a in args])
        if func in _MATRIX_FUNCTIONS:
            return _MATRIX_FUNCTIONS[func](self, [self._eval(a) for a in args], args)
        if func == "mean" and len(args) == 1 and isinstance(args[0], Sym) and isinstance(self.values.get(args[0].name), Data):
            data = self.values[args[0].name]
            assert isinstance(data, Data)
            return data.a.mean(axis=-1)
        if func == "diff" and args:
            return self._derivative(args)
        if func == "O":
            raise NotEvaluable("an order term O(…) is not a number: an expansion is compared up to its order")
        if func == "grad":
            raise NotEvaluable("a gradient ∇ cannot be evaluated numerically")
        if func in ("Var", "Cov"):
            raise NotEvaluable(f"{func}[…] cannot be evaluated numerically")
        if func == "log" and len(args) == 2:
            x, base = (self._scalar(self._eval(a), "a logarithm") for a in args)
            return self._apply("log", log_of, x) / self._apply("log", log_of, base)
        if func == "root" and len(args) == 2:
            x, n = (self._scalar(self._eval(a), "a root") for a in args)
            return self._root(x, n)
        if func in ("max", "min") and len(args) >= 2:
            xs = [self._real(self._eval(a), func) for a in args]
            stacked = np.stack(np.broadcast_arrays(*xs))
            return as_batch(stacked.max(axis=0) if func == "max" else stacked.min(axis=0))
        if func == "atan2" and len(args) == 2:
            y, x = (self._real(self._eval(a), "atan2") for a in args)
            if np.any((y == 0) & (x == 0)):
                raise Undefined("atan2(0, 0)", exact=True)
            return as_batch(np.arctan2(y, x))
        if func in ("binom", "binomial") and len(args) == 2:
            return self._binomial(*(self._eval(a) for a in args))
        kernel = SCALAR_KERNELS.get(func)
        if kernel is None:
            if isinstance(decl, FunctionSymbol):
                raise NotEvaluable(f"the function {pretty_name(func)} has no definition in the rubric")
            raise NotEvaluable(f"the function {pretty_name(func)} is not known")
        if len(args) != 1:
            raise NotEvaluable(f"{pretty_name(func)} takes one argument, not {len(args)}")
        value = self._eval(args[0])
        if isinstance(value, BMat):  # functions of vectors act entrywise (σ(Xw))
            return BMat(self._apply(func, kernel, value.a), value.dims)
        return self._apply(func, kernel, self._scalar(value, pretty_name(func)))

    def _apply(self, name: str, kernel: Kernel, x: np.ndarray) -> np.ndarray:
        out = np.asarray(kernel(x), dtype=np.complex128)
        if overflows(name, x, out):
            raise Undefined("a number overflowed")
        if np.any((x.imag == 0) & (out.imag != 0)):
            self.left_reals = True
        return out

    def _root(self, x: np.ndarray, n: np.ndarray) -> np.ndarray:
        if np.any(n == 0):
            raise Undefined("a 0th root", exact=True)
        x, n = np.broadcast_arrays(x, n)
        odd = (x.imag == 0) & (n.imag == 0) & (x.real < 0) & (n.real == np.round(n.real)) & (np.round(n.real) % 2 == 1)
        out = self._pow_scalar(np.where(odd, -x, x), 1 / n)
        return np.where(odd, -out, out)

    def _binomial(self, n_value: BValue, k_value: BValue) -> np.ndarray:
        n = self._scalar(n_value, "a binomial coefficient")
        k = self._scalar(k_value, "a binomial coefficient")
        if np.any(n.imag != 0) or np.any(k.imag != 0):
            raise NotEvaluable("a binomial coefficient of complex numbers")
        if np.any(np.abs(n.real) > MAX_FACTORIAL):
            top = float(np.max(np.abs(n.real)))
            raise TooLarge(
                f"a binomial coefficient with {format_value(top)} on top is too large "
                f"(the limit is {MAX_FACTORIAL}; it would have up to {top * math.log10(2):.3g} digits)"
            )
        n_real, k_real = np.broadcast_arrays(n.real, k.real)
        out = np.empty(n_real.shape, dtype=np.complex128)
        for index, (top, bottom) in enumerate(zip(n_real.ravel(), k_real.ravel(), strict=True)):
            out.flat[index] = _binom(float(top), float(bottom))
        return out

    def _defined(self, func: str, decl: FunctionSymbol, args: tuple[Node, ...]) -> BValue:
        assert decl.definition is not None
        params = ("u", "v", "w")[: max(1, len(args))]
        if len(args) != decl.arity or len(args) > len(params):
            raise NotEvaluable(f"{pretty_name(func)} takes {decl.arity} argument(s), not {len(args)}")
        arguments = [self._eval(arg) for arg in args]
        kernel = LIBRARY_KERNELS.get(library_name(decl.library)) if decl.library else None
        if kernel is not None:  # a numerically careful form of the same definition
            (value,) = arguments
            if isinstance(value, BMat):
                return BMat(self._apply(func, kernel, value.a), value.dims)
            return self._apply(func, kernel, self._scalar(value, pretty_name(func)))
        body = _definition_tree(decl.definition)
        if isinstance(body, str):
            raise NotEvaluable(f"the rubric's definition of {pretty_name(func)} does not parse: {body}")
        if len(arguments) == 1 and isinstance(arguments[0], BMat):  # entrywise on a vector (σ(Xw))
            matrix = arguments[0]
            out = np.empty(np.broadcast_shapes(matrix.a.shape, (1, *matrix.shape)), dtype=np.complex128)
            for (i, j), _ in np.ndenumerate(matrix.a[0]):
                entry = self._inner(body, {"u": matrix.a[:, i, j]})
                out[:, i, j] = self._scalar(entry, pretty_name(func))
            return BMat(out, matrix.dims)
        return self._inner(body, dict(zip(params, arguments, strict=False)))

    def _inner(self, body: Node, bound: Mapping[str, BValue]) -> BValue:
        """A definition's body with its parameters bound, by the same rules."""
        inner = BatchEvaluator(
            self.symbols,
            {**self.values, **bound},
            in_matrix_context=self.in_matrix_context,
            densities=self.densities,
            point=self.point,
            at_one_point=self.at_one_point,
        )
        inner._visits = self._visits
        value = inner._eval(body)
        self.left_reals = self.left_reals or inner.left_reals
        return value

    # -- big operators --------------------------------------------------------------------
    def _operator(self, name: str, body: Node, sub: Node | None, sup: Node | None) -> BValue:
        if name in ("sum", "prod"):
            return self._sum(name, body, sub, sup)
        if name == "int":
            return self._integral(body, sub, sup)
        if name == "lim":
            return self._limit(body, sub)
        label = {"E": "an expectation E[…]"}.get(name, f"{name}(…)")
        raise NotEvaluable(f"{label} cannot be evaluated numerically")

    def _sum(self, name: str, body: Node, sub: Node | None, sup: Node | None) -> BValue:
        """``∑_{k=1}^n``, ``∑_{k=0}^∞`` (numerically), and over a sample: ``∑_i x_i``, ``∑ x_i``."""
        if isinstance(sub, Relation) and sub.ops == ("=",) and len(sub.items) == 2 and isinstance(sub.items[0], Sym):
            if sup is None:
                raise NotEvaluable(f"a {name} without an upper bound cannot be evaluated")
            index = sub.items[0].name
            lo = self._integer(self._eval(sub.items[1]), f"the lower bound of a {name}")
            if isinstance(sup, Const) and sup.name == "inf":
                if name != "sum":
                    raise NotEvaluable("an infinite product cannot be evaluated")
                return self._series(body, index, lo)
            hi = self._integer(self._eval(sup), f"the upper bound of a {name}")
        elif sup is None and isinstance(sub, Sym | type(None)):
            indices = {sub.name} if isinstance(sub, Sym) else set(implicit_indices(body))
            if len(indices) != 1:
                raise NotEvaluable(f"a {name} without bounds must run over one sample index, like \\sum_i x_i")
            index = indices.pop()
            lo, hi = 1, self._sample_length(body, index, name)
        else:
            raise NotEvaluable(f"a {name} without explicit integer bounds cannot be evaluated")
        if hi - lo + 1 > MAX_SUM_TERMS:
            raise TooLarge(
                f"a {name} with {hi - lo + 1} terms is too large to evaluate (the limit is {MAX_SUM_TERMS})"
            )
        total: BValue = as_batch(0 if name == "sum" else 1)
        with self._bound(index):
            for k in range(lo, hi + 1):
                self.values[index] = as_batch(k)
                term = self._eval(body)
                total = (
                    self._add([total, term], (body, body)) if name == "sum" else self._mul(total, term, (body,), body)
                )
        return total

    def _sample_length(self, body: Node, index: str, name: str) -> int:
        """How far ``∑_i`` runs: the size of the samples ``x_i`` reads (they must agree)."""
        lengths = set()
        for node in walk(body):
            if isinstance(node, Index) and node.index == Sym(index):
                data = self.values.get(node.name)
                if not isinstance(data, Data):
                    raise NotEvaluable(f"no values for the sample {pretty_name(node.name)}")
                lengths.add(data.length)
        if not lengths:
            raise NotEvaluable(f"a {name} over {index} without bounds needs a sample indexed by {index}, like x_{index}")
        if len(lengths) > 1:
            raise ShapeError(f"the samples summed over {index} have different sizes")
        return lengths.pop()

    @contextmanager
    def _bound(self, name: str) -> Iterator[None]:
        """Bind ``name`` inside the block (a summation index, an integration variable) and restore it."""
        saved = self.values.get(name)
        try:
            yield
        finally:
            if saved is None:
                self.values.pop(name, None)
            else:
                self.values[name] = saved

    def _along(self, body: Node, variable: str, what: str) -> tuple[AtOne, AtMany]:
        """``body`` as a function of ``variable``: at one value (the whole batch), and at many at once."""

        def at_one(t: float) -> np.ndarray:
            with self._bound(variable):
                self.values[variable] = as_batch(t)
                return self._numbers(self._eval(body), what)

        def at_many(ts: np.ndarray) -> np.ndarray:
            """Shape (len(ts), B): one walk of the tree when the rest is one point, else one per value."""
            if self._batch_size() == 1:
                with self._bound(variable):
                    self.values[variable] = as_batch(ts)
                    values = self._numbers(self._eval(body), what)
                return np.broadcast_to(values, (ts.size,)).reshape(ts.size, 1)
            return np.stack([at_one(float(t)) for t in ts])

        return at_one, at_many

    def _batch_size(self) -> int:
        sizes = [batch_size(v) for v in self.values.values() if isinstance(v, np.ndarray | BMat | BScaling)]
        return max(sizes, default=1)

    def _numbers(self, value: BValue, what: str) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        raise NotEvaluable(f"{what} of {kind_text(value)} is not evaluated, only of numbers")

    def _series(self, body: Node, index: str, start: int) -> np.ndarray:
        _no_nested_quadrature(body, "an infinite series")
        if self._batch_size() != 1:
            raise NotEvaluable("an infinite series is evaluated at one point at a time, not in a simulation")
        _, at_many = self._along(body, index, "an infinite series")
        return calculus.series(at_many, start)

    def _integral(self, body: Node, sub: Node | None, sup: Node | None) -> np.ndarray:
        if not (isinstance(sub, Relation) and len(sub.items) == 2 and isinstance(sub.items[0], Sym) and sup is not None):
            raise NotEvaluable("an integral without bounds (an antiderivative) has no value; compare it up to a constant")
        _no_nested_quadrature(body, "an integral")
        variable = sub.items[0].name
        low = self._real_number(self._eval(sub.items[1]), "the lower bound of an integral")
        high = self._real_number(self._eval(sup), "the upper bound of an integral")
        _, at_many = self._along(body, variable, "an integral")
        return calculus.integral(at_many, low, high)

    def _limit(self, body: Node, sub: Node | None) -> BValue:
        if not (isinstance(sub, Seq) and len(sub.items) == 2 and isinstance(sub.items[0], Sym)):
            raise NotEvaluable("a limit needs its variable and target, like \\lim_{x \\to 0}")
        variable = sub.items[0].name
        target = self._real_number(self._eval(sub.items[1]), "the target of a limit")
        at_one, _ = self._along(body, variable, "a limit")
        return calculus.limit(at_one, target)

    def _derivative(self, args: tuple[Node, ...]) -> BValue:
        """``diff(f, x, y, …)``: the partial derivatives in order, each variable a scalar with a value."""
        body, variables = args[0], args[1:]
        if not variables or not all(isinstance(v, Sym) for v in variables):
            raise NotEvaluable("a derivative needs the variable it differentiates by, like \\frac{d}{dx}")
        if len(variables) + _derivative_order(body) > calculus.MAX_DERIVATIVE_ORDER:
            raise NotEvaluable(f"derivatives of order above {calculus.MAX_DERIVATIVE_ORDER} are not evaluated")
        return self._partial(body, [v.name for v in variables if isinstance(v, Sym)])

    def _partial(self, body: Node, variables: list[str]) -> np.ndarray:
        name, rest = variables[-1], variables[:-1]
        current = self.values.get(name)
        if not isinstance(current, np.ndarray) or np.any(current.imag != 0):
            raise NotEvaluable(f"the derivative by {pretty_name(name)} needs a real value of {pretty_name(name)}")

        def at(t: np.ndarray) -> np.ndarray:
            with self._bound(name):
                self.values[name] = as_batch(t)
                if rest:
                    return self._partial(body, rest)
                return self._numbers(self._eval(body), "a derivative")

        return calculus.derivative(at, current.real.copy())

    def _real_number(self, value: BValue, what: str) -> float:
        x = self._scalar(value, what)
        if np.any(x != x[0]) or x[0].imag != 0 or math.isnan(x[0].real):
            raise NotEvaluable(f"{what} must be one real number")
        return float(x[0].real)

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
        if np.any(x != x[0]) or x[0].imag != 0 or not math.isfinite(x[0].real) or abs(x[0].real - round(x[0].real)) > 1e-9:
            raise NotEvaluable(f"{what} is not an integer")
        if abs(x[0].real) > 10**9:
            raise TooLarge(f"{what} is too large")
        return int(round(x[0].real))


# ---------------------------------------------------------------------------------------------
# Helpers and the matrix function table


def _number(text: str) -> complex:
    cleaned = text.replace(",", "").replace(" ", "").replace("{}", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise NotEvaluable(f"the number {text!r} cannot be read") from None
    if math.isinf(value):
        raise TooLarge(f"the number {text[:20]}… is too large to evaluate")
    return complex(value)


def _overflows(base: BValue, exp: np.ndarray) -> bool:
    """A large exponent is refused when the power leaves double precision upwards (2^{10^{30}}); a
    power that only underflows (e^{-2000}) or stays on the unit circle ((-1)^{5000}) is a value."""
    if not isinstance(base, np.ndarray):
        return True  # a matrix to a huge power: refused before computing
    magnitude = np.abs(base)
    with np.errstate(all="ignore"):
        logs = exp.real * np.log(np.where(magnitude == 0, 1.0, magnitude)) - exp.imag * np.angle(base)
    return bool(np.any((logs > 700) | ~np.isfinite(logs)))


def _derivative_order(body: Node) -> int:
    """The highest total order of the derivatives nested in ``body`` (each costs 8 evaluations per order)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(body, 0)]
    while stack:
        node, order = stack.pop()
        if isinstance(node, Call) and node.func == "diff":
            order += max(1, len(node.args) - 1)
            deepest = max(deepest, order)
        stack.extend((child, order) for child in children(node))
    return deepest


def _no_nested_quadrature(body: Node, what: str) -> None:
    """An integral or series inside another multiplies thousands of evaluations by thousands: refused."""
    for node in walk(body):
        if isinstance(node, Operator) and (
            node.name == "int" or (node.name == "sum" and isinstance(node.sup, Const) and node.sup.name == "inf")
        ):
            raise TooLarge(f"{what} with another integral or infinite series inside is not evaluated")


def _times(a: np.ndarray, b: np.ndarray | complex | float) -> np.ndarray:
    """``a·b``, keeping real products real: ``2·∞`` is ``∞`` (complex multiplication gives nan)."""
    out = np.asarray(a * b, dtype=np.complex128)
    if np.all(np.isfinite(out)):
        return out
    factor = np.asarray(b, dtype=np.complex128)
    real = (a.imag == 0) & (factor.imag == 0)
    return np.where(real, a.real * factor.real + 0j, out)


def _scale(value: BValue, factor: np.ndarray | complex | float) -> BValue:
    if isinstance(value, BMat):
        f = np.asarray(factor, dtype=np.complex128)
        return BMat(value.a * (f[:, None, None] if f.ndim else f), value.dims)
    if isinstance(value, BScaling):
        return BScaling(_times(value.c, factor))
    return _times(value, factor)


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


def _binom(n: float, k: float) -> complex:
    if n.is_integer() and k.is_integer() and n >= 0:
        return complex(math.comb(int(n), int(k))) if 0 <= k <= n else 0j
    return complex(math.gamma(n + 1) / (math.gamma(k + 1) * math.gamma(n - k + 1)))


def _square(values: list[BValue], nodes: tuple[Node, ...], name: str) -> BMat | np.ndarray:
    if len(values) != 1:
        raise NotEvaluable(f"{name} takes one argument")
    value = values[0]
    if isinstance(value, BScaling):
        raise NotEvaluable(f"{name} of an identity of unknown size")
    if isinstance(value, np.ndarray):
        return value
    rows, cols = value.shape
    if rows != cols:
        raise ShapeError(f"{name}({describe(nodes[0], 40)}) needs a square matrix, not {dims_text(value.dims)}")
    return value


def _diag(ev: BatchEvaluator, values: list[BValue], nodes: tuple[Node, ...]) -> BValue:
    if len(values) > 1:
        cells = np.stack(np.broadcast_arrays(*(ev._scalar(v, "an entry of diag(…)") for v in values)), axis=-1)
        return BMat(_diag_embed(cells), (len(values), len(values)))
    (value,) = values
    if not isinstance(value, BMat):
        return value
    rows, cols = value.shape
    if rows == 1 or cols == 1:
        dim = value.dims[0] if cols == 1 else value.dims[1]
        return BMat(_diag_embed(value.a.reshape(value.a.shape[0], -1)), (dim, dim))
    if rows != cols:
        raise ShapeError(
            f"diag({describe(nodes[0], 40)}) needs a square matrix or a vector, not {dims_text(value.dims)}"
        )
    return BMat(_diag_embed(np.diagonal(value.a, axis1=-2, axis2=-1)), value.dims)


def _trace(ev: BatchEvaluator, values: list[BValue], nodes: tuple[Node, ...]) -> BValue:
    value = _square(values, nodes, "tr")
    return as_batch(np.trace(value.a, axis1=-2, axis2=-1)) if isinstance(value, BMat) else value


def _det(ev: BatchEvaluator, values: list[BValue], nodes: tuple[Node, ...]) -> BValue:
    value = _square(values, nodes, "det")
    return as_batch(np.linalg.det(value.a)) if isinstance(value, BMat) else value


def _rank(ev: BatchEvaluator, values: list[BValue], nodes: tuple[Node, ...]) -> BValue:
    if len(values) != 1 or isinstance(values[0], BScaling):
        raise NotEvaluable("rank needs one matrix of known size")
    value = values[0]
    if isinstance(value, np.ndarray):
        return as_batch((value != 0).astype(float))
    return as_batch(np.linalg.matrix_rank(value.a).astype(float))


_MATRIX_FUNCTIONS: dict[str, Callable[[BatchEvaluator, list[BValue], tuple[Node, ...]], BValue]] = {
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

