"""Sealed math parts: the reference is in the file only inside boxes that a matching answer opens.

A sealed rubric goes to students, so it must check an answer without giving the answer away.
Each accepted form and each recognised mistake is a *box*: the form itself (its LaTeX, or for a
simulated Jacobian its values) and its feedback, encrypted under a key that only an answer
matching the form can derive. The key is one slow, memory-hard scrypt over the *whole* answer:
its values at every stored point, every matrix entry and every item of a list, each quantised to
a cell. Nothing is hashed one value or one entry at a time, so a search must guess whole answers,
and each guess costs a full KDF evaluation.

The cells are built so that the open rubric's tolerance decides: at sealing time the grid of each
stored point is shifted (at random, among the shifts that work) so that every form's *tolerance
disc* (all values the open comparison accepts) lies inside one cell, and a cell is ``width``
tolerance radii wide. So any answer within tolerance at the stored points derives the form's key.
Once a box opens, the answer is compared with the form by the open comparison itself
(:func:`grader.checking.mathcheck.compare_with_reference`): the verdict, the tolerance and the
feedback are the open rubric's, by construction. An answer that opens no box differs from every
form by more than the tolerance at some stored point: it is wrong, and the feedback says so with
the student's own value, never the expected one. Where the student's value cannot be computed
reliably at a stored point (undefined, outside the real numbers, rounding noise) the part is
undecided instead of wrong.

Functions the rubric declares without a definition (``p_1(x)``) get random stand-ins stored in
the part, used only to place the answer in its cells: an answer right for arbitrary functions is
right for these. References that cannot be evaluated (equations) are matched as the exact parsed
formula (the same scrypt over the tree), and anything else is left for the instructor.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from grader._internal.sandbox import Finished, run_bounded
from grader._internal.secretbox import KdfParams, derive_key, nonce_for, open_box, seal_box
from grader.answers.extract import extract
from grader.answers.models import Answer
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.mathcheck import Compare, Judge, check_math_with, compare_with_reference, target_names
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.equivalence import (
    EXACT_SCREEN_ATOL,
    EXACT_SCREEN_RTOL,
    MATRIX_DRAWS,
    SCALAR_POINTS,
    Equivalence,
    Method,
    assigned_values,
    assignment_list,
    compare_with_values,
    exact_values,
    is_collection,
    is_relation_collection,
    items_of,
    kind_text,
    point_text,
    rounding_noise,
    undefined_detail,
    unwrap,
)
from grader.math.evaluate import (
    IMAGINARY_UNIT,
    EvalError,
    Evaluator,
    Mat,
    NotEvaluable,
    Scaling,
    ShapeError,
    TooLarge,
    Undefined,
    Value,
    dims_text,
    format_value,
    is_identity_name,
    matrix_context,
    names_to_sample,
    sample_assignment,
)
from grader.math.forms import has_order_term, without_order_terms
from grader.math.symbols import Domain, FunctionSymbol, MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.text import parse_text
from grader.math.tree import Call, Interval, MatrixLit, Node, ParseError, Relation, Seq, walk
from grader.math.values import Data
from grader.rubric.parts import Mistake
from grader.rubric.sealed import Gate, JsonNumber, Layout, PointValue, SealedMathPart

KIND = "sealed-math"
#: A cell is at least this many tolerance radii wide; more when one shift must fit many values.
MIN_WIDTH = 16.0
SEAL_ATTEMPTS = 240
SHIFT_ATTEMPTS = 200
#: A constant's answer is also evaluated at this many draws of the student's own symbols.
CONSTANT_PROBES = 4
UNSEALED_REASON = "this part is checked when your instructor grades (it cannot be checked from a sealed rubric)"
_EXACT_BUDGET_S = 3.0

# ---------------------------------------------------------------------------------------------
# Points (stored in clear: they are random, not the answer)


def encode_number(z: complex) -> JsonNumber:
    return float(z.real) if z.imag == 0 else (float(z.real), float(z.imag))


def decode_number(x: JsonNumber) -> complex:
    return complex(x[0], x[1]) if isinstance(x, tuple | list) else complex(x)


def encode_point(point: Mapping[str, Value]) -> dict[str, PointValue]:
    out: dict[str, PointValue] = {}
    for name, value in sorted(point.items()):
        if isinstance(value, Mat):
            out[name] = PointValue(matrix=[[encode_number(complex(c)) for c in row] for row in value.a])
        elif isinstance(value, complex):
            out[name] = PointValue(number=encode_number(value))
        elif isinstance(value, Data):
            out[name] = PointValue(data=[encode_number(complex(c)) for c in value.a[0]])
    return out


def decode_point(stored: Mapping[str, PointValue], table: SymbolTable) -> dict[str, Value]:
    """Matrices get their declared (named) dimensions back, so shape messages read the same."""
    point: dict[str, Value] = {}
    for name, value in stored.items():
        if value.matrix is not None:
            array = np.array([[decode_number(c) for c in row] for row in value.matrix], dtype=np.complex128)
            decl = table.get(name)
            point[name] = Mat(array, (decl.shape[0], decl.shape[1]) if isinstance(decl, MatrixSymbol) else array.shape)
        elif value.number is not None:
            point[name] = decode_number(value.number)
        elif value.data is not None:
            point[name] = Data(np.array([[decode_number(c) for c in value.data]], dtype=np.complex128))  # type: ignore[assignment]
    return point


def values_only(assignment: Mapping[str, object]) -> dict[str, Value]:
    """What a stored point keeps: values and samples' observations (random functions are rebuilt from the part)."""
    return {name: value for name, value in assignment.items() if isinstance(value, complex | Mat | Scaling | Data)}  # type: ignore[misc]


def readable_point(point: dict[str, Value], table: SymbolTable) -> dict[str, Value]:
    """Scalars rounded to 2 significant digits (inside their domain): a point reads well ("at
    p = 0.21") and is a small exact rational, so an exact re-evaluation stays cheap."""
    out: dict[str, Value] = {}
    for name, value in point.items():
        if isinstance(value, complex):
            decl = table.get(name)
            domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else Domain()
            rounded = complex(float(f"{value.real:.2g}"), float(f"{value.imag:.2g}"))
            if domain.complex or (rounded.imag == 0 and domain.contains(rounded.real)):
                value = rounded
        out[name] = value
    return out


def seed_of(*labels: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(label) for label in labels).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# ---------------------------------------------------------------------------------------------
# Cells: the open tolerance, made a grid


@dataclass(frozen=True)
class Grid:
    """Cells in (modulus, angle): the modulus on a scale where every tolerance disc has the same
    width, ``u(m) = ln(1 + rtol·m/atol)/rtol``; the angle in as many sectors as that modulus
    allows. ``rtol = atol = 0`` (exact) uses the open comparison's screening tolerances."""

    rtol: float
    atol: float
    width: float

    @classmethod
    def of(cls, rtol: float, atol: float, width: float) -> Grid:
        if rtol == 0 and atol == 0:
            rtol, atol = EXACT_SCREEN_RTOL, EXACT_SCREEN_ATOL
        return cls(rtol, atol, width)

    @property
    def _rho(self) -> float:
        return self.rtol + 1e-14  # the open comparison's few ulps

    def radius(self, z: complex) -> float:
        """The largest distance from ``z`` at which the open comparison still accepts a value."""
        return (self.atol + self._rho * math.hypot(z.real, z.imag)) / (1 - self._rho) * (1 + 1e-9) + 1e-320

    def _u(self, m: float) -> float:
        if self.atol > 0 and self.rtol > 0:
            return math.log1p(self.rtol * m / self.atol) / self.rtol
        if self.rtol == 0:
            return m / self.atol
        return math.log(m) / self.rtol if m > 0 else -math.inf

    def _m(self, u: float) -> float:
        if self.atol > 0 and self.rtol > 0:
            return self.atol * math.expm1(min(self.rtol * u, 700.0)) / self.rtol
        if self.rtol == 0:
            return u * self.atol
        return math.exp(min(self.rtol * u, 700.0))

    def _ring(self, m: float, shift: float) -> int | None:
        u = self._u(m)
        return None if not math.isfinite(u) else math.floor(u / (2 * self.width) - shift)

    def _sectors(self, ring: int, shift: float) -> int:
        """How many angle sectors ring ``ring`` has: each at least ``width`` angular radii wide."""
        low = self._m((ring + shift) * 2 * self.width)
        if low <= 0:
            return 1
        ratio = (self.atol + self._rho * low) / ((1 - self._rho) * low) * (1 + 1e-9)
        if ratio >= 1:
            return 1
        sectors = int(2 * math.pi / (2 * self.width * math.asin(ratio)))
        return sectors if sectors >= 2 else 1

    def cell(self, z: complex, shift: tuple[float, float]) -> str:
        if not (math.isfinite(z.real) and math.isfinite(z.imag)):
            return "nan"
        m = math.hypot(z.real, z.imag)
        ring = self._ring(m, shift[0])
        if ring is None:
            return "zero"
        sectors = self._sectors(ring, shift[0])
        if sectors == 1:
            return f"{ring}"
        sector = math.floor(math.atan2(z.imag, z.real) * sectors / (2 * math.pi) - shift[1]) % sectors
        return f"{ring}.{sector}"

    def admits(self, z: complex, shift: tuple[float, float]) -> bool:
        """Whether every value the open comparison accepts for ``z`` falls in ``z``'s own cell."""
        m, t = math.hypot(z.real, z.imag), self.radius(z)
        if self.atol == 0 and m == 0:
            return True
        ring = self._ring(max(m - t, 0.0), shift[0])
        if ring is None or ring != self._ring(m + t, shift[0]):
            return False
        sectors = self._sectors(ring, shift[0])
        if sectors == 1:
            return True
        if t >= m:
            return False
        theta, spread = math.atan2(z.imag, z.real), math.asin(t / m)
        low = math.floor((theta - spread) * sectors / (2 * math.pi) - shift[1])
        return low == math.floor((theta + spread) * sectors / (2 * math.pi) - shift[1])


# ---------------------------------------------------------------------------------------------
# Reading an answer into values, by layout (the same for the reference at sealing and the student)


class Misfit(Exception):
    """The answer does not have the layout of the forms behind a gate; ``detail`` says how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _is_evaluable(tree: Node) -> bool:
    if isinstance(tree, Relation) or is_relation_collection(tree) or any(isinstance(n, Interval) for n in walk(tree)):
        return False
    if isinstance(tree, Seq) and tree.kind == "tuple":
        return all(_is_evaluable(unwrap(item)) for item in tree.items)
    if is_collection(tree):
        return not any(isinstance(item, Seq | MatrixLit) for item in items_of(tree))
    return True


def layout_of(tree: Node, point: Mapping[str, Value], table: SymbolTable) -> Layout:
    """The layout of a reference, from its structure and its value at ``point`` (raises EvalError)."""
    tree = unwrap(tree)
    if not _is_evaluable(tree):
        return Layout(form="formula")
    if isinstance(tree, Seq) and tree.kind == "tuple":
        return Layout(form="tuple", components=[layout_of(item, point, table) for item in tree.items])
    in_context = matrix_context([tree], table)
    if is_collection(tree):
        return Layout(form="items", as_set=isinstance(tree, Seq) and tree.kind == "set", matrix_context=in_context)
    value = Evaluator(table, dict(point), in_matrix_context=in_context).eval(tree)
    if isinstance(value, Mat):
        dims = (value.dims[0], value.dims[1])
        return Layout(form="value", shape=value.shape, dims=dims, matrix_context=in_context or isinstance(tree, MatrixLit))
    return Layout(form="value", identity=isinstance(value, Scaling), matrix_context=in_context)


def slot_count(layout: Layout) -> int:
    if layout.form == "tuple":
        return sum(slot_count(c) for c in layout.components)
    if layout.form == "value" and layout.shape is not None:
        return layout.shape[0] * layout.shape[1]
    return 1


@dataclass
class Reading:
    """An answer read at one point: one list of values per slot (a list slot holds all its items)."""

    slots: list[list[complex]] = field(default_factory=list)
    left_reals: bool = False


def read_answer(tree: Node, layout: Layout, point: Mapping[str, Value], table: SymbolTable) -> Reading:
    """Raises Misfit, or the evaluator's errors (Undefined, NotEvaluable, ShapeError)."""
    reading = Reading()
    _read(unwrap(tree), layout, dict(point), table, reading)
    return reading


def _as_value(tree: Node) -> Node:
    """``λ = …`` (or a chain ``x = 5 = 5.0``) read as its first value; the open comparison checks the rest."""
    if isinstance(tree, Relation):
        values = assigned_values(tree)
        if not values:
            raise Misfit("you wrote an equation or inequality, but the answer is an expression")
        return unwrap(values[0])
    return tree


def _read(tree: Node, layout: Layout, point: dict[str, Value], table: SymbolTable, out: Reading) -> None:
    tree = _as_value(tree)
    if layout.form == "tuple":
        listed = assignment_list(tree)
        items = listed if listed is not None else list(tree.items) if isinstance(tree, Seq) and tree.kind == "tuple" else [tree]
        if len(items) != len(layout.components):
            raise Misfit(f"yours has {len(items)} components, but the answer has {len(layout.components)}")
        for item, component in zip(items, layout.components, strict=True):
            _read(unwrap(item), component, point, table, out)
        return
    in_context = layout.matrix_context or matrix_context([tree], table)
    if layout.form == "items":
        values = []
        for item in items_of(tree):
            if isinstance(item, Seq | MatrixLit | Relation | Interval):
                raise Misfit("the answer is a list of values")
            values.append(_number(_evaluate(item, point, table, in_context, out), "each value of the list"))
        out.slots.append(values)
        return
    if isinstance(tree, Seq) or is_collection(tree):
        raise Misfit("yours is a list of values, but the answer is a single value")
    value = _evaluate(tree, point, table, in_context, out)
    if layout.shape is not None:
        out.slots.extend([z] for z in _matrix_entries(value, layout))
    elif layout.identity:
        out.slots.append([_identity_factor(value)])
    else:
        out.slots.append([_number(value, "the answer")])


def _evaluate(tree: Node, point: dict[str, Value], table: SymbolTable, in_context: bool, out: Reading) -> Value:
    evaluator = Evaluator(table, point, in_matrix_context=in_context)
    value = evaluator.eval(tree)
    out.left_reals = out.left_reals or evaluator.left_reals
    return value


def _number(value: Value, what: str) -> complex:
    if isinstance(value, Mat) and value.shape == (1, 1):
        return complex(value.a[0, 0])
    if not isinstance(value, complex):
        raise Misfit(f"yours is {kind_text(value)}, but {what} is a number")
    return value


def _matrix_entries(value: Value, layout: Layout) -> list[complex]:
    assert layout.shape is not None
    rows, cols = layout.shape
    dims = layout.dims or layout.shape
    if isinstance(value, Scaling):
        if rows != cols:
            raise Misfit(f"yours is a multiple of the identity, expected a {dims_text(dims)} matrix")
        value = Mat(value.c * np.eye(rows, dtype=np.complex128), dims)
    if not isinstance(value, Mat):
        if (rows, cols) != (1, 1):
            raise Misfit(f"yours is a number, but the answer is a {dims_text(dims)} matrix")
        return [value]
    if value.shape != (rows, cols):
        if all(isinstance(d, int) for d in dims):  # a matrix written out: the entrywise wording
            raise Misfit(f"yours is a {value.shape[0]}×{value.shape[1]} matrix, but the answer is {rows}×{cols}")
        raise Misfit(f"yours is {dims_text(value.dims)}, but the answer is {dims_text(dims)}")
    return [complex(z) for z in value.a.ravel()]


def _identity_factor(value: Value) -> complex:
    if isinstance(value, Scaling):
        return value.c
    if isinstance(value, Mat) and value.shape[0] == value.shape[1]:
        diagonal = np.diag(value.a)
        if float(np.abs(value.a - np.diag(diagonal)).max(initial=0)) == 0 and np.all(diagonal == diagonal[0]):
            return complex(diagonal[0])
        raise Misfit("yours is not a multiple of the identity matrix, but the answer is")
    raise Misfit(f"yours is {kind_text(value)}, but the answer is a multiple of the identity matrix")


# ---------------------------------------------------------------------------------------------
# The key of a whole answer


def _secret(readings: Sequence[Reading], gate: Gate, grid: Grid, label: str) -> str:
    """Every value's cell at every point, in one string; a list's items are sorted by their cells
    across the points (order does not matter) and, in a set, counted once."""
    per_slot: list[list[list[str]]] = []  # slot -> item -> cells across points
    for index, reading in enumerate(readings):
        shifts = gate.shifts[index] if index < len(gate.shifts) else gate.shifts[0]
        for slot, values in enumerate(reading.slots):
            shift = shifts[min(slot, len(shifts) - 1)]
            if index == 0:
                per_slot.append([[] for _ in values])
            if len(values) != len(per_slot[slot]):
                return "inconsistent"
            for item, z in enumerate(values):
                per_slot[slot][item].append(grid.cell(z, shift))
    parts: list[str] = []
    for items in per_slot:
        vectors = sorted("|".join(cells) for cells in items) if len(items) != 1 else ["|".join(items[0])]
        if gate.layout.as_set or _slot_is_set(gate.layout, len(parts)):
            vectors = sorted(set(vectors))
        parts.append("[" + ";".join(vectors) + "]")
    return f"{label}:" + "".join(parts)


def _slot_is_set(layout: Layout, slot: int) -> bool:
    flat: list[Layout] = []

    def walk_layout(node: Layout) -> None:
        if node.form == "tuple":
            for component in node.components:
                walk_layout(component)
        else:
            flat.extend([node] * slot_count(node))

    walk_layout(layout)
    return slot < len(flat) and flat[slot].form == "items" and flat[slot].as_set


def formula_secret(tree: Node, label: str) -> str:
    """The exact parsed formula (frozen dataclasses have a canonical repr)."""
    return f"{label}:tree:" + repr(unwrap(tree))


@dataclass(frozen=True)
class GateOutcome:
    """A student's key at one gate, or why there is none (``verdict`` of the miss)."""

    key: bytes | None
    miss: Equivalence
    shown: str = ""


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class Env:
    part: SealedMathPart
    table: SymbolTable  # with the function stand-ins
    seed: int

    @property
    def grid_of(self) -> Callable[[Gate], Grid]:
        return lambda gate: Grid.of(self.part.rtol, self.part.atol, gate.width)


def _student_names(student: Node, table: SymbolTable, in_context: bool) -> list[str]:
    names = names_to_sample([student], table)
    if in_context:
        names = [n for n in names if not (table.get(n) is None and is_identity_name(n))]
    return [n for n in names if n != IMAGINARY_UNIT or table.get(n) is not None]


def _method(layout: Layout) -> Method:
    if layout.form == "items":
        return "set"
    if layout.form == "tuple" or (layout.shape is not None and not layout.matrix_context):
        return "entrywise"
    if layout.form == "formula":
        return "structural"
    return "matrix_numeric" if layout.matrix_context else "numeric"


def gate_outcome(student: Node, gate: Gate, index: int, env: Env) -> GateOutcome:
    """Read the student's answer at the gate's points and derive its key; never raises for
    anything a student wrote."""
    part = env.part
    label = f"g{index}"
    method = _method(gate.layout)
    if gate.layout.form == "formula":
        return GateOutcome(derive_key(formula_secret(student, label), part.salt, part.kdf), _undecided("none", UNSEALED_REASON))
    from grader.math.evaluate import check_size  # here, so the import block does not mirror equivalence's

    try:
        check_size(student)
        readings, shown = _readings(student, gate, env)
    except Misfit as misfit:
        return GateOutcome(None, _different(method, misfit.detail))
    except ShapeError as error:
        return GateOutcome(None, _different(method, f"your expression is not defined for the declared shapes: {error.reason}"))
    except TooLarge as error:
        return GateOutcome(None, _undecided(method, f"too large: {error.reason}"))
    except NotEvaluable as error:
        return GateOutcome(None, _undecided(method, f"your answer cannot be evaluated: {error.reason}"))
    except _Unreadable as unreadable:
        return GateOutcome(None, unreadable.outcome)
    secret = _secret(readings, gate, env.grid_of(gate), label)
    key = derive_key(secret, part.salt, part.kdf)
    if gate.layout.form == "value" and any(reading.left_reals for reading in readings):  # lists compare complex values as they are
        miss = _undecided(method, "your answer leaves the real numbers at a point where it is checked, so the sealed rubric cannot compare it")
    else:
        checked = len(gate.points)
        where = "" if checked <= 1 else f" at the {checked} points checked"
        miss = _different(method, f"yours does not agree with the answer{where}{shown}")
    return GateOutcome(key, miss)


class _Unreadable(Exception):
    def __init__(self, outcome: Equivalence) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def _readings(student: Node, gate: Gate, env: Env) -> tuple[list[Reading], str]:
    table = env.table
    layout = gate.layout
    in_context = layout.matrix_context or matrix_context([student], table)
    names = _student_names(student, table, in_context)
    points = [decode_point(stored, table) for stored in gate.points] or [{}]
    extra = [n for n in names if n not in points[0]]
    if extra and len(points) == 1 and not gate.points[0]:
        return _constant_readings(student, gate, env, extra)
    readings: list[Reading] = []
    undefined: list[tuple[dict[str, Value], str]] = []
    for index, base in enumerate(points):
        drawn = readable_point(values_only(sample_assignment(extra, table, np.random.default_rng([env.seed, index]))), table)
        point = {**base, **drawn} if extra else base
        try:
            readings.append(_reliable(student, gate, point, env))
        except Undefined as error:
            if error.exact:
                undefined.append((point, error.reason))
            else:
                raise _Unreadable(_undecided(_method(layout), f"your answer has no value at {_where(point, table)}: {error.reason}")) from None
    if undefined:
        valid = len(points) - len(undefined)
        point, reason = undefined[0]
        if len(undefined) >= max(2, valid + 1):
            raise _Unreadable(_different(_method(layout), undefined_detail(point_text(point, table), reason)))
        raise _Unreadable(_undecided(_method(layout), f"your answer has no value at {_where(point, table)} ({reason}), where it is checked"))
    return readings, _shown(readings[0], points[0], layout, table)


def _constant_readings(student: Node, gate: Gate, env: Env, names: list[str]) -> tuple[list[Reading], str]:
    """A constant answer against the student's formula with symbols: those symbols must not matter."""
    grid = env.grid_of(gate)
    found: list[tuple[Reading, dict[str, Value]]] = []
    rng = np.random.default_rng(env.seed)
    for _ in range(CONSTANT_PROBES):
        point = readable_point(values_only(sample_assignment(names, env.table, rng)), env.table)
        try:
            found.append((_reliable(student, gate, point, env), point))
        except Undefined:
            continue
    if not found:
        raise _Unreadable(_undecided(_method(gate.layout), "your answer has no value at the points tried"))
    first = _secret([found[0][0]], gate, grid, "")
    for reading, point in found[1:]:
        if _secret([reading], gate, grid, "") != first:
            shown = _shown(reading, point, gate.layout, env.table)
            raise _Unreadable(_different(_method(gate.layout), f"yours changes with {', '.join(names)}, but the answer is a constant{shown}"))
    return [found[0][0]], _shown(found[0][0], found[0][1], gate.layout, env.table)


def _reliable(student: Node, gate: Gate, point: dict[str, Value], env: Env) -> Reading:
    """The student's values at ``point``; where rounding noise could move a value out of its cell
    (large terms cancelling), the value is computed again in exact arithmetic (bounded)."""
    scalar = gate.layout.form == "value" and gate.layout.shape is None and not gate.layout.identity
    try:
        reading = read_answer(student, gate.layout, point, env.table)
    except Undefined as error:
        if error.exact or not scalar:
            raise
        reading = Reading([[complex(math.nan)]])  # overflowed in double precision: try exactly
    if not scalar:
        return reading
    grid = env.grid_of(gate)
    (value,) = reading.slots[0]
    if math.isfinite(value.real) and math.isfinite(value.imag) and rounding_noise(_as_value(unwrap(student)), point, env.table, False) < 0.5 * grid.radius(value):
        return reading
    scalars = {name: v for name, v in point.items() if isinstance(v, complex)}
    outcome = run_bounded(exact_values, _as_value(unwrap(student)), env.table, [scalars], env.part.rtol == env.part.atol == 0, timeout_s=_EXACT_BUDGET_S, memory_mb=512)
    if isinstance(outcome, Finished) and outcome.value:
        return Reading([[outcome.value[0]]], reading.left_reals)
    raise _Unreadable(
        _undecided(_method(gate.layout), "your answer is numerically unreliable here (terms far larger than the result cancel) and an exact check did not finish")
    )


def _where(point: Mapping[str, Value], table: SymbolTable) -> str:
    return point_text(dict(point), table) or "the point checked"


def _shown(reading: Reading, point: Mapping[str, Value], layout: Layout, table: SymbolTable) -> str:
    """The student's own value at the first point, for a scalar answer (never the expected one)."""
    if layout.form != "value" or layout.shape is not None or not reading.slots:
        return ""
    where = point_text(dict(point), table)
    value = format_value(reading.slots[0][0])
    return f" (at {where} yours gives {value})" if where else f" (yours gives {value})"


def _equal(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="equivalent", method=method, detail=detail)


def _different(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="not_equivalent", method=method, detail=detail)


def _undecided(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="undecided", method=method, detail=detail)


def open_payload(part: SealedMathPart, key: bytes | None, box: str) -> dict[str, object] | None:
    if key is None:
        return None
    text = open_box(key, box)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _payload_compare(
    payload: Mapping[str, object], gate: Gate, part: SealedMathPart, ctx: CheckContext, *, accepted: bool = False
) -> Compare:
    """The open comparison with the form the box held (an accepted form's with the part's options)."""
    latex = payload.get("latex")
    if isinstance(latex, str):
        return compare_with_reference(latex, ctx, rtol=part.rtol, atol=part.atol, options=part if accepted else None)
    stored = payload.get("values")
    samples: list[tuple[dict[str, Value], Value]] = []
    if isinstance(stored, list) and gate.layout.shape is not None:
        dims = gate.layout.dims or gate.layout.shape
        for at, rows in zip(gate.points, stored, strict=False):
            array = np.array([[decode_number(c) for c in row] for row in rows], dtype=np.complex128)
            samples.append((decode_point(at, ctx.symbols), Mat(array, dims)))
    return lambda student: compare_with_values(student, samples, ctx.symbols, rtol=part.rtol, atol=part.atol)


def sealed_judge(part: SealedMathPart, ctx: CheckContext) -> Callable[[Node], Judge]:
    """The forms whose boxes the student's answer opens, compared by the open comparison; every
    other form is a miss with the gate's own wording."""
    env = Env(part, evaluation_table(ctx.symbols, part.functions), ctx.seed)
    # the names the references use are the names their stored points give values to (issue 12)
    known = frozenset(part.names) | {n for gate in part.gates for point in gate.points for n in point} | target_names(part, ctx)

    def judge_for(student: Node) -> Judge:
        outcomes: dict[int, GateOutcome] = {}
        # an expansion opens a box by its terms; a miss is no proof (it may only reach further)
        expansion = has_order_term(student)
        gated = without_order_terms(student) if expansion else student

        def at(gate: int) -> GateOutcome:
            if gate not in outcomes:
                found = gate_outcome(gated, part.gates[gate], gate, env)
                if expansion and found.key is None:
                    found = replace(found, miss=_undecided("order", "an expansion that does not match a stored form is compared by the open rubric"))
                outcomes[gate] = found
            return outcomes[gate]

        accepted: list[Compare] = []
        feedback: str | None = ""
        for form in part.accepted:
            payload = open_payload(part, at(form.gate).key, form.box)
            if payload is None:
                accepted.append(_constant(at(form.gate).miss))
                continue
            accepted.append(_payload_compare(payload, part.gates[form.gate], part, ctx, accepted=True))
            if not feedback:
                feedback = str(payload.get("feedback") or "")
        mistakes: list[tuple[Mistake, Compare]] = []
        for sealed in part.recognised:
            payload = open_payload(part, at(sealed.gate).key, sealed.box)
            if payload is None:
                continue
            mistake = Mistake(id=str(payload.get("id", sealed.ref)), feedback=str(payload.get("feedback", "")), points=sealed.points)
            mistakes.append((mistake, _payload_compare(payload, part.gates[sealed.gate], part, ctx)))
        return Judge(accepted=accepted, mistakes=mistakes, feedback_correct=feedback, symbols=ctx.symbols, known=known)

    return judge_for


def _constant(outcome: Equivalence) -> Compare:
    return lambda _student: outcome


def unsealed_result(part: SealedMathPart, answer: Answer | None = None) -> PartResult:
    extraction = extract(answer, part.target, part_id=part.id) if answer is not None else None
    return result(
        part,
        KIND,
        verdict="undecided",
        method="none",
        extracted=extraction,
        reasons=[UNSEALED_REASON + (f": {part.unsealed}" if part.unsealed else "")],
        feedback=["This part is checked when your instructor grades."],
    )


class SealedMathChecker(Checker[SealedMathPart]):
    kind = KIND
    part_model = SealedMathPart

    def lint(self, part: SealedMathPart, ctx: LintContext) -> list[Problem]:
        problems = []
        bad = [name for name, definition in part.functions.items() if isinstance(parse_text(definition), ParseError) or not isinstance(ctx.symbols.get(name), FunctionSymbol)]
        gates = [form.gate for form in part.accepted] + [mistake.gate for mistake in part.recognised]
        bad += [f"gate {gate}" for gate in gates if gate >= len(part.gates)]
        for what in bad:
            problems.append(
                Problem(
                    code="rubric.sealed_function" if not what.startswith("gate ") else "rubric.sealed_gate",
                    message=f"{what!r} of the sealed part is not usable",
                    file=ctx.file,
                    question=ctx.question_id,
                    part=part.id,
                    field="functions" if not what.startswith("gate ") else "gates",
                    fix="seal the rubric again with 'grader rubric seal'",
                )
            )
        return problems

    def check(self, part: SealedMathPart, answer: Answer, ctx: CheckContext) -> PartResult:
        if not part.accepted:
            return unsealed_result(part, answer)
        return check_math_with(part, self.kind, answer, ctx, sealed_judge(part, ctx))


# ---------------------------------------------------------------------------------------------
# Function stand-ins


def random_functions(table: SymbolTable, salt: str) -> dict[str, str]:
    """``a + b·sin(c·u + d)`` per function declared without a definition: smooth, positive, distinct."""
    rng = np.random.default_rng(seed_of(salt, "functions"))
    out: dict[str, str] = {}
    for name in sorted(table.symbols):
        decl = table.symbols[name]
        if not isinstance(decl, FunctionSymbol) or decl.definition is not None or not 1 <= decl.arity <= 3:
            continue
        a, b = rng.uniform(1.5, 2.5), rng.uniform(0.3, 1.0)
        inner = " + ".join(f"{rng.uniform(0.7, 1.9):.3f}*{arg}" for arg in ("u", "v", "w")[: decl.arity])
        out[name] = f"{a:.3f} + {b:.3f}*sin({inner} + {rng.uniform(0, 3):.3f})"
    return out


def evaluation_table(table: SymbolTable, functions: dict[str, str]) -> SymbolTable:
    """The rubric's symbols with the stand-ins as definitions (only for placing answers in cells)."""
    if not functions:
        return table
    symbols = dict(table.symbols)
    for name, definition in functions.items():
        decl = symbols.get(name)
        if isinstance(decl, FunctionSymbol) and decl.definition is None:
            symbols[name] = decl.model_copy(update={"definition": definition})
    return SymbolTable(symbols=symbols, dimensions=dict(table.dimensions))


def uses_undefined_function(trees: Sequence[Node], table: SymbolTable) -> bool:
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Call):
                decl = table.get(node.func)
                if isinstance(decl, FunctionSymbol) and decl.definition is None:
                    return True
    return False


# ---------------------------------------------------------------------------------------------
# Sealing: gates and boxes


class Unsealable(Exception):
    """This reference cannot be sealed; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FormToSeal:
    """A form to put behind a gate: its tree, or its values at given ``points`` (a simulated
    Jacobian); ``payload`` goes into its box."""

    payload: dict[str, object]
    tree: Node | None = None
    values: tuple[Value, ...] | None = None
    structural: bool = False


@dataclass(frozen=True)
class Sealer:
    table: SymbolTable  # with the function stand-ins
    salt: str
    rtol: float
    atol: float
    kdf: KdfParams

    def seal(self, forms: Sequence[FormToSeal], points: Sequence[dict[str, Value]] | None = None) -> tuple[list[Gate], list[tuple[int, str]]]:
        """Gates for the forms (one per layout) and each form's (gate, box)."""
        rng = np.random.default_rng(seed_of(self.salt, "points"))
        layouts = [self._layout(form, points, rng) for form in forms]
        gates: list[Gate] = []
        order: list[Layout] = []
        for layout in layouts:
            if layout not in order:
                order.append(layout)
        placed: dict[int, int] = {}
        for gate_index, layout in enumerate(order):
            members = [k for k, other in enumerate(layouts) if other == layout]
            gates.append(self._gate(layout, [forms[k] for k in members], points, rng, gate_index))
            placed.update({k: gate_index for k in members})
        boxes = []
        for k, form in enumerate(forms):
            gate = gates[placed[k]]
            secret = self._secret(form, gate, placed[k], points)
            key = derive_key(secret, self.salt, self.kdf)
            boxes.append((placed[k], seal_box(key, json.dumps(form.payload, ensure_ascii=False), nonce=nonce_for(self.salt, f"box{k}"))))
        return gates, boxes

    def _layout(self, form: FormToSeal, points: Sequence[dict[str, Value]] | None, rng: np.random.Generator) -> Layout:
        if form.values is not None:
            value = form.values[0]
            assert isinstance(value, Mat)
            return Layout(form="value", shape=value.shape, dims=(value.dims[0], value.dims[1]), matrix_context=True)
        assert form.tree is not None
        tree = unwrap(form.tree)
        if form.structural or not _is_evaluable(tree):
            return Layout(form="formula")
        names = names_to_sample([tree], self.table)
        for attempt in range(SEAL_ATTEMPTS):
            point = dict(points[attempt % len(points)]) if points else values_only(sample_assignment(names, self.table, rng))
            try:
                return layout_of(tree, point, self.table)
            except Undefined:
                continue
            except EvalError as error:
                raise Unsealable(f"the reference cannot be evaluated: {error.reason}") from None
        raise Unsealable("the reference has no value at any point tried")

    def _gate(self, layout: Layout, forms: Sequence[FormToSeal], points: Sequence[dict[str, Value]] | None, rng: np.random.Generator, index: int) -> Gate:
        if layout.form == "formula":
            return Gate(layout=layout)
        trees = [f.tree for f in forms if f.tree is not None]
        names = names_to_sample(trees, self.table)
        width = MIN_WIDTH
        readings_per_point: list[list[Reading]] = []
        chosen: list[dict[str, Value]] = []
        if points is not None:
            chosen = [dict(p) for p in points]
            found_all = [self._readings(forms, layout, p, k) for k, p in enumerate(chosen)]
            if any(r is None for r in found_all):
                raise Unsealable("a form has no value at a stored point")
            readings_per_point = [r for r in found_all if r is not None]
        elif not names:
            found = self._readings(forms, layout, {}, 0)
            if found is None:
                raise Unsealable("the reference has no value")
            chosen, readings_per_point = [{}], [found]
        else:
            need = MATRIX_DRAWS if layout.matrix_context and layout.shape is not None else SCALAR_POINTS
            for _ in range(SEAL_ATTEMPTS):
                point = readable_point(values_only(sample_assignment(names, self.table, rng)), self.table)
                found = self._readings(forms, layout, point, len(chosen))
                if found is not None:
                    chosen.append(point)
                    readings_per_point.append(found)
                    if len(chosen) >= need:
                        break
            if len(chosen) < need:
                raise Unsealable(f"the reference has reliable real values at only {len(chosen)} of {SEAL_ATTEMPTS} random points")
        crowd = max(len(values) for readings in readings_per_point for reading in readings for values in reading.slots)
        width = max(MIN_WIDTH, 4.0 * len(forms) * crowd)
        grid = Grid.of(self.rtol, self.atol, width)
        shift_rng = np.random.default_rng(seed_of(self.salt, "shifts", index))
        shifts = [self._shifts(readings, grid, shift_rng) for readings in readings_per_point]
        return Gate(layout=layout, points=[encode_point(p) for p in chosen], shifts=shifts, width=width)

    def _readings(self, forms: Sequence[FormToSeal], layout: Layout, point: dict[str, Value], index: int) -> list[Reading] | None:
        """Every form's values at ``point``, or None where one is undefined, not real or unreliable."""
        out = []
        grid = Grid.of(self.rtol, self.atol, MIN_WIDTH)
        for form in forms:
            if form.values is not None:
                value = form.values[index]
                assert isinstance(value, Mat)
                out.append(Reading([[complex(z)] for z in value.a.ravel()]))
                continue
            assert form.tree is not None
            try:
                reading = read_answer(form.tree, layout, point, self.table)
            except Undefined:
                return None
            except (EvalError, Misfit) as error:
                raise Unsealable(f"the reference cannot be evaluated: {getattr(error, 'reason', None) or getattr(error, 'detail', '')}") from None
            values = [z for slot in reading.slots for z in slot]
            if (reading.left_reals and layout.form == "value") or not all(math.isfinite(z.real) and math.isfinite(z.imag) for z in values):
                return None
            if layout.form == "value" and layout.shape is None and not layout.identity:
                if rounding_noise(unwrap(form.tree), point, self.table, False) >= 0.01 * grid.radius(values[0]):
                    return None
            out.append(reading)
        return out

    def _shifts(self, readings: list[Reading], grid: Grid, rng: np.random.Generator) -> list[tuple[float, float]]:
        """Per slot, a random shift that puts every form's tolerance disc inside one cell."""
        slots = len(readings[0].slots)
        shifts = []
        for slot in range(slots):
            values = [z for reading in readings for z in reading.slots[slot]]
            for _ in range(SHIFT_ATTEMPTS):
                shift = (round(float(rng.random()), 6), round(float(rng.random()), 6))
                if all(grid.admits(z, shift) for z in values):
                    shifts.append(shift)
                    break
            else:
                raise Unsealable("no grid keeps the forms' values apart (forms too close to each other)")
        return shifts

    def _secret(self, form: FormToSeal, gate: Gate, index: int, points: Sequence[dict[str, Value]] | None) -> str:
        label = f"g{index}"
        if gate.layout.form == "formula":
            assert form.tree is not None
            return formula_secret(form.tree, label)
        grid = Grid.of(self.rtol, self.atol, gate.width)
        decoded = [decode_point(p, self.table) for p in gate.points] if points is None else [dict(p) for p in points]
        readings = []
        for k, point in enumerate(decoded or [{}]):
            found = self._readings([form], gate.layout, point, k)
            if found is None:
                raise Unsealable("a form has no value at a stored point")
            readings.append(found[0])
        return _secret(readings, gate, grid, label)
