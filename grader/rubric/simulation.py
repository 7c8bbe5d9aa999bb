"""What a rubric declares for simulation: random variables, densities, and dynamical systems.

They live in the rubric (``[random.R]``, ``[systems.v]``), not in the symbol table: the symbol
table says what a name *is* (a 5×3 matrix), these say how to *draw* it (i.i.d. Bernoulli(p)
entries) or how a system *moves*. The rubric hands them to the parts that simulate.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from grader.rubric.base import RubricModel

Range = float | tuple[float, float]


def _range_ok(value: Range, what: str, *, positive: bool = False) -> Range:
    low, high = (value, value) if isinstance(value, (int, float)) else value
    if low > high:
        raise ValueError(f"{what} [{low}, {high}] is empty: the lower bound must come first")
    if positive and low <= 0:
        raise ValueError(f"{what} must be positive")
    return value


class RandomDecl(RubricModel):
    """How one declared name is drawn: a random matrix or scalar, or (for a declared function) a density.

    ``mean`` and ``std`` may be ranges ``[low, high]``: each random instance of a check then draws
    them uniformly, so a wrong expression cannot pass by matching one particular pair of densities.
    """

    distribution: Literal["bernoulli", "normal", "uniform"]
    parameter: str | float | None = Field(
        default=None,
        description="Bernoulli: the success probability, a number or the name of a declared scalar such as 'p'",
    )
    mean: Range = Field(default=0.0, description="normal: the mean, or a range [low, high] drawn per instance")
    std: Range = Field(default=1.0, description="normal: the standard deviation, or a range drawn per instance")
    low: float = Field(default=0.0, description="uniform: lower end")
    high: float = Field(default=1.0, description="uniform: upper end")
    variable: str = Field(
        default="x", description="densities: the integration variable in E_{p}[...] when the student does not name one"
    )
    description: str = ""

    @field_validator("mean")
    @classmethod
    def _mean_range(cls, value: Range) -> Range:
        return _range_ok(value, "mean")

    @field_validator("std")
    @classmethod
    def _std_range(cls, value: Range) -> Range:
        return _range_ok(value, "std", positive=True)

    @model_validator(mode="after")
    def _complete(self) -> RandomDecl:
        if self.distribution == "bernoulli":
            if self.parameter is None:
                raise ValueError("a Bernoulli variable needs 'parameter' (its success probability or a scalar's name)")
            if isinstance(self.parameter, (int, float)) and not 0 <= self.parameter <= 1:
                raise ValueError("a Bernoulli probability must be between 0 and 1")
        if self.distribution == "uniform" and not self.low < self.high:
            raise ValueError("uniform: 'low' must be below 'high'")
        return self


class SystemDecl(RubricModel):
    """An autonomous system ẋ = f(x) and its equilibrium, for the dynamics checks."""

    variables: list[str] = Field(min_length=1, max_length=10, description="state variables in order, e.g. ['psi_0', 'psi_1', 'theta']")
    field: str = Field(description="the reference vector field in LaTeX: a column vector with one entry per variable")
    equilibrium: list[float] = Field(description="the stationary point the stability checks start near")
    parameters: dict[str, list[float]] = Field(
        default_factory=dict,
        description="values of the field's parameters to check at, e.g. {gamma = [0.5, 1, 2]}; "
        "a parameter not listed is drawn from its symbol's domain",
    )
    label: str = Field(default="the flow", description="how the evidence names the system, e.g. 'the unregularized flow'")

    @model_validator(mode="after")
    def _consistent(self) -> SystemDecl:
        if len(self.equilibrium) != len(self.variables):
            raise ValueError(f"the equilibrium has {len(self.equilibrium)} coordinates but there are {len(self.variables)} variables")
        if len(set(self.variables)) != len(self.variables):
            raise ValueError("state variables must be distinct")
        for name, values in self.parameters.items():
            if not values:
                raise ValueError(f"parameter {name!r}: give at least one value")
        return self
