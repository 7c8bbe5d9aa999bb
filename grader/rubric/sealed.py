"""The part kinds of a sealed rubric (``grader rubric seal``): fingerprints instead of answers.

Only the data lives here; how gates are made and matched is in ``grader.checking.sealed_math``
(sealing drives it from ``grader.authoring.seal``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from grader._internal.secretbox import KdfParams
from grader.rubric.parts import ChoiceOption, ChoicePart, FormOptions, PartBase, RubricModel, TermSpelling

# -- sealed math -------------------------------------------------------------------------------


JsonNumber = float | tuple[float, float]


Dim = str | int


class PointValue(RubricModel):
    """A symbol's value at a stored point, in clear: a number (real, or ``[re, im]``), a matrix, or
    the observations of a declared sample ``x_1, …, x_n``."""

    number: JsonNumber | None = None
    matrix: list[list[JsonNumber]] | None = None
    data: list[JsonNumber] | None = None


class Layout(RubricModel):
    """How an answer is read into values: one number or matrix (``value``), a list compared as a
    multiset (``items``), an ordered ``tuple`` of layouts, or the exact ``formula`` (a form that
    cannot be evaluated: only the same parsed formula matches)."""

    form: Literal["value", "items", "tuple", "formula"]
    shape: tuple[int, int] | None = Field(default=None, description="a matrix's size; None for a number")
    dims: tuple[Dim, Dim] | None = None
    identity: bool = Field(default=False, description="a multiple of the identity matrix (c·I)")
    matrix_context: bool = False
    as_set: bool = Field(default=False, description="items: repeated values count once")
    components: list[Layout] = Field(default_factory=list)


class Gate(RubricModel):
    """Where answers of one layout are evaluated, and the grid their values are quantised on.

    The key of every box behind this gate is one scrypt over the cells of ALL values at ALL
    points together; ``shifts`` (per point, per value slot: ``[modulus, angle]`` in cells) place
    each stored form's tolerance disc inside one cell, so any answer within tolerance finds the
    same key; ``width`` is a cell's size in tolerance radii.
    """

    layout: Layout
    points: list[dict[str, PointValue]] = Field(default_factory=list)
    shifts: list[list[tuple[float, float]]] = Field(default_factory=list)
    width: float = Field(default=16.0, ge=2)


class SealedForm(RubricModel):
    """An accepted form: a box (the form itself and ``feedback_correct``) that only the key of a
    matching answer opens."""

    gate: int = Field(ge=0)
    box: str


class SealedMistake(RubricModel):
    """A recognised mistake: points, and a box with its formula, id and feedback."""

    ref: str = Field(description="an opaque label; the mistake's id is in the box")
    points: float = Field(ge=0)
    gate: int = Field(ge=0)
    box: str


class SealedMathPart(PartBase, FormOptions):
    kind: Literal["sealed-math"]
    rtol: float = Field(default=1e-6, ge=0, lt=0.5)
    atol: float = Field(default=1e-9, ge=0)
    salt: str
    kdf: KdfParams = Field(default_factory=KdfParams)
    functions: dict[str, str] = Field(
        default_factory=dict, description="random stand-ins (calculator syntax) for functions declared without a definition"
    )
    gates: list[Gate] = Field(default_factory=list)
    accepted: list[SealedForm] = Field(default_factory=list)
    recognised: list[SealedMistake] = Field(default_factory=list)
    unsealed: str = Field(default="", description="why no fingerprint could be made; a person then checks the part")
    names: list[str] = Field(
        default_factory=list, description="the names the accepted forms use: understood in an answer like declared ones"
    )


Layout.model_rebuild()


# -- sealed choice -----------------------------------------------------------------------------


class SealedChoiceMistake(RubricModel):
    ref: str = Field(description="an opaque label; the mistake's id is in the box")
    option: str = Field(description="scrypt hash of the option id this mistake is")
    points: float = Field(default=0, ge=0)
    box: str | None = None


class SealedChoicePart(PartBase):
    kind: Literal["sealed-choice"]
    salt: str
    kdf: KdfParams = Field(default_factory=KdfParams)
    answer: str = Field(description="scrypt hash of the correct option's id")
    also: list[str] = Field(default_factory=list, description="scrypt hashes of other options that are right too")
    correct_boxes: list[str] = Field(default_factory=list, description="feedback_correct, sealed under each right option")
    options: list[ChoiceOption] = Field(min_length=2)
    terms: dict[str, TermSpelling] = Field(default_factory=dict)
    about: list[str] = Field(default_factory=list)
    scope: str | None = None
    recognised: list[SealedChoiceMistake] = Field(default_factory=list)

    def recogniser(self) -> ChoicePart:
        """The open part that recognises options; its ``answer`` is a placeholder, never used."""
        return ChoicePart(
            kind="choice", id=self.id, points=self.points, answer=self.options[0].id, options=self.options, terms=self.terms,
            about=self.about, scope=self.scope,
        )


# -- sealed manual -----------------------------------------------------------------------------


class SealedManualPart(PartBase):
    kind: Literal["sealed-manual"]
    note: str = Field(default="", description="why it is left for the instructor, when not a proof or essay")
