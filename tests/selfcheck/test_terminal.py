"""The terminal report: summary line, quiet mode, colour only when asked, counterexamples that
show the student's value and never the expected one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from selfcheck_data import ROOT

from grader.checking.result import PartResult
from grader.cli import main
from grader.reports.terminal import counterexample_text, render_question, render_terminal, summary_line
from grader.scoring.models import QuestionResult, Report
from grader.scoring.score import score_question

README = ROOT / "README.md"


def _part(**changes: object) -> PartResult:
    base: dict[str, object] = {
        "id": "lambda",
        "kind": "symbolic",
        "status": "incorrect",
        "verdict": "wrong",
        "method": "numeric",
        "score": 0,
        "max_score": 2,
    }
    return PartResult.model_validate({**base, **changes})


def _report(parts: list[PartResult]) -> Report:
    question = score_question("1", "", sum(p.max_score for p in parts), parts, (2, 2))
    return Report(
        submission="a.md",
        rubric="r",
        grader_version="0",
        submission_sha256="",
        rubric_sha256="",
        score=question.score,
        max_score=question.max_score,
        status="graded",
        questions=[question],
    )


def test_summary_counts_questions_and_skips_zeros() -> None:
    def q(status: str) -> QuestionResult:
        return QuestionResult(id="1", score=0, max_score=1, status=status, parts=[])  # type: ignore[arg-type]

    questions = [q("correct")] * 6 + [q("partial")] * 2 + [q("incorrect")] * 5 + [q("missing")] * 2 + [q("needs_review")] * 4
    assert summary_line(29.5, 66, questions) == "score 29.5 / 66: 6 correct, 2 partial, 5 incorrect, 2 missing, 4 need review"
    assert summary_line(0, 1, []) == "score 0 / 1"


def test_quiet_is_only_the_summary() -> None:
    report = _report([_part()])
    assert render_terminal(report, quiet=True) == "score 0 / 2: 1 incorrect\n"
    assert render_question(report.questions[0], quiet=True) == "score 0 / 2: 1 incorrect\n"


def test_colour_only_when_asked() -> None:
    report = _report([_part()])
    assert "\x1b[31m" in render_terminal(report, colour=True)
    assert "\x1b[" not in render_terminal(report, colour=False)


def test_counterexample_from_the_evidence_shows_only_the_students_value() -> None:
    evidence = {
        "comparisons": [
            {"verdict": "not_equivalent", "counterexample": {"point": {"p": 0.3}, "student": 3.33333, "reference": 2.33333}}
        ]
    }
    part = _part(evidence=evidence, feedback=["Set the gradient to zero."])
    assert counterexample_text(part) == "at p = 0.3, yours gives 3.333"
    text = render_terminal(_report([part]))
    assert "        counterexample: at p = 0.3, yours gives 3.333\n" in text and "2.333" not in text


def test_no_counterexample_when_the_feedback_has_it_or_a_mistake_matched() -> None:
    evidence = {"comparisons": [{"verdict": "not_equivalent", "counterexample": {"point": {"p": 0.3}, "student": 3.3}}]}
    assert counterexample_text(_part(evidence=evidence, feedback=["at p = 0.3 yours gives 3.3, which is not the expected value"])) is None
    assert counterexample_text(_part(evidence=evidence, mistake="inverted", status="partial", score=1)) is None
    assert counterexample_text(_part(evidence=evidence, verdict="right", status="correct", score=2)) is None


def test_matrix_counterexamples_name_the_entry() -> None:
    evidence = {
        "comparisons": [
            {
                "verdict": "not_equivalent",
                "counterexample": {"point": {"X": "random 5×3 matrix", "lambda": 2.0}, "entry": [2, 1], "student": 0.25},
            }
        ]
    }
    assert counterexample_text(_part(evidence=evidence)) == "for random X (5×3) and λ = 2, row 2, column 1 of yours is 0.25"


def test_readme_takes_a_student_from_template_to_feedback_in_three_commands(sealed_a3_file: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Run the README's 'For students' block: template, write an answer, check."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## For students") :]
    block = section[section.index("```sh\n") + 6 : section.index("```", section.index("```sh\n") + 6)]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands[0] == "grader template a3.sealed.json > answers.md"
    assert commands[1].startswith("$EDITOR answers.md")
    assert commands[2] == "grader check answers.md --rubric a3.sealed.json"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a3.sealed.json").write_bytes(sealed_a3_file.read_bytes())
    runner = CliRunner()
    made = runner.invoke(main, commands[0].split()[1:-2])
    assert made.exit_code == 0
    head, rest = made.stdout.split("## 1.2 ", 1)
    written = head + "## 1.2 " + rest.replace("**Answer:**", "**Answer:**\n\n$$ \\lambda^{\\text{dropout}} = \\frac{1}{p} - 1 $$", 1)
    (tmp_path / "answers.md").write_text(written, encoding="utf-8")
    checked = runner.invoke(main, commands[2].split()[1:])
    assert checked.exit_code == 0
    lines = checked.stdout.splitlines()
    assert "  1.2   needs review    3 / 5" in lines  # the choice in 1.2 was not answered
    assert "        [lambda] Right: λ_dropout = (1 − p)/p." in lines
    assert lines[-1].startswith("score 3 / ") and lines[-1].endswith(" missing, 1 need review")
