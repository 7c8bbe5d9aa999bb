"""Rewriting expression trees before a simulation: definitions, maximizers, entry notation.

A derivation names things the rubric defines elsewhere (``Γ``, ``L(w)``, ``D^*(x)``) or that the
student introduced (``M = X ⊙ R``); replacing those names by their bodies lets a step be evaluated
without teaching the evaluator any of them. Rewrites are pure and bounded (a definition that
refers to itself is applied a fixed number of rounds, then left alone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from grader.math.evaluate import NotEvaluable
from grader.math.symbols import MatrixSymbol, SymbolTable
from grader.math.tree import (
    Call,
    Mul,
    Node,
    Operator,
    Sym,
    children,
    rebuild,
    walk,
)

__all__ = ["Definition", "map_tree", "read_entries", "replace_maximizers", "substitute"]

_ROUNDS = 4
_INDEX_LETTERS = frozenset("ijklmnrst,{} ")


@dataclass(frozen=True)
class Definition:
    """``name`` (with ``params`` for a function) stands for ``body``."""

    name: str
    params: tuple[str, ...]
    body: Node


def map_tree(node: Node, fn: Callable[[Node], Node | None]) -> Node:
    """Rewrite bottom-up: ``fn`` sees each node with rewritten children; None keeps the node.

    Iterative (an explicit stack), so a deeply nested student formula cannot overflow Python's stack.
    """
    out: list[Node] = []
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, ready = stack.pop()
        kids = children(current)
        if not ready and kids:
            stack.append((current, True))
            stack.extend((kid, False) for kid in reversed(kids))
            continue
        if kids:
            new_kids = tuple(out[len(out) - len(kids) :])
            del out[len(out) - len(kids) :]
            current = current if all(a is b for a, b in zip(new_kids, kids, strict=True)) else rebuild(current, new_kids)
        replaced = fn(current)
        out.append(current if replaced is None else replaced)
    return out[0]


def substitute(node: Node, definitions: Mapping[str, Definition]) -> Node:
    """Replace defined names by their bodies: ``L(w)`` by ``‖y − (X⊙R)w‖²`` with ``w`` bound to the argument."""
    if not definitions:
        return node

    def one(current: Node) -> Node | None:
        if isinstance(current, Call) and current.func in definitions:
            definition = definitions[current.func]
            if definition.params and len(definition.params) == len(current.args):
                return _bind(definition.body, dict(zip(definition.params, current.args, strict=True)))
            if not definition.params and len(current.args) == 1:
                return Mul((definition.body, current.args[0]))  # "M(w)" read as a product, as the parser would
            return None
        if isinstance(current, Sym) and current.name in definitions:
            return definitions[current.name].body
        return None

    for _ in range(_ROUNDS):
        rewritten = map_tree(node, one)
        if rewritten == node:
            break
        node = rewritten
    return node


def _bind(body: Node, arguments: Mapping[str, Node]) -> Node:
    return map_tree(body, lambda n: arguments.get(n.name) if isinstance(n, Sym) else None)


def replace_maximizers(node: Node, maximizers: Mapping[str, str]) -> tuple[Node, list[str]]:
    """``max_D E[log D(x)] + …`` becomes the body at ``D*``; ``arg max_D …`` becomes ``D*`` itself
    (a function, not a value). A body that uses ``D`` other than by calling it (``V(D)``, read as a
    product) says nothing evaluable: NotEvaluable.

    Returns the notes worth telling a reader (an arg max read as its maximizer).
    """
    notes: list[str] = []

    def one(current: Node) -> Node | None:
        if not (isinstance(current, Operator) and current.name in ("max", "min", "argmax", "argmin", "sup", "inf")):
            return None
        variable = current.sub.name if isinstance(current.sub, Sym) else None
        if variable is None or variable not in maximizers:
            return None
        best = maximizers[variable]
        if current.name in ("max", "min", "sup", "inf") and _bare(current.body, variable):
            raise NotEvaluable(f"{current.name}_{variable} of an expression that is not written in terms of {variable}(x)")
        if current.name in ("argmax", "argmin"):
            notes.append(f"arg {current.name[3:]}_{variable}(…) is the maximizer {best}, a function, not the optimal value")
            return Sym(best)
        return map_tree(
            current.body,
            lambda n: Call(best, n.args) if isinstance(n, Call) and n.func == variable else Sym(best) if n == Sym(variable) else None,
        )

    return map_tree(node, one), notes


def _bare(node: Node, name: str) -> bool:
    """``name`` used as a value somewhere, not only called (the parser reads ``V(D)`` as ``V·D``)."""
    return any(isinstance(n, Sym) and n.name == name for n in walk(node))


def read_entries(node: Node, symbols: SymbolTable) -> tuple[Node, bool]:
    """``X_{ij}`` (an entry of a declared matrix ``X``) read as ``X``: an entrywise statement of a matrix identity."""
    changed = False

    def one(current: Node) -> Node | None:
        nonlocal changed
        if isinstance(current, Sym) and "_" in current.name:
            base, _, index = current.name.partition("_")
            if isinstance(symbols.get(base), MatrixSymbol) and index and set(index) <= _INDEX_LETTERS:
                changed = True
                return Sym(base)
        return None

    rewritten = map_tree(node, one)
    return rewritten, changed


def mentions(node: Node, names: frozenset[str] | set[str]) -> bool:
    """True when the tree uses any of ``names`` as a symbol or a function."""
    return any((isinstance(n, Sym) and n.name in names) or (isinstance(n, Call) and n.func in names) for n in walk(node))
