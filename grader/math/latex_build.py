"""Lark's tree to the expression tree: one rule method per grammar rule, walked without recursion."""

from __future__ import annotations

from typing import Any, cast

from lark import Token, Tree

from grader.math import names
from grader.math.functions import (
    FUNCTION_ALIASES,
)
from grader.math.latex_atoms import RELOPS, Arg, Atom, ItemList, Res
from grader.math.latex_context import Context
from grader.math.latex_resolve import Resolver
from grader.math.reading import ReadFailure
from grader.math.tree import (
    Call,
    Node,
    Relation,
    Text,
)

_OPERATOR_TOKENS = frozenset({"BINOP", "STARLIKE", "ADDOP", "BANG", "PERCENT"})


def meta_pos(meta: Any) -> int:
    return int(getattr(meta, "start_pos", 0) or 0)


class Builder:
    """Grammar rule -> intermediate value; each ``seq`` is resolved as soon as it is complete.

    The walk is post-order over an explicit stack (no recursion), and rule methods are called
    directly as ``rule(meta, children)``: cheaper than Lark's transformer wrappers on long input.
    """

    def __init__(self, ctx: Context):
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
    def _atom(value: Atom | Token) -> Atom:
        """A primary as an atom; single-token primaries arrive as tokens."""
        if isinstance(value, Atom):
            return value
        text = str(value)
        pos = value.start_pos or 0
        kind = value.type
        if kind == "NUMBER":
            return Atom("num", pos, base=text, src=text)
        if kind == "WORD":
            return Atom("word", pos, base=text, src=text)
        if kind == "GREEK":
            return Atom("name", pos, base=names.GREEK[text[1:]], src=text)
        if kind == "CONSTCMD":
            return Atom("const", pos, base="inf" if text == "\\infty" else "i")
        if kind == "UPRIGHT":
            return Atom("upright", pos, base=text[len("\\mathrm{") : -1], src=text)
        if kind == "TEXT":
            return Atom("text", pos, base=text[len("\\text{") : -1].strip())
        if kind == "FUNC":
            return Atom("func", pos, base=FUNCTION_ALIASES.get(text[1:], text[1:]))
        if kind == "BIGOP":
            return Atom("bigop", pos, base=text[1:])
        simple = {
            "ARGCMD": "argcmd",
            "NABLA": "nabla",
            "PARTIAL": "partial",
            "TOP": "top",
            "PRIMECMD": "primecmd",
        }
        return Atom(simple[kind], pos, base=text)

    @staticmethod
    def _arg(brace: Atom) -> Arg:
        """A braced argument: its source (for labels), its content, and its only atom if single."""
        lst = brace.lst or ItemList([], [], brace.pos)
        atom = lst.items[0].atom if len(lst.items) == 1 else None
        return Arg(brace.src, brace.pos, lst, atom)

    def start(self, meta: Any, ch: list[Any]) -> Node:
        return cast(Node, ch[0])

    def lines(self, meta: Any, ch: list[Any]) -> Node:
        return self.c.top([c for c in ch if isinstance(c, ItemList)])

    def items(self, meta: Any, ch: list[Any]) -> ItemList:
        return ItemList(
            [c for c in ch if isinstance(c, Res)],
            [str(c) for c in ch if isinstance(c, Token)],
            meta_pos(meta),
        )

    def relation(self, meta: Any, ch: list[Any]) -> Res:
        items = tuple(cast(Res, c).get() for c in ch[0::2])
        ops = tuple(RELOPS[str(t)] for t in ch[1::2])
        return Res(meta_pos(meta), Relation(items, ops))

    def leading_relation(self, meta: Any, ch: list[Any]) -> Res:
        ops = tuple(RELOPS[str(t)] for t in ch[0::2])
        nodes = tuple(cast(Res, c).get() for c in ch[1::2])
        error = ReadFailure(
            f"'{ch[0]}' needs something on its left", meta_pos(meta), "write both sides of the relation"
        )
        return Res(meta_pos(meta), error=error, lead=(ops, nodes))

    def seq(self, meta: Any, ch: list[Any]) -> Res:
        pos = meta_pos(meta)
        elements: list[Atom | Token] = [
            c if isinstance(c, Token) and c.type in _OPERATOR_TOKENS else self._atom(c) for c in ch
        ]
        if len(elements) == 1 and isinstance(elements[0], Token):
            tok = elements[0]
            if str(tok) == "\\cdot":  # the placeholder in \mathbb{E}[\cdot]
                return Res(pos, Text("\\cdot"))
            if tok.type == "STARLIKE":
                return Res(
                    pos,
                    atom=Atom("star", pos, base="*"),
                    error=ReadFailure("'*' needs something on both sides", pos),
                )
        last = elements[-1]
        if (
            len(elements) >= 2
            and isinstance(last, Token)
            and str(last) == "*"
            and isinstance(elements[-2], Atom)
        ):
            # "y* = ..." is how people type y^*: a trailing star labels the name before it
            named = elements[-2]
            if named.kind in ("name", "word", "upright") and named.sup is None and not named.primes:
                star = Atom("star", last.start_pos or 0, base="*")
                named.sup = Arg("*", star.pos, ItemList([], [], star.pos), star)
                self.c.warnings.append("read a trailing '*' as the label ^*")
                elements = elements[:-1]
        single = elements[0] if len(elements) == 1 and isinstance(elements[0], Atom) else None
        try:
            node = Resolver(self.c, elements).run()
        except ReadFailure as fail:
            if single is None:
                raise
            return Res(pos, atom=single, error=fail)
        return Res(pos, node, atom=single)

    def scripted(self, meta: Any, ch: list[Any]) -> Atom:
        atom = self._atom(ch[0])
        for kind, value in ch[1:]:
            if kind == "sub":
                if atom.sub is not None:
                    raise ReadFailure(
                        "double subscript",
                        value.pos,
                        "put the whole subscript in one pair of braces, like x_{ij}",
                    )
                atom.sub = value
            elif kind == "sup":
                if atom.sup is not None or atom.primes:
                    raise ReadFailure(
                        "double superscript", value.pos, "put the whole exponent in braces, like x^{ab}"
                    )
                atom.sup = value
            else:
                if atom.sup is not None:
                    raise ReadFailure(
                        "a prime after a superscript", atom.pos, "write the prime first, like f'^2 or (f')^2"
                    )
                atom.primes += value
        return atom

    def sub(self, meta: Any, ch: list[Any]) -> tuple[str, Arg]:
        return ("sub", self._arg(ch[1]))

    def sup(self, meta: Any, ch: list[Any]) -> tuple[str, Arg]:
        return ("sup", self._arg(ch[1]))

    def prime(self, meta: Any, ch: list[Any]) -> tuple[str, int]:
        return ("prime", len(str(ch[0])))

    def _group(self, meta: Any, ch: list[Any], delim: str) -> Atom:
        lst = next((c for c in ch if isinstance(c, ItemList)), None)
        return Atom(
            "group",
            meta_pos(meta),
            delim=delim,
            lst=lst or ItemList([], [], meta_pos(meta)),
            src=self._src(meta),
        )

    def brace(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "{")

    def paren(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "(")

    def bracket(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "[")

    def interval(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, str(ch[0]) + str(ch[-1]))

    def setgroup(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "\\{")

    def absgroup(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "abs")

    def normgroup(self, meta: Any, ch: list[Any]) -> Atom:
        return self._group(meta, ch, "norm")

    def frac(self, meta: Any, ch: list[Any]) -> Atom:
        return self.c.fraction(self._arg(ch[1]), self._arg(ch[2]), meta_pos(meta))

    def binom(self, meta: Any, ch: list[Any]) -> Atom:
        top, bottom = (self.c.arg_node(self._arg(c)) for c in ch[1:3])
        return Atom("node", meta_pos(meta), node=Call("binom", (top, bottom)))

    def sqrt(self, meta: Any, ch: list[Any]) -> Atom:
        body = self.c.arg_node(self._arg(ch[-1]))
        index = next((c for c in ch if isinstance(c, ItemList)), None)
        if index is None:
            return Atom("node", meta_pos(meta), node=Call("sqrt", (body,)))
        if len(index.items) != 1:
            raise ReadFailure("\\sqrt[n] takes one index", index.pos)
        return Atom("node", meta_pos(meta), node=Call("root", (body, index.items[0].get())))

    def font(self, meta: Any, ch: list[Any]) -> Atom:
        return self.c.font(str(ch[0])[1:], self._arg(ch[1]), meta_pos(meta), self._src(meta))

    def env(self, meta: Any, ch: list[Any]) -> Atom:
        return self.c.matrix(ch[0], ch[1], ch[2], meta_pos(meta))

    def cells(self, meta: Any, ch: list[Any]) -> list[Any]:
        return ch

    def cell(self, meta: Any, ch: list[Any]) -> ItemList | None:
        return cast(ItemList, ch[0]) if ch else None
