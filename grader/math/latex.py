"""Read a student's LaTeX formula into a ``grader.math.tree`` expression, never evaluating anything.

Three stages, each linear in the input and none recursive, so hostile input returns fast:

1. **Pre-pass** (``_prepare``): repairs escapes eaten by PDF conversion (recorded as warnings),
   maps Unicode math (``λ``, ``≤``, ``ᵀ``) to commands, tokenises, rejects unknown and dangerous
   commands (``\\input``, ``\\def``...), pairs ``|``/``||`` bars into abs, norm, conditional or KL
   separators, checks that brackets balance and nest at most ``max_depth`` deep, and braces
   single-token arguments (``\\frac12`` -> ``\\frac{1}{2}``).
2. **Lark** (LALR, contextual lexer, ``latex.lark``) reads the context-free skeleton.
3. **Building** (``_Builder``, a non-recursive walk of Lark's tree) turns each flat run of factors and
   operators into nodes with an iterative operator-precedence pass that uses the SymbolTable to
   decide juxtaposition: ``p(1-p)`` is a product unless ``p`` is a declared function.

Reading rules worth knowing (the tests pin each one):

- Names follow ``grader.math.names``; a superscript is part of the name (a *label*) when it is
  ``\\text``/``\\mathrm``-like, ``*``/``\\ast``/``\\star``, a prime, a parenthesised index ``(k)``,
  or when the resulting name is declared; ``^T``, ``^\\top``, ``^\\intercal`` are a transpose
  (a power if ``T`` is a declared scalar); anything else is a power. Subscripts are part of the
  name except on functions (``\\log_2``), operators and norms.
- ``e`` is ``Const("e")`` and ``\\pi`` is ``Const("pi")`` unless declared as symbols; ``i`` stays
  ``Sym("i")`` (only ``\\mathrm{i}`` and ``\\imath`` are ``Const("i")``): whether ``i`` is the
  imaginary unit is the evaluator's decision, made with the rubric.
- Whitelisted functions (``grader.math.functions``) are always functions and take an implicit
  argument (``\\log x``, ``\\sin 2x``: the following product). Declared functions need
  parentheses. An undeclared name followed by parentheses is a product, except when the
  parentheses hold several arguments or a ``|``/``||`` separator (``\\mathcal{L}(\\theta, \\phi)``,
  ``p(x|z)``, ``D_{KL}(q||p)``), or when the name is a multi-letter word that is capitalised
  (``JSD(...)``, ``KL(...)``) or written upright (``\\mathrm{KL}(...)``, ``\\text{Bern}(p)``) and is
  not a product of declared letters (``XR(a)`` with X and R declared is a product).
- Juxtaposition binds tighter than ``/`` and ``\\cdot``: ``a/bc`` is ``a/(bc)``; ``-x^2`` is
  ``-(x^2)``; ``x^12`` is ``x^1 \\cdot 2`` (TeX's single-token rule).
- A single letter and the digits written right after it, or a Greek letter and the digits after
  it, are one subscripted name: ``x1`` is ``x_1``, ``\\mu0``/``μ0`` is ``\\mu_0`` (never x·1 or μ·0);
  not inside a script, not after ``^``/``_`` or a command still owed arguments, not before a
  decimal, not for ``\\pi``, and after a space not before a power (``\\gamma 10^{-3}``). Words of several letters keep TeX's reading (``\\sin2x``, ``xy2``).
- Digit groups of three after a space, ``\\,``, ``{,}`` or ``,\\!`` are one number (``1 000``,
  ``14{,}912``); a bare comma separates items (``1,000`` is a list).
- ``a:b`` is the ratio ``a/b`` (one colon per side; ``:=`` is a definition); ``[a, b)`` and
  ``(a, b]`` with exactly one comma are intervals, while ``(a, b)`` and ``[a, b]`` stay a tuple
  and a list that the comparison reads as intervals when the other side is one; with both
  ``,`` and ``;`` at the top level, ``;`` separates groups (``p=5, q=2; p=7, q=2``).
- Big operators: ``\\max \\min \\arg\\max \\sup \\inf`` and ``\\int`` take the rest of the sum as
  their body (the objective of ``\\min_w f(w) + g(w)`` is the whole sum; an integral runs to its
  ``dx``, whose variable becomes ``sub`` when no subscript is written); ``\\sum \\prod \\lim`` and
  a bracketless ``\\mathbb{E}`` take the rest of the product.
- ``\\frac{\\partial f}{\\partial x}`` is ``Call("diff", (f, x))`` and ``\\nabla_x f`` is
  ``Call("grad", (f, x))``; these are placeholders nobody evaluates (see ``functions``).
- Lenient readings, each reported in ``Parsed.warnings``: a trailing ``.``/``,``/``;`` is ignored,
  ``y* =`` is ``y^*``, ``{1, 2}`` with commas is a set, a formula starting with ``=`` is its right
  side, ``\\to``/``\\Rightarrow`` between statements separate them into a list, and every repaired
  conversion escape is listed. (A line of an aligned derivation starting with ``=`` continues the
  relation above it: ``a &= b \\\\ &= c`` is the chain a = b = c.)
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, cast

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from grader.math import names
from grader.math.functions import (
    FUNCTION_ALIASES,
    INVERSE_FUNCTIONS,
    OPERATOR_ALIASES,
    WIDE_OPERATORS,
    arity_ok,
    canonical_function,
)
from grader.math.symbols import FunctionSymbol, ScalarSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    Interval,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Operator,
    Parsed,
    ParseError,
    ParseResult,
    PlusMinus,
    Pow,
    Relation,
    RelOp,
    Seq,
    Sym,
    Text,
    Transpose,
    children,
)

__all__ = ["normalize_source", "parse_latex"]

_LABEL_MAX = 200  # characters in one script that can still be read as part of a name


class _Fail(Exception):
    """A reading failure with a student-facing message; ``pos`` is in the pre-pass or Lark text."""

    def __init__(self, message: str, pos: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.hint = hint
        self.resolved = False  # True once ``pos`` is an offset in the student's input


# --------------------------------------------------------------------------------- pre-pass


@dataclass
class _Mapped:
    """Text plus, for every character, its offset in the original input (one extra at the end)."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, text: str) -> _Mapped:
        return cls(text, list(range(len(text) + 1)))

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> _Mapped:
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
        return _Mapped("".join(pieces), origin)


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


def _repair(mapped: _Mapped, warnings: list[str]) -> _Mapped:
    """Undo escapes eaten by PDF-to-text conversion; every repair is reported as a warning."""
    for pattern in (_EATEN, _LOST):
        current = mapped

        def restore(match: re.Match[str], current: _Mapped = current) -> str:
            letter = next(k for k, v in match.groupdict().items() if v is not None)
            column = current.origin[match.start()] + 1
            warnings.append(f"repaired '\\{letter}' eaten by conversion at column {column}")
            return "\\" + letter + match.group(letter)

        mapped = current.sub(pattern, restore)
    return mapped


_FULL_WIDTH = re.compile("[\uff01-\uff5e]")


def _unicode(mapped: _Mapped) -> _Mapped:
    mapped = mapped.sub(
        _FULL_WIDTH, lambda m: chr(ord(m.group()) - 0xFEE0)
    )  # （ ＋ ） typed on CJK keyboards
    mapped = mapped.sub(_SUPER_RE, lambda m: "^{" + "".join(_SUPERSCRIPTS[c] for c in m.group()) + "}")
    mapped = mapped.sub(_SUB_RE, lambda m: "_{" + "".join(_SUBSCRIPTS[c] for c in m.group()) + "}")
    return mapped.sub(_UNICODE_RE, lambda m: _UNICODE[m.group()])


def normalize_source(source: str) -> str:
    """The source with conversion damage repaired and Unicode math spelled as LaTeX commands."""
    return _unicode(_repair(_Mapped.of(source), [])).text


_SCAN = re.compile(
    r"(?P<cmd>\\(?:operatorname\*|[A-Za-z]+))|(?P<esc>\\[^A-Za-z]|\\$)|(?P<ws>\s+)"
    r"|(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<word>[A-Za-z]+)|(?P<bars>\|+)|(?P<rel>:=|<=|>=)|(?P<char>.)",
    re.S,
)
_ENV_NAME = re.compile(r"\s*\{([A-Za-z]+\*?)\}")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TEXT_SPACING = re.compile(r"\\[,;:! ]|\\(?:quad|qquad|enspace|thinspace)(?![A-Za-z])|~")

_MATRIX_ENVS = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix"})
_TRANSPARENT_ENVS = frozenset(
    name + star
    for name in (
        "aligned",
        "align",
        "equation",
        "gathered",
        "gather",
        "split",
        "multline",
        "eqnarray",
        "alignedat",
    )
    for star in ("", "*")
)
_GRAMMAR_COMMANDS: dict[str, str] = {
    # command -> role used by the bar pass: "o" operand, "p" prefix (starts an operand), "x" other
    **dict.fromkeys(names.GREEK, "o"),
    **dict.fromkeys(("infty", "imath"), "o"),
    **dict.fromkeys(
        (
            "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth exp log ln det sgn erf "
            "sum prod int max min sup inf lim argmax argmin arg nabla partial frac sqrt boxed"
        ).split(),
        "p",
    ),
    **dict.fromkeys(names.TRANSPARENT_FONTS | names.LETTER_FONTS | set(names.ACCENTS), "p"),
    **dict.fromkeys(("top", "intercal", "prime"), "e"),
    **dict.fromkeys(
        "ast star cdot times div odot pm mp le ge ne approx equiv triangleq simeq sim to".split(), "x"
    ),
}
_RENAMED: dict[str, str] = {
    "leq": r"\le",
    "leqslant": r"\le",
    "geq": r"\ge",
    "geqslant": r"\ge",
    "neq": r"\ne",
    "lt": "<",
    "gt": ">",
    "dfrac": r"\frac",
    "tfrac": r"\frac",
    "cfrac": r"\frac",
    "coloneqq": ":=",
    "rightarrow": r"\to",
    "Rightarrow": r"\to",
    "implies": r"\to",
    "longrightarrow": r"\to",
    "Longrightarrow": r"\to",
    "lbrack": "[",
    "rbrack": "]",
    "lbrace": r"\{",
    "rbrace": r"\}",
    "bigstar": r"\star",
}
_SPACING = frozenset(
    "quad qquad enspace thinspace medspace thickspace negthinspace negmedspace negthickspace displaystyle "
    "textstyle scriptstyle scriptscriptstyle limits nolimits nonumber notag".split()
)
_SIZING = frozenset(
    "left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm".split()
)
_DROPPED_WITH_ARGUMENT = frozenset({"tag", "tag*", "label"})
_DANGEROUS = frozenset(
    """input include includeonly write write18 immediate openin openout closein closeout read readline newread
    newwrite def edef gdef xdef let futurelet newcommand renewcommand providecommand newenvironment
    renewenvironment DeclareMathOperator DeclareRobustCommand catcode csname endcsname expandafter noexpand
    href url special usepackage RequirePackage documentclass makeatletter makeatother jobname
    lstinputlisting verbatiminput includegraphics loop repeat relax begingroup endgroup detokenize scantokens
    string uppercase lowercase char mathchar directlua luaexec pdfshellescape ShellEscape message typeout
    errmessage global afterassignment aftergroup openany shipout everymath everydisplay
    everypar toks the show showthe meaning""".split()
)
_DANGER_HINT = "commands that read files, run programs or define macros are never allowed in answers"
_UNSUPPORTED: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("cdots", "ldots", "dots", "vdots", "ddots", "dotsc", "dotsb", "dotsm"),
        ("ellipses are not supported", "write the terms out, or use \\sum"),
    ),
    "circ": (
        "function composition (\\circ) is not supported",
        "write the composed function out, e.g. g(f(x))",
    ),
    **dict.fromkeys(
        (
            "in",
            "notin",
            "subset",
            "subseteq",
            "supset",
            "supseteq",
            "cup",
            "cap",
            "setminus",
            "emptyset",
            "varnothing",
            "forall",
            "exists",
            "land",
            "lor",
            "neg",
            "iff",
            "Leftrightarrow",
            "mapsto",
            "gets",
            "leftarrow",
            "Leftarrow",
            "colon",
            "propto",
            "ll",
            "gg",
            "perp",
            "cong",
            "models",
            "vdash",
        ),
        ("set and logic notation is not supported", "write the formula itself, e.g. x = 2"),
    ),
    **dict.fromkeys(
        ("langle", "rangle"), ("angle brackets are not supported", "write an inner product as x^T y")
    ),
    **dict.fromkeys(
        (
            "xrightarrow",
            "xleftarrow",
            "overset",
            "underset",
            "stackrel",
            "overbrace",
            "underbrace",
            "substack",
        ),
        ("stacked annotations are not supported", "leave the annotation out of the formula"),
    ),
    **dict.fromkeys(
        ("color", "textcolor", "colorbox", "fbox", "hbox", "vbox", "phantom", "hphantom", "vphantom"),
        ("colour and box commands are not supported", "remove the command and keep its content"),
    ),
    **dict.fromkeys(
        ("binom", "choose", "dbinom", "tbinom"),
        ("binomial coefficients are not supported", "write n!/(k!(n-k)!)"),
    ),
    "not": ("\\not is not supported", "use \\ne for 'not equal'"),
    "dagger": ("\\dagger is not supported", "write a conjugate transpose as ^T for real matrices"),
    "hbar": ("\\hbar is not supported", "write h/(2\\pi)"),
}


@dataclass(slots=True)
class _Tok:
    text: str
    pos: int  # offset in the pre-pass text (mapped.text)
    kind: str  # num word cmd char text open close bar sep begin end rowsep amp
    role: str = "x"  # bars: amb1 amb2 open1 close1 open2 close2 mid par; cmds: o p e x


@dataclass
class _Prepared:
    text: str  # what Lark reads
    starts: list[int]  # offset in ``text`` of every token
    tokens: list[_Tok]
    mapped: _Mapped

    def original(self, lark_pos: int | None) -> int | None:
        """Offset in the student's input of a position in the Lark text."""
        if lark_pos is None:
            return None
        index = max(0, bisect_right(self.starts, lark_pos) - 1)
        if not self.tokens:
            return 0
        return self.mapped.origin[min(self.tokens[index].pos, len(self.mapped.origin) - 1)]


def _prepare(source: str, max_depth: int, warnings: list[str]) -> _Prepared:
    mapped = _unicode(_repair(_Mapped.of(source), warnings))
    try:
        tokens = _tokenize(mapped.text)
        if tokens and tokens[-1].kind == "char" and tokens[-1].text in ".,;":
            warnings.append(
                f"ignored the trailing '{tokens[-1].text}' at column {mapped.origin[tokens[-1].pos] + 1}"
            )
            tokens.pop()
        tokens = _resolve_bars(tokens)
        match = _check_brackets(tokens, max_depth)
        tokens = _brace_arguments(tokens, match)
        text, starts = _join(tokens, max_depth)
    except _Fail as fail:
        if fail.pos is not None:
            fail.pos = mapped.origin[min(max(fail.pos, 0), len(mapped.origin) - 1)]
        fail.resolved = True
        raise
    return _Prepared(text, starts, tokens, mapped)


def _text_argument(text: str, pos: int) -> tuple[str, int] | None:
    """Content of the ``{...}`` (or single token) after a text command, and where it ends."""
    k = pos
    while k < len(text) and text[k].isspace():
        k += 1
    if k >= len(text):
        return None
    if text[k] != "{":
        single = _SCAN.match(text, k)
        if single is None or single.lastgroup in ("ws", "bars"):
            return None
        if single.lastgroup in ("word", "num"):
            return text[k], k + 1  # TeX takes one character: \mathrm dx is \mathrm{d}x
        return single.group(), single.end()
    depth = 0
    j = k
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[k + 1 : j], j + 1
        j += 1
    raise _Fail(f"unbalanced braces: the '{{' at column {k + 1} is never closed", k, "close every { with a }")


def _tokenize(text: str) -> list[_Tok]:
    """Linear scan: commands are checked against what the grammar reads, spelling is unified."""
    tokens: list[_Tok] = []
    envs: list[str] = []
    scripts: list[bool] = []  # for each open bracket: is it a sub/superscript's argument?
    sizing: str | None = None
    pos = 0
    while pos < len(text):
        m = _SCAN.match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup or "char"
        value = m.group()
        start = pos
        pos = m.end()
        size, sizing = sizing, None
        if kind == "ws":
            sizing = size
            continue
        if kind == "num" and _GROUP_HEAD.fullmatch(value):
            value, pos = _digit_groups(text, value, pos)
        if kind in ("num", "word"):
            tokens.append(_Tok(value, start, kind, "o"))
            if kind == "word" and len(value) == 1 and not any(scripts):
                pos = _digits_as_subscript(text, pos, tokens, spaces=False)
            continue
        if kind == "rel":
            tokens.append(_Tok(value, start, "char"))
            continue
        if kind == "bars":
            role = {"left": "open", "right": "close", "middle": "mid"}.get(size or "", "amb")
            _add_bars(tokens, len(value), start, role, 1)
            continue
        if kind == "esc":
            name = value[1:]
            if name == "":
                raise _Fail("a formula cannot end with a backslash", start, "remove the trailing \\")
            if name in ",;:! ":
                continue  # spacing
            if name == "\\":
                tokens.append(_Tok("\\\\", start, "rowsep"))
            elif name == "{":
                tokens.append(_Tok("\\{", start, "open", "p"))
            elif name == "}":
                tokens.append(_Tok("\\}", start, "close", "o"))
            elif name == "|":
                role = {"left": "open", "right": "close", "middle": "mid"}.get(size or "", "amb")
                _add_bars(tokens, 1, start, role, 2)
            else:
                raise _Fail(
                    f"unsupported command {value}", start, "write special characters only inside \\text{...}"
                )
            continue
        if kind == "char":
            if value == "~":
                continue
            if ord(value) > 127 or (not value.isprintable()):
                raise _Fail(
                    f"unexpected character {value!r}", start, "write symbols as LaTeX commands, e.g. \\lambda"
                )
            if value == "." and size is not None:
                continue  # \left. and \right. are invisible
            if value == "&" and envs and envs[-1] != "matrix":
                continue  # alignment points of aligned environments
            if value == "&":
                tokens.append(_Tok("&", start, "amp"))
            elif value in "([{":
                scripts.append(bool(tokens) and tokens[-1].kind == "char" and tokens[-1].text in "^_")
                tokens.append(_Tok(value, start, "open", "p"))
            elif value in ")]}":
                if scripts:
                    scripts.pop()
                tokens.append(_Tok(value, start, "close", "o"))
            else:
                role = "o" if value in "!'" else "x"
                tokens.append(_Tok(value, start, "char", role))
            continue
        # a command
        name = value[1:]
        if name in _DANGEROUS:
            raise _Fail(f"unsupported command {value}", start, _DANGER_HINT)
        if name in _SPACING:
            continue
        if name in _SIZING:
            if name == "left" or name.endswith("l"):
                sizing = "left"
            elif name == "right" or name.endswith("r"):
                sizing = "right"
            elif name in ("middle", "bigm", "Bigm"):
                sizing = "middle"
            continue
        if name in ("begin", "end"):
            env = _ENV_NAME.match(text, pos)
            if env is None:
                raise _Fail(f"{value} needs an environment name, like {value}{{pmatrix}}", start)
            pos = env.end()
            env_name = env.group(1)
            if env_name not in _MATRIX_ENVS and env_name not in _TRANSPARENT_ENVS:
                raise _Fail(
                    f"the {env_name} environment is not supported",
                    start,
                    "use pmatrix/bmatrix for matrices, aligned for derivations",
                )
            family = "matrix" if env_name in _MATRIX_ENVS else "aligned"
            if name == "begin":
                envs.append(family)
                if family == "matrix":
                    tokens.append(_Tok(f"\\begin{{{env_name}}}", start, "begin", "p"))
            else:
                if not envs or envs[-1] != family:
                    raise _Fail(f"\\end{{{env_name}}} does not close the environment that is open", start)
                envs.pop()
                if family == "matrix":
                    tokens.append(_Tok(f"\\end{{{env_name}}}", start, "end", "o"))
            continue
        if name in _DROPPED_WITH_ARGUMENT:
            argument = _text_argument(text, pos)
            if argument is not None:
                pos = argument[1]
            continue
        if name in names.TEXT_FONTS:
            argument = _text_argument(text, pos)
            if argument is None:
                raise _Fail(f"{value} needs an argument in braces", start)
            content = _TEXT_SPACING.sub("", argument[0]).strip()
            is_text = name.startswith("text") or name == "mbox"
            if _WORD.fullmatch(content):
                pos = argument[1]
                tokens.append(_Tok(f"\\mathrm{{{content}}}", start, "text", "o"))
            elif is_text:
                pos = argument[1]
                prose = content.replace("{", "").replace("}", "")
                if prose:
                    tokens.append(_Tok(f"\\text{{{prose}}}", start, "text", "o"))
            # a math font around an expression: read the braced group as math
            continue
        if name in ("vert", "Vert", "lvert", "rvert", "lVert", "rVert", "mid", "parallel"):
            explicit = {
                "lvert": "open",
                "rvert": "close",
                "lVert": "open",
                "rVert": "close",
                "mid": "mid",
                "parallel": "par",
            }
            role = explicit.get(name) or {"left": "open", "right": "close", "middle": "mid"}.get(
                size or "", "amb"
            )
            _add_bars(tokens, 1, start, role, 2 if name in ("Vert", "lVert", "rVert", "parallel") else 1)
            continue
        if name in _RENAMED:
            new = _RENAMED[name]
            kind = "open" if new in ("[", "\\{") else "close" if new in ("]", "\\}") else "cmd"
            tokens.append(_Tok(new, start, kind, "p" if kind == "open" else "o" if kind == "close" else "x"))
            continue
        if name in _UNSUPPORTED:
            message, hint = _UNSUPPORTED[name]
            raise _Fail(f"{message} ({value} at column {start + 1})", start, hint)
        if name in _GRAMMAR_COMMANDS:
            tokens.append(_Tok(value, start, "cmd", _GRAMMAR_COMMANDS[name]))
            if name in names.GREEK and name != "pi" and not any(scripts):
                pos = _digits_as_subscript(text, pos, tokens, spaces=True)
            continue
        raise _Fail(
            f"unknown command {value}",
            start,
            "grader reads a subset of LaTeX math; check the spelling or write it differently",
        )
    if envs:
        raise _Fail(
            "an environment is never closed with \\end{...}",
            len(text),
            "close every \\begin{...} with its \\end{...}",
        )
    return tokens


_GROUP_HEAD = re.compile(r"\d{1,3}")
_DIGIT_GROUP = re.compile(r"(?:\s+|\\,|\{,\}|,\\!)(\d{3})(?!\d)(\.\d+)?")


def _digit_groups(text: str, value: str, pos: int) -> tuple[str, int]:
    """``1 000``, ``1\\,000``, ``14{,}912``, ``49,\\!479``: digits in groups of three after a
    space, a thin space, ``{,}`` or ``,\\!`` are one number (TeX prints 1 000; never 1·000)."""
    while True:
        match = _DIGIT_GROUP.match(text, pos)
        if match is None:
            return value, pos
        value += match.group(1) + (match.group(2) or "")
        pos = match.end()
        if match.group(2):
            return value, pos


_TRAILING_DIGITS = re.compile(r"\s*(\d+)(?![.\d])")


def _digits_as_subscript(text: str, pos: int, tokens: list[_Tok], *, spaces: bool) -> int:
    """``x1`` is ``x_{1}`` and ``\\mu0`` (or ``\\mu 0``) is ``\\mu_{0}``: a letter and the digits
    written right after it are one subscripted name, never a product with a number. Not after
    ``^``/``_`` or a command still owed arguments (``x^a1`` is TeX's ``x^{a}1``), nor before a
    decimal (``x1.5``). Returns where scanning continues."""
    match = _TRAILING_DIGITS.match(text, pos)
    if match is None or (not spaces and match.start(1) != pos):
        return pos
    if match.start(1) != pos and re.match(r"\s*\^", text[match.end(1) :]):
        return pos  # "\\gamma 10^{-3}" is γ·10⁻³; "\\mu0^2" is (μ_0)²
    before = tokens[-2] if len(tokens) >= 2 else None
    if before is not None and ((before.kind == "char" and before.text in "^_") or _arg_count(before)):
        return pos
    start = match.start(1)
    tokens.append(_Tok("_", start, "char"))
    tokens.append(_Tok("{", start, "open", "p"))
    tokens.append(_Tok(match.group(1), start, "num", "o"))
    tokens.append(_Tok("}", match.end(1) - 1, "close", "o"))
    return match.end(1)


def _add_bars(tokens: list[_Tok], count: int, pos: int, role: str, kind: int) -> None:
    """Append bars with their known or ambiguous role; a run of ``|`` is read in pairs (``||``)."""
    widths = [2] * count if kind == 2 else [2] * (count // 2) + [1] * (count % 2)
    for width in widths:
        double = width == 2
        if role == "mid":
            full = "par" if double else "mid"
        elif role == "par":
            full = "par"
        else:
            full = role + ("2" if double else "1")
        tokens.append(_Tok("|", pos, "bar", full))
        pos += 1 if kind == 2 else width


def _ends_operand(tok: _Tok | None) -> bool:
    if tok is None:
        return False
    if tok.kind == "bar":
        return tok.role.startswith("close")
    return tok.role in ("o", "e")


def _starts_operand(tok: _Tok | None) -> bool:
    if tok is None:
        return False
    if tok.kind == "bar":
        return tok.role.startswith("open")
    return tok.role in ("o", "p")


_BAR_TEXT = {
    "open1": "\\lvert",
    "close1": "\\rvert",
    "open2": "\\lVert",
    "close2": "\\rVert",
    "mid": "\\mid",
    "par": "\\parallel",
}


def _resolve_bars(tokens: list[_Tok]) -> list[_Tok]:
    """Decide what every ``|``/``||`` is: an abs or norm delimiter, ``p(x|z)``'s bar, or KL's ``||``.

    After an operand and before another one a bar is ambiguous: it closes an open bar of its
    kind, else opens one when a matching bar follows in the same bracket group (``p(1-p)||Γw||``),
    else it separates (``q(z|x)``, ``D(q||p)``). A ``||`` right after an open ``|`` is two bars.
    """
    group_of: list[int] = []
    stack = [0]
    next_id = 1
    for tok in tokens:
        if tok.kind in ("open", "begin"):
            stack.append(next_id)
            next_id += 1
            group_of.append(stack[-2])
        elif tok.kind in ("close", "end"):
            group_of.append(stack[-1])
            if len(stack) > 1:
                stack.pop()
        else:
            group_of.append(stack[-1])
    remaining: dict[tuple[int, int], int] = {}
    for tok, group in zip(tokens, group_of, strict=True):
        if tok.kind == "bar" and tok.role[:-1] in ("amb", "open", "close"):
            key = (group, int(tok.role[-1]))
            remaining[key] = remaining.get(key, 0) + 1
    out: list[_Tok] = []
    open_bars: dict[int, list[int]] = {}
    work = deque(zip(tokens, group_of, strict=True))
    while work:
        tok, group = work.popleft()
        if tok.kind != "bar":
            out.append(tok)
            continue
        kind = int(tok.role[-1]) if tok.role[-1] in "12" else 0
        bars = open_bars.setdefault(group, [])
        if kind:
            remaining[(group, kind)] -= 1
        role = tok.role
        if role.startswith("amb"):
            before = out[-1] if out else None
            after = work[0][0] if work else None
            if not _ends_operand(before):
                role = f"open{kind}"
            elif bars and bars[-1] == kind:
                role = f"close{kind}"
            elif kind == 2 and bars and bars[-1] == 1:
                # "|a||b|": close the single bar, then read the second half on its own
                work.appendleft((_Tok("|", tok.pos + 1, "bar", "amb1"), group))
                remaining[(group, 1)] = remaining.get((group, 1), 0) + 1
                role = "close1"
            elif not _starts_operand(after):
                role = f"close{kind}"
            elif remaining.get((group, kind), 0) > 0:
                role = f"open{kind}"
            else:
                role = "mid" if kind == 1 else "par"
        if role.startswith("open"):
            bars.append(int(role[-1]))
            out.append(_Tok(_BAR_TEXT[role], tok.pos, "open", "p"))
        elif role.startswith("close"):
            if bars and bars[-1] == int(role[-1]):
                bars.pop()
            out.append(_Tok(_BAR_TEXT[role], tok.pos, "close", "o"))
        else:
            out.append(_Tok(_BAR_TEXT[role], tok.pos, "sep", "x"))
    return out


_PAIRS = {"{": "}", "(": ")", "[": "]", "\\{": "\\}", "\\lvert": "\\rvert", "\\lVert": "\\rVert"}
_SHOWN = {"\\lvert": "|", "\\rvert": "|", "\\lVert": "||", "\\rVert": "||"}


def _describe_bracket(text: str) -> str:
    if text.startswith("\\begin") or text.startswith("\\end"):
        return text
    return _SHOWN.get(text, text)


def _check_brackets(tokens: list[_Tok], max_depth: int) -> dict[int, int]:
    """Every bracket closed by its own kind, at most ``max_depth`` deep; returns open -> close index."""
    stack: list[int] = []
    commas: list[int] = []  # top-level commas inside each open bracket
    match: dict[int, int] = {}
    for index, tok in enumerate(tokens):
        if tok.kind == "char" and tok.text == "," and commas:
            commas[-1] += 1
        if tok.kind in ("open", "begin"):
            stack.append(index)
            commas.append(0)
            if len(stack) > max_depth:
                raise _Fail(
                    f"formula nested too deeply (more than {max_depth} levels)",
                    tok.pos,
                    "simplify the formula or split it in parts",
                )
        elif tok.kind in ("close", "end"):
            if not stack:
                shown = _describe_bracket(tok.text)
                what = "braces" if tok.text == "}" else "brackets"
                raise _Fail(
                    f"unbalanced {what}: the '{shown}' at column {tok.pos + 1} has no matching opening",
                    tok.pos,
                    "remove it or add the missing opening bracket",
                )
            open_index = stack.pop()
            inner_commas = commas.pop()
            opener = tokens[open_index]
            expected = (
                _PAIRS.get(opener.text) if opener.kind == "open" else opener.text.replace("begin", "end")
            )
            half_open = {opener.text, tok.text} in ({"(", "]"}, {"[", ")"}) and opener.text in "(["
            if tok.text != expected and not (half_open and inner_commas == 1):
                raise _Fail(
                    f"the '{_describe_bracket(opener.text)}' at column {opener.pos + 1} is closed by "
                    f"'{_describe_bracket(tok.text)}' at column {tok.pos + 1}",
                    tok.pos,
                    "close each bracket with its own kind (a half-open interval like [0, 1) has one comma)",
                )
            match[open_index] = index
    if stack:
        opener = tokens[stack[-1]]
        shown = _describe_bracket(opener.text)
        what = "braces" if opener.text == "{" else "brackets"
        raise _Fail(
            f"unbalanced {what}: a '{shown}' at column {opener.pos + 1} is never closed",
            opener.pos,
            f"add the missing closing '{_describe_bracket(_PAIRS.get(opener.text, 'end'))}'",
        )
    return match


def _arg_count(tok: _Tok) -> int:
    """How many TeX arguments a token takes (``^`` and ``_`` take one)."""
    if tok.kind == "char" and tok.text in "^_":
        return 1
    if tok.kind == "cmd":
        name = tok.text[1:]
        if name == "frac":
            return 2
        if (
            name in ("sqrt", "boxed")
            or name in names.TRANSPARENT_FONTS
            or name in names.LETTER_FONTS
            or name in names.ACCENTS
        ):
            return 1
    return 0


def _single_token_argument(tok: _Tok) -> bool:
    """Whether a token can stand alone as a TeX argument (``x^2``, ``x^*``, ``\\bm x``, ``x^\\top``)."""
    if tok.kind in ("num", "word", "text"):
        return True
    if tok.kind == "char":
        return tok.text in "*'"
    if tok.kind == "cmd":
        return (
            tok.role in ("o", "e")
            or tok.text in ("\\ast", "\\star", "\\nabla", "\\partial")
            or _arg_count(tok) > 0
        )
    return False


def _brace_arguments(tokens: list[_Tok], match: dict[int, int]) -> list[_Tok]:
    """Brace every single-token argument, TeX's way: ``x^12`` -> ``x^{1}2``, ``\\frac ab`` -> ``\\frac{a}{b}``.

    Iterative: a stack of frames (a command still owed arguments, or a braced group whose closing
    index is known) replaces TeX's recursive argument reading.
    """

    @dataclass
    class Frame:
        owner: _Tok | None  # the command owed arguments; None for a group
        remaining: int = 0  # arguments still owed
        wrapped: bool = False  # the command is itself an argument we braced: close the brace after it
        close: int = -1  # for a group: index of its closing token
        is_argument: bool = False  # for a group: completing it completes an argument

    out: list[_Tok] = []
    frames: list[Frame] = []
    tokens = list(tokens)

    def completed() -> None:
        while frames and frames[-1].owner is not None:
            frame = frames[-1]
            frame.remaining -= 1
            if frame.remaining > 0:
                return
            frames.pop()
            if not frame.wrapped:
                return
            out.append(_Tok("}", out[-1].pos, "close", "o"))

    def open_command(tok: _Tok, index: int, wrapped: bool) -> int:
        frames.append(Frame(tok, _arg_count(tok), wrapped))
        if tok.text == "\\sqrt" and index < len(tokens) and tokens[index].text == "[":
            frames.append(Frame(None, close=match[index]))
            out.append(tokens[index])
            index += 1
        return index

    index = 0
    while index < len(tokens):
        tok = tokens[index]
        top = frames[-1] if frames else None
        if top is not None and top.owner is None and top.close == index:
            frames.pop()
            out.append(tok)
            index += 1
            if top.is_argument:
                completed()
            continue
        if top is None or top.owner is None:
            out.append(tok)
            index += 1
            if _arg_count(tok):
                index = open_command(tok, index, wrapped=False)
            continue
        # an argument of ``top.owner`` starts here
        if tok.kind == "open" and tok.text == "{":
            frames.append(Frame(None, close=match[index], is_argument=True))
            out.append(tok)
            index += 1
            continue
        if not _single_token_argument(tok):
            raise _Fail(*_argument_error(top.owner, tok))
        out.append(_Tok("{", tok.pos, "open", "p"))
        if tok.kind in ("num", "word") and len(tok.text) > 1:
            out.append(_Tok(tok.text[0], tok.pos, tok.kind, "o"))
            tokens[index] = _Tok(tok.text[1:], tok.pos + 1, tok.kind, "o")
        else:
            out.append(tok)
            index += 1
            if _arg_count(tok):
                index = open_command(tok, index, wrapped=True)
                continue
        out.append(_Tok("}", tok.pos, "close", "o"))
        completed()
    owed = next((f.owner for f in reversed(frames) if f.owner is not None), None)
    if owed is not None:
        raise _Fail(*_argument_error(owed, None))
    return out


def _argument_error(owner: _Tok, tok: _Tok | None) -> tuple[str, int, str]:
    what = owner.text
    pos = tok.pos if tok is not None else owner.pos
    if what in ("^", "_"):
        if tok is not None and tok.text in ("-", "+"):
            return (
                f"a signed exponent after '{what}' needs braces",
                pos,
                f"write x{what}{{{tok.text}1}}, not x{what}{tok.text}1",
            )
        if tok is not None and tok.text in ("(", "["):
            return (
                f"'{what}' takes a single token or a braced group",
                pos,
                f"write x{what}{{(k)}} with braces",
            )
        noun = "an exponent" if what == "^" else "a subscript"
        return (f"'{what}' needs {noun}", pos, f"write e.g. x{what}{{2}}")
    return (
        f"{what} is missing an argument",
        pos,
        f"write {what}{{...}}" + ("{...}" if what == "\\frac" else ""),
    )


def _join(tokens: list[_Tok], max_depth: int) -> tuple[str, list[int]]:
    """The text Lark reads (tokens separated by spaces) and each token's offset in it."""
    starts: list[int] = []
    pieces: list[str] = []
    offset = 0
    depth = 0
    for tok in tokens:
        if tok.kind in ("open", "begin"):
            depth += 1
            if depth > max_depth:
                raise _Fail(
                    f"formula nested too deeply (more than {max_depth} levels)",
                    tok.pos,
                    "simplify the formula or split it in parts",
                )
        elif tok.kind in ("close", "end"):
            depth -= 1
        starts.append(offset)
        pieces.append(tok.text)
        offset += len(tok.text) + 1
    return " ".join(pieces), starts


# ------------------------------------------------------------------------------ intermediate


@dataclass(frozen=True, slots=True)
class _Partial:
    """``\\partial body`` before a fraction turns it into a derivative; never left in a tree."""

    body: Node | None
    order: int = 1
    pos: int = 0


def _as_node(value: object) -> Node:
    """Private markers travel inside nodes until the fraction that consumes them."""
    return cast(Node, value)


@dataclass(eq=False)
class _Atom:
    """One factor before resolution: a name, a number, a group, a function or operator head..."""

    kind: str
    pos: int
    base: str = ""
    src: str = ""
    node: Node | None = None
    lst: _List | None = None
    delim: str = ""
    sub: _Arg | None = None
    sup: _Arg | None = None
    primes: int = 0
    variables: tuple[Node, ...] = ()

    @property
    def scripted(self) -> bool:
        return self.sub is not None or self.sup is not None or self.primes > 0


@dataclass(eq=False)
class _Arg:
    """A braced argument: its source (for labels), its content and its only atom, if single."""

    src: str
    pos: int
    lst: _List
    atom: _Atom | None


@dataclass(eq=False)
class _Res:
    """One resolved item of a list; a failure is kept until someone needs the node."""

    pos: int
    node: Node | None = None
    atom: _Atom | None = None
    error: _Fail | None = None
    lead: tuple[tuple[RelOp, ...], tuple[Node, ...]] | None = None

    def get(self) -> Node:
        if self.node is None:
            raise self.error or _Fail("empty formula", self.pos)
        return self.node


@dataclass(eq=False)
class _List:
    items: list[_Res]
    seps: list[str]
    pos: int


_RELOPS: dict[str, RelOp] = {
    "=": "=",
    ":=": "=",
    "\\equiv": "=",
    "\\triangleq": "=",
    "\\ne": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    "\\le": "<=",
    ">=": ">=",
    "\\ge": ">=",
    "\\approx": "approx",
    "\\simeq": "approx",
}
_ARG_SEPS = frozenset({",", ";", "\\mid", "\\parallel"})
_INDEX_LABEL = re.compile(r"\((?:[A-Za-z]+|\d+)(?:[+-]\d+)?\)")
_TOTAL_DIFF = re.compile(r"d([A-Za-z][A-Za-z0-9_]*)")
_MATRIX_KIND = re.compile(r"\\begin\{(\w+)\}")

_JUX, _JUX_PREFIX, _FUNC, _MUL, _NARROW, _ADD, _WIDE = 30, 24, 25, 20, 15, 10, 5


@dataclass(eq=False)
class _Op:
    prec: int
    binary: bool
    apply: Callable[..., Node]
    label: str
    pos: int
    integral: bool = False
    chain: str = ""  # "add"/"mul": the operands join a flat Add/Mul


@dataclass(eq=False)
class _Chain:
    """An Add or Mul still growing inside the resolver."""

    kind: str
    items: list[Node]


def _unused(*args: Node) -> Node:  # pragma: no cover - chain operators never call apply
    raise AssertionError("chain operator applied")


class _Resolver:
    """Operator precedence over one flat run of factors and operators, without recursion.

    A shunting-yard with prefix operators: unary signs, implicit-argument functions (``\\log x``),
    big operators (their precedence sets how far the body reaches) and integrals closed by
    their differential. Juxtaposition is an implicit product inserted between operands.
    """

    def __init__(self, builder: _Context, elements: Sequence[_Atom | Token]):
        self.b = builder
        self.queue: deque[_Atom | Token] = deque(elements)
        self.out: list[Node] = []
        self.ops: list[_Op] = []
        self.expect = True
        self.open_integrals = 0
        self.ratio = False
        self.last_pos = elements[0].start_pos if isinstance(elements[0], Token) else elements[0].pos

    # ---- the machine
    def run(self) -> Node:
        while self.queue:
            element = self.queue.popleft()
            if isinstance(element, Token):
                self.last_pos = element.start_pos or 0
                self._operator(element)
            else:
                self.last_pos = element.pos
                self._atom(element)
        if self.expect:
            label = self.ops[-1].label if self.ops else "the formula"
            raise _Fail(
                f"something is missing after {label}",
                self.last_pos,
                "check that every operator has an operand",
            )
        while self.ops:
            self._reduce()
        if len(self.out) != 1:  # pragma: no cover - the machine keeps one operand per pending operator
            raise _Fail("could not read this formula", self.last_pos)
        return self._done(self.out[0])

    def _operand(self, node: Node, pos: int) -> None:
        if not self.expect:
            self._binary(_JUX, "mul", "a product", pos)
        self.out.append(node)
        self.expect = False

    def _prefix(self, op: _Op) -> None:
        if not self.expect:
            self._binary(_JUX_PREFIX, "mul", "a product", op.pos)
        self.ops.append(op)
        self.expect = True
        if op.integral:
            self.open_integrals += 1

    def _binary(self, prec: int, apply: Callable[[Node, Node], Node] | str, label: str, pos: int) -> None:
        """``apply`` is a function, or ``"add"``/``"mul"`` for the flat chains."""
        while self.ops and self.ops[-1].prec >= prec:
            self._reduce()
        if isinstance(apply, str):
            self.ops.append(_Op(prec, True, _unused, label, pos, chain=apply))
        else:
            self.ops.append(_Op(prec, True, apply, label, pos))
        self.expect = True

    def _reduce(self) -> None:
        op = self.ops.pop()
        if op.binary:
            right = self.out.pop()
            left = self.out.pop()
            if op.chain:
                self.out.append(self._chain(op.chain, left, right))
            else:
                self.out.append(op.apply(self._done(left), self._done(right)))
        else:
            if op.integral:
                self.open_integrals -= 1
            self.out.append(op.apply(self._done(self.out.pop())))

    def _differential(self, var: Node, pos: int) -> None:
        """``dx`` closes the innermost open integral."""
        if self.expect:
            if not self.ops or not self.ops[-1].integral:
                raise _Fail("something is missing before the differential", pos)
            self.out.append(Num("1"))
            self.expect = False
        while not self.ops[-1].integral:
            self._reduce()
        op = self.ops.pop()
        self.open_integrals -= 1
        self.out.append(op.apply(self._done(self.out.pop()), var))
        self.expect = False

    def _chain(self, kind: str, left: Node, right: Node) -> Node:
        """Flat ``Add``/``Mul`` built in linear time: a mutable chain until something consumes it."""
        marker = cast(object, left)
        if isinstance(marker, _Chain) and marker.kind == kind:
            chain = marker
        else:
            chain = _Chain(kind, [self._done(left)])
        tail = cast(object, right)
        if isinstance(tail, _Chain) and tail.kind == kind:
            chain.items.extend(tail.items)
        else:
            chain.items.append(self._done(right))
        return _as_node(chain)

    @staticmethod
    def _done(node: Node) -> Node:
        marker = cast(object, node)
        if isinstance(marker, _Chain):
            items = tuple(marker.items)
            return Add(items) if marker.kind == "add" else Mul(items)
        return node

    # ---- operators
    def _operator(self, tok: Token) -> None:
        text = str(tok)
        pos = tok.start_pos or 0
        if tok.type == "ADDOP":
            if self.expect:
                unary: dict[str, Callable[[Node], Node]] = {
                    "-": Neg,
                    "+": lambda x: x,
                    "\\pm": lambda x: PlusMinus(None, x),
                    "\\mp": lambda x: PlusMinus(None, Neg(x)),
                }
                self.ops.append(_Op(_NARROW, False, unary[text], f"'{text}'", pos))
                return
            if text == "+":
                self._binary(_ADD, "add", "'+'", pos)
                return
            if text == "-":
                # subtracting adds the negation: a prefix Neg just above '+' wraps the next term
                self._binary(_ADD, "add", "'-'", pos)
                self.ops.append(_Op(_ADD + 1, False, Neg, "'-'", pos))
                return
            binary: dict[str, Callable[[Node, Node], Node]] = {
                "\\pm": PlusMinus,
                "\\mp": lambda a, b: PlusMinus(a, Neg(b)),
            }
            self._binary(_ADD, binary[text], f"'{text}'", pos)
            return
        if tok.type == "BANG":
            if self.expect:
                raise _Fail("'!' needs something before it", pos, "write n! for a factorial")
            self.out[-1] = Factorial(self._done(self.out[-1]))
            return
        if self.expect:
            raise _Fail(
                f"'{text}' needs something on its left",
                pos,
                "check that every operator has an operand on both sides",
            )
        if text == ":":  # a ratio a:b is the number a/b
            if self.ratio:
                raise _Fail(
                    "a ratio of three or more parts is not supported", pos, "write the parts as a list"
                )
            self.ratio = True
        if text in ("/", "\\div", ":"):
            self._binary(_MUL, Div, f"'{text}'", pos)
        elif text == "\\odot":
            self._binary(_MUL, Hadamard, f"'{text}'", pos)
        else:
            self._binary(_MUL, "mul", f"'{text}'", pos)

    # ---- atoms
    def _atom(self, a: _Atom) -> None:
        kind = a.kind
        if kind == "num":
            self._operand(self.b.scripts(Num(a.base), a), a.pos)
        elif kind in ("name", "word", "upright"):
            self._name(a)
        elif kind == "const":
            self._operand(self.b.scripts(Const("inf") if a.base == "inf" else Const("i"), a), a.pos)
        elif kind == "func":
            self._function(a, a.base)
        elif kind == "bigop":
            self._big_operator(a, a.base)
        elif kind == "argcmd":
            nxt = self.queue[0] if self.queue else None
            if (
                a.scripted
                or not isinstance(nxt, _Atom)
                or nxt.kind != "bigop"
                or nxt.base not in ("max", "min")
            ):
                raise _Fail("\\arg must be followed by \\max or \\min", a.pos, "write \\arg\\max_{x} f(x)")
            self.queue.popleft()
            self._big_operator(nxt, "arg" + nxt.base)
        elif kind == "group":
            self._operand(self.b.group_value(a), a.pos)
        elif kind == "node":
            assert a.node is not None
            self._operand(self.b.scripts(a.node, a), a.pos)
        elif kind == "text":
            if a.scripted:
                raise _Fail("text cannot carry a sub- or superscript", a.pos)
            self._operand(Text(a.base), a.pos)
        elif kind == "E":
            self._expectation(a, brackets=("[", "("))
        elif kind == "nabla":
            self._nabla(a)
        elif kind == "partial":
            self._partial(a)
        elif kind == "diffop":
            variables = a.variables
            self._prefix(
                _Op(_NARROW, False, lambda x: Call("diff", (x, *variables)), "the derivative", a.pos)
            )
        elif kind == "star":
            raise _Fail("'*' here needs something on its left", a.pos)
        else:  # top, primecmd
            raise _Fail(f"{a.base} is only read as a superscript, like X^\\top or f^\\prime", a.pos)

    def _peek_group(self, delims: tuple[str, ...] = ("(",)) -> _Atom | None:
        nxt = self.queue[0] if self.queue else None
        if isinstance(nxt, _Atom) and nxt.kind == "group" and nxt.delim in delims:
            return nxt
        return None

    def _call_args(self, group: _Atom) -> tuple[Node, ...]:
        lst = group.lst
        assert lst is not None
        bad = next((s for s in lst.seps if s not in _ARG_SEPS), None)
        if bad is not None:
            raise _Fail(
                f"'{bad}' cannot separate function arguments", lst.pos, "separate arguments with commas"
            )
        return tuple(item.get() for item in lst.items)

    def _apply(self, func: str, group: _Atom, pos: int, extra: tuple[Node, ...] = ()) -> Node:
        """``func(args)`` with the group's own scripts (``f(x)^2``) applied to the call."""
        self.queue.popleft()
        node = Call(self.b.safe(func, pos), self._call_args(group) + extra)
        return self.b.scripts(node, group)

    def _name(self, a: _Atom) -> None:
        b = self.b
        base = a.base
        plain = not a.scripted
        if a.kind == "word" and len(base) > 1 and not b.declared(base):
            if self._word(a):
                return
            self._split(a)
            return
        if a.kind == "upright" and not b.declared(base):
            if self._upright(a):
                return
        if (
            base == "E"
            and a.sup is None
            and not a.primes
            and not b.declared("E")
            and self._peek_group(("[",))
        ):
            self._expectation(a, brackets=("[",))  # E[X], E_{x \sim p}[f(x)]
            return
        if base == "d" and plain and self.open_integrals and not b.declared("d"):
            nxt = self.queue[0] if self.queue else None
            if (
                isinstance(nxt, _Atom)
                and nxt.kind in ("name", "word", "upright")
                and not nxt.sup
                and not nxt.primes
            ):
                self.queue.popleft()
                if nxt.kind == "word" and len(nxt.base) > 1:
                    self._split(nxt)
                    nxt = cast(_Atom, self.queue.popleft())
                self._differential(Sym(b.safe(b.name_of(nxt)[0], nxt.pos)), a.pos)
                return
        name, post = b.name_of(a)
        name = b.safe(b.alias(name), a.pos)
        decl = b.symbols.get(name)
        group = self._peek_group(("(", "["))
        if isinstance(decl, FunctionSymbol) or (group is not None and _called(group) and _conditional(group)):
            if group is not None and (group.delim == "(" or "\\parallel" in _seps(group)):
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return
            self._operand(post(Sym(name)) if post else Sym(name), a.pos)
            return
        if decl is None:
            if name == "e":
                self._operand(post(Const("e")) if post else Const("e"), a.pos)
                return
            if name == "pi" and a.kind == "name":
                self._operand(post(Const("pi")) if post else Const("pi"), a.pos)
                return
            if group is not None and _called(group):
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return
        self._operand(post(Sym(name)) if post else Sym(name), a.pos)

    def _word(self, a: _Atom) -> bool:
        """A run of letters: a whitelisted name, a differential, an upright call, or letters to split."""
        word = a.base
        if word in ("max", "min", "argmax", "argmin"):
            self._big_operator(a, word)
            return True
        func = canonical_function(word)
        if func is not None:
            self._function(a, func)
            return True
        if (
            self.open_integrals
            and len(word) == 2
            and word[0] == "d"
            and not a.scripted
            and not self.b.declared("d")
        ):
            self._differential(Sym(word[1]), a.pos)
            return True
        group = self._peek_group(("(", "["))
        if (
            group is not None
            and (word[0].isupper() or _called(group))
            and not self.b.all_declared_values(word)
        ):
            if group.delim == "(" or "\\parallel" in _seps(group):
                name, post = self.b.name_of(a)
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return True
        return False

    def _split(self, a: _Atom) -> None:
        """``xy`` is x times y: letters become atoms, the scripts go to the last one (TeX's rule)."""
        letters = [_Atom("word", a.pos + k, base=ch, src=ch) for k, ch in enumerate(a.base)]
        letters[-1].sub, letters[-1].sup, letters[-1].primes = a.sub, a.sup, a.primes
        self.queue.extendleft(reversed(letters))

    def _upright(self, a: _Atom) -> bool:
        """``\\mathrm{...}``/``\\text{...}`` words: functions, operators, constants, calls, or prose."""
        word = a.base
        if word in OPERATOR_ALIASES and word not in ("int",):
            self._big_operator(a, OPERATOR_ALIASES[word])
            return True
        func = canonical_function(word)
        if func is not None:
            self._function(a, func)
            return True
        if not a.scripted and word in ("e", "i"):
            self._operand(Const("e") if word == "e" else Const("i"), a.pos)
            return True
        if word == "E" and (a.sub is not None or self._peek_group(("[", "("))):
            self._expectation(a, brackets=("[", "("))
            return True
        if len(word) == 1 or (word == "d" and self.open_integrals):
            return False
        group = self._peek_group(("(", "["))
        if (
            group is not None
            and not self.b.all_declared_values(word)
            and (group.delim == "(" or "\\parallel" in _seps(group))
        ):
            name, post = self.b.name_of(a)
            node = self._apply(name, group, a.pos)
            self._operand(post(node) if post else node, a.pos)
            return True
        if not a.scripted:
            self._operand(Text(word), a.pos)
            return True
        return False

    def _function(self, a: _Atom, func: str) -> None:
        """A whitelisted function: ``f(args)``, or with an implicit argument (``\\log x``)."""
        b = self.b
        extra: tuple[Node, ...] = ()
        if a.primes:
            raise _Fail(f"a prime on {func} is not supported", a.pos, "derivatives are written \\frac{d}{dx}")
        if a.sub is not None:
            if func != "log":
                raise _Fail(f"{func} takes no subscript", a.sub.pos)
            extra = (b.arg_node(a.sub),)
        post: Callable[[Node], Node] | None = None
        if a.sup is not None:
            exponent = b.exponent(a.sup)
            if exponent == Num("-1") and func in INVERSE_FUNCTIONS:
                func = INVERSE_FUNCTIONS[func]
            else:
                post = lambda n: Pow(n, exponent)  # noqa: E731
        group = self._peek_group(("(",))
        if func == "det":
            group = group or self._peek_group(("abs",))
        if group is not None:
            if group.delim == "abs":
                self.queue.popleft()
                node: Node = b.scripts(Call("det", (b.single(group),)), group)
            else:
                node = self._apply(func, group, a.pos, extra)
                call = _inner_call(node)
                if call is not None and not arity_ok(func, len(call.args)):
                    raise _Fail(
                        f"{func} takes {_arity_text(func)}, not {len(call.args)}",
                        group.pos,
                        f"write {func}(x)",
                    )
            self._operand(post(node) if post else node, a.pos)
            return
        if func in ("max", "min"):
            raise _Fail(f"{func} needs its arguments in parentheses", a.pos)

        def implicit(x: Node, func: str = func, extra: tuple[Node, ...] = extra) -> Node:
            node = Call(func, (x, *extra))
            return post(node) if post else node

        self._prefix(_Op(_FUNC, False, implicit, f"\\{func}", a.pos))

    def _big_operator(self, a: _Atom, name: str) -> None:
        b = self.b
        if a.primes:
            raise _Fail(f"a prime on \\{name} is not supported", a.pos)
        sub = b.sub_node(a.sub) if a.sub is not None else None
        sup = b.arg_node(a.sup) if a.sup is not None else None
        if name in ("max", "min") and sub is None and sup is None:
            group = self._peek_group(("(",))
            if group is not None and group.lst is not None and len(group.lst.items) >= 2:
                self._operand(self._apply(name, group, a.pos), a.pos)
                return
        wide = name in WIDE_OPERATORS
        op_name = cast(Any, name)

        def build(body: Node, var: Node | None = None) -> Node:
            return Operator(op_name, body, sub if sub is not None else var, sup)

        self._prefix(
            _Op(_WIDE if wide else _NARROW, False, build, f"\\{name}", a.pos, integral=name == "int")
        )

    def _expectation(self, a: _Atom, brackets: tuple[str, ...]) -> None:
        b = self.b
        if a.sup is not None or a.primes:
            raise _Fail(
                "an expectation cannot carry a superscript", a.pos, "write \\mathbb{E}[X]^2 for its square"
            )
        sub = b.sub_node(a.sub) if a.sub is not None else None
        group = self._peek_group(brackets)
        if group is not None:
            self.queue.popleft()
            node = b.scripts(Operator("E", b.single(group), sub), group)
            self._operand(node, a.pos)
            return
        self._prefix(_Op(_NARROW, False, lambda x: Operator("E", x, sub), "\\mathbb{E}", a.pos))

    def _nabla(self, a: _Atom) -> None:
        b = self.b
        var = b.arg_node(a.sub) if a.sub is not None else None
        order = 1
        if a.sup is not None:
            exponent = b.arg_node(a.sup)
            if not (isinstance(exponent, Num) and exponent.text in ("1", "2", "3")):
                raise _Fail("\\nabla takes an order of 1, 2 or 3", a.sup.pos)
            order = int(exponent.text)

        def gradient(body: Node) -> Node:
            for _ in range(order):
                body = Call("grad", (body,) if var is None else (body, var))
            return body

        self._prefix(_Op(_NARROW, False, gradient, "\\nabla", a.pos))

    def _partial(self, a: _Atom) -> None:
        b = self.b
        order = 1
        if a.sup is not None:
            exponent = b.arg_node(a.sup)
            if not (isinstance(exponent, Num) and exponent.text.isdigit() and 0 < int(exponent.text) < 10):
                raise _Fail("\\partial takes a small whole order, like \\partial^2", a.sup.pos)
            order = int(exponent.text)
        if a.sub is not None:
            var = b.arg_node(a.sub)
            self._prefix(
                _Op(_NARROW, False, lambda x: Call("diff", (x, *([var] * order))), "\\partial", a.pos)
            )
            return
        if not self.queue:
            self._operand(_as_node(_Partial(None, order, a.pos)), a.pos)
            return
        self._prefix(_Op(_FUNC, False, lambda x: _as_node(_Partial(x, order, a.pos)), "\\partial", a.pos))


def _seps(group: _Atom) -> list[str]:
    return group.lst.seps if group.lst is not None else []


def _conditional(group: _Atom) -> bool:
    """``(x|z)`` or ``(q||p)``: a bar no product could explain, even after a declared scalar."""
    return group.lst is not None and any(s in ("\\mid", "\\parallel") for s in group.lst.seps)


def _called(group: _Atom) -> bool:
    """Parentheses after a name that only a function call explains: ``(a, b)``, ``(x|z)``, ``(q||p)``."""
    lst = group.lst
    if lst is None:
        return False
    if group.delim == "[":
        return "\\parallel" in lst.seps
    return len(lst.items) >= 2 and all(s in _ARG_SEPS for s in lst.seps)


def _inner_call(node: Node) -> Call | None:
    while isinstance(node, Pow | Transpose):
        node = node.base if isinstance(node, Pow) else node.arg
    return node if isinstance(node, Call) else None


def _arity_text(func: str) -> str:
    if func in ("max", "min"):
        return "two or more arguments"
    if func == "log":
        return "one argument (and an optional base)"
    from grader.math.functions import KNOWN_FUNCTIONS

    count = KNOWN_FUNCTIONS.get(func, 1)
    return "one argument" if count == 1 else f"{count} arguments"


# --------------------------------------------------------------------------------- context


class _Context:
    """What building needs besides the tree: the SymbolTable, the Lark text, and shared rules."""

    def __init__(self, text: str, symbols: SymbolTable | None):
        self.text = text
        self.symbols = symbols or SymbolTable()
        self.warnings: list[str] = []
        self.aliases: dict[str, str] = {}
        for name, decl in self.symbols.symbols.items():
            for spelling in decl.latex:
                try:
                    alias = names.canonical_name(spelling)
                except names.LabelError:
                    continue
                if alias and alias != name:
                    self.aliases[alias] = name
        self.has_sup_names = any("^" in name for name in (*self.symbols.symbols, *self.aliases))

    # ---- symbols
    def alias(self, name: str) -> str:
        return self.aliases.get(name, name)

    def declared(self, name: str) -> bool:
        return self.alias(name) in self.symbols.symbols

    def is_scalar(self, name: str) -> bool:
        return isinstance(self.symbols.get(name), ScalarSymbol)

    def all_declared_values(self, word: str) -> bool:
        """``XR``: every letter a declared non-function symbol, so letters multiply."""
        return all(self.declared(ch) and not self.symbols.is_function(self.alias(ch)) for ch in word)

    def safe(self, name: str, pos: int) -> str:
        if "__" in name:
            raise _Fail(
                f"'{name}' cannot be a name: names may not contain '__'",
                pos,
                "use single underscores for subscripts",
            )
        if not names.is_safe_name(name):
            raise _Fail(
                f"'{name}' cannot be used as a name", pos, "use letters, digits and simple sub/superscripts"
            )
        return name

    # ---- scripts and labels
    def label(self, arg: _Arg) -> str:
        if len(arg.src) > _LABEL_MAX:
            raise _Fail(
                "this subscript is too long to be part of a name", arg.pos, "use a short label like x_{ij}"
            )
        try:
            return names.canonical_text(arg.src)
        except names.LabelError:
            raise _Fail("this subscript is nested too deeply to be part of a name", arg.pos) from None

    def classify_sup(self, arg: _Arg) -> str:
        """``label`` (part of the name), ``transpose`` or ``power``; see the module docstring."""
        atom = arg.atom
        if atom is None:
            return "power"
        if atom.kind in ("star", "primecmd"):
            return "label"
        if atom.kind == "top":
            return "transpose"
        if atom.scripted:
            return "power"
        if atom.kind in ("word", "upright") and atom.base == "T":
            return "transpose"
        if atom.kind in ("upright", "text"):
            return "label"
        if atom.kind == "group" and atom.delim == "(" and len(atom.src) < 40:
            if _INDEX_LABEL.fullmatch(names.canonical_text(atom.src)):
                return "label"
        return "power"

    def name_of(self, a: _Atom) -> tuple[str, Callable[[Node], Node] | None]:
        """The symbol's name and, when the superscript is not a label, what it does to the symbol."""
        sub = self.label(a.sub) if a.sub is not None else None
        primes = "'" * a.primes
        if a.sup is None:
            return names.compose(a.base, sub, primes or None), None
        kind = self.classify_sup(a.sup)
        if kind == "label":
            return names.compose(a.base, sub, self.label(a.sup) + primes), None
        if self.has_sup_names and len(a.sup.src) <= _LABEL_MAX:
            try:
                full = names.compose(a.base, sub, names.canonical_text(a.sup.src) + primes)
            except names.LabelError:
                full = ""
            if full and self.declared(full):
                return full, None
        plain = names.compose(a.base, sub, primes or None)
        if kind == "transpose" and not self.is_scalar("T"):
            return plain, Transpose
        exponent = self.exponent(a.sup)
        return plain, lambda node: Pow(node, exponent)

    def exponent(self, arg: _Arg) -> Node:
        """The exponent; a negative literal stays one number so ``^{-1}`` is ``Num("-1")``."""
        node = self.arg_node(arg)
        if isinstance(node, Neg) and isinstance(node.arg, Num):
            return Num("-" + node.arg.text)
        return node

    def arg_node(self, arg: _Arg) -> Node:
        items = arg.lst.items
        if not items:
            raise _Fail("empty braces {}", arg.pos, "put something inside the braces")
        if len(items) > 1:
            raise _Fail("braces { } hold one expression here", arg.pos, "remove the commas")
        return items[0].get()

    def sub_node(self, arg: _Arg) -> Node:
        """An operator's subscript: ``k=1``, ``x \\sim p`` or ``x \\to 0`` (a (variable, target) tuple), ``i, j``."""
        lst = arg.lst
        if len(lst.items) <= 1:
            return self.arg_node(arg)
        if all(sep == "," for sep in lst.seps) or (len(lst.items) == 2 and lst.seps[0] in ("\\sim", "\\to")):
            return Seq(tuple(item.get() for item in lst.items), "tuple")
        raise _Fail(
            "this subscript cannot be read", arg.pos, "write e.g. \\mathbb{E}_{x \\sim p} or \\sum_{k=1}^{n}"
        )

    def scripts(self, node: Node, a: _Atom, *, allow_sub: bool = False) -> Node:
        """Superscripts on something that is not a name: transpose or power; labels are errors."""
        if a.sub is not None and not allow_sub:
            raise _Fail(
                "a subscript here would be an index, which is not supported",
                a.sub.pos,
                "give the entry its own name, e.g. x_{ij}",
            )
        if a.primes:
            raise _Fail(
                "a prime (') is only read as part of a name, like f'", a.pos, "name the derivative, e.g. f'"
            )
        if a.sup is None:
            return node
        kind = self.classify_sup(a.sup)
        if kind == "transpose" and not self.is_scalar("T"):
            return Transpose(node)
        if kind == "label":
            raise _Fail(
                f"'^{self.label(a.sup)}' is only read as part of a name, like D^*",
                a.sup.pos,
                "attach it to a symbol, e.g. x^*",
            )
        return Pow(node, self.exponent(a.sup))

    # ---- groups
    def single(self, group: _Atom) -> Node:
        lst = group.lst
        if lst is None or len(lst.items) != 1:
            raise _Fail("expected one expression inside the brackets", group.pos, "remove the commas")
        return lst.items[0].get()

    def group_value(self, a: _Atom) -> Node:
        """A bracket group standing on its own (not a function's arguments)."""
        lst = a.lst
        items = lst.items if lst is not None else []
        seps = lst.seps if lst is not None else []
        delim = a.delim
        odd = next((s for s in seps if s not in (",", ";")), None)
        if odd is not None and delim != "\\{":
            shown = {"\\mid": "|", "\\parallel": "||"}.get(odd, odd)
            raise _Fail(
                f"'{shown}' inside brackets needs a function in front, like p(x|z) or D_{{KL}}(q||p)",
                a.pos,
                "write the function name before the parentheses",
            )
        if delim == "{":
            if not items:
                raise _Fail("empty braces {}", a.pos, "put something inside the braces")
            if len(items) > 1:
                # TeX would print "1, 3" without braces; the student meant a set
                self.warnings.append("read '{...}' with commas as a set; write \\{ \\} for set braces")
                node: Node = Seq(tuple(item.get() for item in items), "set")
            else:
                node = items[0].get()
        elif delim in ("(]", "[)"):
            if len(items) != 2 or seps != [","]:
                raise _Fail("an interval has two ends", a.pos, "write it like [0, 1)")
            node = Interval(items[0].get(), items[1].get(), delim[0] == "(", delim[1] == ")")
        elif delim == "\\{":
            if odd is not None or re.search(r":(?!=)", a.src):
                raise _Fail(
                    "set-builder notation is not supported", a.pos, "list the elements, e.g. \\{1, 2\\}"
                )
            node = Seq(tuple(item.get() for item in items), "set")
        elif len(items) > 1:
            if delim in ("abs", "norm"):
                raise _Fail("a norm or absolute value holds one expression", a.pos, "remove the commas")
            node = Seq(tuple(item.get() for item in items), "tuple" if delim == "(" else "list")
        else:
            node = items[0].get()
            if delim == "abs":
                node = Norm(node, "abs")
            elif delim == "norm":
                node = Norm(node, self.norm_kind(a))
                return self.scripts(node, replace(a, sub=None))
        return self.scripts(node, a)

    def norm_kind(self, a: _Atom) -> Any:
        if a.sub is None:
            return "2"
        label = self.label(a.sub)
        kinds = {"2": "2", "1": "1", "inf": "inf", "infty": "inf", "F": "fro", "fro": "fro", "Fro": "fro"}
        if label not in kinds:
            raise _Fail(
                f"unknown norm ||.||_{label}", a.sub.pos, "use ||x||, ||x||_1, ||x||_\\infty or ||X||_F"
            )
        return kinds[label]

    # ---- commands
    def font(self, command: str, arg: _Arg, pos: int, src: str) -> _Atom:
        inner = arg.atom
        namelike = inner is not None and inner.kind in ("name", "word", "upright")
        if command == "boxed":
            return _Atom("node", pos, node=self.arg_node(arg), src=src)
        if command in names.TRANSPARENT_FONTS:
            if inner is not None and inner.kind in ("name", "word", "upright", "num", "const", "E"):
                return replace(inner, pos=pos)
            return _Atom("node", pos, node=self.arg_node(arg), src=src)
        if command in names.LETTER_FONTS:
            if inner is not None and (namelike or inner.kind == "num") and not inner.scripted:
                if command == "mathbb" and inner.base == "E":
                    return _Atom("E", pos, base="E", src=src)
                return _Atom("name", pos, base=f"{command}_{inner.base}", src=src)
            raise _Fail(f"\\{command} needs a single letter, like \\{command}{{L}}", pos)
        if inner is not None and namelike:
            base = self.label(arg) if inner.scripted else inner.base
            return _Atom("name", pos, base=f"{base}_{names.ACCENTS[command]}", src=src)
        raise _Fail(f"\\{command} needs a single symbol, like \\{command}{{x}}", pos)

    def fraction(self, num_arg: _Arg, den_arg: _Arg, pos: int) -> _Atom:
        num = self.arg_node(num_arg)
        den = self.arg_node(den_arg)
        den_parts = den.factors if isinstance(den, Mul) else (den,)
        if all(isinstance(part, _Partial) for part in den_parts):
            variables: list[Node] = []
            for part in den_parts:
                body = cast(_Partial, part).body
                if body is None:
                    raise _Fail(
                        "\\partial needs a variable below the line",
                        den_arg.pos,
                        "write \\frac{\\partial f}{\\partial x}",
                    )
                if isinstance(body, Pow) and isinstance(body.exp, Num) and body.exp.text in ("2", "3"):
                    variables.extend([body.base] * int(body.exp.text))
                else:
                    variables.append(body)
            top = cast(object, num)
            if isinstance(top, _Partial):
                if top.body is None:
                    return _Atom("diffop", pos, variables=tuple(variables))
                return _Atom("node", pos, node=Call("diff", (top.body, *variables)))
            raise _Fail(
                "a derivative needs \\partial on top too", pos, "write \\frac{\\partial f}{\\partial x}"
            )
        if not self.declared("d") and len(num_arg.src) < 40 and len(den_arg.src) < 40:
            top_text = names.canonical_text(num_arg.src)
            bottom = _TOTAL_DIFF.fullmatch(names.canonical_text(den_arg.src))
            if bottom is not None:
                var = Sym(self.safe(bottom.group(1), den_arg.pos))
                if top_text == "d":
                    return _Atom("diffop", pos, variables=(var,))
                over = _TOTAL_DIFF.fullmatch(top_text)
                if over is not None:
                    return _Atom(
                        "node", pos, node=Call("diff", (Sym(self.safe(over.group(1), num_arg.pos)), var))
                    )
        return _Atom("node", pos, node=Div(num, den))

    def matrix(self, begin: Token, cells: list[Any], end: Token, pos: int) -> _Atom:
        kind = str(begin)[len("\\begin{") : -1]
        closing = str(end)[len("\\end{") : -1]
        if kind != closing:
            raise _Fail(
                f"\\begin{{{kind}}} is closed by \\end{{{closing}}}", end.start_pos, f"write \\end{{{kind}}}"
            )
        rows: list[list[_List | None]] = [[]]
        for cell in cells:
            if isinstance(cell, Token):
                if cell.type == "ROWSEP":
                    rows.append([])
                continue
            rows[-1].append(cell)
        if len(rows) > 1 and rows[-1] == [None]:
            rows.pop()  # a trailing \\
        values: list[tuple[Node, ...]] = []
        for number, row in enumerate(rows, start=1):
            entries: list[Node] = []
            for cell in row:
                if cell is None:
                    raise _Fail(
                        f"row {number} of the matrix has an empty entry", pos, "write 0 for a zero entry"
                    )
                if len(cell.items) != 1:
                    raise _Fail(
                        f"row {number} of the matrix has commas in an entry",
                        cell.pos,
                        "separate entries with &",
                    )
                entries.append(cell.items[0].get())
            values.append(tuple(entries))
        width = len(values[0])
        for number, row_values in enumerate(values, start=1):
            if len(row_values) != width:
                raise _Fail(
                    f"row {number} of the matrix has {_entries(len(row_values))}, row 1 has {_entries(width)}",
                    pos,
                    "give every row the same number of &",
                )
        node: Node = MatrixLit(tuple(values))
        if kind == "vmatrix":
            node = Call("det", (node,))
        elif kind == "Vmatrix":
            node = Norm(node, "2")
        return _Atom("node", pos, node=node)

    def resolve(self, elements: Sequence[_Atom | Token]) -> Node:
        return _Resolver(self, elements).run()

    # ---- the whole formula
    def solutions(self, row: _List) -> Node | None:
        """``p=5, q=2; p=7, q=2``: with both separators, ``;`` separates groups of comma-separated
        items (here two solutions); a list of the groups. None for any other row."""
        if not ({",", ";"} <= set(row.seps) <= {",", ";"}) or any(item.lead for item in row.items):
            return None
        groups: list[list[Node]] = [[]]
        for k, item in enumerate(row.items):
            if k > 0 and row.seps[k - 1] == ";":
                groups.append([])
            groups[-1].append(item.get())
        self.warnings.append("read ';' as separating groups of comma-separated items")
        return Seq(tuple(_commas(group) for group in groups), "list")

    def top(self, rows: list[_List]) -> Node:
        """Lines and commas: ``a = b \\\\ &= c`` continues a relation; ``x = 1, 2`` lists the right side."""
        statements: list[Node] = []
        for row in rows:
            solutions = self.solutions(row)
            if solutions is not None:
                statements.append(solutions)
                continue
            group: list[Node] = []
            groups = [group]
            for k, item in enumerate(row.items):
                if k > 0:
                    sep = row.seps[k - 1]
                    if sep == "\\to":
                        if not self.warnings or "separator between statements" not in self.warnings[-1]:
                            self.warnings.append("read '\\to' as a separator between statements")
                        group = []
                        groups.append(group)
                    elif sep not in (",", ";"):
                        shown = {"\\mid": "|", "\\parallel": "||", "\\sim": "\\sim"}[sep]
                        raise _Fail(
                            f"'{shown}' is only read inside a function's parentheses or an operator's subscript",
                            item.pos,
                            "write p(x|z), D_{KL}(q||p) or \\mathbb{E}_{x \\sim p}[...]",
                        )
                if item.lead is not None and k == 0:
                    ops, rhs = item.lead
                    if statements and not group and len(groups) == 1:
                        previous = statements.pop()
                        items = previous.items if isinstance(previous, Relation) else (previous,)
                        before = previous.ops if isinstance(previous, Relation) else ()
                        group.append(Relation(items + rhs, before + ops))
                    else:
                        self.warnings.append(
                            "the formula starts with a relation sign; it was read as what follows it"
                        )
                        group.append(rhs[0] if len(rhs) == 1 else Relation(rhs, ops[1:]))
                    continue
                group.append(item.get())
            statements.extend(_commas(g) for g in groups if g)
        if not statements:
            raise _Fail("empty formula", 0, "write a formula between the $ signs")
        return statements[0] if len(statements) == 1 else Seq(tuple(statements), "list")


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _commas(items: list[Node]) -> Node:
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


# ------------------------------------------------------------------------------ lark pass


def _pos(meta: Any) -> int:
    return int(getattr(meta, "start_pos", 0) or 0)


_OPERATOR_TOKENS = frozenset({"BINOP", "STARLIKE", "ADDOP", "BANG"})


class _Builder:
    """Grammar rule -> intermediate value; each ``seq`` is resolved as soon as it is complete.

    The walk is post-order over an explicit stack (no recursion), and rule methods are called
    directly as ``rule(meta, children)``: cheaper than Lark's transformer wrappers on long input.
    """

    def __init__(self, ctx: _Context):
        self.c = ctx

    def transform(self, tree: Tree[Token]) -> Any:
        order: list[Tree[Token] | Token] = []
        stack: list[Tree[Token] | Token] = [tree]
        while stack:
            item = stack.pop()
            order.append(item)
            if isinstance(item, Tree):
                stack.extend(item.children)
        values: list[Any] = []
        for item in reversed(order):
            if isinstance(item, Tree):
                count = len(item.children)
                args = values[len(values) - count :] if count else []
                if count:
                    del values[len(values) - count :]
                values.append(getattr(self, item.data)(item.meta, args))
            else:
                values.append(item)
        return values[0]

    def _src(self, meta: Any) -> str:
        return self.c.text[meta.start_pos : meta.end_pos] if not meta.empty else ""

    @staticmethod
    def _atom(value: _Atom | Token) -> _Atom:
        """A primary as an atom; single-token primaries arrive as tokens."""
        if isinstance(value, _Atom):
            return value
        text = str(value)
        pos = value.start_pos or 0
        kind = value.type
        if kind == "NUMBER":
            return _Atom("num", pos, base=text, src=text)
        if kind == "WORD":
            return _Atom("word", pos, base=text, src=text)
        if kind == "GREEK":
            return _Atom("name", pos, base=names.GREEK[text[1:]], src=text)
        if kind == "CONSTCMD":
            return _Atom("const", pos, base="inf" if text == "\\infty" else "i")
        if kind == "UPRIGHT":
            return _Atom("upright", pos, base=text[len("\\mathrm{") : -1], src=text)
        if kind == "TEXT":
            return _Atom("text", pos, base=text[len("\\text{") : -1].strip())
        if kind == "FUNC":
            return _Atom("func", pos, base=FUNCTION_ALIASES.get(text[1:], text[1:]))
        if kind == "BIGOP":
            return _Atom("bigop", pos, base=text[1:])
        simple = {
            "ARGCMD": "argcmd",
            "NABLA": "nabla",
            "PARTIAL": "partial",
            "TOP": "top",
            "PRIMECMD": "primecmd",
        }
        return _Atom(simple[kind], pos, base=text)

    @staticmethod
    def _arg(brace: _Atom) -> _Arg:
        """A braced argument: its source (for labels), its content, and its only atom if single."""
        lst = brace.lst or _List([], [], brace.pos)
        atom = lst.items[0].atom if len(lst.items) == 1 else None
        return _Arg(brace.src, brace.pos, lst, atom)

    def start(self, meta: Any, ch: list[Any]) -> Node:
        return cast(Node, ch[0])

    def lines(self, meta: Any, ch: list[Any]) -> Node:
        return self.c.top([c for c in ch if isinstance(c, _List)])

    def items(self, meta: Any, ch: list[Any]) -> _List:
        return _List(
            [c for c in ch if isinstance(c, _Res)], [str(c) for c in ch if isinstance(c, Token)], _pos(meta)
        )

    def relation(self, meta: Any, ch: list[Any]) -> _Res:
        items = tuple(cast(_Res, c).get() for c in ch[0::2])
        ops = tuple(_RELOPS[str(t)] for t in ch[1::2])
        return _Res(_pos(meta), Relation(items, ops))

    def leading_relation(self, meta: Any, ch: list[Any]) -> _Res:
        ops = tuple(_RELOPS[str(t)] for t in ch[0::2])
        nodes = tuple(cast(_Res, c).get() for c in ch[1::2])
        error = _Fail(
            f"'{ch[0]}' needs something on its left", _pos(meta), "write both sides of the relation"
        )
        return _Res(_pos(meta), error=error, lead=(ops, nodes))

    def seq(self, meta: Any, ch: list[Any]) -> _Res:
        pos = _pos(meta)
        elements: list[_Atom | Token] = [
            c if isinstance(c, Token) and c.type in _OPERATOR_TOKENS else self._atom(c) for c in ch
        ]
        if len(elements) == 1 and isinstance(elements[0], Token):
            tok = elements[0]
            if str(tok) == "\\cdot":  # the placeholder in \mathbb{E}[\cdot]
                return _Res(pos, Text("\\cdot"))
            if tok.type == "STARLIKE":
                return _Res(
                    pos,
                    atom=_Atom("star", pos, base="*"),
                    error=_Fail("'*' needs something on both sides", pos),
                )
        last = elements[-1]
        if (
            len(elements) >= 2
            and isinstance(last, Token)
            and str(last) == "*"
            and isinstance(elements[-2], _Atom)
        ):
            # "y* = ..." is how people type y^*: a trailing star labels the name before it
            named = elements[-2]
            if named.kind in ("name", "word", "upright") and named.sup is None and not named.primes:
                star = _Atom("star", last.start_pos or 0, base="*")
                named.sup = _Arg("*", star.pos, _List([], [], star.pos), star)
                self.c.warnings.append("read a trailing '*' as the label ^*")
                elements = elements[:-1]
        single = elements[0] if len(elements) == 1 and isinstance(elements[0], _Atom) else None
        try:
            node = self.c.resolve(elements)
        except _Fail as fail:
            if single is None:
                raise
            return _Res(pos, atom=single, error=fail)
        return _Res(pos, node, atom=single)

    def scripted(self, meta: Any, ch: list[Any]) -> _Atom:
        atom = self._atom(ch[0])
        for kind, value in ch[1:]:
            if kind == "sub":
                if atom.sub is not None:
                    raise _Fail(
                        "double subscript",
                        value.pos,
                        "put the whole subscript in one pair of braces, like x_{ij}",
                    )
                atom.sub = value
            elif kind == "sup":
                if atom.sup is not None or atom.primes:
                    raise _Fail(
                        "double superscript", value.pos, "put the whole exponent in braces, like x^{ab}"
                    )
                atom.sup = value
            else:
                if atom.sup is not None:
                    raise _Fail(
                        "a prime after a superscript", atom.pos, "write the prime first, like f'^2 or (f')^2"
                    )
                atom.primes += value
        return atom

    def sub(self, meta: Any, ch: list[Any]) -> tuple[str, _Arg]:
        return ("sub", self._arg(ch[1]))

    def sup(self, meta: Any, ch: list[Any]) -> tuple[str, _Arg]:
        return ("sup", self._arg(ch[1]))

    def prime(self, meta: Any, ch: list[Any]) -> tuple[str, int]:
        return ("prime", len(str(ch[0])))

    def _group(self, meta: Any, ch: list[Any], delim: str) -> _Atom:
        lst = next((c for c in ch if isinstance(c, _List)), None)
        return _Atom(
            "group", _pos(meta), delim=delim, lst=lst or _List([], [], _pos(meta)), src=self._src(meta)
        )

    def brace(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "{")

    def paren(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "(")

    def bracket(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "[")

    def interval(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, str(ch[0]) + str(ch[-1]))

    def setgroup(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "\\{")

    def absgroup(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "abs")

    def normgroup(self, meta: Any, ch: list[Any]) -> _Atom:
        return self._group(meta, ch, "norm")

    def frac(self, meta: Any, ch: list[Any]) -> _Atom:
        return self.c.fraction(self._arg(ch[1]), self._arg(ch[2]), _pos(meta))

    def sqrt(self, meta: Any, ch: list[Any]) -> _Atom:
        body = self.c.arg_node(self._arg(ch[-1]))
        index = next((c for c in ch if isinstance(c, _List)), None)
        if index is None:
            return _Atom("node", _pos(meta), node=Call("sqrt", (body,)))
        if len(index.items) != 1:
            raise _Fail("\\sqrt[n] takes one index", index.pos)
        return _Atom("node", _pos(meta), node=Call("root", (body, index.items[0].get())))

    def font(self, meta: Any, ch: list[Any]) -> _Atom:
        return self.c.font(str(ch[0])[1:], self._arg(ch[1]), _pos(meta), self._src(meta))

    def env(self, meta: Any, ch: list[Any]) -> _Atom:
        return self.c.matrix(ch[0], ch[1], ch[2], _pos(meta))

    def cells(self, meta: Any, ch: list[Any]) -> list[Any]:
        return ch

    def cell(self, meta: Any, ch: list[Any]) -> _List | None:
        return cast(_List, ch[0]) if ch else None


# ------------------------------------------------------------------------------ public API


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("grader.math").joinpath("latex.lark").read_text(encoding="utf-8")
    return Lark(
        grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False
    )


def _check_tree(node: Node, max_depth: int) -> None:
    """Iterative: a tree deeper than ``max_depth`` would overflow later recursive consumers."""
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth:
            raise _Fail(
                f"formula nested too deeply (more than {max_depth} levels)",
                None,
                "simplify the formula or split it",
            )
        marker = cast(object, current)
        if isinstance(marker, _Partial):
            raise _Fail(
                "\\partial is only read in a derivative",
                marker.pos,
                "write \\frac{\\partial f}{\\partial x} or \\partial_x f",
            )
        stack.extend((child, depth + 1) for child in children(current))


_TOKEN_NAMES = {
    "AMP": ("'&'", "'&' only separates entries inside \\begin{pmatrix} ... \\end{pmatrix}"),
    "ROWSEP": ("'\\\\'", "'\\\\' only separates matrix rows or whole lines"),
    "RELOP": (None, "a relation needs an expression on both sides"),
    "SEP": (None, "a comma or bar needs an expression on both sides"),
    "RBRACE": ("'}'", "check that every { has its } and nothing is missing before it"),
    "RPAREN": ("')'", "check that nothing is missing before the ')'"),
    "RBRACK": ("']'", "check that nothing is missing before the ']'"),
    "END": (None, "a matrix ends with \\end{...} after its last entry"),
}


def _lark_error(err: UnexpectedInput, prepared: _Prepared) -> ParseError:
    text = prepared.text
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hints = {
            ".": "write decimals like 0.5; ellipses (...) are not supported",
            ":": "':' is read as a ratio a:b; set-builder notation and mappings are not supported",
            "#": "write \\ne for 'not equal'",
            "%": "write \\% only inside \\text{...}",
        }
        return ParseError(
            f"unexpected {char!r}",
            prepared.original(pos),
            hints.get(char, "this character is not part of the math grader reads"),
        )
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            last = max(0, len(text) - 1)
            return ParseError(
                "the formula ends too early",
                prepared.original(last),
                "something is missing at the end: an operand or an argument",
            )
        shown, hint = _TOKEN_NAMES.get(
            tok.type, (None, "check the formula near this point: every operator needs an operand")
        )
        shown = shown or repr(_SHOWN.get(str(tok), str(tok)))
        return ParseError(f"unexpected {shown}", prepared.original(tok.start_pos), hint)
    return ParseError("could not read this formula", prepared.original(getattr(err, "pos_in_stream", None)))


def parse_latex(
    source: str, symbols: SymbolTable | None = None, *, max_length: int = 20_000, max_depth: int = 400
) -> ParseResult:
    """Read one formula (the text between ``$`` signs) into a tree; never raises for bad input.

    ``symbols`` decides what juxtaposition means (``p(1-p)`` is a call only if ``p`` is a declared
    function) and which superscripts are part of a declared name (``w^{L_2}``). Failures come back
    as ``ParseError`` with a 0-based ``position`` in ``source`` and a hint for the student.
    """
    if not isinstance(source, str):
        return ParseError("the formula must be text")
    too_deep = _raw_depth(source, max_length, max_depth)
    if too_deep is not None:
        return ParseError(
            f"formula nested too deeply (more than {max_depth} levels)",
            too_deep,
            "simplify the formula or split it in parts",
        )
    if len(source) > max_length:
        return ParseError(
            f"formula too long ({len(source)} characters, at most {max_length})",
            max_length,
            "split it into several formulas",
        )
    warnings: list[str] = []
    prepared: _Prepared | None = None
    try:
        prepared = _prepare(source, max_depth, warnings)
        if not prepared.text.strip():
            return ParseError("empty formula", 0, "write a formula between the $ signs")
        tree = _parser().parse(prepared.text)
        ctx = _Context(prepared.text, symbols)
        node = cast(Node, _Builder(ctx).transform(tree))
        _check_tree(node, max_depth)
        return Parsed(node, source, tuple(warnings + ctx.warnings))
    except _Fail as fail:
        return _fail_error(fail, prepared)
    except UnexpectedInput as err:
        assert prepared is not None
        return _lark_error(err, prepared)
    except RecursionError:
        return ParseError("formula nested too deeply", None, "simplify the formula or split it")
    except Exception as err:
        return ParseError(f"internal parser error ({type(err).__name__})", None, "please report this formula")


_BRACKET_CHARS = re.compile(r"[{(\[]|[})\]]")


def _raw_depth(source: str, max_length: int, max_depth: int) -> int | None:
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


def _fail_error(fail: _Fail, prepared: _Prepared | None) -> ParseError:
    if fail.resolved or prepared is None:
        position = fail.pos
    else:
        position = prepared.original(fail.pos)
    return ParseError(fail.message, position, fail.hint)
