"""Sealed math parts: an answer is checked against fingerprints of the reference, never the reference.

A sealed rubric goes to students, so it must check an answer without containing it. Each accepted
form (and each recognised mistake) becomes a *fingerprint*: the reference's values at points,
stored as salted hashes of the values quantised to the tolerance, never as numbers:

- a reference with free symbols is evaluated at seeded random points, stored in the file (random
  matrices for matrix expressions, scalars inside their declared domains); the student's formula
  is evaluated at the same points by the same engine and must hash to the same cells, with the
  rules of :mod:`grader.math.equivalence` (undefined points skipped, points outside the real
  domain of one side skipped, shape errors are wrong, matrices written out compared entry by
  entry and the wrong entries named);
- a constant (a number, a concrete matrix, a list of numbers) is the same with one point;
- a list of values is a multiset of hashed items per point; a tuple one fingerprint per component.

A student's value is hashed with its neighbouring cells too, so a value at a cell's edge still
matches: anything within the relative tolerance matches, nothing beyond four times it does.
Hashes rather than values mean the file cannot be read or curve-fitted, only guessed against.

Functions the rubric declares without a definition (``p_1(x)``) get random stand-ins stored in
the part: an answer right for arbitrary functions is right for these.

Feedback that would give the answer away (``feedback_correct``, a mistake's explanation and id)
is encrypted with a key derived from the matching answer's own value at one more point, whose
reference value is not stored: only an answer that matches can read it.

What sealing gives up, by design: the symbolic fallback (SymPy needs the reference), the 60-digit
confirmation of numeric agreement, and references that cannot be evaluated (equations, lists of
tuples): those match only when written exactly like the reference (a salted hash of the parsed
formula), and anything else is left for the instructor, never called wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.mathcheck import Judge, check_math_with
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.equivalence import MATRIX_DRAWS, SCALAR_POINTS, Equivalence, Method
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
    check_size,
    describe,
    dims_text,
    expand_plus_minus,
    format_value,
    is_identity_name,
    matrix_context,
    names_to_sample,
    pretty_name,
    sample_assignment,
)
from grader.math.symbols import Domain, FunctionSymbol, MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.text import parse_text
from grader.math.tree import (
    Call,
    Div,
    MatrixLit,
    Mul,
    Node,
    Norm,
    Num,
    ParseError,
    PlusMinus,
    Relation,
    Seq,
    Sym,
    symbols_in,
    walk,
)
from grader.rubric.parts import Mistake
from grader.rubric.sealed import (
    AnyPrint,
    HashedValue,
    ItemsPrint,
    JsonNumber,
    PointValue,
    Sample,
    SealedMathPart,
    SealedMistake,
    StructuralPrint,
    TuplePrint,
    ValuesPrint,
)
from grader.submission.extract import extract
from grader.submission.models import Answer

KIND = "sealed-math"
#: Points stored per fingerprint: twice what the open comparison needs, so an answer undefined
#: at a few of them still meets the count.
SCALAR_SAMPLES = 2 * SCALAR_POINTS
MATRIX_SAMPLES = 2 * MATRIX_DRAWS
SEAL_ATTEMPTS = 240
MAX_ITEMS = 100
UNSEALED_REASON = "this part is checked when your instructor grades (it cannot be checked from a sealed rubric)"
NOT_EXPECTED = "which is not the expected value"

# ---------------------------------------------------------------------------------------------
# Stored data




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
    return out


def decode_point(stored: Mapping[str, PointValue], table: SymbolTable) -> dict[str, Value]:
    """Matrices get their declared (named) dimensions back, so shape messages read the same."""
    point: dict[str, Value] = {}
    for name, value in stored.items():
        if value.matrix is not None:
            array = np.array([[decode_number(c) for c in row] for row in value.matrix], dtype=np.complex128)
            decl = table.get(name)
            rows, cols = array.shape
            point[name] = Mat(array, (decl.shape[0], decl.shape[1]) if isinstance(decl, MatrixSymbol) else (rows, cols))
        elif value.number is not None:
            point[name] = decode_number(value.number)
    return point


def values_only(assignment: Mapping[str, object]) -> dict[str, Value]:
    """The values of a drawn point (the engine may also put random functions in it; sealed
    parts bring their own stand-ins as definitions instead)."""
    return {name: value for name, value in assignment.items() if isinstance(value, complex | Mat | Scaling)}


def finite(value: Value) -> bool:
    if isinstance(value, Mat):
        return bool(np.all(np.isfinite(value.a)))
    number = value.c if isinstance(value, Scaling) else value
    return math.isfinite(number.real) and math.isfinite(number.imag)


# ---------------------------------------------------------------------------------------------
# Hashes, cells and boxes


def seed_of(*labels: object) -> int:
    digest_ = hashlib.sha256("\x1f".join(str(label) for label in labels).encode()).digest()
    return int.from_bytes(digest_[:8], "big") >> 1


def digest(salt: str, label: str, cell: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{label}\x1f{cell}".encode()).hexdigest()[:32]


def quantum(z: complex, q: float, zero: float) -> str:
    """The cell of a grid, relative to the size of ``z``, that ``z`` falls in."""
    size = abs(z)
    if not math.isfinite(size):
        return "not-finite"
    if size <= zero:
        return "0"
    exponent = math.floor(math.log2(size))
    step = q * 2.0**exponent
    if step == 0:  # a subnormal value with no absolute tolerance: its own cell
        return f"tiny:{z.real!r}:{z.imag!r}"
    return f"{exponent}:{round(z.real / step)}:{round(z.imag / step)}"


def quanta(z: complex, q: float, zero: float) -> set[str]:
    """The cell of ``z`` and its neighbours (also across a power of two): every cell a value
    within one step of ``z`` can fall in, so a value at a cell's edge still matches."""
    out: set[str] = set()
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        return out
    size = abs(z)
    if size <= 2 * zero:
        out.add("0")
    if size <= zero / 2 or size == 0:
        return out  # a reference outside the zero cell is more than twice as large
    centre = math.floor(math.log2(size))
    for exponent in (centre - 1, centre, centre + 1):
        step = q * 2.0**exponent
        if step == 0 or not math.isfinite(step):
            continue
        re, im = round(z.real / step), round(z.imag / step)
        out.update(f"{exponent}:{re + dr}:{im + di}" for dr in (-1, 0, 1) for di in (-1, 0, 1))
    return out


def grid_cell(z: complex, step: float) -> str:
    """The cell of ``z`` on a fixed grid (entries of a matrix share their matrix's grid)."""
    return f"{round(z.real / step)}:{round(z.imag / step)}"


def grid_cells(z: complex, step: float) -> set[str]:
    if not (math.isfinite(z.real) and math.isfinite(z.imag)):
        return set()
    re, im = round(z.real / step), round(z.imag / step)
    return {f"{re + dr}:{im + di}" for dr in (-1, 0, 1) for di in (-1, 0, 1)}


def match_quanta(rtol: float, atol: float) -> tuple[float, float]:
    """Grid for deciding: a step of 2·rtol relative to the size, so agreement within rtol always matches."""
    return max(2 * rtol, 1e-13), atol


def key_quanta(rtol: float, atol: float) -> tuple[float, float]:
    """Coarser grid for box keys: a sum of several values must still land in a neighbouring cell."""
    return max(16 * rtol, 1e-4), max(8 * atol, 1e-9)


def tree_digest(salt: str, label: str, tree: Node) -> str:
    """A salted hash of a parsed formula (frozen dataclasses have a canonical repr)."""
    return digest(salt, label, "tree:" + repr(tree))


def box_key(salt: str, cell: str) -> bytes:
    return hashlib.sha256(f"{salt}\x1fkey\x1f{cell}".encode()).digest()


def seal_box(key: bytes, text: str, *, nonce: bytes) -> str:
    """Encrypt-then-MAC with SHAKE-256 as the stream and HMAC-SHA256 as the tag (stdlib only)."""
    data = text.encode("utf-8")
    stream = hashlib.shake_256(b"enc" + key + nonce).digest(len(data))
    sealed = bytes(a ^ b for a, b in zip(data, stream, strict=True))
    tag = hmac.new(key, b"mac" + nonce + sealed, hashlib.sha256).digest()[:16]
    return base64.b64encode(nonce + tag + sealed).decode("ascii")


def open_box(key: bytes, box: str) -> str | None:
    """The text, or None when the key is not the box's (the tag does not verify)."""
    try:
        raw = base64.b64decode(box.encode("ascii"), validate=True)
    except ValueError:
        return None
    nonce, tag, sealed = raw[:12], raw[12:28], raw[28:]
    if not hmac.compare_digest(tag, hmac.new(key, b"mac" + nonce + sealed, hashlib.sha256).digest()[:16]):
        return None
    stream = hashlib.shake_256(b"enc" + key + nonce).digest(len(sealed))
    try:
        return bytes(a ^ b for a, b in zip(sealed, stream, strict=True)).decode("utf-8")
    except UnicodeDecodeError:
        return None


# ---------------------------------------------------------------------------------------------
# Trees: the shapes a comparison depends on (mirroring grader.math.equivalence)


def unwrap(node: Node) -> Node:
    while isinstance(node, Seq) and len(node.items) == 1 and node.kind != "set":
        node = node.items[0]
    return node


def is_collection(node: Node) -> bool:
    return isinstance(node, Seq) or any(isinstance(n, PlusMinus) for n in walk(node))


def is_relation_collection(node: Node) -> bool:
    if isinstance(node, Relation):
        return any(isinstance(n, PlusMinus) for n in walk(node))
    return isinstance(node, Seq) and bool(node.items) and all(isinstance(i, Relation) for i in node.items)


def is_tuple(node: Node) -> bool:
    return isinstance(node, Seq) and node.kind == "tuple"


def items_of(node: Node) -> list[Node]:
    items = list(node.items) if isinstance(node, Seq) else [node]
    out: list[Node] = []
    for item in items:
        out.extend(expand_plus_minus(item))
        if len(out) > MAX_ITEMS:
            raise TooLarge(f"more than {MAX_ITEMS} values to compare")
    return out


def assigned_values(relation: Node) -> list[Node]:
    """``λ = (1-p)/p``, ``x = 5 = 7``: the values a chain gives a named quantity (see equivalence)."""
    if not (isinstance(relation, Relation) and relation.ops and all(op in ("=", "approx") for op in relation.ops)):
        return []
    names = _label_names(relation.items[0])
    if names is None:
        return []
    values = list(relation.items[1:])
    if any(names & symbols_in(value) for value in values):
        return []
    return values


def _label_names(node: Node) -> set[str] | None:
    match node:
        case Sym(name):
            return {name}
        case Call(func, args) if all(isinstance(a, Sym | Num) for a in args):
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
    """The rubric's symbols with the stand-ins as definitions (only for evaluating)."""
    if not functions:
        return table
    symbols = dict(table.symbols)
    for name, definition in functions.items():
        decl = symbols.get(name)
        if isinstance(decl, FunctionSymbol) and decl.definition is None:
            symbols[name] = decl.model_copy(update={"definition": definition})
    return SymbolTable(symbols=symbols, dimensions=dict(table.dimensions))


# ---------------------------------------------------------------------------------------------
# Hashing a value, and matching a student's value against the hashes


def hash_value(value: Value, salt: str, label: str, rtol: float, atol: float, *, per_entry: bool) -> HashedValue:
    """The hashes of one reference value; ``per_entry`` for a matrix written entry by entry."""
    q, zero = match_quanta(rtol, atol)
    if isinstance(value, Scaling):
        return HashedValue(number=digest(salt, label, quantum(value.c, q, zero)), identity=True)
    if not isinstance(value, Mat):
        return HashedValue(number=digest(salt, label, quantum(value, q, zero)))
    rows, cols = value.shape
    dims = (value.dims[0], value.dims[1])
    size = float(np.abs(value.a).max(initial=0))
    step = q * 2.0 ** math.floor(math.log2(size)) if size > zero else 0.0
    if per_entry or step == 0 and size > zero:
        entries = [[digest(salt, f"{label}/{i},{j}", quantum(complex(value.a[i, j]), q, zero)) for j in range(cols)] for i in range(rows)]
        return HashedValue(shape=(rows, cols), dims=dims, entries=entries)
    if size <= zero:
        return HashedValue(shape=(rows, cols), dims=dims, zero=True)
    exponent = math.floor(math.log2(size))
    entries = [[digest(salt, f"{label}/{i},{j}", grid_cell(complex(value.a[i, j]), step)) for j in range(cols)] for i in range(rows)]
    return HashedValue(shape=(rows, cols), dims=dims, scale=exponent, entries=entries)


@dataclass(frozen=True)
class Match:
    """A student's value against a hashed one: equal?, a shape message (definitive), wrong entries."""

    ok: bool
    shape: str | None = None
    cells: Mapping[tuple[int, int], complex] | None = None


def hashed_kind_text(hashed: HashedValue) -> str:
    if hashed.identity:
        return "a multiple of the identity matrix"
    if hashed.shape is not None:
        return f"a {dims_text(hashed.dims or hashed.shape)} matrix"
    return "a number"


def match_value(student: Value, hashed: HashedValue, env: Env, label: str) -> Match:
    """The rules of the open comparison's ``_values_match``, against hashes instead of values."""
    q, zero = match_quanta(env.rtol, env.atol)

    def hit(z: complex, where: str, stored: str | None) -> bool:
        return stored is not None and stored in {digest(env.salt, where, cell) for cell in quanta(z, q, zero)}

    if hashed.shape is not None:
        rows, cols = hashed.shape
        dims = hashed.dims or hashed.shape
        if isinstance(student, Scaling):
            if rows != cols:
                return Match(False, f"yours is a multiple of the identity, expected a {dims_text(dims)} matrix")
            student = Mat(student.c * np.eye(rows, dtype=np.complex128), dims)
        if not isinstance(student, Mat):
            if (rows, cols) != (1, 1):
                return Match(False, f"yours is a number, but the answer is a {dims_text(dims)} matrix")
            student = Mat(np.array([[student]], dtype=np.complex128), dims)
        if student.shape != (rows, cols):
            if student.shape == (1, 1):
                return Match(False, f"yours is a number, but the answer is a {dims_text(dims)} matrix")
            return Match(False, f"yours is {dims_text(student.dims)}, but the answer is {dims_text(dims)}")
        cells: dict[tuple[int, int], complex] = {}
        step = q * 2.0**hashed.scale if hashed.scale is not None else 0.0
        for (i, j), entry in np.ndenumerate(student.a):
            z = complex(entry)
            where = f"{label}/{i},{j}"
            if hashed.zero:
                good = abs(z) <= 2 * zero
            elif hashed.entries is None:
                good = False
            elif hashed.scale is None:
                good = hit(z, where, hashed.entries[i][j])
            else:
                good = hashed.entries[i][j] in {digest(env.salt, where, cell) for cell in grid_cells(z, step)}
            if not good:
                cells[(int(i), int(j))] = z
        return Match(not cells, None, cells)
    if hashed.identity:
        if isinstance(student, Scaling):
            return Match(hit(student.c, label, hashed.number))
        if isinstance(student, Mat):
            rows, cols = student.shape
            if rows != cols:
                return Match(False, f"yours is a {dims_text(student.dims)} matrix, expected a multiple of the identity")
            diagonal = np.diag(student.a)
            scale = float(np.abs(student.a).max(initial=0))
            off = float(np.abs(student.a - np.diag(diagonal)).max(initial=0))
            same = off <= env.atol + env.rtol * scale and all(hit(complex(d), label, hashed.number) for d in diagonal)
            return Match(same)
        return Match(False, "yours is a number, but the answer is a multiple of the identity matrix")
    number = as_number(student)
    if number is None:
        return Match(False, f"yours is {kind_text(student)}, but the answer is a number")
    return Match(hit(number, label, hashed.number))


def close(a: complex, b: complex, rtol: float, atol: float) -> bool:
    if math.isinf(a.real) or math.isinf(b.real):
        return a == b
    scale = max(abs(a), abs(b))
    return abs(a - b) <= atol + rtol * scale + 1e-14 * scale


def kind_text(value: Value) -> str:
    if isinstance(value, Mat):
        return f"a {dims_text(value.dims)} matrix"
    if isinstance(value, Scaling):
        return "a multiple of the identity matrix"
    return "a number"


def values_match(a: Value, b: Value, rtol: float, atol: float) -> bool:
    """Two of the student's own values (for repeated items in a set)."""
    if isinstance(a, Mat) and isinstance(b, Mat):
        if a.shape != b.shape:
            return False
        scale = max(float(np.abs(a.a).max(initial=0)), float(np.abs(b.a).max(initial=0)))
        return bool(np.abs(a.a - b.a).max(initial=0) <= atol + rtol * scale)
    if isinstance(a, Scaling) and isinstance(b, Scaling):
        return close(a.c, b.c, rtol, atol)
    x, y = as_number(a), as_number(b)
    return x is not None and y is not None and close(x, y, rtol, atol)


def as_number(value: Value) -> complex | None:
    if isinstance(value, complex):
        return value
    if isinstance(value, Mat) and value.shape == (1, 1):
        return complex(value.a[0, 0])
    return None


def point_text(point: Mapping[str, Value]) -> str:
    return ", ".join(f"{pretty_name(n)} = {format_value(v)}" for n, v in sorted(point.items()) if isinstance(v, complex))


def json_number(value: complex) -> float | str:
    if value.imag == 0 and math.isfinite(value.real):
        return float(f"{value.real:.6g}")
    return format_value(value, 6)


def json_point(point: Mapping[str, Value]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in sorted(point.items()):
        if isinstance(value, complex):
            out[name] = json_number(value)
        elif isinstance(value, Mat):
            out[name] = f"random {value.shape[0]}×{value.shape[1]} matrix"
    return out


def key_value(tree: Node, point: Mapping[str, Value], table: SymbolTable) -> complex | None:
    """One number summarising an answer at the key point: equal answers give (nearly) equal sums.

    Lists sum their items, tuples weigh components by position, matrices weigh entries by
    position; None when the answer has no value there.
    """
    tree = unwrap(tree)
    if isinstance(tree, Relation):
        values = assigned_values(tree)
        if not values:
            return None
        tree = unwrap(values[0])
    in_context = matrix_context([tree], table)
    try:
        if is_tuple(tree):
            assert isinstance(tree, Seq)
            total = 0j
            for index, item in enumerate(tree.items):
                part = key_value(item, point, table)
                if part is None:
                    return None
                total += (index + 1) * part
            return total
        if is_collection(tree):
            total = 0j
            for item in items_of(tree):
                part = key_of(Evaluator(table, point, in_matrix_context=in_context).eval(item))
                if part is None:
                    return None
                total += part
            return total
        return key_of(Evaluator(table, point, in_matrix_context=in_context).eval(tree))
    except EvalError:
        return None


def key_of(value: Value) -> complex | None:
    if isinstance(value, Mat):
        rows, cols = value.shape
        weights = 1 + ((3 * np.arange(rows)[:, None] + 5 * np.arange(cols)[None, :]) % 7) / 7
        total = complex((value.a * weights).sum())
        return total if math.isfinite(total.real) and math.isfinite(total.imag) else None
    if isinstance(value, Scaling):
        return None
    return value if math.isfinite(value.real) and math.isfinite(value.imag) else None


# ---------------------------------------------------------------------------------------------
# Checking a student's tree against a fingerprint


@dataclass(frozen=True)
class Env:
    table: SymbolTable
    salt: str
    rtol: float
    atol: float
    seed: int


def _equal(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="equivalent", method=method, detail=detail)


def _different(
    method: Method, detail: str, counterexample: dict[str, object] | None = None, wrong_entries: list[tuple[int, int]] | None = None
) -> Equivalence:
    return Equivalence(verdict="not_equivalent", method=method, detail=detail, counterexample=counterexample, wrong_entries=wrong_entries)


def _undecided(method: Method, detail: str) -> Equivalence:
    return Equivalence(verdict="undecided", method=method, detail=detail)


def compare(student: Node, fingerprint: AnyPrint, env: Env) -> Equivalence:
    """Never raises for anything a student wrote."""
    try:
        check_size(student)
        return _compare(student, fingerprint, env)
    except TooLarge as error:
        return _undecided("none", f"too large: {error.reason}")
    except EvalError as error:
        return _undecided("none", error.reason)


def _compare(student: Node, fingerprint: AnyPrint, env: Env) -> Equivalence:
    student = unwrap(student)
    if isinstance(fingerprint, StructuralPrint):
        if tree_digest(env.salt, fingerprint.label, student) == fingerprint.digest:
            return _equal("structural", "your answer is written exactly like the reference")
        return _undecided("none", UNSEALED_REASON)
    if is_relation_collection(student):
        return _different("relation", "one side is a list of equations or inequalities and the other is not")
    if isinstance(student, Relation):
        values = assigned_values(student)
        if not values:
            return _different("relation", "you wrote an equation or inequality, but the answer is an expression")
        outcome = _equal("numeric", "")
        for value in values:
            outcome = _compare(value, fingerprint, env)
            if outcome.verdict != "equivalent":
                return outcome
        return outcome
    if isinstance(fingerprint, TuplePrint) or is_tuple(student):
        return _compare_tuple(student, fingerprint, env)
    if isinstance(fingerprint, ItemsPrint) or is_collection(student):
        return _compare_items(student, fingerprint, env)
    return _compare_values(student, fingerprint, env)


def _student_names(student: Node | Sequence[Node], env: Env, matrix_ctx: bool) -> list[str]:
    trees = list(student) if isinstance(student, Sequence) else [student]
    names = names_to_sample(trees, env.table)
    if matrix_ctx:
        names = [n for n in names if not (env.table.get(n) is None and is_identity_name(n))]
    return [n for n in names if n != IMAGINARY_UNIT or env.table.get(n) is not None]


def _with_extras(base: dict[str, Value], names: Sequence[str], env: Env, index: int) -> dict[str, Value]:
    """The stored point, plus values for symbols only the student's formula uses."""
    missing = [n for n in names if n not in base]
    if not missing:
        return base
    rng = np.random.default_rng([env.seed, index])
    return {**base, **values_only(sample_assignment(missing, env.table, rng))}


def _points(fingerprint: ValuesPrint | ItemsPrint, names: Sequence[str], env: Env, need: int) -> list[tuple[dict[str, Value], Sample, str]]:
    """(point, stored sample, hash label) pairs: the stored points (plus the student's own
    symbols), or for a constant, points for the student's symbols against the one value."""
    if fingerprint.constant:
        sample = fingerprint.samples[0]
        if not names:
            return [({}, sample, f"{fingerprint.label}#0")]
        rng = np.random.default_rng(env.seed)
        return [(values_only(sample_assignment(names, env.table, rng)), sample, f"{fingerprint.label}#0") for _ in range(4 * need)]
    return [
        (_with_extras(decode_point(sample.at, env.table), names, env, index), sample, f"{fingerprint.label}#{index}")
        for index, sample in enumerate(fingerprint.samples)
    ]


def _compare_tuple(student: Node, fingerprint: AnyPrint, env: Env) -> Equivalence:
    s_items = list(student.items) if isinstance(student, Seq) and is_tuple(student) else [student]
    r_items = list(fingerprint.components) if isinstance(fingerprint, TuplePrint) else [fingerprint]
    if len(s_items) != len(r_items):
        return _different("entrywise", f"yours has {len(s_items)} components, but the answer has {len(r_items)}")
    undecided: list[str] = []
    for index, (s_item, r_item) in enumerate(zip(s_items, r_items, strict=True), start=1):
        outcome = _compare(s_item, r_item, env)
        if outcome.verdict == "not_equivalent":
            return _different("entrywise", f"component {index}: {outcome.detail}", outcome.counterexample)
        if outcome.verdict == "undecided":
            undecided.append(f"component {index}: {outcome.detail}")
    if undecided:
        return _undecided("entrywise", "; ".join(undecided))
    return _equal("entrywise", f"all {len(r_items)} components match, in order")


def _compare_values(student: Node, fingerprint: ValuesPrint, env: Env) -> Equivalence:
    """One expression: at every point the student's value must hash like the reference's."""
    table = env.table
    is_matrix = fingerprint.matrix_context or matrix_context([student], table)
    entrywise = fingerprint.literal or isinstance(student, MatrixLit)
    method: Method = "entrywise" if entrywise else ("matrix_numeric" if is_matrix else "numeric")
    names = _student_names(student, env, is_matrix)
    varies = bool(names) or not fingerprint.constant
    need = (SCALAR_POINTS if entrywise or not is_matrix else MATRIX_DRAWS) if varies else 1
    valid = 0
    student_undefined: list[tuple[dict[str, Value], str]] = []
    wrong: dict[tuple[int, int], tuple[complex, dict[str, Value]]] = {}
    blocker: str | None = None
    tried = 0
    for point, sample, label in _points(fingerprint, names, env, need):
        if sample.value is None:
            continue
        tried += 1
        evaluator = Evaluator(table, point, in_matrix_context=is_matrix)
        try:
            value = evaluator.eval(student)
        except ShapeError as error:
            what = "your matrix is not well formed" if entrywise else "your expression is not defined for the declared shapes"
            return _different(method, f"{what}: {error.reason}")
        except TooLarge as error:
            return _undecided(method, f"too large: {error.reason}")
        except NotEvaluable as error:
            blocker = f"your answer cannot be evaluated: {error.reason}"
            break
        except Undefined as error:
            if error.exact:
                student_undefined.append((point, error.reason))
            continue
        match = match_value(value, sample.value, env, label)
        if match.shape is not None:
            return _different(method, _entrywise_shape(value, sample.value) if entrywise else match.shape)
        branch = sample.branch or evaluator.left_reals
        if not match.ok and branch:
            continue  # outside the real domain of one answer: not evidence either way
        if entrywise:
            for cell, mine in (match.cells or {}).items():
                wrong.setdefault(cell, (mine, point))
        elif not match.ok:
            return _counterexample(method, value, match, point)
        valid += 1
        if valid >= need:
            break
    if entrywise:
        if wrong:
            return _wrong_entries(student, wrong)
        if valid:
            return _equal(method, "every entry matches")
        return _undecided(method, blocker or "no point gave values for both matrices")
    if valid >= need:
        if not varies:
            return _equal(method, "both evaluate to the same number")
        what = "random matrix draws" if is_matrix else "random points"
        return _equal(method, f"your answer agrees with the reference at {valid} {what}")
    if student_undefined and len(student_undefined) >= (1 if not varies else max(2, valid + 1)):
        point, reason = student_undefined[0]
        where = point_text(point)
        return _different(
            method,
            f"your expression is undefined{' at ' + where if where else ''} ({reason}) where the reference has a value",
            {"point": json_point(point), "student": None},
        )
    return _undecided(method, blocker or f"only {valid} of {tried} points gave values for both answers")


def _entrywise_shape(value: Value, hashed: HashedValue) -> str:
    """The open entrywise comparison's wording for a matrix of the wrong kind or size."""
    if isinstance(value, Mat) and hashed.shape is not None and not hashed.identity:
        (sr, sc), (rr, rc) = value.shape, hashed.shape
        return f"yours is a {sr}×{sc} matrix, but the answer is {rr}×{rc}"
    return f"yours is {kind_text(value)}, but the answer is {hashed_kind_text(hashed)}"


def _counterexample(method: Method, value: Value, match: Match, point: Mapping[str, Value]) -> Equivalence:
    """Where the answers differ, with the student's value there, never the reference's."""
    where = point_text(point)
    if isinstance(value, Mat) and match.cells:
        i, j = min(match.cells)
        shapes = ", ".join(f"{pretty_name(n)} {dims_text(v.dims)}" for n, v in sorted(point.items()) if isinstance(v, Mat))
        given = " and ".join(text for text in (f"random {shapes}" if shapes else "", where) if text)
        mine = match.cells[(i, j)]
        return _different(
            method,
            f"for {given}, row {i + 1}, column {j + 1} of yours is {format_value(mine)}, {NOT_EXPECTED}",
            {"point": json_point(point), "entry": [i + 1, j + 1], "student": json_number(mine)},
        )
    number = as_number(value)
    shown = format_value(number) if number is not None else kind_text(value)
    prefix = f"at {where} " if where else ""
    return _different(
        method,
        f"{prefix}yours gives {shown}, {NOT_EXPECTED}",
        {"point": json_point(point), "student": json_number(number) if number is not None else shown},
    )


def _entry_text(student: Node, i: int, j: int, value: complex) -> str:
    if isinstance(student, MatrixLit) and i < len(student.rows) and j < len(student.rows[i]):
        return describe(student.rows[i][j], 30)
    return format_value(value)


def _wrong_entries(student: Node, wrong: dict[tuple[int, int], tuple[complex, dict[str, Value]]]) -> Equivalence:
    """Which entries are wrong and what the student wrote there; the expected entries stay sealed."""
    cells = sorted(wrong)
    parts = [f"row {i + 1}, column {j + 1} (yours: {_entry_text(student, i, j, wrong[(i, j)][0])})" for i, j in cells[:4]]
    more = f" (and {len(cells) - 4} more)" if len(cells) > 4 else ""
    count = "1 entry differs" if len(cells) == 1 else f"{len(cells)} entries differ"
    first_point = wrong[cells[0]][1]
    return _different(
        "entrywise",
        f"{count}: " + "; ".join(parts) + more,
        {"point": json_point(first_point)} if first_point else None,
        [(i + 1, j + 1) for i, j in cells],
    )


def _compare_items(student: Node, fingerprint: AnyPrint, env: Env) -> Equivalence:
    """Multisets with tolerance; in a set (braces on either side) repeated values count once."""
    if isinstance(fingerprint, TuplePrint | StructuralPrint):  # pragma: no cover - dispatched before
        return _undecided("set", UNSEALED_REASON)
    as_set = (isinstance(student, Seq) and student.kind == "set") or (isinstance(fingerprint, ItemsPrint) and fingerprint.as_set)
    s_items = items_of(student)
    structured = {k for k, item in enumerate(s_items) if isinstance(item, Seq)}
    is_matrix = fingerprint.matrix_context or matrix_context(s_items, env.table)
    names = _student_names(s_items, env, is_matrix)
    varies = bool(names) or not fingerprint.constant
    s_rows: list[list[Value | None]] = []
    r_rows: list[tuple[list[HashedValue | None], str]] = []
    for point, sample, label in _points(fingerprint, names, env, SCALAR_POINTS):
        reference = list(sample.items) if sample.items is not None else [sample.value]
        if all(r is None for r in reference):
            continue
        values: list[Value | None] = []
        for k, item in enumerate(s_items):
            if k in structured:
                values.append(None)
                continue
            try:
                values.append(Evaluator(env.table, point, in_matrix_context=is_matrix).eval(item))
            except Undefined:
                values.append(None)
            except ShapeError as error:
                return _different("set", f"{describe(item, 30)} is not defined for the declared shapes: {error.reason}")
            except NotEvaluable as error:
                return _undecided("set", f"your answer cannot be evaluated: {error.reason}")
        s_rows.append(values)
        r_rows.append((reference, label))
        if len(r_rows) >= (SCALAR_POINTS if varies else 1):
            break
    if not r_rows:
        return _undecided("set", "no point gave values for the reference")
    count = len(r_rows[0][0])

    def same_ref(i: int, j: int) -> bool:
        seen = False
        for values, (reference, label) in zip(s_rows, r_rows, strict=True):
            mine, theirs = values[i], reference[j]
            if mine is None or theirs is None:
                continue
            seen = True
            if not match_value(mine, theirs, env, label).ok:
                return False
        return seen

    def same_refs(j: int, k: int) -> bool:
        return all(reference[j] == reference[k] for reference, _ in r_rows if reference[j] is not None and reference[k] is not None)

    def same_student(i: int, k: int) -> bool:
        if i in structured or k in structured:
            return False
        pairs = [(row[i], row[k]) for row in s_rows if row[i] is not None and row[k] is not None]
        return bool(pairs) and all(values_match(a, b, env.rtol, env.atol) for a, b in pairs if a is not None and b is not None)

    s_keep = list(range(len(s_items)))
    r_keep = list(range(count))
    if as_set:
        s_keep = _distinct(s_keep, same_student)
        r_keep = _distinct(r_keep, same_refs)
    pairs = _matching([i for i in s_keep if i not in structured], r_keep, same_ref)
    matched_s = {i for i, _ in pairs}
    matched_r = {j for _, j in pairs}
    extra = [s_items[i] for i in s_keep if i not in matched_s]
    missing = [j for j in r_keep if j not in matched_r]
    if not extra and not missing:
        return _equal("set", f"the same {len(r_keep)} value{'s' if len(r_keep) != 1 else ''} (order does not matter)")
    parts = []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        parts.append(f"{len(missing)} of the {len(r_keep)} expected values {verb} missing")
    if extra:
        parts.append("not expected " + ", ".join(describe(n, 30) for n in extra))
    return _different("set", "; ".join(parts))


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


# ---------------------------------------------------------------------------------------------
# Unlocking feedback, and the checker


def unlock(part: SealedMathPart, student: Node, table: SymbolTable, seed: int) -> dict[str, str]:
    """Open every box the student's answer opens: ``correct`` and mistake refs."""
    point = decode_point(part.key.at, table) if part.key is not None else {}
    names = [n for n in names_to_sample([student], table) if n not in point]
    if names:
        try:
            point = {**point, **values_only(sample_assignment(names, table, np.random.default_rng([seed, 10_000])))}
        except EvalError:
            point = {}
    keys = [structural_key(part.salt, student)]
    value = key_value(student, point, table)
    if value is not None:
        q, zero = key_quanta(part.rtol, part.atol)
        keys += [box_key(part.salt, cell) for cell in sorted(quanta(value, q, zero))]
    boxes = [("correct", form.box) for form in part.accepted if form.box] + [(m.ref, m.box) for m in part.recognised if m.box]
    opened: dict[str, str] = {}
    for name, box in boxes:
        if name in opened:
            continue
        for key in keys:
            text = open_box(key, box)
            if text is not None:
                opened[name] = text
                break
    return opened


def _mistake(sealed: SealedMistake, opened: Mapping[str, str]) -> Mistake:
    """The mistake as the report shows it: its own id and feedback once unlocked."""
    text = opened.get(sealed.ref)
    if text is not None:
        try:
            data = json.loads(text)
            return Mistake(id=str(data["id"]), feedback=str(data["feedback"]), points=sealed.points)
        except (ValueError, KeyError, TypeError):
            pass
    return Mistake(id=sealed.ref, feedback="This is a mistake the rubric knows; ask your instructor about it.", points=sealed.points)


def sealed_judge(part: SealedMathPart, ctx: CheckContext) -> Callable[[Node], Judge]:
    """Compares with the fingerprints; the feedback shown is what the student's answer unlocks."""
    table = evaluation_table(ctx.symbols, part.functions)
    env = Env(table=table, salt=part.salt, rtol=part.rtol, atol=part.atol, seed=ctx.seed)

    def against(fingerprint: AnyPrint) -> Callable[[Node], Equivalence]:
        return lambda tree: compare(tree, fingerprint, env)

    def judge_for(student: Node) -> Judge:
        opened = unlock(part, student, table, ctx.seed)
        return Judge(
            accepted=[against(form.fingerprint) for form in part.accepted],
            mistakes=[(_mistake(m, opened), against(m.fingerprint)) for m in part.recognised],
            feedback_correct=opened.get("correct", ""),
        )

    return judge_for


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
        for name, definition in part.functions.items():
            if isinstance(parse_text(definition), ParseError) or not isinstance(ctx.symbols.get(name), FunctionSymbol):
                problems.append(
                    Problem(
                        code="rubric.sealed_function",
                        message=f"the stand-in for function {name!r} is not usable",
                        file=ctx.file,
                        question=ctx.question_id,
                        part=part.id,
                        field="functions",
                        fix="seal the rubric again with 'grader rubric seal'",
                    )
                )
        return problems

    def check(self, part: SealedMathPart, answer: Answer, ctx: CheckContext) -> PartResult:
        if not part.accepted:
            return unsealed_result(part, answer)
        return check_math_with(part, self.kind, answer, ctx, sealed_judge(part, ctx))


# ---------------------------------------------------------------------------------------------
# Making fingerprints (the sealing side)


class Unsealable(Exception):
    """This reference cannot be fingerprinted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SealEnv:
    table: SymbolTable
    salt: str
    rtol: float
    atol: float

    def hashed(self, value: Value, label: str, *, per_entry: bool) -> HashedValue:
        return hash_value(value, self.salt, label, self.rtol, self.atol, per_entry=per_entry)


def fingerprint(tree: Node, env: SealEnv, label: str) -> AnyPrint:
    """The fingerprint of one reference (or mistake) tree; raises Unsealable."""
    try:
        check_size(tree)
        return _fingerprint(unwrap(tree), env, label)
    except Unsealable:
        raise
    except EvalError as error:
        raise Unsealable(error.reason) from None


def _fingerprint(tree: Node, env: SealEnv, label: str) -> AnyPrint:
    if isinstance(tree, Relation) or is_relation_collection(tree):
        raise Unsealable("the reference is an equation or inequality, which only the open rubric can compare")
    if is_tuple(tree):
        assert isinstance(tree, Seq)
        return TuplePrint(label=label, components=[_fingerprint(unwrap(item), env, f"{label}.{k}") for k, item in enumerate(tree.items)])
    in_context = matrix_context([tree], env.table)
    if is_collection(tree):
        items = items_of(tree)
        if any(isinstance(item, Seq | MatrixLit) for item in items):
            raise Unsealable("the reference is a list of tuples or matrices")
        as_set = isinstance(tree, Seq) and tree.kind == "set"
        names = names_to_sample(items, env.table)

        def items_at(point: dict[str, Value], index: int) -> Sample | None:
            return _items_at(items, point, env, in_context, f"{label}#{index}")

        samples = _draw(names, env, label, SCALAR_SAMPLES, SCALAR_POINTS, items_at) if names else _constant(items_at)
        return ItemsPrint(label=label, constant=not names, as_set=as_set, matrix_context=in_context, count=len(items), samples=samples)
    names = names_to_sample([tree], env.table)
    literal = isinstance(tree, MatrixLit)

    def value_at(point: dict[str, Value], index: int) -> Sample | None:
        return value_sample(tree, point, env, in_context, f"{label}#{index}", per_entry=literal)

    if not names:
        return ValuesPrint(label=label, constant=True, matrix_context=in_context, literal=literal, samples=_constant(value_at))
    wanted, need = (MATRIX_SAMPLES, MATRIX_DRAWS) if in_context and not literal else (SCALAR_SAMPLES, SCALAR_POINTS)
    samples = _draw(names, env, label, wanted, need, value_at)
    return ValuesPrint(label=label, matrix_context=in_context, literal=literal, samples=samples)


def _constant(at: Callable[[dict[str, Value], int], Sample | None]) -> list[Sample]:
    sample = at({}, 0)
    if sample is None:
        raise Unsealable("the reference has no value")
    return [sample]


def value_sample(tree: Node, point: dict[str, Value], env: SealEnv, in_context: bool, label: str, *, per_entry: bool) -> Sample | None:
    """The reference's hashed value at ``point`` (None where it is undefined)."""
    evaluator = Evaluator(env.table, point, in_matrix_context=in_context)
    try:
        value = evaluator.eval(tree)
    except Undefined:
        return None
    except (ShapeError, NotEvaluable) as error:
        raise Unsealable(f"the reference cannot be evaluated: {error.reason}") from None
    if not finite(value):
        return None
    return Sample(at=encode_point(point), value=env.hashed(value, label, per_entry=per_entry), branch=evaluator.left_reals)


def _items_at(items: list[Node], point: dict[str, Value], env: SealEnv, in_context: bool, label: str) -> Sample | None:
    values: list[HashedValue | None] = []
    branch = False
    for item in items:
        evaluator = Evaluator(env.table, point, in_matrix_context=in_context)
        try:
            value = evaluator.eval(item)
        except Undefined:
            values.append(None)
            continue
        except (ShapeError, NotEvaluable) as error:
            raise Unsealable(f"the reference cannot be evaluated: {error.reason}") from None
        branch = branch or evaluator.left_reals
        values.append(env.hashed(value, label, per_entry=False) if finite(value) else None)
    if all(v is None for v in values):
        return None
    return Sample(at=encode_point(point), items=values, branch=branch)


def _draw(
    names: list[str], env: SealEnv, label: str, wanted: int, need: int, at: Callable[[dict[str, Value], int], Sample | None]
) -> list[Sample]:
    rng = np.random.default_rng(seed_of(env.salt, label, "points"))
    samples: list[Sample] = []
    for _ in range(SEAL_ATTEMPTS):
        try:
            point = readable_point(values_only(sample_assignment(names, env.table, rng)), env.table)
        except EvalError as error:
            raise Unsealable(error.reason) from None
        sample = at(point, len(samples))
        if sample is not None:
            samples.append(sample)
            if len(samples) >= wanted:
                break
    if len(samples) < need:
        raise Unsealable(f"the reference has values at only {len(samples)} of {SEAL_ATTEMPTS} random points")
    return samples


def readable_point(point: dict[str, Value], table: SymbolTable) -> dict[str, Value]:
    """Scalars rounded to 2 significant digits (inside their domain), so a counterexample reads
    well ("at p = 0.21"); 24 such points still tell formulas apart."""
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


def choose_key_point(trees: Sequence[Node], env: SealEnv) -> dict[str, Value] | None:
    """A point where every (evaluable) form has a value: the boxes' keys come from the values there."""
    names = names_to_sample(list(trees), env.table)
    rng = np.random.default_rng(seed_of(env.salt, "key"))
    for _ in range(50):
        try:
            point = values_only(sample_assignment(names, env.table, rng))
        except EvalError:
            return None
        if all(key_value(tree, point, env.table) is not None for tree in trees):
            return point
    return None


def structural_key(salt: str, tree: Node) -> bytes:
    return box_key(salt, "tree:" + hashlib.sha256(repr(unwrap(tree)).encode()).hexdigest())


def structural_print(tree: Node, env: SealEnv, label: str) -> StructuralPrint:
    return StructuralPrint(label=label, digest=tree_digest(env.salt, label, unwrap(tree)))


def seal_text(env: SealEnv, tree: Node | None, point: Mapping[str, Value] | None, text: str, name: str, *, value: Value | None = None) -> str:
    """``text`` sealed under the value ``tree`` (or ``value``) has at the key point, or under the
    formula itself when it has no value there (a form that cannot be evaluated)."""
    key_number: complex | None = None
    if value is not None:
        key_number = key_of(value)
    elif tree is not None and point is not None:
        key_number = key_value(tree, point, env.table)
    if key_number is not None:
        q, zero = key_quanta(env.rtol, env.atol)
        key = box_key(env.salt, quantum(key_number, q, zero))
    elif tree is not None:
        key = structural_key(env.salt, tree)
    else:
        raise ValueError("a box needs a formula or a value")
    nonce = hashlib.sha256(f"{env.salt}\x1fnonce\x1f{name}".encode()).digest()[:12]
    return seal_box(key, text, nonce=nonce)
