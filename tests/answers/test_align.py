"""Segmentation: every numbering style students use, conversion damage, and the real seed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from complexity import assert_linear
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.answers.align import segment
from grader.answers.models import Submission

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "submissions" / "seed_student.md"
SEED_IDS = "1.1 1.2 1.3 1.4 2.1 2.2 2.3a 2.3b 2.3c 3.1 3.2 4.1 4.2 5.1 5.2 5.3 5.4 5.5 5.6".split()


def doc(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def spans(sub: Submission) -> dict[str, tuple[int | None, int, int, str]]:
    return {qid: (a.heading_line, a.start_line, a.end_line, a.status) for qid, a in sub.answers.items()}


# (name, document, expected ids, {id: (heading_line, start_line, end_line, status)}, {id: answer text})
STYLES = [
    (
        "markdown h2 headings",
        doc("# HW", "", "## 1.1", "", "x = 1", "", "## 1.2", "y = 2"),
        ["1.1", "1.2"],
        {"1.1": (3, 5, 5, "answered"), "1.2": (7, 8, 8, "answered")},
        {"1.1": "x = 1", "1.2": "y = 2"},
    ),
    (
        "markdown h3 headings with titles",
        doc("### 1.1 Dropout", "first", "### 1.2 Weight decay", "second"),
        ["1.1", "1.2"],
        {"1.1": (1, 2, 2, "answered"), "1.2": (3, 4, 4, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "bold number, answer on the same line",
        doc("**1.1** first answer", "**1.2** second answer"),
        ["1.1", "1.2"],
        {"1.1": (1, 1, 1, "answered"), "1.2": (2, 2, 2, "answered")},
        {"1.1": "first answer", "1.2": "second answer"},
    ),
    (
        "bold number with a period",
        doc("**1.1.** first", "", "**1.2.**", "second"),
        ["1.1", "1.2"],
        {"1.1": (1, 1, 1, "answered"), "1.2": (3, 4, 4, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "Q prefix with colon",
        doc("Q1.1: first", "Q1.2: second"),
        ["1.1", "1.2"],
        {"1.1": (1, 1, 1, "answered"), "1.2": (2, 2, 2, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "Q prefix with period",
        doc("Q1.1. first", "Q 1.2. second"),
        ["1.1", "1.2"],
        {"1.1": (1, 1, 1, "answered"), "1.2": (2, 2, 2, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "seed style: question text then Answer: on the same line",
        doc(
            "1.1 Show that the expected loss can be rewritten as the given expression. Answer:",
            "",
            "We have $x = 1$.",
            "1.2 Derive the closed form solution of the regularized problem please. Answer:",
            "$$y = 2$$",
        ),
        ["1.1", "1.2"],
        {"1.1": (1, 3, 3, "answered"), "1.2": (4, 5, 5, "answered")},
        {"1.1": "We have $x = 1$.", "1.2": "$$y = 2$$"},
    ),
    (
        "seed style: question text, formula, then Answer: on a later line",
        doc("1.2 Show that the solution satisfies", "", "$$p w = A$$", "", "Answer:", "", "first", "second"),
        ["1.2"],
        {"1.2": (1, 7, 8, "answered")},
        {"1.2": "first\nsecond"},
    ),
    (
        "Problem and Exercise keywords",
        doc("Problem 1.1", "first", "Exercise 1.2", "second"),
        ["1.1", "1.2"],
        {"1.1": (1, 2, 2, "answered"), "1.2": (3, 4, 4, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "Question N then (a) (b) parts, letter ids",
        doc("Question 2 (5-5).", "Statement of question two.", "(a) first", "(b) second"),
        ["2a", "2b"],
        {"2a": (3, 3, 3, "answered"), "2b": (4, 4, 4, "answered")},
        {"2a": "first", "2b": "second"},
    ),
    (
        "bold Question N with a) parts, dotted letter ids",
        doc("**Question 2** (5-5-6).", "Consider a model.", "a) first", "b) second"),
        ["2.a", "2.b"],
        {"2.a": (3, 3, 3, "answered"), "2.b": (4, 4, 4, "answered")},
        {"2.a": "first", "2.b": "second"},
    ),
    (
        "bold (a) parts",
        doc("## Question 3", "**(a)** first", "**(b)**", "second"),
        ["3a", "3b"],
        {"3a": (2, 2, 2, "answered"), "3b": (3, 4, 4, "answered")},
        {"3a": "first", "3b": "second"},
    ),
    (
        "bulleted (a) parts under a bulleted 2.3 context",
        doc(
            "- 2.3 Compare the two approaches",
            "  - (a) in terms of bias",
            "",
            "    Answer:",
            "",
            "first",
            "- (b) cost",
            "  Answer:",
            "  - second",
        ),
        ["2.3a", "2.3b"],
        {"2.3a": (2, 6, 6, "answered"), "2.3b": (7, 9, 9, "answered")},
        {"2.3a": "first", "2.3b": "  - second"},
    ),
    (
        "closing parenthesis and colon",
        doc("1.1) first", "1.2: second"),
        ["1.1", "1.2"],
        {"1.1": (1, 1, 1, "answered"), "1.2": (2, 2, 2, "answered")},
        {"1.1": "first", "1.2": "second"},
    ),
    (
        "conversion damage: quotes, bullets, indentation, italics",
        doc("> 1.1 first", "   - 1.2 second", "*1.3* third", "__1.4__ fourth"),
        ["1.1", "1.2", "1.3", "1.4"],
        {
            "1.1": (1, 1, 1, "answered"),
            "1.2": (2, 2, 2, "answered"),
            "1.3": (3, 3, 3, "answered"),
            "1.4": (4, 4, 4, "answered"),
        },
        {"1.1": "first", "1.2": "second", "1.3": "third", "1.4": "fourth"},
    ),
]


@pytest.mark.parametrize(("name", "text", "ids", "expected", "texts"), STYLES, ids=[s[0] for s in STYLES])
def test_numbering_styles(
    name: str,
    text: str,
    ids: list[str],
    expected: dict[str, tuple[int, int, int, str]],
    texts: dict[str, str],
) -> None:
    sub = segment(text, ids)
    assert spans(sub) == expected
    assert {qid: a.text for qid, a in sub.answers.items()} == texts


@pytest.mark.parametrize(
    "label", ["2.3(a)", "2.3.a", "2.3 (a)", "2.3a", "**2.3 (a)**", "Q2.3a:", "## 2.3 a)", "2.3.A"]
)
def test_label_variants_match_one_id(label: str) -> None:
    sub = segment(doc(label, "the answer"), ["2.3a", "2.3b"])
    assert sub.answers["2.3a"].status == "answered"
    assert sub.answers["2.3a"].text == "the answer"
    assert sub.answers["2.3b"].status == "missing"


@pytest.mark.parametrize(
    "marker_line",
    [
        "Answer:",
        "**Answer:**",
        "*Answer*:",
        "Answer.",
        "Solution:",
        "Ans:",
        "answer:",
        "ANSWER",
        "**Answer**",
    ],
)
def test_answer_marker_variants(marker_line: str) -> None:
    sub = segment(doc("1.1 A question", marker_line, "the answer"), ["1.1"])
    answer = sub.answers["1.1"]
    assert (answer.prompt_text, answer.text, answer.start_line) == ("A question", "the answer", 3)


def test_answer_marker_with_text_on_the_same_line() -> None:
    answer = segment(doc("## 1.1", "**Answer:** $x = 1$"), ["1.1"]).answers["1.1"]
    assert (answer.text, answer.start_line, answer.end_line) == ("$x = 1$", 2, 2)
    assert answer.formulas[0].latex == "x = 1"
    assert answer.formulas[0].line == 2


def test_answer_word_inside_a_sentence_is_not_a_marker() -> None:
    answer = segment(doc("Q1.1: the final answer: x is 3", "because y"), ["1.1"]).answers["1.1"]
    assert answer.text == "the final answer: x is 3\nbecause y"
    assert answer.prompt_text == ""


@pytest.mark.parametrize(
    "closing", ["Final Answer: $x = 3$", "**Final answer:** $x = 3$", "So my Answer: $x = 3$"]
)
def test_final_answer_inside_a_derivation_is_not_a_marker(closing: str) -> None:
    answer = segment(doc("## 1.1", "Derivation $y = 2$", closing), ["1.1"]).answers["1.1"]
    assert answer.text == "Derivation $y = 2$\n" + closing
    assert answer.prompt_text == ""


def test_justify_your_answer_then_answer_marker() -> None:
    answer = segment(
        doc("3.2 Which one would you use? Justify your answer. Answer:", "", "reverse KL"), ["3.2"]
    ).answers["3.2"]
    assert answer.prompt_text == "Which one would you use? Justify your answer."
    assert answer.text == "reverse KL"


def test_footnotes_and_numbered_lists_are_not_markers() -> None:
    text = doc(
        "1.1 Question. Answer:",
        "1. first step",
        "2. second step",
        "<sup>1.</sup> A footnote from the PDF",
        "<sup>2.</sup> Another",
        "1.2 Next question. Answer:",
        "done",
    )
    sub = segment(text, ["1.1", "1.2"])
    assert spans(sub)["1.1"] == (1, 2, 5, "answered")
    assert "footnote" in sub.answers["1.1"].text
    assert sub.answers["1.2"].text == "done"


def test_question_heading_ends_the_previous_answer_and_is_unassigned() -> None:
    text = doc(
        "Preamble",
        "1.1 Q. Answer:",
        "a1",
        "",
        "Question 2 (5-5). Statement of two.",
        "More statement.",
        "",
        "2.1 Q. Answer:",
        "a2",
    )
    sub = segment(text, ["1.1", "2.1"])
    assert sub.answers["1.1"].text == "a1"
    assert sub.answers["1.1"].end_line == 3
    assert "Statement of two" in sub.unassigned_text
    assert "More statement." in sub.unassigned_text
    assert "Preamble" in sub.unassigned_text
    assert "a1" not in sub.unassigned_text


def test_duplicates_first_wins_with_a_warning() -> None:
    sub = segment(doc("## 1.1", "first", "## 1.2", "x", "## 1.1", "again"), ["1.1", "1.2"])
    assert sub.answers["1.1"].text == "first"
    assert sub.answers["1.2"].text == "x"
    assert sub.warnings == ("question 1.1 appears twice (lines 1 and 5); using the first",)
    assert "again" in sub.unassigned_text


def test_a_decimal_at_the_start_of_a_line_is_text_once_the_id_was_seen() -> None:
    sub = segment(
        doc("1.2 Q. Answer:", "a", "1.3 Q. Answer:", "b", "1.2 times larger than before"), ["1.2", "1.3"]
    )
    assert sub.answers["1.3"].text == "b\n1.2 times larger than before"
    assert sub.warnings == ()


def test_arithmetic_is_not_a_marker() -> None:
    sub = segment(doc("1.1 Q. Answer:", "1.2 + 3 = 4.2", "1.2 Q. Answer:", "b"), ["1.1", "1.2"])
    assert sub.answers["1.1"].text == "1.2 + 3 = 4.2"
    assert sub.answers["1.2"].heading_line == 3


def test_out_of_order_answers() -> None:
    sub = segment(doc("## 2.1", "b", "## 1.1", "a"), ["1.1", "2.1"])
    assert spans(sub) == {"1.1": (3, 4, 4, "answered"), "2.1": (1, 2, 2, "answered")}


def test_lines_inside_display_math_are_not_markers() -> None:
    text = doc(
        "## 1.1", "$$", "J = \\begin{pmatrix}", "1.2 & 0 \\\\", "0 & 1", "\\end{pmatrix}", "$$", "## 1.2", "b"
    )
    sub = segment(text, ["1.1", "1.2"])
    assert spans(sub)["1.1"] == (1, 2, 7, "answered")
    assert sub.answers["1.2"].heading_line == 8


def test_long_marker_line_without_answer_marker() -> None:
    question = "Derive the expressions for the velocity field of the dynamical system"
    sub = segment(doc(f"5.1 {question}", "v = 0", "5.2 short one", "J = 0"), ["5.1", "5.2"])
    assert sub.answers["5.1"].prompt_text == question
    assert sub.answers["5.1"].text == "v = 0"
    assert sub.answers["5.2"].prompt_text == ""
    assert sub.answers["5.2"].text == "short one\nJ = 0"


def test_long_answer_on_the_marker_line_in_a_document_without_answer_markers() -> None:
    line = "Setting the gradient to zero gives lambda equal to one over p minus one here"
    sub = segment(doc(f"Q1.2: {line}", "Q1.3: b"), ["1.2", "1.3"])
    assert sub.answers["1.2"].text == line
    assert sub.answers["1.2"].status == "answered"


@pytest.mark.parametrize("body", ["", "   \n\t", "Answer:", "**Answer:**\n\n", "---"])
def test_empty_answers_are_missing(body: str) -> None:
    sub = segment("## 1.1\n" + body + "\n## 1.2\nb\n", ["1.1", "1.2"])
    answer = sub.answers["1.1"]
    assert (answer.status, answer.text, answer.heading_line) == ("missing", "", 1)
    assert answer.start_line == answer.end_line


def test_ids_without_markers_are_missing_with_a_warning() -> None:
    sub = segment(doc("## 1.1", "a"), ["1.1", "9.9"])
    assert spans(sub)["9.9"] == (None, 0, 0, "missing")
    assert sub.warnings == ("question 9.9 was not found; start its answer on its own line with '9.9'",)


def test_no_markers_at_all_is_unlocated_not_missing() -> None:
    """A file with text and no way to tell which question it answers goes to a person (no silent zero)."""
    sub = segment("just some prose\n", ["1.1"])
    assert sub.answers["1.1"].status == "unlocated"
    assert sub.unassigned_text == "just some prose"
    assert "no question markers were found" in sub.warnings[0]
    assert "question 1.1 could not be located" in sub.warnings[1]


def test_unknown_question_heading_is_warned_and_not_graded() -> None:
    sub = segment(doc("## 1.1", "a", "## 7.3", "extra"), ["1.1"])
    assert sub.answers["1.1"].text == "a"
    assert sub.warnings == ("line 3: '7.3' is not one of the expected questions; its text was not graded",)


def test_unlisted_sub_question_with_question_text_ends_the_previous_answer() -> None:
    text = doc(
        "5.5 Derive the Jacobian. Answer:",
        "",
        "5.6 Find the eigenvalues of the Jacobian and comment on the stability of the system.",
    )
    sub = segment(text, ["5.5"])
    assert sub.answers["5.5"].status == "missing"
    assert sub.warnings == ("line 3: '5.6' is not one of the expected questions; its text was not graded",)


def test_aliases() -> None:
    sub = segment(doc("## 5(b)", "x"), ["5.2"], aliases={"5.2": ["5b"]})
    assert sub.answers["5.2"].text == "x"


def test_crlf_and_cr_are_line_ends() -> None:
    sub = segment("## 1.1\r\na\r\n## 1.2\rb\r", ["1.1", "1.2"])
    assert spans(sub) == {"1.1": (1, 2, 2, "answered"), "1.2": (3, 4, 4, "answered")}


def test_the_seed() -> None:
    sub = segment(SEED.read_text(encoding="utf-8"), SEED_IDS, path="submissions/seed_student.md")
    assert list(sub.answers) == SEED_IDS
    assert {q for q, a in sub.answers.items() if a.status == "missing"} == {"5.5", "5.6"}
    assert {q: a.heading_line for q, a in sub.answers.items()} == {
        "1.1": 9, "1.2": 59, "1.3": 97, "1.4": 120, "2.1": 132, "2.2": 172, "2.3a": 198, "2.3b": 204,
        "2.3c": 207, "3.1": 217, "3.2": 233, "4.1": 242, "4.2": 284, "5.1": 335, "5.2": 387, "5.3": 457,
        "5.4": 475, "5.5": 487, "5.6": 489,
    }  # fmt: skip
    assert sub.warnings == ()
    one_two = sub.answers["1.2"]
    assert (one_two.start_line, one_two.end_line) == (67, 95)
    assert one_two.text.startswith("We have:")
    assert (
        "lambda^{\\text{dropout}}\\boldsymbol{\\Gamma}^2" not in one_two.text
    )  # the question's formula, line 61
    assert "lambda^{\\text{dropout}}\\boldsymbol{\\Gamma}^2" in one_two.prompt_text
    assert all(f.line >= 67 for f in one_two.formulas)
    assert sub.answers["2.3a"].text.startswith("Amortized case is optimal")
    assert (
        sub.answers["2.3b"].text.strip() == "- amortized case is more efficient than instance dependent case."
    )
    assert sub.answers["2.3c"].text.startswith("Amortized case needs more memory")
    assert (sub.answers["2.3c"].start_line, sub.answers["2.3c"].end_line) == (211, 211)
    assert "<sup>4.</sup>" in sub.answers["5.1"].text
    assert sub.answers["5.1"].end_line == 385
    assert "Question 2 (5-5-6)" in sub.unassigned_text
    assert "Due Date" in sub.unassigned_text
    assert "Question 2" not in sub.answers["1.4"].text
    assert sub.answers["1.4"].end_line == 124


def test_sample_submissions() -> None:
    headings = segment((ROOT / "submissions" / "sample_headings.md").read_text(encoding="utf-8"), SEED_IDS)
    assert all(a.status == "answered" for a in headings.answers.values())
    assert headings.warnings == ()
    assert headings.answers["2.3b"].text.startswith("Amortized inference is cheaper")
    mistakes = segment((ROOT / "submissions" / "sample_mistakes.md").read_text(encoding="utf-8"), SEED_IDS)
    assert [q for q, a in mistakes.answers.items() if a.status == "missing"] == ["4.2"]
    assert mistakes.warnings == ()
    assert mistakes.answers["2.3c"].text.startswith("Amortized inference needs more memory")


@pytest.mark.parametrize(
    "line",
    [
        lambda k: "1.1 " + "Answer: $x$ **(a)** \\[ 1.2 " * 5_000 * k,
        lambda k: "1.1 x\n" + "the answer: " * 11_000 * k,  # many rejected 'answer' words on one line
        lambda k: "1.1 x\n" + " " * 120_000 * k + "x answer" * 1_200 * k,  # a long prefix before them
        lambda k: "1.1 x\n" + "- " * 60_000 * k + "x",
        lambda k: "1.1 x\n" + "$a" * 60_000 * k,
    ],
    ids=["mixed", "rejected-answer-words", "long-prefix", "rule-like", "dollars"],
)
def test_a_long_line_is_split_in_linear_time(line: Callable[[int], str]) -> None:
    assert_linear(lambda text: segment(text, ["1.1", "1.2", "1.1a"]), lambda k: line(k) + "\n## 1.2\nb\n")


def test_many_lines_are_split_in_linear_time() -> None:
    ids = [f"{a}.{b}" for a in range(9) for b in range(7)]
    assert_linear(
        lambda text: segment(text, ids),
        lambda k: "\n".join(f"{n % 9}.{n % 7} answer $x_{n}$ = {n} (a) Answer:" for n in range(5_000 * k)),
    )


# Pieces of the syntax segmentation cares about, so random documents hit its branches.
MARKDOWNISH = st.lists(
    st.sampled_from(
        list("12345.()abcQ#*_->$\\[]{} \n\tAnswer:\r")
        + [
            "Question ",
            "## 1.2",
            "**",
            "$$",
            "\\begin{align}",
            "\\end{align}",
            "<sup>1.</sup>",
            "2.3 (a)",
            "\n\n",
            "```",
        ]
    ),
    max_size=150,
).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=300), MARKDOWNISH), ids=st.lists(st.text(max_size=6), max_size=5))
def test_segment_never_raises(text: str, ids: list[str]) -> None:
    sub = segment(text, ids + ["1.2", "2a"])
    assert set(sub.answers) == set(ids + ["1.2", "2a"])
    for answer in sub.answers.values():
        assert answer.start_line <= answer.end_line
