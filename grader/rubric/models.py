"""The rubric file (``rubrics/<name>/rubric.toml``) as validated, frozen models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from grader.math.symbols import SymbolDecl, SymbolTable
from grader.rubric.base import RubricModel
from grader.rubric.parts import (
    ChoicePart,
    DerivationPart,
    DivergencePart,
    DynamicsPart,
    ManualPart,
    NumericPart,
    PartBase,
    SymbolicPart,
)
from grader.rubric.sealed import SealedChoicePart, SealedManualPart, SealedMathPart
from grader.rubric.simulation import RandomDecl, SystemDecl

AnyPart = Annotated[
    ChoicePart | ManualPart | NumericPart | SymbolicPart | SealedMathPart | SealedChoicePart | SealedManualPart
    | DerivationPart | DynamicsPart | DivergencePart,
    Field(discriminator="kind"),
]

#: Every part kind by its ``kind`` tag (the ``sealed-*`` kinds are what ``grader rubric seal`` writes).
PART_MODELS: dict[str, type[PartBase]] = {
    model.model_fields["kind"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        ChoicePart, ManualPart, NumericPart, SymbolicPart, SealedMathPart, SealedChoicePart, SealedManualPart,
        DerivationPart, DynamicsPart, DivergencePart,
    )
}


class Assignment(RubricModel):
    id: str = Field(description="short id used in reports, e.g. 'a3'")
    title: str
    course: str = ""
    due: str = Field(default="", description="ISO date, informational")
    total_points: float | None = Field(default=None, description="if given, must equal the sum of question points")


class Settings(RubricModel):
    show_reference: bool = Field(default=False, description="show reference answers in student reports")
    check_timeout_s: float = Field(default=10.0, gt=0, le=600, description="hard time limit of one part's check")
    check_memory_mb: int = Field(default=1024, ge=64, le=16384, description="memory limit of one part's check")
    seed: int = Field(default=0, description="mixed into every random draw, so reports are reproducible")


class Question(RubricModel):
    id: str = Field(description="sub-question id as students number it, e.g. '1.2' or '2.3a'")
    title: str = ""
    points: float = Field(gt=0)
    prompt: str = Field(default="", description="an excerpt of the question, for templates and reports")
    aliases: list[str] = Field(default_factory=list, description="other labels students use for it")
    parts: list[AnyPart] = Field(min_length=1)

    @model_validator(mode="after")
    def _parts_add_up(self) -> Question:
        ids = [part.id for part in self.parts]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"part ids must be unique within the question; repeated: {', '.join(duplicates)}")
        total = sum(part.points for part in self.parts)
        if abs(total - self.points) > 1e-9:
            raise ValueError(f"the parts' points add up to {total:g}, but the question is worth {self.points:g}")
        return self


class Rubric(RubricModel):
    assignment: Assignment
    settings: Settings = Field(default_factory=Settings)
    dimensions: dict[str, int] = Field(default_factory=dict, description="sizes used for named matrix dimensions")
    symbols: dict[str, SymbolDecl] = Field(default_factory=dict)
    random: dict[str, RandomDecl] = Field(
        default_factory=dict, description="how declared symbols are drawn: R ~ Bernoulli(p) entrywise, densities p_0, p_1"
    )
    systems: dict[str, SystemDecl] = Field(default_factory=dict, description="dynamical systems the dynamics checks simulate")
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _share_simulation_tables(cls, data: Any) -> Any:
        """Parts that simulate get the rubric's [random] and [systems] tables unless they declare their own."""
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            return data
        shared = {key: data[key] for key in ("random", "systems") if isinstance(data.get(key), dict)}
        if not shared:
            return data
        questions = []
        for question in data["questions"]:
            if isinstance(question, dict) and isinstance(question.get("parts"), list):
                question = {**question, "parts": [_with_tables(part, shared) for part in question["parts"]]}
            questions.append(question)
        return {**data, "questions": questions}

    @field_validator("dimensions")
    @classmethod
    def _small_dimensions(cls, dims: dict[str, int]) -> dict[str, int]:
        for name, size in dims.items():
            if not 1 <= size <= 50:
                raise ValueError(f"dimension {name!r} = {size}: use a size from 1 to 50 (random matrices are built at this size)")
        return dims

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [q.id for q in self.questions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"question ids must be unique; repeated: {', '.join(duplicates)}")
        if self.assignment.total_points is not None:
            total = sum(q.points for q in self.questions)
            if abs(total - self.assignment.total_points) > 1e-9:
                raise ValueError(
                    f"the questions add up to {total:g} points, but assignment.total_points is {self.assignment.total_points:g}"
                )
        return self

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def symbol_table(self) -> SymbolTable:
        return SymbolTable(symbols=dict(self.symbols), dimensions=dict(self.dimensions))

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


def _with_tables(part: Any, shared: dict[str, Any]) -> Any:
    model = PART_MODELS.get(part.get("kind", "")) if isinstance(part, dict) else None
    if model is None:
        return part
    fields = model.model_fields
    missing = {key: value for key, value in shared.items() if key in fields and key not in part}
    return {**part, **missing} if missing else part
