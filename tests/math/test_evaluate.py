"""Numeric evaluation: scalar values, matrix semantics with named shapes, guards, seeded sampling."""

from __future__ import annotations

import cmath
import math
import re

import numpy as np
import pytest

from grader.math.api import symbol_table
from grader.math.evaluate import (
    Data,
    Evaluator,
    FreeIndex,
    Mat,
    NotEvaluable,
    Scaling,
    ShapeError,
    TooLarge,
    Undefined,
    Value,
    describe,
    evaluate,
    expand_plus_minus,
    names_to_sample,
    sample_assignment,
)
from grader.math.symbols import SymbolTable, parse_domain
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
    PlusMinus,
    Pow,
    Relation,
    Sym,
    Text,
    Transpose,
)

N, S = Num, Sym
X, y, w, lam, I_, x_ = S("X"), S("y"), S("w"), S("lambda"), S("I"), S("x")


def inv(node: Node) -> Pow:
    return Pow(node, N("-1"))


def T(node: Node) -> Transpose:
    return Transpose(node)


def frac(a: Node | str, b: Node | str) -> Div:
    return Div(N(a) if isinstance(a, str) else a, N(b) if isinstance(b, str) else b)


ML = symbol_table(
    {
        "X": {"kind": "matrix", "shape": ["n", "d"]},
        "y": {"kind": "matrix", "shape": ["n", 1]},
        "w": {"kind": "matrix", "shape": ["d", 1]},
        "D": {"kind": "matrix", "shape": ["d", "d"], "structure": "diagonal"},
        "B": {"kind": "matrix", "shape": ["n", "d"], "structure": "binary"},
        "lambda": {"kind": "scalar", "domain": "positive"},
        "p": {"kind": "scalar", "domain": "(0, 1)"},
        "k": {"kind": "scalar", "domain": "positive_integer"},
        "z": {"kind": "scalar", "domain": "complex"},
        "g": {"kind": "function", "definition": "u^2 + 1"},
        "h": {"kind": "function"},
        "sigma": {"kind": "function", "library": "logistic"},
    }
)


def ml_point(seed: int = 0) -> dict[str, Value]:
    names = names_to_sample([Mul((X, w, y, lam, S("p"), S("D"), S("B")))], ML)
    return sample_assignment(names, ML, np.random.default_rng(seed))


# -- scalars ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tree,values,expected",
    [
        (Add((N("1"), N("2"))), {}, 3),
        (Mul((N("2"), N("3.5"))), {}, 7),
        (frac("1", "3"), {}, 1 / 3),
        (Neg(S("x")), {"x": 2}, -2),
        (Pow(N("2"), N("10")), {}, 1024),
        (Pow(N("-8"), frac("1", "3")), {}, cmath.exp(cmath.log(-8) / 3)),
        (Call("root", (N("-8"), N("3"))), {}, -2),
        (Call("sqrt", (N("-4"),)), {}, 2j),
        (Call("log", (N("8"), N("2"))), {}, 3),
        (Call("log", (Const("e"),)), {}, 1),
        (Call("sigma", (N("0"),)), {}, 0.5),
        (Call("sigma", (N("-800"),)), {}, 0.0),
        (Call("max", (N("1"), N("4"), N("2"))), {}, 4),
        (Call("exp", (Mul((Const("i"), Const("pi"))),)), {}, -1),
        (Mul((S("i"), S("i"))), {}, -1),
        (Factorial(N("5")), {}, 120),
        (Norm(N("-3"), "abs"), {}, 3),
        (Call("g", (N("3"),)), {}, 10),
        (Operator("sum", Pow(S("k"), N("2")), Relation((S("k"), N("1")), ("=",)), N("4")), {}, 30),
        (Operator("prod", S("j"), Relation((S("j"), N("1")), ("=",)), N("5")), {}, 120),
        (Call("arctan", (N("1"),)), {}, math.pi / 4),
        (Const("inf"), {}, math.inf),
        (Call("sech", (N("1"),)), {}, 1 / math.cosh(1)),
        (Call("csch", (N("1"),)), {}, 1 / math.sinh(1)),
        (Call("coth", (N("1"),)), {}, 1 / math.tanh(1)),
        (Call("arcsinh", (N("1"),)), {}, math.asinh(1)),
        (Call("arccosh", (N("2"),)), {}, math.acosh(2)),
        (Call("arctanh", (N("0.5"),)), {}, math.atanh(0.5)),
        (Call("arccot", (N("2"),)), {}, math.atan(0.5)),
        (Call("arccot", (N("0"),)), {}, math.pi / 2),
        (Call("arcsec", (N("2"),)), {}, math.acos(0.5)),
        (Call("arccsc", (N("2"),)), {}, math.asin(0.5)),
        (Call("atan2", (N("1"), Neg(N("1")))), {}, 3 * math.pi / 4),
        (Call("round", (N("2.5"),)), {}, 2),  # ties to even, like Maxima
        (Call("round", (N("3.5"),)), {}, 4),
        (Call("round", (Neg(N("0.5")),)), {}, 0),
        (Call("binom", (N("5"), N("2"))), {}, 10),
    ],
)
def test_scalar_values(tree: Node, values: dict[str, complex], expected: complex) -> None:
    result = evaluate(tree, {k: complex(v) for k, v in values.items()}, ML)
    assert isinstance(result, complex)
    assert result == pytest.approx(complex(expected), abs=1e-12)


@pytest.mark.parametrize(
    "tree,error,fragment",
    [
        (frac("1", "0"), Undefined, "division by zero"),
        (Call("log", (N("0"),)), Undefined, "log of 0"),
        (Call("exp", (N("1000"),)), Undefined, "overflow"),
        (Pow(N("2"), Pow(N("2"), Pow(N("2"), Pow(N("2"), Pow(N("2"), N("100")))))), TooLarge, "exponent"),
        (Factorial(Pow(N("10"), Pow(N("10"), N("10")))), TooLarge, "exponent"),
        (Factorial(N("171")), TooLarge, "factorial"),
        (
            Operator("sum", S("k"), Relation((S("k"), N("1")), ("=",)), Pow(N("10"), N("6"))),
            TooLarge,
            "terms",
        ),
        (Operator("E", S("x")), NotEvaluable, "expectation"),
        (Operator("max", S("x"), S("x")), NotEvaluable, "max"),
        (Call("f", (N("1"),)), NotEvaluable, "not known"),
        (Call("h", (N("1"),)), NotEvaluable, "no definition"),
        (Text("hello"), NotEvaluable, "hello"),
        (PlusMinus(None, N("1")), NotEvaluable, "±"),
    ],
)
def test_scalar_failures(tree: Node, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as raised:
        evaluate(tree, {}, ML)
    assert fragment in str(raised.value)


def test_undefined_reason_distinguishes_exact_zero_from_overflow() -> None:
    with pytest.raises(Undefined) as zero:
        evaluate(frac("1", "0"), {})
    with pytest.raises(Undefined) as overflow:
        evaluate(Call("exp", (N("1000"),)), {})
    assert zero.value.exact and not overflow.value.exact


def test_real_input_leaving_the_reals_is_flagged() -> None:
    evaluator = Evaluator(SymbolTable(), {"x": complex(-2)}, in_matrix_context=False)
    evaluator.eval(Call("log", (S("x"),)))
    assert evaluator.left_reals
    evaluator = Evaluator(SymbolTable(), {"x": complex(2)}, in_matrix_context=False)
    evaluator.eval(Call("log", (S("x"),)))
    assert not evaluator.left_reals


def test_too_many_nodes_and_too_deep() -> None:
    wide = Add(tuple(N("1") for _ in range(25_000)))
    with pytest.raises(TooLarge, match="too large"):
        evaluate(wide, {})
    deep: Node = S("x")
    for _ in range(300):
        deep = Neg(deep)
    with pytest.raises(TooLarge, match="nested"):
        evaluate(deep, {"x": 1j})


# -- matrices -----------------------------------------------------------------------------


def _eval(tree: Node, seed: int = 0) -> Value:
    return Evaluator(ML, ml_point(seed), in_matrix_context=True).eval(tree)


def test_named_shapes_follow_products_and_transposes() -> None:
    value = _eval(Mul((T(X), X, w)))
    assert isinstance(value, Mat)
    assert value.dims == ("d", 1)
    assert value.shape == (ML.size("d"), 1)


def test_product_is_ordered_matrix_product() -> None:
    point = ml_point()
    xa, wa = point["X"], point["w"]
    assert isinstance(xa, Mat) and isinstance(wa, Mat)
    value = Evaluator(ML, point, in_matrix_context=True).eval(Mul((X, w)))
    assert isinstance(value, Mat)
    np.testing.assert_allclose(value.a, xa.a @ wa.a)


@pytest.mark.parametrize(
    "tree,fragment",
    [
        (Mul((X, y)), "(n×d)·(n×1) does not conform: inner sizes d and n differ"),
        (Mul((T(X), y, inv(Add((Mul((T(X), X)), Mul((lam, I_))))))), "inner sizes 1 and d differ"),
        (Add((Mul((X, T(X))), Mul((T(X), X)))), "cannot be added"),
        (Add((X, N("1"))), "a scalar cannot be added"),
        (Add((X, I_)), "not square"),
        (inv(X), "not square"),
        (Hadamard(X, w), "equal shapes"),
        (Call("tr", (X,)), "square"),
        (Div(y, Mul((T(X), X))), "dividing by the matrix"),
    ],
)
def test_shape_errors_name_the_dimensions(tree: Node, fragment: str) -> None:
    with pytest.raises(ShapeError) as raised:
        _eval(tree)
    assert fragment in raised.value.reason


def test_identity_size_comes_from_the_sum() -> None:
    point = ml_point()
    xa = point["X"]
    assert isinstance(xa, Mat)
    value = Evaluator(ML, point, in_matrix_context=True).eval(Add((Mul((T(X), X)), Mul((lam, I_)))))
    assert isinstance(value, Mat)
    expected = xa.a.T @ xa.a + point["lambda"] * np.eye(ML.size("d"))  # type: ignore[operator]
    np.testing.assert_allclose(value.a, expected)
    scaled = Evaluator(ML, point, in_matrix_context=True).eval(Mul((N("2"), I_)))
    assert scaled == Scaling(2)


def test_inverse_power_and_diagonal_square_root() -> None:
    point = ml_point()
    xa = point["X"]
    assert isinstance(xa, Mat)
    gram = xa.a.T @ xa.a + np.eye(ML.size("d"))
    ev = Evaluator(ML, point, in_matrix_context=True)
    inverse = ev.eval(inv(Add((Mul((T(X), X)), I_))))
    assert isinstance(inverse, Mat)
    np.testing.assert_allclose(inverse.a @ gram, np.eye(ML.size("d")), atol=1e-9)
    cube = ev.eval(Pow(Add((Mul((T(X), X)), I_)), N("3")))
    assert isinstance(cube, Mat)
    np.testing.assert_allclose(cube.a, gram @ gram @ gram)
    gamma = ev.eval(Pow(Call("diag", (Mul((T(X), X)),)), frac("1", "2")))
    assert isinstance(gamma, Mat)
    np.testing.assert_allclose(gamma.a, np.diag(np.sqrt(np.diag(xa.a.T @ xa.a))))
    with pytest.raises(NotEvaluable, match="diagonal"):
        ev.eval(Pow(Mul((T(X), X)), frac("1", "2")))


def test_singular_inverse_is_undefined_at_the_point() -> None:
    # X is n×d with n < d (3 < 5 by default), so XᵀX (d×d) has rank n: singular.
    assert ML.size("n") < ML.size("d")
    with pytest.raises(Undefined, match="singular") as raised:
        _eval(inv(Mul((T(X), X))))
    assert raised.value.exact


def test_norms_trace_det_and_one_by_one_as_scalar() -> None:
    point = ml_point()
    ya, xa = point["y"], point["X"]
    assert isinstance(ya, Mat) and isinstance(xa, Mat)
    ev = Evaluator(ML, point, in_matrix_context=True)
    assert ev.eval(Norm(y, "2")) == pytest.approx(complex(np.linalg.norm(ya.a)))
    assert ev.eval(Norm(X, "2")) == pytest.approx(complex(np.linalg.norm(xa.a, "fro")))
    assert ev.eval(Call("tr", (Mul((T(X), X)),))) == pytest.approx(complex(np.trace(xa.a.T @ xa.a)))
    assert ev.eval(Call("det", (Mul((X, T(X))),))) == pytest.approx(complex(np.linalg.det(xa.a @ xa.a.T)))
    # yᵀy + λ: a 1×1 matrix next to a scalar acts as a scalar
    value = ev.eval(Add((Mul((T(y), y)), lam)))
    assert value == pytest.approx(complex((ya.a.T @ ya.a)[0, 0]) + point["lambda"])  # type: ignore[operator]


def test_diag_of_vector_and_of_square_matrix() -> None:
    point = ml_point()
    wa, xa = point["w"], point["X"]
    assert isinstance(wa, Mat) and isinstance(xa, Mat)
    ev = Evaluator(ML, point, in_matrix_context=True)
    of_vector = ev.eval(Call("diag", (w,)))
    assert isinstance(of_vector, Mat) and of_vector.dims == ("d", "d")
    np.testing.assert_allclose(of_vector.a, np.diag(wa.a.ravel()))
    of_square = ev.eval(Call("diag", (Mul((T(X), X)),)))
    assert isinstance(of_square, Mat)
    np.testing.assert_allclose(of_square.a, np.diag(np.diag(xa.a.T @ xa.a)))


def test_functions_of_vectors_act_entrywise() -> None:
    point = ml_point()
    xa, wa = point["X"], point["w"]
    assert isinstance(xa, Mat) and isinstance(wa, Mat)
    value = Evaluator(ML, point, in_matrix_context=True).eval(Call("sigma", (Mul((X, w)),)))
    assert isinstance(value, Mat)
    np.testing.assert_allclose(value.a, 1 / (1 + np.exp(-(xa.a @ wa.a))))


def test_matrix_literal_and_hadamard() -> None:
    lit = MatrixLit(((N("1"), N("2")), (N("3"), N("4"))))
    value = evaluate(Hadamard(lit, lit), {})
    assert isinstance(value, Mat)
    np.testing.assert_allclose(value.a, [[1, 4], [9, 16]])
    with pytest.raises(ShapeError, match="different lengths"):
        evaluate(MatrixLit(((N("1"), N("2")), (N("3"),))), {})


def test_declared_dimension_above_the_limit_is_refused() -> None:
    big = symbol_table({"symbols": {"A": {"kind": "matrix", "shape": ["m", "m"]}}, "dimensions": {"m": 300}})
    with pytest.raises(TooLarge, match="300×300"):
        sample_assignment(["A"], big, np.random.default_rng(0))


# -- sampling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain,check",
    [
        ("(0, 1)", lambda x: 0.04 < x < 0.96),
        ("positive", lambda x: 0.1 <= x <= 10),
        ("negative", lambda x: -10 <= x <= -0.1),
        ("real", lambda x: 0.2 <= abs(x) <= 3.2),
        ("[2, inf)", lambda x: 2 <= x),
        ("positive_integer", lambda x: x >= 1 and x == int(x)),
        ("integer", lambda x: x == int(x) and x != 0),
        ("nonzero", lambda x: x != 0),
    ],
)
def test_scalar_samples_stay_in_the_domain(domain: str, check: object) -> None:
    table = symbol_table({"a": {"kind": "scalar", "domain": domain}})
    rng = np.random.default_rng(7)
    parsed = parse_domain(domain)
    for _ in range(200):
        value = sample_assignment(["a"], table, rng)["a"]
        assert isinstance(value, complex) and value.imag == 0
        assert parsed.contains(value.real)
        assert check(value.real)  # type: ignore[operator]


def test_complex_domain_samples_complex_values() -> None:
    values = [sample_assignment(["z"], ML, np.random.default_rng(s))["z"] for s in range(10)]
    assert any(isinstance(v, complex) and v.imag != 0 for v in values)


def test_matrix_structures() -> None:
    point = ml_point(3)
    diag, binary = point["D"], point["B"]
    assert isinstance(diag, Mat) and isinstance(binary, Mat)
    assert np.count_nonzero(diag.a - np.diag(np.diag(diag.a))) == 0
    assert set(np.unique(binary.a.real)) <= {0.0, 1.0}
    assert point["X"].shape == (ML.size("n"), ML.size("d"))  # type: ignore[union-attr]


def test_same_seed_same_points_different_seed_different_points() -> None:
    first, again, other = ml_point(5), ml_point(5), ml_point(6)
    assert first.keys() == again.keys()
    for name in first:
        a, b = first[name], again[name]
        if isinstance(a, Mat) and isinstance(b, Mat):
            np.testing.assert_array_equal(a.a, b.a)
        else:
            assert a == b
    assert first["lambda"] != other["lambda"]


def test_names_to_sample_skips_identity_functions_and_the_imaginary_unit() -> None:
    tree = Add((Mul((T(X), X)), Mul((lam, I_)), Call("g", (S("i"),))))
    assert names_to_sample([tree], ML) == ["X", "lambda"]
    # without matrices around, I is an ordinary scalar
    assert names_to_sample([Mul((S("I"), S("x")))], SymbolTable()) == ["I", "x"]


# -- helpers ------------------------------------------------------------------------------


def test_plus_minus_expands_to_both_signs() -> None:
    items = expand_plus_minus(Div(Add((Neg(S("g")), PlusMinus(None, Call("sqrt", (S("q"),))))), N("2")))
    assert len(items) == 2
    rendered = sorted(describe(i) for i in items)
    assert rendered == ["(-g + sqrt(q))/2", "(-g - sqrt(q))/2"]
    assert len(expand_plus_minus(PlusMinus(S("a"), PlusMinus(None, S("b"))))) == 4
    many: Node = S("x")
    for _ in range(7):
        many = PlusMinus(many, N("1"))
    with pytest.raises(TooLarge):
        expand_plus_minus(many)


@pytest.mark.parametrize(
    "tree,text",
    [
        (Mul((inv(Add((Mul((T(X), X)), Mul((lam, I_))))), T(X), y)), "(XᵀX + λI)⁻¹Xᵀy"),
        (Neg(frac("1", "2")), "-1/2"),
        (Add((S("a"), Neg(Add((S("b"), S("c")))))), "a - (b + c)"),
        (Mul((N("2"), Neg(S("x")))), "2(-x)"),
    ],
)
def test_describe(tree: Node, text: str) -> None:
    assert describe(tree) == text


def test_summation_index_is_not_sampled() -> None:
    tree = Operator("prod", Add((N("1"), Div(x_, S("k")))), Relation((S("k"), N("1")), ("=",)), N("5"))
    assert names_to_sample([tree], ML) == ["x"]
    assert names_to_sample([Add((tree, S("k")))], ML) == ["k", "x"]


def test_number_literal_beyond_floating_point_is_too_large() -> None:
    with pytest.raises(TooLarge):
        evaluate(N("9" * 400), {})


def test_new_functions_agree_with_the_sympy_bridge() -> None:
    from grader.math.sympy_bridge import to_sympy

    for func, args in [
        ("sech", (N("0.7"),)), ("csch", (N("0.7"),)), ("coth", (N("0.7"),)), ("arcsinh", (N("0.7"),)),
        ("arccosh", (N("1.7"),)), ("arctanh", (N("0.7"),)), ("arccot", (N("0.7"),)), ("arcsec", (N("1.7"),)),
        ("arccsc", (N("1.7"),)), ("atan2", (N("0.7"), Neg(N("2")))), ("round", (N("2.5"),)), ("binom", (N("7"), N("3"))),
    ]:  # fmt: skip
        node = Call(func, args)
        numeric = evaluate(node, {})
        symbolic = to_sympy(node)
        assert symbolic is not None and isinstance(numeric, complex)
        assert complex(symbolic.evalf(20)) == pytest.approx(numeric, abs=1e-12), func


def test_uninterpreted_functions_are_sampled_only_when_declared_without_definition() -> None:
    from grader.math.evaluate import RandomFunction, functions_to_sample, sample_point

    table = symbol_table(
        {
            "f": {"kind": "function"},
            "g": {"kind": "function", "definition": "u^2"},
            "sigma": {"kind": "function", "library": "logistic"},
        }
    )
    tree = Add((Call("f", (x_,)), Call("g", (x_,)), Call("sigma", (x_,)), Call("h", (x_,))))
    assert functions_to_sample([tree], table) == ["f"]
    point = sample_point(["x"], table, np.random.default_rng(0), ["f"])
    assert isinstance(point["f"], RandomFunction) and isinstance(point["x"], complex)
    # the values do not move when functions are drawn: they come after
    assert point["x"] == sample_assignment(["x"], table, np.random.default_rng(0))["x"]
    value = Evaluator(table, point, in_matrix_context=False).eval(Call("f", (x_,)))
    assert isinstance(value, complex) and value.real > 0
    with pytest.raises(NotEvaluable, match="no definition"):
        evaluate(Call("f", (N("1"),)), {}, table)  # evaluate() alone has no random functions


def test_sum_bounds_are_sampled_as_integers() -> None:
    from grader.math.evaluate import summation_bounds

    body = Operator("sum", S("k"), Relation((S("k"), S("a")), ("=",)), Add((S("n"), N("1"))))
    assert summation_bounds([body]) == ["a", "n"]
    for seed in range(10):
        n_value = sample_assignment(["n", "x"], SymbolTable(), np.random.default_rng(seed), ["n"])["n"]
        assert isinstance(n_value, complex) and n_value.real.is_integer() and 1 <= n_value.real <= 8


# -- samples, constants, the library, calculus (issue 12) -----------------------------------------

COURSE = symbol_table(
    {
        "x": {"kind": "sample", "length": "n"},
        "n": {"kind": "scalar", "domain": "positive_integer"},
        "g": {"kind": "constant", "value": "9.81"},
        "j": {"kind": "constant", "value": "%i"},
        "Phi": {"kind": "function", "library": "normal_cdf"},
        "relu": {"kind": "function", "library": "ReLU"},
        "t": {"kind": "scalar"},
    }
)


def _course(text: str) -> Node:
    from grader.math.latex import parse_latex

    parsed = parse_latex(text, COURSE)
    assert not isinstance(parsed, ParseError), parsed
    return parsed.tree


def _data_point() -> dict[str, Value | Data]:
    return {"x": Data(np.array([[1.0, 2.0, 6.0]], dtype=np.complex128)), "n": 3 + 0j}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\bar{x}", 3),
        (r"\sum x_i", 9),
        (r"\sum_j x_j^2", 41),
        (r"\sum_{i=1}^{n} (x_i - \bar{x})^2", 14),
        (r"x_1 + x_n", 7),
        (r"\frac{1}{n}\sum_{i=1}^n x_i", 3),
        (r"\prod x_i", 12),
        ("g", 9.81),
        ("2j", 2j),
        (r"1 - \Phi(1)", 0.15865525393145707),
        (r"relu(-t) + relu(t)", 0.5),
        (r"\binom{5}{2}", 10),
        (r"15.87\%", 0.1587),
        (r"\int_0^1 t^2\,dt", 1 / 3),
        (r"\int_{-\infty}^{\infty} e^{-t^2}\,dt", math.sqrt(math.pi)),
        (r"\lim_{t \to 0} \frac{\sin t}{t}", 1),
        (r"\lim_{t \to \infty} \left(1 + \frac{1}{t}\right)^t", math.e),
        (r"\sum_{k=1}^{\infty} \frac{1}{k^2}", math.pi**2 / 6),
        (r"\sum_{k=0}^{\infty} \frac{(-1)^k}{2k+1}", math.pi / 4),
        (r"\frac{d}{dt} t^3", 0.75),
        (r"\frac{d}{dt}\frac{d}{dt} \sin t", -math.sin(0.5)),
    ],
)
def test_course_values(text: str, expected: complex) -> None:
    point: dict[str, Value | Data] = {**_data_point(), "t": 0.5 + 0j}
    value = Evaluator(COURSE, point, in_matrix_context=False).eval(_course(text))
    assert isinstance(value, complex)
    assert value == pytest.approx(complex(expected), rel=1e-8, abs=1e-10)


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("x_i", FreeIndex, "x_i outside a sum over i is not a number"),
        ("x_4", ShapeError, "outside the sample"),
        ("x", NotEvaluable, "x is a sample"),
        (r"\sum_{k=1}^{\infty} \frac{1}{k}", NotEvaluable, "converges too slowly"),
        (r"\sum_{k=1}^{\infty} k", NotEvaluable, "does not converge"),
        (r"\lim_{t \to 0} \sin\frac{1}{t}", NotEvaluable, "could not be found"),
        (r"\lim_{t \to 0} \frac{|t|}{t}", Undefined, "from the left and from the right differ"),
        (r"\int_0^1 \int_0^1 t\,dt\,dt", TooLarge, "another integral"),
        (r"\int_0^1 \frac{1}{\sqrt{t}}\,dt", NotEvaluable, "enough digits"),
        (r"O(t^2)", NotEvaluable, "order term"),
        (r"\operatorname{binom}(10^{9}, 10^{8})", TooLarge, "binomial coefficient with 1000000000 on top"),
    ],
)
def test_course_refusals(text: str, error: type[Exception], fragment: str) -> None:
    point: dict[str, Value | Data] = {**_data_point(), "t": 0.5 + 0j}
    with pytest.raises(error, match=re.escape(fragment)):
        Evaluator(COURSE, point, in_matrix_context=False).eval(_course(text))


def test_a_sample_is_drawn_with_its_size() -> None:
    tree = _course(r"\frac{1}{n}\sum x_i")
    names = names_to_sample([tree], COURSE)
    assert names == ["n", "x"]
    for seed in range(5):
        point = sample_assignment(names, COURSE, np.random.default_rng(seed))
        data, n = point["x"], point["n"]
        assert isinstance(data, Data) and isinstance(n, complex) and data.length == int(n.real)


def test_no_letter_is_a_function_unless_declared() -> None:
    with pytest.raises(NotEvaluable, match="the function σ is not known"):
        evaluate(Call("sigma", (N("0"),)), {})


def test_work_is_bounded() -> None:
    """Nested calculus revisits its body: a bounded number of steps, then a clear refusal."""
    deep = r"\frac{d}{dt}\frac{d}{dt}\frac{d}{dt}\frac{d}{dt} t^5"
    with pytest.raises(NotEvaluable, match="order above 3"):
        Evaluator(COURSE, {"t": 0.5 + 0j}, in_matrix_context=False).eval(_course(deep))
