"""The per-submission HTML report: goldens, references on/off, evidence, and hostile input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from report_samples import HOSTILE_NAME, alice, assert_no_injected_markup, bob, carol, hostile, roster, rubric

from grader.reports.html import html_filename, render_html_report, write_html_report
from grader.reports.json_report import load_report, report_json
from grader.scoring.models import Report


@pytest.mark.parametrize(
    ("name", "report", "show_reference"),
    [
        ("report_bob.html", bob, True),
        ("report_alice_hidden.html", alice, False),
        ("report_hostile.html", hostile, False),
    ],
)
def test_golden(
    golden: Callable[[str, str], None], name: str, report: Callable[[], Report], show_reference: bool
) -> None:
    golden(name, render_html_report(report(), rubric(), show_reference=show_reference))


@pytest.mark.parametrize("report", [alice, bob, carol, hostile])
def test_deterministic_and_independent_of_json_round_trip(report: Callable[[], Report]) -> None:
    original = report()
    again = load_report(report_json(original))
    first = render_html_report(original, rubric(), show_reference=True)
    assert first == render_html_report(again, rubric(), show_reference=True)
    assert first == render_html_report(original, rubric(), show_reference=True)


@pytest.mark.parametrize("report", [alice, bob, carol, hostile])
@pytest.mark.parametrize("show_reference", [True, False])
def test_no_injected_markup(report: Callable[[], Report], show_reference: bool) -> None:
    assert_no_injected_markup(render_html_report(report(), rubric(), show_reference=show_reference))


def test_hostile_text_is_shown_as_text() -> None:
    html = render_html_report(hostile(), rubric(), show_reference=False)
    assert "{{ 7*7 }}" in html and "{% for x in range(3) %}loop{% endfor %}" in html
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    assert "evil&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.md" in html  # the file name, in <title> and <h1>
    assert "&lt;u&gt;generic evidence&lt;/u&gt;" in html  # evidence of unknown shape, as text
    assert "Warning: line 1: unclosed $ near &lt;script&gt;" in html


# Which strings appear only with references on: the symbolic reference (as MathML) and the
# correct option's label for a choice part. Bob wrote neither.
@pytest.mark.parametrize(
    ("show_reference", "expected"),
    [(True, True), (False, False)],
)
def test_reference_only_when_asked(show_reference: bool, expected: bool) -> None:
    html = render_html_report(bob(), rubric(), show_reference=show_reference)
    assert ("<dt>Reference</dt>" in html) is expected
    assert ("λ decreases as p increases" in html) is expected
    reference = "<mfrac><mrow><mn>1</mn><mo>−</mo><mi>p</mi></mrow><mrow><mi>p</mi></mrow></mfrac>"
    assert (reference in html) is expected
    assert f"Reference answers are {'shown' if expected else 'hidden'}" in html


@pytest.mark.parametrize(
    ("fragment", "count"),
    [
        ('<mtd class="wrong-entry">', 2),  # bob's flipped Jacobian entries, highlighted
        ("<th>at p</th><td><code>0.3</code></td>", 1),  # counterexample, duplicates merged
        ("<th>yours</th><td><code>0.428571</code></td>", 1),
        ("<th>entries that differ</th><td><code>row 1, column 2; row 2, column 1</code></td>", 1),
        ("Proposed score: 2 / 4", 1),
        ("not found: the log-det terms cancel", 1),
        ('<span class="tag">lambda-inverted</span>', 1),
        ("read the right-hand side of \\lambda = … on line 3", 1),
        ("phrase found:</span> “increases” → λ increases as p increases", 1),
        ("2 questions need a person's review", 0),
        ("1 question needs a person's review: its points are proposed, not final.", 1),
        # λ and "λ = …" (2), the Jacobian and "J = …" with two halves each (4); no reference.
        ("<mfrac>", 6),
    ],
)
def test_bob_shows_evidence(fragment: str, count: int) -> None:
    html = render_html_report(bob(), rubric(), show_reference=False)
    assert html.count(fragment) == count


def test_score_header_and_anchors() -> None:
    html = render_html_report(bob(), rubric(), show_reference=False)
    assert '<span class="score-big">3 / 11</span>' in html
    for anchor in ("q-1", "q-1-lambda", "q-1-effect", "q-2-jacobian", "q-3-proof"):
        assert f'id="{anchor}"' in html
    assert re.search(r'<meta name="viewport" content="width=device-width, initial-scale=1">', html)
    assert "default-src &#39;none&#39;" not in html  # CSP written as a literal attribute value
    assert "default-src 'none'" in html
    assert "http://" not in html and "https://" not in html  # nothing to load, nothing to leak


def test_student_name_from_roster() -> None:
    entry = roster().lookup("carol.md")
    html = render_html_report(carol(), rubric(), show_reference=False, student=entry)
    assert '<h1>Carol &lt;Danvers&gt; <span class="muted">(carol.md)</span></h1>' in html


def test_write_html_report(tmp_path: Path) -> None:
    report = hostile()
    path = tmp_path / "out" / html_filename(report)
    write_html_report(report, rubric(), path, show_reference=False)
    assert path.name == 'evil"><img src=x onerror=alert(1)>.html' == Path(HOSTILE_NAME).stem + ".html"
    assert path.read_text(encoding="utf-8") == render_html_report(report, rubric(), show_reference=False)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_question_feedback_is_not_repeated() -> None:
    """The scorer copies part feedback to the question; the page says each sentence once."""
    report = bob()
    first = report.questions[0]
    echoed = first.model_copy(update={"feedback": ["Your λ is inverted.", "See the lecture notes, §3."]})
    html = render_html_report(
        report.model_copy(update={"questions": [echoed, *report.questions[1:]]}),
        rubric(),
        show_reference=False,
    )
    assert html.count("<li>Your λ is inverted.</li>") == 1
    assert html.count("<li>See the lecture notes, §3.</li>") == 1
