"""The expression tree every math stage shares.

The LaTeX and text parsers produce these nodes; the evaluator, the SymPy bridge and the
checkers consume them. Nodes are frozen and hashable so trees can be compared, cached and
sent to worker processes. Products keep their operand order: matrices do not commute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

RelOp = Literal["=", "!=", "<", ">", "<=", ">=", "approx"]
ConstName = Literal["pi", "e", "i", "inf"]


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal kept as written (``"0.5"``, ``"3"``) so exactness is not lost."""

    text: str


@dataclass(frozen=True, slots=True)
class Sym:
    """A named symbol in canonical form: ``X``, ``lambda^dropout``, ``w^L_2``, ``psi_0``, ``D^*``."""

    name: str


@dataclass(frozen=True, slots=True)
class Const:
    name: ConstName


@dataclass(frozen=True, slots=True)
class Add:
    terms: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Neg:
    arg: Node


@dataclass(frozen=True, slots=True)
class Mul:
    """Ordered product; for matrices this is the matrix product."""

    factors: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Div:
    num: Node
    den: Node


@dataclass(frozen=True, slots=True)
class Pow:
    """``base^exp``; ``exp == Num("-1")`` on a matrix means the inverse."""

    base: Node
    exp: Node


@dataclass(frozen=True, slots=True)
class Transpose:
    arg: Node


@dataclass(frozen=True, slots=True)
class Hadamard:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Norm:
    """``\\|x\\|`` (``kind="2"``) or ``|x|`` on a scalar (``kind="abs"``)."""

    arg: Node
    kind: Literal["2", "abs", "1", "inf", "fro"] = "2"


@dataclass(frozen=True, slots=True)
class Call:
    """A whitelisted or declared function applied to arguments: ``sin``, ``log``, ``sigma``, ``diag``."""

    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Operator:
    """A big operator with a subscript: ``max_D``, ``argmax_D``, ``E_{x~p}``, ``sum_{k=1}^n``."""

    name: Literal["max", "min", "argmax", "argmin", "sup", "inf", "E", "sum", "prod", "int", "lim", "Var"]
    body: Node
    sub: Node | None = None
    sup: Node | None = None


@dataclass(frozen=True, slots=True)
class MatrixLit:
    rows: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True, slots=True)
class PlusMinus:
    """``a \\pm b``: stands for both ``a + b`` and ``a - b``. ``left`` is None for a leading ``\\pm b``."""

    left: Node | None
    right: Node


@dataclass(frozen=True, slots=True)
class Seq:
    """Comma-separated items: a set ``{...}``, a tuple ``(a, b, c)`` or a bare list ``a, b``."""

    items: tuple[Node, ...]
    kind: Literal["set", "tuple", "list"] = "list"


@dataclass(frozen=True, slots=True)
class Interval:
    """A real interval written with a round and a square bracket: ``[0, 1)``, ``(a, \\infty]``.

    ``(a, b)`` and ``[a, b]`` stay ``Seq`` tuples and lists (a point and a list are as likely); the
    comparison reads them as open and closed intervals when the other side is an interval.
    """

    low: Node
    high: Node
    low_open: bool
    high_open: bool


@dataclass(frozen=True, slots=True)
class Relation:
    """A chain ``a = b < c``: ``ops[k]`` relates ``items[k]`` and ``items[k+1]``."""

    items: tuple[Node, ...]
    ops: tuple[RelOp, ...]


@dataclass(frozen=True, slots=True)
class Factorial:
    arg: Node


@dataclass(frozen=True, slots=True)
class Index:
    """``x_i``: one observation of the declared sample ``x``; ``index`` is ``i``, ``1``, ``n`` or ``i+1``."""

    name: str
    index: Node


@dataclass(frozen=True, slots=True)
class Text:
    """Prose inside math (``\\text{...}`` outside a label); never evaluated."""

    text: str


Node: TypeAlias = (
    Num
    | Sym
    | Const
    | Add
    | Neg
    | Mul
    | Div
    | Pow
    | Transpose
    | Hadamard
    | Norm
    | Call
    | Operator
    | MatrixLit
    | PlusMinus
    | Seq
    | Interval
    | Relation
    | Factorial
    | Index
    | Text
)


@dataclass(frozen=True, slots=True)
class ParseError:
    """Why a formula could not be read: ``position`` is a 0-based offset into the input."""

    message: str
    position: int | None = None
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    tree: Node
    source: str
    warnings: tuple[str, ...] = field(default=())


ParseResult: TypeAlias = Parsed | ParseError


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes, for generic walks (size limits, symbol collection)."""
    match node:
        case Add(terms):
            return terms
        case Mul(factors):
            return factors
        case Neg(a) | Transpose(a) | Factorial(a) | Index(_, a):
            return (a,)
        case Norm(a, _):
            return (a,)
        case Div(a, b) | Pow(a, b) | Hadamard(a, b):
            return (a, b)
        case Interval(low, high, _, _):
            return (low, high)
        case Call(_, args):
            return args
        case Operator(_, body, sub, sup):
            return tuple(n for n in (body, sub, sup) if n is not None)
        case MatrixLit(rows):
            return tuple(cell for row in rows for cell in row)
        case PlusMinus(left, right):
            return (right,) if left is None else (left, right)
        case Seq(items, _) | Relation(items, _):
            return items
        case _:
            return ()


def walk(node: Node) -> list[Node]:
    """All nodes, parents first; iterative so deep trees cannot overflow the stack."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def symbols_in(node: Node) -> frozenset[str]:
    """Every name in the tree: symbols, and the samples that ``x_i`` reads."""
    return frozenset(n.name for n in walk(node) if isinstance(n, Sym | Index))


def rebuild(node: Node, kids: tuple[Node, ...]) -> Node:
    """The same node with new children (the inverse of ``tree.children``)."""
    match node:
        case Add():
            return Add(kids)
        case Mul():
            return Mul(kids)
        case Neg():
            return Neg(kids[0])
        case Transpose():
            return Transpose(kids[0])
        case Factorial():
            return Factorial(kids[0])
        case Index(name, _):
            return Index(name, kids[0])
        case Norm(_, kind):
            return Norm(kids[0], kind)
        case Div():
            return Div(kids[0], kids[1])
        case Pow():
            return Pow(kids[0], kids[1])
        case Hadamard():
            return Hadamard(kids[0], kids[1])
        case Call(func, _):
            return Call(func, kids)
        case Operator(name, body, sub, sup):
            it = iter(kids)
            new_body = next(it)
            new_sub = next(it) if sub is not None else None
            new_sup = next(it) if sup is not None else None
            del body
            return Operator(name, new_body, new_sub, new_sup)
        case MatrixLit(rows):
            it = iter(kids)
            return MatrixLit(tuple(tuple(next(it) for _ in row) for row in rows))
        case Seq(_, kind):
            return Seq(kids, kind)
        case Interval(_, _, low_open, high_open):
            return Interval(kids[0], kids[1], low_open, high_open)
        case Relation(_, ops):
            return Relation(kids, ops)
        case PlusMinus(left, _):
            return PlusMinus(None, kids[0]) if left is None else PlusMinus(kids[0], kids[1])
        case _:
            return node
