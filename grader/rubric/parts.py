"""Every part kind a rubric can use: the fields all parts share, and each kind's own.

Each kind subclasses ``PartBase`` with its own ``kind`` and options; ``grader.rubric.models`` joins
them into one discriminated union, so a rubric's TOML is validated per kind with
``extra="forbid"`` and the JSON Schema offers each kind's own fields. The checkers that decide
them (``grader.checking``) read these models; the rubric never imports a checker.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from grader.rubric.base import RubricModel, compiled_patterns
from grader.rubric.simulation import RandomDecl, SystemDecl


class Mistake(RubricModel):
    """A common wrong answer, recognised like a reference, with the feedback it deserves."""

    id: str = Field(description="stable id, used in reports and class statistics (e.g. 'lambda-inverted')")
    answer: str | None = Field(default=None, description="the wrong form, in LaTeX (math checkers)")
    option: str | None = Field(default=None, description="the wrong option's id (choice checker)")
    patterns: list[str] = Field(
        default_factory=list, description="regexes over the answer's prose that reveal it (manual checker)"
    )
    feedback: str = Field(description="what the student should learn from this mistake")
    points: float = Field(default=0, ge=0, description="points the part still earns with this mistake")

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return compiled_patterns(patterns)


class PartTest(RubricModel):
    """An answer the rubric must judge as stated: the rubric's own regression test."""

    answer: str = Field(
        description="what a student writes for this part: the math after 'target =' (math checkers) or prose"
    )
    expect: Literal["right", "wrong", "undecided"]
    mistake: str | None = Field(default=None, description="the mistake id that must be recognised")
    note: str = ""


class PartBase(RubricModel):
    id: str = Field(description="part id, unique within the question (e.g. 'lambda', 'effect')")
    title: str = ""
    points: float = Field(gt=0)
    target: str | None = Field(
        default=None,
        description="what the answer is about, in LaTeX, e.g. '\\lambda^{\\text{dropout}}' or 'J^*'",
    )
    feedback_correct: str = Field(default="", description="shown when the part is right")
    feedback_incorrect: str = Field(default="", description="shown when the part is wrong and no mistake matched")
    mistakes: list[Mistake] = Field(default_factory=list)
    tests: list[PartTest] = Field(default_factory=list, description="answers with the verdict they must get")

    @field_validator("id")
    @classmethod
    def _id_is_simple(cls, value: str) -> str:
        if not value or not all(ch.isalnum() or ch in "-_." for ch in value):
            raise ValueError("use letters, digits, '-', '_' or '.' only")
        return value


#: Monte Carlo samples per expectation unless a part says otherwise.
DEFAULT_SAMPLES = 4000
#: Integration time of a stability check unless a part says otherwise.
HORIZON = 200.0


# -- symbolic and numeric ----------------------------------------------------------------------


class FormOptions(RubricModel):
    """What makes a formula the answer, for math parts (open and sealed alike)."""

    targets: list[str] = Field(
        default_factory=list,
        description="other ways the answer may be stated besides 'target', in LaTeX: a name, a call or an expression",
        examples=[["L", "\\lim_{x \\to 0} \\frac{\\sin x}{x}", "T_2(x)", "\\sqrt{1+x}"]],
    )
    final_form: bool = Field(
        default=True,
        description="an answer that still contains an operation to carry out (\\det or ^{-1} of a matrix written out, "
        "\\lim, \\int, d/dx, a sum with number bounds) that no reference contains is not the result",
    )
    given: list[str] = Field(
        default_factory=list,
        description="the question's own expressions, in LaTeX: an answer that restates one is not the result",
        examples=[["\\frac{x^2-1}{x-1}"]],
    )

    @property
    def all_targets(self) -> list[str]:
        target = getattr(self, "target", None)
        return [t for t in [target, *self.targets] if t]


class ComparisonOptions(FormOptions):
    """How a math part's answer is compared with the reference."""

    up_to: Literal["constant", "factor", "constants"] | None = Field(
        default=None,
        description="'constant': up to an additive constant (antiderivatives: +C, +5 or nothing); 'factor': up to a "
        "nonzero factor (eigenvectors); 'constants': the same family whatever the arbitrary constants are called "
        "(general solutions with C, C_1, C_2)",
    )
    constants: list[str] = Field(
        default_factory=list,
        description="names of arbitrary constants besides the recognised C, C_1, C_2, K, c_1 (and symbols declared 'arbitrary')",
    )


class SymbolicPart(PartBase, ComparisonOptions):
    kind: Literal["symbolic"]
    reference: str = Field(description="the reference answer in LaTeX")
    alternatives: list[str] = Field(default_factory=list, description="other accepted forms, in LaTeX")
    rtol: float = Field(default=1e-6, gt=0)
    atol: float = Field(default=1e-9, ge=0)


class NumericPart(PartBase, ComparisonOptions):
    kind: Literal["numeric"]
    reference: str = Field(description="the value in LaTeX: a number, a matrix, or a list such as '-\\frac12, \\pm\\frac{i}{2}'")
    rtol: float = Field(default=1e-3, ge=0, description="relative tolerance")
    atol: float = Field(default=1e-6, ge=0, description="absolute tolerance")


# -- choice ------------------------------------------------------------------------------------


RELATION = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=|<|>)\s*([A-Za-z0-9_]+)\s*$")

#: A term: the phrases (words or LaTeX) that name it, or (advanced) one regex over the normalised LaTeX.
TermSpelling = list[str] | str


class ChoiceOption(RubricModel):
    """One answer a student can give, recognised by meaning from example statements."""

    id: str = Field(description="stable id of the option, used by 'answer', mistakes and reports", examples=["decreasing"])
    label: str = Field(default="", description="how the option reads in feedback", examples=["λ decreases as p increases"])
    statements: list[str] = Field(
        default_factory=list,
        description=(
            "example statements of this option, read by meaning: word order, paraphrase (stems, the part's terms) and "
            "negation do not fool it ('never converges' is not 'converges'). An answer chooses the option when one of "
            "its sentences says everything one statement says. Keep each statement short: every word that carries "
            "meaning must be found"
        ),
        examples=[["λ decreases as p increases", "for p close to 1, λ is close to 0"], ["not asymptotically stable", "does not converge"]],
    )
    patterns: list[str] = Field(
        default_factory=list,
        description="advanced: regular expressions over the answer's prose (case-insensitive); prefer 'statements'",
        examples=[["\\binversely\\b"]],
    )
    relations: list[str] = Field(
        default_factory=list,
        description="inequalities between the part's named terms that state this option, e.g. 'amortized > instance'",
        examples=[["amortized > instance", "amortized >= instance"]],
    )
    overrides: list[str] = Field(
        default_factory=list,
        description="options this one wins over when both are found (e.g. 'not stable' over 'inconclusive')",
        examples=[["inconclusive"]],
    )

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return compiled_patterns(patterns)

    @field_validator("relations")
    @classmethod
    def _relations_parse(cls, relations: list[str]) -> list[str]:
        for relation in relations:
            if not RELATION.match(relation):
                raise ValueError(f"relation {relation!r} must look like 'term_a > term_b' (with <, >, <= or >=)")
        return relations

    @field_validator("statements")
    @classmethod
    def _statements_say_something(cls, statements: list[str]) -> list[str]:
        for statement in statements:
            if not any(ch.isalnum() for ch in statement):
                raise ValueError(f"statement {statement!r} has no words")
        return statements


class ChoicePart(PartBase):
    """A claim stated in prose or as an inequality: which option the student chose."""

    kind: Literal["choice"]
    answer: str = Field(description="id of the correct option", examples=["decreasing"])
    options: list[ChoiceOption] = Field(min_length=2, description="the claims a student can make; at least two")
    terms: dict[str, TermSpelling] = Field(
        default_factory=dict,
        description=(
            "what the statements talk about: a name and the phrases (words or LaTeX) students use for it, e.g. "
            "{lambda = ['\\lambda', 'regularization coefficient']}. Inline math symbols name themselves. With exactly "
            "two terms the part compares them: 'A is faster' also reads as 'B is slower'. Relations use the terms too "
            "(a side of an inequality containing a phrase's LaTeX). Advanced: a string is a regex over the normalised LaTeX"
        ),
        examples=[{"amortized": ["amortized", "q_{\\phi^*}"], "instance": ["instance-dependent", "q_i^*"]}],
    )
    about: list[str] = Field(
        default_factory=list,
        description=(
            "phrases naming the situation this part asks about, read like statements, or a list label such as '1.' "
            "or '(a)': only the list items (or sentences) that say one of them are read"
        ),
        examples=[["scenario 1", "we have no samples", "1."]],
    )
    scope: str | None = Field(
        default=None, description="advanced: a regex; only paragraphs of the answer matching it are read (prefer 'about')"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ChoicePart:
        check_options(self.options, self.answer, self.mistakes, self.terms)
        regexes = [t for t in self.terms.values() if isinstance(t, str)]
        compiled_patterns(regexes + ([self.scope] if self.scope else []))
        return self


def check_options(options: list[ChoiceOption], answer: str | None, mistakes: list[Mistake], terms: dict[str, TermSpelling]) -> None:
    """Validator body shared by choice and stability parts: ids, answer, mistakes, relations and overrides agree."""
    ids = [option.id for option in options]
    if len(set(ids)) != len(ids):
        raise ValueError("option ids must be unique")
    if answer not in ids:
        raise ValueError(f"answer {answer!r} is not one of the options {ids}")
    for mistake in mistakes:
        if mistake.option is not None and mistake.option not in ids:
            raise ValueError(f"mistake {mistake.id!r} names option {mistake.option!r}, which does not exist")
    for option in options:
        for relation in option.relations:
            match = RELATION.match(relation)
            assert match is not None  # validated per option
            for term in (match.group(1), match.group(3)):
                if term not in terms:
                    raise ValueError(f"relation {relation!r} uses term {term!r}; declare it under 'terms'")
        unknown = [other for other in option.overrides if other not in ids]
        if unknown:
            raise ValueError(f"option {option.id!r} overrides unknown option(s) {unknown}")


# -- manual ------------------------------------------------------------------------------------


class ExpectedElement(RubricModel):
    id: str
    description: str = Field(description="what a good answer contains, for the reviewer and the student")
    patterns: list[str] = Field(min_length=1, description="regexes (case-insensitive); any one found counts")
    weight: float = Field(default=1.0, gt=0)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        return compiled_patterns(patterns)


class ManualPart(PartBase):
    kind: Literal["manual"]
    guidance: str = Field(default="", description="notes for the person who reviews")
    expected: list[ExpectedElement] = Field(default_factory=list)


# -- derivation --------------------------------------------------------------------------------


class DerivationPart(PartBase):
    kind: Literal["derivation"]
    guidance: str = Field(default="", description="notes for the person who reviews")
    expected: list[ExpectedElement] = Field(default_factory=list)
    definitions: dict[str, str] = Field(
        default_factory=dict,
        description="what names in the derivation stand for, in LaTeX: {'L(w)' = '\\|y - (X \\odot R)w\\|^2', '\\Gamma' = '...'}",
    )
    maximizers: dict[str, str] = Field(
        default_factory=dict, description="a maximized variable and its known maximizer: {D = 'D^*'} reads max_D V(D) as V(D*)"
    )
    random: dict[str, RandomDecl] = Field(
        default_factory=dict, description="random variables and densities; defaults to the rubric's [random] table"
    )
    scalars: list[str] = Field(
        default_factory=list,
        description="names that are plain scalars in this question although declared otherwise (y in Q4, a vector in Q1)",
    )
    samples: int = Field(default=DEFAULT_SAMPLES, ge=100, le=50_000, description="Monte Carlo samples per expectation")
    instances: int = Field(default=3, ge=1, le=10, description="random instances per step")


# -- dynamics ----------------------------------------------------------------------------------


Claim = Literal["converges", "does-not-converge", "circles", "diverges", "inconclusive"]


class DynamicsPart(PartBase):
    kind: Literal["dynamics"]
    mode: Literal["field", "jacobian", "stationary", "stability"]
    system: str = Field(description="the name of a system declared under [systems]")
    systems: dict[str, SystemDecl] = Field(default_factory=dict, description="defaults to the rubric's [systems] table")
    rtol: float = Field(default=1e-5, gt=0)
    atol: float = Field(default=1e-7, ge=0)
    starts: list[list[float]] = Field(
        default_factory=list, description="stability: starting points; default three seeded points at distance 0.1 from the equilibrium"
    )
    horizon: float = Field(default=HORIZON, gt=0, le=3200, description="stability: integration time")
    answer: str | None = Field(default=None, description="stability: id of the correct option")
    options: list[ChoiceOption] = Field(default_factory=list, description="stability: the claims a student can make, read by meaning (see choice parts)")
    claims: dict[str, Claim] = Field(
        default_factory=dict, description="stability: what each option says the flow does (converges, does-not-converge, ...)"
    )
    about: list[str] = Field(default_factory=list, description="stability: phrases naming the situation asked about (see choice parts)")
    scope: str | None = Field(default=None, description="advanced: a regex selecting the paragraphs to read (prefer 'about')")

    @model_validator(mode="after")
    def _consistent(self) -> DynamicsPart:
        if self.system not in self.systems:
            raise ValueError(f"system {self.system!r} is not declared; declare it under [systems.{self.system}]")
        if self.mode == "stability":
            ids = [o.id for o in self.options]
            if len(ids) < 2 or self.answer not in ids:
                raise ValueError("a stability part needs 'options' (at least two) and an 'answer' naming one of them")
            missing = [i for i in ids if i not in self.claims]
            if missing:
                raise ValueError(f"'claims' must say what each option claims; missing: {', '.join(missing)}")
            check_options(self.options, self.answer, self.mistakes, {})
        elif not self.target:
            raise ValueError(f"mode {self.mode!r} needs a 'target' (what the answer states, e.g. 'J^*')")
        return self

    def as_choice(self) -> ChoicePart:
        assert self.answer is not None
        return ChoicePart(
            kind="choice",
            id=self.id,
            title=self.title,
            points=self.points,
            feedback_correct=self.feedback_correct,
            feedback_incorrect=self.feedback_incorrect,
            mistakes=self.mistakes,
            answer=self.answer,
            options=self.options,
            about=self.about,
            scope=self.scope,
        )


# -- divergence --------------------------------------------------------------------------------


class DivergencePart(PartBase):
    kind: Literal["divergence"]
    divergence: Literal["jsd", "kl"] = "jsd"
    between: tuple[str, str] = Field(default=("p_0", "p_1"), description="the two declared densities, in order")
    definitions: dict[str, str] = Field(default_factory=dict, description="e.g. {'D^*(x)' = '\\frac{p_1(x)}{p_0(x)+p_1(x)}'}")
    maximizers: dict[str, str] = Field(default_factory=dict, description="e.g. {D = 'D^*'}: max_D V(D) is read as V(D*)")
    scalars: list[str] = Field(default_factory=list, description="names that are plain scalars in this question")
    random: dict[str, RandomDecl] = Field(default_factory=dict, description="defaults to the rubric's [random] table")
    instances: int = Field(default=3, ge=1, le=10, description="pairs of densities to compare on")
    rtol: float = Field(default=1e-6, gt=0)
    atol: float = Field(default=1e-8, ge=0)
