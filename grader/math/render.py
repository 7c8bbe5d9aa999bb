"""Short plain-text renderings of trees and values, for feedback sentences and counterexamples."""

from __future__ import annotations

import math

from grader.math.tree import (
    Add,
    Call,
    Const,
    Div,
    Factorial,
    Hadamard,
    Index,
    Interval,
    MatrixLit,
    Mul,
    Neg,
    Node,
    Norm,
    Num,
    Operator,
    PlusMinus,
    Pow,
    Relation,
    Seq,
    Sym,
    Text,
    Transpose,
)
from grader.math.values import dims_text

__all__ = ["describe", "dims_text", "format_value", "pretty_name"]

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ", "lambda": "λ",
    "mu": "μ", "nu": "ν", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Sigma": "Σ", "Delta": "Δ", "Lambda": "Λ", "Omega": "Ω", "xi": "ξ",
    "eta": "η", "kappa": "κ", "zeta": "ζ", "chi": "χ", "Phi": "Φ", "Psi": "Ψ", "Theta": "Θ",
}  # fmt: skip


_ACCENTS = {"bar": "\u0304", "hat": "\u0302", "tilde": "\u0303", "dot": "\u0307", "ddot": "\u0308"}


def pretty_name(name: str) -> str:
    """``lambda`` → ``λ``, ``x_bar`` → ``x̄``, ``mu_hat_1`` → ``μ̂_1``: a name as it reads on paper."""
    head, sep, rest = name.partition("_")
    shown = _GREEK.get(head, head)
    accent = next((a for a in _ACCENTS if rest == a or rest.startswith((a + "_", a + "^"))), None)
    if accent is not None and len(shown) == 1:
        return shown + _ACCENTS[accent] + rest[len(accent) :]
    return shown + sep + rest


def describe(node: Node, limit: int = 80) -> str:
    """A short plain-text rendering (``(XᵀX + λI)⁻¹Xᵀy``) for feedback sentences."""
    text = _render(node, 0)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render(node: Node, parent: int) -> str:
    # precedence: 1 sum, 2 product, 3 unary minus, 4 power, 5 atom
    match node:
        case Num(text):
            return text
        case Sym(name):
            return pretty_name(name)
        case Const(name):
            return {"pi": "π", "e": "e", "i": "i", "inf": "∞"}[name]
        case Add(terms):
            parts = [_render(terms[0], 1)]
            for term in terms[1:]:
                if isinstance(term, Neg):
                    parts.append(" - " + _render(term.arg, 2))
                else:
                    parts.append(" + " + _render(term, 1))
            return _wrap("".join(parts), 1, parent)
        case Neg(arg):
            return _wrap("-" + _render(arg, 2), 2, parent)
        case Mul(factors):
            rendered = [
                _render(f, 2) if k == 0 or not isinstance(f, Neg) else f"({_render(f, 0)})"
                for k, f in enumerate(factors)
            ]
            return _wrap(("·" if _needs_dot(factors) else "").join(rendered), 2, parent)
        case Div(num, den):
            return _wrap(f"{_render(num, 2)}/{_render(den, 3)}", 2, parent)
        case Pow(base, Num("-1")):
            return _render(base, 4) + "⁻¹"
        case Pow(base, exp):
            return _wrap(f"{_render(base, 4)}^{_render(exp, 4)}", 4, parent)
        case Transpose(arg):
            return _render(arg, 4) + "ᵀ"
        case Hadamard(left, right):
            return _wrap(f"{_render(left, 2)} ⊙ {_render(right, 2)}", 2, parent)
        case Norm(arg, "abs"):
            return f"|{_render(arg, 0)}|"
        case Norm(arg, _):
            return f"‖{_render(arg, 0)}‖"
        case Call(func, args):
            return f"{pretty_name(func)}({', '.join(_render(a, 0) for a in args)})"
        case Operator(name, body, _, _):
            return f"{name}(…{_render(body, 0)})"
        case MatrixLit(rows):
            return "[" + "; ".join(", ".join(_render(c, 0) for c in row) for row in rows) + "]"
        case PlusMinus(left, right):
            text = ("" if left is None else _render(left, 1) + " ") + "± " + _render(right, 2)
            return _wrap(text, 1, parent)
        case Interval(low, high, low_open, high_open):
            return (
                f"{'(' if low_open else '['}{_render(low, 0)}, {_render(high, 0)}{')' if high_open else ']'}"
            )
        case Seq(items, kind):
            inner = ", ".join(_render(i, 0) for i in items)
            return {"set": "{" + inner + "}", "tuple": "(" + inner + ")", "list": inner}[kind]
        case Relation(items, ops):
            out = _render(items[0], 0)
            for op, item in zip(ops, items[1:], strict=False):
                out += f" {op} {_render(item, 0)}"
            return out
        case Factorial(arg):
            return _render(arg, 4) + "!"
        case Index(name, index):
            shown = _render(index, 0)
            return f"{pretty_name(name)}_{shown if len(shown) == 1 else '{' + shown + '}'}"
        case Text(text):
            return f'"{text}"'
    return "?"


def _needs_dot(factors: tuple[Node, ...]) -> bool:
    return any(isinstance(f, Num) for f in factors[1:])


def _wrap(text: str, own: int, parent: int) -> str:
    return f"({text})" if own < parent else text


def format_value(value: complex | float, digits: int = 4) -> str:
    """``2.333``, ``-0.5``, ``0.5i``, ``1 - 2i``: short, for feedback."""
    z = complex(value)
    re_part = _short(z.real, digits)
    if abs(z.imag) <= 1e-12 * max(1.0, abs(z.real)):
        return re_part
    im_abs = _short(abs(z.imag), digits)
    im_text = ("" if im_abs == "1" else im_abs) + "i"
    if abs(z.real) <= 1e-12 * max(1.0, abs(z.imag)):
        return ("-" if z.imag < 0 else "") + im_text
    return f"{re_part} {'-' if z.imag < 0 else '+'} {im_text}"


def _short(x: float, digits: int) -> str:
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"
