"""Formula finding and answer extraction, on synthetic answers and on the real seed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from complexity import assert_linear
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers.align import segment
from grader.answers.extract import extract, latex_key, repair_damage
from grader.answers.models import Answer
from grader.document.formulas import find_formulas

ROOT = Path(__file__).resolve().parents[2]
SEED_IDS = "1.1 1.2 1.3 1.4 2.1 2.2 2.3a 2.3b 2.3c 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 5.5 5.6".split()


def answer(text: str, start_line: int = 1, status: str = "answered") -> Answer:
    lines = text.count("\n")
    return Answer.model_validate(
        {
            "question_id": "q",
            "heading_line": None,
            "start_line": start_line,
            "end_line": start_line + lines,
            "text": text,
            "prompt_text": "",
            "formulas": find_formulas(text, start_line),
            "status": status,
        }
    )


@pytest.fixture(scope="module")
def seed() -> dict[str, Answer]:
    text = (ROOT / "submissions" / "seed_student.md").read_text(encoding="utf-8")
    return segment(text, SEED_IDS).answers


# ---- find_formulas -------------------------------------------------------------------------


def test_inline_and_display_on_one_line() -> None:
    found = find_formulas("a $x$ b $$y$$ c \\(z\\) d \\[w\\]")
    assert [(f.latex, f.display) for f in found] == [("x", False), ("y", True), ("z", False), ("w", True)]


def test_multiline_display_line_numbers() -> None:
    text = "intro\n$$\na = b\n+ c\n$$\nafter $x$\n$$u$$ and $$v$$"
    found = find_formulas(text, first_line=10)
    assert [(f.latex, f.line, f.end_line, f.display) for f in found] == [
        ("a = b\n+ c", 12, 13, True),
        ("x", 15, 15, False),
        ("u", 16, 16, True),
        ("v", 16, 16, True),
    ]


def test_escaped_dollar_is_not_a_delimiter() -> None:
    assert [f.latex for f in find_formulas("costs \\$5 and $x = \\$3$ ok")] == ["x = \\$3"]


@pytest.mark.parametrize(
    "env", ["equation", "equation*", "align", "align*", "aligned", "gather*", "eqnarray"]
)
def test_environments(env: str) -> None:
    text = f"see\n\\begin{{{env}}}\na &= b \\\\\nc &= d\n\\end{{{env}}}\ndone"
    (formula,) = find_formulas(text)
    assert formula.latex.startswith(f"\\begin{{{env}}}")
    assert (formula.line, formula.end_line, formula.display) == (2, 5, True)


def test_aligned_inside_display_counts_once() -> None:
    (formula,) = find_formulas("$$\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}$$")
    assert formula.latex.startswith("\\begin{aligned}")


def test_unclosed_delimiters_take_the_rest_of_the_line() -> None:
    text = "$$ a + b\n\nnext paragraph $c$\n\\[ d\n$e$"
    found = find_formulas(text)
    assert [(f.latex, f.line) for f in found] == [("a + b", 1), ("c", 3), ("d", 4), ("e", 5)]


def test_no_formula_crosses_a_blank_line() -> None:
    found = find_formulas("price $5\n\nthen $x$")
    assert [(f.latex, f.line) for f in found] == [("5", 1), ("x", 3)]


@pytest.mark.parametrize("piece", ["$", "\\[", "$a\n", "\\begin{align}"], ids=["dollars", "brackets", "lines", "envs"])
def test_find_formulas_is_linear(piece: str) -> None:
    assert_linear(find_formulas, lambda k: piece * (10_000 * k))


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(list("$\\[](){}ab \n") + ["\\begin{align}", "\\end{align}", "$$"]), max_size=120
    ).map("".join)
)
def test_find_formulas_never_raises_and_lines_are_ordered(text: str) -> None:
    lines = text.count("\n") + 1
    for formula in find_formulas(text):
        assert 1 <= formula.line <= formula.end_line <= lines


# ---- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("\\boldsymbol{w}^{ ext{dropout}}", "w^{\\text{dropout}}"),
        ("\\lambda^{\\mathrm{dropout}}", "\\lambda^{\\text{dropout}}"),
        ("\\mathbf{w}^{L_{2}}", "\\boldsymbol{w}^{L_2}"),
        ("\\boldsymbol{X}^{ op}", "X^T"),
        ("X^\\top", "X^{T}"),
        ("J^{\\ast}", "J^*"),
        ("\\bar J^\\star", "\\bar{J}^*"),
        ("\\left( \\psi_0^*, \\psi_1^*, \\theta^* \\right)", "(\\psi_0^*,\\psi_1^*,\\theta^*)"),
        ("λ", "\\lambda"),
    ],
)
def test_latex_key_equal(a: str, b: str) -> None:
    assert latex_key(a) == latex_key(b)


@pytest.mark.parametrize(("a", "b"), [("J^*", "\\bar{J}^*"), ("\\lambda", "\\lambda_1"), ("p w", "w")])
def test_latex_key_different(a: str, b: str) -> None:
    assert latex_key(a) != latex_key(b)


def test_repair_damage() -> None:
    assert (
        repair_damage("\\boldsymbol{w}^{ ext{dropout}} = \\boldsymbol{X}^{ op}")
        == "\\boldsymbol{w}^{\\text{dropout}} = \\boldsymbol{X}^{\\top}"
    )
    assert repair_damage("\x0crac{1}{2}\tau") == "\\frac{1}{2}\\tau"


# ---- extraction rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "latex"),
    [
        ("$$J^* = A = B$$", "J^*", "B"),
        ("$\\lambda = 1$ then $\\lambda = 2$.", "\\lambda", "2"),
        ("$$\\frac{1-p}{p} = \\lambda^{\\text{dropout}}$$", "\\lambda^{\\text{dropout}}", "\\frac{1-p}{p}"),
        ("$$-\\lambda(\\lambda^2 0) + 0 + 0 = 0 \\to \\lambda = 0$$", "\\lambda", "0"),
        ("$$x = 1, \\quad y = 2$$", "y", "2"),
        ("$$x = 1, y = 2$$", "x", "1"),
        ("$$a = 1 \\text{ and } b = 2$$", "b", "2"),
        ("$$\\lambda = -\\frac12, \\pm\\frac{i}{2}$$", "\\lambda", "-\\frac12, \\pm\\frac{i}{2}"),
        ("$$\\begin{aligned} x &= 1 \\\\ y &= 2 + 3 \\end{aligned}$$", "y", "2 + 3"),
        (
            "$$x \\Rightarrow v := \\begin{pmatrix} a \\\\ b \\end{pmatrix}.$$",
            "v",
            "\\begin{pmatrix} a \\\\ b \\end{pmatrix}",
        ),
        (
            "$$v = \\begin{pmatrix} a \\\\ b \\end{pmatrix} = \\begin{pmatrix} 0 \\\\ 0 \\end{pmatrix}$$",
            "v",
            "\\begin{pmatrix} a \\\\ b \\end{pmatrix}",
        ),
        (
            "$$J^* = \\begin{pmatrix} 0 & 0 \\\\ 0 & 0 \\end{pmatrix}$$",
            "J^*",
            "\\begin{pmatrix} 0 & 0 \\\\ 0 & 0 \\end{pmatrix}",
        ),
        (
            "$$p \\boldsymbol{w}^{ ext{dropout}} = A$$ and $$\\boldsymbol{w}^{ ext{dropout}} = B$$",
            "w^{\\text{dropout}}",
            "B",
        ),
        ("$$f(x, y) = x \\le 3$$", "f(x, y)", "x"),
    ],
)
def test_target_equation(text: str, target: str, latex: str) -> None:
    result = extract(answer(text), target, part_id="p")
    assert (result.how, result.latex) == ("target_equation", latex)
    assert result.formula is not None and result.text == result.formula
    assert result.part_id == "p"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$$\\lambda = \\quad \\frac{1}{p} - 1 \\, .$$", "\\frac{1}{p} - 1"),
        ("$\\lambda = 3,$", "3"),
        ("$\\lambda = a \\;$", "a"),
        ("$$\\lambda = \\{1, 2\\}.$$", "\\{1, 2\\}"),
    ],
)
def test_value_edges_are_cleaned(text: str, value: str) -> None:
    assert extract(answer(text), "\\lambda").latex == value


def test_target_multiplied_is_not_the_target() -> None:
    result = extract(answer("$$p w = A$$"), "w")
    assert result.how == "last_display"
    assert result.latex == "p w = A"


def test_target_line_inside_multiline_formula() -> None:
    result = extract(
        answer("text\n$$\n\\begin{aligned}\nx &= 1 \\\\\ny &= 2\n\\end{aligned}\n$$", start_line=40), "y"
    )
    assert (result.latex, result.line) == ("2", 44)
    assert result.description == "read the right-hand side of y = … on line 44"


def test_boxed() -> None:
    result = extract(answer("so $$\\boxed{\\frac{1}{p} - 1}$$ and $$z$$"), "\\lambda")
    assert (result.how, result.latex) == ("boxed", "\\frac{1}{p} - 1")
    assert result.description == "no equation for \\lambda was found; read the boxed result on line 1"


def test_last_display_then_last_inline_then_prose() -> None:
    assert extract(answer("$a$ $$b = c$$ $d$"), None).latex == "b = c"
    last_inline = extract(answer("$a$ and $d$"), "x")
    assert (last_inline.how, last_inline.latex) == ("last_formula", "d")
    prose = extract(answer("no   math\nhere"), "x")
    # lines are kept (a list in an answer renders as a list in the report); spaces within a line are folded
    assert (prose.how, prose.latex, prose.text) == ("prose", None, "no math\nhere")


def test_prose_mode_and_missing() -> None:
    result = extract(answer("The reverse KL, since $x$"), "x", mode="prose")
    assert (result.how, result.text) == ("prose", "The reverse KL, since $x$")
    assert extract(answer("", status="missing"), "x").how == "none"
    assert len(extract(answer("word " * 3000), None, mode="prose").text) == 5000


def test_seed_extractions(seed: dict[str, Answer]) -> None:
    dropout = extract(seed["1.2"], "\\lambda^{\\text{dropout}}", part_id="lambda")
    # Line 93 states it first; line 95 repeats it inside the prose, and the last statement wins.
    assert (dropout.how, dropout.latex, dropout.line) == ("target_equation", "\\frac{(1-p)}{p}", 95)
    assert dropout.description == "read the right-hand side of \\lambda^{\\text{dropout}} = … on line 95"
    ridge = extract(seed["1.3"], "\\boldsymbol{w}^{L_2}")
    assert (ridge.latex, ridge.line) == (
        "(\\boldsymbol{X}^T \\boldsymbol{X} + \\lambda^{L_2} \\boldsymbol{I})^{-1} \\boldsymbol{X}^T \\boldsymbol{y}",
        118,
    )
    jacobian = extract(seed["5.2"], "J^*")
    assert (jacobian.latex, jacobian.line) == (
        "\\begin{pmatrix} 0 & 0 & 0 \\\\ 0 & 0 & 0 \\\\ 0 & 0 & 0 \\end{pmatrix}",
        453,
    )
    eigen = extract(seed["5.3"], "\\lambda")
    assert (eigen.how, eigen.latex, eigen.line) == ("target_equation", "0", 464)
    stationary = extract(seed["5.1"], "(\\psi_0^*, \\psi_1^*, \\theta^*)")
    assert (stationary.latex, stationary.line) == ("(0, 0, 0)", 385)
    assert extract(seed["5.5"], "\\bar{J}^*").how == "none"
    assert extract(seed["1.4"], None).how == "prose"


def test_sample_headings_extractions() -> None:
    text = (ROOT / "submissions" / "sample_headings.md").read_text(encoding="utf-8")
    answers = segment(text, SEED_IDS).answers
    assert extract(answers["1.2"], "\\lambda^{\\text{dropout}}").latex == "\\frac{1}{p} - 1"
    assert extract(answers["1.3"], "\\boldsymbol{w}^{L_2}").latex == (
        "\\mathbf{X}^\\top(\\mathbf{X}\\mathbf{X}^\\top + \\lambda^{L_2}\\mathbf{I})^{-1}\\mathbf{y}"
    )
    assert extract(answers["5.3"], "\\lambda").latex == "-\\frac{1}{2}, \\pm\\frac{i}{2}"
    assert (
        extract(answers["5.6"], "\\lambda").latex == "-\\frac12, \\frac{-\\gamma\\pm\\sqrt{\\gamma^2-1}}{2}"
    )


@pytest.mark.parametrize(
    "body",
    [
        lambda k: "(" * 6_000 * k + "x" + ")" * 6_000 * k + " = " + "{a}," * 12_000 * k,
        lambda k: "\\lambda=" * 5_000 * k,  # every item is the target
        lambda k: "," * 40_000 * k,  # a value that is all punctuation
        lambda k: ("a" + " " * 2000) * 20 * k + "b",  # long inner whitespace runs
        lambda k: "\\left(" * 6_000 * k + "\\quad" * 6_000 * k,
    ],
    ids=["nested", "target-chain", "punctuation", "whitespace-runs", "lefts"],
)
def test_extract_is_linear_on_huge_formulas(body: Callable[[int], str]) -> None:
    assert_linear(lambda text: extract(answer(text), "\\lambda"), lambda k: "$$\\lambda = " + body(k) + "$$")


LATEXISH = st.lists(
    st.sampled_from(
        list("=,;:<>$\\{}()[]&^_ xλ0\n")
        + [
            "\\to",
            "\\left(",
            "\\right)",
            "\\begin{pmatrix}",
            "\\end{pmatrix}",
            "\\text{and}",
            "\\boxed{",
            "$$",
            "\\quad",
        ]
        + [
            "\\xrightarrow{",
            "J^*",
            "\\lambda",
            "\\\\",
            "\\begin{aligned}",
            "\\end{aligned}",
            " ext{",
            "{ op}",
        ]
    ),
    max_size=80,
).map("".join)


@settings(max_examples=400)
@given(
    text=st.one_of(LATEXISH, st.text(max_size=200)),
    target=st.one_of(st.none(), LATEXISH, st.text(max_size=10)),
)
def test_extract_never_raises(text: str, target: str | None) -> None:
    for mode in ("math", "prose"):
        result = extract(answer(text), target, mode=mode)  # type: ignore[arg-type]
        assert result.how in ("target_equation", "boxed", "last_display", "last_formula", "prose", "none")


@pytest.mark.parametrize(
    ("written", "target", "expected"),
    [
        (r"so $D^*(\mathbf{x}) = \frac{p_1(\mathbf{x})}{p_0(\mathbf{x}) + p_1(\mathbf{x})}$.", "D^*", r"\frac{p_1(\mathbf{x})}{p_0(\mathbf{x}) + p_1(\mathbf{x})}"),
        (r"$D^{*}(x, y) = x + y$", "D^*", "x + y"),
        (r"$D^*(x) + 1 = 2$", "D^*", None),
    ],
)
def test_a_function_target_is_stated_with_its_argument(written: str, target: str, expected: str | None) -> None:
    answer = Answer(question_id="4.1", heading_line=1, start_line=2, end_line=2, text=written, formulas=find_formulas(written, 2), status="answered")
    extraction = extract(answer, target)
    if expected is None:
        assert extraction.how != "target_equation"
    else:
        assert (extraction.how, extraction.latex) == ("target_equation", expected)
