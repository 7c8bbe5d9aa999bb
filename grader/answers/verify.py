"""``grader.verify(text, reference)``: is the final answer in a piece of free text the reference?

The answer is read out of the text the way the pipeline reads a part without a target: the last
``\\boxed{}`` (in or out of math), else the last formula (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``,
equation environments), else the whole text as a formula. An equation whose left side is a name
gives its last link (``x = 5+5+1 = 11`` answers 11), so ``x = 11`` and ``11`` agree; a
relation such as ``x \\geq 5`` stays whole. Three-way like ``is_equivalent``: True, False, or None
when the text holds no readable answer or the engine could not decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grader.answers.extract import equations, latex_key, normalize_value, repair_damage
from grader.document.formulas import find_formulas
from grader.math.api import symbol_table
from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.text import parse_text
from grader.math.tree import ParseError

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_NAME = re.compile(r"^(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[\w\\]+\}?)?(?:\^\{?[\w*\\]+\}?)?(?:\([^()]{0,20}\))?$")
_MAX_TEXT = 100_000
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
_MATH_WORDS = frozenset(
    "sin cos tan cot sec csc log exp sqrt arcsin arccos arctan sinh cosh tanh max min abs det frac inf infty "
    "pi oo mod gcd lcm floor ceil".split()
)


def _boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}``."""
    found = None
    for m in _BOXED.finditer(text):
        depth, k = 1, m.end()
        while k < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        if depth == 0:
            found = text[m.end() : k - 1]
    return found


def final_answer(text: str) -> str | None:
    """The LaTeX of the answer a free-text reply ends on, or None when there is none."""
    text = repair_damage(text[:_MAX_TEXT])
    boxed = _boxed(text)
    if boxed is not None:
        return _last_link(boxed.strip())
    formulas = find_formulas(text)
    if formulas:
        return _last_link(formulas[-1].latex)
    stripped = text.strip().rstrip(".")
    if not stripped or any(word.lower() not in _MATH_WORDS for word in _WORD.findall(stripped)):
        return None  # prose without a formula: no answer to read
    return _last_link(stripped)


def _last_link(latex: str) -> str:
    """``x = 5+5+1 = 11`` -> ``11``: the value a named chain of equalities ends on."""
    found = equations(latex)
    if len(found) != 1:
        return latex
    eq = found[0]
    if len(eq.items) < 2 or not all(eq.equal):
        return latex
    first = latex[eq.items[0][0] : eq.items[0][1]].strip()
    if not _NAME.match(latex_key(first)):
        return latex
    start, end = eq.items[-1]
    return latex[start:end].strip().rstrip(".,;") or latex


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
    parsed_gold = _parse(gold, table)
    parsed_student = _parse(student, table)
    if parsed_gold is None or parsed_student is None:
        return None
    outcome = check_equivalence(parsed_student, parsed_gold, table, rtol=rtol, atol=atol)
    if outcome.verdict == "undecided":
        return None
    return outcome.verdict == "equivalent"


def _parse(latex: str, table: SymbolTable):  # type: ignore[no-untyped-def]
    latex = normalize_value(latex, None, None)
    for parse in (parse_latex, parse_text):
        parsed = parse(latex, table)
        if not isinstance(parsed, ParseError):
            return parsed.tree
    return None
