"""Choice parts read by meaning: (statements, answer, expected option) tables on parts of other
courses, covering negation, word order, paraphrase, comparisons, co-variation and hedges."""

from __future__ import annotations

import pytest
from helpers import answer, context

from grader.checking.choice import ChoiceChecker
from grader.checking.statements import Terms, read
from grader.rubric.parts import ChoicePart

CHECKER = ChoiceChecker()


def _part(options: dict[str, list[str]], answer_id: str, terms: dict[str, list[str]] | None = None, **extra: object) -> ChoicePart:
    return ChoicePart.model_validate(
        {
            "kind": "choice",
            "id": "claim",
            "points": 1,
            "answer": answer_id,
            "options": [{"id": key, "statements": value} for key, value in options.items()],
            "terms": terms or {},
            **extra,
        }
    )


HYPOTHESIS = _part(
    {"reject": ["we reject the null hypothesis", "the result is significant"], "keep": ["we do not reject the null hypothesis", "the result is not significant"]},
    "reject",
    {"H0": ["H_0", "null hypothesis", "null"]},
)
INVERTIBLE = _part({"invertible": ["the matrix is invertible"], "singular": ["the matrix is not invertible"]}, "invertible")
TREND = _part(
    {"down": ["the variance decreases as n grows"], "up": ["the variance increases as n grows"]},
    "down",
    {"variance": ["variance", "\\operatorname{Var}", "spread", "\\sigma^2"]},
)
SPEED = _part(
    {"newton": ["Newton's method converges faster"], "bisection": ["bisection converges faster"]},
    "newton",
    {"newton": ["Newton's method", "Newton"], "bisection": ["bisection", "the bisection method"]},
)
STABILITY = _part(
    {"stable": ["stable", "the solutions decay"], "unstable": ["unstable", "the solutions grow without bound"], "neither": ["not asymptotically stable", "the solutions oscillate"]},
    "neither",
)


@pytest.mark.parametrize(
    ("part", "text", "verdict"),
    [
        (HYPOTHESIS, "We reject H_0 at the 5% level.", "right"),
        (HYPOTHESIS, "The null hypothesis is rejected.", "right"),
        (HYPOTHESIS, "We fail to reject the null hypothesis.", "wrong"),
        (HYPOTHESIS, "We cannot reject $H_0$.", "wrong"),
        (HYPOTHESIS, "The result is statistically significant, so we reject the null.", "right"),
        (HYPOTHESIS, "The result is insignificant.", "wrong"),
        (HYPOTHESIS, "Should we reject the null hypothesis?", "undecided"),
        (HYPOTHESIS, "We might reject the null hypothesis.", "undecided"),
        (INVERTIBLE, "The matrix is invertible since its determinant is 3.", "right"),
        (INVERTIBLE, "The matrix is non-invertible.", "wrong"),
        (INVERTIBLE, "It is not invertible.", "wrong"),
        (INVERTIBLE, "It is not true that the matrix is invertible.", "wrong"),
        (INVERTIBLE, "The determinant is 3.", "undecided"),
        (TREND, "As n grows, the spread of the estimator shrinks.", "right"),
        (TREND, "The variance gets smaller for larger n.", "right"),
        (TREND, "$\\operatorname{Var}$ is inversely proportional to n.", "right"),
        (TREND, "The larger n, the larger the variance.", "wrong"),
        (TREND, "The variance does not decrease as n grows.", "undecided"),
        (TREND, "The variance is small.", "undecided"),
        (SPEED, "Newton's method is quicker than bisection.", "right"),
        (SPEED, "Bisection is slower.", "right"),
        (SPEED, "Bisection converges faster than Newton.", "wrong"),
        (SPEED, "Newton's method does not converge faster.", "undecided"),
        (STABILITY, "The solutions never decay: they oscillate forever.", "right"),
        (STABILITY, "The equilibrium is not asymptotically stable.", "right"),
        (STABILITY, "The equilibrium is stable.", "wrong"),
        (STABILITY, "The equilibrium is not unstable.", "wrong"),
        (STABILITY, "One eigenvalue is positive, so it is unstable.", "wrong"),
        (STABILITY, "It is marginally stable.", "undecided"),
        (STABILITY, "The solutions decay and grow without bound.", "undecided"),
    ],
)
def test_reading_by_meaning(part: ChoicePart, text: str, verdict: str) -> None:
    result = CHECKER.check(part, answer(text), context())
    assert result.verdict == verdict, (result.evidence, result.reasons)


def test_about_selects_the_scenario_by_what_it_says() -> None:
    part = _part({"t": ["a t-test"], "z": ["a z-test"]}, "t", about=["the variance is unknown", "(a)"])
    text = "- When the variance is known we use a z-test.\n- When the variance is not known we use a t-test."
    assert CHECKER.check(part, answer(text), context()).verdict == "right"
    assert CHECKER.check(part, answer("(a) a z-test\n(b) a t-test"), context()).verdict == "wrong"
    assert CHECKER.check(part, answer("We use a t-test."), context()).verdict == "undecided"


def test_lint_finds_statements_that_read_as_another_option() -> None:
    from grader.checking.base import LintContext
    from grader.math.symbols import SymbolTable

    part = _part({"a": ["the series converges", "it is"], "b": ["the series diverges", "the series converges absolutely"]}, "a")
    problems = CHECKER.lint(part, LintContext(file="r.toml", question_id="1", symbols=SymbolTable()))
    assert [(p.code, p.field) for p in problems] == [
        ("rubric.choice_statement_empty", "options[a].statements"),
        ("rubric.choice_statement_ambiguous", "options[b].statements"),
    ]
    assert "'the series converges absolutely' of option 'b' also reads as option(s) 'a'" in problems[1].message


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("never converges", ("state", None, "converg", True, frozenset())),
        ("it is not unstable", ("state", None, "stabl", False, frozenset())),
        ("λ decreases as p increases", ("covary", frozenset({"λ", "p"}), -1, False)),
        ("increasing p decreases λ", ("covary", frozenset({"λ", "p"}), -1, False)),
        ("as $p \\to 1$, $\\lambda \\to 0$", ("limit", frozenset({("λ", "0"), ("p", "1")}))),
    ],
)
def test_facts(text: str, fact: tuple[object, ...]) -> None:
    terms = Terms.build({"λ": ["\\lambda"]})
    sentences = read(text, terms).sentences
    assert fact in frozenset().union(*sentences)
