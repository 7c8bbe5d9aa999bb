"""A LaTeX document into blocks, by pylatexenc's tolerant parser.

Sections become headings, ``enumerate``/``itemize`` items become list items with the number
LaTeX would print (``1.``, then ``(a)`` one level down, or the ``\\item[...]`` label), math
environments become math blocks, and the rest paragraphs. Text macros turn into Markdown
(``\\textbf`` into ``**``); math is kept as written. Every node is rendered with as many line
breaks as it has in the source, so line numbers point into the student's ``.tex`` file.
Nothing is ever expanded or included (``\\input`` stays text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexNode,
    LatexSpecialsNode,
    LatexWalker,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import LatexContextDb, MacroSpec

from grader.document.formulas import MATH_ENVIRONMENTS
from grader.document.models import Block, BlockKind

_HEADINGS = {"part": 1, "chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3}
_BOLD = frozenset({"textbf", "paragraph", "subparagraph", "bfseries"})
_ITALIC = frozenset({"emph", "textit", "textsl"})
_PLAIN = frozenset({"text", "textrm", "textsf", "texttt", "textnormal", "mbox", "underline", "textsc", "uline"})
_DROPPED = frozenset(
    {
        "label", "vspace", "hspace", "noindent", "medskip", "bigskip", "smallskip", "newpage", "clearpage",
        "maketitle", "centering", "hfill", "vfill", "par", "newline", "linebreak", "\\", "tableofcontents",
        "pagebreak", "indent", "usepackage", "documentclass", "title", "author", "date", "setlength",
    }
)
_LISTS = frozenset({"enumerate", "itemize", "description"})
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")


@dataclass(frozen=True)
class _Break:
    line: int  # 1-based
    kind: BlockKind
    level: int = 0
    number: str | None = None


class _Renderer:
    def __init__(self, text: str, walker: LatexWalker) -> None:
        self.text = text
        self.walker = walker
        self.out: list[str] = []
        self.lines_out = 0
        self.breaks: list[_Break] = []

    def emit(self, rendered: str, raw: str) -> None:
        """Append ``rendered`` with exactly as many line breaks as ``raw`` has."""
        want = raw.count("\n")
        have = rendered.count("\n")
        if have > want:
            rendered = rendered.replace("\n", " ", have - want)
        rendered += "\n" * (want - rendered.count("\n"))
        self.out.append(rendered)
        self.lines_out += want

    def gap(self, start: int, end: int) -> None:
        """Source between two nodes that is not content (``\\begin{...}``): its line breaks only."""
        if end > start:
            self.emit("", self.text[start:end])

    def mark(self, kind: BlockKind, *, level: int = 0, number: str | None = None) -> None:
        """A block starts here, if nothing but white space precedes it on its line."""
        tail = self.out[-1].rsplit("\n", 1)[-1] if self.out else ""
        k = len(self.out) - 1
        while not tail.strip() and "\n" not in (self.out[k] if k >= 0 else "\n") and k > 0:
            k -= 1
            tail = self.out[k].rsplit("\n", 1)[-1] + tail
        if not tail.strip():
            self.breaks.append(_Break(self.lines_out + 1, kind, level, number))

    def end_block(self) -> None:
        """The block ends with this line: what follows starts a new one."""
        self.breaks.append(_Break(self.lines_out + 2, "paragraph"))

    def raw(self, node: LatexNode) -> str:
        return self.text[node.pos : node.pos + node.len]

    def inline(self, nodes: list[LatexNode] | None) -> str:
        """Nodes rendered on their own (a heading's title, a macro's argument)."""
        sub = _Renderer(self.text, self.walker)
        sub.nodes(nodes or [], depth=0)
        return "".join(sub.out)

    def nodes(self, nodes: list[LatexNode], depth: int) -> None:
        for node in nodes:
            if node is not None:
                self.node(node, depth)

    def node(self, node: LatexNode, depth: int) -> None:
        raw = self.raw(node)
        if isinstance(node, LatexCharsNode):
            self.emit(node.chars, raw)
        elif isinstance(node, LatexCommentNode):
            self.emit("", raw)
        elif isinstance(node, LatexSpecialsNode):
            self.emit({"~": " ", "``": '"', "''": '"', "---": "—", "--": "–"}.get(node.specials_chars, raw), raw)
        elif isinstance(node, LatexMathNode):
            if node.displaytype == "display":
                self.mark("math")
                self.emit(raw, raw)
                self.end_block()
            else:
                self.emit(raw, raw)
        elif isinstance(node, LatexGroupNode):
            self._children(node, node.nodelist, depth)
        elif isinstance(node, LatexEnvironmentNode):
            self.environment(node, depth)
        elif isinstance(node, LatexMacroNode):
            self.macro(node, raw, depth)
        else:
            self.emit(raw, raw)

    def _children(self, node: LatexNode, children: list[LatexNode] | None, depth: int) -> None:
        children = [c for c in children or [] if c is not None]
        if not children:
            self.emit("", self.raw(node))
            return
        self.gap(node.pos, children[0].pos)
        self.nodes(children, depth)
        last = children[-1]
        self.gap(last.pos + last.len, node.pos + node.len)

    def environment(self, node: LatexEnvironmentNode, depth: int) -> None:
        name = node.environmentname
        if name in MATH_ENVIRONMENTS or name.rstrip("*") in ("math", "displaymath"):
            self.mark("math")
            raw = self.raw(node)
            self.emit(raw, raw)
            self.end_block()
        elif name in _LISTS:
            self.items(node, depth + 1, numbered=name == "enumerate")
        else:
            self.mark("paragraph")
            self._children(node, node.nodelist, depth)
            self.mark("paragraph")

    def items(self, node: LatexEnvironmentNode, depth: int, *, numbered: bool) -> None:
        children = [c for c in node.nodelist or [] if c is not None]
        if not children:
            self.emit("", self.raw(node))
            return
        self.gap(node.pos, children[0].pos)
        count = 0
        for child in children:
            if isinstance(child, LatexMacroNode) and child.macroname == "item":
                count += 1
                label = _item_label(self, child)
                number = label or (_counter(count, depth) if numbered else None)
                shown = label or (_shown_counter(count, depth) if numbered else "-")
                self.mark("list_item", level=depth, number=number)
                raw = self.raw(child)
                self.emit(shown + (" " if raw[-1:].isspace() else ""), raw)
            else:
                self.node(child, depth)
        last = children[-1]
        self.gap(last.pos + last.len, node.pos + node.len)
        self.end_block()

    def macro(self, node: LatexMacroNode, raw: str, depth: int) -> None:
        name = node.macroname
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd is not None else []) if a is not None]
        groups = [a for a in args if isinstance(a, LatexGroupNode) and self.raw(a).startswith("{")]
        if name in _HEADINGS and groups:
            level = _HEADINGS[name]
            self.mark("heading", level=level)
            self.emit("#" * (level + 1) + " " + " ".join(self.inline(groups[-1].nodelist).split()), raw)
            self.end_block()
        elif name in _DROPPED:
            self.emit("", raw)
        elif name in _BOLD | _ITALIC | _PLAIN and groups:
            inner = self.inline(groups[-1].nodelist).strip()
            mark = "**" if name in _BOLD else "*" if name in _ITALIC else ""
            self.emit(f"{mark}{inner}{mark}" if inner else "", raw)
        else:
            self.emit(raw, raw)


def _item_label(renderer: _Renderer, item: LatexMacroNode) -> str | None:
    """The ``[...]`` of ``\\item[(b)]``, as text."""
    for arg in item.nodeargd.argnlist if item.nodeargd is not None else []:
        if isinstance(arg, LatexGroupNode) and renderer.raw(arg).startswith("["):
            return " ".join(renderer.inline(arg.nodelist).split()) or None
    return None


def _counter(count: int, depth: int) -> str:
    if depth == 2:
        return chr(ord("a") + (count - 1) % 26)
    if depth == 3:
        return _ROMAN[(count - 1) % len(_ROMAN)]
    return str(count)


def _shown_counter(count: int, depth: int) -> str:
    """As LaTeX prints it: ``1.``, ``(a)``, ``i.``."""
    value = _counter(count, depth)
    return f"({value})" if depth == 2 else f"{value}."


@lru_cache(maxsize=1)
def _context() -> LatexContextDb:
    """pylatexenc's LaTeX macros, plus the sectioning ones it does not know (``\\paragraph{...}``)."""
    db = get_default_latex_context_db().filter_context()  # a copy: the default is shared
    db.add_context_category("grader", macros=[MacroSpec("paragraph", "*[{"), MacroSpec("boxed", "{")], prepend=True)
    return db


def tex_blocks(text: str) -> tuple[str, list[Block]]:
    """The document's Markdown rendering (line for line with the source) and its blocks."""
    walker = LatexWalker(text, tolerant_parsing=True, latex_context=_context())
    nodes, _, _ = walker.get_latex_nodes()
    renderer = _Renderer(text, walker)
    body = next((n for n in nodes if isinstance(n, LatexEnvironmentNode) and n.environmentname == "document"), None)
    if body is None:
        renderer.nodes(nodes, depth=0)
    else:
        renderer.gap(0, body.pos)
        renderer.mark("paragraph")
        renderer._children(body, body.nodelist, 0)
        renderer.gap(body.pos + body.len, len(text))
    rendered = "".join(renderer.out)
    return rendered, _split(rendered, renderer.breaks)


def _split(rendered: str, breaks: list[_Break]) -> list[Block]:
    """Blocks between the renderer's breaks and blank lines."""
    lines = rendered.split("\n")
    at: dict[int, _Break] = {}
    for brk in breaks:
        if brk.line not in at or at[brk.line].kind == "paragraph":
            at[brk.line] = brk
    blocks: list[Block] = []
    start: int | None = None
    current = _Break(0, "paragraph")
    for index, line in enumerate(lines + [""]):
        number = index + 1
        found = at.get(number)
        blank = not line.strip()
        if start is not None and (blank and current.kind != "math" or found is not None):
            _close(blocks, lines, start, index, current)
            start = None
        if found is not None:
            current = found
        if start is None and not blank:
            start = index
            if found is None:
                current = _Break(number, "paragraph")
    return blocks


def _close(blocks: list[Block], lines: list[str], start: int, end: int, brk: _Break) -> None:
    while end > start and not lines[end - 1].strip():
        end -= 1
    if end <= start:
        return
    blocks.append(
        Block(kind=brk.kind, text="\n".join(lines[start:end]), line=start + 1, end_line=end, level=brk.level, number=brk.number)
    )
