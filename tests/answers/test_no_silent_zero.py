"""No silent zero: answers that could not be located, or were placed on weak evidence, go to a
person with the reason; blank answers and placeholders are missing. End to end, real files."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader.checking.lint import load_rubric
from grader.cli import main
from grader.grading.pipeline import grade_file
from grader.reports.html import render_html_report

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "cli" / "fixtures" / "mini"


def test_a_file_of_unlabeled_text_is_reviewed_not_graded_zero(tmp_path: Path) -> None:
    path = tmp_path / "answers.md"
    path.write_text("I did the work below.\n\nThe numbers come out as $t = 4$ and then $s = 7$.\n", encoding="utf-8")
    report = grade_file(path, load_rubric(MINI))
    assert report.status == "needs_review"
    assert {q.status for q in report.questions} == {"needs_review"}
    reasons = [r for q in report.questions for p in q.parts for r in p.reasons]
    assert any("could not be located" in r for r in reasons)


def test_placeholders_are_missing_and_the_file_is_graded(tmp_path: Path) -> None:
    path = tmp_path / "answers.md"
    path.write_text("## 1\n$$\\lambda = \\frac{1-p}{p}$$\n\n## 2\nTODO\n\n## 3\n(skipped)\n", encoding="utf-8")
    report = grade_file(path, load_rubric(MINI))
    assert [q.status for q in report.questions] == ["correct", "missing", "missing"]
    assert report.status == "graded"


def test_unlabeled_answers_in_order_are_found_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "answers.md"
    path.write_text("My answers.\n\n$$\\lambda = \\frac{1-p}{p}$$\n\nI would use the forward KL.\n\n$x = 0.5$\n", encoding="utf-8")
    rubric = load_rubric(MINI)
    report = grade_file(path, rubric)
    assert [q.status for q in report.questions] == ["correct", "correct", "correct"]
    assert report.questions[0].located is not None and report.questions[0].located.how == "target"
    html = render_html_report(report, rubric, show_reference=False)
    assert "found by the equation \\lambda = … on line 3 (no label; placed in question order) (fairly sure)" in html


def test_the_cli_says_which_answers_a_person_must_find(tmp_path: Path) -> None:
    path = tmp_path / "loose.md"
    path.write_text("Some working: $t = 4$, $s = 7$.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path), "--rubric", str(MINI)])
    assert result.exit_code == 0, result.output
    assert "could not be located" in result.output or "needs review" in result.output


def test_markdown_in_answers_renders_without_markup_injection(tmp_path: Path) -> None:
    path = tmp_path / "answers.md"
    path.write_text(
        "## 2\n\n- I would use the **forward** KL, *by maximum likelihood*.\n- <script>alert(1)</script> [x](javascript:alert(1)) ![i](http://evil/x.png)\n",
        encoding="utf-8",
    )
    rubric = load_rubric(MINI)
    html = render_html_report(grade_file(path, rubric), rubric, show_reference=False)
    assert "<li>I would use the <strong>forward</strong> KL, <em>by maximum likelihood</em>.</li>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "href=\"javascript" not in html
    assert "<img" not in html
