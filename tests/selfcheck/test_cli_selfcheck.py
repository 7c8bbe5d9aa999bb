"""The student's commands end to end: quick checks, quiet and JSON output, exit codes, colour."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from selfcheck_data import ROOT, SECRET, TEST_KDF

from grader.authoring.seal import seal_rubric, sealed_json
from grader.checking.lint import load_rubric
from grader.cli import main
from grader.reports.terminal import colour_wanted

MINI = ROOT / "tests" / "cli" / "fixtures" / "mini"
A3 = str(ROOT / "rubrics" / "a3")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sealed_mini(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("mini") / "mini.sealed.json"
    path.write_text(sealed_json(seal_rubric(load_rubric(MINI), secret=SECRET, kdf=TEST_KDF)[0]), encoding="utf-8")
    return str(path)


def test_quick_check_latex_and_text_open_and_sealed(sealed_a3_file: Path) -> None:
    for rubric in (A3, str(sealed_a3_file)):
        expected = (
            "  1.2   correct         3 / 3\n"
            "        Right: λ_dropout = (1 − p)/p.\n"
            "        not checked by this answer: effect-of-p\n"
            "score 3 / 3: 1 correct\n"
        )
        assert run("check", "--rubric", rubric, "--question", "1.2", "--answer", r"\frac{1-p}{p}") == (0, expected, "")
        assert run("check", "--rubric", rubric, "--question", "1.2", "--text", "(1-p)/p") == (0, expected, "")


def test_quick_check_mistake_and_counterexample(sealed_mini: str) -> None:
    code, out, _ = run("check", "--rubric", str(MINI), "--question", "1", "--text", "p/(1-p)")
    assert (code, out) == (0, "  1     partial         1 / 2\n        Inverted.\nscore 1 / 2: 1 partial\n")
    code, out, _ = run("check", "--rubric", sealed_mini, "--question", "1", "--text", "p/(1-p)")
    assert (code, out) == (0, "  1     partial         1 / 2\n        Inverted.\nscore 1 / 2: 1 partial\n")
    code, out, _ = run("check", "--rubric", sealed_mini, "--question", "1", "--answer", r"\frac{1}{p}")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "  1     incorrect       0 / 2"
    assert lines[1].startswith("        yours does not agree with the answer at the 12 points checked (at p = ")
    assert lines[1].endswith(")") and "yours gives " in lines[1]
    assert "expected 1" not in out  # the open rubric would say "expected 1.5"; the sealed one cannot


def test_quick_check_sentence_answers_the_choice() -> None:
    code, out, _ = run("check", "--rubric", A3, "--question", "1.2", "--answer", "It decreases as p increases.")
    assert code == 0
    assert out.splitlines()[0] == "  1.2   correct         2 / 2"
    assert "not checked by this answer: lambda" in out


def test_quick_check_json_and_quiet(sealed_a3_file: Path) -> None:
    code, out, _ = run("check", "--rubric", str(sealed_a3_file), "--question", "5.2", "--text", "0", "--json")
    data = json.loads(out)
    assert code == 0 and data["id"] == "5.2" and [p["verdict"] for p in data["parts"]] == ["wrong"]
    code, out, _ = run("check", "--rubric", str(sealed_a3_file), "--question", "5.2", "--text", "0", "--quiet")
    assert (code, out) == (0, "score 0 / 2: 1 incorrect\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "pass a submission FILE, or --question with --answer or --text"),
        (("--question", "1.2"), "with --question, pass the answer as --answer LATEX or --text CALC"),
        (("--question", "1.2", "--answer", "x", "--text", "x"), "with --question, pass the answer as --answer LATEX or --text CALC"),
        (("x.md", "--question", "1.2", "--answer", "x"), "pass either a submission FILE or --question, not both"),
        (("x.md", "--answer", "x"), "--answer, --text and --part go with --question"),
        (("--question", "9", "--answer", "x"), "no question '9' in this rubric; its questions are 1.1, 1.2"),
        (("--question", "1.2", "--part", "nope", "--answer", "x"), "question 1.2 has no part 'nope'; its parts are lambda, effect-of-p"),
        (("--question", "3.2", "--text", "x"), "question 3.2 is answered in words: pass a sentence with --answer"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = run("check", "--rubric", A3, *args)
    assert (code, out) == (2, "")
    assert message in err


def test_fail_under_is_for_scripts() -> None:
    answers = str(MINI / "answers.md")
    assert run("check", answers, "--rubric", str(MINI), "--quiet")[:2] == (0, "score 1 / 6: 1 partial, 1 incorrect, 1 missing\n")
    assert run("check", answers, "--rubric", str(MINI), "--quiet", "--fail-under", "1")[0] == 0
    assert run("check", answers, "--rubric", str(MINI), "--quiet", "--fail-under", "1.5")[0] == 3
    assert run("check", "--rubric", str(MINI), "--question", "1", "--text", "(1-p)/p", "--fail-under", "2")[0] == 0


def test_no_colour_unless_a_terminal_without_no_color() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert colour_wanted(Terminal(), {}) is True
    assert colour_wanted(Terminal(), {"NO_COLOR": "1"}) is False
    assert colour_wanted(Terminal(), {"NO_COLOR": ""}) is True  # no-color.org: set and non-empty
    assert colour_wanted(io.StringIO(), {}) is False
    code, out, _ = run("check", str(MINI / "answers.md"), "--rubric", str(MINI))
    assert code == 0 and "\x1b[" not in out


def test_grade_and_check_read_a_sealed_rubric(sealed_mini: str, tmp_path: Path) -> None:
    code, out, _ = run("grade", str(MINI / "answers.md"), "--rubric", sealed_mini, "--out", str(tmp_path))
    assert code == 0 and out.startswith(f"{MINI / 'answers.md'}: 1 / 6 (graded)")
    report = json.loads((tmp_path / "answers.json").read_text())
    assert report["questions"][0]["parts"][0]["mistake"] == "inverted"
