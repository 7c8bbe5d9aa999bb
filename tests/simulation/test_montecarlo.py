"""Expectations: Monte Carlo over the dropout mask, quadrature over densities, and the decision rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sim_helpers import part

from grader.math.latex import parse_latex
from grader.math.tree import ParseError
from grader.simulation.derivation import parse_definitions
from grader.simulation.divergence import jsd, kl
from grader.simulation.montecarlo import Density, Model, compare_sides, evaluate_side, z_threshold
from grader.simulation.trees import substitute


@pytest.fixture(scope="module")
def setup(a3_rubric):  # type: ignore[no-untyped-def]
    proof = part(a3_rubric, "1.1", "proof")
    definitions = parse_definitions(proof.definitions, a3_rubric.symbol_table)
    return a3_rubric.symbol_table, Model(a3_rubric.symbol_table, proof.random), definitions


def _tree(text: str, setup):  # type: ignore[no-untyped-def]
    symbols, _, definitions = setup
    parsed = parse_latex(text, symbols)
    assert not isinstance(parsed, ParseError), parsed
    return substitute(parsed.tree, definitions)


@pytest.mark.parametrize(
    ("left", "right", "holds"),
    [
        (r"\mathbb{E}[X \odot R]", r"pX", True),
        (r"\mathbb{E}[(X \odot R)^\top (X \odot R)]", r"p^2 X^\top X + p(1-p)\operatorname{diag}(X^\top X)", True),
        (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2 + p(1-p)\|\Gamma w\|^2", True),
        (r"\mathbb{E}[L(w)]", r"y^\top y - 2y^\top\mathbb{E}[X \odot R]w + w^\top\mathbb{E}[(X \odot R)^\top(X \odot R)]w", True),
        (r"\mathbb{E}_R[\|(X \odot R)w\|^2]", r"p^2\|Xw\|^2 + p(1-p)\|\Gamma w\|^2", True),
        (r"\mathbb{E}[X \odot R]", r"p^2 X", False),
        (r"\mathbb{E}[(X \odot R)^\top (X \odot R)]", r"p^2 X^\top X", False),
        (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2", False),
        (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2 + p\|\Gamma w\|^2", False),
    ],
)
def test_monte_carlo_steps(setup, left: str, right: str, holds: bool) -> None:  # type: ignore[no-untyped-def]
    _, model, _ = setup
    a, b = _tree(left, setup), _tree(right, setup)
    outcomes = []
    for k in range(3):
        rng = np.random.default_rng([11, k])
        instance = model.instance([a, b], rng)
        outcomes.append(compare_sides(a, b, model, instance, rng, instances=3, rtol=1e-6, atol=1e-9))
    assert all(o.method == "monte-carlo" for o in outcomes)
    if holds:
        assert all(o.holds for o in outcomes), [(o.difference, o.bound) for o in outcomes]
    else:
        assert not all(o.holds for o in outcomes)


def test_common_random_numbers_make_equal_expectations_exact(setup) -> None:  # type: ignore[no-untyped-def]
    _, model, _ = setup
    a, b = _tree(r"\mathbb{E}[L(w)]", setup), _tree(r"\mathbb{E}[\|y - (X \odot R)w\|^2]", setup)
    rng = np.random.default_rng(5)
    outcome = compare_sides(a, b, model, model.instance([a, b], rng), rng, instances=1, rtol=1e-6, atol=1e-9)
    assert outcome.holds and outcome.difference == 0


def test_same_seed_same_numbers(setup) -> None:  # type: ignore[no-untyped-def]
    _, model, _ = setup
    a, b = _tree(r"\mathbb{E}[(X \odot R)^\top (X \odot R)]", setup), _tree(r"p^2 X^\top X", setup)

    def run() -> tuple[float, float]:
        rng = np.random.default_rng(99)
        outcome = compare_sides(a, b, model, model.instance([a, b], rng), rng, instances=3, rtol=1e-6, atol=1e-9)
        return outcome.difference, outcome.standard_error

    assert run() == run()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"\mathbb{E}_{x \sim p_0}[x]", lambda p0, p1: p0.mean),
        (r"\mathbb{E}_{x \sim p_1}[x^2]", lambda p0, p1: p1.mean**2 + p1.std**2),
        (r"\int_{x} p_1(x) \, dx", lambda p0, p1: 1.0),
        (r"KL(p_1 \| p_0)", lambda p0, p1: kl(p1, p0)),
        (r"JSD(p_0, p_1)", lambda p0, p1: jsd(p0, p1)),
        (r"\mathbb{E}_{p_1}[\log \frac{p_1}{p_0}]", lambda p0, p1: kl(p1, p0)),
    ],
)
def test_quadrature_over_declared_densities(a3_rubric, text: str, value) -> None:  # type: ignore[no-untyped-def]
    model = Model(a3_rubric.symbol_table, part(a3_rubric, "4.1", "jsd").random)
    parsed = parse_latex(text, a3_rubric.symbol_table)
    assert not isinstance(parsed, ParseError), parsed
    instance = model.instance([parsed.tree], np.random.default_rng(4))
    got = complex(evaluate_side(parsed.tree, model, instance)[0])  # type: ignore[index]
    assert got.real == pytest.approx(value(instance.densities["p_0"], instance.densities["p_1"]), rel=1e-7, abs=1e-9)


def test_reference_divergences_match_closed_forms() -> None:
    p, q = Density("p", "normal", 0.3, 0.8), Density("q", "normal", -1.0, 1.7)
    closed = math.log(q.std / p.std) + (p.std**2 + (p.mean - q.mean) ** 2) / (2 * q.std**2) - 0.5
    assert kl(p, q) == pytest.approx(closed, rel=1e-9)
    assert jsd(p, q) == pytest.approx(jsd(q, p), rel=1e-9)
    assert jsd(p, p) == pytest.approx(0, abs=1e-12)
    assert 0 < jsd(p, q) < math.log(2)


@pytest.mark.parametrize(("tests", "at_least"), [(1, 4.8), (27, 5.4), (300, 5.8)])
def test_threshold_grows_with_the_number_of_comparisons(tests: int, at_least: float) -> None:
    assert at_least < z_threshold(tests) < at_least + 0.6
