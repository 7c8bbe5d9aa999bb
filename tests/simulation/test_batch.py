"""The batched evaluator agrees with the point evaluator, entry by entry, and refuses the same shapes."""

from __future__ import annotations

import numpy as np
import pytest

from grader.math.evaluate import (
    BatchEvaluator,
    BMat,
    Mat,
    ShapeError,
    as_batch,
    evaluate,
    names_to_sample,
    sample_assignment,
)
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import ParseError

SYMBOLS = SymbolTable.model_validate(
    {
        "symbols": {
            "X": {"kind": "matrix", "shape": ["n", "d"]},
            "w": {"kind": "matrix", "shape": ["d", 1]},
            "y": {"kind": "matrix", "shape": ["n", 1]},
            "G": {"kind": "matrix", "shape": ["d", "d"], "structure": "diagonal"},
            "p": {"kind": "scalar", "domain": "(0, 1)"},
            "lambda": {"kind": "scalar", "domain": "positive"},
        },
        "dimensions": {"n": 5, "d": 3},
    }
)


def _tree(text: str):  # type: ignore[no-untyped-def]
    parsed = parse_latex(text, SYMBOLS)
    assert not isinstance(parsed, ParseError), parsed
    return parsed.tree


@pytest.mark.parametrize(
    "text",
    [
        r"\|y - pXw\|^2 + p(1-p)\|G w\|^2",
        r"(X^\top X + \lambda I)^{-1} X^\top y",
        r"\operatorname{diag}(X^\top X)^{1/2} w",
        r"X \odot X",
        r"\sigma(Xw)",
        r"\log(1 + p) - \sqrt{\lambda} + e^{-p}",
        r"\operatorname{tr}(X^\top X) + \det(G)",
        r"\frac{y^\top y}{1 + \lambda}",
        r"\sum_{k=1}^{3} k p^k",
        r"\begin{pmatrix} p & 1 \\ 0 & \lambda \end{pmatrix}^2",
    ],
)
def test_batch_matches_point_evaluation(text: str) -> None:
    tree = _tree(text)
    rng = np.random.default_rng(3)
    points = [sample_assignment(names_to_sample([tree], SYMBOLS), SYMBOLS, rng) for _ in range(4)]
    batched = {}
    for name in points[0]:
        first = points[0][name]
        if isinstance(first, Mat):
            batched[name] = BMat(np.stack([p[name].a for p in points]), first.dims)  # type: ignore[union-attr]
        else:
            batched[name] = as_batch(np.array([p[name] for p in points]))
    value = BatchEvaluator(SYMBOLS, batched, in_matrix_context=True).eval(tree)
    for k, point in enumerate(points):
        expected = evaluate(tree, point, SYMBOLS)
        got = value.a[k] if isinstance(value, BMat) else value[k]
        want = expected.a if isinstance(expected, Mat) else expected
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (r"y (X^\top) w", "does not conform"),
        (r"y^\top y + w^\top X^\top X", "cannot be added"),
        (r"X \odot w", "equal shapes"),
        (r"(X)^{-1}", "not square"),
        (r"\frac{y}{w}", "dividing by the matrix"),
    ],
)
def test_shape_errors_say_why(text: str, message: str) -> None:
    tree = _tree(text)
    values = {name: BMat(np.ones((2, *(SYMBOLS.size(d) for d in SYMBOLS.symbols[name].shape))), SYMBOLS.symbols[name].shape) for name in ("X", "w", "y")}  # type: ignore[union-attr]
    with pytest.raises(ShapeError, match=message):
        BatchEvaluator(SYMBOLS, values, in_matrix_context=True).eval(tree)


@pytest.mark.parametrize(
    "text",
    [
        r"\int_0^1 \lambda t^2\,dt",
        r"\lim_{t \to 0} \frac{\sin(p t)}{t}",
        r"\frac{d}{dp} p^3 \lambda",
        r"\binom{5}{2} p^2 (1-p)^3",
        r"15\% \cdot \lambda",
    ],
)
def test_one_evaluator_for_points_and_batches(text: str) -> None:
    """The batch and a point follow the same rules, calculus included (one evaluator, issue 17)."""
    symbols = SymbolTable.model_validate({"symbols": {**SYMBOLS.symbols, "t": {"kind": "scalar"}}})
    parsed = parse_latex(text, symbols)
    assert not isinstance(parsed, ParseError), parsed
    lam, p = np.array([0.5, 2.0, 3.0]), np.array([0.2, 0.5, 0.9])
    batched = BatchEvaluator(symbols, {"lambda": as_batch(lam), "p": as_batch(p)}, in_matrix_context=False).eval(parsed.tree)
    assert isinstance(batched, np.ndarray) and batched.shape == (3,)
    for k in range(3):
        one = evaluate(parsed.tree, {"lambda": complex(lam[k]), "p": complex(p[k])}, symbols)
        assert one == pytest.approx(complex(batched[k]), rel=1e-9)
