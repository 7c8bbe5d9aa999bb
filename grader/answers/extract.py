"""Pick, from an answer, the piece of math (or prose) that a rubric part is about.

Students write derivations, not single results, so the rule is: the last equation that states
the target (``\\lambda^{\\text{dropout}} = ...``), else a boxed result, else the last formula,
else the prose. Formulas are split at top-level relations and separators by a linear scanner
that tracks brace/bracket/environment depth; nothing here raises on what a student wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from grader.answers.models import Answer, Extraction, ReadingHints
from grader.document.formulas import find_formulas, math_spans
from grader.document.models import Formula
from grader.math.latex import normalize_source

PROSE_LIMIT = 5_000
_KEY_LIMIT = 2_000  # an item this long cannot be a restatement of a target

_EQUALITY_COMMANDS = frozenset(
    {"coloneqq", "coloneq", "eqqcolon", "triangleq", "equiv", "approx", "simeq", "doteq", "cong"}
)
_OTHER_RELATION_COMMANDS = frozenset(
    {
        "le",
        "leq",
        "ge",
        "geq",
        "leqslant",
        "geqslant",
        "neq",
        "ne",
        "lt",
        "gt",
        "ll",
        "gg",
        "sim",
        "in",
        "notin",
        "propto",
    }
)
_SEPARATOR_COMMANDS = frozenset(
    {
        "to",
        "rightarrow",
        "Rightarrow",
        "implies",
        "iff",
        "Leftrightarrow",
        "Longrightarrow",
        "longrightarrow",
        "Longleftrightarrow",
        "mapsto",
        "therefore",
        "because",
        "quad",
        "qquad",
        "xrightarrow",
        "xRightarrow",
    }
)
_TEXT_COMMANDS = frozenset({"text", "textrm", "mathrm", "mbox", "textit", "textnormal"})
_CONNECTIVES = frozenset(
    {
        "and",
        "or",
        "where",
        "with",
        "for",
        "so",
        "thus",
        "hence",
        "then",
        "since",
        "because",
        "if",
        "when",
        "i.e.",
        "ie",
        "i.e.,",
        "therefore",
        "giving",
        "gives",
        "yields",
        "which",
        "is",
        "we",
        "get",
        "have",
        "so that",
    }
)
_UNICODE_EQUALITY = {"≈": "≈", "≔": ":=", "≡": "≡", "≜": "≜"}
_UNICODE_OTHER = frozenset("≤≥≠<>∈∼")
_UNICODE_SEPARATORS = frozenset("→⇒⟹⟶↦∴")
_WRAPPERS = (
    "equation*",
    "equation",
    "align*",
    "align",
    "aligned",
    "gather*",
    "gather",
    "gathered",
    "multline*",
    "multline",
    "eqnarray*",
    "eqnarray",
    "split",
    "flalign*",
    "flalign",
    "alignat*",
    "alignat",
)

_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_EATEN_ESCAPE = re.compile(
    r"(?:(?<=[\s{}^_(=])|^)[\t ](ext|extbf|extit|extrm|imes|heta|au|op|ilde|rac|orall)(?![a-z])"
)
_CONTROL_ESCAPES = {"\x07": "\\a", "\x08": "\\b", "\x0b": "\\v", "\x0c": "\\f"}
_FONT_WRAPPED = re.compile(
    r"\\(?:boldsymbol|mathbf|bm|pmb|mathrm|mathit|mathsf|mathtt|vec|textbf|textrm|textit|text|operatorname\*?|mbox)"
    r"\s*\{([^{}]*)\}"
)
_FONT_BARE = re.compile(r"\\(?:boldsymbol|mathbf|bm|pmb|mathrm|mathit|vec)\s*(?=\\[A-Za-z]|[A-Za-z0-9])")
_SIZING = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
    r"nonumber|notag|quad|qquad)(?![A-Za-z])|\\[,;:! ]|\\(?:label|tag)\{[^{}]*\}"
)
_DOUBLE_BRACED = re.compile(r"(?<!\\)\{\{([^{}]*)\}\}")
_SINGLE_BRACED = re.compile(r"(?<!\\)\{(\\[A-Za-z]+|[A-Za-z0-9*'])\}")
_GREEK = {
    "α": "\\alpha",
    "β": "\\beta",
    "γ": "\\gamma",
    "δ": "\\delta",
    "ε": "\\epsilon",
    "θ": "\\theta",
    "λ": "\\lambda",
    "μ": "\\mu",
    "π": "\\pi",
    "σ": "\\sigma",
    "φ": "\\phi",
    "ψ": "\\psi",
    "ω": "\\omega",
    "Γ": "\\Gamma",
    "Σ": "\\Sigma",
    "∗": "*",
    "⋆": "*",
    "ᵀ": "^T",
    "⊤": "^T",
}
_EDGE_SPACING = ("\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\!", "\\ ")


def repair_damage(latex: str) -> str:
    """Undo escapes eaten by PDF conversion: ``\\t`` of ``\\text`` became a tab or space, ``\\f`` a form feed."""
    for char, escape in _CONTROL_ESCAPES.items():
        latex = latex.replace(char, escape)
    return _EATEN_ESCAPE.sub(
        lambda m: ("\\f" if m.group(1) in ("rac", "orall") else "\\t") + m.group(1), latex
    )


@lru_cache(maxsize=4096)
def latex_key(latex: str) -> str:
    """A comparison key: fonts, sizing, spacing and braces around one token dropped, ``^\\top``/``*`` unified."""
    text = repair_damage(latex)
    for char, replacement in _GREEK.items():
        if char in text:
            text = text.replace(char, replacement)
    text = _SIZING.sub("", text)
    for _ in range(4):
        unwrapped = _DOUBLE_BRACED.sub(r"{\1}", _FONT_WRAPPED.sub(r"{\1}", text))
        if unwrapped == text:
            break
        text = unwrapped
    text = _FONT_BARE.sub("", text)
    text = (
        text.replace("\\dfrac", "\\frac")
        .replace("\\tfrac", "\\frac")
        .replace("\\overline", "\\bar")
        .replace("\\widehat", "\\hat")
        .replace("\\widetilde", "\\tilde")
        .replace("\\intercal", "T")
        .replace("\\top", "T")
        .replace("\\ast", "*")
        .replace("\\star", "*")
    )
    text = "".join(text.split()).replace("&", "")
    for _ in range(6):
        unbraced = _SINGLE_BRACED.sub(r"\1", text)
        if unbraced == text:
            break
        text = unbraced
    return text.rstrip(".,;")


@dataclass(frozen=True)
class _Equation:
    items: tuple[tuple[int, int], ...]  # spans in the formula's LaTeX
    equal: tuple[bool, ...]  # between item k and k+1: an equality (=, :=, \approx, ...) or another relation


@dataclass
class _Cut:
    kind: Literal["sep", "comma", "eq", "rel"]
    start: int
    end: int


def _skip_group(latex: str, i: int) -> int:
    """Past a ``{...}`` (or ``[...]``) argument starting at or after ``i`` (spaces allowed)."""
    n = len(latex)
    while i < n and latex[i] in " \t\n":
        i += 1
    if i >= n or latex[i] not in "{[":
        return i
    opener, closer = latex[i], "}" if latex[i] == "{" else "]"
    depth = 0
    while i < n:
        ch = latex[i]
        if ch == "\\":
            i += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _unwrap(latex: str) -> tuple[int, int]:
    """The inside of outer equation-like environments, so their rows are top level."""
    start, end = 0, len(latex)
    if "\\begin" not in latex:
        return start, end
    for _ in range(4):
        head = latex[start:end].lstrip()
        lead = end - start - len(head)
        for name in _WRAPPERS:
            begin, finish = "\\begin{" + name + "}", "\\end{" + name + "}"
            if head.startswith(begin) and latex[start:end].rstrip().endswith(finish):
                start = start + lead + len(begin)
                end = start + len(latex[start:end].rstrip()) - len(finish)
                break
        else:
            break
    return start, max(start, end)


def _cuts(latex: str, start: int, end: int) -> list[_Cut]:
    """Top-level relations and separators, in order (one pass)."""
    cuts: list[_Cut] = []
    depth = 0
    i = start
    while i < end:
        ch = latex[i]
        if ch == "\\":
            m = _COMMAND.match(latex, i, end)
            if m is None:
                break
            name = m.group(1)
            j = m.end()
            if name in ("left", "right"):
                depth = depth + 1 if name == "left" else max(0, depth - 1)
                while j < end and latex[j] in " \t\n":
                    j += 1
                if j < end and latex[j] == "\\":
                    delim = _COMMAND.match(latex, j, end)
                    j = delim.end() if delim else j + 1
                else:
                    j += 1
            elif name in ("begin", "end"):
                depth = depth + 1 if name == "begin" else max(0, depth - 1)
                j = _skip_group(latex, j)
            elif name == "{":
                depth += 1
            elif name == "}":
                depth = max(0, depth - 1)
            elif depth == 0:
                if name == "\\":
                    cuts.append(_Cut("sep", i, j))
                elif name in _SEPARATOR_COMMANDS:
                    if name.startswith("x"):
                        j = _skip_group(latex, _skip_group(latex, j))
                    cuts.append(_Cut("sep", i, j))
                elif name in _EQUALITY_COMMANDS:
                    cuts.append(_Cut("eq", i, j))
                elif name in _OTHER_RELATION_COMMANDS:
                    cuts.append(_Cut("rel", i, j))
                elif name in _TEXT_COMMANDS:
                    after = _skip_group(latex, j)
                    words = latex[j:after].strip(" {}\t\n").strip().lower()
                    if words in _CONNECTIVES or words.rstrip(",") in _CONNECTIVES:
                        cuts.append(_Cut("sep", i, after))
                    j = after
            i = j
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
        elif depth == 0:
            if ch == ":" and latex.startswith(":=", i):
                cuts.append(_Cut("eq", i, i + 2))
                i += 2
                continue
            if ch == "=":
                width = 2 if latex.startswith("=:", i) else 1
                cuts.append(_Cut("eq", i, i + width))
                i += width
                continue
            if ch in "<>":
                width = 2 if latex.startswith("=", i + 1) else 1
                cuts.append(_Cut("rel", i, i + width))
                i += width
                continue
            if ch in _UNICODE_EQUALITY:
                cuts.append(_Cut("eq", i, i + 1))
            elif ch in _UNICODE_OTHER:
                cuts.append(_Cut("rel", i, i + 1))
            elif ch in _UNICODE_SEPARATORS or ch == ";":
                cuts.append(_Cut("sep", i, i + 1))
            elif ch == ",":
                cuts.append(_Cut("comma", i, i + 1))
        i += 1
    return cuts


def equations(latex: str) -> list[_Equation]:
    """Equations of a formula: separated by arrows, ``\\quad``, ``\\text{and}``, rows, or commas between equations."""
    start, end = _unwrap(latex)
    cuts: list[_Cut] = []
    for cut in _cuts(latex, start, end):
        previous = cuts[-1] if cuts else None
        if (
            cut.kind == "sep"
            and previous is not None
            and previous.kind in ("eq", "rel")
            and not latex[previous.end : cut.start].strip()
        ):
            continue  # "x = \quad y": spacing after a relation, not a new equation
        cuts.append(cut)
    # Segments between hard separators; inside each, commas end an equation only when the next
    # piece has a relation of its own ("x = 1, y = 2"), not in a list ("\lambda = -1, \pm i").
    result: list[_Equation] = []
    segment_cuts: list[_Cut] = []
    seg_start = start
    for cut in [*cuts, _Cut("sep", end, end)]:
        if cut.kind != "sep":
            segment_cuts.append(cut)
            continue
        result.extend(_segment_equations(seg_start, cut.start, segment_cuts))
        segment_cuts = []
        seg_start = cut.end
    return result


def _segment_equations(start: int, end: int, cuts: list[_Cut]) -> list[_Equation]:
    pieces: list[tuple[int, int, list[_Cut]]] = []
    piece_start: int = start
    piece_cuts: list[_Cut] = []
    for cut in cuts:
        if cut.kind == "comma":
            pieces.append((piece_start, cut.start, piece_cuts))
            piece_start, piece_cuts = cut.end, []
        else:
            piece_cuts.append(cut)
    pieces.append((piece_start, end, piece_cuts))
    groups: list[tuple[int, int, list[_Cut]]] = []
    for p_start, p_end, p_cuts in pieces:
        if groups and not p_cuts:
            g_start, _, g_cuts = groups[-1]
            groups[-1] = (g_start, p_end, g_cuts)
        else:
            groups.append((p_start, p_end, list(p_cuts)))
    found: list[_Equation] = []
    for g_start, g_end, g_cuts in groups:
        items: list[tuple[int, int]] = []
        equal: list[bool] = []
        item_start = g_start
        for cut in g_cuts:
            items.append((item_start, cut.start))
            equal.append(cut.kind == "eq")
            item_start = cut.end
        items.append((item_start, g_end))
        found.append(_Equation(items=tuple(items), equal=tuple(equal)))
    return found


def _clean_value(latex: str) -> str:
    """Repaired, without alignment marks, spacing or sentence punctuation at its ends (one pass)."""
    text = repair_damage(latex)
    lo, hi = 0, len(text)
    changed = True
    while changed and lo < hi:
        changed = False
        while lo < hi and (text[lo].isspace() or text[lo] == "&"):
            lo += 1
        while hi > lo and (text[hi - 1].isspace() or text[hi - 1] == "&"):
            hi -= 1
        if hi > lo and text[hi - 1] in ".,;" and text[hi - 2 : hi - 1] != "\\":
            hi -= 1
            changed = True
        for spacing in _EDGE_SPACING:
            if text.startswith(spacing, lo, hi):
                lo += len(spacing)
                changed = True
            cut = hi - len(spacing)
            if cut >= lo and text.startswith(spacing, cut, hi) and text[cut - 1 : cut] != "\\":
                hi = cut
                changed = True
    return text[lo:hi]


@dataclass(frozen=True)
class _Match:
    formula: Formula
    value_start: int
    value_end: int
    side: Literal["right", "left"]


def find_target(formulas: tuple[Formula, ...], target_key: str, *, skip_zero: bool = False) -> _Match | None:
    """The last equation stating the target (on its left, else on its right); linear in the formulas.

    ``skip_zero``: a vector field written ``v = 0`` is being solved for its stationary points, so
    an earlier equation that gives ``v`` a value is the answer.
    """
    for formula in reversed(formulas):
        latex = formula.latex
        for eq in reversed(equations(latex)):
            match = _target_in(latex, eq, target_key)
            if match is not None and not (skip_zero and _is_zero(latex[match[0] : match[1]])):
                return _Match(formula, match[0], match[1], match[2])
    return None


_ARGUMENT = r"(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?\w+\}?)?"
_APPLIED = re.compile(r"\(" + _ARGUMENT + r"(?:," + _ARGUMENT + r")*\)")
_DECORATION = re.compile(r"[_^]\{?([A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]|[A-Za-z]{2,})\}?$")


def name_key(key: str) -> str:
    """A word written as a sub- or superscript names the same quantity either way:
    ``\\lambda^{dropout}``, ``\\lambda_{dropout}`` and ``\\lambda_dropout`` are one name, and so are
    ``w^{L_2}``, ``w_{L2}`` and ``w_L2``. Single-letter decorations (``\\psi_0``, ``x^2``) are kept."""
    match = _DECORATION.search(key)
    if match is None or match.start() == 0:
        return key
    word = match.group(1).replace("_", "")
    if len(word) < 2:
        return key
    return key[: match.start()] + "_{" + word + "}"


def _states_target(key: str, target_key: str) -> bool:
    """``D^*`` is stated by ``D^*`` and by ``D^*(x)`` (a function written with its argument), and
    ``\\lambda^{dropout}`` by ``\\lambda_{dropout}`` (see ``name_key``)."""
    if key == target_key:
        return True
    if key.startswith(target_key) and _APPLIED.fullmatch(key[len(target_key) :]) is not None:
        return True
    canonical = name_key(target_key)
    return canonical != target_key and name_key(key) == canonical


def _target_in(
    latex: str, eq: _Equation, target_key: str
) -> tuple[int, int, Literal["right", "left"]] | None:
    """In one equation, the last item equal to the target that has a value next to it."""
    count = len(eq.items)
    if count < 2:
        return None
    run_end = list(range(count))  # run_end[k]: last item joined to item k by equalities only
    for k in range(count - 2, -1, -1):
        if eq.equal[k]:
            run_end[k] = run_end[k + 1]

    def text(k: int) -> str:
        a, b = eq.items[k]
        return latex[a:b]

    for k in range(count - 1, -1, -1):
        a, b = eq.items[k]
        if b - a > _KEY_LIMIT or not _states_target(latex_key(latex[a:b]), target_key):
            continue
        j = run_end[k]
        if j > k + 1 and _is_zero(text(j)) and _is_expression(text(j - 1)):
            j -= 1  # "v = (...) = 0" sets v to zero to solve it; v itself is the item before
        if j > k and text(j).strip():
            return eq.items[j][0], eq.items[j][1], "right"
        if k > 0 and eq.equal[k - 1] and text(k - 1).strip():
            return eq.items[k - 1][0], eq.items[k - 1][1], "left"
    return None


_ZERO_NOISE = re.compile(
    r"\\(?:begin|end)\{[a-zA-Z]*matrix\*?\}|\\\\|[&\s{}()\[\],]|\\(?:mathbf|boldsymbol|bm)"
)


def _is_expression(latex: str) -> bool:
    """More than a name: ``\\psi_1^* = \\theta^* = 0`` is a chain of names, all zero."""
    return any(token in latex for token in ("+", "-", "(", "\\frac", "\\begin", "\\cdot", "/")) or len(latex_key(latex)) > 12


def _is_zero(latex: str) -> bool:
    """``0``, a zero vector or a zero matrix (any brackets)."""
    rest = _ZERO_NOISE.sub("", latex)
    return bool(rest) and set(rest) == {"0"}


def _boxed(latex: str) -> tuple[int, int] | None:
    """Span of the last ``\\boxed{...}`` content."""
    pos = max(latex.rfind("\\boxed"), latex.rfind("\\fbox"))
    if pos == -1:
        return None
    brace = latex.find("{", pos)
    if brace == -1:
        return None
    close = _skip_group(latex, brace)
    inner_end = close - 1 if close <= len(latex) and latex[close - 1 : close] == "}" else len(latex)
    return brace + 1, max(brace + 1, inner_end)


def _line_at(formula: Formula, offset: int) -> int:
    return formula.line + formula.latex.count("\n", 0, offset)


def extract(
    answer: Answer,
    target: str | None,
    *,
    part_id: str = "",
    mode: Literal["math", "prose"] = "math",
) -> Extraction:
    """What the answer says about ``target``, with how it was found and a sentence for the report."""
    qid = answer.question_id
    if answer.status == "missing" or not answer.text.strip():
        return Extraction(
            question_id=qid,
            part_id=part_id,
            how="none",
            description=f"question {answer.question_id} has no answer",
        )
    # Lines kept (lists and paragraphs render in the report); spaces within a line folded.
    prose = re.sub(r"\n{3,}", "\n\n", "\n".join(" ".join(line.split()) for line in answer.text.split("\n")).strip())[:PROSE_LIMIT]
    span = (
        f"lines {answer.start_line}-{answer.end_line}"
        if answer.end_line > answer.start_line
        else f"line {answer.start_line}"
    )
    def as_prose(description: str) -> Extraction:
        return Extraction(question_id=qid, part_id=part_id, how="prose", text=prose, line=answer.start_line, description=description)

    if mode == "prose":
        return as_prose(f"read the answer as text ({span})")
    formulas = answer.formulas or find_formulas(answer.text, max(answer.start_line, 1))
    target_text = (target or "").strip()
    hints = answer.hints
    if target_text:
        target_key = latex_key(target_text)
        plain: tuple[Formula, ...] | None = None
        for pool in ("math", "plain"):
            if pool == "plain":
                plain = plain_formulas(answer.text, max(answer.start_line, 1))
            found = formulas if pool == "math" else plain or ()
            match = find_target(found, target_key, skip_zero=hints is not None and target_text in hints.vectors)
            assembled = None
            if match is None or (hints is not None and hints.counts.get(target_text, 0) > 1):
                assembled = _assemble(found, target_text, target_key, hints)
            typed = " (typed as plain text)" if pool == "plain" else ""
            if match is not None:
                latex = match.formula.latex
                value = _clean_value(latex[match.value_start : match.value_end])
                if assembled is None or _value_count(assembled.latex) <= _value_count(value):
                    line = _line_at(match.formula, match.value_start)
                    side = "right-hand side" if match.side == "right" else "left-hand side"
                    shown = f"{target_text} = …" if match.side == "right" else f"… = {target_text}"
                    return Extraction(
                        question_id=qid,
                        part_id=part_id,
                        how="target_equation",
                        latex=normalize_value(value, target_text, hints),
                        text=latex,
                        line=line,
                        formula=latex,
                        description=f"read the {side} of {shown} on line {line}{typed}",
                    )
            if assembled is not None:
                return Extraction(
                    question_id=qid,
                    part_id=part_id,
                    how="target_equation",
                    latex=normalize_value(assembled.latex, target_text, hints),
                    text=assembled.formula,
                    line=assembled.line,
                    formula=assembled.formula,
                    description=assembled.description + typed,
                )
    missing_target = f"no equation for {target_text} was found; " if target_text else ""
    for formula in reversed(formulas):
        box = _boxed(formula.latex)
        if box is not None:
            line = _line_at(formula, box[0])
            return Extraction(
                question_id=qid,
                part_id=part_id,
                how="boxed",
                latex=_clean_value(formula.latex[box[0] : box[1]]),
                text=formula.latex,
                line=line,
                formula=formula.latex,
                description=f"{missing_target}read the boxed result on line {line}",
            )
    for how, wanted in (("last_display", True), ("last_formula", False)):
        chosen = next((f for f in reversed(formulas) if f.display == wanted), None)
        if chosen is not None:
            kind = "displayed" if wanted else "inline"
            return Extraction(
                question_id=qid,
                part_id=part_id,
                how="last_display" if how == "last_display" else "last_formula",
                latex=_clean_value(chosen.latex),
                text=chosen.latex,
                line=chosen.line,
                formula=chosen.latex,
                description=f"{missing_target}read the last {kind} formula, on line {chosen.line}",
            )
    return as_prose(f"no formula was found; read the answer as text ({span})")


@dataclass(frozen=True)
class Stated:
    """A value the answer gives a name: ``key = value`` somewhere in a formula."""

    key: str
    value: str
    formula: Formula
    line: int


def stated_values(formulas: tuple[Formula, ...], accept: Callable[[str], bool]) -> list[Stated]:
    """Every ``name = value`` (or ``name = a = b``: the last link) whose name's key ``accept`` takes, in order."""
    found: list[Stated] = []
    for formula in formulas:
        latex = formula.latex
        for eq in equations(latex):
            count = len(eq.items)
            for k in range(count - 1):
                a, b = eq.items[k]
                if b - a > _KEY_LIMIT or not eq.equal[k] or not accept(latex_key(latex[a:b])):
                    continue
                j = k + 1
                while j < count - 1 and eq.equal[j]:
                    j += 1
                if j > k + 1 and _is_zero(latex[eq.items[j][0] : eq.items[j][1]]) and _is_expression(
                    latex[eq.items[j - 1][0] : eq.items[j - 1][1]]
                ):
                    j -= 1
                start, end = eq.items[j]
                value = _clean_value(latex[start:end])
                if value:
                    found.append(Stated(latex_key(latex[a:b]), value, formula, _line_at(formula, start)))
    return found


# -- assembling an answer written in pieces ----------------------------------------------------
# Driven by the part's target and the rubric's shapes (ReadingHints): components of a vector
# target, one value per component of a tuple target, several values of a multi-valued target,
# and math typed as plain text or Unicode outside $...$.

_BRACES = str.maketrans("", "", "{}")
_SUBSCRIPTED = re.compile(r"_(?:\{[0-9, ]+\}|[0-9])$")
_PLAIN_MATH = re.compile(r"[=≈]")
_PLAIN_STOP = re.compile(r"\.(?:\s|$)|;|:\s|\s(?:and|where|so|since|because|which|for|with|if)\s|,\s+(?=[A-Za-z]{3,})(?!sqrt|exp|log|sin|cos|tan)")
_PLAIN_LEFT = re.compile(r"(?:^|(?<=[\s(]))([^\s=≈,;:]{1,40})\s*$")
_GREEK_WORD = re.compile(
    r"(?<![\\A-Za-z])(alpha|beta|gamma|delta|epsilon|theta|lambda|mu|sigma|phi|psi|omega|Gamma|Lambda|Sigma|Psi|Omega)(?![A-Za-z])"
)
_COMBINING_BAR = re.compile(r"([A-Za-z])\u0304")
_STARRED = re.compile(r"(?<=[A-Za-z}])\*(?=\s|=|$|,|\))")
_POWER_PAREN = re.compile(r"\^\s*\(")
_SQRT = re.compile(r"(?:√|\\sqrt)\s*\(")
_SIGMOID = re.compile(r"(?:\\(?:text|mathrm|operatorname)\{\s*(?:sigmoid|logistic)\s*\}|\b(?:sigmoid|logistic))\s*(?=\()")
_ARRAY = re.compile(r"\\left\s*[(\[]\s*\\begin\{array\}\{[^{}]*\}(?P<body>.*?)\\end\{array\}\s*\\right\s*[)\]]", re.S)
_PRIME = re.compile(r"(?<![A-Za-z\\])(?P<name>[A-Za-z]|\\[A-Za-z]+|\\mathbf\{[A-Za-z]\}|\\boldsymbol\{[A-Za-z]\})'")


def top_level_items(latex: str) -> list[str]:
    """Items of ``a, b, c`` at depth zero."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(latex):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(latex[start:k])
            start = k + 1
    items.append(latex[start:])
    return [item.strip() for item in items if item.strip()]


def _value_count(latex: str) -> int:
    return len(top_level_items(latex)) + latex.count("\\pm") + latex.count("±")


def _paren_close(text: str, open_at: int) -> int:
    depth = 0
    for k in range(open_at, min(len(text), open_at + _KEY_LIMIT)):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return -1


def normalize_value(latex: str, target: str | None, hints: ReadingHints | None) -> str:
    """The value in the form the math reader and the reference share: ``√(…)`` as ``\\sqrt{…}``,
    an ``array`` vector as ``pmatrix``, ``sigmoid(…)`` as the declared logistic function, ``X'`` as
    a transpose of a declared matrix, and a tuple as a column vector where the target is one."""
    while (m := _SQRT.search(latex)) is not None:
        close = _paren_close(latex, m.end() - 1)
        if close == -1:
            break
        latex = latex[: m.start()] + "\\sqrt{" + latex[m.end() : close] + "}" + latex[close + 1 :]
    latex = _ARRAY.sub(lambda m: "\\begin{pmatrix}" + m.group("body") + "\\end{pmatrix}", latex)
    latex = _nested_lists(latex)
    if hints is None:
        return latex
    if hints.logistic:
        name = hints.logistic[0]
        latex = _SIGMOID.sub(lambda _m: name, latex)
    if hints.matrices and "'" in latex:
        names = {name.translate(_BRACES) for name in hints.matrices}
        latex = _PRIME.sub(
            lambda m: m.group("name") + "^{\\top}" if _bare_name(m.group("name")) in names else m.group(0), latex
        )
    size = hints.vectors.get(target or "")
    stripped = latex.strip()
    if size and stripped.startswith("(") and _paren_close(stripped, 0) == len(stripped) - 1:
        items = top_level_items(stripped[1:-1])
        if len(items) == size:
            latex = "\\begin{pmatrix} " + " \\\\ ".join(items) + " \\end{pmatrix}"
    return latex


def _nested_lists(latex: str) -> str:
    """``[[a, b], [c, d]]`` (calculator syntax for a matrix) as a ``pmatrix``."""
    stripped = latex.strip()
    if not (stripped.startswith("[[") and stripped.endswith("]]")):
        return latex
    rows = top_level_items(stripped[1:-1])
    if not rows or not all(r.startswith("[") and r.endswith("]") for r in rows):
        return latex
    cells = [top_level_items(r[1:-1]) for r in rows]
    if len({len(c) for c in cells}) != 1:
        return latex
    return "\\begin{pmatrix} " + " \\\\ ".join(" & ".join(c) for c in cells) + " \\end{pmatrix}"


def _bare_name(name: str) -> str:
    for font in ("\\mathbf{", "\\boldsymbol{"):
        if name.startswith(font):
            return name[len(font) : -1]
    return name


def _plain_to_latex(source: str) -> str:
    """Calculator spellings as LaTeX: ``lambda`` -> ``\\lambda``, ``J*`` -> ``J^*``, ``X̄`` -> ``\\bar{X}``,
    ``^(-1)`` -> ``^{-1}``; then the math stage's Unicode table (``ᵀ``, ``⁻¹``, ``λ``)."""
    source = _COMBINING_BAR.sub(r"\\bar{\1}", source)
    source = _GREEK_WORD.sub(lambda m: "\\" + m.group(1) + " ", source)
    source = _STARRED.sub("^*", source)
    while (m := _POWER_PAREN.search(source)) is not None:
        close = _paren_close(source, m.end() - 1)
        if close == -1:
            break
        source = source[: m.start()] + "^{" + source[m.end() : close] + "}" + source[close + 1 :]
    return normalize_source(source)


def plain_formulas(text: str, first_line: int) -> tuple[Formula, ...]:
    """Equations typed outside ``$…$`` (plain text or Unicode: ``λ = (1 − p)/p``), each from its
    left-hand name to the end of its clause, as LaTeX the math reader takes."""
    spans = [(s.start, s.end) for s in math_spans(text)]
    found: list[Formula] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        base = offset
        offset += len(line) + 1
        if not _PLAIN_MATH.search(line) or len(line) > _KEY_LIMIT:
            continue
        for m in _PLAIN_MATH.finditer(line):
            at = base + m.start()
            if any(a <= at < b for a, b in spans):
                continue
            left = _PLAIN_LEFT.search(line, 0, m.start())
            if left is None:
                continue
            stop = _PLAIN_STOP.search(line, m.end())
            end = stop.start() if stop is not None else len(line)
            source = line[left.start(1) : end].strip().rstrip(",")
            if len(source) - (m.start() - left.start(1)) < 2:
                continue
            found.append(
                Formula.model_construct(
                    latex=_plain_to_latex(source), line=first_line + number, end_line=first_line + number, display=False
                )
            )
    return tuple(found)


@dataclass(frozen=True)
class _Assembled:
    latex: str
    line: int
    formula: str
    description: str


def _assemble(formulas: tuple[Formula, ...], target: str, target_key: str, hints: ReadingHints | None) -> _Assembled | None:
    """The target's value from pieces: components, a tuple of named values, several values."""
    plain_target = target_key.translate(_BRACES)
    components = (hints.components.get(target) if hints else None) or ()
    if hints and target in hints.vectors:
        wanted = {latex_key(f"{target}_{{{c}}}").translate(_BRACES): c for c in components}
        prefix = plain_target + "_"
        pieces = stated_values(formulas, lambda key: key.translate(_BRACES).startswith(prefix))
        by_component: dict[str, Stated] = {}
        for piece in pieces:
            by_component[piece.key.translate(_BRACES)] = piece
        if wanted and all(k in by_component for k in wanted):
            ordered = [by_component[k] for k in wanted]
        elif not wanted and len(by_component) == hints.vectors[target]:
            ordered = list(by_component.values())
        else:
            ordered = []
        if ordered:
            latex = "\\begin{pmatrix} " + " \\\\ ".join(p.value for p in ordered) + " \\end{pmatrix}"
            return _Assembled(latex, ordered[0].line, "; ".join(f"{p.key} = {p.value}" for p in ordered),
                              f"assembled {target} from its components on lines {ordered[0].line}-{ordered[-1].line}")
    stripped = target.strip()
    if stripped.startswith("(") and stripped.endswith(")"):
        names = top_level_items(stripped[1:-1])
        if len(names) >= 2:
            matched: list[tuple[_Match, str]] = []
            for name in names:
                match = find_target(formulas, latex_key(name))
                if match is None:
                    break
                matched.append((match, _clean_value(match.formula.latex[match.value_start : match.value_end])))
            else:
                line = _line_at(matched[0][0].formula, matched[0][0].value_start)
                return _Assembled("(" + ", ".join(v for _, v in matched) + ")", line, matched[0][0].formula.latex,
                                  f"assembled {target} from one equation per component, from line {line}")
    count = hints.counts.get(target, 0) if hints else 0
    several = stated_values(formulas, lambda key: key == target_key or (_SUBSCRIPTED.search(key) is not None and _SUBSCRIPTED.sub("", key) == target_key))
    values = list(dict.fromkeys(v.value for v in several))
    if len(values) >= 2 and (count >= 2 or any(v.key != target_key for v in several)):
        if count:
            total = 0
            kept: list[str] = []
            for value in reversed(values):
                if total >= count:
                    break
                kept.insert(0, value)
                total += _value_count(value)
            values = kept
        first = several[0]
        return _Assembled(", ".join(values), first.line, first.formula.latex,
                          f"collected the values of {target} stated on lines {several[0].line}-{several[-1].line}")
    for formula in reversed(formulas):
        m = re.search(re.escape(target) + r"\s*\\in\s*\\\{(?P<body>.*)\\\}", formula.latex)
        if m is not None:
            return _Assembled(m.group("body").strip(), formula.line, formula.latex, f"read the set {target} \\in {{…}} on line {formula.line}")
    return None
