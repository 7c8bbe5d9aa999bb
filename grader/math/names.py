"""Canonical names for LaTeX symbols, shared by the parser and by rubric authors.

A rubric declares ``lambda^dropout`` and a student writes ``\\lambda^{\\text{dropout}}``; both must
meet on one string. The rules (the parser calls the same functions, so
``canonical_name(fragment)`` is exactly the ``Sym`` name the parser produces for that symbol):

- the base letter as written (``x``, ``X``: case matters); Greek commands by their name
  (``\\lambda`` -> ``lambda``, ``\\Gamma`` -> ``Gamma``), with ``\\varepsilon`` -> ``epsilon``
  (every other ``\\var...`` form stays distinct: ``\\varphi`` -> ``varphi``); ``\\ell`` -> ``ell``;
- font commands are dropped: ``\\boldsymbol{w}``, ``\\mathbf{w}``, ``\\bm{w}``, ``\\vec{w}``,
  ``\\mathrm{w}``, ``\\text{w}`` are all ``w`` (whether ``w`` is a matrix is the SymbolTable's call);
- letter-style alphabets keep a prefix: ``\\mathcal{L}`` -> ``mathcal_L``, likewise ``mathbb_``,
  ``mathscr_``, ``mathfrak_`` (``\\mathbb{E}`` is the expectation operator, not a name);
- accents become a suffix: ``\\hat{x}`` -> ``x_hat``, ``\\bar{v}``/``\\overline{v}`` -> ``v_bar``,
  ``\\tilde{x}``/``\\widetilde{x}`` -> ``x_tilde``, ``\\dot{x}`` -> ``x_dot``, ``\\ddot{x}`` ->
  ``x_ddot``, ``\\check``, ``\\breve`` likewise;
- then ``_`` + the subscript, then ``^`` + the superscript label, in that order whatever order
  they were written in: ``q^*_i`` -> ``q_i^*``; scripts are canonicalised recursively with
  braces, fonts and spacing removed: ``\\psi_{0}`` -> ``psi_0``, ``x_{ij}`` -> ``x_ij``,
  ``w^{L_2}`` -> ``w^L_2``, ``q_{\\phi^*}`` -> ``q_phi^*``, ``\\theta^{(k)}`` -> ``theta^(k)``;
- ``*``, ``\\ast``, ``\\star`` -> ``*``; ``'`` and ``\\prime`` -> ``'`` (a prime is a superscript
  label: ``f'`` -> ``f^'``); ``\\top``/``\\intercal`` -> ``T``; ``\\infty`` -> ``inf``;
- any other command inside a script keeps its name without the backslash.

Which superscripts are labels (part of the name) rather than powers is the parser's decision, see
``grader.math.latex``; ``canonical_name`` always treats the superscript of the fragment it is
given as a label, because a rubric author passing ``w^{L_2}`` is naming a symbol.
"""

from __future__ import annotations

import re

from grader.math.latex_repair import normalize_source

GREEK: dict[str, str] = {
    **{
        name: name
        for name in (
            "alpha beta gamma delta epsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu xi "
            "omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
            "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell"
        ).split()
    },
    "varepsilon": "epsilon",
}

#: fonts that do not change which symbol is meant
TRANSPARENT_FONTS: frozenset[str] = frozenset(
    {"boldsymbol", "mathbf", "bm", "pmb", "vec", "mathbfit", "boldmath"}
)
#: upright / text fonts: their content is a word (a label, a function name or prose)
TEXT_FONTS: frozenset[str] = frozenset(
    {
        "mathrm",
        "mathit",
        "mathsf",
        "mathtt",
        "text",
        "textrm",
        "textit",
        "textbf",
        "textsf",
        "texttt",
        "textnormal",
        "mbox",
        "operatorname",
        "operatorname*",
    }
)
#: alphabets that make a different symbol: \mathcal{L} is not L
LETTER_FONTS: frozenset[str] = frozenset({"mathcal", "mathbb", "mathscr", "mathfrak"})
ACCENTS: dict[str, str] = {
    "hat": "hat",
    "widehat": "hat",
    "bar": "bar",
    "overline": "bar",
    "tilde": "tilde",
    "widetilde": "tilde",
    "dot": "dot",
    "ddot": "ddot",
    "check": "check",
    "breve": "breve",
}
#: commands that only change spacing or size; they vanish from names
INVISIBLE: frozenset[str] = frozenset(
    {
        "left",
        "right",
        "middle",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "Biggl",
        "Biggr",
        "quad",
        "qquad",
        "displaystyle",
        "textstyle",
        "scriptstyle",
        "limits",
        "nolimits",
        "enspace",
        "thinspace",
        "medspace",
        "thickspace",
        "negthinspace",
    }
)
_SYMBOL_COMMANDS: dict[str, str] = {
    "ast": "*",
    "star": "*",
    "prime": "'",
    "top": "T",
    "intercal": "T",
    "infty": "inf",
}

_TOKEN = re.compile(r"\\(?:operatorname\*|[A-Za-z]+)|\\.|\s+|.", re.S)
_MAX_LABEL_DEPTH = 40
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_^*'(),.+\-=]+$")


class LabelError(ValueError):
    """A fragment too deeply nested (or otherwise unreadable) to be a name."""


def compose(base: str, sub: str | None = None, sup: str | None = None) -> str:
    """``base`` + ``_sub`` + ``^sup``: the one place the order of the parts is decided."""
    name = base
    if sub:
        name += "_" + sub
    if sup:
        name += "^" + sup
    return name


def is_safe_name(name: str) -> bool:
    """Names end up as identifiers downstream: no dunders, no spaces, no quotes or backslashes."""
    return bool(name) and "__" not in name and _SAFE_NAME.match(name) is not None


def canonical_text(fragment: str) -> str:
    """Canonical text of a LaTeX fragment read as a name or a script label (see the module rules)."""
    tokens = _TOKEN.findall(fragment)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        text, i = _piece(tokens, i, 0)
        out.append(text)
    return "".join(out)


def canonical_name(latex_fragment: str) -> str:
    """The canonical name of one symbol as a rubric author writes it, e.g. ``\\lambda^{\\text{dropout}}``.

    Unicode letters are read like their commands (``λ`` is ``\\lambda``) and escapes eaten by PDF
    conversion are repaired, exactly as the parser does before reading a formula.
    """
    return canonical_text(normalize_source(latex_fragment))


def _piece(tokens: list[str], i: int, depth: int) -> tuple[str, int]:
    """One atom with its scripts, composed as base_sub^sup."""
    base, i = _atom(tokens, i, depth)
    sub: str | None = None
    sup: str | None = None
    primes = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.isspace():
            i += 1
            continue
        if tok == "'":
            primes += 1
            i += 1
            continue
        if tok not in ("_", "^"):
            break
        arg, i = _arg(tokens, i + 1, depth + 1)
        if tok == "_":
            sub = arg if sub is None else sub + arg
        else:
            sup = arg if sup is None else sup + arg
    if primes:
        sup = (sup or "") + "'" * primes
    return compose(base, sub, sup), i


def _arg(tokens: list[str], i: int, depth: int) -> tuple[str, int]:
    """A TeX argument: a braced group or a single token (a command takes its own arguments)."""
    while i < len(tokens) and tokens[i].isspace():
        i += 1
    if i >= len(tokens):
        return "", i
    return _atom(tokens, i, depth)


def _group(tokens: list[str], i: int, depth: int) -> tuple[str, int]:
    """Content of ``{...}`` starting after the brace; stops after the matching ``}``."""
    if depth > _MAX_LABEL_DEPTH:
        raise LabelError("label nested too deeply")
    out: list[str] = []
    while i < len(tokens) and tokens[i] != "}":
        text, i = _piece(tokens, i, depth + 1)
        out.append(text)
    return "".join(out), i + 1


def _atom(tokens: list[str], i: int, depth: int) -> tuple[str, int]:
    if depth > _MAX_LABEL_DEPTH:
        raise LabelError("label nested too deeply")
    tok = tokens[i]
    i += 1
    if tok == "{":
        return _group(tokens, i, depth + 1)
    if tok.isspace() or tok == "}":
        return "", i
    if not tok.startswith("\\") or len(tok) == 1:
        return tok, i
    command = tok[1:]
    if not command[0].isalpha():
        return ("_" if command == "_" else "" if command in ",;:! " else command), i
    if command in GREEK:
        return GREEK[command], i
    if command in _SYMBOL_COMMANDS:
        return _SYMBOL_COMMANDS[command], i
    if command in INVISIBLE:
        return "", i
    if command in TRANSPARENT_FONTS or command in TEXT_FONTS:
        return _arg(tokens, i, depth + 1)
    if command in LETTER_FONTS:
        inner, i = _arg(tokens, i, depth + 1)
        return command + "_" + inner, i
    if command in ACCENTS:
        inner, i = _arg(tokens, i, depth + 1)
        return inner + "_" + ACCENTS[command], i
    return command, i
