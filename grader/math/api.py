"""Public math API: parse answers, compare them with references (three-way), declare symbols.

``is_equivalent`` is the one-call form: ``True``/``False`` when the engine decided, ``None`` when
it could not (timeouts, unsupported constructs, and a student answer that does not parse).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from grader.math.equivalence import check_equivalence
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.text import parse_text
from grader.math.tree import ParseError


def symbol_table(symbols: Mapping[str, Any] | SymbolTable | None) -> SymbolTable:
    """Accept a SymbolTable, the rubric's mapping form, or ``{"symbols": …, "dimensions": …}``.

    In the mapping form a declaration without ``kind`` is a matrix when it has a ``shape`` and a
    scalar otherwise, and a bare string is a scalar's domain: ``{"p": "(0, 1)"}``.
    """
    if symbols is None:
        return SymbolTable()
    if isinstance(symbols, SymbolTable):
        return symbols
    if set(symbols) <= {"symbols", "dimensions"} and isinstance(symbols.get("symbols", {}), Mapping):
        declared = symbols.get("symbols", {})
        dimensions = symbols.get("dimensions", {})
    else:
        declared, dimensions = symbols, {}
    normalized: dict[str, Any] = {}
    for name, decl in declared.items():
        if isinstance(decl, str):
            normalized[name] = {"kind": "scalar", "domain": decl}
        elif isinstance(decl, Mapping) and "kind" not in decl:
            normalized[name] = {"kind": "matrix" if "shape" in decl else "scalar", **decl}
        else:
            normalized[name] = decl
    return SymbolTable.model_validate({"symbols": normalized, "dimensions": dict(dimensions)})


def is_equivalent(
    student: str,
    reference: str,
    *,
    syntax: Literal["latex", "text"] = "latex",
    symbols: Mapping[str, Any] | SymbolTable | None = None,
) -> bool | None:
    """Whether ``student`` and ``reference`` are the same answer: True, False, or None (undecided).

    A student answer that does not parse gives None (it was not *shown* to be different; a
    person should look). A reference that does not parse raises ValueError: that is a bug in the
    caller's reference, and silently answering None forever would hide it.
    """
    table = symbol_table(symbols)
    parse = parse_latex if syntax == "latex" else parse_text
    parsed_reference = parse(reference, table)
    if isinstance(parsed_reference, ParseError):
        raise ValueError(f"the reference {reference!r} does not parse: {parsed_reference.message}")
    parsed_student = parse(student, table)
    if isinstance(parsed_student, ParseError):
        return None
    outcome = check_equivalence(parsed_student.tree, parsed_reference.tree, table)
    if outcome.verdict == "undecided":
        return None
    return outcome.verdict == "equivalent"
