"""Divergences between declared densities, computed by adaptive quadrature as the reference.

A student's JSD expression is evaluated on the same densities by the simulation evaluator (its
expectations by Gauss–Legendre quadrature); the value it must match is computed here, by a
different method (``scipy.integrate.quad`` on log-densities, adaptive, to about 1e-10), so an
agreement is not an artefact of sharing one grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from grader.math.evaluate import NotEvaluable
from grader.simulation.montecarlo import Density

__all__ = ["divergence", "jsd", "kl"]

_QUAD_LIMIT = 200


def _log_pdf(density: Density) -> Callable[[float], float]:
    if density.distribution == "normal":
        mean, std = density.mean, density.std
        constant = -math.log(std * math.sqrt(2 * math.pi))
        return lambda x: constant - 0.5 * ((x - mean) / std) ** 2
    if density.distribution == "uniform":
        low, high = density.low, density.high
        return lambda x: -math.log(high - low) if low <= x <= high else -math.inf
    raise NotEvaluable(f"no density for the distribution {density.distribution!r}")


def _integrate(integrand: Callable[[float], float], lows: list[float], highs: list[float]) -> float:
    low, high = min(lows), max(highs)
    from scipy.integrate import quad  # scipy.integrate costs a third of a second: loaded when needed

    value, _ = quad(integrand, low, high, limit=_QUAD_LIMIT, epsabs=1e-13, epsrel=1e-11)
    return float(value)


def _span(density: Density) -> tuple[float, float]:
    if density.distribution == "normal":
        return density.mean - 12 * density.std, density.mean + 12 * density.std
    return density.low, density.high


def kl(p: Density, q: Density) -> float:
    """KL(p ‖ q) = ∫ p log(p/q)."""
    log_p, log_q = _log_pdf(p), _log_pdf(q)

    def integrand(x: float) -> float:
        lp = log_p(x)
        if lp == -math.inf:
            return 0.0
        lq = log_q(x)
        if lq == -math.inf:
            raise NotEvaluable("KL is infinite: the second density is zero where the first is not")
        return math.exp(lp) * (lp - lq)

    lo, hi = _span(p)
    return _integrate(integrand, [lo], [hi])


def jsd(p: Density, q: Density) -> float:
    """JSD(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = (p + q)/2, in nats."""
    log_p, log_q = _log_pdf(p), _log_pdf(q)

    def integrand(x: float) -> float:
        lp, lq = log_p(x), log_q(x)
        lm = float(np.logaddexp(lp, lq)) - math.log(2)
        total = 0.0
        if lp > -math.inf:
            total += 0.5 * math.exp(lp) * (lp - lm)
        if lq > -math.inf:
            total += 0.5 * math.exp(lq) * (lq - lm)
        return total

    spans = [_span(p), _span(q)]
    return _integrate(integrand, [s[0] for s in spans], [s[1] for s in spans])


def divergence(kind: Literal["jsd", "kl"], p: Density, q: Density) -> float:
    return jsd(p, q) if kind == "jsd" else kl(p, q)
