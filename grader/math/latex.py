"""Read a student's LaTeX formula into a ``grader.math.tree`` expression, never evaluating anything.

Three stages, each linear in the input and none recursive, so hostile input returns fast:

1. **Pre-pass** (``prepare``): repairs escapes eaten by PDF conversion (recorded as warnings),
   maps Unicode math (``λ``, ``≤``, ``ᵀ``) to commands, tokenises, rejects unknown and dangerous
   commands (``\\input``, ``\\def``...), pairs ``|``/``||`` bars into abs, norm, conditional or KL
   separators, checks that brackets balance and nest at most ``max_depth`` deep, and braces
   single-token arguments (``\\frac12`` -> ``\\frac{1}{2}``).
2. **Lark** (LALR, contextual lexer, ``latex.lark``) reads the context-free skeleton.
3. **Building** (``Builder``, a non-recursive walk of Lark's tree) turns each flat run of factors and
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
- ``\\frac{\\partial f}{\\partial x}`` and ``\\frac{d}{dx} f`` are ``Call("diff", (f, x))`` (evaluated
  numerically, see ``calculus``) and ``\\nabla_x f`` is ``Call("grad", (f, x))``; ``\\int_a^b f\\,dx`` keeps
  its variable as ``sub = (x = a)``, ``\\lim_{x \\to a}`` has ``sub = (x, a)``.
- Samples (issue 12): when ``x`` is a declared ``sample``, ``x_i``, ``x_{i+1}``, ``x_1``, ``x_n`` are
  ``Index("x", …)``, ``\\bar{x}``/``\\overline{x}`` is ``Call("mean", (x,))``, and ``\\sum x_i``,
  ``\\sum_i x_i`` sum over the sample (no bounds written); undeclared, ``x_i`` stays one name.
- ``\\binom{n}{k}`` (``\\dbinom``, ``\\tbinom``) is ``Call("binom", (n, k))``; ``15.87\\%`` (or ``15.87%``)
  is ``15.87/100``; ``O(x^3)``/``\\mathcal{O}(x^3)`` is the order term ``Call("O", (x^3,))``; a call
  declared as a spelling of a name (``y(0)`` for ``y_0``) is that name.
- Decimal commas where unambiguous: ``3{,}14`` (``{,}`` before other than three digits), and
  ``0,1587`` when that is the formula's only comma, outside brackets, with two or more digits after
  it (reported in ``Parsed.warnings``); ``0, 1`` and ``1,5`` stay lists.
- Lenient readings, each reported in ``Parsed.warnings``: a trailing ``.``/``,``/``;`` is ignored,
  ``y* =`` is ``y^*``, ``{1, 2}`` with commas is a set, a formula starting with ``=`` is its right
  side, ``\\to``/``\\Rightarrow`` between statements separate them into a list, and every repaired
  conversion escape is listed. (A line of an aligned derivation starting with ``=`` continues the
  relation above it: ``a &= b \\\\ &= c`` is the chain a = b = c.)
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import cast

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from grader._internal.cache import lark_parser, memoized
from grader.math.latex_atoms import Partial
from grader.math.latex_build import Builder
from grader.math.latex_context import Context
from grader.math.latex_lexer import SHOWN_BARS, Prepared, prepare
from grader.math.latex_repair import normalize_source
from grader.math.reading import ReadFailure, check_tree, raw_depth
from grader.math.symbols import SymbolTable
from grader.math.tree import (
    Node,
    Parsed,
    ParseError,
    ParseResult,
)

__all__ = ["normalize_source", "parse_latex"]


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("grader.math").joinpath("latex.lark").read_text(encoding="utf-8")
    parser: Lark = lark_parser(grammar, lexer="contextual", propagate_positions=True, maybe_placeholders=False)
    return parser


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


def _lark_error(err: UnexpectedInput, prepared: Prepared) -> ParseError:
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
        shown = shown or repr(SHOWN_BARS.get(str(tok), str(tok)))
        return ParseError(f"unexpected {shown}", prepared.original(tok.start_pos), hint)
    return ParseError("could not read this formula", prepared.original(getattr(err, "pos_in_stream", None)))


@memoized("parse_latex")  # trees are immutable; a class's answers and a rubric's references repeat
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
    too_deep = raw_depth(source, max_length, max_depth)
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
    prepared: Prepared | None = None
    try:
        prepared = prepare(source, max_depth, warnings)
        if not prepared.text.strip():
            return ParseError("empty formula", 0, "write a formula between the $ signs")
        tree = _parser().parse(prepared.text)
        ctx = Context(prepared.text, symbols)
        node = cast(Node, Builder(ctx).transform(tree))
        check_tree(node, max_depth, _partial_left)
        return Parsed(node, source, tuple(warnings + ctx.warnings))
    except ReadFailure as fail:
        return _fail_error(fail, prepared)
    except UnexpectedInput as err:
        assert prepared is not None
        return _lark_error(err, prepared)
    except RecursionError:
        return ParseError("formula nested too deeply", None, "simplify the formula or split it")
    except Exception as err:
        return ParseError(f"internal parser error ({type(err).__name__})", None, "please report this formula")


def _partial_left(marker: object) -> ReadFailure | None:
    if not isinstance(marker, Partial):
        return None
    return ReadFailure(
        "\\partial is only read in a derivative",
        marker.pos,
        "write \\frac{\\partial f}{\\partial x} or \\partial_x f",
    )


def _fail_error(fail: ReadFailure, prepared: Prepared | None) -> ParseError:
    if fail.resolved or prepared is None:
        position = fail.pos
    else:
        position = prepared.original(fail.pos)
    return ParseError(fail.message, position, fail.hint)
