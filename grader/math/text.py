"""Read calculator syntax (``(1-p)/p``, ``x**2``, ``sqrt(x)``, ``matrix([1,2],[3,4])``) into tree nodes.

The rubric's function definitions (``1/(1+exp(-u))``) and students who skip LaTeX write this.
Same safety as the LaTeX reader: a Lark LALR grammar, a non-recursive transformer, limits on
length and nesting checked before parsing, and nothing is ever evaluated.

Reading rules (the tests pin each one):

- ``^`` and ``**`` are powers (right-associative, tighter than a leading minus: ``-x^2`` is
  ``-(x^2)``); juxtaposition is a product at the same level as ``*`` and ``/``, read left to
  right, so ``2x^2`` is ``2*(x^2)`` and ``a/bc`` is ``(a/b)*c``.
- Names: a declared name, a Greek letter name (``lambda``, ``Gamma``), ``pi``/``e`` (constants
  unless declared), ``inf``/``infinity``/``infty``; ``i`` stays ``Sym("i")``; Maxima's ``%pi %e
  %i`` are constants. Other all-letter words split into letters (``xy`` is ``x*y``) like in LaTeX;
  names with digits or underscores (``psi_0``, ``f_0``, ``x2``, ``mu0``) are one symbol, and so is
  a Greek letter typed as Unicode and followed by digits (``μ0`` is ``mu0``, never ``mu*0``). Like
  STACK, ``x1`` and ``x_1`` are different names.
- ``name(...)`` is a call for whitelisted functions (``grader.math.functions``, with Maxima's and
  SymPy's spellings: ``ln``, ``signum``, ``cosec``, ``asinh``, ``Max``, ``binomial``...), the
  calculator-only spellings listed there (``lg``, ``log10``, ``root(x)``, ``abs``, ``factorial``),
  declared functions, several arguments, or a capitalised word (``JSD(p, q)``). A single letter
  or a declared non-function name before parentheses multiplies (``p(1-p)``, and ``XR(1)`` when
  X and R are declared); any other word before ``(`` is an error "unknown function NAME", never
  a silent product of letters (``signum`` is not s·i·g·n·u·m).
- A whitelisted function written without parentheses takes the juxtaposed factors after it as
  its argument, like LaTeX's ``\\sin 2x``: ``sin 5n`` is ``sin(5n)``, ``n log^2 n`` is
  ``n*log(n)^2``, ``sin**2 (m)`` is ``sin(m)^2``, ``sin^-1 x`` is ``arcsin(x)``; an explicit ``*``
  or ``/`` or another function ends the argument (``2 sin x cos x``).
- ``=``/``==``, ``#``/``!=`` (not equal, Maxima), ``<``, ``<=``, ``>``, ``>=``; ``{1,2}`` is a set,
  ``[1,2]`` a list, ``(1,2)`` a tuple, ``a, b`` a top-level list; ``|x|`` is ``abs``; ``n!``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, cast

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive, v_args

from grader._internal.cache import lark_parser, memoized
from grader.math import names
from grader.math.functions import FUNCTION_ALIASES, INVERSE_FUNCTIONS, KNOWN_FUNCTIONS, arity_ok
from grader.math.reading import ReadFailure, check_tree, commas, decimal_comma, raw_depth
from grader.math.symbols import SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Index,
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
    Pow,
    Relation,
    RelOp,
    Seq,
    Sym,
)

__all__ = ["parse_text"]

_GRAMMAR = r"""
start: items

items: relation ("," relation)*
relation: total (RELOP total)*
total: sterm (ADDOP sterm)*
sterm: ADDOP sterm | term
term: power (MULOP sfactor | power)*
sfactor: ADDOP sfactor | power
power: postfix (POW sfactor)?
postfix: _atom (BANG | PERCENT)*

_atom: number | name | const | call | paren | bracket | braces | absbars
number: NUMBER
name: NAME
const: CONST
call: FUNC_OPEN items? ")"
paren: "(" items ")"
bracket: "[" items? "]"
braces: "{" items? "}"
absbars: ABS_OPEN total ABS_CLOSE

NUMBER: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
FUNC_OPEN.2: /[A-Za-z][A-Za-z0-9_]*\(/
NAME: /[A-Za-z][A-Za-z0-9_]*/
CONST: /%(?:pi|e|i)(?![A-Za-z0-9_])/
RELOP.2: /<=|>=|==|!=|=|<|>|#/
POW: /\*\*|\^/
MULOP: /\*(?!\*)|\//
ADDOP: /[+-]/
BANG: "!"
PERCENT: /%(?![A-Za-z])/
ABS_OPEN: "\ue000"
ABS_CLOSE: "\ue001"

%ignore /\s+/
"""

_UNICODE = {
    "π": "pi",
    "∞": "inf",
    "√": "sqrt",
    "≤": "<=",
    "≥": ">=",
    "≠": "#",
    "·": "*",
    "⋅": "*",
    "×": "*",
    "∗": "*",
    "÷": "/",
    "−": "-",
    "–": "-",
    "²": "^2",
    "³": "^3",
    "\u00a0": " ",
    **{
        ch: name
        for ch, name in zip(
            "αβγδεζηθικλμνξρστυφχψω",
            (
                "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho sigma tau upsilon phi chi psi omega"
            ).split(),
            strict=True,
        )
    },
    **{
        ch: name
        for ch, name in zip(
            "ΓΔΘΛΞΠΣΥΦΨΩ", "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split(), strict=True
        )
    },
}
_SPACE_BEFORE_PAREN = re.compile(r"(?<=[A-Za-z0-9_])\s+(?=\()")
_OPERAND_END = re.compile(r"[A-Za-z0-9_.)\]}!\ue001%]")
_RELOPS: dict[str, RelOp] = {
    "=": "=",
    "==": "=",
    "#": "!=",
    "!=": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
}
_CONSTANT_NAMES = {"pi": "pi", "e": "e", "inf": "inf", "infinity": "inf", "infty": "inf"}
#: calculator-only function spellings (see ``grader.math.functions``), read by ``_calculator_call``
_CALCULATOR_FUNCTIONS = frozenset({"abs", "Abs", "log10", "log2", "lg", "root", "factorial"})


@lru_cache(maxsize=1)
def _parser() -> Lark:
    parser: Lark = lark_parser(_GRAMMAR, lexer="contextual", propagate_positions=True, maybe_placeholders=False)
    return parser


def _prepare(source: str, max_depth: int) -> tuple[str, list[int]]:
    """Unicode spelled out, ``|x|`` bars paired, spaces before ``(`` dropped; with an offset map."""
    out: list[str] = []
    origin: list[int] = []
    for pos, ch in enumerate(source):
        if ch in ("\ue000", "\ue001"):
            raise ReadFailure(f"unexpected character {ch!r}", pos)
        if "\uff01" <= ch <= "\uff5e":
            ch = chr(ord(ch) - 0xFEE0)  # full-width ASCII typed on CJK keyboards
        new = _UNICODE.get(ch, ch)
        if len(new) > 1 and new.isalpha():
            # a word (μ -> mu, π -> pi, √ -> sqrt): apart from a name before it and from letters
            # after it (μx); a Greek name is joined to digits after it (μ0 is the name mu0, as
            # PrairieLearn reads it), the constants and sqrt are not (π2 is pi*2, √2 is sqrt 2)
            following = source[pos + 1] if pos + 1 < len(source) else ""
            if out and (out[-1][-1:].isalnum() or out[-1][-1:] == "_"):
                new = " " + new
            joins_digits = new.strip() not in ("pi", "inf", "sqrt")
            if following.isalpha() or (following.isdigit() and not joins_digits):
                new = new + " "
        out.append(new)
        origin.extend([pos] * len(new))
    text = "".join(out)
    chars = list(text)
    bars = 0
    depth = 0
    previous = ""
    for k, ch in enumerate(chars):
        if ch == "|":
            if _OPERAND_END.match(previous) and bars:
                chars[k] = "\ue001"
                bars -= 1
            else:
                chars[k] = "\ue000"
                bars += 1
        if chars[k] in "([{\ue000":
            depth += 1
            if depth > max_depth:
                raise ReadFailure(
                    f"formula nested too deeply (more than {max_depth} levels)",
                    origin[k],
                    "simplify the formula",
                )
        elif chars[k] in ")]}\ue001":
            depth = max(0, depth - 1)
        elif ord(ch) > 127 or not (ch.isprintable() or ch.isspace()):
            raise ReadFailure(
                f"unexpected character {ch!r}",
                origin[k],
                "write the formula in plain ASCII, like sqrt(x) or pi",
            )
        if not ch.isspace():
            previous = chars[k]
    text = "".join(chars)
    # "sin (x)" is "sin(x)": keep names next to their parentheses (offsets follow the removal)
    kept: list[int] = []
    pieces: list[str] = []
    last = 0
    for match in _SPACE_BEFORE_PAREN.finditer(text):
        pieces.append(text[last : match.start()])
        kept.extend(origin[last : match.start()])
        last = match.end()
    pieces.append(text[last:])
    kept.extend(origin[last:])
    return "".join(pieces), kept


class _Name:
    """A bare name before we know whether it is a symbol, a constant or letters to split."""

    def __init__(self, text: str, pos: int):
        self.text = text
        self.pos = pos


class _Head:
    """A function written without parentheses (``sin 5n``, ``log^2 n``): waits for its argument."""

    def __init__(self, text: str, pos: int):
        self.text = text
        self.pos = pos
        self.exponent: Node | None = None
        self.inverse = False

    def apply(self, argument: Node) -> Node:
        func = _implicit_function(self.text)
        assert func is not None
        if self.inverse:
            func = INVERSE_FUNCTIONS[func]
        node: Node
        if func == "log10":
            node = Call("log", (argument, Num("10")))
        elif func == "log2":
            node = Call("log", (argument, Num("2")))
        elif func == "abs":
            node = Norm(argument, "abs")
        else:
            node = Call(func, (argument,))
        return node if self.exponent is None else Pow(node, self.exponent)

    def missing(self) -> ReadFailure:
        return ReadFailure(f"{self.text} needs an argument", self.pos, f"write {self.text}(x)")


def _implicit_function(text: str) -> str | None:
    """The function a bare word applies without parentheses (one argument), or None."""
    if text in ("lg", "log10"):
        return "log10"
    if text in ("log2", "abs", "Abs"):
        return text.lower()
    if text == "root":
        return "sqrt"
    func = FUNCTION_ALIASES.get(text)
    if func is not None and (KNOWN_FUNCTIONS.get(func) == 1 or func == "log"):
        return func
    return None


@v_args(meta=True)
class _Builder(Transformer_NonRecursive[Token, Any]):
    def __init__(self, symbols: SymbolTable):
        super().__init__(visit_tokens=False)
        self.symbols = symbols

    # ---- names
    def _safe(self, name: str, pos: int) -> str:
        if "__" in name:
            raise ReadFailure(
                f"'{name}' cannot be a name: names may not contain '__'", pos, "use single underscores"
            )
        return name

    def _factors(self, value: Any) -> list[Any]:
        """A value as the factors it multiplies in (a split word gives several; a ``_Head`` waits
        for its argument, which only ``term`` can give it)."""
        if isinstance(value, _Name):
            return self._name(value)
        if isinstance(value, list):
            return value
        return [value]

    def _one(self, value: Any) -> Node:
        factors = self._factors(value)
        head = next((f for f in factors if isinstance(f, _Head)), None)
        if head is not None:
            raise head.missing()
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def _name(self, name: _Name) -> list[Any]:
        text = self._safe(name.text, name.pos)
        if text in self.symbols.symbols:
            return [Sym(text)]
        base, _, index = text.partition("_")
        if index and self.symbols.is_sample(base):  # x_i, x_1 of a declared sample
            return [Index(base, Num(index) if index.isdigit() else Sym(index))]
        if _implicit_function(text) is not None:
            return [_Head(text, name.pos)]
        if text in FUNCTION_ALIASES or text in _CALCULATOR_FUNCTIONS or text == "matrix":
            raise ReadFailure(f"{text} needs its arguments in parentheses", name.pos, f"write {text}(...)")
        if text in _CONSTANT_NAMES:
            return [Const(cast(Any, _CONSTANT_NAMES[text]))]
        if text in names.GREEK:
            return [Sym(names.GREEK[text])]
        if len(text) == 1 or not text.isalpha():
            return [Sym(text)]
        letters: list[Node] = []
        for ch in text:
            letters.extend(self._name(_Name(ch, name.pos)))
        return letters

    # ---- rules
    def start(self, meta: Any, ch: list[Any]) -> Node:
        items = cast(list[Node], ch[0])
        return commas(items)

    def items(self, meta: Any, ch: list[Any]) -> list[Node]:
        return [self._one(c) for c in ch]

    def relation(self, meta: Any, ch: list[Any]) -> Node:
        if len(ch) == 1:
            return self._one(ch[0])
        return Relation(tuple(self._one(c) for c in ch[0::2]), tuple(_RELOPS[str(t)] for t in ch[1::2]))

    def total(self, meta: Any, ch: list[Any]) -> Node:
        if len(ch) == 1:
            return self._one(ch[0])
        terms = [self._one(ch[0])]
        for op, term in zip(ch[1::2], ch[2::2], strict=True):
            value = self._one(term)
            terms.append(Neg(value) if str(op) == "-" else value)
        return Add(tuple(terms))

    def sterm(self, meta: Any, ch: list[Any]) -> Any:
        if len(ch) == 1:
            return ch[0]
        value = self._one(ch[1])
        return Neg(value) if str(ch[0]) == "-" else value

    def sfactor(self, meta: Any, ch: list[Any]) -> Any:
        return self.sterm(meta, ch)

    def term(self, meta: Any, ch: list[Any]) -> Any:
        """Products and quotients left to right; juxtaposition binds like ``*``: ``a/bc`` is ``(a/b)*c``.

        A function without parentheses (a ``_Head``) takes the juxtaposed factors after it, up to
        an explicit ``*``/``/`` or the next function: ``2 sin x cos x``, ``n log^2 2n``.
        """
        if len(ch) == 1:
            return ch[0]
        factors: list[Node] = []
        pending: list[tuple[_Head, str, list[Node]]] = []  # head, the operator before it, its argument

        def put(value: Node, op: str) -> None:
            if op == "/":
                left = factors[0] if len(factors) == 1 else Mul(tuple(factors))
                factors[:] = [Div(left, value)]
            else:
                factors.append(value)

        def close() -> None:
            while pending:
                head, op, argument = pending.pop()
                if not argument:
                    raise head.missing()
                call = head.apply(argument[0] if len(argument) == 1 else Mul(tuple(argument)))
                if pending:
                    pending[-1][2].append(call)
                else:
                    put(call, op)

        op = "*"
        explicit = True  # the first factor follows nothing
        for item in ch:
            if isinstance(item, Token) and item.type == "MULOP":
                close()
                op, explicit = str(item), True
                continue
            for k, value in enumerate(self._factors(item)):
                juxtaposed = k > 0 or not explicit
                this_op = op if k == 0 else "*"
                if isinstance(value, _Head):
                    if pending and pending[-1][2]:
                        close()  # "sin x cos x": the argument of sin ends where cos starts
                    pending.append((value, this_op if not pending else "*", []))
                elif pending and juxtaposed:
                    pending[-1][2].append(value)
                else:
                    close()
                    put(value, this_op)
            op, explicit = "*", False
        close()
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def power(self, meta: Any, ch: list[Any]) -> Any:
        if len(ch) == 1:
            return ch[0]
        base = self._factors(ch[0])
        exponent = self._one(ch[2])
        if isinstance(exponent, Neg) and isinstance(exponent.arg, Num):
            exponent = Num("-" + exponent.arg.text)
        last = base[-1]
        if isinstance(last, _Head):  # sin^2 x, log**2 n, sin^-1 x (the grammar allows one exponent)
            func = _implicit_function(last.text)
            if exponent == Num("-1") and func in INVERSE_FUNCTIONS:
                last.inverse = True
            else:
                last.exponent = exponent
            return base
        return [*base[:-1], Pow(last, exponent)]

    def postfix(self, meta: Any, ch: list[Any]) -> Any:
        if len(ch) == 1:
            return ch[0]
        factors = self._factors(ch[0])
        last = factors[-1]
        if isinstance(last, _Head):
            raise last.missing()
        for mark in ch[1:]:
            last = Div(last, Num("100")) if str(mark) == "%" else Factorial(last)
        return [*factors[:-1], last]

    def number(self, meta: Any, ch: list[Any]) -> Node:
        return Num(str(ch[0]))

    def name(self, meta: Any, ch: list[Any]) -> _Name:
        return _Name(str(ch[0]), meta.start_pos)

    def const(self, meta: Any, ch: list[Any]) -> Node:
        return Const(cast(Any, str(ch[0])[1:]))

    def paren(self, meta: Any, ch: list[Any]) -> Node:
        items = cast(list[Node], ch[0])
        return items[0] if len(items) == 1 else Seq(tuple(items), "tuple")

    def bracket(self, meta: Any, ch: list[Any]) -> Node:
        return Seq(tuple(ch[0]) if ch else (), "list")

    def braces(self, meta: Any, ch: list[Any]) -> Node:
        return Seq(tuple(ch[0]) if ch else (), "set")

    def absbars(self, meta: Any, ch: list[Any]) -> Node:
        return Norm(self._one(ch[1]), "abs")

    def call(self, meta: Any, ch: list[Any]) -> Any:
        head = str(ch[0])[:-1]
        pos = meta.start_pos
        args = cast(list[Node], ch[1]) if len(ch) > 1 and isinstance(ch[1], list) else []
        self._safe(head, pos)
        if not args:
            raise ReadFailure(f"{head}() needs an argument", pos, f"write {head}(x)")
        if head == "matrix" and head not in self.symbols.symbols:
            return self._matrix(args, pos)
        if head in self.symbols.symbols:
            if self.symbols.is_function(head):
                return Call(head, tuple(args))
            return [Sym(head), self._group(args)]
        if head == "O" and len(args) == 1:
            return Call("O", tuple(args))  # the order term of an expansion
        if head == "mean" and len(args) == 1 and isinstance(args[0], Sym) and self.symbols.is_sample(args[0].name):
            return Call("mean", tuple(args))
        if head == "sum" and len(args) == 4 and isinstance(args[1], Sym):
            return Operator("sum", args[0], Relation((args[1], args[2]), ("=",)), args[3])  # Maxima's sum(f, k, a, b)
        special = self._calculator_call(head, args, pos)
        if special is not None:
            return special
        func = FUNCTION_ALIASES.get(head)
        if func is not None:
            if func in ("max", "min") and len(args) == 1:
                return args[0]  # max(m) is m (SymPy, Maxima)
            if not arity_ok(func, len(args)):
                raise ReadFailure(f"{func} takes {_arity_text(func)}, not {len(args)}", pos)
            return Call(func, tuple(args))
        greek = names.GREEK.get(head)
        if greek is not None and self.symbols.is_function(greek):
            return Call(greek, tuple(args))
        declared_letters = head.isalpha() and all(
            c in self.symbols.symbols and not self.symbols.is_function(c) for c in head
        )
        if len(args) > 1 or (len(head) > 1 and head[0].isupper() and head.isalpha() and not declared_letters):
            return Call(head, tuple(args))
        if (
            len(head) > 1
            and head.isalpha()
            and not declared_letters
            and head not in names.GREEK
            and head not in _CONSTANT_NAMES
        ):
            raise ReadFailure(
                f"unknown function {head}",
                pos,
                f"check the spelling; for a product write * between the factors, like {'*'.join(head)}*(...)",
            )
        return [*self._name(_Name(head, pos)), self._group(args)]

    def _calculator_call(self, head: str, args: list[Node], pos: int) -> Node | None:
        """The calculator-only spellings (``grader.math.functions``); None for other names."""
        if head not in _CALCULATOR_FUNCTIONS:
            return None
        if head in ("lg", "root") and len(args) == 2:
            return Call("log" if head == "lg" else "root", (args[0], args[1]))  # lg(x, b), root(x, n)
        if len(args) != 1:
            raise ReadFailure(f"{head} takes one argument", pos, f"write {head}(x)")
        (arg,) = args
        if head in ("abs", "Abs"):
            return Norm(arg, "abs")
        if head == "factorial":
            return Factorial(arg)
        if head == "root":
            return Call("sqrt", (arg,))
        base = {"lg": "10", "log10": "10", "log2": "2"}[head]
        return Call("log", (arg, Num(base)))

    def _group(self, args: list[Node]) -> Node:
        return args[0] if len(args) == 1 else Seq(tuple(args), "tuple")

    def _matrix(self, args: list[Node], pos: int) -> Node:
        rows: list[tuple[Node, ...]] = []
        for row in args:
            if not (isinstance(row, Seq) and row.kind == "list"):
                raise ReadFailure("matrix() takes rows written as lists", pos, "write matrix([1,2],[3,4])")
            rows.append(row.items)
        if any(len(row) != len(rows[0]) for row in rows) or not rows[0]:
            raise ReadFailure("every row of a matrix needs the same number of entries", pos)
        return MatrixLit(tuple(rows))


def _arity_text(func: str) -> str:
    if func in ("max", "min"):
        return "one or more arguments"
    if func == "log":
        return "one argument (and an optional base)"
    count = KNOWN_FUNCTIONS.get(func, 1)
    return "1 argument" if count == 1 else f"{count} arguments"


@memoized("parse_text")  # trees are immutable; a class's answers and a rubric's references repeat
def parse_text(
    source: str, symbols: SymbolTable | None = None, *, max_length: int = 20_000, max_depth: int = 400
) -> ParseResult:
    """Read calculator syntax into a tree; never raises for bad input (returns ``ParseError``)."""
    if not isinstance(source, str):
        return ParseError("the formula must be text")
    too_deep = raw_depth(source, max_length, max_depth)
    if too_deep is not None:
        return ParseError(
            f"formula nested too deeply (more than {max_depth} levels)", too_deep, "simplify the formula"
        )
    if len(source) > max_length:
        return ParseError(
            f"formula too long ({len(source)} characters, at most {max_length})", max_length, "split it up"
        )
    origin: list[int] = []
    source, decimal = decimal_comma(source)
    try:
        text, origin = _prepare(source, max_depth)
        if not text.strip():
            return ParseError("empty formula", 0, "write a formula, e.g. (1-p)/p")
        tree = _parser().parse(text)
        node = cast(Node, _Builder(symbols or SymbolTable()).transform(tree))
        check_tree(node, max_depth)
        return Parsed(node, source, (decimal,) if decimal else ())
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, ReadFailure):
            return _error(inner, origin)
        if isinstance(inner, RecursionError):
            return ParseError("formula nested too deeply", None, "simplify the formula")
        return ParseError(
            f"internal parser error ({type(inner).__name__})", None, "please report this formula"
        )
    except ReadFailure as fail:
        return _error(fail, origin) if origin else ParseError(fail.message, fail.pos, fail.hint)
    except UnexpectedInput as err:
        return _lark_error(err, text, origin)
    except RecursionError:
        return ParseError("formula nested too deeply", None, "simplify the formula")
    except Exception as err:
        return ParseError(f"internal parser error ({type(err).__name__})", None, "please report this formula")


def _at(origin: list[int], pos: int | None) -> int | None:
    if pos is None or not origin:
        return pos
    return origin[min(max(pos, 0), len(origin) - 1)]


def _error(fail: ReadFailure, origin: list[int]) -> ParseError:
    return ParseError(fail.message, _at(origin, fail.pos), fail.hint)


def _lark_error(err: UnexpectedInput, text: str, origin: list[int]) -> ParseError:
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        shown = "|" if char in ("\ue000", "\ue001") else char
        hints = {
            "\\": "this is calculator syntax; write sqrt(x), not \\sqrt{x}",
            "'": "quotes are not part of a formula",
            '"': "quotes are not part of a formula",
            ";": "separate items with commas",
            ":": "write = for an equation",
        }
        return ParseError(
            f"unexpected {shown!r}",
            _at(origin, pos),
            hints.get(char, "check the formula near here"),
        )
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            return ParseError(
                "the formula ends too early",
                _at(origin, max(0, len(text) - 1)),
                "something is missing at the end",
            )
        shown = "|" if str(tok) in ("\ue000", "\ue001") else str(tok)
        return ParseError(
            f"unexpected {shown!r}",
            _at(origin, tok.start_pos),
            "check that every operator has an operand on both sides",
        )
    return ParseError("could not read this formula", None)
