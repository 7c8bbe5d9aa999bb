"""Where an answer is evaluated: which names need values, and seeded random values for them.

Scalars come from their declared domains, matrices from their declared shapes and structures,
declared functions without a definition become random functions (:class:`RandomFunction`), so a
comparison at seeded points decides for every value the rubric allows, reproducibly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from grader.math.symbols import (
    ConstantSymbol,
    Domain,
    FunctionSymbol,
    MatrixSymbol,
    SampleSymbol,
    ScalarSymbol,
    SymbolTable,
)
from grader.math.tree import (
    Call,
    Index,
    MatrixLit,
    Node,
    Operator,
    Relation,
    Seq,
    Sym,
    children,
    symbols_in,
    walk,
)
from grader.math.values import Data, Mat, NotEvaluable, RandomFunction, Sample, TooLarge, Value

__all__ = [
    "IMAGINARY_UNIT",
    "MAX_MATRIX_DIM",
    "bound_names",
    "bound_walk",
    "functions_to_sample",
    "implicit_indices",
    "integral_parts",
    "is_identity_name",
    "matrix_context",
    "names_to_sample",
    "sample_assignment",
    "sample_point",
    "sample_scalar",
    "summation_bounds",
]

MAX_MATRIX_DIM = 200
#: The parsers leave a bare ``i`` as ``Sym("i")``; undeclared and not a summation index, it is
#: the imaginary unit (eigenvalues ``±i/2``). Declare ``i`` in the rubric to make it a scalar.
IMAGINARY_UNIT = "i"


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
    """Free symbols that need a value: scalars, declared matrices and samples (with their sizes),
    arbitrary constants; not functions, identities, named constants or bound indices."""
    trees = list(trees)
    in_matrix_context = matrix_context(trees, symbols)
    names: set[str] = set()
    for tree in trees:
        for node in _free_nodes(tree):
            if isinstance(node, Index):
                names.add(node.name)
                continue
            if not isinstance(node, Sym):
                continue
            decl = symbols.get(node.name)
            if isinstance(decl, FunctionSymbol | ConstantSymbol):
                continue
            if isinstance(decl, MatrixSymbol) and decl.structure == "identity":
                continue
            if decl is None and in_matrix_context and is_identity_name(node.name):
                continue
            if decl is None and node.name == IMAGINARY_UNIT:
                continue
            names.add(node.name)
    for name in list(names):
        decl = symbols.get(name)
        if isinstance(decl, SampleSymbol) and isinstance(decl.length, str) and decl.length not in symbols.dimensions:
            names.add(decl.length)
    return sorted(names)


def bound_names(node: Operator) -> frozenset[str]:
    """The variables an operator binds in its body: ``k`` in ``∑_{k=1}^n``, ``i`` in ``∑_i x_i`` and
    in ``∑ x_i``, ``x`` in ``∫_0^1 … dx`` and in ``lim_{x→0}``."""
    sub = node.sub
    if isinstance(sub, Relation) and isinstance(sub.items[0], Sym):
        return frozenset({sub.items[0].name})
    if node.name == "lim" and isinstance(sub, Seq) and sub.items and isinstance(sub.items[0], Sym):
        return frozenset({sub.items[0].name})
    if node.name in ("sum", "prod"):
        if isinstance(sub, Sym):
            return frozenset({sub.name})
        if sub is None and node.sup is None:
            return implicit_indices(node.body)
    return frozenset()


def integral_parts(node: Operator) -> tuple[str | None, Node | None, Node | None]:
    """(variable, lower end, upper end) of ``∫_a^b … dx`` (``sub`` is ``x = a``), ``∫ … dx`` or ``∫_a^b f``."""
    sub = node.sub
    if isinstance(sub, Relation) and len(sub.items) == 2 and isinstance(sub.items[0], Sym):
        return sub.items[0].name, sub.items[1], node.sup
    if isinstance(sub, Sym) and node.sup is None:
        return sub.name, None, None
    return None, sub, node.sup


def implicit_indices(body: Node) -> frozenset[str]:
    """The index of a sum written without one: ``i`` in ``∑ x_i²``."""
    return frozenset(n.index.name for n in walk(body) if isinstance(n, Index) and isinstance(n.index, Sym))


def bound_walk(tree: Node) -> list[tuple[Node, frozenset[str]]]:
    """Every node with the names bound where it stands (summation indices, integration variables)."""
    out: list[tuple[Node, frozenset[str]]] = []
    stack: list[tuple[Node, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        out.append((node, bound))
        if isinstance(node, Operator):
            binds = bound_names(node)
            if binds:
                stack.append((node.body, bound | binds))
                if isinstance(node.sub, Relation | Seq):
                    stack.extend((item, bound) for item in node.sub.items[1:])
                if node.sup is not None:
                    stack.append((node.sup, bound))
                continue
        stack.extend((child, bound) for child in children(node))
    return out


def _free_nodes(tree: Node) -> list[Node]:
    """Nodes outside the scope of an index or variable an operator binds (see :func:`bound_names`)."""
    return [node for node, bound in bound_walk(tree) if not (isinstance(node, Sym) and node.name in bound)]


def functions_to_sample(trees: Iterable[Node], symbols: SymbolTable) -> list[str]:
    """Declared functions without a definition that the trees apply: uninterpreted, so a
    comparison gives them random functions."""
    found: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Call):
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
) -> dict[str, Value | Data]:
    """Random values for ``names`` from their declared domains and shapes (sorted, so seeded = reproducible).

    Scalars: bounded intervals uniform inside with a 5% margin; ``(0, ∞)`` log-uniform in 0.1..10;
    unrestricted reals uniform in (-3, 3) away from 0; integer domains small integers; complex
    domains both parts in (-2, 2). Matrices: the declared shape with standard normal entries
    (diagonal, symmetric, binary {0,1}, identity structures respected). Undeclared ``integers``
    (see :func:`summation_bounds`) are drawn from 1..8, undeclared sample sizes from 2..9, and
    samples last, each observation from the sample's domain.
    """
    values: dict[str, Value | Data] = {}
    whole = set(integers)
    samples = sorted(n for n in set(names) if isinstance(symbols.get(n), SampleSymbol))
    sizes = {decl.length for n in samples if isinstance(decl := symbols.get(n), SampleSymbol)}
    for name in sorted(set(names) - set(samples)):
        decl = symbols.get(name)
        if isinstance(decl, MatrixSymbol):
            values[name] = _sample_matrix(decl, symbols, rng)
        elif isinstance(decl, FunctionSymbol | ConstantSymbol):
            continue
        elif isinstance(decl, ScalarSymbol):
            values[name] = sample_scalar(decl.parsed_domain, rng)
        elif name in sizes:
            values[name] = sample_scalar(Domain(low=1, integer=True), rng)
        elif name in whole:
            values[name] = sample_scalar(Domain(low=0, integer=True), rng)
        else:
            values[name] = sample_scalar(Domain(), rng)
    for name in samples:
        decl = symbols.get(name)
        assert isinstance(decl, SampleSymbol)
        length = _sample_size(name, decl, symbols, values, rng)
        domain = decl.parsed_domain
        values[name] = Data(np.array([[sample_scalar(domain, rng) for _ in range(length)]], dtype=np.complex128))
    return values


def _sample_size(
    name: str, decl: SampleSymbol, symbols: SymbolTable, values: dict[str, Value | Data], rng: np.random.Generator
) -> int:
    if isinstance(decl.length, int):
        return decl.length
    if decl.length in symbols.dimensions:
        return symbols.dimensions[decl.length]
    if decl.length not in values:
        values[decl.length] = sample_scalar(Domain(low=1, integer=True), rng)
    size = values[decl.length]
    if not (isinstance(size, complex) and size.imag == 0 and size.real.is_integer() and 1 <= size.real <= 1000):
        raise NotEvaluable(
            f"the size {decl.length} of the sample {name} must be a whole number from 1 to 1000; "
            f"declare {decl.length} with domain 'positive_integer'"
        )
    return int(size.real)


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
