"""The one place checkers are registered; a rubric part's ``kind`` selects one of them.

The ``sealed-*`` kinds are what ``grader rubric seal`` turns the open kinds into: the same
questions, checked against fingerprints instead of reference answers.

A checker's module is imported when its kind is first asked for, so checking a formula never
loads the simulators (and ``grader check --question`` starts faster).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from grader.checking.base import Checker
from grader.rubric.models import PART_MODELS

__all__ = ["KINDS", "MATH_KINDS", "SEALED_KINDS", "checker_for"]

#: kind → (module, class) of its checker.
_CHECKERS: dict[str, tuple[str, str]] = {
    "choice": ("grader.checking.choice", "ChoiceChecker"),
    "manual": ("grader.checking.manual", "ManualChecker"),
    "numeric": ("grader.checking.numeric", "NumericChecker"),
    "symbolic": ("grader.checking.symbolic", "SymbolicChecker"),
    "sealed-math": ("grader.checking.sealed_math", "SealedMathChecker"),
    "sealed-choice": ("grader.checking.sealed_choice", "SealedChoiceChecker"),
    "sealed-manual": ("grader.checking.sealed_manual", "SealedManualChecker"),
    "derivation": ("grader.checking.derivation", "DerivationChecker"),
    "dynamics": ("grader.checking.dynamics", "DynamicsChecker"),
    "divergence": ("grader.checking.divergence", "DivergenceChecker"),
}
KINDS = frozenset(_CHECKERS)

#: Kinds whose answer is a formula (checked through grader.checking.mathcheck).
MATH_KINDS = frozenset({"symbolic", "numeric", "sealed-math"})
SEALED_KINDS = frozenset({"sealed-math", "sealed-choice", "sealed-manual"})

if KINDS != set(PART_MODELS):
    raise RuntimeError("every part kind of the rubric needs exactly one checker")  # a wiring bug, caught at import

_loaded: dict[str, Checker[Any]] = {}
_lock = threading.Lock()


def checker_for(kind: str) -> Checker[Any]:
    """The checker of ``kind`` (KeyError for a kind no rubric part can have)."""
    checker = _loaded.get(kind)
    if checker is not None:
        return checker
    module, name = _CHECKERS[kind]
    with _lock:
        checker = getattr(importlib.import_module(module), name)()
        if checker.kind != kind or checker.part_model is not PART_MODELS[kind]:
            raise RuntimeError(f"{module}.{name} does not check parts of kind {kind!r}")  # a wiring bug
        _loaded[kind] = checker
    return checker
