"""Wrong variants of a reference, to prove a rubric rejects the slips students make.

Each operator makes a change that is wrong by construction (a sign, a factor of 2, a
transpose, swapped non-commuting operands, a dropped term, an inverted fraction); changes
that cannot alter the value (swapping scalars, negating a zero entry, flipping a ``±``) are
never generated, so a surviving mutant means the rubric or the engine is too lenient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from grader.math.evaluate import describe
from grader.math.symbols import MatrixSymbol, SymbolTable
from grader.math.tree import (
    Add,
    Call,
    Div,
    Hadamard,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Num,
    PlusMinus,
    Pow,
    Relation,
    Seq,
    Sym,
    Transpose,
    children,
    rebuild,
    walk,
)

MAX_MUTANTS = 40


@dataclass(frozen=True)
class Mutant:
    operator: str
    tree: Node

    @property
    def text(self) -> str:
        return describe(self.tree, 120)


def mutants(reference: Node, symbols: SymbolTable) -> list[Mutant]:
    """Distinct wrong variants, at most MAX_MUTANTS, in a stable order."""
    found: dict[Node, Mutant] = {}
    for operator, tree in _generate(reference, symbols):
        if tree != reference and tree not in found:
            found[tree] = Mutant(operator, tree)
    chosen = list(found.values())
    if len(chosen) > MAX_MUTANTS:  # keep every operator represented, then fill in order
        by_operator: dict[str, list[Mutant]] = {}
        for mutant in chosen:
            by_operator.setdefault(mutant.operator, []).append(mutant)
        picked: list[Mutant] = []
        while len(picked) < MAX_MUTANTS:
            for group in by_operator.values():
                if group and len(picked) < MAX_MUTANTS:
                    picked.append(group.pop(0))
        chosen = picked
    return chosen


def _is_matrix(node: Node, symbols: SymbolTable) -> bool:
    return any(isinstance(n, Sym) and symbols.is_matrix(n.name) for n in walk(node)) or isinstance(node, MatrixLit)


def _is_zero(node: Node) -> bool:
    return isinstance(node, Num) and node.text.strip("0.") == ""


def _generate(reference: Node, symbols: SymbolTable) -> Iterator[tuple[str, Node]]:
    if isinstance(reference, Relation):
        for index, item in enumerate(reference.items):
            for operator, changed in _generate(item, symbols):
                items = list(reference.items)
                items[index] = changed
                yield operator, Relation(tuple(items), reference.ops)
        return
    if not isinstance(reference, (Seq, MatrixLit)):
        yield "sign flip", _negate(reference)
        yield "factor of 2", Mul((Num("2"), reference))
    for path, node in _nodes_with_paths(reference):
        for operator, replacement in _local_mutations(node, symbols):
            yield operator, _replace(reference, path, replacement)


def _negate(node: Node) -> Node:
    return node.arg if isinstance(node, Neg) else Neg(node)


def _local_mutations(node: Node, symbols: SymbolTable) -> Iterator[tuple[str, Node]]:
    match node:
        case Add(terms) if len(terms) >= 2:
            for i in range(len(terms)):
                flipped = list(terms)
                flipped[i] = _negate(terms[i])
                yield "sign of one term", Add(tuple(flipped))
                rest = terms[:i] + terms[i + 1 :]
                yield "dropped term", rest[0] if len(rest) == 1 else Add(rest)
        case Mul(factors) if len(factors) >= 2:
            for i in range(len(factors) - 1):
                if _is_matrix(factors[i], symbols) and _is_matrix(factors[i + 1], symbols):
                    swapped = list(factors)
                    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                    yield "swapped matrix product", Mul(tuple(swapped))
        case Div(num, den) if not _is_zero(num):
            yield "inverted fraction", Div(den, num)
        case Pow(base, Num("-1")):
            yield "missing inverse", base
        case Transpose(arg):
            yield "missing transpose", arg
        case Sym(name) if symbols.is_matrix(name):
            decl = symbols.symbols[name]
            if isinstance(decl, MatrixSymbol) and decl.shape[0] != decl.shape[1]:
                yield "transposed matrix", Transpose(node)
        case Hadamard(left, right):
            yield "product instead of Hadamard", Mul((left, right))
        case MatrixLit(rows):
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    if not _is_zero(cell):
                        new_rows = [list(r) for r in rows]
                        new_rows[i][j] = _negate(cell)
                        yield "sign of one entry", MatrixLit(tuple(tuple(r) for r in new_rows))
            if len(rows) == len(rows[0]) and len(rows) > 1:
                transposed = tuple(tuple(rows[j][i] for j in range(len(rows))) for i in range(len(rows)))
                if transposed != rows:
                    yield "transposed matrix", MatrixLit(transposed)
        case Seq(items, kind) if len(items) >= 2:
            for i, item in enumerate(items):
                rest = items[:i] + items[i + 1 :]
                yield "dropped item", Seq(rest, kind)
                if not isinstance(item, PlusMinus) and not _is_zero(item):
                    changed = list(items)
                    changed[i] = _negate(item)
                    yield "sign of one item", Seq(tuple(changed), kind)
        case PlusMinus(left, right) if left is not None:
            yield "one root only", Add((left, right))
        case Call(func, (arg,)) if func in ("sigma", "exp", "log"):
            yield "sign of an argument", Call(func, (_negate(arg),))
        case _:
            return


Path = tuple[int, ...]


def _nodes_with_paths(root: Node) -> Iterator[tuple[Path, Node]]:
    stack: list[tuple[Path, Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        yield path, node
        kids = children(node) if isinstance(node, _REBUILDABLE) else ()
        for index in reversed(range(len(kids))):
            stack.append(((*path, index), kids[index]))


def _replace(root: Node, path: Path, replacement: Node) -> Node:
    if not path:
        return replacement
    kids = list(children(root))
    kids[path[0]] = _replace(kids[path[0]], path[1:], replacement)
    return rebuild(root, tuple(kids))


_REBUILDABLE = (Add, Mul, Neg, Transpose, Div, Pow, Hadamard, Call, Seq, Relation, MatrixLit, PlusMinus)
