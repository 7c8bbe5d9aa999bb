"""The reading rules that need the rubric's symbols: names and labels, scripts, groups, fonts,
fractions (derivatives), matrices, and how a whole formula's lines and commas combine."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from lark import Token

from grader.math import names
from grader.math.latex_atoms import Arg, Atom, ItemList, Partial
from grader.math.reading import ReadFailure, commas
from grader.math.symbols import ScalarSymbol, SymbolTable
from grader.math.tree import (
    Call,
    Div,
    Interval,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Pow,
    Relation,
    Seq,
    Sym,
    Transpose,
)

LABEL_MAX = 200  # characters in one script that can still be read as part of a name
_INDEX_LABEL = re.compile(r"\((?:[A-Za-z]+|\d+)(?:[+-]\d+)?\)")
_TOTAL_DIFF = re.compile(r"d([A-Za-z][A-Za-z0-9_]*)")


class Context:
    """What building needs besides the tree: the SymbolTable, the Lark text, and shared rules."""

    def __init__(self, text: str, symbols: SymbolTable | None):
        self.text = text
        self.symbols = symbols or SymbolTable()
        self.warnings: list[str] = []
        self.aliases: dict[str, str] = {}
        for name, decl in self.symbols.symbols.items():
            for spelling in decl.latex:
                try:
                    alias = names.canonical_name(spelling)
                except names.LabelError:
                    continue
                if alias and alias != name:
                    self.aliases[alias] = name
        self.has_sup_names = any("^" in name for name in (*self.symbols.symbols, *self.aliases))
        self.has_call_aliases = any("(" in alias for alias in self.aliases)

    # ---- symbols
    def alias(self, name: str) -> str:
        return self.aliases.get(name, name)

    def call_alias(self, name: str, group: Atom) -> str | None:
        """``y(0)`` declared as a spelling of ``y_0``: the declared name the call stands for."""
        if not self.has_call_aliases or len(group.src) > LABEL_MAX:
            return None
        try:
            return self.aliases.get(name + names.canonical_text(group.src))
        except names.LabelError:
            return None

    def declared(self, name: str) -> bool:
        return self.alias(name) in self.symbols.symbols

    def is_scalar(self, name: str) -> bool:
        return isinstance(self.symbols.get(name), ScalarSymbol)

    def all_declared_values(self, word: str) -> bool:
        """``XR``: every letter a declared non-function symbol, so letters multiply."""
        return all(self.declared(ch) and not self.symbols.is_function(self.alias(ch)) for ch in word)

    def safe(self, name: str, pos: int) -> str:
        if "__" in name:
            raise ReadFailure(
                f"'{name}' cannot be a name: names may not contain '__'",
                pos,
                "use single underscores for subscripts",
            )
        if not names.is_safe_name(name):
            raise ReadFailure(
                f"'{name}' cannot be used as a name", pos, "use letters, digits and simple sub/superscripts"
            )
        return name

    # ---- scripts and labels
    def label(self, arg: Arg) -> str:
        if len(arg.src) > LABEL_MAX:
            raise ReadFailure(
                "this subscript is too long to be part of a name", arg.pos, "use a short label like x_{ij}"
            )
        try:
            return names.canonical_text(arg.src)
        except names.LabelError:
            raise ReadFailure("this subscript is nested too deeply to be part of a name", arg.pos) from None

    def classify_sup(self, arg: Arg) -> str:
        """``label`` (part of the name), ``transpose`` or ``power``; see the module docstring."""
        atom = arg.atom
        if atom is None:
            return "power"
        if atom.kind in ("star", "primecmd"):
            return "label"
        if atom.kind == "top":
            return "transpose"
        if atom.scripted:
            return "power"
        if atom.kind in ("word", "upright") and atom.base == "T":
            return "transpose"
        if atom.kind in ("upright", "text"):
            return "label"
        if atom.kind == "group" and atom.delim == "(" and len(atom.src) < 40:
            if _INDEX_LABEL.fullmatch(names.canonical_text(atom.src)):
                return "label"
        return "power"

    def name_of(self, a: Atom) -> tuple[str, Callable[[Node], Node] | None]:
        """The symbol's name and, when the superscript is not a label, what it does to the symbol."""
        sub = self.label(a.sub) if a.sub is not None else None
        primes = "'" * a.primes
        if a.sup is None:
            return names.compose(a.base, sub, primes or None), None
        kind = self.classify_sup(a.sup)
        if kind == "label":
            return names.compose(a.base, sub, self.label(a.sup) + primes), None
        if self.has_sup_names and len(a.sup.src) <= LABEL_MAX:
            try:
                full = names.compose(a.base, sub, names.canonical_text(a.sup.src) + primes)
            except names.LabelError:
                full = ""
            if full and self.declared(full):
                return full, None
        plain = names.compose(a.base, sub, primes or None)
        if kind == "transpose" and not self.is_scalar("T"):
            return plain, Transpose
        exponent = self.exponent(a.sup)
        return plain, lambda node: Pow(node, exponent)

    def exponent(self, arg: Arg) -> Node:
        """The exponent; a negative literal stays one number so ``^{-1}`` is ``Num("-1")``."""
        node = self.arg_node(arg)
        if isinstance(node, Neg) and isinstance(node.arg, Num):
            return Num("-" + node.arg.text)
        return node

    def arg_node(self, arg: Arg) -> Node:
        items = arg.lst.items
        if not items:
            raise ReadFailure("empty braces {}", arg.pos, "put something inside the braces")
        if len(items) > 1:
            raise ReadFailure("braces { } hold one expression here", arg.pos, "remove the commas")
        return items[0].get()

    def sub_node(self, arg: Arg) -> Node:
        """An operator's subscript: ``k=1``, ``x \\sim p`` or ``x \\to 0`` (a (variable, target) tuple), ``i, j``."""
        lst = arg.lst
        if len(lst.items) <= 1:
            return self.arg_node(arg)
        if all(sep == "," for sep in lst.seps) or (len(lst.items) == 2 and lst.seps[0] in ("\\sim", "\\to")):
            return Seq(tuple(item.get() for item in lst.items), "tuple")
        raise ReadFailure(
            "this subscript cannot be read", arg.pos, "write e.g. \\mathbb{E}_{x \\sim p} or \\sum_{k=1}^{n}"
        )

    def scripts(self, node: Node, a: Atom, *, allow_sub: bool = False) -> Node:
        """Superscripts on something that is not a name: transpose or power; labels are errors."""
        if a.sub is not None and not allow_sub:
            raise ReadFailure(
                "a subscript here would be an index, which is not supported",
                a.sub.pos,
                "give the entry its own name, e.g. x_{ij}",
            )
        if a.primes:
            raise ReadFailure(
                "a prime (') is only read as part of a name, like f'", a.pos, "name the derivative, e.g. f'"
            )
        if a.sup is None:
            return node
        kind = self.classify_sup(a.sup)
        if kind == "transpose" and not self.is_scalar("T"):
            return Transpose(node)
        if kind == "label":
            raise ReadFailure(
                f"'^{self.label(a.sup)}' is only read as part of a name, like D^*",
                a.sup.pos,
                "attach it to a symbol, e.g. x^*",
            )
        return Pow(node, self.exponent(a.sup))

    # ---- groups
    def single(self, group: Atom) -> Node:
        lst = group.lst
        if lst is None or len(lst.items) != 1:
            raise ReadFailure("expected one expression inside the brackets", group.pos, "remove the commas")
        return lst.items[0].get()

    def group_value(self, a: Atom) -> Node:
        """A bracket group standing on its own (not a function's arguments)."""
        lst = a.lst
        items = lst.items if lst is not None else []
        seps = lst.seps if lst is not None else []
        delim = a.delim
        odd = next((s for s in seps if s not in (",", ";")), None)
        if odd is not None and delim != "\\{":
            shown = {"\\mid": "|", "\\parallel": "||"}.get(odd, odd)
            raise ReadFailure(
                f"'{shown}' inside brackets needs a function in front, like p(x|z) or D_{{KL}}(q||p)",
                a.pos,
                "write the function name before the parentheses",
            )
        if delim == "{":
            if not items:
                raise ReadFailure("empty braces {}", a.pos, "put something inside the braces")
            if len(items) > 1:
                # TeX would print "1, 3" without braces; the student meant a set
                self.warnings.append("read '{...}' with commas as a set; write \\{ \\} for set braces")
                node: Node = Seq(tuple(item.get() for item in items), "set")
            else:
                node = items[0].get()
        elif delim in ("(]", "[)"):
            if len(items) != 2 or seps != [","]:
                raise ReadFailure("an interval has two ends", a.pos, "write it like [0, 1)")
            node = Interval(items[0].get(), items[1].get(), delim[0] == "(", delim[1] == ")")
        elif delim == "\\{":
            if odd is not None or re.search(r":(?!=)", a.src):
                raise ReadFailure(
                    "set-builder notation is not supported", a.pos, "list the elements, e.g. \\{1, 2\\}"
                )
            node = Seq(tuple(item.get() for item in items), "set")
        elif len(items) > 1:
            if delim in ("abs", "norm"):
                raise ReadFailure("a norm or absolute value holds one expression", a.pos, "remove the commas")
            node = Seq(tuple(item.get() for item in items), "tuple" if delim == "(" else "list")
        else:
            node = items[0].get()
            if delim == "abs":
                node = Norm(node, "abs")
            elif delim == "norm":
                node = Norm(node, self.norm_kind(a))
                return self.scripts(node, replace(a, sub=None))
        return self.scripts(node, a)

    def norm_kind(self, a: Atom) -> Any:
        if a.sub is None:
            return "2"
        label = self.label(a.sub)
        kinds = {"2": "2", "1": "1", "inf": "inf", "infty": "inf", "F": "fro", "fro": "fro", "Fro": "fro"}
        if label not in kinds:
            raise ReadFailure(
                f"unknown norm ||.||_{label}", a.sub.pos, "use ||x||, ||x||_1, ||x||_\\infty or ||X||_F"
            )
        return kinds[label]

    # ---- commands
    def font(self, command: str, arg: Arg, pos: int, src: str) -> Atom:
        inner = arg.atom
        namelike = inner is not None and inner.kind in ("name", "word", "upright")
        if command == "boxed":
            return Atom("node", pos, node=self.arg_node(arg), src=src)
        if command in names.TRANSPARENT_FONTS:
            if inner is not None and inner.kind in ("name", "word", "upright", "num", "const", "E"):
                return replace(inner, pos=pos)
            return Atom("node", pos, node=self.arg_node(arg), src=src)
        if command in names.LETTER_FONTS:
            if inner is not None and (namelike or inner.kind == "num") and not inner.scripted:
                if command == "mathbb" and inner.base == "E":
                    return Atom("E", pos, base="E", src=src)
                return Atom("name", pos, base=f"{command}_{inner.base}", src=src)
            raise ReadFailure(f"\\{command} needs a single letter, like \\{command}{{L}}", pos)
        if inner is not None and namelike:
            base = self.label(arg) if inner.scripted else inner.base
            return Atom("name", pos, base=f"{base}_{names.ACCENTS[command]}", src=src)
        raise ReadFailure(f"\\{command} needs a single symbol, like \\{command}{{x}}", pos)

    def fraction(self, num_arg: Arg, den_arg: Arg, pos: int) -> Atom:
        num = self.arg_node(num_arg)
        den = self.arg_node(den_arg)
        den_parts = den.factors if isinstance(den, Mul) else (den,)
        if all(isinstance(part, Partial) for part in den_parts):
            variables: list[Node] = []
            for part in den_parts:
                body = cast(Partial, part).body
                if body is None:
                    raise ReadFailure(
                        "\\partial needs a variable below the line",
                        den_arg.pos,
                        "write \\frac{\\partial f}{\\partial x}",
                    )
                if isinstance(body, Pow) and isinstance(body.exp, Num) and body.exp.text in ("2", "3"):
                    variables.extend([body.base] * int(body.exp.text))
                else:
                    variables.append(body)
            top = cast(object, num)
            if isinstance(top, Partial):
                if top.body is None:
                    return Atom("diffop", pos, variables=tuple(variables))
                return Atom("node", pos, node=Call("diff", (top.body, *variables)))
            raise ReadFailure(
                "a derivative needs \\partial on top too", pos, "write \\frac{\\partial f}{\\partial x}"
            )
        if not self.declared("d") and len(num_arg.src) < 40 and len(den_arg.src) < 40:
            top_text = names.canonical_text(num_arg.src)
            bottom = _TOTAL_DIFF.fullmatch(names.canonical_text(den_arg.src))
            if bottom is not None:
                var = Sym(self.safe(bottom.group(1), den_arg.pos))
                if top_text == "d":
                    return Atom("diffop", pos, variables=(var,))
                over = _TOTAL_DIFF.fullmatch(top_text)
                if over is not None:
                    return Atom(
                        "node", pos, node=Call("diff", (Sym(self.safe(over.group(1), num_arg.pos)), var))
                    )
        return Atom("node", pos, node=Div(num, den))

    def matrix(self, begin: Token, cells: list[Any], end: Token, pos: int) -> Atom:
        kind = str(begin)[len("\\begin{") : -1]
        closing = str(end)[len("\\end{") : -1]
        if kind != closing:
            raise ReadFailure(
                f"\\begin{{{kind}}} is closed by \\end{{{closing}}}", end.start_pos, f"write \\end{{{kind}}}"
            )
        rows: list[list[ItemList | None]] = [[]]
        for cell in cells:
            if isinstance(cell, Token):
                if cell.type == "ROWSEP":
                    rows.append([])
                continue
            rows[-1].append(cell)
        if len(rows) > 1 and rows[-1] == [None]:
            rows.pop()  # a trailing \\
        values: list[tuple[Node, ...]] = []
        for number, row in enumerate(rows, start=1):
            entries: list[Node] = []
            for cell in row:
                if cell is None:
                    raise ReadFailure(
                        f"row {number} of the matrix has an empty entry", pos, "write 0 for a zero entry"
                    )
                if len(cell.items) != 1:
                    raise ReadFailure(
                        f"row {number} of the matrix has commas in an entry",
                        cell.pos,
                        "separate entries with &",
                    )
                entries.append(cell.items[0].get())
            values.append(tuple(entries))
        width = len(values[0])
        for number, row_values in enumerate(values, start=1):
            if len(row_values) != width:
                raise ReadFailure(
                    f"row {number} of the matrix has {_entries(len(row_values))}, row 1 has {_entries(width)}",
                    pos,
                    "give every row the same number of &",
                )
        node: Node = MatrixLit(tuple(values))
        if kind == "vmatrix":
            node = Call("det", (node,))
        elif kind == "Vmatrix":
            node = Norm(node, "2")
        return Atom("node", pos, node=node)

    # ---- the whole formula
    def solutions(self, row: ItemList) -> Node | None:
        """``p=5, q=2; p=7, q=2``: with both separators, ``;`` separates groups of comma-separated
        items (here two solutions); a list of the groups. None for any other row."""
        if not ({",", ";"} <= set(row.seps) <= {",", ";"}) or any(item.lead for item in row.items):
            return None
        groups: list[list[Node]] = [[]]
        for k, item in enumerate(row.items):
            if k > 0 and row.seps[k - 1] == ";":
                groups.append([])
            groups[-1].append(item.get())
        self.warnings.append("read ';' as separating groups of comma-separated items")
        return Seq(tuple(commas(group) for group in groups), "list")

    def top(self, rows: list[ItemList]) -> Node:
        """Lines and commas: ``a = b \\\\ &= c`` continues a relation; ``x = 1, 2`` lists the right side."""
        statements: list[Node] = []
        for row in rows:
            solutions = self.solutions(row)
            if solutions is not None:
                statements.append(solutions)
                continue
            group: list[Node] = []
            groups = [group]
            for k, item in enumerate(row.items):
                if k > 0:
                    sep = row.seps[k - 1]
                    if sep == "\\to":
                        if not self.warnings or "separator between statements" not in self.warnings[-1]:
                            self.warnings.append("read '\\to' as a separator between statements")
                        group = []
                        groups.append(group)
                    elif sep not in (",", ";"):
                        shown = {"\\mid": "|", "\\parallel": "||", "\\sim": "\\sim"}[sep]
                        raise ReadFailure(
                            f"'{shown}' is only read inside a function's parentheses or an operator's subscript",
                            item.pos,
                            "write p(x|z), D_{KL}(q||p) or \\mathbb{E}_{x \\sim p}[...]",
                        )
                if item.lead is not None and k == 0:
                    ops, rhs = item.lead
                    if statements and not group and len(groups) == 1:
                        previous = statements.pop()
                        items = previous.items if isinstance(previous, Relation) else (previous,)
                        before = previous.ops if isinstance(previous, Relation) else ()
                        group.append(Relation(items + rhs, before + ops))
                    else:
                        self.warnings.append(
                            "the formula starts with a relation sign; it was read as what follows it"
                        )
                        group.append(rhs[0] if len(rhs) == 1 else Relation(rhs, ops[1:]))
                    continue
                group.append(item.get())
            statements.extend(commas(g) for g in groups if g)
        if not statements:
            raise ReadFailure("empty formula", 0, "write a formula between the $ signs")
        return statements[0] if len(statements) == 1 else Seq(tuple(statements), "list")


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"
