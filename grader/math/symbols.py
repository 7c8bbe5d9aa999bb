"""What an answer is about: declared symbols with their kind, shape and domain.

The rubric's ``[symbols]`` table and ``grader.is_equivalent(symbols=...)`` both validate into
these models. Kinds: ``scalar`` (with a domain), ``matrix`` (with a shape in named dimensions),
``function`` (with a definition, a definition from the library, or none: uninterpreted),
``sample`` (``x_1, …, x_n`` declared once), ``constant`` (a name with a fixed value: ``g``, or
``j`` as the imaginary unit) and ``arbitrary`` (a constant of integration such as ``C``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from grader.math import library

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


class _InDomain(_Frozen):
    """Values drawn from a domain: a scalar, or each observation of a sample."""

    domain: str = Field(default="real", description="where the values lie: " + _DOMAIN_HELP.removeprefix("use one of "))

    @field_validator("domain")
    @classmethod
    def _domain_parses(cls, value: str) -> str:
        parse_domain(value)
        return value

    @property
    def parsed_domain(self) -> Domain:
        return parse_domain(self.domain)


class ScalarSymbol(_InDomain):
    kind: Literal["scalar"] = "scalar"
    latex: list[str] = Field(default_factory=list, description="other ways students write it")
    description: str = ""


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
    library: str | None = Field(
        default=None,
        description="a definition from grader's library instead of writing one: "
        + ", ".join(library.library_names()),
        examples=["logistic", "normal_cdf"],
    )
    latex: list[str] = Field(default_factory=list)
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_library(cls, data: Any) -> Any:
        """``library = "logistic"`` stands for that definition (and its number of arguments)."""
        if not isinstance(data, dict) or data.get("library") is None:
            return data
        entry = library.lookup(str(data["library"]))
        if entry is None:
            raise ValueError(
                f"unknown library function {data['library']!r}; use one of {', '.join(library.library_names())}"
            )
        if data.get("definition") not in (None, entry[1]):
            raise ValueError("give either 'library' or 'definition', not both")
        return {**data, "arity": entry[0], "definition": entry[1]}


class SampleSymbol(_InDomain):
    """``x_1, …, x_n``: ``x_i`` inside a sum, ``\\bar{x}`` and ``\\sum x_i`` mean what they mean."""

    kind: Literal["sample"] = "sample"
    length: str | int = Field(
        default="n", description="the sample size: a name (a scalar symbol or a dimension) or a number"
    )
    latex: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("length")
    @classmethod
    def _length_is_positive(cls, value: str | int) -> str | int:
        if isinstance(value, int) and not 1 <= value <= 1000:
            raise ValueError("a fixed sample size must be from 1 to 1000")
        return value


class ConstantSymbol(_Frozen):
    """A name with a fixed value, in calculator syntax: ``g = 9.81``, or ``j`` as the imaginary unit (``%i``)."""

    kind: Literal["constant"] = "constant"
    value: str = Field(description="the value in calculator syntax, e.g. '9.81' or '%i' (the imaginary unit)")
    latex: list[str] = Field(default_factory=list)
    description: str = ""


class ArbitrarySymbol(_Frozen):
    """A constant the answer leaves free: the constant of integration ``C`` in ``x^3/3 + C``."""

    kind: Literal["arbitrary"] = "arbitrary"
    latex: list[str] = Field(default_factory=list)
    description: str = ""


AnySymbol = ScalarSymbol | MatrixSymbol | FunctionSymbol | SampleSymbol | ConstantSymbol | ArbitrarySymbol
SymbolDecl = Annotated[AnySymbol, Field(discriminator="kind")]


class SymbolTable(_Frozen):
    """Declared symbols by canonical name, plus the sizes used for named dimensions."""

    symbols: dict[str, SymbolDecl] = Field(default_factory=dict)
    dimensions: dict[str, int] = Field(default_factory=dict)

    def get(self, name: str) -> AnySymbol | None:
        return self.symbols.get(name)

    def is_sample(self, name: str) -> bool:
        return isinstance(self.symbols.get(name), SampleSymbol)

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
