"""Repairs before reading LaTeX: escapes eaten by PDF conversion, and Unicode math spelled as commands.

Every character keeps its offset in the student's input (``Mapped``), so errors point at what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Mapped:
    """Text plus, for every character, its offset in the original input (one extra at the end)."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, text: str) -> Mapped:
        return cls(text, list(range(len(text) + 1)))

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> Mapped:
        pieces: list[str] = []
        origin: list[int] = []
        last = 0
        for match in pattern.finditer(self.text):
            start, end = match.span()
            pieces.append(self.text[last:start])
            origin.extend(self.origin[last:start])
            new = repl(match)
            pieces.append(new)
            origin.extend([self.origin[start]] * len(new))
            last = end
        if not pieces:
            return self
        pieces.append(self.text[last:])
        origin.extend(self.origin[last:])
        return Mapped("".join(pieces), origin)


# A literal control character where a backslash escape was (the file went through a string
# escape step): TAB for \t, form feed for \f, backspace for \b, bell for \a, vertical tab for \v,
# carriage return for \r, newline for \n. Only completions of real commands are repaired; a lone
# backslash left in front ("\\\frac" written for "\frac") is absorbed, half of a "\\" never is.
_EATEN = re.compile(
    r"(?:(?<!\\)\\)?(?:\t(?P<t>extbf|extrm|extit|ext|imes|heta|op|au|ilde|anh|an|riangleq)"
    r"|\f(?P<f>rac|orall|rak)"
    r"|\x08(?P<b>oldsymbol|egin|eta|ar|igl|igr|ig|m)"
    r"|\x07(?P<a>lpha|pprox|st)"
    r"|\x0b(?P<v>arepsilon|arphi|artheta|ec|ert|Vert)"
    r"|\r(?P<r>ight|ho)"
    r"|\n(?P<n>abla|eq|eg))(?![A-Za-z])"
)
# The escape vanished and left a space: "{ ext{" for "{\text{", "^{ op}" for "^{\top}".
_LOST = re.compile(
    r"(?<![A-Za-z\\]) (?P<t>ext(?=\{)|extbf(?=\{)|op(?=\s*\})|imes(?![A-Za-z])|ilde(?=\{))|(?<![A-Za-z\\]) (?P<f>rac(?=\{))"
)

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-", strict=True))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋", "0123456789+-", strict=True))
_UNICODE: dict[str, str] = {
    "−": "-",
    "–": "-",
    "∗": "*",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "×": r"\times ",
    "÷": r"\div ",
    "√": r"\sqrt ",
    "∞": r"\infty ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "±": r"\pm ",
    "∓": r"\mp ",
    "⊙": r"\odot ",
    "∑": r"\sum ",
    "∏": r"\prod ",
    "∫": r"\int ",
    "∂": r"\partial ",
    "∇": r"\nabla ",
    "≈": r"\approx ",
    "≡": r"\equiv ",
    "∼": r"\sim ",
    "→": r"\to ",
    "⇒": r"\to ",
    "‖": r"\| ",
    "∣": "|",
    "⊤": r"^{\top}",
    "ᵀ": "^{T}",
    "′": "'",
    "″": "''",
    "ℓ": r"\ell ",
    "…": r"\ldots ",
    "⋯": r"\cdots ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u200b": "",
    **{
        ch: "\\" + name + " "
        for ch, name in zip(
            "αβγδεϵζηθϑικλμνξπϖρϱσςτυφϕχψω",
            (
                "alpha beta gamma delta epsilon epsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi "
                "rho varrho sigma varsigma tau upsilon phi phi chi psi omega"
            ).split(),
            strict=True,
        )
    },
    **{
        ch: "\\" + name + " "
        for ch, name in zip(
            "ΓΔΘΛΞΠΣΥΦΨΩ", "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split(), strict=True
        )
    },
}
_UNICODE_RE = re.compile("|".join(re.escape(k) for k in sorted(_UNICODE, key=len, reverse=True)))
_SUPER_RE = re.compile("[" + "".join(_SUPERSCRIPTS) + "]+")
_SUB_RE = re.compile("[" + "".join(_SUBSCRIPTS) + "]+")


def repair(mapped: Mapped, warnings: list[str]) -> Mapped:
    """Undo escapes eaten by PDF-to-text conversion; every repair is reported as a warning."""
    for pattern in (_EATEN, _LOST):
        current = mapped

        def restore(match: re.Match[str], current: Mapped = current) -> str:
            letter = next(k for k, v in match.groupdict().items() if v is not None)
            column = current.origin[match.start()] + 1
            warnings.append(f"repaired '\\{letter}' eaten by conversion at column {column}")
            return "\\" + letter + match.group(letter)

        mapped = current.sub(pattern, restore)
    return mapped


_FULL_WIDTH = re.compile("[\uff01-\uff5e]")


def spell_unicode(mapped: Mapped) -> Mapped:
    mapped = mapped.sub(
        _FULL_WIDTH, lambda m: chr(ord(m.group()) - 0xFEE0)
    )  # （ ＋ ） typed on CJK keyboards
    mapped = mapped.sub(_SUPER_RE, lambda m: "^{" + "".join(_SUPERSCRIPTS[c] for c in m.group()) + "}")
    mapped = mapped.sub(_SUB_RE, lambda m: "_{" + "".join(_SUBSCRIPTS[c] for c in m.group()) + "}")
    return mapped.sub(_UNICODE_RE, lambda m: _UNICODE[m.group()])


def normalize_source(source: str) -> str:
    """The source with conversion damage repaired and Unicode math spelled as LaTeX commands."""
    return spell_unicode(repair(Mapped.of(source), [])).text
