"""The LaTeX pre-pass: tokens, bar roles, bracket balance and depth, TeX's single-token arguments.

Linear in the input and never recursive, so hostile input returns fast. Its output is the text
Lark reads (``latex.lark``), with every token's offset in the student's input.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass

from grader.math import names
from grader.math.latex_commands import (
    DANGER_HINT,
    DANGEROUS,
    DROPPED_WITH_ARGUMENT,
    GRAMMAR_COMMANDS,
    MATRIX_ENVS,
    RENAMED,
    SIZING,
    SPACING,
    TRANSPARENT_ENVS,
    UNSUPPORTED,
)
from grader.math.latex_repair import Mapped, repair, spell_unicode
from grader.math.reading import ReadFailure, decimal_comma

_SCAN = re.compile(
    r"(?P<cmd>\\(?:operatorname\*|[A-Za-z]+))|(?P<esc>\\[^A-Za-z]|\\$)|(?P<ws>\s+)"
    r"|(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<word>[A-Za-z]+)|(?P<bars>\|+)|(?P<rel>:=|<=|>=)|(?P<char>.)",
    re.S,
)
_ENV_NAME = re.compile(r"\s*\{([A-Za-z]+\*?)\}")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TEXT_SPACING = re.compile(r"\\[,;:! ]|\\(?:quad|qquad|enspace|thinspace)(?![A-Za-z])|~")


@dataclass(slots=True)
class Tok:
    text: str
    pos: int  # offset in the pre-pass text (mapped.text)
    kind: str  # num word cmd char text open close bar sep begin end rowsep amp
    role: str = "x"  # bars: amb1 amb2 open1 close1 open2 close2 mid par; cmds: o p e x


@dataclass
class Prepared:
    text: str  # what Lark reads
    starts: list[int]  # offset in ``text`` of every token
    tokens: list[Tok]
    mapped: Mapped

    def original(self, lark_pos: int | None) -> int | None:
        """Offset in the student's input of a position in the Lark text."""
        if lark_pos is None:
            return None
        index = max(0, bisect_right(self.starts, lark_pos) - 1)
        if not self.tokens:
            return 0
        return self.mapped.origin[min(self.tokens[index].pos, len(self.mapped.origin) - 1)]


_BRACED_COMMA = re.compile(r"(?<=\d)\{,\}(?=\d{1,2}(?!\d)|\d{4,})")


def prepare(source: str, max_depth: int, warnings: list[str]) -> Prepared:
    mapped = spell_unicode(repair(Mapped.of(source), warnings))
    mapped = mapped.sub(_BRACED_COMMA, lambda m: ".")  # 3{,}14: TeX's decimal comma (1{,}000 groups digits)
    decimal, warning = decimal_comma(mapped.text)
    if warning is not None:
        mapped = Mapped(decimal, mapped.origin)
        warnings.append(warning)
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
    except ReadFailure as fail:
        if fail.pos is not None:
            fail.pos = mapped.origin[min(max(fail.pos, 0), len(mapped.origin) - 1)]
        fail.resolved = True
        raise
    return Prepared(text, starts, tokens, mapped)


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
    raise ReadFailure(
        f"unbalanced braces: the '{{' at column {k + 1} is never closed", k, "close every { with a }"
    )


def _tokenize(text: str) -> list[Tok]:
    """Linear scan: commands are checked against what the grammar reads, spelling is unified."""
    tokens: list[Tok] = []
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
            tokens.append(Tok(value, start, kind, "o"))
            if kind == "word" and len(value) == 1 and not any(scripts):
                pos = _digits_as_subscript(text, pos, tokens, spaces=False)
            continue
        if kind == "rel":
            tokens.append(Tok(value, start, "char"))
            continue
        if kind == "bars":
            role = {"left": "open", "right": "close", "middle": "mid"}.get(size or "", "amb")
            _add_bars(tokens, len(value), start, role, 1)
            continue
        if kind == "esc":
            name = value[1:]
            if name == "":
                raise ReadFailure("a formula cannot end with a backslash", start, "remove the trailing \\")
            if name in ",;:! ":
                continue  # spacing
            if name == "\\":
                tokens.append(Tok("\\\\", start, "rowsep"))
            elif name == "{":
                tokens.append(Tok("\\{", start, "open", "p"))
            elif name == "}":
                tokens.append(Tok("\\}", start, "close", "o"))
            elif name == "%":
                tokens.append(Tok("\\%", start, "char", "o"))  # a percent: 15.87\% is 0.1587
            elif name == "|":
                role = {"left": "open", "right": "close", "middle": "mid"}.get(size or "", "amb")
                _add_bars(tokens, 1, start, role, 2)
            else:
                raise ReadFailure(
                    f"unsupported command {value}", start, "write special characters only inside \\text{...}"
                )
            continue
        if kind == "char":
            if value == "~":
                continue
            if ord(value) > 127 or (not value.isprintable()):
                raise ReadFailure(
                    f"unexpected character {value!r}", start, "write symbols as LaTeX commands, e.g. \\lambda"
                )
            if value == "." and size is not None:
                continue  # \left. and \right. are invisible
            if value == "&" and envs and envs[-1] != "matrix":
                continue  # alignment points of aligned environments
            if value == "%":
                tokens.append(Tok("\\%", start, "char", "o"))
            elif value == "&":
                tokens.append(Tok("&", start, "amp"))
            elif value in "([{":
                scripts.append(bool(tokens) and tokens[-1].kind == "char" and tokens[-1].text in "^_")
                tokens.append(Tok(value, start, "open", "p"))
            elif value in ")]}":
                if scripts:
                    scripts.pop()
                tokens.append(Tok(value, start, "close", "o"))
            else:
                role = "o" if value in "!'" else "x"
                tokens.append(Tok(value, start, "char", role))
            continue
        # a command
        name = value[1:]
        if name in DANGEROUS:
            raise ReadFailure(f"unsupported command {value}", start, DANGER_HINT)
        if name in SPACING:
            continue
        if name in SIZING:
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
                raise ReadFailure(f"{value} needs an environment name, like {value}{{pmatrix}}", start)
            pos = env.end()
            env_name = env.group(1)
            if env_name not in MATRIX_ENVS and env_name not in TRANSPARENT_ENVS:
                raise ReadFailure(
                    f"the {env_name} environment is not supported",
                    start,
                    "use pmatrix/bmatrix for matrices, aligned for derivations",
                )
            family = "matrix" if env_name in MATRIX_ENVS else "aligned"
            if name == "begin":
                envs.append(family)
                if family == "matrix":
                    tokens.append(Tok(f"\\begin{{{env_name}}}", start, "begin", "p"))
            else:
                if not envs or envs[-1] != family:
                    raise ReadFailure(
                        f"\\end{{{env_name}}} does not close the environment that is open", start
                    )
                envs.pop()
                if family == "matrix":
                    tokens.append(Tok(f"\\end{{{env_name}}}", start, "end", "o"))
            continue
        if name in DROPPED_WITH_ARGUMENT:
            argument = _text_argument(text, pos)
            if argument is not None:
                pos = argument[1]
            continue
        if name in names.TEXT_FONTS:
            argument = _text_argument(text, pos)
            if argument is None:
                raise ReadFailure(f"{value} needs an argument in braces", start)
            content = _TEXT_SPACING.sub("", argument[0]).strip()
            is_text = name.startswith("text") or name == "mbox"
            if _WORD.fullmatch(content):
                pos = argument[1]
                tokens.append(Tok(f"\\mathrm{{{content}}}", start, "text", "o"))
            elif is_text:
                pos = argument[1]
                prose = content.replace("{", "").replace("}", "")
                if prose:
                    tokens.append(Tok(f"\\text{{{prose}}}", start, "text", "o"))
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
        if name in RENAMED:
            new = RENAMED[name]
            kind = "open" if new in ("[", "\\{") else "close" if new in ("]", "\\}") else "cmd"
            tokens.append(Tok(new, start, kind, "p" if kind == "open" else "o" if kind == "close" else "x"))
            continue
        if name in UNSUPPORTED:
            message, hint = UNSUPPORTED[name]
            raise ReadFailure(f"{message} ({value} at column {start + 1})", start, hint)
        if name in GRAMMAR_COMMANDS:
            tokens.append(Tok(value, start, "cmd", GRAMMAR_COMMANDS[name]))
            if name in names.GREEK and name != "pi" and not any(scripts):
                pos = _digits_as_subscript(text, pos, tokens, spaces=True)
            continue
        raise ReadFailure(
            f"unknown command {value}",
            start,
            "grader reads a subset of LaTeX math; check the spelling or write it differently",
        )
    if envs:
        raise ReadFailure(
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


def _digits_as_subscript(text: str, pos: int, tokens: list[Tok], *, spaces: bool) -> int:
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
    tokens.append(Tok("_", start, "char"))
    tokens.append(Tok("{", start, "open", "p"))
    tokens.append(Tok(match.group(1), start, "num", "o"))
    tokens.append(Tok("}", match.end(1) - 1, "close", "o"))
    return match.end(1)


def _add_bars(tokens: list[Tok], count: int, pos: int, role: str, kind: int) -> None:
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
        tokens.append(Tok("|", pos, "bar", full))
        pos += 1 if kind == 2 else width


def _ends_operand(tok: Tok | None) -> bool:
    if tok is None:
        return False
    if tok.kind == "bar":
        return tok.role.startswith("close")
    return tok.role in ("o", "e")


def _starts_operand(tok: Tok | None) -> bool:
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


def _resolve_bars(tokens: list[Tok]) -> list[Tok]:
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
    out: list[Tok] = []
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
                work.appendleft((Tok("|", tok.pos + 1, "bar", "amb1"), group))
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
            out.append(Tok(_BAR_TEXT[role], tok.pos, "open", "p"))
        elif role.startswith("close"):
            if bars and bars[-1] == int(role[-1]):
                bars.pop()
            out.append(Tok(_BAR_TEXT[role], tok.pos, "close", "o"))
        else:
            out.append(Tok(_BAR_TEXT[role], tok.pos, "sep", "x"))
    return out


_PAIRS = {"{": "}", "(": ")", "[": "]", "\\{": "\\}", "\\lvert": "\\rvert", "\\lVert": "\\rVert"}
SHOWN_BARS = {"\\lvert": "|", "\\rvert": "|", "\\lVert": "||", "\\rVert": "||"}


def _describe_bracket(text: str) -> str:
    if text.startswith("\\begin") or text.startswith("\\end"):
        return text
    return SHOWN_BARS.get(text, text)


def _check_brackets(tokens: list[Tok], max_depth: int) -> dict[int, int]:
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
                raise ReadFailure(
                    f"formula nested too deeply (more than {max_depth} levels)",
                    tok.pos,
                    "simplify the formula or split it in parts",
                )
        elif tok.kind in ("close", "end"):
            if not stack:
                shown = _describe_bracket(tok.text)
                what = "braces" if tok.text == "}" else "brackets"
                raise ReadFailure(
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
                raise ReadFailure(
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
        raise ReadFailure(
            f"unbalanced {what}: a '{shown}' at column {opener.pos + 1} is never closed",
            opener.pos,
            f"add the missing closing '{_describe_bracket(_PAIRS.get(opener.text, 'end'))}'",
        )
    return match


def _arg_count(tok: Tok) -> int:
    """How many TeX arguments a token takes (``^`` and ``_`` take one)."""
    if tok.kind == "char" and tok.text in "^_":
        return 1
    if tok.kind == "cmd":
        name = tok.text[1:]
        if name in ("frac", "binom"):
            return 2
        if (
            name in ("sqrt", "boxed")
            or name in names.TRANSPARENT_FONTS
            or name in names.LETTER_FONTS
            or name in names.ACCENTS
        ):
            return 1
    return 0


def _single_token_argument(tok: Tok) -> bool:
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


def _brace_arguments(tokens: list[Tok], match: dict[int, int]) -> list[Tok]:
    """Brace every single-token argument, TeX's way: ``x^12`` -> ``x^{1}2``, ``\\frac ab`` -> ``\\frac{a}{b}``.

    Iterative: a stack of frames (a command still owed arguments, or a braced group whose closing
    index is known) replaces TeX's recursive argument reading.
    """

    @dataclass
    class Frame:
        owner: Tok | None  # the command owed arguments; None for a group
        remaining: int = 0  # arguments still owed
        wrapped: bool = False  # the command is itself an argument we braced: close the brace after it
        close: int = -1  # for a group: index of its closing token
        is_argument: bool = False  # for a group: completing it completes an argument

    out: list[Tok] = []
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
            out.append(Tok("}", out[-1].pos, "close", "o"))

    def open_command(tok: Tok, index: int, wrapped: bool) -> int:
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
            raise ReadFailure(*_argument_error(top.owner, tok))
        out.append(Tok("{", tok.pos, "open", "p"))
        if tok.kind in ("num", "word") and len(tok.text) > 1:
            out.append(Tok(tok.text[0], tok.pos, tok.kind, "o"))
            tokens[index] = Tok(tok.text[1:], tok.pos + 1, tok.kind, "o")
        else:
            out.append(tok)
            index += 1
            if _arg_count(tok):
                index = open_command(tok, index, wrapped=True)
                continue
        out.append(Tok("}", tok.pos, "close", "o"))
        completed()
    owed = next((f.owner for f in reversed(frames) if f.owner is not None), None)
    if owed is not None:
        raise ReadFailure(*_argument_error(owed, None))
    return out


def _argument_error(owner: Tok, tok: Tok | None) -> tuple[str, int, str]:
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
        f"write {what}{{...}}" + ("{...}" if what in ("\\frac", "\\binom") else ""),
    )


def _join(tokens: list[Tok], max_depth: int) -> tuple[str, list[int]]:
    """The text Lark reads (tokens separated by spaces) and each token's offset in it."""
    starts: list[int] = []
    pieces: list[str] = []
    offset = 0
    depth = 0
    for tok in tokens:
        if tok.kind in ("open", "begin"):
            depth += 1
            if depth > max_depth:
                raise ReadFailure(
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
