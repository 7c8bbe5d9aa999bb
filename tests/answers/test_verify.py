"""grader.verify: the final answer read out of free text, compared three-way."""

from __future__ import annotations

import pytest

import grader


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5", True),
        ("Therefore $x \\geq 5$ is the solution.", "x \\geq 6", False),
        ("$x = 5+5+1 = 11$", "11", True),
        ("$x = 5+5+1 = 12$", "11", False),
        ("$x = \\frac{1}{3} \\approx 0.33$", "\\frac13", True),
        ("Here is a zero matrix: $\\begin{pmatrix}0&0\\\\0&0\\end{pmatrix}$", "\\begin{pmatrix}0&0\\\\0&0\\end{pmatrix}", True),
        ("The answer is \\boxed{\\frac{1}{2}}.", "0.5", True),
        ("\\(x=3\\)", "$x = 4$", False),
        ("\\[ y = 2x + 1 \\]", "$y = 1 + 2x$", True),
        ("so $\\boxed{1}$ and $\\boxed{2}$", "\\{1, 2\\}", True),
        ("It is 7,425,000 people.", "7425000", True),
        ("$28$ percent", "28\\%", True),
        ("The distance is $\\boxed{125\\textnormal{ miles}}$.", "125", True),
        ("Final answer: the largest $n$ is 34.", "34", True),
        ("$\\text{(C)}$", "\\text{C}", True),
        ("no answer here", "1", None),
        ("", "1", None),
    ],
)
def test_verify(text: str, reference: str, expected: bool | None) -> None:
    assert grader.verify(text, reference) is expected


def test_a_reference_without_an_answer_is_the_callers_bug() -> None:
    with pytest.raises(ValueError, match="holds no answer"):
        grader.verify("$1$", "nothing here at all")


def test_declared_symbols_are_used() -> None:
    assert grader.verify("$AB$", "BA", symbols={"A": {"shape": [2, 2]}, "B": {"shape": [2, 2]}}) is False
