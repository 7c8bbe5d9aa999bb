"""Operator precedence over one flat run of factors and operators (juxtaposition, big operators,
implicit function arguments, integrals closed by their differential), without recursion."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from lark import Token

from grader.math.functions import (
    INVERSE_FUNCTIONS,
    OPERATOR_ALIASES,
    WIDE_OPERATORS,
    arity_ok,
    canonical_function,
)
from grader.math.latex_atoms import ARG_SEPS, Atom, Partial, as_node, called, conditional, inner_call, seps_of
from grader.math.latex_context import Context
from grader.math.reading import ReadFailure, arity_text
from grader.math.symbols import FunctionSymbol
from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    Index,
    Mul,
    Neg,
    Node,
    Num,
    Operator,
    PlusMinus,
    Pow,
    Relation,
    Sym,
    Text,
)

_JUX, _JUX_PREFIX, _FUNC, _MUL, _NARROW, _ADD, _WIDE = 30, 24, 25, 20, 15, 10, 5


@dataclass(eq=False)
class _Op:
    prec: int
    binary: bool
    apply: Callable[..., Node]
    label: str
    pos: int
    integral: bool = False
    chain: str = ""  # "add"/"mul": the operands join a flat Add/Mul


@dataclass(eq=False)
class _Chain:
    """An Add or Mul still growing inside the resolver."""

    kind: str
    items: list[Node]


def _unused(*args: Node) -> Node:  # pragma: no cover - chain operators never call apply
    raise AssertionError("chain operator applied")


class Resolver:
    """Operator precedence over one flat run of factors and operators, without recursion.

    A shunting-yard with prefix operators: unary signs, implicit-argument functions (``\\log x``),
    big operators (their precedence sets how far the body reaches) and integrals closed by
    their differential. Juxtaposition is an implicit product inserted between operands.
    """

    def __init__(self, builder: Context, elements: Sequence[Atom | Token]):
        self.b = builder
        self.queue: deque[Atom | Token] = deque(elements)
        self.out: list[Node] = []
        self.ops: list[_Op] = []
        self.expect = True
        self.open_integrals = 0
        self.ratio = False
        self.last_pos = elements[0].start_pos if isinstance(elements[0], Token) else elements[0].pos

    # ---- the machine
    def run(self) -> Node:
        while self.queue:
            element = self.queue.popleft()
            if isinstance(element, Token):
                self.last_pos = element.start_pos or 0
                self._operator(element)
            else:
                self.last_pos = element.pos
                self._atom(element)
        if self.expect:
            label = self.ops[-1].label if self.ops else "the formula"
            raise ReadFailure(
                f"something is missing after {label}",
                self.last_pos,
                "check that every operator has an operand",
            )
        while self.ops:
            self._reduce()
        if len(self.out) != 1:  # pragma: no cover - the machine keeps one operand per pending operator
            raise ReadFailure("could not read this formula", self.last_pos)
        return self._done(self.out[0])

    def _operand(self, node: Node, pos: int) -> None:
        if not self.expect:
            self._binary(_JUX, "mul", "a product", pos)
        self.out.append(node)
        self.expect = False

    def _prefix(self, op: _Op) -> None:
        if not self.expect:
            self._binary(_JUX_PREFIX, "mul", "a product", op.pos)
        self.ops.append(op)
        self.expect = True
        if op.integral:
            self.open_integrals += 1

    def _binary(self, prec: int, apply: Callable[[Node, Node], Node] | str, label: str, pos: int) -> None:
        """``apply`` is a function, or ``"add"``/``"mul"`` for the flat chains."""
        while self.ops and self.ops[-1].prec >= prec:
            self._reduce()
        if isinstance(apply, str):
            self.ops.append(_Op(prec, True, _unused, label, pos, chain=apply))
        else:
            self.ops.append(_Op(prec, True, apply, label, pos))
        self.expect = True

    def _reduce(self) -> None:
        op = self.ops.pop()
        if op.binary:
            right = self.out.pop()
            left = self.out.pop()
            if op.chain:
                self.out.append(self._chain(op.chain, left, right))
            else:
                self.out.append(op.apply(self._done(left), self._done(right)))
        else:
            if op.integral:
                self.open_integrals -= 1
            self.out.append(op.apply(self._done(self.out.pop())))

    def _differential(self, var: Node, pos: int) -> None:
        """``dx`` closes the innermost open integral."""
        if self.expect:
            if not self.ops or not self.ops[-1].integral:
                raise ReadFailure("something is missing before the differential", pos)
            self.out.append(Num("1"))
            self.expect = False
        while not self.ops[-1].integral:
            self._reduce()
        op = self.ops.pop()
        self.open_integrals -= 1
        self.out.append(op.apply(self._done(self.out.pop()), var))
        self.expect = False

    def _chain(self, kind: str, left: Node, right: Node) -> Node:
        """Flat ``Add``/``Mul`` built in linear time: a mutable chain until something consumes it."""
        marker = cast(object, left)
        if isinstance(marker, _Chain) and marker.kind == kind:
            chain = marker
        else:
            chain = _Chain(kind, [self._done(left)])
        tail = cast(object, right)
        if isinstance(tail, _Chain) and tail.kind == kind:
            chain.items.extend(tail.items)
        else:
            chain.items.append(self._done(right))
        return as_node(chain)

    @staticmethod
    def _done(node: Node) -> Node:
        marker = cast(object, node)
        if isinstance(marker, _Chain):
            items = tuple(marker.items)
            return Add(items) if marker.kind == "add" else Mul(items)
        return node

    # ---- operators
    def _operator(self, tok: Token) -> None:
        text = str(tok)
        pos = tok.start_pos or 0
        if tok.type == "ADDOP":
            if self.expect:
                unary: dict[str, Callable[[Node], Node]] = {
                    "-": Neg,
                    "+": lambda x: x,
                    "\\pm": lambda x: PlusMinus(None, x),
                    "\\mp": lambda x: PlusMinus(None, Neg(x)),
                }
                self.ops.append(_Op(_NARROW, False, unary[text], f"'{text}'", pos))
                return
            if text == "+":
                self._binary(_ADD, "add", "'+'", pos)
                return
            if text == "-":
                # subtracting adds the negation: a prefix Neg just above '+' wraps the next term
                self._binary(_ADD, "add", "'-'", pos)
                self.ops.append(_Op(_ADD + 1, False, Neg, "'-'", pos))
                return
            binary: dict[str, Callable[[Node, Node], Node]] = {
                "\\pm": PlusMinus,
                "\\mp": lambda a, b: PlusMinus(a, Neg(b)),
            }
            self._binary(_ADD, binary[text], f"'{text}'", pos)
            return
        if tok.type == "PERCENT":
            if self.expect:
                raise ReadFailure("'%' needs a number before it", pos, "write 15.87\\% for 15.87 percent")
            self.out[-1] = Div(self._done(self.out[-1]), Num("100"))
            return
        if tok.type == "BANG":
            if self.expect:
                raise ReadFailure("'!' needs something before it", pos, "write n! for a factorial")
            self.out[-1] = Factorial(self._done(self.out[-1]))
            return
        if self.expect:
            raise ReadFailure(
                f"'{text}' needs something on its left",
                pos,
                "check that every operator has an operand on both sides",
            )
        if text == ":":  # a ratio a:b is the number a/b
            if self.ratio:
                raise ReadFailure(
                    "a ratio of three or more parts is not supported", pos, "write the parts as a list"
                )
            self.ratio = True
        if text in ("/", "\\div", ":"):
            self._binary(_MUL, Div, f"'{text}'", pos)
        elif text == "\\odot":
            self._binary(_MUL, Hadamard, f"'{text}'", pos)
        else:
            self._binary(_MUL, "mul", f"'{text}'", pos)

    # ---- atoms
    def _atom(self, a: Atom) -> None:
        kind = a.kind
        if kind == "num":
            self._operand(self.b.scripts(Num(a.base), a), a.pos)
        elif kind in ("name", "word", "upright"):
            self._name(a)
        elif kind == "const":
            self._operand(self.b.scripts(Const("inf") if a.base == "inf" else Const("i"), a), a.pos)
        elif kind == "func":
            self._function(a, a.base)
        elif kind == "bigop":
            self._big_operator(a, a.base)
        elif kind == "argcmd":
            nxt = self.queue[0] if self.queue else None
            if (
                a.scripted
                or not isinstance(nxt, Atom)
                or nxt.kind != "bigop"
                or nxt.base not in ("max", "min")
            ):
                raise ReadFailure(
                    "\\arg must be followed by \\max or \\min", a.pos, "write \\arg\\max_{x} f(x)"
                )
            self.queue.popleft()
            self._big_operator(nxt, "arg" + nxt.base)
        elif kind == "group":
            self._operand(self.b.group_value(a), a.pos)
        elif kind == "node":
            assert a.node is not None
            self._operand(self.b.scripts(a.node, a), a.pos)
        elif kind == "text":
            if a.scripted:
                raise ReadFailure("text cannot carry a sub- or superscript", a.pos)
            self._operand(Text(a.base), a.pos)
        elif kind == "E":
            self._expectation(a, brackets=("[", "("))
        elif kind == "nabla":
            self._nabla(a)
        elif kind == "partial":
            self._partial(a)
        elif kind == "diffop":
            variables = a.variables
            self._prefix(
                _Op(_NARROW, False, lambda x: Call("diff", (x, *variables)), "the derivative", a.pos)
            )
        elif kind == "star":
            raise ReadFailure("'*' here needs something on its left", a.pos)
        else:  # top, primecmd
            raise ReadFailure(f"{a.base} is only read as a superscript, like X^\\top or f^\\prime", a.pos)

    def _peek_group(self, delims: tuple[str, ...] = ("(",)) -> Atom | None:
        nxt = self.queue[0] if self.queue else None
        if isinstance(nxt, Atom) and nxt.kind == "group" and nxt.delim in delims:
            return nxt
        return None

    def _call_args(self, group: Atom) -> tuple[Node, ...]:
        lst = group.lst
        assert lst is not None
        bad = next((s for s in lst.seps if s not in ARG_SEPS), None)
        if bad is not None:
            raise ReadFailure(
                f"'{bad}' cannot separate function arguments", lst.pos, "separate arguments with commas"
            )
        return tuple(item.get() for item in lst.items)

    def _apply(self, func: str, group: Atom, pos: int, extra: tuple[Node, ...] = ()) -> Node:
        """``func(args)`` with the group's own scripts (``f(x)^2``) applied to the call."""
        self.queue.popleft()
        node = Call(self.b.safe(func, pos), self._call_args(group) + extra)
        return self.b.scripts(node, group)

    def _name(self, a: Atom) -> None:
        b = self.b
        base = a.base
        plain = not a.scripted
        if a.kind == "word" and len(base) > 1 and not b.declared(base):
            if self._word(a):
                return
            self._split(a)
            return
        if a.kind == "upright" and not b.declared(base):
            if self._upright(a):
                return
        if (
            base == "E"
            and a.sup is None
            and not a.primes
            and not b.declared("E")
            and self._peek_group(("[",))
        ):
            self._expectation(a, brackets=("[",))  # E[X], E_{x \sim p}[f(x)]
            return
        if base == "d" and plain and self.open_integrals and not b.declared("d"):
            nxt = self.queue[0] if self.queue else None
            if (
                isinstance(nxt, Atom)
                and nxt.kind in ("name", "word", "upright")
                and not nxt.sup
                and not nxt.primes
            ):
                self.queue.popleft()
                if nxt.kind == "word" and len(nxt.base) > 1:
                    self._split(nxt)
                    nxt = cast(Atom, self.queue.popleft())
                self._differential(Sym(b.safe(b.name_of(nxt)[0], nxt.pos)), a.pos)
                return
        name, post = b.name_of(a)
        written = name
        name = b.safe(b.alias(name), a.pos)
        decl = b.symbols.get(name)
        group = self._peek_group(("(", "["))
        sample = self._sample_reference(a, name) if decl is None else None
        if sample is not None:  # x_i, x_1, \bar{x} of a declared sample
            self._operand(post(sample) if post else sample, a.pos)
            return
        if group is not None and group.delim == "(" and not isinstance(decl, FunctionSymbol):
            alias = b.call_alias(written, group) or b.call_alias(name, group)
            if alias is not None:  # y(0) declared as a spelling of y_0
                self.queue.popleft()
                node = b.scripts(Sym(alias), group)
                self._operand(post(node) if post else node, a.pos)
                return
            if decl is None and name in ("O", "mathcal_O") and group.lst is not None and len(group.lst.items) == 1:
                node = self._apply("O", group, a.pos)  # the order term of an expansion, O(x^3)
                self._operand(post(node) if post else node, a.pos)
                return
        if isinstance(decl, FunctionSymbol) or (group is not None and called(group) and conditional(group)):
            if group is not None and (group.delim == "(" or "\\parallel" in seps_of(group)):
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return
            self._operand(post(Sym(name)) if post else Sym(name), a.pos)
            return
        if decl is None:
            if name == "e":
                self._operand(post(Const("e")) if post else Const("e"), a.pos)
                return
            if name == "pi" and a.kind == "name":
                self._operand(post(Const("pi")) if post else Const("pi"), a.pos)
                return
            if group is not None and called(group):
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return
        self._operand(post(Sym(name)) if post else Sym(name), a.pos)

    def _sample_reference(self, a: Atom, name: str) -> Node | None:
        """``x_i`` (any subscript: ``x_{i+1}``, ``x_n``) and ``\\bar{x}`` when ``x`` is a declared sample."""
        b = self.b
        if a.sub is not None and not a.primes and "^" not in name and b.symbols.is_sample(b.alias(a.base)):
            return Index(b.alias(a.base), b.arg_node(a.sub))
        if a.sub is None and name.endswith("_bar") and b.symbols.is_sample(b.alias(name[: -len("_bar")])):
            return Call("mean", (Sym(b.alias(name[: -len("_bar")])),))
        return None

    def _word(self, a: Atom) -> bool:
        """A run of letters: a whitelisted name, a differential, an upright call, or letters to split."""
        word = a.base
        if word in ("max", "min", "argmax", "argmin"):
            self._big_operator(a, word)
            return True
        func = canonical_function(word)
        if func is not None:
            self._function(a, func)
            return True
        if (
            self.open_integrals
            and len(word) == 2
            and word[0] == "d"
            and not a.scripted
            and not self.b.declared("d")
        ):
            self._differential(Sym(word[1]), a.pos)
            return True
        group = self._peek_group(("(", "["))
        if (
            group is not None
            and (word[0].isupper() or called(group))
            and not self.b.all_declared_values(word)
        ):
            if group.delim == "(" or "\\parallel" in seps_of(group):
                name, post = self.b.name_of(a)
                node = self._apply(name, group, a.pos)
                self._operand(post(node) if post else node, a.pos)
                return True
        return False

    def _split(self, a: Atom) -> None:
        """``xy`` is x times y: letters become atoms, the scripts go to the last one (TeX's rule)."""
        letters = [Atom("word", a.pos + k, base=ch, src=ch) for k, ch in enumerate(a.base)]
        letters[-1].sub, letters[-1].sup, letters[-1].primes = a.sub, a.sup, a.primes
        self.queue.extendleft(reversed(letters))

    def _upright(self, a: Atom) -> bool:
        """``\\mathrm{...}``/``\\text{...}`` words: functions, operators, constants, calls, or prose."""
        word = a.base
        if word in OPERATOR_ALIASES and word not in ("int",):
            self._big_operator(a, OPERATOR_ALIASES[word])
            return True
        func = canonical_function(word)
        if func is not None:
            self._function(a, func)
            return True
        if not a.scripted and word in ("e", "i"):
            self._operand(Const("e") if word == "e" else Const("i"), a.pos)
            return True
        if word == "E" and (a.sub is not None or self._peek_group(("[", "("))):
            self._expectation(a, brackets=("[", "("))
            return True
        if len(word) == 1 or (word == "d" and self.open_integrals):
            return False
        group = self._peek_group(("(", "["))
        if (
            group is not None
            and not self.b.all_declared_values(word)
            and (group.delim == "(" or "\\parallel" in seps_of(group))
        ):
            name, post = self.b.name_of(a)
            node = self._apply(name, group, a.pos)
            self._operand(post(node) if post else node, a.pos)
            return True
        if not a.scripted:
            self._operand(Text(word), a.pos)
            return True
        return False

    def _function(self, a: Atom, func: str) -> None:
        """A whitelisted function: ``f(args)``, or with an implicit argument (``\\log x``)."""
        b = self.b
        extra: tuple[Node, ...] = ()
        if a.primes:
            raise ReadFailure(
                f"a prime on {func} is not supported", a.pos, "derivatives are written \\frac{d}{dx}"
            )
        if a.sub is not None:
            if func != "log":
                raise ReadFailure(f"{func} takes no subscript", a.sub.pos)
            extra = (b.arg_node(a.sub),)
        post: Callable[[Node], Node] | None = None
        if a.sup is not None:
            exponent = b.exponent(a.sup)
            if exponent == Num("-1") and func in INVERSE_FUNCTIONS:
                func = INVERSE_FUNCTIONS[func]
            else:
                post = lambda n: Pow(n, exponent)  # noqa: E731
        group = self._peek_group(("(",))
        if func == "det":
            group = group or self._peek_group(("abs",))
        if group is not None:
            if group.delim == "abs":
                self.queue.popleft()
                node: Node = b.scripts(Call("det", (b.single(group),)), group)
            else:
                node = self._apply(func, group, a.pos, extra)
                call = inner_call(node)
                if call is not None and not arity_ok(func, len(call.args)):
                    raise ReadFailure(
                        f"{func} takes {arity_text(func)}, not {len(call.args)}",
                        group.pos,
                        f"write {func}(x)",
                    )
            self._operand(post(node) if post else node, a.pos)
            return
        if func in ("max", "min"):
            raise ReadFailure(f"{func} needs its arguments in parentheses", a.pos)

        def implicit(x: Node, func: str = func, extra: tuple[Node, ...] = extra) -> Node:
            node = Call(func, (x, *extra))
            return post(node) if post else node

        self._prefix(_Op(_FUNC, False, implicit, f"\\{func}", a.pos))

    def _big_operator(self, a: Atom, name: str) -> None:
        b = self.b
        if a.primes:
            raise ReadFailure(f"a prime on \\{name} is not supported", a.pos)
        sub = b.sub_node(a.sub) if a.sub is not None else None
        sup = b.arg_node(a.sup) if a.sup is not None else None
        if name in ("max", "min") and sub is None and sup is None:
            group = self._peek_group(("(",))
            if group is not None and group.lst is not None and len(group.lst.items) >= 2:
                self._operand(self._apply(name, group, a.pos), a.pos)
                return
        wide = name in WIDE_OPERATORS
        op_name = cast(Any, name)

        def build(body: Node, var: Node | None = None) -> Node:
            if name == "int" and var is not None and sub is not None and sup is not None and not isinstance(sub, Relation):
                return Operator(op_name, body, Relation((var, sub), ("=",)), sup)  # ∫_a^b … dx: x = a
            return Operator(op_name, body, sub if sub is not None else var, sup)

        self._prefix(
            _Op(_WIDE if wide else _NARROW, False, build, f"\\{name}", a.pos, integral=name == "int")
        )

    def _expectation(self, a: Atom, brackets: tuple[str, ...]) -> None:
        b = self.b
        if a.sup is not None or a.primes:
            raise ReadFailure(
                "an expectation cannot carry a superscript", a.pos, "write \\mathbb{E}[X]^2 for its square"
            )
        sub = b.sub_node(a.sub) if a.sub is not None else None
        group = self._peek_group(brackets)
        if group is not None:
            self.queue.popleft()
            node = b.scripts(Operator("E", b.single(group), sub), group)
            self._operand(node, a.pos)
            return
        self._prefix(_Op(_NARROW, False, lambda x: Operator("E", x, sub), "\\mathbb{E}", a.pos))

    def _nabla(self, a: Atom) -> None:
        b = self.b
        var = b.arg_node(a.sub) if a.sub is not None else None
        order = 1
        if a.sup is not None:
            exponent = b.arg_node(a.sup)
            if not (isinstance(exponent, Num) and exponent.text in ("1", "2", "3")):
                raise ReadFailure("\\nabla takes an order of 1, 2 or 3", a.sup.pos)
            order = int(exponent.text)

        def gradient(body: Node) -> Node:
            for _ in range(order):
                body = Call("grad", (body,) if var is None else (body, var))
            return body

        self._prefix(_Op(_NARROW, False, gradient, "\\nabla", a.pos))

    def _partial(self, a: Atom) -> None:
        b = self.b
        order = 1
        if a.sup is not None:
            exponent = b.arg_node(a.sup)
            if not (isinstance(exponent, Num) and exponent.text.isdigit() and 0 < int(exponent.text) < 10):
                raise ReadFailure("\\partial takes a small whole order, like \\partial^2", a.sup.pos)
            order = int(exponent.text)
        if a.sub is not None:
            var = b.arg_node(a.sub)
            self._prefix(
                _Op(_NARROW, False, lambda x: Call("diff", (x, *([var] * order))), "\\partial", a.pos)
            )
            return
        if not self.queue:
            self._operand(as_node(Partial(None, order, a.pos)), a.pos)
            return
        self._prefix(_Op(_FUNC, False, lambda x: as_node(Partial(x, order, a.pos)), "\\partial", a.pos))
