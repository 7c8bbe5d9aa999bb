"""LaTeX as MathML that is safe to put in a page, or its escaped source when it is not.

Browsers render MathML natively, so reports need no script, CDN or Node. But latex2mathml
copies the argument of ``\\text{...}`` (and of a few other commands) into its output as is:
a student's ``\\text{<script>...}`` would become markup. Its output is therefore parsed again
and rebuilt from an allow-list: MathML presentation elements and plain presentational
attributes only, every text node escaped. Any element outside the list, a comment, or a stray
end tag makes the whole formula fall back to its LaTeX source in ``<code>``: a formula shown
as source is honest, one with silently dropped pieces could misrepresent what was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

from markupsafe import Markup, escape

from grader._internal.cache import Memo
from grader.document.formulas import math_spans

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_ELEMENTS",
    "MAX_LATEX_CHARS",
    "latex_to_mathml",
    "render_math",
    "render_text_with_math",
    "sanitise_mathml",
]

# MathML Core presentation elements (plus menclose/mstyle, which latex2mathml emits). Nothing
# that links, loads, or switches the parser back to HTML (annotation-xml, semantics, maction).
ALLOWED_ELEMENTS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
        "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
        "mstyle", "mpadded", "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts",
        "none",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = frozenset(
    {
        "accent", "accentunder", "align", "columnalign", "columnlines", "columnspacing",
        "columnspan", "depth", "displaystyle", "fence", "form", "frame", "framespacing", "height",
        "largeop", "linebreak", "linethickness", "lspace", "mathbackground", "mathcolor",
        "mathsize", "mathvariant", "maxsize", "minsize", "movablelimits", "notation", "rowalign",
        "rowlines", "rowspacing", "rowspan", "rspace", "scriptlevel", "separator", "stretchy",
        "symmetric", "voffset", "width",
    }
)  # fmt: skip
# Values such as "true", "0.167em", "left", "red", "#c00": no quotes, colons or parentheses, so
# no url(), javascript: or expression() can hide in one.
_SAFE_VALUE = re.compile(r"[A-Za-z0-9 .%#+\-]{0,40}")
# latex2mathml knows align* but not amsmath's inner ``aligned``, whose ``&`` it would print.
_ALIGNED = re.compile(r"\\(begin|end)\s*\{aligned\}")
MAX_LATEX_CHARS = 4000
"""Longer formulas are shown as source: converting them costs time and helps nobody read them."""


class _Unsafe(Exception):
    """The converter's output is not plain MathML; the caller falls back to the source."""


@dataclass
class _Element:
    tag: str
    attrs: list[tuple[str, str]]
    children: list[_Element | str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A strict tree of allowed elements: anything unexpected raises instead of being repaired."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#root", [])
        self._stack = [self.root]

    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> _Element:
        if tag not in ALLOWED_ELEMENTS:
            raise _Unsafe(f"element <{tag}>")
        kept = [
            (name, value)
            for name, value in attrs
            if name in ALLOWED_ATTRIBUTES and value is not None and _SAFE_VALUE.fullmatch(value)
        ]
        element = _Element(tag, kept)
        self._stack[-1].children.append(element)
        return element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(self._open(tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if len(self._stack) == 1 or self._stack[-1].tag != tag:
            raise _Unsafe(f"unbalanced </{tag}>")
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        raise _Unsafe("comment")

    def handle_decl(self, decl: str) -> None:
        raise _Unsafe("declaration")

    def handle_pi(self, data: str) -> None:
        raise _Unsafe("processing instruction")

    def unknown_decl(self, data: str) -> None:
        raise _Unsafe("declaration")

    def finish(self) -> _Element:
        self.close()
        if len(self._stack) != 1:
            raise _Unsafe("unclosed element")
        elements = [c for c in self.root.children if isinstance(c, _Element)]
        if (
            len(elements) != 1
            or elements[0].tag != "math"
            or any(isinstance(c, str) and c.strip() for c in self.root.children)
        ):
            raise _Unsafe("not a single <math> element")
        return elements[0]


def _elements(node: _Element) -> Iterable[_Element]:
    for child in node.children:
        if isinstance(child, _Element):
            yield child
            yield from _elements(child)


def _mark_cells(math: _Element, cells: Iterable[tuple[int, int]]) -> None:
    """Mark 1-based (row, column) cells of the first matrix, e.g. the entries that differ."""
    table = next((e for e in _elements(math) if e.tag == "mtable"), None)
    if table is None:
        return
    rows = [r for r in table.children if isinstance(r, _Element) and r.tag == "mtr"]
    for row, column in cells:
        if 1 <= row <= len(rows):
            tds = [d for d in rows[row - 1].children if isinstance(d, _Element) and d.tag == "mtd"]
            if 1 <= column <= len(tds):
                tds[column - 1].classes.append("wrong-entry")


# Matrix delimiters drawn by CSS (see report.css): a stretched parenthesis needs an OpenType
# MATH font, which many phones and Linux machines lack, and then the fence stays one line tall.
_FENCES = {("(", ")"): "paren", ("[", "]"): "bracket", ("|", "|"): "vert", ("\u2016", "\u2016"): "dvert"}


def _fence_of(node: _Element | str) -> str | None:
    if isinstance(node, _Element) and node.tag == "mo" and len(node.children) == 1 and isinstance(node.children[0], str):
        return node.children[0].strip()
    return None


def _draw_fences(node: _Element) -> None:
    """Replace ``<mo>(</mo><mtable>…</mtable><mo>)</mo>`` by one ``<mtable class="fence-paren">``."""
    kids = [c for c in node.children if not (isinstance(c, str) and not c.strip())]
    out: list[_Element | str] = []
    k = 0
    while k < len(kids):
        window = kids[k : k + 3]
        if len(window) == 3 and isinstance(window[1], _Element) and window[1].tag == "mtable":
            kind = _FENCES.get((_fence_of(window[0]) or "", _fence_of(window[2]) or ""))
            if kind is not None:
                window[1].classes.append(f"fence-{kind}")
                out.append(window[1])
                k += 3
                continue
        out.append(kids[k])
        k += 1
    node.children = out if len(out) != len(kids) else node.children
    for child in node.children:
        if isinstance(child, _Element):
            _draw_fences(child)


def _serialise(node: _Element | str, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(str(escape(node)))
        return
    attrs = "".join(f' {name}="{escape(value)}"' for name, value in node.attrs)
    if node.classes:
        attrs += f' class="{" ".join(node.classes)}"'
    out.append(f"<{node.tag}{attrs}>")
    for child in node.children:
        _serialise(child, out)
    out.append(f"</{node.tag}>")


def sanitise_mathml(
    mathml: str, *, display: bool = False, wrong_cells: Iterable[tuple[int, int]] = ()
) -> Markup | None:
    """Rebuild converter output from the allow-list; ``None`` if it holds anything else."""
    builder = _TreeBuilder()
    try:
        builder.feed(mathml)
        math = builder.finish()
    except _Unsafe:
        return None
    math.attrs = [("display", "block" if display else "inline")]
    _mark_cells(math, wrong_cells)
    _draw_fences(math)
    out: list[str] = []
    _serialise(math, out)
    return Markup("".join(out))


#: The converter's raw output by formula (read back through the sanitiser like fresh output):
#: a batch's workers render the same answers and references on many pages, and the class page
#: renders them again, so each formula is converted once per batch. "" records a failure.
_CONVERTED: Memo[str] = Memo("mathml", size=64, encode=str, decode=str)  # memory: _convert's lru_cache


def _converted(latex: str, display: bool) -> str:
    from latex2mathml import __version__ as converter_version  # the converter itself loads only to convert

    def compute() -> str:
        from latex2mathml.converter import convert

        try:
            return convert(_ALIGNED.sub(r"\\\1{align*}", latex), display="block" if display else "inline")
        except Exception:  # third-party parser fed arbitrary student text: any failure means "show the source"
            return ""

    return _CONVERTED.get_or_compute(_CONVERTED.key(converter_version, latex, display), compute)


@lru_cache(maxsize=2048)
def _convert(latex: str, display: bool, wrong_cells: tuple[tuple[int, int], ...]) -> Markup | None:
    if not latex.strip() or len(latex) > MAX_LATEX_CHARS:
        return None
    raw = _converted(latex, display)
    return sanitise_mathml(raw, display=display, wrong_cells=wrong_cells) if raw else None


def latex_to_mathml(
    latex: str, *, display: bool = False, wrong_cells: Iterable[tuple[int, int]] = ()
) -> Markup | None:
    """Sanitised MathML for ``latex``, or ``None`` when it cannot be converted safely."""
    return _convert(latex, display, tuple(sorted(set(wrong_cells))))


def render_math(latex: str, *, display: bool = False, wrong_cells: Iterable[tuple[int, int]] = ()) -> Markup:
    """MathML when the formula converts, otherwise its source as escaped ``<code>``; never raw input."""
    mathml = latex_to_mathml(latex, display=display, wrong_cells=wrong_cells)
    if mathml is not None:
        return mathml
    return Markup('<code class="latex">{}</code>').format(latex)


def render_text_with_math(text: str) -> Markup:
    """Prose with its ``$...$``/``\\[...\\]`` formulas rendered and everything else escaped."""
    out: list[Markup] = []
    pos = 0
    for span in math_spans(text):
        out.append(escape(text[pos : span.start]))
        out.append(render_math(text[span.content_start : span.content_end].strip(), display=span.display))
        pos = span.end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
