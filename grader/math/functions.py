"""The function whitelist shared by the parsers and the evaluator.

A name in :data:`KNOWN_FUNCTIONS` is always a function, whatever the rubric declares: ``\\sin``,
``log``, ``diag`` are never products of letters. Every other ``Call`` in a tree comes from a
function declared in the rubric's SymbolTable (``sigma``, ``D^*``, ``f_0``) or from the parsers'
documented fallbacks (an upright multi-letter name such as ``JSD`` or ``D_KL`` followed by
parentheses, and the calculus placeholders in :data:`CALCULUS_FUNCTIONS`). Evaluators must treat
those as unknown unless they implement them, except that a function the rubric declares without a
definition is *uninterpreted*: the comparison substitutes random smooth functions for it.

Spellings read only in calculator syntax (``grader.math.text``), because in LaTeX they are either
other commands or ambiguous: ``lg(x)`` is ``log(x, 10)`` and ``lg(x, b)`` is ``log(x, b)`` (Maxima,
ISO 80000; CS texts use lg for log₂, so LaTeX ``\\lg`` stays unsupported), ``log10``/``log2``,
``root(x)`` is ``sqrt(x)`` (Maxima), ``abs``/``Abs`` is ``|x|``, ``factorial(n)`` is ``n!``, and
``max(a)``/``min(a)`` with one argument is ``a``.
"""

from __future__ import annotations

#: canonical function name -> usual number of arguments (see :func:`arity_ok` for the exceptions)
KNOWN_FUNCTIONS: dict[str, int] = {
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "cot": 1,
    "sec": 1,
    "csc": 1,
    "arcsin": 1,
    "arccos": 1,
    "arctan": 1,
    "sinh": 1,
    "cosh": 1,
    "tanh": 1,
    "sech": 1,
    "csch": 1,
    "coth": 1,
    "arcsinh": 1,
    "arccosh": 1,
    "arctanh": 1,
    "arccot": 1,
    "arcsec": 1,
    "arccsc": 1,
    "atan2": 2,  # atan2(y, x): the angle of the point (x, y), as in C and SymPy
    "exp": 1,
    "log": 1,  # natural log; Call("log", (x, base)) when a base is written (\log_2 x, log(x, 2))
    "sqrt": 1,
    "root": 2,  # root(x, n): the n-th root, from \sqrt[n]{x}
    "diag": 1,
    "tr": 1,
    "det": 1,
    "Var": 1,
    "Cov": 2,
    "rank": 1,
    "floor": 1,
    "ceil": 1,
    "sign": 1,
    "round": 1,  # to the nearest integer, ties to even (Maxima's and Python's rule)
    "erf": 1,
    "erfc": 1,
    "binom": 2,
    "max": 2,  # two or more arguments: \max(a, b, c); calculator syntax reads max(a) as a
    "min": 2,
}

#: Placeholders the LaTeX parser emits for calculus it can read but nobody evaluates:
#: ``\frac{\partial f}{\partial x}`` -> Call("diff", (f, x)) (one variable per derivative order),
#: ``\nabla_x f`` -> Call("grad", (f, x)) (or (f,) without a subscript).
CALCULUS_FUNCTIONS: dict[str, int] = {"diff": 2, "grad": 1}

#: Other placeholders the readers emit for notation: ``\\bar{x}`` of a declared sample is
#: ``Call("mean", (x,))`` and the order term of an expansion ``O(x^3)`` is ``Call("O", (x^3,))``.
NOTATION_FUNCTIONS: dict[str, int] = {"mean": 1, "O": 1}

#: other spellings -> canonical name; used for LaTeX commands (``\ln``), upright names
#: (``\operatorname{Tr}``, ``\mathrm{diag}``), bare words (``diag(...)``) and calculator syntax.
FUNCTION_ALIASES: dict[str, str] = {
    **{name: name for name in KNOWN_FUNCTIONS},
    "ln": "log",
    "Tr": "tr",
    "trace": "tr",
    "Trace": "tr",
    "var": "Var",
    "Variance": "Var",
    "cov": "Cov",
    "Diag": "diag",
    "Det": "det",
    "sgn": "sign",
    "signum": "sign",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "cosec": "csc",
    "cosech": "csch",
    **{prefix + name: "arc" + name for prefix in ("a", "ar", "arg") for name in ("sinh", "cosh", "tanh")},
    "acot": "arccot",
    "asec": "arcsec",
    "acsc": "arccsc",
    "arctan2": "atan2",
    "binomial": "binom",
    "Max": "max",  # Maxima's and SymPy's capitalised spellings
    "Min": "min",
    "Rank": "rank",
}

#: LaTeX commands (without the backslash) that name a whitelisted function.
LATEX_FUNCTION_COMMANDS: frozenset[str] = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "exp",
        "log",
        "ln",
        "det",
        "sgn",
        "erf",
    }
)

#: ``\sin^{-1} x`` means the inverse function, not a reciprocal.
INVERSE_FUNCTIONS: dict[str, str] = {"sin": "arcsin", "cos": "arccos", "tan": "arctan"}

#: Big operators (tree.Operator names) and their other spellings.
OPERATOR_ALIASES: dict[str, str] = {
    "max": "max",
    "min": "min",
    "argmax": "argmax",
    "argmin": "argmin",
    "sup": "sup",
    "inf": "inf",
    "sum": "sum",
    "prod": "prod",
    "int": "int",
    "lim": "lim",
}

#: Operators whose body runs to the end of the surrounding sum: ``\max_w f(w) + g(w)`` is the max of
#: the whole objective, and ``\int ... dx`` runs to its differential. The others (``\sum``, ``\prod``,
#: ``\lim``, an ``\mathbb{E}`` without brackets) take the rest of the product only, so
#: ``\sum_k a_k + b`` is ``(\sum_k a_k) + b``.
WIDE_OPERATORS: frozenset[str] = frozenset({"max", "min", "argmax", "argmin", "sup", "inf", "int"})


def canonical_function(name: str) -> str | None:
    """The whitelisted function a spelling stands for, or None."""
    return FUNCTION_ALIASES.get(name)


def arity_ok(func: str, count: int) -> bool:
    """Whether a whitelisted function accepts ``count`` arguments (log takes an optional base)."""
    if func in ("max", "min"):
        return count >= 2
    if func == "log":
        return count in (1, 2)
    expected = KNOWN_FUNCTIONS.get(func)
    return expected is None or expected == count
