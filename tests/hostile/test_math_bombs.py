"""Issue 15.7-15.8: expression bombs refused by size estimates, and deep formulas refused on every
path (derivation steps included), each with a clear reason and never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.pipeline import Limits, grade_file
from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.text import parse_text
from grader.math.tree import Parsed
from grader.rubric.models import Rubric

LIMITS = Limits(timeout_s=3, memory_mb=512)
LAMBDA = r"\lambda^{\text{dropout}}"
SUMS = "(2a+2b+2c+2d+2e+2f)^{500} - 2^{500}(a+b+c+d+e+f)^{500}"


def _part(report: object, question: str, part: str) -> object:
    return next(p for q in report.questions if q.id == question for p in q.parts if p.id == part)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("syntax", "student", "reason"),
    [
        ("latex", r"\operatorname{binom}(10^{9},10^{8})", "a binomial coefficient with 1000000000 on top is too large"),
        ("latex", r"\binom{10^{9}}{10^{8}}", "a binomial coefficient with 1000000000 on top is too large"),
        ("text", "binomial(10^9, 10^8)", "a binomial coefficient with 1000000000 on top is too large"),
        ("latex", rf"171!\cdot({SUMS})", "a factorial of 171 is too large"),
        ("latex", r"\int_0^1\int_0^1 xy\,dx\,dy", "an integral with another integral or infinite series inside"),
        ("latex", r"\sum_{k=1}^{\infty}\sum_{j=1}^{\infty} \frac{1}{k^2 j^2}", "another integral or infinite series inside"),
    ],
)
def test_a_bomb_is_refused_with_its_reason(syntax: str, student: str, reason: str) -> None:
    parsed = (parse_latex if syntax == "latex" else parse_text)(student)
    assert isinstance(parsed, Parsed), parsed
    reference = parse_latex(r"\frac{1-p}{p}")
    assert isinstance(reference, Parsed)
    outcome = check_equivalence(parsed.tree, reference.tree, timeout_s=30)
    assert outcome.verdict == "undecided"
    assert reason in outcome.detail, outcome.detail


def test_the_expansion_bomb_in_a_submission(tmp_path: Path, a3_rubric: Rubric) -> None:
    names = [r"p", r"\theta", r"\psi_0", r"\psi_1", r"\gamma", r"\lambda"]  # declared: undeclared ones are undecided sooner
    sums = f"({'+'.join('2' + n for n in names)})^{{500}} - 2^{{500}}({'+'.join(names)})^{{500}}"
    path = tmp_path / "bomb.md"
    path.write_text(f"## 1.2\n\n$${LAMBDA} = 171!\\cdot({sums})$$\n", encoding="utf-8")
    part = _part(grade_file(path, a3_rubric, limits=LIMITS), "1.2", "lambda")
    assert (part.status, part.verdict) == ("needs_review", "undecided")  # type: ignore[attr-defined]
    assert any("too large" in r for r in part.reasons), part.reasons  # type: ignore[attr-defined]


def test_deep_fractions_in_a_derivation_are_refused_not_an_error(tmp_path: Path, a3_rubric: Rubric) -> None:
    deep = "1"
    for _ in range(150):
        deep = r"\frac{1}{1+" + deep + "}"
    path = tmp_path / "deep.md"
    path.write_text(f"## 1.1\n\n**Answer:**\n\n$$\\mathbb{{E}}[L(w)] = {deep} = {deep}$$\n", encoding="utf-8")
    part = _part(grade_file(path, a3_rubric, limits=LIMITS), "1.1", "proof")
    assert part.status == "needs_review"  # type: ignore[attr-defined]
    steps = part.evidence["steps"]  # type: ignore[attr-defined]
    assert any("formula nested too deeply" in step["detail"] for step in steps), steps
