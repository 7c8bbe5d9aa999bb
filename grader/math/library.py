"""Named function definitions a rubric imports, instead of built-in meanings for single letters.

``σ`` is the logistic function in a machine-learning course and a standard deviation in a
statistics course, so no letter means a function unless the rubric says so:

    [symbols.sigma]
    kind = "function"
    library = "logistic"

Each entry is a body in calculator syntax over ``u`` (``v`` for a second argument), read by the
same parser and evaluator as a rubric's own ``definition``.
"""

from __future__ import annotations

#: name -> (arity, definition over u, v; what it is)
DEFINITIONS: dict[str, tuple[int, str, str]] = {
    "logistic": (1, "1/(1+exp(-u))", "the logistic (sigmoid) function 1/(1+e^{-u})"),
    "softplus": (1, "log(1+exp(u))", "softplus, log(1+e^u)"),
    "relu": (1, "max(u, 0)", "the rectified linear unit max(u, 0)"),
    "heaviside": (1, "(1+sign(u))/2", "the Heaviside step (1/2 at 0)"),
    "normal_cdf": (1, "(1+erf(u/sqrt(2)))/2", "Φ, the standard normal distribution function"),
    "normal_pdf": (1, "exp(-u^2/2)/sqrt(2*pi)", "φ, the standard normal density"),
    "logit": (1, "log(u/(1-u))", "the logit log(u/(1-u)), inverse of the logistic function"),
    "sinc": (1, "sin(u)/u", "sin(u)/u (undefined at 0)"),
}

#: other spellings a rubric may use
ALIASES: dict[str, str] = {"sigmoid": "logistic", "Phi": "normal_cdf", "phi": "normal_pdf", "ReLU": "relu"}


def library_names() -> list[str]:
    return sorted({*DEFINITIONS, *ALIASES})


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def lookup(name: str) -> tuple[int, str] | None:
    """(arity, definition) of a library function, or None."""
    entry = DEFINITIONS.get(ALIASES.get(name, name))
    return None if entry is None else (entry[0], entry[1])
