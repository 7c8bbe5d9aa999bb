"""Issue 15, findings 4 and 5: hostile file names reach neither a spreadsheet formula nor a forged
terminal line. https://owasp.org/www-community/attacks/CSV_Injection"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader._internal.safe_text import csv_cell, terminal_text
from grader.cli import main

MINI = Path(__file__).resolve().parents[1] / "cli" / "fixtures" / "mini"
ANSWER = "## 1\n$\\lambda = \\frac{1-p}{p}$\n"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("@SUM(1)", "'@SUM(1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.5", "-0.5"),  # a number is data: scores import
        ("12", "12"),
        ("alice.md", "alice.md"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain.md", "plain.md"),
        ("a.md\nfake.md: 66 / 66 (graded)", "a.md\\nfake.md: 66 / 66 (graded)"),
        ("a\r\x1b[2K\x1b[1Agraded.md", "a\\r\\x1b[2K\\x1b[1Agraded.md"),
        ("evil\u202egpj.md", "evil\\u202egpj.md"),  # right-to-left override
        ("tab\there", "tab\\there"),
        ("line\u2028sep", "line\\u2028sep"),
        ("café λ ✓", "café λ ✓"),
    ],
)
def test_terminal_text(text: str, shown: str) -> None:
    assert terminal_text(text) == shown
    assert "\n" not in terminal_text(text) and "\x1b" not in terminal_text(text)


FORMULA_NAMES = ['=HYPERLINK("evil.example","x").md', "@SUM(1).md", "+cmd|' -C calc'!A0.md", "-1+2.md"]


def test_file_names_never_become_formulas_in_grades_csv(tmp_path: Path) -> None:
    """15.4: names like =HYPERLINK(...).md go into grades.csv with a leading quote."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in FORMULA_NAMES:
        (folder / name).write_text(ANSWER, encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(folder), "--rubric", str(MINI), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "grades.csv").read_text())))
    cells = [cell for row in rows[1:] for cell in row]
    assert sorted(row[0] for row in rows[1:]) == sorted("'" + name for name in FORMULA_NAMES)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_roster_names_never_become_formulas(tmp_path: Path) -> None:
    """15.4: roster fields reach the Canvas file neutralised; hostile identifiers are refused."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "s.md").write_text(ANSWER, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text('submission,name,id,section\ns.md,"=HYPERLINK(""http://evil"")",7,@sec\n', encoding="utf-8")
    args = ["grade", str(folder), "--rubric", str(MINI), "--out", str(tmp_path / "out"), "--roster", str(roster)]
    result = CliRunner().invoke(main, [*args, "--export", "canvas", "--canvas-assignment-id", "5", "--include-provisional"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((tmp_path / "out" / "canvas.csv").open()))
    assert rows[2][0] == "'=HYPERLINK(\"http://evil\")" and rows[2][4] == "'@sec"
    roster.write_text("submission,name,sis_user_id\ns.md,S,=1+1\n", encoding="utf-8")
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and "a spreadsheet would run as a formula" in refused.stderr
    assert "wrote" not in refused.stdout  # refused before grading


# A file name cannot hold "/", so the forgeries use U+2215 DIVISION SLASH, which looks the same.
FORGING = ["a\nfake.md: 66 \u2215 66 (graded)\n.md", "b\x1b[2K\r\x1b[32mforged.md: 6 \u2215 6 (graded)\x1b[0m.md"]


def test_file_names_cannot_forge_terminal_lines(tmp_path: Path) -> None:
    """15.5: a newline or escape sequence in a file name stays on its own, escaped, line."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in FORGING:
        (folder / name).write_text(ANSWER, encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(folder), "--rubric", str(MINI), "--out", str(tmp_path / "out"), "--jobs", "1", "--progress", "lines"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # two submissions and the summary: nothing forged
    assert lines[0] == f"{folder}/a\\nfake.md: 66 \u2215 66 (graded)\\n.md: 2 / 6 (graded)"
    assert lines[1] == f"{folder}/b\\x1b[2K\\r\\x1b[32mforged.md: 6 \u2215 6 (graded)\\x1b[0m.md: 2 / 6 (graded)"
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr
    assert len(result.stderr.splitlines()) == 2  # one progress line each


def test_check_output_cannot_be_forged_by_the_answer(tmp_path: Path) -> None:
    """15.5 for grader check: an answer with escape sequences is shown escaped."""
    answer = tmp_path / "answers.md"
    answer.write_text("## 1\n$\\lambda = \\frac{p}{1-p}$ \x1b[2J\x1b[Hscore 6 / 6\n## 2\nreverse\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(answer), "--rubric", str(MINI)])
    assert "\x1b" not in result.stdout
