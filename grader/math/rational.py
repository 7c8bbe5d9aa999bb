"""Exact rational arithmetic for the common case of the exact re-check, without SymPy.

Most answers are polynomials and fractions of scalars: at rational points they have exact
rational values, which ``fractions.Fraction`` computes in microseconds where importing SymPy
alone costs a fifth of a second. Anything else (functions, constants, matrices, sums) is
``None`` here and goes to SymPy, as do values too big to be worth computing exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Context, Decimal
from fractions import Fraction

from grader.math.tree import Add, Div, Mul, Neg, Node, Num, Pow, Sym

__all__ = ["rational_value", "rational_text"]

#: Larger exponents or numbers are left to SymPy, whose bounded worker has its own limits.
MAX_EXPONENT = 256
MAX_BITS = 20_000
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class _NotRational(Exception):
    pass


def rational_value(tree: Node, point: Mapping[str, complex], *, exact_decimals: bool) -> Fraction | None:
    """``tree`` at ``point`` (real values, read as the decimals they print as), or None when it is
    not a rational function of the point's scalars, divides by zero, or grows too large."""
    values: dict[str, Fraction] = {}
    for name, value in point.items():
        if value.imag == 0:
            values[name] = Fraction(repr(float(value.real)))
    try:
        return _value(tree, values, exact_decimals)
    except (_NotRational, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        return None


def rational_text(value: Fraction) -> str:
    """20 significant digits, trailing zeros dropped, as the exact re-check reports values."""
    text = str(Context(prec=20).divide(Decimal(value.numerator), Decimal(value.denominator)))
    if "E" in text:
        mantissa, exponent = text.split("E")
        return f"{mantissa}e{int(exponent):+03d}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _value(node: Node, values: Mapping[str, Fraction], exact_decimals: bool) -> Fraction:
    if isinstance(node, Num):
        text = node.text.strip()
        if not _PLAIN_NUMBER.fullmatch(text) or ("." in text and not exact_decimals) or len(text) > 1000:
            raise _NotRational
        return Fraction(text)
    if isinstance(node, Sym):
        if node.name not in values:
            raise _NotRational
        return values[node.name]
    if isinstance(node, Neg):
        return -_value(node.arg, values, exact_decimals)
    if isinstance(node, Add):
        return _checked(sum((_value(term, values, exact_decimals) for term in node.terms), Fraction(0)))
    if isinstance(node, Mul):
        product = Fraction(1)
        for factor in node.factors:
            product = _checked(product * _value(factor, values, exact_decimals))
        return product
    if isinstance(node, Div):
        return _checked(_value(node.num, values, exact_decimals) / _value(node.den, values, exact_decimals))
    if isinstance(node, Pow):
        exponent = _value(node.exp, values, exact_decimals)
        if exponent.denominator != 1 or abs(exponent.numerator) > MAX_EXPONENT:
            raise _NotRational
        base = _value(node.base, values, exact_decimals)
        if base.numerator.bit_length() * abs(exponent.numerator) > MAX_BITS or base.denominator.bit_length() * abs(exponent.numerator) > MAX_BITS:
            raise _NotRational
        return base**exponent.numerator
    raise _NotRational


def _checked(value: Fraction) -> Fraction:
    if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
        raise _NotRational
    return value
