"""The renderers on real reports: every file in ``submissions/`` graded with ``rubrics/a3``.

This is the issue's acceptance path (one HTML page per submission and ``index.html``; the
hostile sample's page holds no markup of the student's) through the Python API, so it does
not depend on how the CLI is wired.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_samples import CHROMIUM, assert_no_injected_markup, dump_dom, injected

from grader.reports.exports import gradescope_json
from grader.reports.html import html_filename, render_html_report, write_html_report
from grader.reports.summary import write_class_summary
from grader.rubric.models import Rubric
from grader.scoring.models import Report

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = sorted((ROOT / "submissions").glob("*.md"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(a3_rubric: Rubric) -> list[Report]:
    from grader.grading.pipeline import grade_file

    return [grade_file(path, a3_rubric) for path in SUBMISSIONS]


def test_hostile_sample_exists() -> None:
    assert ROOT / "submissions" / "hostile_markup.md" in SUBMISSIONS


def test_pages_for_every_submission(tmp_path: Path, graded: list[Report], a3_rubric: Rubric) -> None:
    for report in graded:
        write_html_report(report, a3_rubric, tmp_path / html_filename(report), show_reference=False)
    index = write_class_summary(graded, a3_rubric, tmp_path).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.glob("*.html")) == sorted(
        ["index.html", *(f"{path.stem}.html" for path in SUBMISSIONS)]
    )
    for path in SUBMISSIONS:
        assert f'href="./{path.stem}.html"' in index


@pytest.mark.parametrize("show_reference", [True, False])
def test_no_student_markup_in_any_page(graded: list[Report], a3_rubric: Rubric, show_reference: bool) -> None:
    for report in graded:
        html = render_html_report(report, a3_rubric, show_reference=show_reference)
        assert_no_injected_markup(html)
        assert "<mfrac>" in html  # every sample has a fraction somewhere


def test_hostile_sample_is_shown_as_text(graded: list[Report], a3_rubric: Rubric) -> None:
    report = next(r for r in graded if r.submission == "hostile_markup.md")
    html = render_html_report(report, a3_rubric, show_reference=True)
    assert "{{ 7*7 }}" in html
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium")
def test_hostile_sample_in_chromium(tmp_path: Path, graded: list[Report], a3_rubric: Rubric) -> None:
    report = next(r for r in graded if r.submission == "hostile_markup.md")
    page = tmp_path / html_filename(report)
    write_html_report(report, a3_rubric, page, show_reference=True)
    assert injected(dump_dom(tmp_path, page)) == []


def test_gradescope_scores_match_the_native_report(graded: list[Report], a3_rubric: Rubric) -> None:
    for report in graded:
        results = json.loads(gradescope_json(report, a3_rubric))
        assert results["score"] == report.score
        assert {t["number"]: t["score"] for t in results["tests"]} == {
            q.id: q.score for q in report.questions
        }
