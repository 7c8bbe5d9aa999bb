from __future__ import annotations

from grader.answers.models import Answer
from grader.checking.base import CheckContext
from grader.document.formulas import find_formulas
from grader.math.symbols import SymbolTable


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


def context(symbols: SymbolTable | None = None, question_id: str = "q") -> CheckContext:
    return CheckContext(file="test.md", question_id=question_id, symbols=symbols or SymbolTable(), seed=7, timeout_s=10)
