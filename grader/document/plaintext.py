"""Plain text into blocks: paragraphs between blank lines, list items by their markers.

Nothing is code and nothing is emphasis: a ``.txt`` file is read as the student typed it.
"""

from __future__ import annotations

import re

from grader.document.models import Block

_ITEM = re.compile(r"\s{0,6}(?:[-*+\u2022]|(?P<num>\d{1,3})[.)]|\((?P<let>[a-z])\))\s")


def text_blocks(text: str) -> list[Block]:
    """One block per paragraph; a line opening with a list marker starts a list item."""
    lines = text.split("\n")
    blocks: list[Block] = []
    start: int | None = None
    number: str | None = None

    def close(end: int) -> None:
        if start is None:
            return
        kind = "list_item" if number is not None else "paragraph"
        blocks.append(
            Block(kind=kind, text="\n".join(lines[start:end]), line=start + 1, end_line=end, number=number or None,
                  level=1 if number is not None else 0)
        )

    for k, line in enumerate(lines[:]):
        if not line.strip():
            close(k)
            start, number = None, None
            continue
        item = _ITEM.match(line[:12])
        if item is not None:
            close(k)
            start, number = k, item.group("num") or item.group("let") or ""
        elif start is None:
            start, number = k, None
    close(len(lines))
    return blocks
