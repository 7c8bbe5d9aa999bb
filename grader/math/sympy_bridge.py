"""Expression tree → SymPy, built only from SymPy constructors, and a bounded symbolic check.

Why a bridge and not ``sympify``: answers are untrusted text, and SymPy's string parsing runs
``eval``. Every object here is built from a node with a constructor (``Symbol``, ``Add``, ``Pow``…),
so no string from an answer ever reaches a SymPy API.

Choices:
- Exact integers go further than floats: ``175!`` and ``(x - a)^6000`` are built (the numeric
  evaluator refuses them), but a difference holding such a power is only sign-normalised, never
  expanded.
- Symbols carry the declared domain as assumptions (``positive=True`` for ``(0, 1)`` or
  ``positive``), so ``sqrt(p^2)`` simplifies to ``p`` exactly when the rubric says ``p > 0``.
  SymPy has no upper-bound assumptions; ``(0, 1)`` only tells it ``p > 0``.
- Decimals stay ``Float`` (``0.33`` is not ``1/3``), integers and the numerator/denominator of
  fractions stay exact.
- Scalars only: a tree that mentions a declared matrix (or a matrix literal) gives ``None``;
  matrices are compared numerically with random draws of the declared shapes.
- The same size guards as the evaluator refuse bombs before SymPy starts to compute them
  (SymPy evaluates ``2**(2**100)`` eagerly inside the constructor).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction

import sympy

from grader.math.evaluate import (
    IMAGINARY_UNIT,
    MAX_EXPONENT,
    MAX_SUM_TERMS,
    TooLarge,
    check_size,
    matrix_context,
)
from grader.math.symbols import Domain, FunctionSymbol, MatrixSymbol, ScalarSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Operator,
    ParseError,
    Pow,
    Relation,
    Sym,
    Transpose,
)

__all__ = ["Unsupported", "symbol_for", "symbolic_equal", "symbolic_ratio", "to_sympy"]

_MAX_INTEGER_BITS = 100_000
#: more terms than this from ``expand`` is a bomb, not an answer
MAX_EXPANDED_TERMS = 20_000
#: exact integers are cheap well beyond what floats can hold: 1000! has 2568 digits
_MAX_EXACT_FACTORIAL = 1000
#: a power of a symbolic base, like (x - a)^6000, is only built (never expanded, see symbolic_equal)
_MAX_SYMBOLIC_EXPONENT = 100_000


class Unsupported(Exception):
    """The tree has no scalar SymPy counterpart (matrices, sets, E[…]); ``reason`` says which part."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_sympy(node: Node, symbols: SymbolTable | None = None) -> sympy.Expr | None:
    """The SymPy expression for a scalar tree, or None when there is none (see :class:`Unsupported`)."""
    try:
        return convert(node, symbols or SymbolTable())
    except (Unsupported, TooLarge):
        return None


def convert(node: Node, symbols: SymbolTable, *, exact_decimals: bool = False) -> sympy.Expr:
    """Like :func:`to_sympy` but raises :class:`Unsupported` or ``TooLarge`` with the reason.

    ``exact_decimals`` reads ``0.1`` as the Rational 1/10 (exact equality was asked for)
    instead of a Float.
    """
    check_size(node)
    if matrix_context([node], symbols):
        raise Unsupported("the expression involves matrices")
    return _Converter(symbols, {}, exact_decimals).run(node)


def symbol_for(name: str, domain: Domain | None) -> sympy.Symbol:
    """A SymPy symbol whose assumptions say what the declared domain says (real unless complex)."""
    if domain is None:
        return sympy.Symbol(name, real=True)
    if domain.complex:
        return sympy.Symbol(name)
    assumptions: dict[str, bool] = {"real": True}
    if domain.integer:
        assumptions["integer"] = True
    if domain.low > 0 or (domain.low == 0 and domain.low_open):
        assumptions["positive"] = True
    elif domain.low == 0:
        assumptions["nonnegative"] = True
    elif domain.high < 0 or (domain.high == 0 and domain.high_open):
        assumptions["negative"] = True
    elif domain.high == 0:
        assumptions["nonpositive"] = True
    if domain.nonzero:
        assumptions["nonzero"] = True
    return sympy.Symbol(name, **assumptions)


class _Converter:
    def __init__(
        self, symbols: SymbolTable, bound: Mapping[str, sympy.Expr], exact_decimals: bool = False
    ) -> None:
        self.symbols = symbols
        self.bound = dict(bound)
        self.exact_decimals = exact_decimals

    def run(self, node: Node) -> sympy.Expr:
        match node:
            case Num(text):
                return _number(text, exact=self.exact_decimals)
            case Const(name):
                return {"pi": sympy.pi, "e": sympy.E, "i": sympy.I, "inf": sympy.oo}[name]
            case Sym(name):
                return self._symbol(name)
            case Add(terms):
                return sympy.Add(*(self.run(t) for t in terms))
            case Neg(arg):
                return sympy.Mul(sympy.Integer(-1), self.run(arg))
            case Mul(factors):
                return sympy.Mul(*(self.run(f) for f in factors))
            case Hadamard(left, right):
                return sympy.Mul(self.run(left), self.run(right))
            case Div(num, den):
                return sympy.Mul(self.run(num), _power(self.run(den), sympy.Integer(-1)))
            case Pow(base, exp):
                return _power(self.run(base), self.run(exp))
            case Transpose(arg):
                return self.run(arg)
            case Norm(arg, _):
                return sympy.Abs(self.run(arg))
            case Factorial(arg):
                value = self.run(arg)
                if value.is_Number and value > _MAX_EXACT_FACTORIAL:
                    raise TooLarge(f"a factorial of {value} is too large")
                return sympy.factorial(value)
            case Call(func, args):
                return self._call(func, args)
            case Operator(name, body, sub, sup):
                return self._operator(name, body, sub, sup)
            case MatrixLit():
                raise Unsupported("a matrix")
        raise Unsupported(f"{type(node).__name__} has no scalar SymPy form")

    def _symbol(self, name: str) -> sympy.Expr:
        if name in self.bound:
            return self.bound[name]
        decl = self.symbols.get(name)
        if isinstance(decl, MatrixSymbol):
            raise Unsupported(f"{name} is a matrix")
        if isinstance(decl, FunctionSymbol):
            raise Unsupported(f"the function {name} is used without an argument")
        if decl is None and name == IMAGINARY_UNIT:
            return sympy.I
        domain = decl.parsed_domain if isinstance(decl, ScalarSymbol) else None
        return symbol_for(name, domain)

    def _call(self, func: str, args: tuple[Node, ...]) -> sympy.Expr:
        decl = self.symbols.get(func)
        values = [self.run(a) for a in args]
        if isinstance(decl, FunctionSymbol) and decl.definition is not None:
            return self._defined(func, decl.definition, values)
        if func == "log" and len(values) == 2:
            return sympy.Mul(sympy.log(values[0]), _power(sympy.log(values[1]), sympy.Integer(-1)))
        if func == "root" and len(values) == 2:
            x, n = values
            if x.is_Number and x.is_negative and n.is_Integer and int(n) % 2 == 1:
                return sympy.Mul(
                    sympy.Integer(-1), _power(sympy.Mul(sympy.Integer(-1), x), _power(n, sympy.Integer(-1)))
                )
            return _power(x, _power(n, sympy.Integer(-1)))
        if func in ("max", "min") and len(values) >= 2:
            return sympy.Max(*values) if func == "max" else sympy.Min(*values)
        if func == "atan2" and len(values) == 2:
            return sympy.atan2(values[0], values[1])
        if func == "round" and len(values) == 1 and decl is None:
            return _round(values[0])
        if func in ("binom", "binomial") and len(values) == 2:
            _binomial_size(values[0], values[1])
            return sympy.binomial(values[0], values[1])
        if func in ("diag", "tr", "det", "rank", "Var", "Cov"):
            raise Unsupported(f"{func} needs the numeric path")
        known = _FUNCTIONS.get(func)
        if known is not None and decl is None:
            if len(values) != 1:
                raise Unsupported(f"{func} takes one argument")
            return known(values[0])
        # An undeclared function (or one without a definition) stays an unknown function of its
        # arguments: f(2x) + f(2x) still simplifies to 2 f(2x).
        return sympy.Function(func)(*values)

    def _defined(self, func: str, definition: str, values: list[sympy.Expr]) -> sympy.Expr:
        from grader.math.text import parse_text

        parsed = parse_text(definition)
        if isinstance(parsed, ParseError):
            raise Unsupported(f"the definition of {func} does not parse")
        bound = dict(self.bound)
        bound.update(zip(("u", "v", "w"), values, strict=False))
        return _Converter(self.symbols, bound, self.exact_decimals).run(parsed.tree)

    def _operator(self, name: str, body: Node, sub: Node | None, sup: Node | None) -> sympy.Expr:
        if name not in ("sum", "prod"):
            raise Unsupported(f"{name} has no symbolic form here")
        if not (
            isinstance(sub, Relation)
            and sub.ops == ("=",)
            and isinstance(sub.items[0], Sym)
            and sup is not None
        ):
            raise Unsupported(f"a {name} without explicit bounds")
        index = sympy.Symbol(sub.items[0].name, integer=True)
        lo, hi = self.run(sub.items[1]), self.run(sup)
        if lo.is_Number and hi.is_Number and hi - lo + 1 > MAX_SUM_TERMS:
            raise TooLarge(f"a {name} with more than {MAX_SUM_TERMS} terms")
        inner = _Converter(self.symbols, {**self.bound, sub.items[0].name: index}, self.exact_decimals).run(
            body
        )
        return (sympy.Sum if name == "sum" else sympy.Product)(inner, (index, lo, hi))


def _number(text: str, *, exact: bool = False) -> sympy.Expr:
    cleaned = text.replace(",", "").replace(" ", "")
    try:
        if cleaned.isdigit():
            if len(cleaned) > 1000:
                raise TooLarge("a number with more than 1000 digits")
            return sympy.Integer(int(cleaned))
        exponent = cleaned.lower().partition("e")[2]
        if exponent and abs(int(exponent)) > 1000:
            raise TooLarge("a number with an exponent beyond 1000")
        value = Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        raise Unsupported(f"the number {text!r} cannot be read") from None
    if exact:
        return sympy.Rational(value.numerator, value.denominator)
    digits = max(15, len(cleaned.replace(".", "").lstrip("0")))
    return sympy.Float(sympy.Rational(value.numerator, value.denominator), digits)


def _binomial_size(n: sympy.Expr, k: sympy.Expr) -> None:
    """Refuse ``binom(10^9, 10^8)`` before SymPy computes its 470 million bits."""
    if not (n.is_Number and k.is_Number and n.is_real and k.is_real):
        return
    top, bottom = float(n), float(k)
    if top < 0 or bottom < 0 or bottom > top:
        return
    bits = (math.lgamma(top + 1) - math.lgamma(bottom + 1) - math.lgamma(top - bottom + 1)) / math.log(2)
    if bits > _MAX_INTEGER_BITS:
        raise TooLarge(f"a binomial coefficient with about {bits / math.log2(10):.3g} digits is too large")


def _round(value: sympy.Expr) -> sympy.Expr:
    """Round to the nearest integer, ties to even (Maxima's ``round``); symbolic stays unevaluated."""
    if value.is_Rational:
        return sympy.Integer(round(Fraction(int(value.p), int(value.q))))
    if value.is_Float:
        return sympy.Integer(round(Fraction(str(value))))
    return sympy.Function("round")(value)


def _power(base: sympy.Expr, exp: sympy.Expr) -> sympy.Expr:
    """``Pow`` that refuses exponents SymPy would expand into astronomically large numbers."""
    if exp.is_Number:
        if exp.is_finite is False:
            return sympy.Pow(base, exp)
        if abs(exp) > (_MAX_SYMBOLIC_EXPONENT if base.free_symbols else MAX_EXPONENT):
            raise TooLarge(f"an exponent is too large ({exp})")
        if base.is_Rational:
            bits = max(abs(int(base.p)).bit_length(), abs(int(base.q)).bit_length())
            if bits * abs(float(exp)) > _MAX_INTEGER_BITS:
                raise TooLarge("a power is too large to compute exactly")
    elif exp.free_symbols == set() and exp.is_number:
        magnitude = abs(complex(exp.evalf(15)))
        if not math.isfinite(magnitude) or magnitude > MAX_EXPONENT:
            raise TooLarge("an exponent is too large")
    return sympy.Pow(base, exp)


_FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "sech": sympy.sech,
    "csch": sympy.csch,
    "coth": sympy.coth,
    "arcsinh": sympy.asinh,
    "arccosh": sympy.acosh,
    "arctanh": sympy.atanh,
    "arccot": sympy.acot,
    "arcsec": sympy.asec,
    "arccsc": sympy.acsc,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
    "sign": sympy.sign,
    "erf": sympy.erf,
    "abs": sympy.Abs,
}


def symbolic_equal(a: sympy.Expr, b: sympy.Expr) -> bool | None:
    """True if SymPy shows ``a - b == 0``; False only for a constant, clearly nonzero difference.

    Cheap rewrites run first (expand, together/cancel, trigsimp), ``simplify`` last. A failure to
    simplify to zero is not a proof of inequality, so non-constant cases give None. Run this inside
    the sandbox: any of these steps can take unbounded time on adversarial input.
    """
    difference = sympy.Add(a, sympy.Mul(sympy.Integer(-1), b))
    if difference == 0:
        return True
    if sympy.signsimp(difference) == 0:  # (a - x)^6000 - (x - a)^6000
        return True
    if any(
        isinstance(p.exp, sympy.Number) and abs(p.exp) > MAX_EXPONENT for p in difference.atoms(sympy.Pow)
    ):
        return None  # expanding (x - a)^6000 takes longer than any answer deserves
    if expanded_terms(difference) > MAX_EXPANDED_TERMS:
        return None  # (2a + … + 2f)^500 expands into 10^11 terms
    steps: tuple[Callable[[sympy.Expr], sympy.Expr], ...] = (
        sympy.expand,
        lambda e: sympy.cancel(sympy.together(e)),
        sympy.trigsimp,
        lambda e: sympy.expand(sympy.powsimp(sympy.expand_log(e, force=False))),
        sympy.simplify,
    )
    for step in steps:
        if step(difference) == 0:
            return True
    if not difference.free_symbols:
        try:  # in SymPy's own numbers: 200! - 3 is beyond a float
            magnitude = sympy.Abs(difference.evalf(30))
            scale = sympy.Max(sympy.Abs(a.evalf(30)), sympy.Abs(b.evalf(30)), sympy.Integer(1))
            if not (magnitude.is_finite and scale.is_finite and magnitude.is_real and scale.is_real):
                return None
            return bool(magnitude <= sympy.Float(1e-12) * scale)
        except (TypeError, ValueError):
            return None
    return None


def expanded_terms(expr: sympy.Expr) -> float:
    """An upper bound of the number of terms ``expand`` would produce (a multinomial count per power)."""
    cache: dict[sympy.Basic, float] = {}
    order = list(sympy.postorder_traversal(expr))
    for node in order:
        if node in cache:
            continue
        args = [cache.get(a, 1.0) for a in node.args]
        if isinstance(node, sympy.Add):
            cache[node] = float(sum(args))
        elif isinstance(node, sympy.Mul):
            cache[node] = float(math.prod(args))
        elif isinstance(node, sympy.Pow) and node.exp.is_Integer and int(node.exp) > 1:
            m, k = max(args[0], 1.0), min(int(node.exp), 10**9)
            log_count = math.lgamma(k + m) - math.lgamma(m) - math.lgamma(k + 1)  # log C(k + m - 1, k)
            cache[node] = math.exp(min(log_count, 700.0))
        else:
            cache[node] = 1.0
    return cache.get(expr, 1.0)


def symbolic_ratio(a: sympy.Expr, b: sympy.Expr) -> sympy.Expr | None:
    """``a / b`` simplified, when it is a number (equations proportional by a constant)."""
    if b == 0 or max(expanded_terms(a), expanded_terms(b)) > MAX_EXPANDED_TERMS:
        return None
    ratio = sympy.simplify(sympy.Mul(a, sympy.Pow(b, sympy.Integer(-1))))
    return ratio if ratio.is_number else None


def exact_difference(
    a: sympy.Expr, b: sympy.Expr, points: list[dict[str, complex]], digits: int = 60
) -> tuple[int, sympy.Expr, sympy.Expr] | bool | None:
    """Evaluate both at each point with ``digits`` significant digits (exact rational inputs).

    Returns True when they agree to 40 digits at every point, ``(index, a_value, b_value)`` for
    the first point where they differ (a difference double precision cannot see, like
    ``99999999/10^8`` vs ``99999998/99999999``), and None when a value is not a number.
    Only meaningful for decimal-free expressions: decimals are approximate by design.
    """
    threshold = sympy.Float(10.0) ** (-40)
    for index, point in enumerate(points):
        mapping: dict[sympy.Basic, sympy.Expr] = {}
        for symbol in a.free_symbols | b.free_symbols:
            if not isinstance(symbol, sympy.Symbol) or symbol.name not in point:
                return None
            value = point[symbol.name]
            re_num, re_den = Fraction(value.real).as_integer_ratio()
            im_num, im_den = Fraction(value.imag).as_integer_ratio()
            mapping[symbol] = sympy.Add(
                sympy.Rational(re_num, re_den), sympy.Mul(sympy.I, sympy.Rational(im_num, im_den))
            )
        a_value = a.evalf(digits, subs=mapping)
        b_value = b.evalf(digits, subs=mapping)
        if not (a_value.is_number and b_value.is_number) or a_value.has(
            sympy.zoo, sympy.nan, sympy.oo, -sympy.oo
        ):
            return None
        if b_value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        difference = sympy.Abs(sympy.Add(a_value, sympy.Mul(sympy.Integer(-1), b_value))).evalf(digits)
        scale = sympy.Max(sympy.Abs(a_value), sympy.Abs(b_value), sympy.Integer(1)).evalf(digits)
        if not (difference.is_number and scale.is_number):
            return None
        if bool(difference > threshold * scale):
            return index, a_value, b_value
    return True
