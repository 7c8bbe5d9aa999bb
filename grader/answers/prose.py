"""Text-level LaTeX helpers for reading answers before (or without) parsing them.

Used where a full parse is not needed: finding the inequalities of an answer, splitting a
paragraph of prose. Everything here is linear in the input and never raises. The comparison
key for LaTeX text is ``grader.answers.extract.latex_key``.
"""

from __future__ import annotations

import re

from grader.document.formulas import find_formulas

# Longest first so "\leq" is not read as "\le" followed by "q".
_RELATION_TOKENS: tuple[tuple[str, str], ...] = (
    ("\\leqslant", "<="),
    ("\\geqslant", ">="),
    ("\\leq", "<="),
    ("\\geq", ">="),
    ("\\le", "<="),
    ("\\ge", ">="),
    ("\\lt", "<"),
    ("\\gt", ">"),
    ("≤", "<="),
    ("≥", ">="),
    ("<", "<"),
    (">", ">"),
)
_OPENERS = "{(["
_CLOSERS = "})]"


def split_top_level(latex: str, tokens: tuple[tuple[str, str], ...]) -> list[tuple[str, str | None]]:
    """Split at tokens outside braces/brackets; returns (piece, op-after-piece) pairs."""
    pieces: list[tuple[str, str | None]] = []
    depth = 0
    start = 0
    i = 0
    n = len(latex)
    while i < n:
        ch = latex[i]
        if ch == "\\" and latex.startswith(("\\{", "\\}"), i):
            i += 2
            continue
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0:
            for token, op in tokens:
                if latex.startswith(token, i) and not _continues_command(latex, i, token):
                    pieces.append((latex[start:i], op))
                    i += len(token)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    pieces.append((latex[start:], None))
    return pieces


def _continues_command(latex: str, i: int, token: str) -> bool:
    """``\\left`` must not be read as ``\\le`` + ``ft``."""
    end = i + len(token)
    return token.startswith("\\") and end < len(latex) and latex[end].isalpha()


def relations_in(text: str) -> list[tuple[str, str, str]]:
    """Every inequality ``(left, op, right)`` between adjacent items of the text's formulas, in order."""
    found: list[tuple[str, str, str]] = []
    for formula in find_formulas(text):
        pieces = split_top_level(formula.latex, _RELATION_TOKENS)
        for (left, op), (right, _) in zip(pieces, pieces[1:], strict=False):
            if op is not None:
                found.append((left.strip(), op, right.strip()))
    return found


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs and list items, so a scope can select one scenario of a multi-part answer."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        starts_item = bool(re.match(r"^([-*+]|\d+[.)]|\([a-z0-9]\))\s", stripped))
        if not stripped or starts_item:
            if current:
                paragraphs.append("\n".join(current))
            current = [line] if stripped else []
        else:
            current.append(line)
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


# A semicolon ends a clause whatever follows it ("scenario 1 → reverse; scenario 2 → forward").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\-*])|(?<=;)\s+|\n\s*\n")


def split_sentences(text: str) -> list[str]:
    """Sentences, approximately: enough to tell "in scenario 1 ... . In scenario 2 ..." apart."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


_SHORT_INLINE_MATH = re.compile(r"(?<![$\\])\$([^$\n]{1,60})\$(?!\$)")


def prose_text(text: str) -> str:
    """Text for phrase patterns: short inline math unwrapped (``as $p$ grows`` reads ``as p grows``),
    Markdown emphasis dropped and white space folded."""
    unwrapped = _SHORT_INLINE_MATH.sub(lambda m: m.group(1).strip(), text)
    return " ".join(unwrapped.replace("**", " ").replace("__", " ").split())
