"""``grader template``: the skeleton reads back as every question, missing until filled, and
filled with the answer key it gets full marks wherever a machine decides."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from selfcheck_data import A3

from grader.authoring.template import render_template
from grader.authoring.testing import answer_text
from grader.cli import main
from grader.grading.pipeline import grade_file, segment_text
from grader.rubric.models import Question, Rubric


def fill(template: str, answers: dict[str, str]) -> str:
    """Write each question's answer on the line after its **Answer:**."""
    out: list[str] = []
    current = None
    for line in template.split("\n"):
        if line.startswith("## "):
            current = line[3:].split()[0]
        out.append(line)
        if line == "**Answer:**" and current in answers:
            out += ["", answers[current]]
    return "\n".join(out)


def key_answer(question: Question) -> str:
    """The rubric's first right test answer for every part, as a student would write them."""
    pieces = []
    for part in question.parts:
        right = next((t.answer for t in part.tests if t.expect == "right"), None)
        if right is not None:
            pieces.append(answer_text(part, right))
    return "\n\n".join(pieces)


def test_template_reads_back_as_every_question_missing(a3_rubric: Rubric, sealed_a3: Rubric) -> None:
    text = render_template(sealed_a3)
    assert text == render_template(a3_rubric)  # only ids, titles, prompts and targets are used
    submission = segment_text(text, sealed_a3, path="answers.md")
    assert list(submission.answers) == [q.id for q in sealed_a3.questions]
    assert {a.status for a in submission.answers.values()} == {"missing"}
    assert not [w for w in submission.warnings if "was not found" in w]


def test_template_shows_targets_prompts_and_the_guide(a3_rubric: Rubric) -> None:
    text = render_template(a3_rubric)
    assert text.startswith(f"# {a3_rubric.assignment.title}\n\n> How to write answers grader can read:")
    assert "## 1.2 Dropout solution and its regularization coefficient\n\n> Show that p w^dropout" in text
    assert "- (lambda) write: `$$ \\lambda^{\\text{dropout}} = \\dots $$`" in text
    assert "- (effect-of-p) say your choice in a sentence" in text
    assert "## 5.2 Jacobian at the stationary point" in text and "write: `$$ J^* = \\dots $$`" in text


def test_filled_with_the_key_it_gets_full_marks(a3_rubric: Rubric, sealed_a3: Rubric, tmp_path: Path) -> None:
    answers = {q.id: key_answer(q) for q in a3_rubric.questions if key_answer(q)}
    path = tmp_path / "answers.md"
    path.write_text(fill(render_template(sealed_a3), answers), encoding="utf-8")
    for rubric in (a3_rubric, sealed_a3):
        report = grade_file(path, rubric)
        for question in report.questions:
            keyed = a3_rubric.question(question.id)
            for part, source in zip(question.parts, keyed.parts, strict=True):
                if any(t.expect == "right" for t in source.tests) and part.kind != "sealed-manual" and part.verdict != "undecided":
                    assert (part.verdict, part.score) == ("right", part.max_score), (rubric.assignment.id, question.id, part.id, part.feedback)
    sealed_report = grade_file(path, sealed_a3)
    decided = [p for q in sealed_report.questions for p in q.parts if p.verdict != "undecided" and p.status != "missing"]
    assert len(decided) >= 18 and all(p.verdict == "right" for p in decided)


def test_prompt_lines_that_look_like_labels_are_escaped() -> None:
    rubric = Rubric.model_validate(
        {
            "assignment": {"id": "t", "title": "T"},
            "questions": [
                {
                    "id": "1",
                    "points": 1,
                    "prompt": "Compute it.\n2 ways are fine.\n(a) one way",
                    "parts": [{"id": "x", "kind": "numeric", "points": 1, "target": "x", "reference": "1"}],
                },
                {"id": "2", "points": 1, "parts": [{"id": "y", "kind": "numeric", "points": 1, "target": "y", "reference": "2"}]},
            ],
        }
    )
    text = render_template(rubric)
    assert "> …2 ways are fine.\n> …(a) one way" in text
    submission = segment_text(fill(text, {"1": "$$ x = 1 $$", "2": "$$ y = 2 $$"}), rubric, path="a.md")
    assert [a.text.strip() for a in submission.answers.values()] == ["$$ x = 1 $$", "$$ y = 2 $$"]


def test_cli_template(sealed_a3_file: Path) -> None:
    result = CliRunner().invoke(main, ["template", str(sealed_a3_file)])
    assert result.exit_code == 0 and result.stdout.startswith("# Assignment 3")
    assert CliRunner().invoke(main, ["template", str(A3)]).stdout == result.stdout
    missing = CliRunner().invoke(main, ["template", str(sealed_a3_file.parent / "nope.json")])
    assert missing.exit_code == 1 and "[rubric.not_found]" in missing.stderr
