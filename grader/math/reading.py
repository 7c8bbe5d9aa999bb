"""What both formula readers (LaTeX and calculator syntax) share: failures, depth limits, lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from grader.math.tree import (
    Node,
    Relation,
    Seq,
    children,
)


class ReadFailure(Exception):
    """A reading failure with a student-facing message; ``pos`` is in the pre-pass or Lark text."""

    def __init__(self, message: str, pos: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint
        self.resolved = False  # True once ``pos`` is an offset in the student's input


def check_tree(
    node: Node, max_depth: int, reject: Callable[[object], ReadFailure | None] | None = None
) -> None:
    """Iterative: a tree deeper than ``max_depth`` would overflow later recursive consumers.

    ``reject`` turns a reader's private marker left in the tree into its failure.
    """
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth:
            raise ReadFailure(
                f"formula nested too deeply (more than {max_depth} levels)",
                None,
                "simplify the formula or split it",
            )
        failure = reject(current) if reject is not None else None
        if failure is not None:
            raise failure
        stack.extend((child, depth + 1) for child in children(current))


_BRACKET_CHARS = re.compile(r"[{(\[]|[})\]]")


def raw_depth(source: str, max_length: int, max_depth: int) -> int | None:
    """Where bracket nesting first exceeds ``max_depth`` in the first ``max_length`` characters.

    A cheap scan before anything else, so a 10,000-deep ``((((...))))`` is reported as nested
    too deeply (not merely too long) and never reaches a parser.
    """
    depth = 0
    for match in _BRACKET_CHARS.finditer(source, 0, max_length):
        if match.group() in "{([":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif depth:
            depth -= 1
    return None


def commas(items: list[Node]) -> Node:
    """``\\lambda = -\\frac12, \\pm\\frac{i}2`` is one relation whose right side is a list."""
    if len(items) == 1:
        return items[0]
    relations = [k for k, node in enumerate(items) if isinstance(node, Relation)]
    if len(relations) != 1:
        return Seq(tuple(items), "list")
    k = relations[0]
    relation = cast(Relation, items[k])
    before, after = items[:k], items[k + 1 :]
    first = Seq((*before, relation.items[0]), "list") if before else relation.items[0]
    last = Seq((relation.items[-1], *after), "list") if after else relation.items[-1]
    middle = relation.items[1:-1]
    return Relation((first, *middle, last), relation.ops)


def arity_text(func: str) -> str:
    if func in ("max", "min"):
        return "two or more arguments"
    if func == "log":
        return "one argument (and an optional base)"
    from grader.math.functions import KNOWN_FUNCTIONS

    count = KNOWN_FUNCTIONS.get(func, 1)
    return "one argument" if count == 1 else f"{count} arguments"


_DECIMAL_COMMA = re.compile(r"(?<![\w.,])(-?0),(\d{2,})(?![\d,.])")


def decimal_comma(text: str) -> tuple[str, str | None]:
    """``0,1587`` is the decimal 0.1587 when that comma is the formula's only one and outside brackets.

    A list ``0, 1`` keeps its space, a set ``\\{0,25\\}`` its braces, and ``1,5`` stays the list
    (1, 5): only a zero before the comma and two or more digits after it are unambiguous.
    Returns the text (same length, so offsets hold) and the warning to report, if any.
    """
    if text.count(",") != 1:
        return text, None
    match = _DECIMAL_COMMA.search(text)
    if match is None:
        return text, None
    before = text[: match.start()]
    if sum(before.count(c) for c in "([{") != sum(before.count(c) for c in ")]}"):
        return text, None
    shown = f"{match.group(1)}.{match.group(2)}"
    return text[: match.start()] + shown + text[match.end() :], f"read {match.group()} as the decimal {shown} (a decimal comma)"
