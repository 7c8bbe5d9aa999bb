"""What the answers stage hands to checkers and reports: frozen, line-numbered data.

Line numbers are 1-based lines of the document's text (for Markdown, LaTeX and plain text: the
file as read, after CRLF/CR became LF), so a report can point a student at the exact place in
their own file. Every answer records how it was found and how sure that is (``Mapping``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.document.models import Formula

MappingHow = Literal["label", "heading", "list_item", "sub_label", "target", "prompt", "order", "none"]
Confidence = Literal["high", "medium", "low"]
AnswerStatus = Literal["answered", "missing", "unlocated"]
ExtractionHow = Literal["target_equation", "boxed", "last_display", "last_formula", "prose", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Mapping(_Frozen):
    """How an answer was tied to its question, and how sure that is: shown to people in reports."""

    question_id: str
    how: MappingHow = Field(
        description="label: its number as written ('Q1.2)', '**1.2**'); heading: a section title; "
        "list_item: 'Problem 1' then '2.'; sub_label: '(b)' under a question; target: an equation for "
        "the part's target; prompt: the words of the question; order: where it stands among the others"
    )
    confidence: Confidence
    label: str = Field(default="", description="the label as the student wrote it")
    description: str = Field(default="", description="one sentence for people: what was found where")


class ReadingHints(_Frozen):
    """What the rubric says about a question's targets, so an answer written in pieces can be
    assembled (drawn from the part kinds and the symbol table; nothing assignment-specific)."""

    vectors: dict[str, int] = Field(default_factory=dict, description="target -> entries of the column vector it is")
    components: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="target -> its components' subscripts in order, e.g. ('\\psi_0', '\\psi_1', '\\theta')"
    )
    counts: dict[str, int] = Field(default_factory=dict, description="target -> how many values its reference lists")
    logistic: tuple[str, ...] = Field(default=(), description="declared functions defined as the logistic 1/(1+e^-u)")
    matrices: tuple[str, ...] = Field(default=(), description="declared matrix names, for transposes written X'")


class Answer(_Frozen):
    """One sub-question's answer as the student wrote it, with the question text kept apart."""

    question_id: str
    heading_line: int | None = Field(
        description="line of the marker such as '1.2' or '## 1.2'; None if not found"
    )
    start_line: int = Field(
        description="first line of the answer (after any 'Answer:'); 0 when no marker was found"
    )
    end_line: int = Field(description="last line of the answer; equals start_line for an empty answer")
    text: str = Field(description="the answer's raw text")
    prompt_text: str = Field(default="", description="question text between the marker and 'Answer:'")
    formulas: tuple[Formula, ...] = ()
    status: AnswerStatus = Field(
        description="missing: blank, a placeholder or absent; unlocated: the file has text that may hold "
        "it, but where could not be decided (a person must look)"
    )
    mapping: Mapping | None = None
    hints: ReadingHints | None = None


class Submission(_Frozen):
    """A segmented submission: exactly one Answer per expected id, in the rubric's order."""

    path: str
    format: str = "markdown"
    sha256: str = Field(
        description="hex digest of the file's bytes (of the text when segmented from a string)"
    )
    answers: dict[str, Answer]
    unassigned_text: str = Field(
        default="", description="text that belongs to no answer: preamble, question statements"
    )
    warnings: tuple[str, ...] = ()
    unassigned_lines: tuple[tuple[int, int], ...] = Field(
        default=(), description="spans of answer-like text that no question took (for review)"
    )


class Extraction(_Frozen):
    """What was read from an answer for one rubric part, and a sentence saying how, for the report."""

    question_id: str
    part_id: str = ""
    how: ExtractionHow
    latex: str | None = Field(
        default=None, description="the extracted math, e.g. the right-hand side after the target"
    )
    text: str = Field(default="", description="the prose, or the whole formula the math came from")
    line: int | None = None
    formula: str | None = Field(default=None, description="the whole formula the math came from")
    description: str = ""
