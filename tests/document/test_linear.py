"""Reading stays linear: each reader and the aligner on a file 8 times larger costs about 8 times
the CPU time (tests/complexity.py measures the ratio; no wall-clock limit)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from complexity import assert_linear

from grader.answers.align import align
from grader.answers.questions import bare_questions
from grader.document.markdown import markdown_blocks
from grader.document.plaintext import text_blocks
from grader.document.read import read_document
from grader.document.tex import tex_blocks
from grader.input.open import decode_submission

MARKDOWN = "## Problem {k}\n\n1. $x_{k} = \\frac{{1}}{{2}}$ and **bold** text.\n2. The series diverges.\n\n$$J = \\begin{{pmatrix}} 0 & 1 \\\\ 1 & 0 \\end{{pmatrix}}$$\n\n"
LATEX = "\\subsection*{{{k}.1}}\nWe get $\\lambda = {k}$ and \\textbf{{so}} on.\n\\begin{{align*}}\na &= b\n\\end{{align*}}\n\\begin{{enumerate}}\n\\item[(a)] first\n\\item[(b)] second\n\\end{{enumerate}}\n"


def _markdown(scale: int) -> str:
    return "".join(MARKDOWN.format(k=k) for k in range(60 * scale))


def _latex(scale: int) -> str:
    return "\\documentclass{article}\n\\begin{document}\n" + "".join(LATEX.format(k=k) for k in range(60 * scale)) + "\\end{document}\n"


@pytest.mark.parametrize(
    ("run", "build"),
    [
        (markdown_blocks, _markdown),
        (text_blocks, _markdown),
        (tex_blocks, _latex),
    ],
    ids=["markdown", "text", "latex"],
)
def test_readers_are_linear(run: Callable[[str], object], build: Callable[[int], str]) -> None:
    assert_linear(run, build)


def test_alignment_is_linear() -> None:
    questions = bare_questions([f"{k}.{j}" for k in range(1, 30) for j in (1, 2)])

    def run(text: str) -> object:
        read = decode_submission(text.encode(), "a.md")
        document = read_document(read)  # type: ignore[arg-type]
        return align(document, questions)  # type: ignore[arg-type]

    assert_linear(run, _markdown)
