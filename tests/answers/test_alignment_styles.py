"""Alignment: every common label style, content and order for unlabeled answers, placeholders,
and the record of how each answer was found (never a3's names: a rubric of its own here)."""

from __future__ import annotations

import pytest

from grader.answers.align import align, segment
from grader.answers.questions import QuestionInfo
from grader.document.markdown import markdown_blocks
from grader.document.models import Document

IDS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3a", "2.3b", "2.3c", "5.1", "5.2"]
ALIASES = {"2.3a": ["2.3(a)"], "2.3b": ["2.3(b)"], "2.3c": ["2.3(c)"]}


def answered(text: str) -> dict[str, str]:
    sub = segment(text, IDS, aliases=ALIASES)
    return {qid: " ".join(a.text.split()) for qid, a in sub.answers.items() if a.status == "answered"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("## 1.2\nA\n\n## 1.3\nB\n", {"1.2": "A", "1.3": "B"}),
        ("**1.2** A\n\n**1.3** B\n", {"1.2": "A", "1.3": "B"}),
        ("Q1.2) A\n\nQ1.3) B\n", {"1.2": "A", "1.3": "B"}),
        ("Q1.2: A\nQ1.3: B\n", {"1.2": "A", "1.3": "B"}),
        ("## Problem 1\n\n1. A\n2. B\n3. C\n", {"1.1": "A", "1.2": "B", "1.3": "C"}),
        ("Part 2.3 (b) B\n\nPart 2.3 (c) C\n", {"2.3b": "B", "2.3c": "C"}),
        ("## 2.3\n(a) A\n(b) B\n(c) C\n", {"2.3a": "A", "2.3b": "B", "2.3c": "C"}),
        ("5 .1 A\n\n5 .2 B\n\n2.3 ( c ) C\n", {"5.1": "A", "5.2": "B", "2.3c": "C"}),
        ("Q2.3: (a) A (b) B (c) C\n", {"2.3a": "A", "2.3b": "B", "2.3c": "C"}),
        ("## Problem 2\n\n1. A\n2. B\n3. The three:\n   - (a) X\n   - (b) Y\n   - (c) Z\n", {"2.1": "A", "2.2": "B", "2.3a": "X", "2.3b": "Y", "2.3c": "Z"}),
        ("## 5.2\nB\n\n## 1.1\nA\n", {"5.2": "B", "1.1": "A"}),
    ],
    ids=["heading", "bold", "Q-paren", "Q-colon", "problem-then-items", "part-letter", "letters-under", "spaced", "one-line", "items-then-bullets", "out-of-order"],
)
def test_label_styles(text: str, expected: dict[str, str]) -> None:
    got = answered(text)
    assert {k: v.removeprefix("- ").strip(" ;") for k, v in got.items()} == expected


def test_numbered_steps_inside_an_answer_are_not_questions() -> None:
    got = answered("## 1.1\nSteps:\n\n1. expand\n2. take expectations\n3. simplify\n\n## 2.1\nB\n")
    assert set(got) == {"1.1", "2.1"} and "simplify" in got["1.1"]


@pytest.mark.parametrize("placeholder", ["TODO", "(skipped)", "*(skipped)*", "I don't know.", "n/a", "N/A", "-", "???", "**TODO**", "Not attempted", "I did not get to this one.", ""])
def test_placeholders_are_missing(placeholder: str) -> None:
    sub = segment(f"## 1.1\n{placeholder}\n\n## 1.2\nan answer\n", IDS)
    assert sub.answers["1.1"].status == "missing"
    assert sub.answers["1.2"].status == "answered"


def test_every_answer_records_how_it_was_found() -> None:
    sub = segment("## 1.1\nA\n\n**1.2** B\n\n## Problem 2\n\n1. C\n\n## 2.3\n(a) D\n", IDS, aliases=ALIASES)
    how = {qid: (a.mapping.how, a.mapping.confidence) for qid, a in sub.answers.items() if a.mapping and a.status == "answered"}
    assert how == {"1.1": ("heading", "high"), "1.2": ("label", "high"), "2.1": ("list_item", "high"), "2.3a": ("sub_label", "high")}
    assert sub.answers["1.1"].mapping is not None and "line 1" in sub.answers["1.1"].mapping.description


QUESTIONS = (
    QuestionInfo(id="q1", title="Derivative", prompt="Differentiate g.", targets=("g'(x)",)),
    QuestionInfo(id="q2", title="Convergence of the series", prompt="Does the series converge?", phrases=(r"\bdiverg\w*",)),
    QuestionInfo(id="q3", title="Area", prompt="Compute the area A.", targets=("A",)),
)


def _document(text: str) -> Document:
    return Document(path="x.md", format="markdown", text=text, blocks=tuple(markdown_blocks(text)), sha256="0")


def test_unlabeled_answers_are_placed_by_content_in_order() -> None:
    sub = align(_document("My answers.\n\n$g'(x) = 2x$\n\nThe series diverges.\n\n$A = 3$\n"), QUESTIONS)
    assert {qid: a.text for qid, a in sub.answers.items()} == {"q1": "$g'(x) = 2x$", "q2": "The series diverges.", "q3": "$A = 3$"}
    assert [a.mapping.how for a in sub.answers.values() if a.mapping] == ["target", "prompt", "target"]


def test_text_that_no_question_takes_is_unlocated_not_missing() -> None:
    sub = align(_document("Some working: $x = 4$ and then $y = 5$.\n"), QUESTIONS)
    assert {a.status for a in sub.answers.values()} == {"unlocated"}
    assert any("could not be located" in w for w in sub.warnings)


def test_a_file_with_only_labels_is_missing_not_unlocated() -> None:
    sub = segment("## 1.1\n\n## 1.2\n", IDS)
    assert {a.status for a in sub.answers.values()} == {"missing"}
