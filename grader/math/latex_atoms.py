"""What the LaTeX reader holds between Lark's tree and the expression tree: atoms, arguments, items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from grader.math.reading import ReadFailure
from grader.math.tree import (
    Call,
    Node,
    Pow,
    RelOp,
    Transpose,
)


@dataclass(frozen=True, slots=True)
class Partial:
    """``\\partial body`` before a fraction turns it into a derivative; never left in a tree."""

    body: Node | None
    order: int = 1
    pos: int = 0


def as_node(value: object) -> Node:
    """Private markers travel inside nodes until the fraction that consumes them."""
    return cast(Node, value)


@dataclass(eq=False)
class Atom:
    """One factor before resolution: a name, a number, a group, a function or operator head..."""

    kind: str
    pos: int
    base: str = ""
    src: str = ""
    node: Node | None = None
    lst: ItemList | None = None
    delim: str = ""
    sub: Arg | None = None
    sup: Arg | None = None
    primes: int = 0
    variables: tuple[Node, ...] = ()

    @property
    def scripted(self) -> bool:
        return self.sub is not None or self.sup is not None or self.primes > 0


@dataclass(eq=False)
class Arg:
    """A braced argument: its source (for labels), its content and its only atom, if single."""

    src: str
    pos: int
    lst: ItemList
    atom: Atom | None


@dataclass(eq=False)
class Res:
    """One resolved item of a list; a failure is kept until someone needs the node."""

    pos: int
    node: Node | None = None
    atom: Atom | None = None
    error: ReadFailure | None = None
    lead: tuple[tuple[RelOp, ...], tuple[Node, ...]] | None = None

    def get(self) -> Node:
        if self.node is None:
            raise self.error or ReadFailure("empty formula", self.pos)
        return self.node


@dataclass(eq=False)
class ItemList:
    items: list[Res]
    seps: list[str]
    pos: int


RELOPS: dict[str, RelOp] = {
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
ARG_SEPS = frozenset({",", ";", "\\mid", "\\parallel"})


def seps_of(group: Atom) -> list[str]:
    return group.lst.seps if group.lst is not None else []


def conditional(group: Atom) -> bool:
    """``(x|z)`` or ``(q||p)``: a bar no product could explain, even after a declared scalar."""
    return group.lst is not None and any(s in ("\\mid", "\\parallel") for s in group.lst.seps)


def called(group: Atom) -> bool:
    """Parentheses after a name that only a function call explains: ``(a, b)``, ``(x|z)``, ``(q||p)``."""
    lst = group.lst
    if lst is None:
        return False
    if group.delim == "[":
        return "\\parallel" in lst.seps
    return len(lst.items) >= 2 and all(s in ARG_SEPS for s in lst.seps)


def inner_call(node: Node) -> Call | None:
    while isinstance(node, Pow | Transpose):
        node = node.base if isinstance(node, Pow) else node.arg
    return node if isinstance(node, Call) else None
