"""What evaluation produces and what can go wrong: values (one point or a batch), and the errors.

One evaluator (``grader.math.evaluate``) computes on batches: a scalar is a complex array of
shape ``(B,)``, a matrix a :class:`BMat` of shape ``(B, rows, cols)`` with the *names* of its
dimensions, an identity of unknown size a :class:`BScaling`. ``B`` is 1 when one point is
evaluated (the comparison of two answers), thousands for a Monte Carlo expectation or an ODE
step; a batch of 1 broadcasts against any other. At one point the evaluator hands back the
plain forms: ``complex``, :class:`Mat` and :class:`Scaling`.

Errors tell the caller what a failure means:
- :class:`ShapeError`: the expression is not defined for the declared shapes (any point);
- :class:`NotEvaluable`: this engine cannot evaluate it (E, max, unknown functions; ``TooLarge``);
- :class:`Undefined`: not defined at *this* point (division by zero, overflow): try another point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

Dim: TypeAlias = str | int


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


class FreeIndex(ShapeError):
    """``x_i`` outside a sum over ``i``: an entry of a sample with no index value is not a number."""


class Undefined(EvalError):
    """Not defined at this point; ``exact`` is True for a division by zero or a singular matrix."""

    def __init__(self, reason: str, *, exact: bool = False) -> None:
        super().__init__(reason)
        self.exact = exact


# ---------------------------------------------------------------------------------- one point


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


@dataclass(frozen=True, slots=True, eq=False)
class Data:
    """The values of a declared sample ``x_1, …, x_n``: ``a`` has shape ``(B, n)`` (``B`` is 1 at a point)."""

    a: np.ndarray

    @property
    def length(self) -> int:
        return int(self.a.shape[-1])


# ---------------------------------------------------------------------------------- batches


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


def dims_text(dims: tuple[Dim, Dim]) -> str:
    return f"({dims[0]}×{dims[1]})"


def kind_text(value: BValue | Value) -> str:
    """What a value is, for messages: ``a (n×d) matrix``, a multiple of the identity, a number."""
    if isinstance(value, BMat | Mat):
        return f"a {dims_text(value.dims)} matrix"
    if isinstance(value, BScaling | Scaling):
        return "a multiple of the identity matrix"
    return "a number"


def to_batch(value: Value) -> BValue:
    """A value at one point as a batch of one."""
    if isinstance(value, Mat):
        return BMat(value.a[None], value.dims)
    if isinstance(value, Scaling):
        return BScaling(as_batch(value.c))
    return as_batch(value)


def at_point(value: BValue) -> Value:
    """A batch of one as the value at that point."""
    if isinstance(value, BMat):
        return Mat(value.a[0], value.dims)
    if isinstance(value, BScaling):
        return Scaling(complex(value.c[0]))
    return complex(value[0])


# ---------------------------------------------------------------------------------- functions


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

    def __call__(self, args: Sequence[Value]) -> complex:
        """The value at one point."""
        return complex(self.batch([to_batch(a) for a in args])[0])

    def batch(self, args: list[BValue]) -> np.ndarray:
        count = len(args)
        rng = np.random.default_rng([self.seed, count])
        a = rng.uniform(-0.8, 0.8, count)
        b = rng.uniform(-0.5, 0.5)
        c = rng.uniform(0.3, 0.8)
        d = rng.uniform(0.7, 2.0, count) * rng.choice([-1.0, 1.0], count)
        g = rng.uniform(-0.5, 0.5)
        phase = rng.uniform(0.0, 2 * math.pi)
        t = [self._scalar(value, k) for k, value in enumerate(args)]
        linear = sum((a[k] * t[k] for k in range(count)), as_batch(b))
        inner = sum((d[k] * t[k] for k in range(count)), as_batch(phase))
        if count >= 2:
            inner = inner + g * t[0] * t[1]
        return np.exp(linear) * (1 + c * np.sin(inner))

    def _scalar(self, value: BValue, index: int) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, BScaling):
            return value.c
        rows, cols = value.shape
        weights = np.random.default_rng([self.seed, 1000 + index, rows, cols]).standard_normal((rows, cols))
        return np.sum(weights * value.a, axis=(-2, -1)) / math.sqrt(rows * cols)


#: what a sample point assigns: values to symbols, data to samples, random functions to uninterpreted functions
Sample: TypeAlias = Value | Data | RandomFunction
