"""Markdown (with LaTeX math) into blocks, by markdown-it-py with the math plugins.

A block's text is the student's own lines, so formulas and line numbers stay exact. Indented
code is switched off: files converted from PDF indent prose, and an answer must never vanish
into a code block because of four spaces.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from grader.document.models import Block, BlockKind, Document

_LEAF: dict[str, BlockKind] = {
    "heading_open": "heading",
    "paragraph_open": "paragraph",
    "math_block": "math",
    "math_block_label": "math",
    "amsmath": "math",
    "fence": "code",
    "html_block": "paragraph",
    "table_open": "table",
}


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": 20}).disable("code").enable("table")
    return md.use(dollarmath_plugin, allow_space=True, double_inline=True, allow_labels=False).use(amsmath_plugin)


def markdown_document(text: str, *, path: str = "<text>") -> Document:
    """Markdown already in memory (quick checks, tests) as a document; its hash is of the text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return Document(path=path, format="markdown", text=text, blocks=tuple(markdown_blocks(text)), sha256=digest)


def markdown_blocks(text: str, *, first_line: int = 1, cell: int | None = None) -> list[Block]:
    """The leaf blocks of ``text`` in order; ``first_line`` is the document line of its first line."""
    lines = text.split("\n")
    blocks: list[Block] = []
    items: list[tuple[str | None, bool]] = []  # open list items: (number, first block not yet seen)
    depth_in_table = 0
    for token in parser().parse(text):
        if token.type == "list_item_open":
            items.append((token.info or None if token.markup in (".", ")") else None, True))
            continue
        if token.type == "list_item_close":
            items.pop() if items else None
            continue
        if token.type == "table_close":
            depth_in_table -= 1
            continue
        kind = _LEAF.get(token.type)
        if kind is None or token.map is None or depth_in_table:
            continue
        if token.type == "table_open":
            depth_in_table += 1
        start, end = token.map
        number: str | None = None
        level = 0
        if kind == "heading":
            level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
        elif items and kind == "paragraph" and items[-1][1]:
            kind, number, level = "list_item", items[-1][0], len(items)
        if items:
            items[-1] = (items[-1][0], False)
        blocks.append(_block(kind, lines, start, max(end, start + 1), first_line, level=level, number=number, cell=cell))
    return _cover(blocks, lines, first_line, cell)


def _block(
    kind: BlockKind, lines: list[str], start: int, end: int, first_line: int, *, level: int = 0,
    number: str | None = None, cell: int | None = None, graded: bool = True,
) -> Block:
    return Block(
        kind=kind,
        text="\n".join(lines[start:end]),
        line=start + first_line,
        end_line=end - 1 + first_line,
        level=level,
        number=number,
        cell=cell,
        graded=graded,
    )


def _cover(blocks: list[Block], lines: list[str], first_line: int, cell: int | None) -> list[Block]:
    """Lines no block took (a parser quirk) become paragraphs: no text is ever lost."""
    covered = bytearray(len(lines))
    for block in blocks:
        for k in range(block.line - first_line, min(len(lines), block.end_line - first_line + 1)):
            covered[k] = 1
    extra: list[Block] = []
    k = 0
    while k < len(lines):
        if covered[k] or not lines[k].strip():
            k += 1
            continue
        start = k
        while k < len(lines) and not covered[k] and lines[k].strip():
            k += 1
        extra.append(_block("paragraph", lines, start, k, first_line, cell=cell))
    if not extra:
        return blocks
    return sorted(blocks + extra, key=lambda b: b.line)
