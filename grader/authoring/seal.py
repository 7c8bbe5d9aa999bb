"""Sealing a rubric: the copy students get, which checks answers but does not contain them.

``grader rubric seal DIR -o a3.sealed.json`` writes the rubric with every part turned into its
sealed kind (see grader/checking/sealed_*.py): references, alternatives and the mistakes'
answers become fingerprints; the correct option of a choice becomes a salted hash; feedback
that explains the answer is sealed under the answer; rubric tests (which hold answers),
reviewer guidance and the expected steps of proofs are dropped. ``feedback_incorrect`` hints
and phrase-matched mistakes of proofs are dropped too unless ``keep_hints`` (they often state
the method or the result). Questions, prompts, targets, points and symbols stay.

Simulated systems (``dynamics`` parts) are run now: their Jacobian, field and equilibrium become
fingerprints and a stability claim a sealed choice, so the rubric's ``[systems]`` table (whose
field is an answer) is not copied. Proofs (``derivation``) are sealed like ``manual``. A kind with
no sealed form (``divergence``: its definitions state another part's answer) is left for the
instructor, with a note.

The file is JSON: ``{"format": ..., "rubric": <the Rubric model>}``; ``load_rubric`` reads it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from grader._internal.secretbox import KdfParams
from grader.checking.registry import SEALED_KINDS
from grader.checking.sealed_choice import seal_choice
from grader.checking.sealed_manual import seal_manual
from grader.checking.sealed_math import (
    FormToSeal,
    Sealer,
    Unsealable,
    evaluation_table,
    random_functions,
    uses_undefined_function,
)
from grader.grading.pipeline import derive_seed
from grader.math.equivalence import items_of, unwrap
from grader.math.evaluate import EvalError, Evaluator, Mat, Value, describe
from grader.math.forms import names_of
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import MatrixLit, Node, ParseError, Seq
from grader.rubric.load import SEALED_FORMAT
from grader.rubric.models import AnyPart, Question, Rubric
from grader.rubric.parts import ChoicePart, ManualPart, Mistake, NumericPart, SymbolicPart
from grader.rubric.sealed import SealedForm, SealedManualPart, SealedMathPart, SealedMistake

#: Kinds that are proofs: sealed as parts a person grades, like ``manual``.
PROOF_KINDS = frozenset({"manual", "derivation"})
#: Rubric tables a sealed rubric keeps; any other (simulated systems, random variables) is reset
#: to empty, since it may state an answer and only kinds without a sealed form use it.
KEPT_TABLES = frozenset({"assignment", "settings", "dimensions", "symbols", "questions"})
NOTE = (
    "Sealed by grader: checks answers without containing them. Reference answers are replaced "
    "by fingerprints; keep the open rubric (rubric.toml) to grade."
)


@dataclass(frozen=True)
class SealNote:
    """Something the instructor should know about one part of the sealed rubric."""

    question: str
    part: str
    message: str

    def line(self) -> str:
        return f"question {self.question}, part {self.part}: {self.message}"


def seal_rubric(
    rubric: Rubric, *, secret: bytes | None = None, keep_hints: bool = False, kdf: KdfParams | None = None
) -> tuple[Rubric, list[SealNote]]:
    """The sealed rubric and notes on what could not be sealed.

    ``secret`` seeds the salts and the sample points (random when None); the same secret gives
    the same file, which tests use. ``kdf`` sets scrypt's cost (the default costs a guess about
    0.1 s of one core).
    """
    secret = secrets.token_bytes(32) if secret is None else secret
    notes: list[SealNote] = []
    scrubber = Scrubber.of(rubric)
    questions = []
    for question in rubric.questions:
        parts = [
            _seal_part(
                _Job(rubric, question, part, _salt(secret, question.id, part.id), keep_hints, notes, scrubber, kdf or KdfParams()),
            )
            for part in question.parts
        ]
        questions.append(question.model_copy(update={"parts": parts}))
    update: dict[str, object] = {
        name: field.get_default(call_default_factory=True) for name, field in Rubric.model_fields.items() if name not in KEPT_TABLES
    }
    update.update(questions=questions, settings=rubric.settings.model_copy(update={"show_reference": False}))
    sealed = rubric.model_copy(update=update)
    return Rubric.model_validate(sealed.model_dump(mode="json")), notes


def sealed_json(rubric: Rubric) -> str:
    """The file's text: stable key order, UTF-8 kept readable (prompts and feedback)."""
    payload = {"format": SEALED_FORMAT, "note": NOTE, "rubric": rubric.model_dump(mode="json", exclude_none=True)}
    return json.dumps(payload, ensure_ascii=False, indent=1) + "\n"


def is_sealed(rubric: Rubric) -> bool:
    return all(part.kind in SEALED_KINDS for question in rubric.questions for part in question.parts)


def _salt(secret: bytes, question_id: str, part_id: str) -> str:
    return hashlib.sha256(secret + f"\x1f{question_id}\x1f{part_id}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------
# Feedback that states an answer


WITHHELD = "(The explanation is withheld in the sealed rubric: it states an answer. Your instructor's report has it.)"


def normal_text(text: str) -> str:
    """Text and LaTeX brought to one spelling: ``\\frac{1-p}{p}``, ``(1 − p)/p`` and ``(1-p) / p`` agree."""
    text = unicodedata.normalize("NFKC", text)
    for old, new in (("−", "-"), ("⁄", "/"), ("·", ""), ("×", "*"), ("\\left", ""), ("\\right", ""), ("\\cdot", ""), ("\\,", ""), ("$", "")):
        text = text.replace(old, new)
    for _ in range(3):
        text = re.sub(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", text)
    return re.sub(r"[\s{}_]", "", text).lower()


@dataclass(frozen=True)
class Scrubber:
    """Every spelling of every reference answer of the rubric, by part, to find them in feedback."""

    answers: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, rubric: Rubric) -> Scrubber:
        table = rubric.symbol_table
        found: dict[tuple[str, str], frozenset[str]] = {}
        for question in rubric.questions:
            for part in question.parts:
                texts = set(_answer_spellings(part, rubric, question, table))
                found[(question.id, part.id)] = frozenset(t for t in texts if len(t) >= 3)
        return cls(found)

    def states_answer(self, text: str, *, own: tuple[str, str] | None = None) -> bool:
        """Whether ``text`` states a reference answer of any part other than ``own``."""
        squashed = normal_text(text)
        return any(where != own and any(a in squashed for a in answers) for where, answers in self.answers.items())

    def clean(self, text: str, *, own: tuple[str, str] | None = None) -> str:
        return WITHHELD if text and self.states_answer(text, own=own) else text


def _answer_spellings(part: AnyPart, rubric: Rubric, question: Question, table: SymbolTable) -> Iterator[str]:
    formulas: list[str] = []
    if isinstance(part, SymbolicPart):
        formulas += [part.reference, *part.alternatives]
    elif isinstance(part, NumericPart):
        formulas.append(part.reference)
    for formula in formulas:
        yield normal_text(formula)
        parsed = parse_latex(formula, table)
        if isinstance(parsed, ParseError):
            continue
        for node in _pieces(parsed.tree):
            yield normal_text(describe(node, 400))
    if part.kind == "dynamics":
        yield from _simulated_spellings(part, rubric, question, table)


def _pieces(tree: Node) -> Iterator[Node]:
    """The whole answer and each value it is made of (entries, items, components)."""
    tree = unwrap(tree)
    yield tree
    if isinstance(tree, MatrixLit):
        yield from (entry for row in tree.rows for entry in row)
    elif isinstance(tree, Seq):
        for item in tree.items:
            yield from _pieces(item)
    else:
        try:
            items = items_of(tree)
        except EvalError:
            return
        if len(items) > 1:
            yield from items


def _simulated_spellings(part: AnyPart, rubric: Rubric, question: Question, table: SymbolTable) -> Iterator[str]:
    """A simulated Jacobian's entries and equilibrium, as fractions and decimals."""
    from grader.rubric.parts import DynamicsPart
    from grader.simulation.dynamics import finite_difference_jacobian, parameter_sets, parse_system

    assert isinstance(part, DynamicsPart)
    if part.mode not in ("jacobian", "stationary"):
        return
    try:
        system = parse_system(part.systems[part.system], table)
        seed = derive_seed(rubric.assignment.id, rubric.settings.seed, question.id, part.id)
        params = parameter_sets(system, np.random.default_rng(seed))
        numbers = list(np.ravel(finite_difference_jacobian(system, system.equilibrium, params[0]))) if part.mode == "jacobian" else list(system.equilibrium)
    except (ValueError, KeyError, EvalError):
        return
    for x in numbers:
        fraction = Fraction(float(x)).limit_denominator(24)
        if x != 0 and abs(float(fraction) - x) <= 1e-6 * abs(x):
            yield normal_text(str(fraction))
            yield normal_text(f"{float(fraction):g}")


# ---------------------------------------------------------------------------------------------
# Parts


@dataclass(frozen=True)
class _Job:
    """One part to seal, with what sealing it needs."""

    rubric: Rubric
    question: Question
    part: AnyPart
    salt: str
    keep_hints: bool
    notes: list[SealNote]
    scrubber: Scrubber
    kdf: KdfParams

    def note(self, message: str) -> None:
        self.notes.append(SealNote(self.question.id, self.part.id, message))

    @property
    def where(self) -> tuple[str, str]:
        return (self.question.id, self.part.id)

    @property
    def table(self) -> SymbolTable:
        return self.rubric.symbol_table

    @property
    def seed(self) -> int:
        """The seed the pipeline gives this part, so simulated references match the open check."""
        return derive_seed(self.rubric.assignment.id, self.rubric.settings.seed, self.question.id, self.part.id)

    def scrubbed(self, part: AnyPart) -> AnyPart:
        """The part with every feedback that states an answer withheld (``feedback_correct`` may
        state its own part's answer: only a right answer opens it)."""
        clean = self.scrubber.clean
        mistakes = [m.model_copy(update={"feedback": clean(m.feedback)}) for m in part.mistakes]
        return part.model_copy(
            update={
                "mistakes": mistakes,
                "feedback_correct": clean(part.feedback_correct, own=self.where if part.kind in MATH_PART_KINDS else None),
                "feedback_incorrect": clean(part.feedback_incorrect) if self.keep_hints else "",
            }
        )


MATH_PART_KINDS = frozenset({"symbolic", "numeric", "dynamics"})


def _seal_part(job: _Job) -> AnyPart:
    part = job.part
    if part.kind in SEALED_KINDS:
        return part
    part = job.scrubbed(part)
    if isinstance(part, SymbolicPart | NumericPart):
        return _seal_math(job, part)
    if isinstance(part, ChoicePart):
        return seal_choice(part, job.salt, kdf=job.kdf)
    if isinstance(part, ManualPart) or part.kind in PROOF_KINDS:
        return seal_manual(part, keep_hints=job.keep_hints)
    if part.kind == "dynamics":
        sealed = _seal_dynamics(job, part)
        if sealed is not None:
            return sealed
    # A kind with no sealed form (its fields may hold the answer): the instructor checks it.
    job.note(f"kind {part.kind!r} has no sealed form; it is left for the instructor")
    return seal_manual(part, keep_hints=False, proof=False)


def _parse(text: str, table: SymbolTable) -> Node:
    parsed = parse_latex(text, table)
    if isinstance(parsed, ParseError):
        raise Unsealable(f"{text!r} does not parse: {parsed.message}")
    return parsed.tree


def _base(job: _Job, part: AnyPart, rtol: float, atol: float) -> dict[str, object]:
    return {
        "kind": "sealed-math",
        "id": part.id,
        "title": part.title,
        "points": part.points,
        "target": part.target,
        "feedback_incorrect": part.feedback_incorrect,
        "rtol": rtol,
        "atol": atol,
        "salt": job.salt,
        "kdf": job.kdf.model_dump(),
        # what makes a formula the answer: the same in the sealed copy (issue 12)
        "targets": list(getattr(part, "targets", [])),
        "final_form": getattr(part, "final_form", True),
        "given": list(getattr(part, "given", [])),
    }


def _seal_math(job: _Job, part: SymbolicPart | NumericPart) -> SealedMathPart | SealedManualPart:
    table = job.table
    if part.up_to is not None:  # values at stored points cannot say "up to a constant" (issue 12)
        reason = f"the part compares up to {'a ' if part.up_to != 'constants' else 'the arbitrary '}{part.up_to}"
        job.note(f"left for the instructor: {reason}")
        return seal_manual(part, keep_hints=False, proof=False)
    references = [part.reference, *(part.alternatives if isinstance(part, SymbolicPart) else [])]
    try:
        accepted = [(text, _parse(text, table)) for text in references]
    except Unsealable as error:
        job.note(f"left for the instructor: {error.reason}")
        return SealedMathPart.model_validate({**_base(job, part, part.rtol, part.atol), "unsealed": error.reason})
    mistakes: list[tuple[Mistake, Node]] = []
    for mistake in part.mistakes:
        if mistake.answer is None:
            continue
        try:
            mistakes.append((mistake, _parse(mistake.answer, table)))
        except Unsealable as error:
            job.note(f"mistake {mistake.id!r} dropped: {error.reason}")
    trees = [tree for _, tree in accepted] + [tree for _, tree in mistakes]
    functions = random_functions(table, job.salt) if uses_undefined_function(trees, table) else {}
    sealer = Sealer(evaluation_table(table, functions), job.salt, part.rtol, part.atol, job.kdf)
    forms = [FormToSeal({"latex": text, "feedback": part.feedback_correct}, tree) for text, tree in accepted]
    forms += [FormToSeal({"latex": m.answer, "id": m.id, "feedback": m.feedback}, tree) for m, tree in mistakes]
    try:
        return _assemble(job, part, sealer, forms, functions, len(accepted), [m for m, _ in mistakes])
    except Unsealable as error:
        job.note(f"left for the instructor: {error.reason}")
        return SealedMathPart.model_validate({**_base(job, part, part.rtol, part.atol), "unsealed": error.reason})


def _assemble(
    job: _Job,
    part: AnyPart,
    sealer: Sealer,
    forms: list[FormToSeal],
    functions: dict[str, str],
    accepted_count: int,
    mistakes: list[Mistake],
    points: list[dict[str, Value]] | None = None,
) -> SealedMathPart:
    """Gates and boxes for the forms; a form that cannot be evaluated is matched as its exact
    formula, and a mistake that cannot be sealed either way is dropped."""
    try:
        gates, boxes = sealer.seal(forms, points)
    except Unsealable as error:
        forms = _fallback(job, sealer, forms, accepted_count, mistakes, points, error)
        gates, boxes = sealer.seal(forms, points)
    if any(gates[gate].layout.form == "formula" for gate, _ in boxes[:accepted_count]) and not any(n.part == part.id and n.question == job.question.id for n in job.notes):
        job.note("only answers written exactly like the reference are recognised: it is an equation or a form only the open rubric can compare")
    accepted = [SealedForm(gate=gate, box=box) for gate, box in boxes[:accepted_count]]
    recognised = [
        SealedMistake(ref=f"m{index}", points=mistake.points, gate=gate, box=box)
        for index, (mistake, (gate, box)) in enumerate(zip(mistakes, boxes[accepted_count:], strict=True))
    ]
    rtol, atol = getattr(part, "rtol", 1e-6), getattr(part, "atol", 1e-9)
    return SealedMathPart.model_validate(
        {
            **_base(job, part, rtol, atol),
            "functions": functions,
            "gates": [gate.model_dump() for gate in gates],
            "accepted": [form.model_dump() for form in accepted],
            "recognised": [m.model_dump() for m in recognised],
            "names": sorted(names_of(form.tree for form in forms[:accepted_count] if form.tree is not None)),
        }
    )


def _fallback(
    job: _Job,
    sealer: Sealer,
    forms: list[FormToSeal],
    accepted_count: int,
    mistakes: list[Mistake],
    points: list[dict[str, Value]] | None,
    error: Unsealable,
) -> list[FormToSeal]:
    """Forms that cannot be sealed by value alone become exact-formula forms."""
    out = []
    for index, form in enumerate(forms):
        try:
            sealer.seal([form], points)
            out.append(form)
            continue
        except Unsealable as own:
            reason = own.reason
        if form.tree is None:
            raise Unsealable(reason)
        if index < accepted_count:
            job.note(f"only answers written exactly like the reference are recognised: {reason}")
        else:
            job.note(f"mistake {mistakes[index - accepted_count].id!r} is recognised only when written exactly so: {reason}")
        out.append(FormToSeal(form.payload, form.tree, structural=True))
    if out == forms:
        raise error
    return out


# ---------------------------------------------------------------------------------------------
# Dynamics parts: the declared system is the reference, so the simulation is run now


def _seal_dynamics(job: _Job, part: AnyPart) -> AnyPart | None:
    """Field, Jacobian and stationary points become sealed formulas; stability a sealed choice.

    The Jacobian is the one the open check computes (central differences of the declared field
    at the equilibrium, for the same parameter values): its box holds those values at the stored
    parameter points. Stationary points are checked against the declared equilibrium; a stability
    claim is right when it claims what the rubric's answer claims. None when the part cannot be
    sealed (the instructor then checks it).
    """
    from grader.rubric.parts import DynamicsPart  # the simulation modules load only when needed
    from grader.simulation.dynamics import finite_difference_jacobian, parameter_sets, parse_system

    assert isinstance(part, DynamicsPart)
    if part.mode == "stability":
        if part.answer is None or part.claims.get(part.answer) in (None, "inconclusive"):
            return None
        right = [o.id for o in part.options if part.claims.get(o.id) == part.claims[part.answer]]
        return seal_choice(part.as_choice(), job.salt, also=[o for o in right if o != part.answer], kdf=job.kdf)
    try:
        system = parse_system(part.systems[part.system], job.table)
        params = parameter_sets(system, np.random.default_rng(job.seed))
    except (ValueError, KeyError, EvalError):
        return None
    sealer = Sealer(job.table, job.salt, part.rtol, part.atol, job.kdf)
    state = {name: complex(x) for name, x in zip(system.variables, system.equilibrium, strict=True)}
    points: list[dict[str, Value]] = [{**state, **{k: complex(v) for k, v in p.items()}} for p in params]
    mistakes = [(m, _parse(m.answer, job.table)) for m in part.mistakes if m.answer is not None and not isinstance(parse_latex(m.answer, job.table), ParseError)]
    try:
        if part.mode == "jacobian":
            k = len(system.variables)
            references = [Mat(finite_difference_jacobian(system, system.equilibrium, p).astype(np.complex128), (k, k)) for p in params]
            forms = [FormToSeal({"values": _matrices(references), "feedback": part.feedback_correct}, values=tuple(references))]
            for mistake, tree in mistakes:
                values = tuple(_matrix_at(tree, point, job.table) for point in points)
                forms.append(FormToSeal({"values": _matrices(values), "id": mistake.id, "feedback": mistake.feedback}, values=values))
            return _assemble(job, part, sealer, forms, {}, 1, [m for m, _ in mistakes], points)
        if part.mode == "stationary":
            job.note("stationary points are checked against the declared equilibrium only")
            latex = "(" + ", ".join(np.format_float_positional(float(x), trim="-") for x in system.equilibrium) + ")"
        else:
            latex = part.systems[part.system].field
        forms = [FormToSeal({"latex": latex, "feedback": part.feedback_correct}, _parse(latex, job.table))]
        forms += [FormToSeal({"latex": m.answer, "id": m.id, "feedback": m.feedback}, tree) for m, tree in mistakes]
        return _assemble(job, part, sealer, forms, {}, 1, [m for m, _ in mistakes])
    except Unsealable as error:
        job.note(f"left for the instructor: {error.reason}")
        return None


def _matrix_at(tree: Node, point: dict[str, Value], table: SymbolTable) -> Mat:
    try:
        value = Evaluator(table, point, in_matrix_context=True).eval(tree)
    except EvalError as error:
        raise Unsealable(f"a mistake has no value at the equilibrium: {error.reason}") from None
    if not isinstance(value, Mat):
        raise Unsealable("a mistake is not a matrix")
    return value


def _matrices(values: tuple[Value, ...] | list[Mat]) -> list[list[list[float | list[float]]]]:
    out = []
    for value in values:
        assert isinstance(value, Mat)
        out.append([[float(z.real) if z.imag == 0 else [float(z.real), float(z.imag)] for z in row] for row in value.a])
    return out
