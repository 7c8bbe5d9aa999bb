"""Find the LaTeX math in Markdown text, with line numbers, in one linear pass.

Students' files are often damaged (a ``$$`` lost in PDF conversion), so an unclosed delimiter
takes only the rest of its line, and no formula crosses a blank line (TeX forbids that too):
one broken formula must not swallow the rest of the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from typing import NamedTuple

from grader.document.models import Formula

MATH_ENVIRONMENTS = frozenset(
    name + star
    for name in ("equation", "align", "gather", "eqnarray", "multline", "flalign", "alignat")
    for star in ("", "*")
) | {"aligned", "alignedat", "gathered"}

_NEXT_SPECIAL = re.compile(r"[$\\]")
_ENV_NAME = re.compile(r"\\begin\s*\{([A-Za-z]+\*?)\}")


class MathSpan(NamedTuple):
    """Offsets of one formula: delimiters included (start/end) and its content (content_*)."""

    start: int
    content_start: int
    content_end: int
    end: int
    display: bool


class _Finder:
    """``str.find`` with a memo per needle, so repeated failing searches stay linear overall."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._memo: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, start: int) -> int:
        memo = self._memo.get(needle)
        if memo is not None:
            searched_from, found = memo
            if searched_from <= start and (found == -1 or found >= start):
                return found
        found = self._text.find(needle, start)
        self._memo[needle] = (start, found)
        return found

    def find_unescaped_dollar(self, start: int) -> int:
        """The next ``$`` not written as ``\\$``."""
        pos = self.find("$", start)
        while pos != -1 and _escaped(self._text, pos):
            pos = self.find("$", pos + 1)
        return pos


def _escaped(text: str, pos: int) -> bool:
    """True when an odd number of backslashes precede ``pos``."""
    count = 0
    k = pos - 1
    while k >= 0 and text[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


def _paragraph_breaks(text: str) -> list[int]:
    """Offsets where blank lines start: no formula may run past one."""
    breaks: list[int] = []
    offset = 0
    for line in text.split("\n"):
        if not line.strip():
            breaks.append(offset)
        offset += len(line) + 1
    return breaks


def math_spans(text: str) -> list[MathSpan]:
    """Every formula's offsets, in order; shared with segmentation (lines inside math are no markers)."""
    finder = _Finder(text)
    breaks = _paragraph_breaks(text)
    newlines = [k for k, ch in enumerate(text) if ch == "\n"] if "\n" in text else []
    n = len(text)
    spans: list[MathSpan] = []

    def limit(pos: int) -> int:
        k = bisect_right(breaks, pos)
        return breaks[k] if k < len(breaks) else n

    def line_end(pos: int) -> int:
        k = bisect_right(newlines, pos - 1)
        return newlines[k] if k < len(newlines) else n

    i = 0
    while i < n:
        match = _NEXT_SPECIAL.search(text, i)
        if match is None:
            break
        j = match.start()
        nxt = text[j + 1 : j + 2]
        if text[j] == "\\":
            if nxt in ("[", "("):
                closer = "\\]" if nxt == "[" else "\\)"
                close = finder.find(closer, j + 2)
                spans.append(_close(j, j + 2, close, len(closer), limit(j), line_end, nxt == "["))
                i = spans[-1].end
                continue
            env = _ENV_NAME.match(text, j, min(n, j + 40)) if nxt == "b" else None
            if env is not None and env.group(1) in MATH_ENVIRONMENTS:
                closer = "\\end{" + env.group(1) + "}"
                close = finder.find(closer, env.end())
                if close != -1 and close < limit(j):
                    spans.append(MathSpan(j, j, close + len(closer), close + len(closer), True))
                else:
                    spans.append(MathSpan(j, j, line_end(j), line_end(j), True))
                i = spans[-1].end
                continue
            i = j + 2  # an escaped character or another command: skip the backslash and what it escapes
            continue
        if nxt == "$":
            close = finder.find("$$", j + 2)
            spans.append(_close(j, j + 2, close, 2, limit(j), line_end, True))
        else:
            close = finder.find_unescaped_dollar(j + 1)
            spans.append(_close(j, j + 1, close, 1, limit(j), line_end, False))
        i = spans[-1].end
    return [
        s
        for s in spans
        if not text[s.content_start : s.content_end].isspace() and s.content_end > s.content_start
    ]


def _close(
    start: int,
    content_start: int,
    close: int,
    closer_len: int,
    limit: int,
    line_end: Callable[[int], int],
    display: bool,
) -> MathSpan:
    """A closed span, or (unclosed before the paragraph ends) one running to the end of the line."""
    if close != -1 and close < limit:
        return MathSpan(start, content_start, close, close + closer_len, display)
    end = max(line_end(start), content_start)
    return MathSpan(start, content_start, end, end, display)


def find_formulas(text: str, first_line: int = 1) -> tuple[Formula, ...]:
    """All formulas in ``text``; ``first_line`` is the file line of the text's first line."""
    line_starts = [0]
    pos = text.find("\n")
    while pos != -1:
        line_starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    offset = first_line - 1
    formulas: list[Formula] = []
    for span in math_spans(text):
        raw = text[span.content_start : span.content_end]
        stripped = raw.strip()
        begin = span.content_start + (len(raw) - len(raw.lstrip()))
        last = begin + len(stripped) - 1
        formulas.append(
            Formula.model_construct(  # fields are built right here; validation would only cost time
                latex=stripped,
                line=bisect_right(line_starts, begin) + offset,
                end_line=bisect_right(line_starts, last) + offset,
                display=span.display,
            )
        )
    return tuple(formulas)
