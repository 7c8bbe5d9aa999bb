"""Place answers that have no label by what they say and where they stand.

Evidence per block and question: an equation for one of the question's part targets (``J^* =``,
strongest), a phrase the rubric's choice or manual parts look for, the distinctive words of the
question's title and prompt. Blocks are then given to questions in question order by a
monotone alignment (dynamic programming, linear in blocks times questions): a question's answer
starts at a block with evidence for it and runs until the next question's evidence. How each
answer was placed and how sure that is goes into its ``Mapping``; a placement with weak evidence
is ``low`` and routed to a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from grader.answers.extract import find_target, latex_key, plain_formulas
from grader.answers.models import Answer, Mapping
from grader.answers.prose import prose_text
from grader.answers.questions import QuestionInfo, content_words
from grader.document.formulas import find_formulas
from grader.document.models import Block, Document

_TARGET = 3.0
_PHRASE = 1.5
_WORDS_EACH = 0.5
_WORDS_MAX = 2.0
_MEDIUM = 1.5  # evidence from which a placement is trusted without a person
_NEW_ANSWER = 0.1  # between equal readings, a block with evidence starts the next answer rather than continuing one
_QUESTIONISH = re.compile(r"\?|^\W*(show|prove|derive|find|compute|compare|express|explain|what|how|why|which)\b", re.I)
_BLOCK_LIMIT = 20_000  # characters of one block read for evidence


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def _evidence(block: Block, question: QuestionInfo) -> tuple[float, str]:
    """How strongly ``block`` looks like (part of) the answer to ``question``, and why."""
    text = block.text[:_BLOCK_LIMIT]
    formulas = find_formulas(text, block.line) + plain_formulas(text, block.line)
    for target in question.targets:
        key = latex_key(target)
        if len(key) >= 1 and find_target(formulas, key) is not None:
            return _TARGET, f"by the equation {target} = … on line {block.line}"
    score, why = 0.0, ""
    prose = prose_text(text)
    for pattern in question.phrases:
        compiled = _compiled(pattern)
        if compiled is not None and compiled.search(prose):
            score, why = _PHRASE, f"by wording the question's parts look for, on line {block.line}"
            break
    mine = content_words(prose)
    if not score:
        for statement in question.statements:
            wanted = content_words(statement)
            if len(wanted) >= 2 and len(wanted & mine) * 3 >= 2 * len(wanted):
                score, why = _PHRASE, f"by wording one of the question's answers would use, on line {block.line}"
                break
    shared = mine & question.words
    if len(shared) >= 2:
        bonus = min(_WORDS_MAX, _WORDS_EACH * len(shared))
        if bonus > score:
            why = f"by the words of its prompt ({', '.join(sorted(shared)[:4])}) on line {block.line}"
        score = max(score, bonus) + (0.25 if score else 0.0)
    return score, why


def _in_spans(block: Block, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= block.line - 1 < b for a, b in spans)


def place_by_content(
    document: Document, questions: Sequence[QuestionInfo], free: Sequence[tuple[int, int]], *, located: bool
) -> tuple[dict[str, Answer], list[tuple[int, int]]]:
    """Answers for ``questions`` found in the ``free`` line spans (0-based, end exclusive), and the
    1-based line spans of answer-like text that none took."""
    blocks = [b for b in document.blocks if b.graded and _in_spans(b, free)]
    if not blocks or not questions:
        return {}, []
    scores = [[_evidence(block, q) for q in questions] for block in blocks]
    assignment = _monotone(scores)
    lines = document.text.split("\n")
    placed: dict[str, Answer] = {}
    for j, question in enumerate(questions):
        mine = [i for i, a in enumerate(assignment) if a == j]
        if not mine:
            continue
        best = max(scores[i][j][0] for i in mine)
        reason = next(scores[i][j][1] for i in mine if scores[i][j][0] == best)
        first, last = blocks[mine[0]], blocks[mine[-1]]
        text = "\n".join(lines[first.line - 1 : last.end_line])
        confidence = "high" if best >= _TARGET and located else "medium" if best >= _MEDIUM else "low"
        how = "target" if best >= _TARGET else "prompt"
        placed[question.id] = Answer(
            question_id=question.id,
            heading_line=None,
            start_line=first.line,
            end_line=last.end_line,
            text=text,
            formulas=find_formulas(text, first.line),
            status="answered",
            mapping=Mapping(
                question_id=question.id,
                how=how,
                confidence=confidence,
                description=f"{reason} (no label; placed in question order)",
            ),
        )
    leftover = [
        (b.line, b.end_line)
        for i, b in enumerate(blocks)
        if assignment[i] is None and _answer_like(b, questions, located=located)
    ]
    return placed, leftover


def _monotone(scores: list[list[tuple[float, str]]]) -> list[int | None]:
    """Each block's question (or None before the first), in question order, maximizing evidence.

    A question's run may start only at a block with evidence for it; blocks without evidence
    continue the current question.
    """
    m, n = len(scores), len(scores[0])
    neg = float("-inf")
    # best[j]: best total with the current block in question j's run; None state = -1 column.
    best_none = 0.0
    best = [neg] * n
    back: list[list[int]] = []  # per block, per j: previous state (-1 none, j' question)
    for i in range(m):
        prefix_state, prefix_value = -1, best_none
        new = [neg] * n
        choice = [-1] * n
        for j in range(n):
            score = scores[i][j][0]
            stay = best[j] + score if best[j] != neg else neg
            start = prefix_value + score + _NEW_ANSWER if score > 0 else neg
            if stay >= start:
                new[j], choice[j] = stay, j
            else:
                new[j], choice[j] = start, prefix_state
            if best[j] != neg and best[j] > prefix_value:
                prefix_state, prefix_value = j, best[j]
        back.append(choice)
        best = new
    # The end state: the best of staying unassigned or any question's run.
    state, value = -1, best_none
    for j in range(n):
        if best[j] > value:
            state, value = j, best[j]
    assignment: list[int | None] = [None] * m
    for i in range(m - 1, -1, -1):
        if state == -1:
            break
        assignment[i] = state
        state = back[i][state]
    return assignment


def _answer_like(block: Block, questions: Sequence[QuestionInfo], *, located: bool) -> bool:
    """Text a grader must not silently drop: math with a relation, or a few sentences that are not
    a question's own statement."""
    if block.kind == "heading":
        return False
    formulas = find_formulas(block.text[:_BLOCK_LIMIT], block.line) + plain_formulas(block.text[:_BLOCK_LIMIT], block.line)
    if any("=" in f.latex or f.display for f in formulas):
        return not located or not _QUESTIONISH.search(block.text[:200])
    words = prose_text(block.text[:_BLOCK_LIMIT]).split()
    if len(words) < 12 or _QUESTIONISH.search(block.text[:200]):
        return False
    mine = content_words(block.text[:_BLOCK_LIMIT])
    return not any(len(mine & q.words) >= 3 for q in questions) and not located
