"""What alignment needs to know about a rubric's questions: ids, labels, words and targets.

Built from the rubric (any rubric: nothing here knows one assignment's names), so the answers
stage can find an unlabelled answer by what it states (``J^* = ...``), by the words of its
prompt, or by the phrases the rubric's choice and manual parts look for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grader.rubric.models import Question, Rubric

_WORD = re.compile(r"[a-zA-Z]{4,}")
_STOPWORDS = frozenset(
    """that this with from your have what which when where their there these those then than them they
    into onto over under about above below each both does show prove derive find compute calculate
    compare express explain give state describe determine discuss identify verify justify write
    question answer part using used uses between also only some such very much more most less
    following given consider assume suppose respect terms point view specifically would could should
    sentences sentence results result equations equation expression expressions""".split()
)


def content_words(text: str) -> frozenset[str]:
    """Distinctive words (four letters or more, no stop words), lower case."""
    return frozenset(w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS)


@dataclass(frozen=True)
class QuestionInfo:
    id: str
    aliases: tuple[str, ...] = ()
    title: str = ""
    prompt: str = ""
    targets: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()  # regexes the rubric's choice/manual parts look for

    @property
    def words(self) -> frozenset[str]:
        return content_words(f"{self.title} {self.prompt}")


def question_info(question: Question) -> QuestionInfo:
    targets: list[str] = []
    phrases: list[str] = []
    for part in question.parts:
        if part.target:
            targets.append(part.target)
        for option in getattr(part, "options", None) or []:
            phrases += option.patterns
        for element in getattr(part, "expected", None) or []:
            phrases += element.patterns
    return QuestionInfo(
        id=question.id,
        aliases=tuple(question.aliases),
        title=question.title,
        prompt=question.prompt,
        targets=tuple(dict.fromkeys(targets)),
        phrases=tuple(dict.fromkeys(phrases)),
    )


def rubric_questions(rubric: Rubric) -> tuple[QuestionInfo, ...]:
    return tuple(question_info(q) for q in rubric.questions)


def bare_questions(ids: Sequence[str], aliases: dict[str, Sequence[str]] | None = None) -> tuple[QuestionInfo, ...]:
    """Questions known only by id (and labels), for callers without a rubric."""
    aliases = aliases or {}
    return tuple(QuestionInfo(id=str(q), aliases=tuple(str(a) for a in aliases.get(q, ()))) for q in dict.fromkeys(ids))
