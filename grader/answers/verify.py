"""``grader.verify(text, reference)``: is the final answer in a piece of free text the reference?

The answer is read out of the text the way the pipeline reads a part without a target: the
``\\boxed{}`` answers (several boxes make a set), else the last formula (``$…$``, ``$$…$$``,
``\\(…\\)``, ``\\[…\\]``, equation environments) or a number written after it in prose ("the
largest n is 34."), else the whole text when it is a formula. A chain whose left side is a name
gives its last exact link (``x = 5+5+1 = 11`` answers 11; ``x = 1/3 \\approx 0.33`` answers 1/3),
so ``x = 11`` and ``11`` agree, while two equations are compared as equations. Units and percent
signs after a number, thousands separators and decimal commas are read as people mean them.
Three-way like ``is_equivalent``: True, False, or None when the text holds no readable answer or
the engine could not decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.answers.extract import equations, latex_key, normalize_value, repair_damage, top_level_items
from grader.document.formulas import find_formulas, math_spans
from grader.math.api import symbol_table
from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.text import parse_text
from grader.math.tree import Node, ParseError

_MAX_TEXT = 100_000
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_NAME = re.compile(r"^(?:[A-Za-z]{1,3}|\\[A-Za-z]+)(?:_\{?[\w\\]+\}?)?(?:\^\{?[\w*\\]+\}?)?(?:\([^()]{0,20}\))?$")
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
_MATH_WORDS = frozenset(
    "sin cos tan cot sec csc log exp sqrt arcsin arccos arctan sinh cosh tanh max min abs det frac inf infty "
    "pi oo mod gcd lcm floor ceil".split()
)
_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|(?<![\w.])-?\d+(?:[.,]\d+)?(?!\d)")
_SEPARATORS = re.compile(r"(?<=\))\s*(?:and|or)\s*(?=\()|\\quad|\\qquad|\\text\{\s*(?:and|or|,)\s*\}|\\(?:text|mathrm)\{\s*for[^{}]*\}|\s(?:and|or)\s|\\,\s*\\text\{and\}")
_UNIT_TAIL = re.compile(
    r"(?:\\(?:text|textbf|textnormal|mathrm|mbox)\s*\{\s*[A-Za-z][A-Za-z .²³]*\}|\s+(?:percent(?:age)?|pct)\b|\\?%|°|\^\\circ|\s*[€$£]|\s*m²)\s*$"
)
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[A-Za-z*]*\}")
_TEXT_ONLY = re.compile(r"^(?:\\(?:text|textbf|mathrm|textnormal)\s*)?\{?\s*\(?\s*([A-Za-z][A-Za-z ]*?)\s*\)?\s*\}?$")
_BETWEEN_BOXES = re.compile(r"(?:[\s,;$()]|\\[(),; ]|\\q?quad|\band\b|\bor\b|\\text\{\s*(?:and|or|,)\s*\})*")


@dataclass(frozen=True)
class _Final:
    latex: str
    several: bool = False  # several answers (boxes, "a and b"): compared as a set


def _boxes(text: str) -> list[tuple[int, str]]:
    found = []
    for m in _BOXED.finditer(text):
        depth, k = 1, m.end()
        while k < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        if depth == 0:
            found.append((m.start(), text[m.end() : k - 1]))
    return found


def final_answer(text: str) -> _Final | None:
    """The LaTeX of the answer a free-text reply ends on, or None when there is none."""
    text = repair_damage(text[:_MAX_TEXT]).replace("\\\\boxed", "\\boxed").replace("\\\\le", "\\le")
    boxes = _boxes(text)
    if boxes:
        # boxes joined only by "and", commas or spacing are one answer: \boxed{1} and \boxed{2}
        together = [boxes[-1][1].strip()]
        for (start, content), (after, _) in zip(reversed(boxes[:-1]), reversed(boxes[1:]), strict=False):
            gap = text[start + len(content) + 8 : after]
            if _BETWEEN_BOXES.fullmatch(gap) is None:
                break
            together.insert(0, content.strip())
        if len(together) > 1:
            return _Final(", ".join(together), several=True)
        return _several(together[0])
    formulas = find_formulas(text)
    spans = math_spans(text)
    tail_start = spans[-1].end if spans else 0
    number = None
    for m in _NUMBER.finditer(text, tail_start) if spans else ():
        number = m.group(0)
    if number is not None:  # "the largest $n$ is 34.": a number after the last formula is the answer
        return _Final(number)
    if formulas:
        last = formulas[-1].latex
        pieces = [f.latex for f in formulas if f.line >= formulas[-1].line]
        joined = text[text.rfind("\n", 0, spans[-1].start) + 1 : spans[-1].end] if spans else ""
        if len(pieces) > 1 and re.search(r"\$\s*(?:,|and|or)\s*\$", joined):
            return _Final(", ".join(pieces), several=True)  # "$21,16$ or $11$"
        return _several(last)
    stripped = text.strip().rstrip(".")
    bare = _ENVIRONMENT.sub(" ", _UNIT_TAIL.sub("", stripped) if re.search(r"\d", stripped) else stripped)
    if stripped and not any(word.lower() not in _MATH_WORDS for word in _WORD.findall(bare)):
        return _several(stripped)
    numbers = _NUMBER.findall(text)
    return _Final(numbers[-1]) if numbers else None  # prose: its last number, or no answer


def _several(latex: str) -> _Final:
    """``(5, 8) \\text{ and } (8, 5)``, ``p = -1 \\text{ and } p = 2``: several answers in one box."""
    parts = [p.strip(" ,") for p in _SEPARATORS.split(latex) if p and p.strip(" ,")]
    if len(parts) > 1:
        return _Final(", ".join(parts), several=True)
    return _Final(latex)


def _links(latex: str) -> tuple[list[str], list[str]]:
    """The items of a single chain ``a = b \\approx c`` and the relations between them."""
    found = equations(latex)
    if len(found) != 1 or len(found[0].items) < 2 or not all(found[0].equal):
        return [latex], []
    eq = found[0]
    items = [latex[a:b].strip() for a, b in eq.items]
    relations = [latex[eq.items[k][1] : eq.items[k + 1][0]].strip() for k in range(len(eq.items) - 1)]
    return items, relations


def _value(latex: str, *, keep_equation: bool) -> str:
    """The answer's value: the last exact link of a named chain (``x = 1/3 \\approx 0.33`` -> 1/3)."""
    items, relations = _links(latex)
    if len(items) < 2 or (keep_equation and len(items) == 2):
        return latex
    named = _NAME.match(latex_key(items[0])) is not None
    if not named and len(items) < 3:
        return latex
    exact = [k + 1 for k, rel in enumerate(relations) if rel in ("=", ":=")]
    pick = exact[-1] if exact else len(items) - 1
    return items[pick].rstrip(".,;") or latex


def _clean(latex: str) -> str:
    """Units, percent signs, thousands separators and decimal commas, as people mean them."""
    latex = latex.strip().rstrip(".")
    for _ in range(3):
        shorter = _UNIT_TAIL.sub("", latex).strip()
        if shorter == latex or not re.search(r"\d", shorter):
            break
        latex = shorter
    latex = latex.replace("!=", "\\neq ").replace(",\\!", "").replace("{,}", "").replace(",\\ ", ",")
    bare = latex.strip()
    if re.fullmatch(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?", bare):
        return bare.replace(" ", "")  # 1 000
    if re.fullmatch(r"-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?", bare):
        return bare.replace(",", "")  # 7,425,000
    if latex.startswith("\\in ") or latex.startswith("\\in{"):
        latex = latex[3:]
    return latex


def _as_set(latex: str) -> str:
    stripped = latex.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        stripped = stripped[1:-1].strip()  # ${1,2,3}$: TeX grouping braces
    if stripped.startswith("\\{") and stripped.endswith("\\}"):
        return stripped
    return "\\{" + stripped + "\\}"


def verify(
    text: str,
    reference: str,
    *,
    symbols: Mapping[str, Any] | SymbolTable | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> bool | None:
    """Whether the final answer in ``text`` equals ``reference`` (LaTeX or calculator syntax):
    True, False, or None (no answer found, unreadable, or undecided)."""
    table = symbol_table(symbols)
    gold = final_answer(reference)
    if gold is None:
        raise ValueError(f"the reference {reference!r} holds no answer")
    student = final_answer(text)
    if student is None:
        return None
    both_equations = len(_links(gold.latex)[0]) == 2 and len(_links(student.latex)[0]) == 2
    values = []
    for final in (student, gold):
        items = [_clean(_value(item, keep_equation=both_equations)) for item in _split_top(final.latex)]
        values.append(items)
    for mine, other in ((0, 1), (1, 0)):  # a decimal comma (1,22) only where the other side is a decimal
        if len(values[mine]) == 1 and re.fullmatch(r"-?\d+,\d+", values[mine][0].strip()) and re.fullmatch(
            r"-?\d*\.\d+", ", ".join(values[other]).strip()
        ):
            values[mine] = [values[mine][0].strip().replace(",", ".")]
    words = [_text_answer(v) for v in values]
    if words[0] is not None and words[1] is not None:
        return words[0] == words[1]
    several = student.several or gold.several
    latex = [_as_set(", ".join(v)) if several else ", ".join(v) for v in values]
    trees = [_parse(item, table) for item in latex]
    if trees[0] is None or trees[1] is None:
        return None
    outcome = check_equivalence(trees[0], trees[1], table, rtol=rtol, atol=atol)
    if outcome.verdict == "undecided":
        return None
    return outcome.verdict == "equivalent"


def _split_top(latex: str) -> list[str]:
    """Top-level comma items when each is a named equation (``k = 45, n = 2``), else the whole."""
    items = top_level_items(latex)
    if len(items) > 1 and all("=" in item for item in items):
        return items
    return [latex]


def _text_answer(values: list[str]) -> str | None:
    """A one-word answer (``\\text{odd}``, ``(C)``), lower-cased, else None."""
    if len(values) != 1:
        return None
    m = _TEXT_ONLY.match(values[0].strip().strip("$"))
    if m is None:
        return None
    word = " ".join(m.group(1).split())
    return word if len(word) == 1 else word.lower()


def _parse(latex: str, table: SymbolTable) -> Node | None:
    latex = normalize_value(latex, None, None)
    for parse in (parse_latex, parse_text):
        parsed = parse(latex, table)
        if not isinstance(parsed, ParseError):
            return parsed.tree
    return None
