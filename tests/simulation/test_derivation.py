"""Derivations read line by line: which steps hold, which fail, and where the first failure is."""

from __future__ import annotations

import pytest
from sim_helpers import answer, context, part, submission_answer

from grader.checking.derivation import DerivationChecker
from grader.rubric.models import Rubric
from grader.simulation.derivation import local_definitions, read_steps

CHECKER = DerivationChecker()


def _check(rubric: Rubric, question_id: str, text_or_file: str, part_id: str = "proof"):  # type: ignore[no-untyped-def]
    rubric_part = part(rubric, question_id, part_id)
    given = submission_answer(rubric, text_or_file, question_id) if text_or_file.endswith(".md") else answer(text_or_file, question_id)
    return CHECKER.check(rubric_part, given, context(rubric, question_id, part_id))


def _table(result) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(step["line"], step["status"]) for step in result.evidence["steps"]]


def test_seed_1_1_step_table(a3_rubric: Rubric) -> None:
    """The seed's 1.1: the two lines whose shapes do not conform fail, the correct lines hold."""
    result = _check(a3_rubric, "1.1", "seed_student.md")
    assert _table(result) == [
        (13, "holds"),
        (17, "unparseable"),  # an extra ')' in the student's file
        (19, "unparseable"),
        (21, "shape error"),  # y(X⊙R)ᵀwᵀ
        (25, "holds"),
        (31, "holds"),  # E[X⊙R] = pX_ij, read entrywise
        (37, "unparseable"),  # index notation (·)_{i,j}
        (41, "unparseable"),
        (45, "holds"),
        (49, "holds"),
        (51, "shape error"),  # wᵀp²(XᵀX) + p(1−p)diag(XᵀX)w: the parentheses were dropped
        (53, "holds"),
        (57, "holds"),
    ]
    assert result.evidence["first_failing_line"] == 21
    assert result.status == "needs_review" and result.verdict == "undecided"
    assert result.feedback[0].startswith("first failing step: line 21: ")
    assert "y(X ⊙ R)ᵀwᵀ" in result.feedback[0] and "does not conform" in result.feedback[0]
    assert result.proposed_score is not None and result.proposed_score < 7  # two wrong steps cost something
    assert all(set(step) >= {"line", "status", "detail"} for step in result.evidence["steps"])


@pytest.mark.parametrize(("question_id", "part_id"), [("1.1", "proof"), ("2.1", "proof"), ("3.1", "proof"), ("4.1", "jsd"), ("4.2", "proof")])
def test_correct_sample_has_no_failing_step(a3_rubric: Rubric, question_id: str, part_id: str) -> None:
    result = _check(a3_rubric, question_id, "sample_headings.md", part_id)
    statuses = [status for _, status in _table(result)]
    assert "fails" not in statuses and "shape error" not in statuses, result.evidence["steps"]
    assert "first_failing_line" not in result.evidence


@pytest.mark.parametrize(
    ("question_id", "file", "checked_lines"),
    [
        ("1.1", "sample_headings.md", {17, 23, 24}),  # M = X ⊙ R defined inline, Γ by the rubric
        ("4.1", "sample_headings.md", {130, 134}),  # KL, JSD and E_{p} by quadrature
        ("4.2", "sample_headings.md", {142}),
        ("4.1", "seed_student.md", {264, 269, 270, 272, 274, 276, 278}),
    ],
)
def test_lines_that_are_checked_hold(a3_rubric: Rubric, question_id: str, file: str, checked_lines: set[int]) -> None:
    part_id = "jsd" if question_id == "4.1" else "proof"
    table = _check(a3_rubric, question_id, file, part_id).evidence["steps"]
    holding = {step["line"] for step in table if step["status"] == "holds"}
    assert checked_lines <= holding, table


def test_seed_4_1_argmax_line_fails(a3_rubric: Rubric) -> None:
    result = _check(a3_rubric, "4.1", "seed_student.md", "jsd")
    assert result.evidence["first_failing_line"] == 282
    assert "arg max" in result.feedback[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a chain on one line: two steps
        (r"$$\mathbb{E}[X \odot R] = pX = Xp$$", [(2, "holds"), (2, "holds")]),
        # aligned rows continue with &=
        ("$$\n\\begin{aligned}\n\\mathbb{E}[L(w)] &= \\|y - pXw\\|^2 + p(1-p)\\|\\Gamma w\\|^2 \\\\\n&= \\|y - pXw\\|^2 + p\\|\\Gamma w\\|^2\n\\end{aligned}\n$$", [(4, "holds"), (5, "fails")]),
        # a display that starts with = continues the previous one
        ("$$\\mathbb{E}[X \\odot R] = pX$$\n\n$$= p^2 X$$", [(2, "holds"), (4, "fails")]),
        # shapes that do not conform
        (r"$$\mathbb{E}[L(w)] = \mathbb{E}[y^Ty - y(X \odot R)^Tw^T]$$", [(2, "shape error")]),
        # an inequality is not an equality step
        (r"$$p(1-p) \le p$$", [(2, "skipped")]),
        # unreadable
        (r"$$\mathbb{E}[(y - Xw)) = 1$$", [(2, "unparseable")]),
        # a definition is not the anchor of the next continuation
        ("$$\\mathbb{E}[X \\odot R] = pX$$\n\n$$M := X \\odot R$$\n\n$$= Xp$$", [(2, "holds"), (4, "holds"), (6, "holds")]),
    ],
)
def test_step_statuses(a3_rubric: Rubric, text: str, expected: list[tuple[int, str]]) -> None:
    assert _table(_check(a3_rubric, "1.1", text)) == expected


def test_reading_the_chain(a3_rubric: Rubric) -> None:
    text = "$$a = b \\\\ = c$$\n\n$$= d$$\n\nso\n\n$$e =$$\n$$f$$"
    steps = read_steps(answer(text), a3_rubric.symbol_table)
    assert [(s.left.text, s.right.text) for s in steps] == [("a", "b"), ("b", "c"), ("c", "d"), ("e", "f")]
    text = "$$e =\\\\ f$$"
    assert [(s.left.text, s.right.text) for s in read_steps(answer(text), a3_rubric.symbol_table)] == [("e", "f")]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (r"Write $\mathbf{M} = \mathbf{X} \odot \mathbf{R}$.", {"M"}),
        (r"With $\mu = \frac12(p_0 + p_1)$ the value is", {"mu"}),
        (r"At $x = 0$ and $a = b + 1$", set()),  # values and undeclared names are not abbreviations
        (r"$\Gamma = I$", set()),  # declared by the rubric: never redefined by a student
    ],
)
def test_student_definitions(a3_rubric: Rubric, text: str, names: set[str]) -> None:
    assert set(local_definitions(answer(text), a3_rubric.symbol_table, frozenset({"L"}))) == names


def test_proposed_score_follows_the_steps(a3_rubric: Rubric) -> None:
    good = "$$\\mathbb{E}[X \\odot R] = pX$$ so $$y^Ty - 2y^T\\mathbb{E}[X \\odot R]w = y^Ty - 2p\\,y^TXw$$"
    bad = "$$\\mathbb{E}[X \\odot R] = p^2X$$ so $$y^Ty - 2y^T\\mathbb{E}[X \\odot R]w = y^Ty - 2p^2\\,y^TXw$$"
    good_score = _check(a3_rubric, "1.1", good).proposed_score
    bad_score = _check(a3_rubric, "1.1", bad).proposed_score
    assert good_score is not None and bad_score is not None and good_score > bad_score


def test_checks_are_deterministic(a3_rubric: Rubric) -> None:
    first = _check(a3_rubric, "1.1", "seed_student.md")
    second = _check(a3_rubric, "1.1", "seed_student.md")
    assert first.evidence == second.evidence
