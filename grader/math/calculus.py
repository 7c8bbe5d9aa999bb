"""Derivatives, definite integrals, limits and infinite series, numerically and with a bounded cost.

Each takes the body as a function of one real variable (the evaluator binds the variable and
walks the tree) and returns its value for the whole batch, or raises: :class:`Undefined` when
the estimate is not trustworthy at this point (a kink, a pole near the point), and
:class:`NotEvaluable` when the method cannot reach the accuracy a comparison needs (a slowly
converging series, an oscillating limit) — never a number it does not believe. Every estimate is
made twice (two step sizes, two refinements) and must agree with itself to about 10 digits.

Costs are fixed: a derivative of order k takes 8^k evaluations, an integral at most 2048 points,
a limit 2 × 8 evaluations, a series 8192 terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from grader.math.values import NotEvaluable, Undefined

#: values of the body at one value of the variable (any array shape, the batch first)
AtOne = Callable[[float], np.ndarray]
#: values of the body at many values of the variable, stacked along a new first axis
AtMany = Callable[[np.ndarray], np.ndarray]
#: values of the body with the variable set per batch element (an array of the batch's shape)
AtPoints = Callable[[np.ndarray], np.ndarray]

MAX_DERIVATIVE_ORDER = 3
_AGREE = 1e-9
_PANEL_NODES = 16
_MAX_PANELS = 128
_SERIES_TERMS = 8192
_LIMIT_STEPS = 8


def _agree(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    scale = 1.0 + np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(np.abs(a - b) <= tolerance * scale))


def derivative(f: AtPoints, x: np.ndarray, order: int = 1) -> np.ndarray:
    """``d^order f / dx^order`` at ``x`` (a value per batch element) by 5-point central differences,
    checked at two step sizes."""
    if order < 1:
        return f(x)
    if order > MAX_DERIVATIVE_ORDER:
        raise NotEvaluable(f"derivatives of order above {MAX_DERIVATIVE_ORDER} are not evaluated")
    inner = (lambda t: derivative(f, t, order - 1)) if order > 1 else f
    step = (1e-3 if order == 1 else 1e-2) * np.maximum(1.0, np.abs(x))

    def central(h: np.ndarray) -> np.ndarray:
        return (inner(x - 2 * h) - 8 * inner(x - h) + 8 * inner(x + h) - inner(x + 2 * h)) / (12 * h)

    coarse, fine = central(2 * step), central(step)
    if not _agree(coarse, fine, 1e-6 if order == 1 else 1e-4):
        raise Undefined("the derivative does not settle here (a kink or a pole nearby)")
    return fine + (fine - coarse) / 15


@lru_cache(maxsize=1)
def _legendre() -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(_PANEL_NODES)
    return nodes, weights


def _panels(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights of ``count`` equal panels of (-1, 1)."""
    unit, unit_weights = _legendre()
    edges = np.linspace(-1.0, 1.0, count + 1)
    half = (edges[1:] - edges[:-1]) / 2
    centre = (edges[1:] + edges[:-1]) / 2
    nodes = (centre[:, None] + half[:, None] * unit[None, :]).ravel()
    weights = (half[:, None] * unit_weights[None, :]).ravel()
    return nodes, weights


def integral(f: AtMany, low: float, high: float) -> np.ndarray:
    """``∫_low^high f``; infinite ends are mapped onto (-1, 1). Panels double until two estimates agree."""
    if math.isnan(low) or math.isnan(high):
        raise Undefined("an integral with an undefined end")
    if low == high:
        return np.zeros_like(f(np.array([low]))[0])
    sign = 1.0
    if low > high:
        low, high, sign = high, low, -1.0
    transform = _mapping(low, high)
    previous: np.ndarray | None = None
    panels = 1
    while panels <= _MAX_PANELS:
        t, w = _panels(panels)
        x, dx = transform(t)
        values = f(x)
        weights = (w * dx).reshape((-1,) + (1,) * (values.ndim - 1))
        estimate = np.sum(values * weights, axis=0)
        if not np.all(np.isfinite(estimate)):
            raise Undefined("the integral does not converge (the integrand is not finite)")
        if previous is not None and _agree(estimate, previous, _AGREE):
            return sign * estimate
        previous = estimate
        panels *= 2
    raise NotEvaluable("the integral could not be computed to enough digits (a singularity or oscillation)")


def _mapping(low: float, high: float) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``x(t)`` and ``dx/dt`` taking t ∈ (-1, 1) onto (low, high)."""
    if math.isinf(low) and math.isinf(high):
        return lambda t: (t / (1 - t**2), (1 + t**2) / (1 - t**2) ** 2)
    if math.isinf(high):
        return lambda t: (low + (1 + t) / (1 - t), 2 / (1 - t) ** 2)
    if math.isinf(low):
        return lambda t: (high - (1 - t) / (1 + t), 2 / (1 + t) ** 2)
    return lambda t: (low + (high - low) * (t + 1) / 2, np.full_like(t, (high - low) / 2))


def _extrapolate(steps: np.ndarray, values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Neville's polynomial extrapolation to step 0, from all points and from all but the first."""

    def neville(hs: np.ndarray, ys: list[np.ndarray]) -> np.ndarray:
        table = list(ys)
        for level in range(1, len(table)):
            for k in range(len(table) - level):
                table[k] = (hs[k + level] * table[k] - hs[k] * table[k + 1]) / (hs[k + level] - hs[k])
        return table[0]

    return neville(steps, values), neville(steps[1:], values[1:])


def limit(f: AtOne, target: float, side: int = 0) -> np.ndarray:
    """``lim_{x→target} f`` (``side`` -1 or +1 for one side; ``target`` may be ±∞), by Richardson
    extrapolation in the step; two-sided limits must agree from both sides."""
    sides = (side,) if side else (-1, 1)
    estimates = []
    for direction in sides:
        if math.isinf(target):
            steps = 0.5 * 0.5 ** np.arange(_LIMIT_STEPS)
            sign = 1.0 if target > 0 else -1.0
            values = [f(sign / h) for h in steps]
        else:
            steps = 0.25 * max(1.0, abs(target)) * 0.5 ** np.arange(_LIMIT_STEPS)
            values = [f(target + direction * h) for h in steps]
        best, check = _extrapolate(steps, values)
        if not (_agree(best, check, 1e-7) and np.all(np.isfinite(best))):
            raise NotEvaluable("the limit could not be found numerically (it may not exist, or be infinite)")
        estimates.append(best)
    if len(estimates) == 2 and not _agree(estimates[0], estimates[1], 1e-6):
        raise Undefined("the limits from the left and from the right differ")
    return estimates[-1]


def series(terms: AtMany, start: int) -> np.ndarray:
    """``∑_{k=start}^∞ term(k)`` from 8192 terms: the partial sums, extrapolated in 1/N (Richardson)."""
    ks = np.arange(start, start + _SERIES_TERMS, dtype=float)
    values = terms(ks)
    if not np.all(np.isfinite(values)):
        raise Undefined("a term of the series is not finite")
    partial = np.cumsum(values, axis=0)
    head, tail = np.max(np.abs(values[:64]), axis=0), np.max(np.abs(values[-64:]), axis=0)
    if np.any(tail > 1e-3 * np.maximum(head, 1e-300)):
        raise NotEvaluable("the series does not converge: its terms do not go to 0")
    counts = 2 ** np.arange(7, 14)  # partial sums of 128 … 8192 terms (even counts: alternating series settle)
    sums = [partial[n - 1] for n in counts]
    if _agree(sums[-1], sums[-2], 1e-12):
        return sums[-1]
    best, check = _extrapolate(1.0 / counts, sums)
    if not _agree(best, check, 1e-8):
        raise NotEvaluable("the series converges too slowly to be summed numerically")
    return best
