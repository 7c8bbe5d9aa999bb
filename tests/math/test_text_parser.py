"""The calculator-syntax reader (``(1-p)/p``, ``x**2``, Maxima's ``%pi`` and ``matrix(...)``)."""

from __future__ import annotations

import inspect
import random
import sys
from pathlib import Path

import pytest

from grader.math.symbols import SymbolTable
from grader.math.text import parse_text
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Index,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Operator,
    Parsed,
    ParseError,
    Pow,
    Relation,
    Seq,
    Sym,
    walk,
)

SYMBOLS = SymbolTable.model_validate(
    {
        "symbols": {
            "p": {"kind": "scalar", "domain": "(0, 1)"},
            "X": {"kind": "matrix", "shape": ["n", "d"]},
            "R": {"kind": "matrix", "shape": ["n", "d"]},
            "sigma": {"kind": "function", "definition": "1/(1+exp(-u))"},
            "f_0": {"kind": "function"},
            "JSD": {"kind": "function", "arity": 2},
        }
    }
)


def S(name: str) -> Sym:
    return Sym(name)


def N(text: str) -> Num:
    return Num(text)


def tree(source: str, symbols: SymbolTable | None = SYMBOLS) -> Node:
    result = parse_text(source, symbols)
    assert isinstance(result, Parsed), f"{source!r} did not parse: {result}"
    return result.tree


def error(source: str, **limits: int) -> ParseError:
    result = parse_text(source, SYMBOLS, **limits)
    assert isinstance(result, ParseError), f"{source!r} should not parse, got {result}"
    assert result.message
    return result


one_minus_p = Add((N("1"), Neg(S("p"))))

CASES = [
    ("(1-p)/p", Div(one_minus_p, S("p"))),
    ("x^2", Pow(S("x"), N("2"))),
    ("x**2", Pow(S("x"), N("2"))),
    ("sqrt(x)", Call("sqrt", (S("x"),))),
    ("2*x", Mul((N("2"), S("x")))),
    ("2x", Mul((N("2"), S("x")))),
    ("2 x", Mul((N("2"), S("x")))),
    ("exp(-u)", Call("exp", (Neg(S("u")),))),
    ("sin(x)^2", Pow(Call("sin", (S("x"),)), N("2"))),
    ("sin (x)", Call("sin", (S("x"),))),
    ("abs(x)", Norm(S("x"), "abs")),
    ("|x|", Norm(S("x"), "abs")),
    ("|x - y|", Norm(Add((S("x"), Neg(S("y")))), "abs")),
    ("2|x|", Mul((N("2"), Norm(S("x"), "abs")))),
    ("|a||b|", Mul((Norm(S("a"), "abs"), Norm(S("b"), "abs")))),
    ("pi", Const("pi")),
    ("e", Const("e")),
    ("e^(-x)", Pow(Const("e"), Neg(S("x")))),
    ("%pi + %e + %i", Add((Const("pi"), Const("e"), Const("i")))),
    ("i", S("i")),
    ("inf", Const("inf")),
    ("infinity", Const("inf")),
    ("x = 1", Relation((S("x"), N("1")), ("=",))),
    ("x == 1", Relation((S("x"), N("1")), ("=",))),
    ("x < 1", Relation((S("x"), N("1")), ("<",))),
    ("x <= 1", Relation((S("x"), N("1")), ("<=",))),
    ("x >= 1", Relation((S("x"), N("1")), (">=",))),
    ("x > 1", Relation((S("x"), N("1")), (">",))),
    ("x # 1", Relation((S("x"), N("1")), ("!=",))),
    ("x != 1", Relation((S("x"), N("1")), ("!=",))),
    ("0 < p < 1", Relation((N("0"), S("p"), N("1")), ("<", "<"))),
    ("{1,2}", Seq((N("1"), N("2")), "set")),
    ("[1,2]", Seq((N("1"), N("2")), "list")),
    ("(1,2)", Seq((N("1"), N("2")), "tuple")),
    ("1, 2", Seq((N("1"), N("2")), "list")),
    ("x = 1, 2", Relation((S("x"), Seq((N("1"), N("2")), "list")), ("=",))),
    ("matrix([1,2],[3,4])", MatrixLit(((N("1"), N("2")), (N("3"), N("4"))))),
    # precedence
    ("a/bc", Mul((Div(S("a"), S("b")), S("c")))),
    ("a/b/c", Div(Div(S("a"), S("b")), S("c"))),
    ("2x^2", Mul((N("2"), Pow(S("x"), N("2"))))),
    ("-x^2", Neg(Pow(S("x"), N("2")))),
    ("-2x", Neg(Mul((N("2"), S("x"))))),
    ("2*-x", Mul((N("2"), Neg(S("x"))))),
    ("x^-1", Pow(S("x"), N("-1"))),
    ("2^3^4", Pow(N("2"), Pow(N("3"), N("4")))),
    ("a - b + c", Add((S("a"), Neg(S("b")), S("c")))),
    ("n!", Factorial(S("n"))),
    ("(n+1)!", Factorial(Add((S("n"), N("1"))))),
    # names and calls
    ("p(1-p)", Mul((S("p"), one_minus_p))),
    ("xy(1-x)", Mul((S("x"), S("y"), Add((N("1"), Neg(S("x"))))))),  # x and y declared (DECLARED_XY)
    ("xy", Mul((S("x"), S("y")))),
    ("sigma(x)", Call("sigma", (S("x"),))),
    ("f_0(x)", Call("f_0", (S("x"),))),
    ("g(x)", Mul((S("g"), S("x")))),
    ("g(x, y)", Call("g", (S("x"), S("y")))),
    ("JSD(p, q)", Call("JSD", (S("p"), S("q")))),
    ("KL(p, q)", Call("KL", (S("p"), S("q")))),
    ("XR(1)", Mul((S("X"), S("R"), N("1")))),
    ("psi_0 * theta + lambda", Add((Mul((S("psi_0"), S("theta"))), S("lambda")))),
    ("Gamma^2", Pow(S("Gamma"), N("2"))),
    ("x2 + x_ij", Add((S("x2"), S("x_ij")))),
    (
        "ln(x) + log(x) + log10(x) + log(x, 2)",
        Add(
            (
                Call("log", (S("x"),)),
                Call("log", (S("x"),)),
                Call("log", (S("x"), N("10"))),
                Call("log", (S("x"), N("2"))),
            )
        ),
    ),  # fmt: skip
    ("asin(x) + arcsin(x)", Add((Call("arcsin", (S("x"),)), Call("arcsin", (S("x"),))))),
    (
        "diag(X) + tr(X) + det(X)",
        Add((Call("diag", (S("X"),)), Call("tr", (S("X"),)), Call("det", (S("X"),)))),
    ),
    ("max(a, b, c)", Call("max", (S("a"), S("b"), S("c")))),
    ("1/(1+exp(-u))", Div(N("1"), Add((N("1"), Call("exp", (Neg(S("u")),)))))),
    # numbers keep their text
    ("0.50", N("0.50")),
    ("1e-3", N("1e-3")),
    (".5", N(".5")),
    ("9^9^9", Pow(N("9"), Pow(N("9"), N("9")))),
    # Unicode
    ("π·x²", Mul((Const("pi"), Pow(S("x"), N("2"))))),
    ("√(x) ≤ λ", Relation((Call("sqrt", (S("x"),)), S("lambda")), ("<=",))),
    ("m - （n ＋ m）", Add((S("m"), Neg(Add((S("n"), S("m"))))))),
]


#: SYMBOLS plus x and y as scalars: ``xy(1-x)`` is then a product of declared letters
DECLARED_XY = SymbolTable.model_validate(
    {"symbols": {**SYMBOLS.model_dump()["symbols"], "x": {"kind": "scalar"}, "y": {"kind": "scalar"}}}
)


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_calculator_syntax(source: str, expected: Node) -> None:
    assert tree(source, DECLARED_XY) == expected


def call(func: str, *args: Node) -> Call:
    return Call(func, args)


m, n, x = S("m"), S("n"), S("x")

#: Maxima's and SymPy's spellings (STACK and PrairieLearn answers): each must be the function,
#: never a product of letters (``signum(-3)`` was s·i·g·n·u·m·(−3)).
FUNCTION_SPELLINGS = [
    ("signum(-3)", call("sign", Neg(N("3")))),
    ("sgn(x) + sign(x)", Add((call("sign", x), call("sign", x)))),
    ("cosec(3*x)", call("csc", Mul((N("3"), x)))),
    ("cosech(3*x)", call("csch", Mul((N("3"), x)))),
    ("sech(x) + csch(x) + coth(x)", Add((call("sech", x), call("csch", x), call("coth", x)))),
    ("asinh(x) + arsinh(x) + arcsinh(x)", Add((call("arcsinh", x),) * 3)),
    ("acosh(x) + atanh(x)", Add((call("arccosh", x), call("arctanh", x)))),
    ("acot(x) + asec(x) + acsc(x)", Add((call("arccot", x), call("arcsec", x), call("arccsc", x)))),
    ("round(2.5)", call("round", N("2.5"))),
    ("lg(10^x)", call("log", Pow(N("10"), x), N("10"))),  # Maxima: lg is log base 10
    ("lg(27,3)", call("log", N("27"), N("3"))),  # and lg(x, b) is log base b
    ("log10(x) + log2(x)", Add((call("log", x, N("10")), call("log", x, N("2"))))),
    ("factorial(3m)", Factorial(Mul((N("3"), m)))),
    ("binomial(n,k)", call("binom", n, S("k"))),
    ("Max(m,n)", call("max", m, n)),
    ("Min(a,b,c)", call("min", S("a"), S("b"), S("c"))),
    ("Abs(x) + abs(x)", Add((Norm(x, "abs"), Norm(x, "abs")))),
    ("max(m)", m),  # one argument: the argument itself (SymPy, Maxima)
    ("min(m)", m),
    ("root(x)", call("sqrt", x)),  # Maxima: root(x) is the square root
    ("root(x, 3)", call("root", x, N("3"))),
    ("atan2(m, n) + arctan2(m, n)", Add((call("atan2", m, n), call("atan2", m, n)))),
    ("infty", Const("inf")),
    ("-infty + 99", Add((Neg(Const("inf")), N("99")))),
]


@pytest.mark.parametrize(("source", "expected"), FUNCTION_SPELLINGS)
def test_function_spellings(source: str, expected: Node) -> None:
    assert tree(source) == expected


#: A letter and the digits after it are one name; a Greek letter typed as Unicode too (μ0 was
#: read as μ·0, silently changing the value). Like STACK, x1 and x_1 are different names.
NAMES_WITH_DIGITS = [
    ("1+μ0", Add((N("1"), S("mu0")))),
    ("μ0 + mu0", Add((S("mu0"), S("mu0")))),
    ("x1 + x_1", Add((S("x1"), S("x_1")))),
    ("2x1", Mul((N("2"), S("x1")))),
    ("μx", Mul((S("mu"), x))),
    ("2μ", Mul((N("2"), S("mu")))),
    ("xμ", Mul((x, S("mu")))),
    ("μ_0", S("mu_0")),
    ("π2", Mul((Const("pi"), N("2")))),  # constants and sqrt do not join digits
    ("2π", Mul((N("2"), Const("pi")))),
    ("√2", call("sqrt", N("2"))),
    ("√x", call("sqrt", x)),
]


@pytest.mark.parametrize(("source", "expected"), NAMES_WITH_DIGITS)
def test_names_with_digits(source: str, expected: Node) -> None:
    assert tree(source) == expected


def test_declared_greek_names_with_digits() -> None:
    declared = SymbolTable.model_validate(
        {"symbols": {"mu0": {"kind": "scalar"}, "phi": {"kind": "function"}}}
    )
    assert tree("φ(μ0)", declared) == call("phi", S("mu0"))
    assert tree("1 + mu0", declared) == Add((N("1"), S("mu0")))


#: A whitelisted function without parentheses takes the juxtaposed factors after it (PrairieLearn).
IMPLICIT_ARGUMENTS = [
    ("sin 5n", call("sin", Mul((N("5"), n)))),
    ("log n", call("log", n)),
    ("n log^2 n", Mul((n, Pow(call("log", n), N("2"))))),
    ("n log^2 2n", Mul((n, Pow(call("log", Mul((N("2"), n))), N("2"))))),
    ("sin**2 (m)", Pow(call("sin", m), N("2"))),
    ("5mn sin m + arccos 3n", Add((Mul((N("5"), m, n, call("sin", m))), call("arccos", Mul((N("3"), n)))))),
    ("2 sin x cos x", Mul((N("2"), call("sin", x), call("cos", x)))),  # the next function ends it
    ("sin x*y", Mul((call("sin", x), S("y")))),  # so does an explicit * or /
    ("x/sin y", Div(x, call("sin", S("y")))),
    ("sin^-1 x", call("arcsin", x)),
    ("sin cos x", call("sin", call("cos", x))),
    ("sqrt x^2", call("sqrt", Pow(x, N("2")))),
    ("lg x + abs x", Add((call("log", x, N("10")), Norm(x, "abs")))),
    ("sin(x)y", Mul((call("sin", x), S("y")))),
]


@pytest.mark.parametrize(("source", "expected"), IMPLICIT_ARGUMENTS)
def test_functions_without_parentheses(source: str, expected: Node) -> None:
    assert tree(source) == expected


@pytest.mark.parametrize(
    "word", ["signumm", "foo", "xy", "cosecant", "lnn", "arcsinhh", "factorials", "ab", "sine"]
)
def test_an_unknown_word_before_parentheses_is_never_a_product_of_letters(word: str) -> None:
    result = parse_text(f"{word}(3) + 1", SYMBOLS)
    assert isinstance(result, ParseError), result
    assert result.message == f"unknown function {word}"
    assert result.position == 0 and result.hint and "*" in result.hint


def test_declared_constants_are_symbols() -> None:
    declared = SymbolTable.model_validate({"symbols": {"e": {"kind": "scalar"}, "pi": {"kind": "scalar"}}})
    assert tree("e + pi", declared) == Add((S("e"), S("pi")))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("2 + sin", "sin needs an argument"),
        ("cos*n", "cos needs an argument"),
        ("sin!", "sin needs an argument"),
        ("atan2 x", "atan2 needs its arguments in parentheses"),
        ("sin(x, y)", "sin takes 1 argument, not 2"),
        ("atan2(x)", "atan2 takes 2 arguments, not 1"),
        ("lg(1, 2, 3)", "lg takes one argument"),
        ("xy(1-x)", "unknown function xy"),
        ("abs(x, y)", "abs takes one argument"),
        ("matrix(1, 2)", "matrix() takes rows written as lists"),
        ("matrix([1,2],[3])", "every row of a matrix needs the same number of entries"),
        ("f()", "f() needs an argument"),
        ("a__b", "'a__b' cannot be a name: names may not contain '__'"),
        ("x +", "the formula ends too early"),
        ("\\sqrt{x}", "unexpected '\\\\'"),
        ("x = = 1", "unexpected '='"),
        ("", "empty formula"),
    ],
)
def test_errors(source: str, message: str) -> None:
    err = error(source)
    assert err.message == message


def test_error_positions_point_into_the_input() -> None:
    assert error("1 + foo(x)").position == 4
    assert error("λ + \\x").position == 4


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('touch /tmp/x')",
        "exec('import os')",
        "lambda x: x",
        "x.__class__",
        "open('/etc/passwd').read()",
        "getattr(x, '__dict__')",
    ],
)
def test_python_is_never_run_nor_named(source: str) -> None:
    result = parse_text(source, SYMBOLS)
    if isinstance(result, Parsed):
        for node in walk(result.tree):
            assert "__" not in getattr(node, "name", "") and "__" not in getattr(node, "func", "")


def test_nothing_executes(tmp_path: Path) -> None:
    marker = tmp_path / "x"
    parse_text(f"__import__('os').system('touch {marker}')")
    parse_text(f"system(touch({marker}))")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("(" * 10_000 + "x" + ")" * 10_000, "nested too deeply"),
        ("-" * 15_000 + "x", "nested too deeply"),
        ("^".join(["2"] * 5_000), "nested too deeply"),
        ("|" * 15_000, "nested too deeply"),
        ("x+" * 500_000 + "x", "formula too long"),
    ],
)
def test_hostile_sizes_fail_fast(source: str, message: str) -> None:
    assert message in error(source).message


def test_long_flat_formulas_parse() -> None:
    assert isinstance(tree("+".join(["x"] * 5_000)), Add)
    assert isinstance(tree("*".join(["x"] * 5_000)), Mul)


def test_reading_does_not_recurse_with_the_input_depth() -> None:
    parse_text("x")
    deep = ["(" * 390 + "x" + ")" * 390, "2^" * 390 + "2", "-" * 390 + "x"]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 80)
    try:
        results = [parse_text(source) for source in deep]
    finally:
        sys.setrecursionlimit(limit)
    assert all(isinstance(r, Parsed) for r in results)


def test_random_token_soup_never_raises() -> None:
    rng = random.Random(7)
    pieces = ["x", "2", "0.5", "+", "-", "*", "/", "^", "**", "(", ")", "[", "]", "{", "}", "|", ",", "=", "<=", "#",
              "!", "sin(", "sqrt(", "matrix(", "%pi", "e", "pi", "f_0(", "sigma", "__", "'", ";", "\\", "λ",
              "sin", "log", "lg(", "signum(", "foo(", "μ0", "infty", "max(", "root(", "**2"]  # fmt: skip
    for _ in range(400):
        source = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 20)))
        result = parse_text(source, SYMBOLS)
        assert isinstance(result, Parsed | ParseError)
        if isinstance(result, ParseError):
            assert result.message and not result.message.startswith("internal"), (source, result)


# -- notation other courses need (issue 12) ------------------------------------------------------

SAMPLES = SymbolTable.model_validate({"symbols": {"x": {"kind": "sample"}}})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("15.87%", Div(Num("15.87"), Num("100"))),
        ("1 - %e", Add((Num("1"), Neg(Const("e"))))),
        ("0,1587", Num("0.1587")),
        ("0, 1", Seq((Num("0"), Num("1")), "list")),
        ("binomial(5, 2)", Call("binom", (Num("5"), Num("2")))),
        ("O(t^2)", Call("O", (Pow(Sym("t"), Num("2")),))),
        ("x_i^2", Pow(Index("x", Sym("i")), Num("2"))),
        ("x_1", Index("x", Num("1"))),
        ("mean(x)", Call("mean", (Sym("x"),))),
        ("sum(x_i, i, 1, n)", Operator("sum", Index("x", Sym("i")), Relation((Sym("i"), Num("1")), ("=",)), Sym("n"))),
    ],
)
def test_notation_other_courses_need(source: str, expected: Node) -> None:
    parsed = parse_text(source, SAMPLES)
    assert isinstance(parsed, Parsed), parsed
    assert parsed.tree == expected
