"""Answer assembly, driven by the part's target and the rubric's shapes (ReadingHints)."""

from __future__ import annotations

import pytest

from grader.answers.extract import extract
from grader.answers.models import Answer, ReadingHints

HINTS = ReadingHints(
    vectors={"u": 3, "\\bar{u}": 3},
    components={"u": ("\\alpha", "\\beta", "t"), "\\bar{u}": ("\\alpha", "\\beta", "t")},
    counts={"\\mu": 3},
    logistic=("\\sigma",),
    matrices=("A", "b"),
)


def _answer(text: str) -> Answer:
    return Answer(question_id="q", heading_line=1, start_line=1, end_line=1, text=text, status="answered", hints=HINTS)


@pytest.mark.parametrize(
    ("text", "target", "latex"),
    [
        # component equations become the vector, in the declared order
        (r"$u_{\beta} = 2$, $u_\alpha = 1$ and $u_t = 3$", "u", r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}"),
        (r"$\bar u_{\alpha} = a$ $\bar u_{\beta} = b$ $\bar u_{t} = c$", r"\bar{u}", r"\begin{pmatrix} a \\ b \\ c \end{pmatrix}"),
        # a tuple or an array is a column vector where the target is one
        (r"$u = (1, 2, 3)$", "u", r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}"),
        (r"$$u(\alpha,\beta,t) = \left(\begin{array}{c} 1 \\ 2 \\ 3 \end{array}\right)$$", "u", r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}"),
        # setting a field to zero does not state its value
        (r"$u = (1, 2, 3)$, so $u = 0$ at the origin", "u", r"\begin{pmatrix} 1 \\ 2 \\ 3 \end{pmatrix}"),
        # a chain gives every name the value
        (r"$\alpha^* = \beta^* = t^* = 0$", r"(\alpha^*, \beta^*, t^*)", "(0, 0, 0)"),
        # several values, as equations, in prose, as a set
        (r"$\mu_1 = 2$ and $\mu_{2,3} = \pm i$", r"\mu", r"2, \pm i"),
        ("μ = 2 and μ = ±i. So", r"\mu", r"2, \pm i"),
        (r"$\mu \in \{2, \pm i\}$", r"\mu", r"2, \pm i"),
        # transposes written X', the logistic function written sigmoid()
        (r"$x = (A'A)^{-1}A'b$", "x", r"(A^{\top}A)^{-1}A^{\top}b"),
        (r"$f = \mathrm{sigmoid}(z) + \text{sigmoid}(2z)$", "f", r"\sigma(z) + \sigma(2z)"),
        # plain text and Unicode outside $...$, a decoration written either way
        ("k_opt = (1 − p)/p , and it decreases", r"k^{\text{opt}}", "(1 - p)/p"),
        ("B* = [[1, 2], [3, 4]]", "B^*", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}"),
        ("r = (−1 ± √(5))/2. Done", "r", r"(-1 \pm \sqrt{5})/2"),
    ],
)
def test_assembly(text: str, target: str, latex: str) -> None:
    read = extract(_answer(text), target)
    assert read.how == "target_equation", read.description
    assert " ".join((read.latex or "").split()) == " ".join(latex.split())


def test_no_assembly_without_the_pieces() -> None:
    read = extract(_answer(r"$u_\alpha = 1$ only"), "u")
    assert read.how != "target_equation"
