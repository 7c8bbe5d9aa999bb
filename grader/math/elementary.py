"""The whitelisted scalar functions as vectorised kernels: complex arrays in, complex arrays out.

Branch cuts are the C99/``cmath`` ones (``sqrt(-4) = 2i``, ``log(-1) = πi``); a value that is
not defined (``log 0``, ``cot 0``) raises :class:`Undefined` with ``exact`` set, and functions
that only make sense for real numbers (``floor``, ``sign``) refuse complex ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.math.values import Undefined

Kernel = Callable[[np.ndarray], np.ndarray]

#: functions whose finite arguments may give an infinite value without overflowing
_POLES = frozenset({"tan", "sec", "csc", "cot", "coth", "csch", "arctanh", "gamma"})


def _special() -> Any:
    """scipy.special, loaded when a formula first needs it (importing it takes a tenth of a second)."""
    from scipy import special

    return special


def _complex(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(x, dtype=np.complex128)


def _log(x: np.ndarray) -> np.ndarray:
    if np.any(x == 0):
        raise Undefined("log of 0", exact=True)
    return np.log(x)


def _reciprocal(f: Kernel) -> Kernel:
    def inverse(x: np.ndarray) -> np.ndarray:
        value = f(x)
        if np.any(value == 0):
            raise Undefined("division by zero", exact=True)
        return 1 / value

    return inverse


def _of_reciprocal(f: Kernel) -> Kernel:
    """``arcsec(x) = arccos(1/x)`` and friends (SymPy's conventions for real x)."""

    def apply(x: np.ndarray) -> np.ndarray:
        if np.any(x == 0):
            raise Undefined("division by zero", exact=True)
        return f(1 / x)

    return apply


def _real_only(f: Callable[[np.ndarray], np.ndarray], name: str) -> Kernel:
    def apply(x: np.ndarray) -> np.ndarray:
        if np.any(x.imag != 0):
            raise Undefined(f"{name} of a complex number")
        return _complex(f(x.real))

    return apply


def _arccot(x: np.ndarray) -> np.ndarray:
    safe = np.where(x == 0, 1, x)
    return np.where(x == 0, math.pi / 2, np.arctan(1 / safe))


def _logistic(x: np.ndarray) -> np.ndarray:
    if np.all(x.imag == 0):
        r = np.abs(x.real)
        small = np.exp(-r)
        return _complex(np.where(x.real >= 0, 1 / (1 + small), small / (1 + small)))
    return 1 / (1 + np.exp(-x))


def _gamma(x: np.ndarray) -> np.ndarray:
    if np.any(x.imag != 0):
        raise Undefined("the gamma function of a complex number")
    if np.any((x.real <= 0) & (x.real == np.round(x.real))):
        raise Undefined("the gamma function at a non-positive integer", exact=True)
    return _complex(_special().gamma(x.real))


SCALAR_KERNELS: dict[str, Kernel] = {
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
    "sech": _reciprocal(np.cosh),
    "csch": _reciprocal(np.sinh),
    "coth": _reciprocal(np.tanh),
    "arcsinh": np.arcsinh,
    "arccosh": np.arccosh,
    "arctanh": np.arctanh,
    "arccot": _arccot,
    "arcsec": _of_reciprocal(np.arccos),
    "arccsc": _of_reciprocal(np.arcsin),
    "exp": np.exp,
    "log": _log,
    "ln": _log,
    "sqrt": np.sqrt,
    "floor": _real_only(np.floor, "floor"),
    "ceil": _real_only(np.ceil, "ceil"),
    "sign": _real_only(np.sign, "sign"),
    "round": _real_only(np.round, "round"),  # ties to even, like Maxima's round
    "erf": lambda x: _complex(_special().erf(x)),
    "erfc": lambda x: _complex(_special().erfc(x)),
    "abs": lambda x: _complex(np.abs(x)),
}

#: kernels the function library (``grader.math.library``) refers to by name
LIBRARY_KERNELS: dict[str, Kernel] = {"logistic": _logistic}


def overflows(name: str, x: np.ndarray, out: np.ndarray) -> bool:
    """A finite argument gave an infinite value: a number overflowed (not a value ∞)."""
    if name in _POLES:
        return False
    return bool(np.any(np.isfinite(x) & ~np.isfinite(out)))


def log_of(x: np.ndarray) -> np.ndarray:
    return _log(x)


def gamma_of(x: np.ndarray) -> np.ndarray:
    return _gamma(x)
