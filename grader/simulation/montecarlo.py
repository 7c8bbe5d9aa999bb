"""Expectations over the rubric's random variables: seeded Monte Carlo, or quadrature over densities.

An equality ``a = b`` in which ``E[...]`` appears is checked on random instances (the declared
matrices and scalars drawn as for any answer). Per instance:

- every ``E[...]`` over a random matrix (a dropout mask ``R``) is a Monte Carlo mean over ``N``
  masks drawn once and shared by both sides (common random numbers, so ``E[f] = E[f]`` is exact
  and a correct step's difference has a small variance);
- ``E_{x∼p}[...]``, ``∫ ... dx`` and ``KL``/``JSD`` between declared densities are integrals,
  computed by Gauss–Legendre quadrature on the densities' support (no sampling error);
- the standard error of ``a − b`` comes from the influence of each sample (the delta method,
  exact for the usual case where the sides are linear in their expectations), and the step holds
  when ``|a − b| ≤ z·SE + atol + rtol·|a|`` entry by entry, with ``z`` chosen so that a correct
  step is rejected with probability below ``FALSE_REJECT`` (Bonferroni over entries and instances).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from statistics import NormalDist
from typing import TypeVar

import numpy as np

from grader.math.evaluate import (
    BatchEvaluator,
    BMat,
    BScaling,
    BValue,
    Mat,
    NotEvaluable,
    ShapeError,
    Undefined,
    as_batch,
    dims_text,
    entries,
    format_value,
    kind_text,
    matrix_context,
    names_to_sample,
    pretty_name,
    sample_assignment,
)
from grader.math.sampling import integral_parts
from grader.math.symbols import FunctionSymbol, MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.tree import Call, Const, Node, Operator, Seq, Sym, children, walk
from grader.rubric.parts import DEFAULT_SAMPLES
from grader.rubric.simulation import RandomDecl
from grader.simulation.trees import map_tree, mentions

__all__ = [
    "DEFAULT_SAMPLES",
    "FALSE_REJECT",
    "Comparison",
    "Density",
    "Instance",
    "Model",
    "compare_sides",
    "evaluate_side",
    "free_names",
    "z_threshold",
]

MAX_SAMPLES = 50_000
#: at most this many numbers in one batch of samples (bounds memory whatever the shapes)
MAX_SAMPLE_ENTRIES = 4_000_000
#: the designed chance that a correct step is rejected (per step, all entries and instances together)
FALSE_REJECT = 1e-6
QUADRATURE_NODES = 400
_EPSILON = 1e-3
_T = TypeVar("_T")
_NORMAL = NormalDist()
_DIVERGENCES = {"KL": "kl", "D_KL": "kl", "KL_div": "kl", "JSD": "jsd", "JS": "jsd", "D_JS": "jsd", "D_JSD": "jsd"}


def z_threshold(tests: int, false_reject: float = FALSE_REJECT) -> float:
    """Two-sided normal quantile for ``tests`` simultaneous comparisons at a total rate ``false_reject``."""
    return -_NORMAL.inv_cdf(false_reject / (2 * max(1, tests)))


@dataclass(frozen=True)
class Density:
    """One declared density for one instance (parameters already drawn)."""

    name: str
    distribution: str
    mean: float = 0.0
    std: float = 1.0
    low: float = 0.0
    high: float = 1.0
    variable: str = "x"

    def pdf(self, x: np.ndarray) -> np.ndarray:
        if self.distribution == "normal":
            return np.exp(-0.5 * ((x - self.mean) / self.std) ** 2) / (self.std * math.sqrt(2 * math.pi))
        inside = (x >= self.low) & (x <= self.high)
        return np.where(inside, 1.0 / (self.high - self.low), 0.0)

    def support(self) -> tuple[float, float]:
        if self.distribution == "normal":
            return self.mean - 8 * self.std, self.mean + 8 * self.std
        return self.low, self.high

    def text(self) -> str:
        if self.distribution == "normal":
            return f"{pretty_name(self.name)} = N({format_value(self.mean, 3)}, {format_value(self.std, 3)}²)"
        return f"{pretty_name(self.name)} = U({format_value(self.low, 3)}, {format_value(self.high, 3)})"


@dataclass
class Instance:
    """Values of the free symbols (a batch of one) and the densities, for one random instance."""

    values: dict[str, BValue]
    densities: dict[str, Density]
    shown: dict[str, str] = field(default_factory=dict)
    shown_densities: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The instance as a reader needs it for a counterexample: scalars, shapes, the densities used."""
        parts = [f"{pretty_name(k)} = {v}" for k, v in sorted(self.shown.items())]
        parts += [self.densities[name].text() for name in self.shown_densities if name in self.densities]
        return ", ".join(parts)


class Model:
    """The rubric's random variables and densities, ready to draw instances and samples."""

    def __init__(self, symbols: SymbolTable, random: Mapping[str, RandomDecl], *, samples: int = DEFAULT_SAMPLES) -> None:
        self.symbols = symbols
        self.random = dict(random)
        self.density_names = frozenset(n for n in self.random if isinstance(symbols.get(n), FunctionSymbol))
        self.variables = frozenset(n for n in self.random if n not in self.density_names)
        self.samples = max(100, min(int(samples), MAX_SAMPLES))

    # -- instances ------------------------------------------------------------------------
    def instance(self, trees: Sequence[Node], rng: np.random.Generator) -> Instance:
        """Random values for every free symbol of ``trees``; random variables get one realisation.

        A Bernoulli probability is drawn from the middle of its domain (0.2 to 0.8): there the
        Monte Carlo sums have enough non-zero terms for the normal approximation behind the
        tolerance, and an identity in p that holds on an interval holds on all of (0, 1).
        """
        names = set(names_to_sample(trees, self.symbols)) - self.density_names
        probabilities = {self.random[n].parameter for n in self.variables & names}
        names |= {p for p in probabilities if isinstance(p, str)}
        plain = sorted(names - self.variables)
        drawn = sample_assignment(plain, self.symbols, rng)
        for name in sorted(p for p in probabilities if isinstance(p, str) and p in drawn):
            low, high = self._central(name)
            drawn[name] = complex(rng.uniform(low, high))
        values: dict[str, BValue] = {
            name: _batch_of_one(value) for name, value in drawn.items() if isinstance(value, (complex, Mat))
        }
        shown = {name: format_value(value, 3) for name, value in drawn.items() if isinstance(value, complex)}
        for name, value in drawn.items():
            if isinstance(value, Mat):
                shown[name] = f"random {dims_text(value.dims)}"
        mentioned = {n for tree in trees for n in walk(tree) if isinstance(n, (Sym, Call))}
        used = {n.name if isinstance(n, Sym) else n.func for n in mentioned}
        densities = {name: self._density(name, rng) for name in sorted(self.density_names)}
        instance = Instance(values, densities, shown, shown_densities=sorted(used & self.density_names))
        outside = _outside_expectations(trees)
        for name in sorted(self.variables & names):
            instance.values[name] = self.draw(name, instance, 1, rng)
            if name in outside:
                shown[name] = "one random draw"
        return instance

    def _central(self, name: str) -> tuple[float, float]:
        decl = self.symbols.get(name)
        low, high = 0.0, 1.0
        if isinstance(decl, ScalarSymbol):
            domain = decl.parsed_domain
            low, high = max(low, domain.low), min(high, domain.high)
        central = (max(low, 0.2), min(high, 0.8))
        return central if central[0] < central[1] else (low + 0.05 * (high - low), high - 0.05 * (high - low))

    def _density(self, name: str, rng: np.random.Generator) -> Density:
        decl = self.random[name]
        return Density(
            name=name,
            distribution=decl.distribution,
            mean=_pick(decl.mean, rng),
            std=_pick(decl.std, rng),
            low=decl.low,
            high=decl.high,
            variable=decl.variable,
        )

    def draw(self, name: str, instance: Instance, count: int, rng: np.random.Generator) -> BValue:
        """``count`` independent draws of a random variable, as a batch."""
        decl = self.random[name]
        symbol = self.symbols.get(name)
        if isinstance(symbol, MatrixSymbol):
            rows, cols = (self.symbols.size(d) for d in symbol.shape)
            shape: tuple[int, ...] = (count, rows, cols)
        else:
            shape = (count,)
        if decl.distribution == "bernoulli":
            p = self._probability(decl, instance)
            raw = (rng.random(shape) < p).astype(np.float64)
        elif decl.distribution == "normal":
            raw = rng.normal(_pick(decl.mean, rng), _pick(decl.std, rng), shape)
        else:
            raw = rng.uniform(decl.low, decl.high, shape)
        array = raw.astype(np.complex128)
        if isinstance(symbol, MatrixSymbol):
            return BMat(array, (symbol.shape[0], symbol.shape[1]))
        return array

    def _probability(self, decl: RandomDecl, instance: Instance) -> float:
        parameter = decl.parameter
        if isinstance(parameter, str):
            value = instance.values.get(parameter)
            if not isinstance(value, np.ndarray) or value.shape != (1,) or value[0].imag != 0:
                raise NotEvaluable(f"the Bernoulli probability {pretty_name(parameter)} has no scalar value")
            p = float(value[0].real)
        else:
            p = float(parameter if parameter is not None else 0.5)
        if not 0 <= p <= 1:
            raise NotEvaluable(f"the Bernoulli probability {format_value(p)} is not between 0 and 1")
        return p

    def sample_count(self, names: set[str]) -> int:
        """Samples per expectation, fewer for big random matrices (memory stays bounded)."""
        size = 1
        for name in names:
            symbol = self.symbols.get(name)
            if isinstance(symbol, MatrixSymbol):
                size = max(size, math.prod(self.symbols.size(d) for d in symbol.shape))
        return max(100, min(self.samples, MAX_SAMPLE_ENTRIES // (size * 4)))

    # -- quadrature -----------------------------------------------------------------------
    def grid(self, instance: Instance) -> tuple[np.ndarray, np.ndarray]:
        """Gauss–Legendre nodes and weights covering every density's support."""
        if not instance.densities:
            raise NotEvaluable("an integral over the real line needs densities declared in the rubric's [random] table")
        supports = [d.support() for d in instance.densities.values()]
        lo, hi = min(s[0] for s in supports), max(s[1] for s in supports)
        nodes, weights = _legendre(QUADRATURE_NODES)
        return lo + (hi - lo) * (nodes + 1) / 2, weights * (hi - lo) / 2


@lru_cache(maxsize=4)
def _legendre(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(count)


def _pick(value: float | tuple[float, float], rng: np.random.Generator) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    low, high = value
    return float(rng.uniform(low, high)) if high > low else float(low)


def _outside_expectations(trees: Sequence[Node]) -> set[str]:
    """Symbols used outside every E[...] (a random variable there is one realisation, worth naming)."""
    found: set[str] = set()
    stack = list(trees)
    while stack:
        node = stack.pop()
        if isinstance(node, Operator) and node.name == "E":
            continue
        if isinstance(node, Sym):
            found.add(node.name)
        stack.extend(children(node))
    return found


def _batch_of_one(value: complex | Mat) -> BValue:
    if isinstance(value, Mat):
        return BMat(value.a[None].astype(np.complex128), value.dims)
    return as_batch(value)


# ---------------------------------------------------------------------------------------------
# Expectations inside a side


@dataclass(frozen=True)
class _Hole:
    """A Monte Carlo expectation cut out of a side: ``name`` stands for ``E[body]``."""

    name: str
    body: Node


@dataclass
class _Prepared:
    tree: Node
    holes: list[_Hole]
    fixed: dict[str, BValue]
    method: set[str]


def _density_of(sub: Node | None, model: Model) -> tuple[str, str] | None:
    """``E_{x∼p_1}``, ``E_{p_1}``, ``E_{p_1(x)}``: (variable, density) when the subscript names a density."""
    match sub:
        case Sym(name) if name in model.density_names:
            return model.random[name].variable, name
        case Seq((Sym(variable), Sym(name)), _) if name in model.density_names:
            return variable, name
        case Call(name, (Sym(variable),)) if name in model.density_names:
            return variable, name
    return None


def _prepare(tree: Node, model: Model, instance: Instance, counter: list[int]) -> _Prepared:
    """Cut Monte Carlo expectations out as holes; compute integrals now (they have no sampling error)."""
    holes: list[_Hole] = []
    fixed: dict[str, BValue] = {}
    method: set[str] = set()
    hole_names: set[str] = set()

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def one(node: Node) -> Node | None:
        if isinstance(node, Operator) and node.name in ("E", "int"):
            if mentions(node.body, hole_names):
                raise NotEvaluable("an expectation over a random matrix inside another expectation or integral")
            over = _density_of(node.sub, model) if node.name == "E" else None
            if node.name == "int" or over is not None:
                name = fresh("__quad")
                fixed[name] = _integral(node, over, model, instance, fixed)
                method.add("quadrature")
                return Sym(name)
            if not (mentions(node.body, set(model.variables)) or (isinstance(node.sub, Sym) and node.sub.name in model.variables)):
                sub = f" over {_text(node.sub)}" if node.sub is not None else ""
                raise NotEvaluable(f"an expectation{sub} with no random variable declared in the rubric")
            name = fresh("__mc")
            holes.append(_Hole(name, node.body))
            hole_names.add(name)
            method.add("monte-carlo")
            return Sym(name)
        if isinstance(node, Call) and node.func in _DIVERGENCES and len(node.args) == 2:
            if all(mentions(a, set(model.density_names)) for a in node.args):
                name = fresh("__quad")
                fixed[name] = _divergence(_DIVERGENCES[node.func], node.args, model, instance, fixed)
                method.add("quadrature")
                return Sym(name)
        return None

    prepared = map_tree(tree, one)
    return _Prepared(prepared, holes, fixed, method)


def free_names(tree: Node, model: Model) -> list[str]:
    """Names that need a value: ``names_to_sample`` without integration variables (``x`` in E_{x∼p}[…], ∫ … dx)."""
    bound_only = set(names_to_sample([tree], model.symbols))
    outside: set[str] = set()
    stack: list[tuple[Node, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, Sym) and node.name not in bound:
            outside.add(node.name)
        if isinstance(node, Operator) and node.name in ("E", "int"):
            over = _density_of(node.sub, model) if node.name == "E" else None
            variable = over[0] if over is not None else integral_parts(node)[0] if node.name == "int" else None
            if node.name == "int" and variable is None:
                variable = _default_variable(model)
            inner = bound | {variable} if variable is not None else bound
            stack.append((node.body, inner))
            stack.extend((kid, bound) for kid in (node.sub, node.sup) if kid is not None and over is None)
            continue
        stack.extend((kid, bound) for kid in children(node))
    return sorted(bound_only & outside)


def _text(node: Node) -> str:
    from grader.math.evaluate import describe

    return describe(node, 30)


def _evaluator(model: Model, instance: Instance, values: Mapping[str, BValue], point: np.ndarray | None, trees: Sequence[Node]) -> BatchEvaluator:
    pdfs = {name: density.pdf for name, density in instance.densities.items()}
    return BatchEvaluator(
        model.symbols,
        {**instance.values, **values},
        in_matrix_context=matrix_context(trees, model.symbols),
        densities=pdfs,
        point=point,
    )


def _real_values(evaluator: BatchEvaluator) -> None:
    if evaluator.left_reals:
        raise Undefined("outside the real domain of the expression here")


def _integral(node: Operator, over: tuple[str, str] | None, model: Model, instance: Instance, fixed: Mapping[str, BValue]) -> BValue:
    written, low_end, high_end = integral_parts(node) if node.name == "int" else (None, None, None)
    bounded = low_end is not None and high_end is not None and not _infinite(low_end, high_end)
    if over is not None:
        variable = over[0]
    elif written is not None and written not in model.density_names:
        variable = written  # \int_0^1 ... dx, \int ... dx
    else:
        variable = _default_variable(model)
    if bounded:
        assert low_end is not None and high_end is not None
        bounds = _evaluator(model, instance, fixed, None, [node])
        low = _real_scalar(bounds.eval(low_end), "the lower bound of an integral")
        high = _real_scalar(bounds.eval(high_end), "the upper bound of an integral")
        unit, unit_weights = _legendre(QUADRATURE_NODES)
        nodes, weights = low + (high - low) * (unit + 1) / 2, unit_weights * (high - low) / 2
    else:
        nodes, weights = model.grid(instance)
    x = nodes.astype(np.complex128)
    evaluator = _evaluator(model, instance, {**fixed, variable: x}, x, [node.body])
    body = evaluator.eval(node.body)
    _real_values(evaluator)
    if over is not None:
        weights = weights * instance.densities[over[1]].pdf(nodes)
    return _weighted_sum(body, weights, nodes.size)


def _default_variable(model: Model) -> str:
    names = {model.random[d].variable for d in model.density_names}
    return sorted(names)[0] if names else "x"


def _infinite(low: Node, high: Node) -> bool:
    return any(isinstance(n, Const) and n.name == "inf" for n in walk(low) + walk(high))


def _real_scalar(value: BValue, what: str) -> float:
    if not isinstance(value, np.ndarray) or value.shape != (1,) or value[0].imag != 0:
        raise NotEvaluable(f"{what} must be a real number")
    return float(value[0].real)


def _weighted_sum(value: BValue, weights: np.ndarray, count: int) -> BValue:
    if isinstance(value, BMat):
        a = np.broadcast_to(value.a, (count, *value.a.shape[1:]))
        return BMat(np.tensordot(weights, a, axes=(0, 0))[None], value.dims)
    if isinstance(value, BScaling):
        return BScaling(as_batch(np.dot(weights, np.broadcast_to(value.c, (count,)))))
    return as_batch(np.dot(weights, np.broadcast_to(value, (count,))))


def _divergence(kind: str, args: tuple[Node, ...], model: Model, instance: Instance, fixed: Mapping[str, BValue]) -> BValue:
    nodes, weights = model.grid(instance)
    x = nodes.astype(np.complex128)
    evaluator = _evaluator(model, instance, fixed, x, list(args))
    a, b = (evaluator._scalar(evaluator.eval(arg), "a density") for arg in args)
    _real_values(evaluator)
    a, b = np.broadcast_to(a.real, nodes.shape), np.broadcast_to(b.real, nodes.shape)
    if np.any(a < 0) or np.any(b < 0):
        raise Undefined("a density with negative values")
    if kind == "kl":
        return as_batch(_kl(a, b, weights))
    m = (a + b) / 2
    return as_batch(0.5 * _kl(a, m, weights) + 0.5 * _kl(b, m, weights))


def _kl(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(a > 0, a * (np.log(a) - np.log(b)), 0.0)
    if not np.all(np.isfinite(terms)):
        raise Undefined("the divergence is infinite (the supports differ)")
    return float(np.dot(weights, terms))


# ---------------------------------------------------------------------------------------------
# Sides and comparisons


@dataclass(frozen=True)
class Comparison:
    """One side against the other on one instance."""

    holds: bool
    method: str
    left: np.ndarray
    right: np.ndarray
    difference: float
    bound: float
    samples: int = 0
    standard_error: float = 0.0
    worst: int = 0
    shape: tuple[int, int] | None = None
    z: float = 0.0

    def where(self) -> str:
        """``entry (2, 3)`` of a matrix, nothing for a number."""
        if self.shape is None or self.shape == (1, 1):
            return ""
        row, col = divmod(self.worst, self.shape[1])
        return f"entry ({row + 1}, {col + 1}): "

    def values_text(self) -> str:
        k = self.worst
        return f"{self.where()}left {format_value(complex(self.left[k]))}, right {format_value(complex(self.right[k]))}"


@dataclass
class _Side:
    value: BValue
    influence: BValue | None


def evaluate_side(tree: Node, model: Model, instance: Instance) -> BValue:
    """One deterministic value of an expression (integrals by quadrature, no Monte Carlo)."""
    prepared = _prepare(tree, model, instance, [0])
    if prepared.holes:
        raise NotEvaluable("the expression has an expectation over a random variable")
    evaluator = _evaluator(model, instance, prepared.fixed, None, [prepared.tree])
    value = evaluator.eval(prepared.tree)
    _real_values(evaluator)
    return value


def compare_sides(
    left: Node,
    right: Node,
    model: Model,
    instance: Instance,
    rng: np.random.Generator,
    *,
    instances: int,
    rtol: float,
    atol: float,
    false_reject: float = FALSE_REJECT,
) -> Comparison:
    """Is ``left = right`` on this instance? Raises ShapeError, NotEvaluable or Undefined when it cannot say.

    ``instances`` is how many instances the caller will test, so that the threshold ``z`` keeps the
    chance of rejecting a correct step below ``false_reject`` over all of them and every entry.
    A ShapeError names the side it comes from.
    """
    counter = [0]
    sides = [_labelled(0, lambda: _prepare(left, model, instance, counter)), _labelled(1, lambda: _prepare(right, model, instance, counter))]
    fixed = {k: v for side in sides for k, v in side.fixed.items()}
    methods = set().union(*(side.method for side in sides))
    trees = [side.tree for side in sides]
    if not any(side.holes for side in sides):
        evaluator = _evaluator(model, instance, fixed, None, trees)
        values = [_labelled(k, partial(evaluator.eval, trees[k])) for k in (0, 1)]
        _real_values(evaluator)
        a, b, shape = _aligned(values[0], values[1])
        return _decide(a, b, None, rtol=rtol, atol=atol, z=0.0, method="quadrature" if methods else "exact", samples=0, shape=shape)
    holes = [(k, hole) for k, side in enumerate(sides) for hole in side.holes]
    random_names = {n for _, hole in holes for n in model.variables if mentions(hole.body, {n})}
    count = model.sample_count(random_names)
    draws = {name: model.draw(name, instance, count, rng) for name in sorted(random_names)}
    body_eval = _evaluator(model, instance, {**fixed, **draws}, None, [h.body for _, h in holes] + trees)
    means: dict[str, BValue] = {}
    perturbed: dict[str, BValue] = {}
    for k, hole in holes:
        samples = _labelled(k, partial(body_eval.eval, hole.body))
        mean = _mean(samples)
        means[hole.name] = mean
        perturbed[hole.name] = _towards(mean, samples, _EPSILON)
    _real_values(body_eval)
    at_mean = _evaluator(model, instance, {**fixed, **means}, None, trees)
    at_sample = _evaluator(model, instance, {**fixed, **perturbed}, None, trees)
    estimates = [_labelled(k, partial(at_mean.eval, trees[k])) for k in (0, 1)]
    shifted = [at_sample.eval(tree) for tree in trees]
    _real_values(at_mean)
    _real_values(at_sample)
    a, b, shape = _aligned(estimates[0], estimates[1])
    a_shift, b_shift, _ = _aligned(shifted[0], shifted[1])
    influence = ((a_shift - a) - (b_shift - b)) / _EPSILON
    z = z_threshold(instances * a.shape[1], false_reject)
    return _decide(a, b, influence, rtol=rtol, atol=atol, z=z, method="monte-carlo", samples=count, shape=shape)


def _labelled(side: int, compute: Callable[[], _T]) -> _T:
    """Run ``compute``; a shape error says which side of the equality it is in."""
    try:
        return compute()
    except ShapeError as error:
        raise ShapeError(f"{('left', 'right')[side]} side: {error.reason}") from None


def _mean(samples: BValue) -> BValue:
    if isinstance(samples, BMat):
        return BMat(samples.a.mean(axis=0, keepdims=True), samples.dims)
    if isinstance(samples, BScaling):
        return BScaling(samples.c.mean(keepdims=True))
    return samples.mean(keepdims=True)


def _towards(mean: BValue, samples: BValue, epsilon: float) -> BValue:
    if isinstance(mean, BMat) and isinstance(samples, BMat):
        return BMat(mean.a + epsilon * (samples.a - mean.a), mean.dims)
    if isinstance(mean, BScaling) and isinstance(samples, BScaling):
        return BScaling(mean.c + epsilon * (samples.c - mean.c))
    assert isinstance(mean, np.ndarray) and isinstance(samples, np.ndarray)
    return mean + epsilon * (samples - mean)


def _aligned(left: BValue, right: BValue) -> tuple[np.ndarray, np.ndarray, tuple[int, int] | None]:
    """Both sides as (B, k) entries, or a ShapeError saying how their kinds or shapes differ."""
    if isinstance(left, BMat) and left.shape == (1, 1) and not isinstance(right, BMat):
        left = left.a[:, 0, 0]
    if isinstance(right, BMat) and right.shape == (1, 1) and not isinstance(left, BMat):
        right = right.a[:, 0, 0]
    if isinstance(left, BScaling) and isinstance(right, BMat) and right.shape[0] == right.shape[1]:
        left = BMat(left.c[:, None, None] * np.eye(right.shape[0]), right.dims)
    if isinstance(right, BScaling) and isinstance(left, BMat) and left.shape[0] == left.shape[1]:
        right = BMat(right.c[:, None, None] * np.eye(left.shape[0]), left.dims)
    if isinstance(left, BMat) and isinstance(right, BMat):
        if left.shape != right.shape:
            raise ShapeError(f"the left side is {dims_text(left.dims)} but the right side is {dims_text(right.dims)}")
    elif type(left) is not type(right):
        raise ShapeError(f"the left side is {kind_text(left)} but the right side is {kind_text(right)}")
    a, b = entries(left), entries(right)
    size = max(a.shape[0], b.shape[0])
    shape = left.shape if isinstance(left, BMat) else None
    return np.broadcast_to(a, (size, a.shape[1])), np.broadcast_to(b, (size, b.shape[1])), shape


def _decide(
    a: np.ndarray,
    b: np.ndarray,
    influence: np.ndarray | None,
    *,
    rtol: float,
    atol: float,
    z: float,
    method: str,
    samples: int,
    shape: tuple[int, int] | None,
) -> Comparison:
    a1, b1 = a[0], b[0]
    difference = np.abs(a1 - b1)
    scale = max(float(np.abs(a1).max(initial=0)), float(np.abs(b1).max(initial=0)))
    if influence is not None and influence.shape[0] > 1:
        spread = np.sqrt(influence.real.var(axis=0, ddof=1) + influence.imag.var(axis=0, ddof=1))
        se = spread / math.sqrt(influence.shape[0])
    else:
        se = np.zeros_like(difference)
    bound = z * se + atol + rtol * scale
    excess = difference - bound
    worst = int(np.argmax(excess)) if excess.size else 0
    return Comparison(
        holds=bool(np.all(excess <= 0)),
        method=method,
        left=a1,
        right=b1,
        difference=float(difference[worst]) if difference.size else 0.0,
        bound=float(bound[worst]) if bound.size else 0.0,
        samples=samples,
        standard_error=float(se[worst]) if se.size else 0.0,
        worst=worst,
        shape=shape,
        z=z,
    )
