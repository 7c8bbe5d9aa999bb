"""What alignment needs to know about a rubric's questions: ids, labels, words and targets.

Built from the rubric (any rubric: nothing here knows one assignment's names), so the answers
stage can find an unlabelled answer by what it states (``J^* = ...``), by the words of its
prompt, or by the phrases the rubric's choice and manual parts look for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grader.answers.models import ReadingHints
from grader.math.symbols import FunctionSymbol, MatrixSymbol
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
    statements: tuple[str, ...] = ()  # example statements of the choice options, read by their words

    @property
    def words(self) -> frozenset[str]:
        return content_words(f"{self.title} {self.prompt}")


def question_info(question: Question) -> QuestionInfo:
    targets: list[str] = []
    phrases: list[str] = []
    statements: list[str] = []
    for part in question.parts:
        if part.target:
            targets.append(part.target)
        for option in getattr(part, "options", None) or []:
            phrases += option.patterns
            statements += getattr(option, "statements", None) or []
        for element in getattr(part, "expected", None) or []:
            phrases += element.patterns
    return QuestionInfo(
        id=question.id,
        aliases=tuple(question.aliases),
        title=question.title,
        prompt=question.prompt,
        targets=tuple(dict.fromkeys(targets)),
        phrases=tuple(dict.fromkeys(phrases)),
        statements=tuple(dict.fromkeys(statements)),
    )


def rubric_questions(rubric: Rubric) -> tuple[QuestionInfo, ...]:
    return tuple(question_info(q) for q in rubric.questions)


def bare_questions(ids: Sequence[str], aliases: dict[str, Sequence[str]] | None = None) -> tuple[QuestionInfo, ...]:
    """Questions known only by id (and labels), for callers without a rubric."""
    aliases = aliases or {}
    return tuple(QuestionInfo(id=str(q), aliases=tuple(str(a) for a in aliases.get(q, ()))) for q in dict.fromkeys(ids))


_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
_LOGISTIC = re.compile(r"^1/\(1\+(exp\(-[a-z]\)|e\^\(?-[a-z]\)?)\)$")


def latex_name(name: str) -> str:
    """``psi_0`` -> ``\\psi_0``, ``theta`` -> ``\\theta``, ``X`` -> ``X``: a declared name as students write it."""
    head, sep, tail = name.partition("_")
    return ("\\" + head if head in _GREEK else head) + sep + tail


def _rows(latex: str) -> int:
    """Entries of a column vector written as a matrix environment (0 when it is not one)."""
    if "\\begin{" not in latex or "matrix}" not in latex or "&" in latex:
        return 0
    return latex.count("\\\\") + 1


def _values(latex: str) -> int:
    """How many values a reference lists: top-level commas, and a ``\\pm`` counts twice."""
    depth = count = 0
    for ch in latex:
        depth += ch in "({[" and 1 or 0
        depth -= ch in ")}]" and 1 or 0
        count += ch == "," and depth == 0
    return count + 1 + latex.count("\\pm") + latex.count("±")


def reading_hints(rubric: Rubric, question: Question) -> ReadingHints:
    """The targets' shapes for assembling answers, from the parts and the symbol table."""
    variables = [tuple(latex_name(v) for v in system.variables) for system in rubric.systems.values()]
    vectors: dict[str, int] = {}
    components: dict[str, tuple[str, ...]] = {}
    counts: dict[str, int] = {}
    for part in question.parts:
        target = part.target
        if not target:
            continue
        reference = getattr(part, "reference", None)
        if isinstance(reference, str):
            rows = _rows(reference)
            if rows:
                vectors[target] = rows
                order = next((v for v in variables if len(v) == rows), None)
                if order:
                    components[target] = order
            elif _values(reference) > 1:
                counts[target] = _values(reference)
        symbol = rubric.symbols.get(target.strip("\\{}"))
        if isinstance(symbol, MatrixSymbol) and symbol.shape[1] == 1:
            size = symbol.shape[0] if isinstance(symbol.shape[0], int) else rubric.dimensions.get(str(symbol.shape[0]), 0)
            if size:
                vectors.setdefault(target, size)
    logistic = tuple(
        latex_name(name)
        for name, symbol in rubric.symbols.items()
        if isinstance(symbol, FunctionSymbol) and symbol.definition and _LOGISTIC.match("".join(symbol.definition.split()))
    )
    matrices = tuple(latex_name(name) for name, symbol in rubric.symbols.items() if isinstance(symbol, MatrixSymbol) and "^" not in name)
    return ReadingHints(vectors=vectors, components=components, counts=counts, logistic=logistic, matrices=matrices)
