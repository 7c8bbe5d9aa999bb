"""Shared pieces for the simulation tests: the flagship rubric's parts and answers built from text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.answers.models import Answer
from grader.checking.base import CheckContext
from grader.document.formulas import find_formulas
from grader.grading.pipeline import derive_seed, segment_text
from grader.math.symbols import SymbolTable
from grader.rubric.models import Rubric

ROOT = Path(__file__).resolve().parents[2]


def answer(text: str, question_id: str = "q") -> Answer:
    return Answer(
        question_id=question_id,
        heading_line=1,
        start_line=2,
        end_line=2 + text.count("\n"),
        text=text,
        prompt_text="",
        formulas=find_formulas(text, 2),
        status="answered",
    )


def part(rubric: Rubric, question_id: str, part_id: str) -> Any:
    return next(p for p in rubric.question(question_id).parts if p.id == part_id)


def context(rubric: Rubric, question_id: str, part_id: str, symbols: SymbolTable | None = None) -> CheckContext:
    return CheckContext(
        file="test.md",
        question_id=question_id,
        symbols=symbols or rubric.symbol_table,
        seed=derive_seed(rubric.assignment.id, rubric.settings.seed, question_id, part_id),
        timeout_s=30,
    )


def submission_answer(rubric: Rubric, name: str, question_id: str) -> Answer:
    path = ROOT / "submissions" / name
    return segment_text(path.read_text(encoding="utf-8"), rubric, path=name).answers[question_id]
