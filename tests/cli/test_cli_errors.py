"""CLI error paths: exact one-line messages and exit codes, never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
A3 = str(ROOT / "rubrics" / "a3")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty; write your answers in Markdown and submit again [submission.empty]"),
        (b"   \n\n  ", "the file is empty; write your answers in Markdown and submit again [submission.empty]"),
        (b"%PDF-1.7 binary", "the file is a PDF document, not text; save your answers as Markdown text (a .md file) and submit again [submission.binary]"),
        (b"\x00\x01\x02\x03" * 100, "the file is not text (it contains binary data); save your answers as Markdown text (a .md file) and submit again [submission.binary]"),
    ],
)
def test_unreadable_submission_is_one_line_exit_1(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.md"
    bad.write_bytes(content)
    code, out, err = run("check", str(bad), "--rubric", A3)
    assert code == 1
    assert out == ""
    assert err == f"error: {bad}: {message}\n"


def test_grade_keeps_other_results_when_one_file_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.md").write_bytes(b"")
    (tmp_path / "in" / "ok.md").write_text("1.2 Answer: $\\lambda^{\\text{dropout}} = \\frac{1-p}{p}$\n", encoding="utf-8")
    code, out, err = run("grade", str(tmp_path / "in"), "--rubric", A3, "--out", str(tmp_path / "out"))
    assert code == 1
    assert "empty.md: the file is empty" in err
    assert (tmp_path / "out" / "ok.json").is_file()
    assert not (tmp_path / "out" / "empty.json").exists()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text())))
    # Issue 13: an unreadable submission stays in the gradebook, with its reason and no score.
    assert [(r["submission"], r["status"], r["total"]) for r in rows] == [("empty.md", "unreadable", ""), ("ok.md", "needs_review", "3")]
    assert rows[0]["note"].startswith("the file is empty")


def test_malformed_rubric_is_one_line_exit_1(tmp_path: Path) -> None:
    (tmp_path / "rubric.toml").write_text('[assignment]\nid = "x"\ntitle = "t"\n[[questions]]\nid = "1"\npoints = 1\n', encoding="utf-8")
    sub = tmp_path / "s.md"
    sub.write_text("1 Answer: 2\n", encoding="utf-8")
    code, out, err = run("check", str(sub), "--rubric", str(tmp_path))
    assert code == 1
    assert err == (
        f"error: {tmp_path / 'rubric.toml'}: question 1, field parts: this required field is missing; "
        "add 'parts = ...' [rubric.missing]\n"
    )


def test_rubric_toml_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "rubric.toml").write_text('[assignment\nid = "x"\n', encoding="utf-8")
    code, out, err = run("rubric", "lint", str(tmp_path))
    assert code == 1
    assert err.startswith(f"error: {tmp_path / 'rubric.toml'}: invalid TOML: ")
    assert "(at line 1, column 12)" in err
    assert err.endswith("1 problem(s) found\n")


def test_rubric_lint_ok() -> None:
    code, out, err = run("rubric", "lint", A3)
    assert (code, out, err) == (0, f"{A3}: ok\n", "")


def test_missing_rubric_folder(tmp_path: Path) -> None:
    code, out, err = run("rubric", "lint", str(tmp_path / "nope"))
    assert code == 1
    assert err == f"error: {tmp_path / 'nope'}: no rubric file here; pass a rubric folder or its rubric.toml [rubric.not_found]\n1 problem(s) found\n"


@pytest.mark.parametrize(
    "args",
    [
        ("grade",),
        ("check",),
        ("grade", "submissions"),
        ("frobnicate",),
        ("check", "x.md", "--rubric"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert "Error:" in err and "Traceback" not in err


def test_schema_command_prints_json() -> None:
    import json

    code, out, err = run("rubric", "schema")
    assert code == 0
    assert json.loads(out)["title"] == "grader rubric"
