"""Hostile and pathological submissions: each gets a bounded, clear outcome, and nothing in them runs.

Limits are small so the whole corpus takes seconds; the engine rejects every bomb long before
them, and the limits make a regression cost a few seconds and an ``undecided`` part, not a hang.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.grading.batch import grade_batch
from grader.grading.pipeline import Limits, grade_file
from grader.reports.html import render_html_report
from grader.rubric.models import Rubric
from grader.scoring.models import Report

ROOT = Path(__file__).resolve().parents[2]
IDS = "1.1 1.2 1.3 1.4 2.1 2.2 2.3a 2.3b 2.3c 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 5.5 5.6".split()
LIMITS = Limits(timeout_s=3, memory_mb=512)
LAMBDA = r"\lambda^{\text{dropout}}"


def _matrix(n: int) -> str:
    return r"\begin{pmatrix}" + r" \\ ".join(" & ".join("1" for _ in range(n)) for _ in range(n)) + r"\end{pmatrix}"


# name: (question, answer, part, what its reason says)
BOMBS = {
    "power tower": ("1.2", rf"$${LAMBDA} = 2^{{2^{{2^{{2^{{2^{{100}}}}}}}}}}$$", "lambda", "too large: an exponent is too large"),
    "factorial of a power": ("1.2", rf"$${LAMBDA} = 10^{{10^{{10}}}}!$$", "lambda", "too large: an exponent is too large"),
    "huge sum": ("1.2", rf"$${LAMBDA} = \sum_{{k=1}}^{{10^{{12}}}} k^k$$", "lambda", "the upper bound of a sum is too large"),
    "huge product": ("1.2", rf"$${LAMBDA} = \prod_{{k=1}}^{{10^{{9}}}} (1 + \frac{{1}}{{k}})$$", "lambda", "a prod with 1000000000 terms is too large"),
    "10,000-deep braces": ("1.2", f"$${LAMBDA} = {'{' * 10_000}p{'}' * 10_000}$$", "lambda", "formula nested too deeply"),
    "10,000-deep parentheses": ("5.3", f"$$\\lambda = {'(' * 10_000}1{')' * 10_000}$$", "eigenvalues", "formula nested too deeply"),
    "1 MB line": ("1.2", f"$${LAMBDA} = {'+'.join(['p'] * 500_000)}$$", "lambda", "formula too long (999999 characters"),
    "300x300 matrix": ("5.2", f"$$J^* = {_matrix(300)}$$", "jacobian", "formula too long"),
    "input and write18": ("1.2", rf"$${LAMBDA} = \input{{/etc/passwd}} \write18{{rm -rf ~}}$$", "lambda", r"unsupported command \input"),
    "__import__ in names": ("1.2", rf"$${LAMBDA} = \_\_import\_\_('os').system('id')$$", "lambda", "unsupported command"),
}


def _submission(tmp_path: Path, question: str, answer: str) -> Path:
    path = tmp_path / "student.md"
    path.write_text(f"## {question}\n\n**Answer:**\n\n{answer}\n", encoding="utf-8")
    return path


def _part(report: Report, question: str, part: str) -> object:
    return next(p for q in report.questions if q.id == question for p in q.parts if p.id == part)


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_is_undecided_with_its_reason(tmp_path: Path, a3_rubric: Rubric, name: str) -> None:
    question, answer, part_id, reason = BOMBS[name]
    report = grade_file(_submission(tmp_path, question, answer), a3_rubric, limits=LIMITS)
    assert [q.id for q in report.questions] == IDS
    part = _part(report, question, part_id)
    assert (part.status, part.verdict) == ("needs_review", "undecided")  # type: ignore[attr-defined]
    assert any(reason in r for r in part.reasons), part.reasons  # type: ignore[attr-defined]
    page = render_html_report(report, a3_rubric, show_reference=True)
    assert "<script" not in page


def test_nothing_a_submission_says_is_run(tmp_path: Path, a3_rubric: Rubric) -> None:
    """LaTeX primitives, Python names and template syntax meant to create a file never do."""
    canary = tmp_path / "canary"
    touch = f"touch {canary}"
    text = f"""## 1.1

**Answer:** \\write18{{{touch}}} \\immediate\\write18{{{touch}}} \\openout1={canary} \\input{{{canary}}}

## 1.2

$${LAMBDA} = \\_\\_import\\_\\_('os').system('{touch}')$$ and $__import__('os').system('{touch}')$ and
$\\operatorname{{__import__}}(p) + \\mathrm{{eval}}(p) + \\operatorname{{exec}}(p)$ and $\\text{{__import__('os').system('{touch}')}}$

## 1.4

{{{{ cycler.__init__.__globals__.os.popen('{touch}').read() }}}} {{% for x in range(3) %}}{{{{ x }}}}{{% endfor %}}
{{{{ 7*7 }}}} \\href{{javascript:alert(1)}}{{click}} <script>alert(1)</script> <img src=x onerror="alert(1)">
"""
    path = tmp_path / "in" / "mallory.md"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    result = grade_batch([path], a3_rubric, tmp_path / "out", jobs=1, limits=LIMITS, show_reference=True)
    assert result.results[0].ok
    assert not canary.exists()
    page = (tmp_path / "out" / "mallory.html").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in page and "{% for x in range(3) %}" in page  # shown as written, never rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert 'href="javascript:' not in page
    assert "<script" not in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path, a3_rubric: Rubric) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(b"## 1.2\n" + b"x" * 50_000_000)  # generated here, never committed
    with pytest.raises(SubmissionError) as caught:
        grade_file(path, a3_rubric, limits=LIMITS)
    problem = caught.value.problems[0]
    assert problem.code == "submission.too_large"
    assert problem.message == "the file is 50.0 MB, more than the 2.0 MB limit"


def test_a_few_invalid_utf8_bytes_are_replaced_and_reported(tmp_path: Path, a3_rubric: Rubric) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b"## 1.2\n\n$$\\lambda^{\\text{dropout}} = \\frac{1-p}{p}$$ caf\xe9 \xff\n" + b"As p grows it shrinks. " * 20)
    report = grade_file(path, a3_rubric, limits=LIMITS)
    assert report.warnings[0].startswith("line 3: byte 0xE9 at offset 56 is not valid UTF-8 and was replaced")
    assert _part(report, "1.2", "lambda").status == "correct"  # type: ignore[attr-defined]


def test_a_file_that_is_mostly_not_utf8_is_refused(tmp_path: Path, a3_rubric: Rubric) -> None:
    path = tmp_path / "binaryish.md"
    path.write_bytes(b"## 1.2\n" + bytes(range(0x80, 0x100)) * 50)
    with pytest.raises(SubmissionError) as caught:
        grade_file(path, a3_rubric, limits=LIMITS)
    assert caught.value.problems[0].code == "submission.encoding"


def test_the_hostile_sample_is_graded_whole_and_runs_nothing(tmp_path: Path, a3_rubric: Rubric) -> None:
    """``submissions/hostile_bombs.md``: every question found, each bomb undecided, no canary touched."""
    canary = tmp_path / "pwned"
    text = (ROOT / "submissions" / "hostile_bombs.md").read_text(encoding="utf-8")
    assert text.count("/tmp/grader-pwned") >= 4
    sample = tmp_path / "in" / "hostile_bombs.md"
    sample.parent.mkdir()
    sample.write_text(text.replace("/tmp/grader-pwned", str(canary)), encoding="utf-8")
    result = grade_batch([sample], a3_rubric, tmp_path / "out", jobs=1, limits=LIMITS)
    report = result.results[0].report
    assert report is not None
    assert [q.id for q in report.questions] == IDS
    assert [q.id for q in report.questions if q.status == "missing"] == []
    undecided = {(q.id, p.id) for q in report.questions for p in q.parts if p.verdict == "undecided"}
    assert {("1.2", "lambda"), ("1.3", "closed-form"), ("5.2", "jacobian"), ("5.3", "eigenvalues"), ("5.6", "eigenvalues")} <= undecided
    assert not list(tmp_path.glob("pwned*"))
    assert "<script" not in (tmp_path / "out" / "hostile_bombs.html").read_text(encoding="utf-8")


def test_the_committed_samples_stay_small() -> None:
    """Size bombs are generated by the tests; the repository keeps only the compact sample."""
    assert (ROOT / "submissions" / "hostile_bombs.md").stat().st_size < 200_000
