"""What an answer is about: declared symbols with their kind, shape and domain.

The rubric's ``[symbols]`` table and ``grader.is_equivalent(symbols=...)`` both validate into
these models. Undeclared single letters are real scalars.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_INTERVAL = re.compile(r"^\s*([(\[])\s*([^,]+?)\s*,\s*([^,]+?)\s*([)\]])\s*$")
_NAMED_DOMAINS: dict[str, tuple[float, float, bool, bool]] = {
    # name: (low, high, low_open, high_open)
    "real": (float("-inf"), float("inf"), True, True),
    "positive": (0.0, float("inf"), True, True),
    "nonnegative": (0.0, float("inf"), False, True),
    "negative": (float("-inf"), 0.0, True, True),
    "nonpositive": (float("-inf"), 0.0, True, False),
    "unit": (0.0, 1.0, True, True),
}
_DOMAIN_HELP = (
    "use one of real, positive, nonnegative, negative, nonpositive, nonzero, integer, "
    "positive_integer, complex, or an interval like '(0, 1)' or '[0, inf)'"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Domain(_Frozen):
    """A real interval, optionally restricted to integers or widened to complex numbers."""

    low: float = float("-inf")
    high: float = float("inf")
    low_open: bool = True
    high_open: bool = True
    integer: bool = False
    nonzero: bool = False
    complex: bool = False

    def contains(self, value: float) -> bool:
        if self.nonzero and value == 0:
            return False
        if self.integer and value != int(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


def parse_domain(spec: str) -> Domain:
    """Read ``"positive"`` or ``"(0, 1)"``; raises ValueError with what is accepted."""
    text = spec.strip().lower().replace(" ", "")
    if text in _NAMED_DOMAINS:
        low, high, lo_open, hi_open = _NAMED_DOMAINS[text]
        return Domain(low=low, high=high, low_open=lo_open, high_open=hi_open)
    if text == "nonzero":
        return Domain(nonzero=True)
    if text == "integer":
        return Domain(integer=True)
    if text == "positive_integer":
        return Domain(low=0, integer=True)
    if text == "complex":
        return Domain(complex=True)
    match = _INTERVAL.match(spec)
    if match:
        opening, low_text, high_text, closing = match.groups()
        try:
            low, high = _bound(low_text), _bound(high_text)
        except ValueError:
            raise ValueError(f"domain {spec!r}: bounds must be numbers or inf; {_DOMAIN_HELP}") from None
        if not low < high:
            raise ValueError(f"domain {spec!r} is empty: the lower bound must be below the upper one")
        return Domain(low=low, high=high, low_open=opening == "(", high_open=closing == ")")
    raise ValueError(f"unknown domain {spec!r}: {_DOMAIN_HELP}")


def _bound(text: str) -> float:
    cleaned = text.strip().lower().replace("\\infty", "inf").replace("∞", "inf")
    return float(cleaned)


class ScalarSymbol(_Frozen):
    kind: Literal["scalar"] = "scalar"
    domain: str = "real"
    latex: list[str] = Field(default_factory=list, description="other ways students write it")
    description: str = ""

    @field_validator("domain")
    @classmethod
    def _domain_parses(cls, value: str) -> str:
        parse_domain(value)
        return value

    @property
    def parsed_domain(self) -> Domain:
        return parse_domain(self.domain)


Dim = Annotated[str | int, Field(description="a named dimension like 'n' or a fixed size like 1")]


class MatrixSymbol(_Frozen):
    kind: Literal["matrix"] = "matrix"
    shape: tuple[Dim, Dim]
    structure: Literal["general", "diagonal", "symmetric", "identity", "binary"] = "general"
    latex: list[str] = Field(default_factory=list)
    description: str = ""


class FunctionSymbol(_Frozen):
    kind: Literal["function"] = "function"
    arity: int = 1
    definition: str | None = Field(
        default=None,
        description="the function's body in calculator syntax over 'u' (e.g. '1/(1+exp(-u))')",
    )
    latex: list[str] = Field(default_factory=list)
    description: str = ""


SymbolDecl = Annotated[ScalarSymbol | MatrixSymbol | FunctionSymbol, Field(discriminator="kind")]


class SymbolTable(_Frozen):
    """Declared symbols by canonical name, plus the sizes used for named dimensions."""

    symbols: dict[str, SymbolDecl] = Field(default_factory=dict)
    dimensions: dict[str, int] = Field(default_factory=dict)

    def get(self, name: str) -> ScalarSymbol | MatrixSymbol | FunctionSymbol | None:
        return self.symbols.get(name)

    def is_matrix(self, name: str) -> bool:
        return isinstance(self.symbols.get(name), MatrixSymbol)

    def is_function(self, name: str) -> bool:
        return isinstance(self.symbols.get(name), FunctionSymbol)

    def size(self, dim: str | int) -> int:
        """Concrete size of a dimension; unnamed sizes default to distinct small primes."""
        if isinstance(dim, int):
            return dim
        if dim in self.dimensions:
            return self.dimensions[dim]
        named = sorted({d for s in self.symbols.values() if isinstance(s, MatrixSymbol) for d in s.shape if isinstance(d, str)})
        defaults = (5, 3, 4, 7, 6, 8, 9, 2)
        index = named.index(dim) if dim in named else len(named)
        return defaults[index % len(defaults)]
