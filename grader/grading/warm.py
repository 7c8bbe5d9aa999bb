"""Warm a process up before it grades: import and prime what checking a rubric needs, fill the
rubric's own caches, and start the bounded helpers from that warm state.

Why: a worker that takes its first submission cold pays for imports, the LaTeX parser tables,
SymPy's first sum (which imports half of SymPy), and the rubric's reference simulations, which
depend on no answer. Done once before the workers fork, all of that is shared copy-on-write
and the first submission costs what the hundredth does.
"""

from __future__ import annotations

from grader._internal.sandbox import warm_helpers
from grader.answers.models import Answer
from grader.checking.registry import checker_for
from grader.grading.options import HELPER_DEPTH
from grader.grading.pipeline import check_parts, part_context
from grader.math.latex import parse_latex
from grader.math.text import parse_text
from grader.rubric.models import Rubric

__all__ = ["prime_rubric", "start_helpers", "warm_up"]



def warm_up(rubric: Rubric) -> None:
    """Import every checker the rubric uses and what those checkers load on first use."""
    kinds = {part.kind for question in rubric.questions for part in question.parts}
    for kind in sorted(kinds):
        checker_for(kind)
    import sympy

    import grader.math.sympy_bridge  # noqa: F401 - the comparisons' exact step

    sympy.Add(sympy.Symbol("x"), 1)  # SymPy's first sum imports sympy.tensor and the combinatorics
    if kinds & {"dynamics", "divergence"}:
        import scipy.integrate  # noqa: F401 - the simulators load it on first use
    parse_latex("x + 1")  # the parser tables
    parse_text("x + 1")


def prime_rubric(rubric: Rubric) -> None:
    """Fill the caches that depend on the rubric alone (reference simulations) by checking an
    empty answer to every part, bounded like any check; the results are thrown away."""
    checks = []
    for question in rubric.questions:
        empty = Answer(question_id=question.id, heading_line=None, start_line=0, end_line=0, text="", status="answered")
        checks += [(part, empty, part_context(rubric, question, part, "<warm-up>")) for part in question.parts]
    check_parts(checks)


def start_helpers() -> None:
    """Fork this thread's chain of bounded helpers now, from the warm state."""
    warm_helpers(HELPER_DEPTH)
