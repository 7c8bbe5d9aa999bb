"""Three-way equivalence: table-driven (reference, answer, verdict, method) plus messages and bombs."""

from __future__ import annotations

import pytest

from grader.math import equivalence
from grader.math.api import is_equivalent, symbol_table
from grader.math.equivalence import Equivalence, check_equivalence
from grader.math.latex import parse_latex
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
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
    Seq,
    Sym,
    Text,
    Transpose,
)

N, S = Num, Sym
X, y, w, lam, I_, p, x, a, b = S("X"), S("y"), S("w"), S("lambda"), S("I"), S("p"), S("x"), S("a"), S("b")


def inv(node: Node) -> Pow:
    return Pow(node, N("-1"))


def T(node: Node) -> Transpose:
    return Transpose(node)


def frac(num: Node | str, den: Node | str) -> Div:
    return Div(N(num) if isinstance(num, str) else num, N(den) if isinstance(den, str) else den)


def sub(left: Node, right: Node) -> Add:
    return Add((left, Neg(right)))


def rel(left: Node, op: str, right: Node) -> Relation:
    return Relation((left, right), (op,))  # type: ignore[arg-type]


HALF = frac("1", "2")
I_HALF = frac(S("i"), "2")

TABLE = symbol_table(
    {
        "X": {"kind": "matrix", "shape": ["n", "d"]},
        "y": {"kind": "matrix", "shape": ["n", 1]},
        "w": {"kind": "matrix", "shape": ["d", 1]},
        "lambda": {"kind": "scalar", "domain": "positive"},
        "p": {"kind": "scalar", "domain": "(0, 1)"},
        "gamma": {"kind": "scalar", "domain": "positive"},
        "sigma": {"kind": "function", "library": "logistic"},
        "f": {"kind": "function"},
    }
)

RIDGE = Mul((inv(Add((Mul((T(X), X)), Mul((lam, I_))))), T(X), y))
PUSH_THROUGH = Mul((T(X), inv(Add((Mul((X, T(X))), Mul((lam, I_))))), y))
RIDGE_WRONG_SIDE = Mul((T(X), y, inv(Add((Mul((T(X), X)), Mul((lam, I_)))))))
J_STAR = MatrixLit(((N("0"), N("0"), Neg(HALF)), (N("0"), Neg(HALF), N("0")), (HALF, N("0"), N("0"))))
ZERO3 = MatrixLit(tuple(tuple(N("0") for _ in range(3)) for _ in range(3)))
J_FLIPPED = MatrixLit(((N("0"), N("0"), HALF), (N("0"), Neg(HALF), N("0")), (Neg(HALF), N("0"), N("0"))))
EIGEN = Seq((Neg(HALF), PlusMinus(None, I_HALF)), "list")

CASES: list[tuple[str, Node, Node, str, str]] = [
    # id, reference, answer, verdict, method
    ("same tree", Add((x, N("1"))), Add((x, N("1"))), "equivalent", "structural"),
    (
        "expanded square",
        Pow(Add((x, N("1"))), N("2")),
        Add((Pow(x, N("2")), Mul((N("2"), x)), N("1"))),
        "equivalent",
        "numeric",
    ),
    ("lambda dropout", frac(sub(N("1"), p), p), sub(frac("1", p), N("1")), "equivalent", "numeric"),
    ("lambda inverted", frac(sub(N("1"), p), p), frac(p, sub(N("1"), p)), "not_equivalent", "numeric"),
    ("sqrt(p^2)=p for p>0", p, Call("sqrt", (Pow(p, N("2")),)), "equivalent", "numeric"),
    ("sqrt(x^2)≠x for real x", x, Call("sqrt", (Pow(x, N("2")),)), "not_equivalent", "numeric"),
    ("sqrt(x^2)=|x|", Norm(x, "abs"), Call("sqrt", (Pow(x, N("2")),)), "equivalent", "numeric"),
    (
        "log rule for positive λ",
        Call("log", (lam,)),
        Div(Call("log", (Pow(lam, N("2")),)), N("2")),
        "equivalent",
        "numeric",
    ),
    (
        "log rule where both are real",
        Call("log", (x,)),
        Div(Call("log", (Pow(x, N("2")),)), N("2")),
        "equivalent",
        "numeric",
    ),
    (
        "(a^b)^c vs a^(bc) at a=-2",
        Pow(a, Mul((b, S("c")))),
        Pow(Pow(a, b), S("c")),
        "not_equivalent",
        "numeric",
    ),
    (
        "1/sqrt(x) vs sqrt(1/x)",
        frac("1", Call("sqrt", (x,))),
        Call("sqrt", (frac("1", x),)),
        "equivalent",
        "numeric",
    ),
    (
        "exact: beyond double precision",
        frac("99999998", "99999999"),
        Div(N("99999999"), Pow(N("10"), N("8"))),
        "not_equivalent",
        "symbolic",
    ),
    (
        "exact: polynomial off by one",
        Pow(Add((x, N("1"))), N("12")),
        Add((Pow(Add((x, N("1"))), N("12")), Neg(frac("1", Pow(N("10"), N("30")))))),
        "not_equivalent",
        "symbolic",
    ),
    (
        "exact: surds agree",
        Mul((N("2"), Call("sqrt", (N("3"),)))),
        Call("sqrt", (N("12"),)),
        "equivalent",
        "numeric",
    ),
    ("sigma symmetry", sub(N("1"), Call("sigma", (x,))), Call("sigma", (Neg(x),)), "equivalent", "numeric"),
    (
        "sigma definition",
        Call("sigma", (x,)),
        frac("1", Add((N("1"), Pow(Const("e"), Neg(x))))),
        "equivalent",
        "numeric",
    ),
    ("decimal vs fraction", frac("1", "3"), N("0.33"), "not_equivalent", "numeric"),
    ("decimal equal", HALF, N("0.5"), "equivalent", "numeric"),
    ("complex constant", Mul((S("i"), S("i"))), N("-1"), "equivalent", "numeric"),
    # f is declared without a definition: uninterpreted, so random functions decide
    ("declared function", Call("f", (Mul((N("2"), x)),)), Call("f", (Add((x, x)),)), "equivalent", "numeric"),
    (
        "declared function differs",
        Call("f", (x,)),
        Call("f", (Mul((N("2"), x)),)),
        "not_equivalent",
        "numeric",
    ),
    # g is not declared: SymPy keeps it as an unknown function, and nothing else can decide
    ("unknown function", Call("g", (Mul((N("2"), x)),)), Call("g", (Add((x, x)),)), "equivalent", "symbolic"),
    ("unknown function differs", Call("g", (x,)), Call("g", (Mul((N("2"), x)),)), "undecided", "numeric"),
    ("expectation", Operator("E", x), Operator("E", Mul((N("1"), x))), "undecided", "numeric"),
    ("text", Text("converges"), Text("diverges"), "undecided", "numeric"),
    # matrices
    ("push-through identity", RIDGE, PUSH_THROUGH, "equivalent", "matrix_numeric"),
    ("ridge wrong side", RIDGE, RIDGE_WRONG_SIDE, "not_equivalent", "matrix_numeric"),
    ("XXᵀ vs XᵀX", Mul((T(X), X)), Mul((X, T(X))), "not_equivalent", "matrix_numeric"),
    ("forgot the ridge", RIDGE, Mul((inv(Mul((T(X), X))), T(X), y)), "not_equivalent", "matrix_numeric"),
    ("transpose of product", T(Mul((X, w))), Mul((T(w), T(X))), "equivalent", "matrix_numeric"),
    ("transpose order wrong", T(Mul((T(X), y))), Mul((T(X), y)), "not_equivalent", "matrix_numeric"),
    (
        "squared norm",
        Pow(Norm(sub(y, Mul((X, w))), "2"), N("2")),
        Mul((T(sub(y, Mul((X, w)))), sub(y, Mul((X, w))))),
        "equivalent",
        "matrix_numeric",
    ),
    # concrete matrices
    (
        "J* itself rewritten",
        J_STAR,
        MatrixLit(((N("0"), N("0"), N("-0.5")), (N("0"), N("-0.5"), N("0")), (N("0.5"), N("0"), N("0")))),
        "equivalent",
        "entrywise",
    ),
    ("J* vs zero", J_STAR, ZERO3, "not_equivalent", "entrywise"),
    ("J* sign flipped", J_STAR, J_FLIPPED, "not_equivalent", "entrywise"),
    (
        "J* wrong shape",
        J_STAR,
        MatrixLit(((N("0"), N("0")), (N("0"), N("0")))),
        "not_equivalent",
        "entrywise",
    ),
    # sets and ±
    ("eigenvalues as a set", EIGEN, Seq((I_HALF, Neg(HALF), Neg(I_HALF)), "set"), "equivalent", "set"),
    (
        "eigenvalues reordered list",
        EIGEN,
        Seq((PlusMinus(None, I_HALF), Neg(HALF)), "list"),
        "equivalent",
        "set",
    ),
    ("eigenvalues all zero", EIGEN, Seq((N("0"), N("0"), N("0")), "list"), "not_equivalent", "set"),
    ("eigenvalue missing", EIGEN, Seq((Neg(HALF), I_HALF), "list"), "not_equivalent", "set"),
    (
        "set duplicates collapse",
        Seq((N("1"), N("2")), "set"),
        Seq((N("2"), N("1"), N("1")), "set"),
        "equivalent",
        "set",
    ),
    (
        "multiset duplicates count",
        Seq((N("1"), N("2")), "list"),
        Seq((N("2"), N("1"), N("1")), "list"),
        "not_equivalent",
        "set",
    ),
    (
        "symbolic roots with ±",
        Seq(
            (
                Neg(HALF),
                Div(
                    PlusMinus(Neg(S("gamma")), Call("sqrt", (sub(Pow(S("gamma"), N("2")), N("1")),))), N("2")
                ),
            ),
            "list",
        ),
        Seq(
            (
                Div(sub(Neg(S("gamma")), Call("sqrt", (sub(Pow(S("gamma"), N("2")), N("1")),))), N("2")),
                Neg(HALF),
                Div(Add((Neg(S("gamma")), Call("sqrt", (sub(Pow(S("gamma"), N("2")), N("1")),)))), N("2")),
            ),
            "list",
        ),
        "equivalent",
        "set",
    ),
    # tuples are ordered
    (
        "tuple same",
        Seq((N("0"), N("0"), N("1")), "tuple"),
        Seq((N("0"), N("0"), N("1")), "tuple"),
        "equivalent",
        "structural",
    ),
    (
        "tuple reordered",
        Seq((N("0"), N("1"), Neg(HALF)), "tuple"),
        Seq((N("0"), Neg(HALF), N("1")), "tuple"),
        "not_equivalent",
        "entrywise",
    ),
    (
        "tuple vs list",
        Seq((N("0"), N("1")), "tuple"),
        Seq((N("0"), frac("2", "2")), "list"),
        "equivalent",
        "entrywise",
    ),
    # relations
    ("equation sides swapped", rel(a, "=", b), rel(b, "=", a), "equivalent", "relation"),
    ("equation scaled", rel(x, "=", N("2")), rel(Mul((N("2"), x)), "=", N("4")), "equivalent", "relation"),
    (
        "equation rearranged",
        rel(Add((x, S("z"))), "=", N("1")),
        rel(x, "=", sub(N("1"), S("z"))),
        "equivalent",
        "relation",
    ),
    ("equation wrong", rel(x, "=", N("2")), rel(Mul((N("2"), x)), "=", N("5")), "not_equivalent", "relation"),
    (
        "equation same solutions",
        rel(Pow(Const("e"), x), "=", Pow(Const("e"), N("2"))),
        rel(x, "=", N("2")),
        "equivalent",
        "relation",
    ),
    (
        "equation times a nonvanishing factor",
        rel(S("z"), "=", frac(x, sub(Mul((N("2"), x)), N("1")))),
        rel(Add((frac("1", x), frac("1", S("z")))), "=", N("2")),
        "equivalent",
        "relation",
    ),
    (
        "equation with a repeated root",
        rel(x, "=", N("2")),
        rel(Pow(sub(x, N("2")), N("2")), "=", N("0")),
        "not_equivalent",
        "relation",
    ),
    (
        "equation outside the reals",
        rel(x, "=", S("z")),
        rel(Call("sqrt", (x,)), "=", Call("sqrt", (S("z"),))),
        "not_equivalent",
        "relation",
    ),
    (
        "assignment vs value",
        frac(sub(N("1"), p), p),
        rel(S("lambda_d"), "=", sub(frac("1", p), N("1"))),
        "equivalent",
        "numeric",
    ),
    (
        "assignment wrong value",
        frac(sub(N("1"), p), p),
        rel(S("lambda_d"), "=", frac(p, sub(N("1"), p))),
        "not_equivalent",
        "numeric",
    ),
    ("matrix assignment", rel(w, "=", RIDGE), rel(w, "=", PUSH_THROUGH), "equivalent", "matrix_numeric"),
    (
        "matrix assignment shape error",
        rel(w, "=", RIDGE),
        rel(w, "=", RIDGE_WRONG_SIDE),
        "not_equivalent",
        "matrix_numeric",
    ),
    ("≥ flipped to ≤", rel(a, ">=", b), rel(b, "<=", a), "equivalent", "relation"),
    ("a > b vs a - b > 0", rel(a, ">", b), rel(sub(a, b), ">", N("0")), "equivalent", "relation"),
    ("inequality reversed", rel(a, ">=", b), rel(a, "<", b), "not_equivalent", "relation"),
    (
        "inequality wrong boundary",
        rel(x, ">", N("2")),
        rel(x, ">", frac("201", "100")),
        "not_equivalent",
        "relation",
    ),
    ("inequality strictness", rel(x, ">", N("2")), rel(x, ">=", N("2")), "not_equivalent", "relation"),
    ("inequality scaled", rel(x, "<", N("2")), rel(Mul((N("3"), x)), "<", N("6")), "equivalent", "relation"),
    ("inequality negated", rel(x, "<", N("2")), rel(Neg(x), ">", N("-2")), "equivalent", "relation"),
    (
        "chain",
        Relation((N("0"), x, N("1")), ("<", "<")),
        Relation((N("1"), x, N("0")), (">", ">")),
        "equivalent",
        "relation",
    ),
    (
        "chain wrong",
        Relation((N("0"), x, N("1")), ("<", "<")),
        Relation((N("0"), x, N("2")), ("<", "<")),
        "not_equivalent",
        "relation",
    ),
    ("equation vs inequality", rel(x, "=", N("2")), rel(x, "<", N("2")), "not_equivalent", "relation"),
    (
        "x = ±2 vs list",
        rel(x, "=", PlusMinus(None, N("2"))),
        Seq((rel(x, "=", N("-2")), rel(x, "=", N("2"))), "list"),
        "equivalent",
        "relation",
    ),
]


@pytest.mark.parametrize(
    ("reference", "answer", "verdict", "method"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_table(reference: Node, answer: Node, verdict: str, method: str) -> None:
    outcome = check_equivalence(answer, reference, TABLE)
    assert (outcome.verdict, outcome.method) == (verdict, method), outcome.detail
    if verdict != "equivalent":
        assert outcome.detail


def test_counterexample_message_and_payload() -> None:
    outcome = check_equivalence(frac(p, sub(N("1"), p)), frac(sub(N("1"), p), p), TABLE)
    assert outcome.verdict == "not_equivalent"
    assert outcome.detail.startswith("at p = 0.")
    assert "yours gives" in outcome.detail and "expected" in outcome.detail
    assert outcome.counterexample is not None
    point = outcome.counterexample["point"]["p"]
    assert outcome.counterexample["student"] == pytest.approx(point / (1 - point), rel=1e-5)
    assert outcome.counterexample["reference"] == pytest.approx((1 - point) / point, rel=1e-5)


def test_shape_error_names_the_product_and_dimensions() -> None:
    outcome = check_equivalence(RIDGE_WRONG_SIDE, RIDGE, TABLE)
    assert "Xᵀy·(XᵀX + λI)⁻¹" in outcome.detail
    assert "(d×1)·(d×d) does not conform: inner sizes 1 and d differ" in outcome.detail


def test_shape_error_in_the_reference_is_undecided_for_the_rubric_author() -> None:
    outcome = check_equivalence(RIDGE, RIDGE_WRONG_SIDE, TABLE)
    assert outcome.verdict == "undecided"
    assert "rubric author" in outcome.detail


def test_result_shape_mismatch_is_reported() -> None:
    outcome = check_equivalence(Mul((X, T(X))), Mul((T(X), X)), TABLE)
    assert outcome.detail == "yours is (n×n), but the answer is (d×d)"


def test_wrong_entries_are_one_based_with_values_as_written() -> None:
    outcome = check_equivalence(ZERO3, J_STAR, TABLE)
    assert outcome.wrong_entries == [(1, 3), (2, 2), (3, 1)]
    assert "row 1, column 3: yours 0, expected -1/2" in outcome.detail
    flipped = check_equivalence(J_FLIPPED, J_STAR, TABLE)
    assert flipped.wrong_entries == [(1, 3), (3, 1)]


def test_set_report_names_missing_and_extra_items() -> None:
    outcome = check_equivalence(Seq((Neg(HALF), I_HALF, N("0")), "list"), EIGEN, TABLE)
    assert outcome.detail == "missing -i/2; not expected 0"


def test_inequality_counterexample_near_the_boundary() -> None:
    outcome = check_equivalence(rel(x, ">", frac("201", "100")), rel(x, ">", N("2")), TABLE)
    assert "holds but yours does not" in outcome.detail
    assert outcome.counterexample is not None
    assert 2 < outcome.counterexample["point"]["x"] <= 2.01


def test_seed_changes_points_but_not_verdicts() -> None:
    verdicts = {check_equivalence(PUSH_THROUGH, RIDGE, TABLE, seed=s).verdict for s in range(3)}
    assert verdicts == {"equivalent"}
    first = check_equivalence(frac(p, sub(N("1"), p)), frac(sub(N("1"), p), p), TABLE, seed=1)
    again = check_equivalence(frac(p, sub(N("1"), p)), frac(sub(N("1"), p), p), TABLE, seed=1)
    assert first == again


def test_tolerance_is_respected() -> None:
    close = N("0.3333334")
    assert check_equivalence(close, frac("1", "3"), TABLE).verdict == "equivalent"
    assert check_equivalence(close, frac("1", "3"), TABLE, rtol=1e-9).verdict == "not_equivalent"


def test_equivalence_serializes() -> None:
    outcome = check_equivalence(ZERO3, J_STAR, TABLE)
    dumped = outcome.model_dump(mode="json")
    assert dumped["verdict"] == "not_equivalent"
    assert Equivalence.model_validate(dumped) == outcome
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type varies by version
        outcome.verdict = "equivalent"  # type: ignore[misc]


# -- hostile input: every bomb is undecided, quickly -----------------------------------------


def _tower(height: int, top: str) -> Node:
    node: Node = N(top)
    for _ in range(height):
        node = Pow(N("2"), node)
    return node


BIG = symbol_table({"symbols": {"A": {"kind": "matrix", "shape": ["m", "m"]}}, "dimensions": {"m": 300}})
BOMBS: list[tuple[str, Node, Node, object]] = [
    ("power tower", _tower(5, "100"), N("3"), None),
    ("factorial of a power", Factorial(Pow(N("10"), Pow(N("10"), N("10")))), N("3"), None),
    ("huge sum", Operator("sum", S("k"), rel(S("k"), "=", N("1")), Pow(N("10"), N("12"))), N("1"), None),
    ("300×300 declared matrix", Mul((S("A"), S("A"))), Mul((S("A"), S("A"), N("1"))), BIG),
    (
        "300×300 literal",
        MatrixLit(tuple(tuple(N("1") for _ in range(300)) for _ in range(300))),
        N("1"),
        None,
    ),
    ("symbolic tower", Pow(x, _tower(4, "10")), Pow(x, N("2")), None),
    ("many ±", Seq(tuple(PlusMinus(None, N(str(k))) for k in range(200)), "list"), N("1"), None),
]


@pytest.mark.parametrize(("answer", "reference", "table"), [c[1:] for c in BOMBS], ids=[c[0] for c in BOMBS])
def test_bombs_are_bounded(answer: Node, reference: Node, table: object) -> None:
    outcome = check_equivalence(answer, reference, table or TABLE, timeout_s=5)  # type: ignore[arg-type]
    assert outcome.verdict == "undecided"
    assert "too large" in outcome.detail or "timed out" in outcome.detail


def _spin(*_args: object) -> None:
    while True:
        pass


def _hog(*_args: object) -> None:
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))


def test_timeout_is_undecided_not_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker is forked after the patch, so it runs the spinning comparison.
    monkeypatch.setattr(equivalence, "_compare", _spin)
    outcome = check_equivalence(x, Add((x, N("1"))), TABLE, timeout_s=0.5)
    assert (outcome.verdict, outcome.method) == ("undecided", "none")
    assert outcome.detail == "timed out: the comparison did not finish within 0.5 s"


def test_memory_limit_is_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(equivalence, "_compare", _hog)
    outcome = check_equivalence(x, Add((x, N("1"))), TABLE, memory_mb=128)
    assert (outcome.verdict, outcome.method) == ("undecided", "none")
    assert outcome.detail == "too large: the comparison needed more than 128 MB of memory"


def test_structural_equality_needs_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(equivalence, "_compare", _spin)
    assert check_equivalence(RIDGE, RIDGE, TABLE, timeout_s=0.1).verdict == "equivalent"


# -- end to end through the parsers and the public API -----------------------------------------

A3_SYMBOLS = {
    "X": {"kind": "matrix", "shape": ["n", "d"]},
    "y": {"kind": "matrix", "shape": ["n", 1]},
    "w": {"kind": "matrix", "shape": ["d", 1]},
    "lambda": {"kind": "scalar", "domain": "positive"},
    "p": {"kind": "scalar", "domain": "(0, 1)"},
    "gamma": {"kind": "scalar", "domain": "positive"},
    "theta": {"kind": "scalar"},
    "psi_0": {"kind": "scalar"},
    "psi_1": {"kind": "scalar"},
    "sigma": {"kind": "function", "definition": "1/(1+exp(-u))"},
}
RIDGE_TEX = r"(X^\top X + \lambda I_d)^{-1} X^\top y"
J_TEX = r"\begin{pmatrix} 0 & 0 & -\frac12 \\ 0 & -\frac12 & 0 \\ \frac12 & 0 & 0 \end{pmatrix}"
FIELD_TEX = r"(-\theta\sigma(\psi_0\theta+\psi_1), \sigma(-\psi_1)-\sigma(\psi_0\theta+\psi_1), \psi_0\sigma(\psi_0\theta+\psi_1))"

END_TO_END: list[tuple[str, str, str, bool | None]] = [
    # id, reference, answer, is_equivalent
    ("1.2 dropout strength", r"\frac{1-p}{p}", r"\frac{1}{p} - 1", True),
    ("1.2 inverted", r"\frac{1-p}{p}", r"\frac{p}{1-p}", False),
    ("1.2 named", r"\frac{1-p}{p}", r"\lambda_{dropout} = \frac{1}{p}-1", True),
    ("1.3 push-through", RIDGE_TEX, r"X^\top (X X^\top + \lambda I_n)^{-1} y", True),
    ("1.3 wrong side", RIDGE_TEX, r"X^\top y (X^\top X + \lambda I)^{-1}", False),
    ("1.3 inverse of the wrong Gram matrix", RIDGE_TEX, r"(XX^\top + \lambda I)^{-1} X^\top y", False),
    ("1.3 forgot the inverse", RIDGE_TEX, r"(X^\top X + \lambda I) X^\top y", False),
    (
        "1.1 dropout loss",
        r"\|y - pXw\|^2 + p(1-p)\|\mathrm{diag}(X^\top X)^{1/2} w\|^2",
        r"(y-pXw)^\top (y-pXw) + p(1-p) w^\top \mathrm{diag}(X^\top X) w",
        True,
    ),
    (
        "5.1 field",
        FIELD_TEX,
        r"(-\theta\sigma(\psi_0\theta+\psi_1), 1-\sigma(\psi_1)-\sigma(\psi_0\theta+\psi_1), \frac{\psi_0}{1+e^{-\psi_0\theta-\psi_1}})",
        True,
    ),
    (
        "5.1 field wrong",
        FIELD_TEX,
        r"(-\theta^2\sigma(\psi_0\theta+\psi_1), \sigma(-\psi_1), \psi_0^2\sigma(\psi_0\theta))",
        False,
    ),
    ("5.1 stationary point", r"(0, 0, 0)", r"(0,0,0)", True),
    ("5.2 J*", J_TEX, r"\begin{bmatrix} 0 & 0 & -0.5 \\ 0 & -0.5 & 0 \\ 0.5 & 0 & 0 \end{bmatrix}", True),
    ("5.2 zero matrix", J_TEX, r"\begin{pmatrix} 0 & 0 & 0 \\ 0 & 0 & 0 \\ 0 & 0 & 0 \end{pmatrix}", False),
    ("5.3 eigenvalues", r"-\frac12, \pm\frac{i}{2}", r"\frac{i}{2}, -\frac{i}{2}, -\frac{1}{2}", True),
    ("5.3 all zero", r"-\frac12, \pm\frac{i}{2}", r"0, 0, 0", False),
    (
        "5.6 eigenvalues",
        r"-\frac12, \frac{-\gamma \pm \sqrt{\gamma^2 - 1}}{2}",
        r"\frac{-\gamma+\sqrt{\gamma^2-1}}{2}, \frac{-\gamma-\sqrt{\gamma^2-1}}{2}, -0.5",
        True,
    ),
    ("2.2 inequality reversed", r"a \geq b", r"a < b", False),
    ("bomb", r"3", r"2^{2^{2^{2^{2^{100}}}}}", None),
    ("factorial bomb", r"3", r"10^{10^{10}}!", None),
    ("unparseable student", r"x", r"\frac{1}{", None),
]


@pytest.mark.parametrize(
    ("reference", "answer", "expected"), [c[1:] for c in END_TO_END], ids=[c[0] for c in END_TO_END]
)
def test_is_equivalent_end_to_end(reference: str, answer: str, expected: bool | None) -> None:
    assert is_equivalent(answer, reference, symbols=A3_SYMBOLS) is expected


def test_is_equivalent_text_syntax_and_unparseable_reference() -> None:
    assert is_equivalent("sqrt(p^2)", "p", syntax="text", symbols={"p": "positive"}) is True
    assert is_equivalent("sqrt(x^2)", "x", syntax="text") is False
    with pytest.raises(ValueError, match="does not parse"):
        is_equivalent("x", r"\frac{1}{", symbols=A3_SYMBOLS)


def test_check_equivalence_accepts_parsed_trees() -> None:
    table = symbol_table(A3_SYMBOLS)
    reference, answer = (
        parse_latex(RIDGE_TEX, table),
        parse_latex(r"X^\top y (X^\top X + \lambda I)^{-1}", table),
    )
    assert not isinstance(reference, ParseError) and not isinstance(answer, ParseError)
    outcome = check_equivalence(answer.tree, reference.tree, table)
    assert (outcome.verdict, outcome.method) == ("not_equivalent", "matrix_numeric")
    assert "inner sizes 1 and d differ" in outcome.detail


# -- the SymPy bridge ----------------------------------------------------------------------------


def test_bridge_assumptions_follow_domains() -> None:
    import sympy

    from grader.math.sympy_bridge import symbolic_equal, to_sympy

    table = symbol_table({"p": "(0, 1)", "n": "positive_integer"})
    p_sym = to_sympy(S("p"), table)
    assert p_sym is not None and p_sym.is_positive
    n_sym = to_sympy(S("n"), table)
    assert n_sym is not None and n_sym.is_integer and n_sym.is_positive
    x_sym = to_sympy(S("x"), table)
    assert x_sym is not None and x_sym.is_real and x_sym.is_positive is None
    root = to_sympy(Call("sqrt", (Pow(S("p"), N("2")),)), table)
    assert root == p_sym
    assert symbolic_equal(sympy.Abs(x_sym), sympy.sqrt(x_sym**2)) is True


def test_bridge_keeps_decimals_as_floats_and_refuses_matrices_and_bombs() -> None:
    import sympy

    from grader.math.sympy_bridge import symbolic_equal, to_sympy

    third = to_sympy(N("0.33"))
    assert isinstance(third, sympy.Float)
    assert symbolic_equal(third, sympy.Rational(1, 3)) is False
    assert to_sympy(Mul((X, w)), TABLE) is None
    assert to_sympy(_tower(5, "100")) is None
    assert to_sympy(Factorial(N("5000"))) is None
    assert isinstance(to_sympy(Factorial(N("500"))), sympy.Integer)  # exact integers go further than floats
    assert to_sympy(Text("words")) is None


@pytest.mark.parametrize("answer", [frac("1", "0"), Div(N("1"), Call("log", (N("1"),)))])
def test_undefined_constant_is_not_the_reference(answer: Node) -> None:
    outcome = check_equivalence(answer, N("1"), TABLE)
    assert (outcome.verdict, outcome.method) == ("not_equivalent", "numeric")
    assert "undefined" in outcome.detail


# -- uninterpreted functions: declared without a definition, decided with random functions -----

DENSITIES = symbol_table(
    {
        "p_0": {"kind": "function"},
        "p_1": {"kind": "function"},
        "D": {"kind": "function"},
        "f": {"kind": "function", "arity": 2},
        "v": {"kind": "matrix", "shape": ["d", 1]},
    }
)

UNINTERPRETED: list[tuple[str, str, str, str]] = [
    # id, reference, answer, verdict
    ("optimal discriminator", r"\frac{p_1(x)}{p_0(x)+p_1(x)}", r"\frac{p_1(x)}{p_1(x)+p_0(x)}", "equivalent"),
    (
        "discriminator flipped",
        r"\frac{p_1(x)}{p_0(x)+p_1(x)}",
        r"\frac{p_0(x)}{p_0(x)+p_1(x)}",
        "not_equivalent",
    ),
    ("log ratio", r"\log \frac{p_1(x)}{p_0(x)}", r"\log p_1(x) - \log p_0(x)", "equivalent"),
    (
        "log of a sum is not a sum of logs",
        r"\log(p_0(x) + p_1(x))",
        r"\log p_0(x) + \log p_1(x)",
        "not_equivalent",
    ),
    ("1 - D", r"1 - \frac{p_1(x)}{p_0(x)+p_1(x)}", r"\frac{p_0(x)}{p_0(x)+p_1(x)}", "equivalent"),
    ("argument matters", r"D(x)", r"D(y)", "not_equivalent"),
    ("argument order matters", r"f(x, y)", r"f(y, x)", "not_equivalent"),
    ("p(2x) is not p(x)^2", r"p_0(x)^2", r"p_0(2x)", "not_equivalent"),
    ("no free variables", r"p_0(1) + p_1(2)", r"p_1(2) + p_0(1)", "equivalent"),
    ("no free variables, swapped", r"p_0(1) + p_1(2)", r"p_1(1) + p_0(2)", "not_equivalent"),
    ("vector argument", r"\frac{p_1(v)}{p_0(v)+p_1(v)}", r"\frac{p_1(v)}{p_1(v)+p_0(v)}", "equivalent"),
    (
        "vector argument flipped",
        r"\frac{p_1(v)}{p_0(v)+p_1(v)}",
        r"\frac{p_0(v)}{p_0(v)+p_1(v)}",
        "not_equivalent",
    ),
    ("equation", r"D(x) = \frac{1}{2}", r"2 D(x) = 1", "equivalent"),
    ("set", r"\{p_0(1), p_1(1)\}", r"\{p_1(1), p_0(1)\}", "equivalent"),
]


@pytest.mark.parametrize(
    ("reference", "answer", "verdict"), [c[1:] for c in UNINTERPRETED], ids=[c[0] for c in UNINTERPRETED]
)
def test_declared_functions_without_definition_are_uninterpreted(
    reference: str, answer: str, verdict: str
) -> None:
    ref, ans = parse_latex(reference, DENSITIES), parse_latex(answer, DENSITIES)
    assert not isinstance(ref, ParseError) and not isinstance(ans, ParseError)
    for seed in range(4):  # every seed draws its own functions; the verdict must not depend on it
        outcome = check_equivalence(ans.tree, ref.tree, DENSITIES, seed=seed)
        assert outcome.verdict == verdict, outcome.detail


def test_uninterpreted_counterexample_names_the_random_functions() -> None:
    ref = parse_latex(r"\frac{p_1(x)}{p_0(x)+p_1(x)}", DENSITIES)
    ans = parse_latex(r"\frac{p_0(x)}{p_0(x)+p_1(x)}", DENSITIES)
    assert not isinstance(ref, ParseError) and not isinstance(ans, ParseError)
    outcome = check_equivalence(ans.tree, ref.tree, DENSITIES)
    assert outcome.method == "numeric"
    assert "random positive functions p_0, p_1" in outcome.detail
    assert outcome.counterexample is not None and set(outcome.counterexample["point"]) == {"x"}
    agree = check_equivalence(ref.tree, Add((ref.tree, N("0"))), DENSITIES)
    assert "each with new random functions for p_0, p_1" in agree.detail


def test_random_functions_are_positive_seeded_and_independent() -> None:
    import numpy as np

    from grader.math.evaluate import Mat, RandomFunction

    f, g = RandomFunction("p_0", 1), RandomFunction("p_0", 2)
    xs = [complex(t) for t in np.linspace(-5, 5, 41)]
    assert all(f([t]).real > 0 and f([t]).imag == 0 for t in xs)
    assert [f([t]) for t in xs] == [RandomFunction("p_0", 1)([t]) for t in xs]  # seeded
    assert all(abs(f([t]) - g([t])) > 1e-9 for t in xs[:5])  # another draw is another function
    assert f([1j, 2j]) != 0  # complex and several arguments are fine
    vector = Mat(np.array([[1.0], [2.0]], dtype=np.complex128), ("d", 1))
    assert f([vector]).real > 0


def test_sigma_without_definition_is_any_function_and_undeclared_calls_stay_unknown() -> None:
    table = symbol_table({"sigma": {"kind": "function"}})
    logistic = check_equivalence(
        Call("sigma", (x,)), frac("1", Add((N("1"), Pow(Const("e"), Neg(x))))), table
    )
    assert logistic.verdict == "not_equivalent"  # no built-in meaning: σ is uninterpreted
    imported = check_equivalence(
        Call("sigma", (x,)),
        frac("1", Add((N("1"), Pow(Const("e"), Neg(x))))),
        symbol_table({"sigma": {"kind": "function", "library": "logistic"}}),
    )
    assert imported.verdict == "equivalent"
    unknown = check_equivalence(Call("g", (x,)), Call("g", (Mul((N("2"), x)),)), table)
    assert unknown.verdict == "undecided"


# -- intervals, ratios, lists of named values ---------------------------------------------------

LATEX_PAIRS: list[tuple[str, str, str, str]] = [
    # id, reference, answer, verdict
    ("same interval", r"[0,1)", r"[0, 1)", "equivalent"),
    ("other end", r"[0,9)", r"[0,1)", "not_equivalent"),
    ("open or closed end", r"(0,9)", r"[0,9)", "not_equivalent"),
    ("interval against its pair form", r"(0, 1]", r"(0, 1)", "not_equivalent"),
    ("closed pair form", r"[0, 1]", r"\left[0, 1\right]", "equivalent"),
    ("infinite end", r"[1, \infty)", r"[1, +\infty)", "equivalent"),
    ("interval in arithmetic", r"1", r"-[0,1)", "not_equivalent"),
    ("interval against a number", r"[0,1)", r"1", "not_equivalent"),
    ("pair against a double inequality", r"0<f(x)<1", r"(0,1)", "equivalent"),
    ("pair against a double inequality, other ends", r"-793 < a < 10", r"(-793, 10)", "equivalent"),
    ("interval against a double inequality", r"0 \le x < 1", r"[0, 1)", "equivalent"),
    ("interval against a reversed double inequality", r"1 > x \ge 0", r"[0, 1)", "equivalent"),
    ("interval against the wrong inequality", r"0 < x \le 1", r"[0, 1)", "not_equivalent"),
    ("ratio", r"S_{MBCN}:S=7:32", r"7:32", "equivalent"),
    ("ratio value", r"1:2", r"2:4", "equivalent"),
    ("ratio wrong", r"1:2", r"2:1", "not_equivalent"),
    ("named values", r"AB=4,CD=5", r"4, 5", "equivalent"),
    ("named values, in order", r"AB=4,CD=5", r"5, 4", "not_equivalent"),
    ("named values against names", r"x = -5,\ p = \frac{14}{3}", r"-5, \frac{14}{3}", "equivalent"),
    ("solutions", r"p=5,q=2;p=7,q=2", r"(5,2),(7,2)", "equivalent"),
    ("solutions, in any order", r"p=5,q=2;p=7,q=2", r"(7,2),(5,2)", "equivalent"),
    ("solutions, one wrong", r"p=5,q=2;p=7,q=2", r"(5,2),(2,7)", "not_equivalent"),
    ("x1 is x_1", r"x_1 + x_2", r"x1 + x2", "equivalent"),
    ("mu0 is mu_0", r"1 + \mu_0", r"1+\mu0", "equivalent"),
    ("digit groups", r"1000", r"1 000", "equivalent"),
    (
        "recurrence with an integer bound",
        r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}",
        r"F_n = \sum_{k=0}^{n-1} F_{n-k-1} F_k",
        "equivalent",
    ),
    (
        "recurrence, other bound",
        r"F_n = \sum_{k=0}^{n-1} F_k F_{n-k-1}",
        r"F_n = \sum_{k=0}^{n-2} F_k F_{n-k-2}",
        "not_equivalent",
    ),
    ("closed form of a sum", r"\frac{n(n+1)}{2}", r"\sum_{k=1}^{n} k", "equivalent"),
    ("beyond float factorials", r"\frac{7}{22}", r"\frac{175! \cdot 56!}{55! \cdot 176!}", "equivalent"),
    ("beyond float powers", r"(x-a)^{6000}", r"(a-x)^{6000}", "equivalent"),
    ("beyond float factorials, different", r"3", r"200!", "not_equivalent"),
]


@pytest.mark.parametrize(
    ("reference", "answer", "verdict"), [c[1:] for c in LATEX_PAIRS], ids=[c[0] for c in LATEX_PAIRS]
)
def test_latex_pairs(reference: str, answer: str, verdict: str) -> None:
    ref, ans = parse_latex(reference), parse_latex(answer)
    assert not isinstance(ref, ParseError) and not isinstance(ans, ParseError)
    outcome = check_equivalence(ans.tree, ref.tree)
    assert outcome.verdict == verdict, outcome.detail


def test_interval_ends_use_the_tolerance() -> None:
    ref, ans = parse_latex(r"(\frac{3}{5},\frac{8}{3}]"), parse_latex(r"(0.6,2.6667]")
    assert not isinstance(ref, ParseError) and not isinstance(ans, ParseError)
    assert check_equivalence(ans.tree, ref.tree, atol=0.005).verdict == "equivalent"
    strict = check_equivalence(ans.tree, ref.tree)
    assert strict.verdict == "not_equivalent" and "upper end" in strict.detail


# -- exact equality: rtol = atol = 0 -------------------------------------------------------------

EXACT: list[tuple[str, str, str, str, str]] = [
    # id, reference, answer (calculator syntax), verdict with the default tolerance, exact verdict
    ("repeating decimal", "1/3", "0.333333333333333", "equivalent", "not_equivalent"),
    ("close decimal", "1", "0.99999999", "equivalent", "not_equivalent"),
    ("decimal times x", "x^2/3", "0.333333333333333*x^2", "equivalent", "not_equivalent"),
    ("rounded exponent", "2^(0.196078431373*t)", "2^((1/5.1)*t)", "equivalent", "not_equivalent"),
    ("decimals that are exact", "20.4", "100.4-80.0", "equivalent", "equivalent"),
    ("scientific notation", "4.52*10^2", "452", "equivalent", "equivalent"),
    ("half", "1/2", "0.5", "equivalent", "equivalent"),
    ("algebra", "(x+1)^2", "x^2+2*x+1", "equivalent", "equivalent"),
    ("expanded polynomial", "512*(2*x+5)^7*(5*x-1)^5*(70*x+67)",
     "14336000000*x^13+250265600000*x^12+1862860800000*x^11+7623925760000*x^10+18290677760000*x^9"
     "+24744757985280*x^8+14567212351488*x^7-3267871272960*x^6-6408053107200*x^5+670406720000*x^4"
     "+1179708800000*x^3-429244800000*x^2+56696000000*x-2680000000", "equivalent", "equivalent"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("reference", "answer", "default", "exact"), [c[1:] for c in EXACT], ids=[c[0] for c in EXACT]
)
def test_exact_equality_reads_decimals_as_the_numbers_they_write(
    reference: str, answer: str, default: str, exact: str
) -> None:
    from grader.math.text import parse_text

    ref, ans = parse_text(reference), parse_text(answer)
    assert not isinstance(ref, ParseError) and not isinstance(ans, ParseError)
    assert check_equivalence(ans.tree, ref.tree).verdict == default
    assert check_equivalence(ans.tree, ref.tree, rtol=0, atol=0).verdict == exact


def test_negative_tolerances_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        check_equivalence(N("1"), N("2"), rtol=-1)


#: STACK's Maxima spellings decide end to end (they were products of letters before).
MAXIMA: list[tuple[str, str, bool]] = [
    ("signum(-3)", "-1", True),
    ("1+cosec(3*x)", "1+csc(3*x)", True),
    ("1+cosech(3*x)", "1+csch(3*x)", True),
    ("asinh(x)", "ln(x+sqrt(x^2+1))", True),
    ("round(2.5)", "2.0", True),  # ties to even
    ("round(1.5)", "2", True),
    ("round(0.5)", "1", False),
    ("lg(10^x)", "x", True),
    ("1+lg(27,3)", "4", True),
    ("1+lg(27,3)", "3", False),
    ("lg(root(x,n))", "lg(x,10)/n", True),
    ("1-root(2)", "1-sqrt(2)", True),
    ("binomial(5,2)", "10", True),
    ("atan2(1, -1)", "3*pi/4", True),
    ("coth(x)", "cosh(x)/sinh(x)", True),
    ("sech(x)^2", "1 - tanh(x)^2", True),
    ("acot(2)", "atan(1/2)", True),
    ("n * factorial(n-1)", "n!", True),
    ("Max(m, n)", "max(m, n)", True),
    ("max(m)", "m", True),
    ("infty + 99", "inf", True),
    ("1+μ0", "mu0 + 1", True),
]


@pytest.mark.parametrize(("answer", "reference", "expected"), MAXIMA)
def test_maxima_and_sympy_spellings(answer: str, reference: str, expected: bool) -> None:
    assert is_equivalent(answer, reference, syntax="text") is expected
