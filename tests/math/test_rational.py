"""The exact re-check's rational path: the same answers as SymPy where it applies, and None
(SymPy decides) where it does not."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.math.api import symbol_table
from grader.math.equivalence import _exact_worker, _rational_difference
from grader.math.latex import parse_latex
from grader.math.rational import rational_text, rational_value
from grader.math.sympy_bridge import convert, exact_difference
from grader.math.tree import Node, ParseError

TABLE = symbol_table({"p": "(0, 1)", "x": "real", "y": "real"})
POINTS = [{"p": complex(0.21), "x": complex(-1.3), "y": complex(2.5)}, {"p": complex(0.87), "x": complex(0.4), "y": complex(-3)}]


def _tree(latex: str) -> Node:
    parsed = parse_latex(latex, TABLE)
    assert not isinstance(parsed, ParseError), parsed
    return parsed.tree


@pytest.mark.parametrize(
    ("latex", "point", "expected"),
    [
        (r"\frac{1-p}{p}", {"p": complex(0.25)}, Fraction(3)),
        (r"(x+1)^{3}", {"x": complex(0.5)}, Fraction(27, 8)),
        (r"x^{-2}", {"x": complex(2)}, Fraction(1, 4)),
        (r"\frac{99999999}{10^{8}}", {}, Fraction(99999999, 10**8)),
        (r"\sin x", {"x": complex(1)}, None),  # a function: SymPy decides
        (r"x^{1/2}", {"x": complex(4)}, None),  # not an integer power
        (r"\frac{1}{x}", {"x": complex(0)}, None),  # division by zero
        (r"2^{10000}", {}, None),  # too large to be worth it here
        (r"x + i", {"x": complex(1)}, None),  # the imaginary unit
        (r"x + z", {"x": complex(1)}, None),  # a name with no value
    ],
)
def test_rational_value(latex: str, point: dict[str, complex], expected: Fraction | None) -> None:
    assert rational_value(_tree(latex), point, exact_decimals=False) == expected


def test_decimals_are_exact_only_when_asked() -> None:
    tree = _tree("0.1 + x")
    assert rational_value(tree, {"x": complex(1)}, exact_decimals=False) is None
    assert rational_value(tree, {"x": complex(1)}, exact_decimals=True) == Fraction(11, 10)


@pytest.mark.parametrize(
    ("student", "reference"),
    [
        (r"\frac{1}{p} - 1", r"\frac{1-p}{p}"),
        (r"\frac{99999998}{99999999}", r"\frac{99999999}{10^{8}}"),
        (r"(x+1)^{12}", r"(x+1)^{12} - \frac{1}{10^{30}}"),
        (r"x^2 - y^2", r"(x-y)(x+y)"),
        (r"\frac{x}{y}", r"\frac{x+10^{-20}}{y}"),
    ],
)
def test_the_rational_path_agrees_with_sympy(student: str, reference: str) -> None:
    s, r = _tree(student), _tree(reference)
    rational = _rational_difference(s, r, POINTS, exact=False)
    assert rational is not False
    sympy_answer = exact_difference(convert(s, TABLE), convert(r, TABLE), POINTS)
    if not isinstance(sympy_answer, tuple):  # True: they agree at every point
        assert sympy_answer is True and rational is None
    else:
        assert rational is not None and rational[0] == sympy_answer[0]
    assert _exact_worker(s, r, TABLE, POINTS, False) == rational


def test_a_non_rational_answer_goes_to_sympy() -> None:
    assert _rational_difference(_tree(r"\sin^2 x + \cos^2 x"), _tree("1"), POINTS, exact=False) is False
    assert _exact_worker(_tree(r"\sin^2 x + \cos^2 x"), _tree("1"), TABLE, POINTS, False) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(99999999, 10**8), "0.99999999"), (Fraction(1, 3), "0.33333333333333333333"), (Fraction(5), "5"), (Fraction(10**30, 3), "3.3333333333333333333e+29")],
)
def test_rational_text(value: Fraction, text: str) -> None:
    assert rational_text(value) == text
