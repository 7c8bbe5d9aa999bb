"""Text that leaves the program for a spreadsheet or a terminal, made inert.

A spreadsheet reads a CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV Injection"); a terminal obeys escape sequences and starts a new
line at a newline, so a file named ``a.md\\nfake.md: 66 / 66 (graded)`` could forge a line of
``grader grade``'s output. Student-controlled text (file names, answers, roster fields) goes
through these two functions at the boundary, never raw.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FORMULA_TRIGGERS", "csv_cell", "csv_row", "terminal_text"]

#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def csv_cell(value: object) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would run it as a formula.

    A plain number (``-0.5``) is data in every spreadsheet and stays as it is, so scores import.
    """
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_row(values: list[object] | tuple[object, ...]) -> list[str]:
    return [csv_cell(value) for value in values]


def terminal_text(text: str) -> str:
    """``text`` on one line with every control character visible: ``\\n``, ``\\x1b``, ``\\u202e``.

    Control characters (C0, C1, DEL), line and paragraph separators and format characters (the
    bidirectional overrides that reorder what a terminal shows) are written as escapes, so
    nothing in ``text`` can move the cursor, colour the screen or start a line of its own.
    """
    if text.isprintable() and not any(ch in _LINE_BREAKS for ch in text):
        return text
    out: list[str] = []
    for char in text:
        if char in _LINE_BREAKS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            escaped = char.encode("unicode_escape").decode("ascii")
            out.append(escaped if escaped != char else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)
