"""Reports opened in headless Chromium: math is MathML, and no student script runs.

The payloads in ``report_samples`` would set ``document.title`` to ``PWNED`` or add an element
with id ``pwned``. A control page that pastes them in unescaped proves the browser runs them
here; the real reports must show the same payloads as text. Skipped when Chromium is absent
(``apt-get install -y chromium chromium-driver`` installs it).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from report_samples import (
    CHROMIUM,
    IMG,
    SCRIPT,
    all_reports,
    bob,
    chromium,
    dump_dom,
    hostile,
    injected,
    rubric,
)

from grader.reports.html import html_filename, write_html_report
from grader.reports.summary import write_class_summary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium chromium-driver)",
    ),
]


def test_control_page_shows_the_payloads_do_run(tmp_path: Path) -> None:
    """Without escaping, this browser runs the payloads: the checks below can fail."""
    page = tmp_path / "control.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>control</title></head><body>{IMG}{SCRIPT}</body></html>",
        encoding="utf-8",
    )
    found = injected(dump_dom(tmp_path, page))
    assert "document.title was changed" in found
    assert "an element with id 'pwned' was added" in found


def test_hostile_report_runs_no_student_script(tmp_path: Path) -> None:
    report = hostile()
    page = tmp_path / "hostile.html"
    write_html_report(report, rubric(), page, show_reference=True)
    dom = dump_dom(tmp_path, page)
    assert injected(dom) == []
    assert '<title>evil"&gt;&lt;img src=x onerror=alert(1)&gt;.md' in dom  # shown, as text
    assert "{{ 7*7 }}" in dom


def test_summary_runs_no_student_script(tmp_path: Path) -> None:
    write_class_summary(all_reports(), rubric(), tmp_path)
    dom = dump_dom(tmp_path, tmp_path / "index.html")
    assert injected(dom) == []
    assert dom.count('<svg class="chart"') == 1 + len(rubric().questions)


def test_math_is_mathml_in_the_dom(tmp_path: Path) -> None:
    report = bob()
    page = tmp_path / html_filename(report)
    write_html_report(report, rubric(), page, show_reference=True)
    dom = dump_dom(tmp_path, page)
    maths = re.findall(r"<math\b.*?</math>", dom, re.S)
    assert any("<mfrac>" in m for m in maths), "no fraction inside a <math> element"
    assert any('<mtable class="fence-paren">' in m and '<mtd class="wrong-entry">' in m for m in maths), (
        "no matrix with marked entries"
    )


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshot(tmp_path: Path) -> None:
    report = bob()
    page = tmp_path / html_filename(report)
    write_html_report(report, rubric(), page, show_reference=True)
    shot = tmp_path / "bob.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=412,1600", "--hide-scrollbars")
    data = shot.read_bytes()
    assert _png_size(data) == (412, 1600)
    assert len(data) > 20_000  # a page with text and math, not a blank canvas
