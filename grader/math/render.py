"""Short plain-text renderings of trees and values, for feedback sentences and counterexamples."""

from __future__ import annotations

import math

from grader.math import tree as t
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


def describe(node: t.Node, limit: int = 80) -> str:
    """A short plain-text rendering (``(XᵀX + λI)⁻¹Xᵀy``) for feedback sentences."""
    text = _render(node, 0)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render(node: t.Node, parent: int) -> str:
    # precedence: 1 sum, 2 product, 3 unary minus, 4 power, 5 atom
    match node:
        case t.Num(text):
            return text
        case t.Sym(name):
            return pretty_name(name)
        case t.Const(name):
            return {"pi": "π", "e": "e", "i": "i", "inf": "∞"}[name]
        case t.Add(terms):
            parts = [_render(terms[0], 1)]
            for term in terms[1:]:
                if isinstance(term, t.Neg):
                    parts.append(" - " + _render(term.arg, 2))
                else:
                    parts.append(" + " + _render(term, 1))
            return _wrap("".join(parts), 1, parent)
        case t.Neg(arg):
            return _wrap("-" + _render(arg, 2), 2, parent)
        case t.Mul(factors):
            rendered = [
                _render(f, 2) if k == 0 or not isinstance(f, t.Neg) else f"({_render(f, 0)})"
                for k, f in enumerate(factors)
            ]
            return _wrap(("·" if _needs_dot(factors) else "").join(rendered), 2, parent)
        case t.Div(num, den):
            return _wrap(f"{_render(num, 2)}/{_render(den, 3)}", 2, parent)
        case t.Pow(base, t.Num("-1")):
            return _render(base, 4) + "⁻¹"
        case t.Pow(base, exp):
            return _wrap(f"{_render(base, 4)}^{_render(exp, 4)}", 4, parent)
        case t.Transpose(arg):
            return _render(arg, 4) + "ᵀ"
        case t.Hadamard(left, right):
            return _wrap(f"{_render(left, 2)} ⊙ {_render(right, 2)}", 2, parent)
        case t.Norm(arg, "abs"):
            return f"|{_render(arg, 0)}|"
        case t.Norm(arg, _):
            return f"‖{_render(arg, 0)}‖"
        case t.Call("mean", (t.Sym(name),)):
            return pretty_name(name) + "\u0304"
        case t.Call(func, args):
            return f"{pretty_name(func)}({', '.join(_render(a, 0) for a in args)})"
        case t.Operator(name, body, _, _):
            return f"{name}(…{_render(body, 0)})"
        case t.MatrixLit(rows):
            return "[" + "; ".join(", ".join(_render(c, 0) for c in row) for row in rows) + "]"
        case t.PlusMinus(left, right):
            text = ("" if left is None else _render(left, 1) + " ") + "± " + _render(right, 2)
            return _wrap(text, 1, parent)
        case t.Interval(low, high, low_open, high_open):
            return (
                f"{'(' if low_open else '['}{_render(low, 0)}, {_render(high, 0)}{')' if high_open else ']'}"
            )
        case t.Seq(items, kind):
            inner = ", ".join(_render(i, 0) for i in items)
            return {"set": "{" + inner + "}", "tuple": "(" + inner + ")", "list": inner}[kind]
        case t.Relation(items, ops):
            out = _render(items[0], 0)
            for op, item in zip(ops, items[1:], strict=False):
                out += f" {op} {_render(item, 0)}"
            return out
        case t.Factorial(arg):
            return _render(arg, 4) + "!"
        case t.Index(name, index):
            shown = _render(index, 0)
            return f"{pretty_name(name)}_{shown if len(shown) == 1 else '{' + shown + '}'}"
        case t.Text(text):
            return f'"{text}"'
    return "?"


def _needs_dot(factors: tuple[t.Node, ...]) -> bool:
    return any(isinstance(f, t.Num) for f in factors[1:])


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
