"""The class summary: golden page, order independence, mistake and identical-answer groups, queue."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from report_samples import alice, all_reports, assert_no_injected_markup, bob, carol, hostile, roster, rubric

from grader.reports.summary import answer_key, render_class_summary, summary_view, write_class_summary


def test_golden(golden: Callable[[str, str], None]) -> None:
    golden("index.html", render_class_summary(all_reports(), rubric()))


def test_golden_with_roster(golden: Callable[[str, str], None]) -> None:
    golden("index_roster.html", render_class_summary(all_reports(), rubric(), roster=roster()))


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_independent_of_report_order(order: list[int]) -> None:
    reports = all_reports()
    assert render_class_summary([reports[k] for k in order], rubric()) == render_class_summary(
        reports, rubric()
    )


def test_no_injected_markup() -> None:
    assert_no_injected_markup(render_class_summary(all_reports(), rubric(), roster=roster()))


def test_mistakes_by_rubric_id() -> None:
    view = summary_view(all_reports(), rubric())
    got = [(m.question, m.part, m.mistake, [link.text for link in m.submissions]) for m in view.mistakes]
    assert got == [
        ("1", "lambda", "lambda-inverted", ["bob.md", "carol.md"]),
        ("1", "effect", "grows-with-p", ["bob.md"]),
    ]
    assert view.mistakes[0].feedback == "Your λ is inverted."


@pytest.mark.parametrize(
    ("question", "part", "members", "consistent"),
    [
        # \frac{p}{1-p} and \frac{p}{1 - p}: one normalised answer, graded alike.
        ("1", "lambda", ["bob.md", "carol.md"], True),
        # "It follows by symmetry." with other spacing: one answer, but proposed 2 and 1.5 points.
        ("3", "proof", ["bob.md", "carol.md"], False),
    ],
)
def test_identical_wrong_answers(question: str, part: str, members: list[str], consistent: bool) -> None:
    view = summary_view(all_reports(), rubric())
    group = next(g for g in view.answers if (g.question, g.part) == (question, part))
    assert [link.text for link in group.submissions] == members
    assert group.consistent is consistent


def test_only_repeated_answers_are_grouped() -> None:
    view = summary_view(all_reports(), rubric())
    assert all(len(g.submissions) > 1 for g in view.answers)
    assert len(view.answers) == 2


def test_review_queue_groups_identical_answers() -> None:
    view = summary_view(all_reports(), rubric())
    queue = [(g.question, g.part, [link.text for link in g.submissions]) for g in view.queue]
    assert queue == [
        ("1", "lambda", ['evil"><img src=x onerror=alert(1)>.md']),
        ("1", "effect", ['evil"><img src=x onerror=alert(1)>.md']),
        ("3", "proof", ["bob.md", "carol.md"]),
        ("3", "proof", ['evil"><img src=x onerror=alert(1)>.md']),
        ("3", "proof", ["alice.md"]),
    ]
    proof = view.queue[2]
    assert [link.score for link in proof.submissions] == ["2", "1.5"]
    assert proof.submissions[0].href == "./bob.html#q-3-proof"


@pytest.mark.parametrize(
    ("report", "question", "part", "key"),
    [
        (bob, "1", "lambda", r"math:\fracp{1-p}"),
        (carol, "1", "lambda", r"math:\fracp{1-p}"),
        (carol, "3", "proof", "text:it follows by symmetry."),
        (carol, "2", "jacobian", None),  # missing: nothing to group
    ],
)
def test_answer_key(report: Callable[[], object], question: str, part: str, key: str | None) -> None:
    result = report()
    found = next(p for q in result.questions if q.id == question for p in q.parts if p.id == part)  # type: ignore[attr-defined]
    assert answer_key(found) == key


def test_links_are_quoted_relative_paths() -> None:
    html = render_class_summary([hostile(), alice()], rubric())
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "./alice.html" in hrefs
    assert "./evil%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html" in hrefs
    assert all(h.startswith(("#", "./")) for h in hrefs)


def test_charts_are_inline_svg() -> None:
    html = render_class_summary(all_reports(), rubric())
    assert html.count('<svg class="chart"') == 1 + len(rubric().questions)
    assert "<script" not in html
    # question 1 scores: alice 5, bob 1, carol 3, hostile 0 → bars at 0, 1, 3, 5 of height 1 each
    chart = summary_view(all_reports(), rubric()).questions[0].chart
    assert [(b.label, b.count) for b in chart.bars] == [("0", 1), ("1", 1), ("3", 1), ("5", 1)]


def test_summary_numbers() -> None:
    view = summary_view(all_reports(), rubric())
    assert (view.count, view.mean, view.median, view.low, view.high, view.review_count) == (
        4,
        "4.62",
        "3.75",
        "0",
        "11",
        4,
    )
    assert [c.status if c else None for c in view.rows[2].cells] == ["partial", "missing", "needs_review"]


def test_empty_class() -> None:
    html = render_class_summary([], rubric())
    assert "0 submissions" in html and "Nothing needs review." in html


def test_write_class_summary(tmp_path: Path) -> None:
    path = write_class_summary([bob()], rubric(), tmp_path)
    assert path == tmp_path / "index.html"
    assert path.read_text(encoding="utf-8") == render_class_summary([bob()], rubric())
