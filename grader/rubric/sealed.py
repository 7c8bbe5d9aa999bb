"""The part kinds of a sealed rubric (``grader rubric seal``): fingerprints instead of answers.

Only the data lives here; how fingerprints are made and matched is in
``grader.authoring.seal`` and ``grader.checking.sealed_math``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from grader.rubric.parts import ChoiceOption, ChoicePart, PartBase, RubricModel

# -- sealed math -------------------------------------------------------------------------------


JsonNumber = float | tuple[float, float]


Dim = str | int


class PointValue(RubricModel):
    """A symbol's value at a stored point, in clear: a number (real, or ``[re, im]``) or a matrix."""

    number: JsonNumber | None = None
    matrix: list[list[JsonNumber]] | None = None


class HashedValue(RubricModel):
    """The reference's value at one point, as salted hashes of its quantised value.

    A number (or the ``c`` of ``c·I`` when ``identity``) is one hash; a matrix keeps its shape and
    named dimensions and has one hash per entry, on a grid relative to each entry (``scale`` None,
    a matrix written entry by entry) or to the whole matrix (``scale``, the grid's exponent).
    """

    number: str | None = None
    identity: bool = False
    shape: tuple[int, int] | None = None
    dims: tuple[Dim, Dim] | None = None
    scale: int | None = None
    zero: bool = Field(default=False, description="a matrix of (near) zeros: every entry must be (near) zero")
    entries: list[list[str]] | None = None


class Sample(RubricModel):
    """One point and the reference's hashed value there (``items`` for a list of values)."""

    at: dict[str, PointValue]
    value: HashedValue | None = None
    items: list[HashedValue | None] | None = None
    branch: bool = Field(default=False, description="the reference leaves the reals here (log of a negative)")


class ValuesPrint(RubricModel):
    """A single expression: hashed values at stored points (one point, empty, for a constant)."""

    form: Literal["values"] = "values"
    label: str
    constant: bool = Field(default=False, description="no free symbols: the student's own symbols are drawn when checking")
    matrix_context: bool = False
    literal: bool = Field(default=False, description="a matrix written entry by entry: compared entry by entry")
    samples: list[Sample]


class ItemsPrint(RubricModel):
    """A list or set of values (``-1/2, ±i/2``): per point, a hash per item."""

    form: Literal["items"] = "items"
    label: str
    constant: bool = False
    as_set: bool = False
    matrix_context: bool = False
    count: int
    samples: list[Sample]


class StructuralPrint(RubricModel):
    """A form that cannot be evaluated (an equation, a product whose shapes do not conform): a
    salted hash of its parsed tree, so only the same formula matches, as in the open rubric's
    structural step; anything else is undecided, never wrong."""

    form: Literal["structural"] = "structural"
    label: str
    digest: str


class TuplePrint(RubricModel):
    """An ordered tuple ``(a, b, c)``: one fingerprint per component."""

    form: Literal["tuple"] = "tuple"
    label: str
    components: list[Print]


Print = Annotated[ValuesPrint | ItemsPrint | TuplePrint | StructuralPrint, Field(discriminator="form")]


AnyPrint = ValuesPrint | ItemsPrint | TuplePrint | StructuralPrint


class SealedForm(RubricModel):
    """An accepted form: its fingerprint, and ``feedback_correct`` sealed under its value."""

    fingerprint: Print
    box: str | None = None


class SealedMistake(RubricModel):
    """A recognised mistake: fingerprint, points, and its id and feedback sealed under its value."""

    ref: str = Field(description="an opaque label; the mistake's id is in the box")
    points: float = Field(ge=0)
    fingerprint: Print
    box: str | None = None


class KeyPoint(RubricModel):
    """Where answers are evaluated to derive the keys of the boxes (the values there are not stored)."""

    at: dict[str, PointValue]


class SealedMathPart(PartBase):
    kind: Literal["sealed-math"]
    rtol: float = Field(default=1e-6, gt=0)
    atol: float = Field(default=1e-9, ge=0)
    salt: str
    functions: dict[str, str] = Field(
        default_factory=dict, description="random stand-ins (calculator syntax) for functions declared without a definition"
    )
    accepted: list[SealedForm] = Field(default_factory=list)
    recognised: list[SealedMistake] = Field(default_factory=list)
    key: KeyPoint | None = None
    unsealed: str = Field(default="", description="why no fingerprint could be made; a person then checks the part")


TuplePrint.model_rebuild()


# -- sealed choice -----------------------------------------------------------------------------


class SealedChoiceMistake(RubricModel):
    ref: str = Field(description="an opaque label; the mistake's id is in the box")
    option: str = Field(description="salted hash of the option id this mistake is")
    points: float = Field(default=0, ge=0)
    box: str | None = None


class SealedChoicePart(PartBase):
    kind: Literal["sealed-choice"]
    salt: str
    answer: str = Field(description="salted hash of the correct option's id")
    also: list[str] = Field(default_factory=list, description="salted hashes of other options that are right too")
    correct_boxes: list[str] = Field(default_factory=list, description="feedback_correct, sealed under each right option")
    options: list[ChoiceOption] = Field(min_length=2)
    terms: dict[str, str] = Field(default_factory=dict)
    scope: str | None = None
    recognised: list[SealedChoiceMistake] = Field(default_factory=list)

    def recogniser(self) -> ChoicePart:
        """The open part that recognises options; its ``answer`` is a placeholder, never used."""
        return ChoicePart(
            kind="choice", id=self.id, points=self.points, answer=self.options[0].id, options=self.options, terms=self.terms, scope=self.scope
        )


# -- sealed manual -----------------------------------------------------------------------------


class SealedManualPart(PartBase):
    kind: Literal["sealed-manual"]
    note: str = Field(default="", description="why it is left for the instructor, when not a proof or essay")
