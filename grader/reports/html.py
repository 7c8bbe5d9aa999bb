"""The per-submission HTML report: feedback a student can read on a phone or print.

Everything on the page is built from jinja2 templates with autoescaping on; the only markup
not escaped is MathML rebuilt by ``grader.report.mathml`` from an allow-list, so nothing a
student wrote can become an element or attribute. The page loads nothing (no script, no
font, no CDN; a Content-Security-Policy says so to the browser too) and is byte-identical
for identical inputs: no timestamps, every list in rubric or sorted order.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mdit_py_plugins.dollarmath import dollarmath_plugin

from grader.answers.models import Mapping as Located
from grader.checking.result import PartResult
from grader.gradebook.models import ReviewNote
from grader.reports.mathml import render_math
from grader.reports.roster import RosterEntry
from grader.rubric.models import Question, Rubric
from grader.scoring.models import QuestionResult, Report

__all__ = [
    "STATUS_LABELS",
    "CLASS_FILES",
    "html_filename",
    "part_anchor",
    "points",
    "reference_markup",
    "render_html_report",
    "submission_stem",
    "write_html_report",
    "write_text_atomic",
]

STATUS_LABELS = {
    "correct": "correct",
    "partial": "partial credit",
    "incorrect": "incorrect",
    "missing": "missing",
    "needs_review": "needs review",
    "error": "error",
    "graded": "graded",
    "unreadable": "unreadable",
}
# A symbol beside every colour, so the status survives black-and-white printing and colour blindness.
STATUS_SYMBOLS = {
    "correct": "✓",
    "partial": "◐",
    "incorrect": "✗",
    "missing": "–",
    "needs_review": "?",
    "error": "!",
    "graded": "✓",
    "unreadable": "!",
}
_EVIDENCE_SHOWN_ELSEWHERE = frozenset({"found", "missing", "mistakes", "chosen", "scope", "seed"})
_SURE = {"high": "sure", "medium": "fairly sure", "low": "unsure: a person will confirm"}
_MAX_EVIDENCE_CHARS = 600


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment for all report pages; ``autoescape=True`` applies to every template."""
    env = Environment(
        loader=PackageLoader("grader.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["stylesheet"] = _stylesheet()
    env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status.replace("_", " "))
    env.globals["status_symbol"] = lambda status: STATUS_SYMBOLS.get(status, "")
    return env


def _stylesheet() -> Markup:
    """The one CSS file, inlined so the page is a single file; trusted (ours), checked for ``</``."""
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError("report.css must not contain '</' (it is inlined into a <style> element)")
    return Markup(css)


def points(value: float) -> str:
    """``5``, ``0.5``, ``16.5``: the notation of the terminal and CSV reports."""
    return f"{value:g}"


#: The class's own files in a batch's output folder: no submission's report or page may take one.
CLASS_FILES = frozenset({"index.html", "grades.csv", "canvas.csv", "moodle.csv", "results.json"})


def submission_stem(submission: str) -> str:
    """The name a submission's report and page share: the file's stem, plus ``.submission`` when
    ``stem.json`` or ``stem.html`` would be one of the class's files, compared as a
    case-insensitive file system would (``index.md`` → ``index.submission.html``)."""
    stem = Path(submission).stem
    if {f"{stem}.json".casefold(), f"{stem}.html".casefold()} & CLASS_FILES:
        return f"{stem}.submission"
    return stem


def html_filename(report: Report) -> str:
    """``S.html`` beside ``S.json``: both named after the submission file (see ``submission_stem``)."""
    return f"{submission_stem(report.submission)}.html"


@lru_cache(maxsize=1024)  # a class page links every part of every submission
def _slug(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip()) or "_"


def question_anchor(question_id: str) -> str:
    return f"q-{_slug(question_id)}"


def part_anchor(question_id: str, part_id: str) -> str:
    return f"q-{_slug(question_id)}-{_slug(part_id)}"


def write_text_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# What the template shows


@dataclass(frozen=True)
class EvidenceView:
    label: str
    text: str = ""
    math: Markup | None = None
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PartView:
    anchor: str
    id: str
    title: str
    status: str
    score: str
    max_score: str
    method: str
    feedback: tuple[str, ...]
    mistake: str | None
    line: int | None
    how: str
    answer_math: Markup | None
    formula_math: Markup | None
    answer_text: Markup | None
    same_text_as_above: bool
    reference: Markup | None
    evidence: tuple[EvidenceView, ...]
    proposed_score: str | None
    reasons: tuple[str, ...]
    reviewed: str = ""  # "alice on 2025-05-02: 2 → 3 / 3": a person's decision in force
    review_comment: str = ""


@dataclass(frozen=True)
class QuestionView:
    anchor: str
    id: str
    title: str
    prompt: str
    status: str
    score: str
    max_score: str
    lines: str
    found: str
    feedback: tuple[str, ...]
    parts: tuple[PartView, ...]


@dataclass(frozen=True)
class ReportView:
    submission: str
    student: str
    assignment: str
    course: str
    due: str
    score: str
    max_score: str
    percent: int
    bar_width: str
    status: str
    review_count: int
    show_reference: bool
    questions: tuple[QuestionView, ...]
    warnings: tuple[str, ...]
    grader_version: str
    rubric: str
    submission_sha256: str
    rubric_sha256: str


def reference_markup(rubric_question: Question | None, part_id: str) -> Markup | None:
    """The rubric's answer for a part: formula for symbolic/numeric, option label for choice."""
    if rubric_question is None:
        return None
    part = next((p for p in rubric_question.parts if p.id == part_id), None)
    if part is None:
        return None
    reference = getattr(part, "reference", None)
    if isinstance(reference, str) and reference.strip():
        return render_math(reference, display=True)
    answer, options = getattr(part, "answer", None), getattr(part, "options", None)
    if isinstance(answer, str) and options:
        label = next((o.label or o.id for o in options if o.id == answer), answer)
        return Markup("<span>{}</span>").format(label)
    return None


def _wrong_cells(evidence: Mapping[str, Any]) -> list[tuple[int, int]]:
    for comparison in evidence.get("comparisons") or []:
        if isinstance(comparison, dict) and comparison.get("wrong_entries"):
            cells = []
            for cell in comparison["wrong_entries"]:
                if (
                    isinstance(cell, list | tuple)
                    and len(cell) == 2
                    and all(isinstance(k, int) for k in cell)
                ):
                    cells.append((int(cell[0]), int(cell[1])))
            return cells
    return []


def _value_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str | int):
        return str(value)
    return _plain(value)


def _plain(value: object, depth: int = 0) -> str:
    """Evidence as a person reads it: no JSON brackets or quotes, no long random seeds."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int) and abs(value) >= 10**12:
        text = "…"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, Mapping):
        pairs = [f"{str(k).replace('_', ' ')}: {_plain(v, depth + 1)}" for k, v in sorted(value.items()) if str(k) != "seed"]
        text = "; ".join(pairs) if depth == 0 else "(" + ", ".join(pairs) + ")"
    elif isinstance(value, list | tuple):
        text = ", ".join(_plain(v, depth + 1) for v in value)
    else:
        text = str(value)
    return text if len(text) <= _MAX_EVIDENCE_CHARS else text[: _MAX_EVIDENCE_CHARS - 1] + "…"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    """Student Markdown for the page: lists, emphasis, paragraphs and math; raw HTML stays text and
    nothing loads (no images, no links)."""
    md = MarkdownIt("commonmark", {"html": False}).disable(["image", "link", "autolink", "code"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    def math(display: bool) -> Any:
        return lambda _renderer, tokens, idx, *_: str(render_math(tokens[idx].content.strip(), display=display))

    md.add_render_rule("math_inline", math(False))
    md.add_render_rule("math_inline_double", math(True))
    md.add_render_rule("math_block", math(True))
    return md


def render_markdown(text: str) -> Markup:
    """An answer's Markdown as HTML: markdown-it escapes every character of text, and the only
    markup it adds besides its own block and emphasis tags is our allow-listed MathML."""
    try:
        return Markup(_markdown().render(text))
    except RecursionError:
        return Markup("<p>") + escape(text) + Markup("</p>")


def located_text(located: Located | None) -> str:
    """``found by the heading '1.2' on line 14 (sure)``, for the page."""
    if located is None:
        return ""
    if located.how == "none":
        return "not found in the file: a person will look for it"
    return f"found {located.description} ({_SURE.get(located.confidence, located.confidence)})"


def _counterexample_rows(counterexample: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    point = counterexample.get("point")
    if isinstance(point, dict):
        rows.extend((f"at {name}", _value_text(point[name])) for name in sorted(point))
    entry = counterexample.get("entry")
    if isinstance(entry, list) and len(entry) == 2:
        rows.append(("entry", f"row {entry[0]}, column {entry[1]}"))
    if counterexample.get("student") is not None:
        rows.append(("yours", _value_text(counterexample["student"])))
    if counterexample.get("reference") is not None:
        rows.append(("expected", _value_text(counterexample["reference"])))
    return tuple(rows)


def _comparison_views(comparisons: Iterable[object]) -> list[EvidenceView]:
    views: list[EvidenceView] = []
    seen: set[str] = set()
    for comparison in comparisons:
        if not isinstance(comparison, dict) or comparison.get("verdict") == "equivalent":
            continue
        key = json.dumps(comparison, sort_keys=True, default=str)
        if key in seen:  # alternatives of one reference often fail the same way
            continue
        seen.add(key)
        method = str(comparison.get("method", "")).replace("_", " ")
        rows: tuple[tuple[str, str], ...] = ()
        if isinstance(comparison.get("counterexample"), dict):
            rows = _counterexample_rows(comparison["counterexample"])
        if comparison.get("wrong_entries"):
            cells = [c for c in comparison["wrong_entries"] if isinstance(c, list | tuple) and len(c) == 2]
            rows += (("entries that differ", "; ".join(f"row {r}, column {c}" for r, c in cells)),)
        views.append(
            EvidenceView(
                label=f"check ({method})" if method else "check",
                text=str(comparison.get("detail", "")),
                rows=rows,
            )
        )
    return views


def evidence_views(
    part: PartResult, option_labels: Mapping[str, str] | None = None
) -> tuple[EvidenceView, ...]:
    """What the checker found, as sentences, values and formulas; manual evidence is in the reasons."""
    labels = option_labels or {}
    evidence = part.evidence
    views: list[EvidenceView] = []
    for key in sorted(evidence):
        value = evidence[key]
        if key in _EVIDENCE_SHOWN_ELSEWHERE or value in (None, [], {}, ""):
            continue
        if key == "comparisons" and isinstance(value, list):
            views.extend(_comparison_views(value))
        elif key == "relations" and isinstance(value, list):
            for hit in value:
                if isinstance(hit, dict):
                    option = str(hit.get("option", ""))
                    views.append(
                        EvidenceView(
                            label="inequality read",
                            math=render_math(str(hit.get("latex", ""))),
                            text=f"reads as: {labels.get(option, option)}",
                        )
                    )
        elif key == "phrases" and isinstance(value, list):
            for hit in value:
                if isinstance(hit, dict):
                    option = str(hit.get("option", ""))
                    views.append(
                        EvidenceView(
                            label="phrase found",
                            text=f"“{hit.get('phrase', '')}” → {labels.get(option, option)}",
                        )
                    )
        else:
            views.append(EvidenceView(label=key.replace("_", " "), text=_plain(value)))
    return tuple(views)


def _option_labels(rubric_question: Question | None, part_id: str) -> dict[str, str]:
    if rubric_question is None:
        return {}
    part = next((p for p in rubric_question.parts if p.id == part_id), None)
    options = getattr(part, "options", None) or []
    return {o.id: o.label or o.id for o in options}


def part_view(
    question: QuestionResult,
    part: PartResult,
    rubric_question: Question | None,
    *,
    show_reference: bool,
    previous_texts: set[str],
    review: ReviewNote | None = None,
) -> PartView:
    extracted = part.extracted
    answer_math = formula_math = answer_text = None
    same_text = False
    if extracted is not None and part.status != "missing":
        if extracted.latex:
            answer_math = render_math(extracted.latex, display=True, wrong_cells=_wrong_cells(part.evidence))
            if extracted.formula and extracted.formula.strip() != extracted.latex.strip():
                formula_math = render_math(extracted.formula, display=True)
        elif extracted.text.strip():
            if extracted.text in previous_texts:
                same_text = True
            else:
                previous_texts.add(extracted.text)
                answer_text = render_markdown(extracted.text)
    rubric_part = (
        next((p for p in rubric_question.parts if p.id == part.id), None) if rubric_question else None
    )
    needs_person = part.status in ("needs_review", "error")
    return PartView(
        anchor=part_anchor(question.id, part.id),
        id=part.id,
        title=rubric_part.title if rubric_part is not None else "",
        status=part.status,
        score=points(part.score),
        max_score=points(part.max_score),
        method=part.method,
        feedback=tuple(part.feedback),
        mistake=part.mistake,
        line=extracted.line if extracted is not None else None,
        how=extracted.description if extracted is not None else "",
        answer_math=answer_math,
        formula_math=formula_math,
        answer_text=answer_text,
        same_text_as_above=same_text,
        reference=reference_markup(rubric_question, part.id) if show_reference else None,
        evidence=evidence_views(part, _option_labels(rubric_question, part.id))
        if part.status != "correct"
        else (),
        proposed_score=points(part.proposed_score if part.proposed_score is not None else part.score)
        if needs_person
        else None,
        reasons=tuple(part.reasons) if needs_person else (),
        reviewed=_reviewed(review, part.max_score) if review is not None and review.state == "decided" else "",
        review_comment=review.comment if review is not None and review.state == "decided" else "",
    )


def _reviewed(note: ReviewNote, max_score: float) -> str:
    change = f"{points(note.from_score)} → " if note.from_score is not None and note.from_score != note.score else ""
    return f"{note.reviewer} on {note.decided_at:%Y-%m-%d}: {change}{points(note.score)} / {points(max_score)}"


def question_view(
    question: QuestionResult, rubric: Rubric, *, show_reference: bool, reviews: Mapping[str, ReviewNote] | None = None
) -> QuestionView:
    rubric_question = next((q for q in rubric.questions if q.id == question.id), None)
    seen_texts: set[str] = set()
    notes = reviews or {}
    parts = tuple(
        part_view(
            question,
            part,
            rubric_question,
            show_reference=show_reference,
            previous_texts=seen_texts,
            review=notes.get(f"{question.id}/{part.id}"),
        )
        for part in question.parts
    )
    lines = ""
    if question.answer_lines is not None:
        first, last = question.answer_lines
        lines = f"line {first}" if first == last else f"lines {first}–{last}"
    return QuestionView(
        anchor=question_anchor(question.id),
        id=question.id,
        title=question.title or (rubric_question.title if rubric_question else ""),
        prompt=rubric_question.prompt if rubric_question else "",
        status=question.status,
        score=points(question.score),
        max_score=points(question.max_score),
        lines=lines,
        found=located_text(question.located),
        # The scorer repeats the parts' feedback at question level; show each sentence once.
        feedback=tuple(f for f in question.feedback if not any(f in p.feedback for p in question.parts)),
        parts=parts,
    )


def report_view(
    report: Report,
    rubric: Rubric,
    *,
    show_reference: bool,
    student: RosterEntry | None = None,
    reviews: Mapping[str, ReviewNote] | None = None,
) -> ReportView:
    share = report.score / report.max_score if report.max_score > 0 else 0.0
    share = min(max(share, 0.0), 1.0)
    return ReportView(
        submission=report.submission,
        student=student.name if student is not None else "",
        assignment=rubric.assignment.title,
        course=rubric.assignment.course,
        due=rubric.assignment.due,
        score=points(report.score),
        max_score=points(report.max_score),
        percent=round(share * 100),
        bar_width=f"{share * 100:.1f}",
        status=report.status,
        review_count=sum(1 for q in report.questions if q.status in ("needs_review", "error")),
        show_reference=show_reference,
        questions=tuple(question_view(q, rubric, show_reference=show_reference, reviews=reviews) for q in report.questions),
        warnings=tuple(report.warnings),
        grader_version=report.grader_version,
        rubric=report.rubric,
        submission_sha256=report.submission_sha256[:12],
        rubric_sha256=report.rubric_sha256[:12],
    )


def render_html_report(
    report: Report,
    rubric: Rubric,
    *,
    show_reference: bool,
    student: RosterEntry | None = None,
    reviews: Mapping[str, ReviewNote] | None = None,
) -> str:
    """The page as text; the same inputs always give the same bytes.

    ``reviews`` (by ``"question/part"``) are the decisions in force, from the gradebook; the
    report passed is then the reviewed one (``Gradebook.rows``), its decided parts scored.
    """
    view = report_view(report, rubric, show_reference=show_reference, student=student, reviews=reviews)
    return environment().get_template("report.html.j2").render(r=view)


def write_html_report(
    report: Report, rubric: Rubric, path: Path, *, show_reference: bool, student: RosterEntry | None = None
) -> None:
    """Write ``path`` (normally ``DIR/S.html`` beside ``S.json``) atomically."""
    write_text_atomic(
        path, render_html_report(report, rubric, show_reference=show_reference, student=student)
    )
