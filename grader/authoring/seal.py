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
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from grader.checking.registry import SEALED_KINDS
from grader.checking.sealed_choice import seal_choice
from grader.checking.sealed_manual import seal_manual
from grader.checking.sealed_math import (
    SealEnv,
    Unsealable,
    choose_key_point,
    encode_point,
    evaluation_table,
    fingerprint,
    random_functions,
    seal_text,
    structural_print,
    value_sample,
)
from grader.grading.pipeline import derive_seed
from grader.math.evaluate import EvalError, Mat, Value
from grader.math.latex import parse_latex
from grader.math.symbols import FunctionSymbol, SymbolTable
from grader.math.tree import Call, Node, Num, ParseError, Seq, walk
from grader.rubric.load import SEALED_FORMAT
from grader.rubric.models import AnyPart, Question, Rubric
from grader.rubric.parts import ChoicePart, ManualPart, Mistake, NumericPart, SymbolicPart
from grader.rubric.sealed import (
    AnyPrint,
    KeyPoint,
    Sample,
    SealedForm,
    SealedMathPart,
    SealedMistake,
    StructuralPrint,
    ValuesPrint,
)

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


def seal_rubric(rubric: Rubric, *, secret: bytes | None = None, keep_hints: bool = False) -> tuple[Rubric, list[SealNote]]:
    """The sealed rubric and notes on what could not be fingerprinted.

    ``secret`` seeds the salts and the sample points (random when None); the same secret gives
    the same file, which tests use.
    """
    secret = secrets.token_bytes(32) if secret is None else secret
    notes: list[SealNote] = []
    questions = []
    for question in rubric.questions:
        parts = [
            _seal_part(
                _Job(rubric, question, part, _salt(secret, question.id, part.id), keep_hints, notes),
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


@dataclass(frozen=True)
class _Job:
    """One part to seal, with what sealing it needs."""

    rubric: Rubric
    question: Question
    part: AnyPart
    salt: str
    keep_hints: bool
    notes: list[SealNote]

    def note(self, message: str) -> None:
        self.notes.append(SealNote(self.question.id, self.part.id, message))

    @property
    def table(self) -> SymbolTable:
        return self.rubric.symbol_table

    @property
    def seed(self) -> int:
        """The seed the pipeline gives this part, so simulated references match the open check."""
        return derive_seed(self.rubric.assignment.id, self.rubric.settings.seed, self.question.id, self.part.id)


@dataclass(frozen=True)
class _Form:
    """An accepted form or a mistake: its fingerprint and what its box's key comes from."""

    fingerprint: AnyPrint
    tree: Node | None = None
    value: Value | None = None


def _seal_part(job: _Job) -> AnyPart:
    part = job.part
    if part.kind in SEALED_KINDS:
        return part
    if isinstance(part, SymbolicPart | NumericPart):
        return _seal_math(job)
    if isinstance(part, ChoicePart):
        return seal_choice(part, job.salt)
    if isinstance(part, ManualPart) or part.kind in PROOF_KINDS:
        return seal_manual(part, keep_hints=job.keep_hints)
    if part.kind == "dynamics":
        sealed = _seal_dynamics(job)
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


def _uses_undefined_function(trees: list[Node], table: SymbolTable) -> bool:
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Call):
                decl = table.get(node.func)
                if isinstance(decl, FunctionSymbol) and decl.definition is None:
                    return True
    return False


def _base(job: _Job, rtol: float, atol: float) -> dict[str, object]:
    part = job.part
    return {
        "kind": "sealed-math",
        "id": part.id,
        "title": part.title,
        "points": part.points,
        "target": part.target,
        "feedback_incorrect": part.feedback_incorrect if job.keep_hints else "",
        "rtol": rtol,
        "atol": atol,
        "salt": job.salt,
    }


def _seal_math(job: _Job) -> SealedMathPart:
    part = job.part
    assert isinstance(part, SymbolicPart | NumericPart)
    table = job.table
    references = [part.reference, *(part.alternatives if isinstance(part, SymbolicPart) else [])]
    try:
        accepted = [_parse(text, table) for text in references]
    except Unsealable as error:
        job.note(f"left for the instructor: {error.reason}")
        return SealedMathPart.model_validate({**_base(job, part.rtol, part.atol), "unsealed": error.reason})
    parsed = [parse_latex(m.answer, table) for m in part.mistakes if m.answer is not None]
    trees = accepted + [p.tree for p in parsed if not isinstance(p, ParseError)]
    functions = random_functions(table, job.salt) if _uses_undefined_function(trees, table) else {}
    env = SealEnv(evaluation_table(table, functions), job.salt, part.rtol, part.atol)
    return _assemble(job, env, part.rtol, part.atol, functions, _tree_forms(job, env, accepted), _mistake_forms(job, env))


def _tree_forms(job: _Job, env: SealEnv, accepted: list[Node]) -> list[_Form]:
    try:
        return [_Form(fingerprint(tree, env, f"a{k}"), tree) for k, tree in enumerate(accepted)]
    except Unsealable as error:
        # One accepted form that cannot be evaluated: only the exact formulas are recognised,
        # and anything else is left for the instructor (never called wrong).
        job.note(f"only answers written exactly like the reference are recognised: {error.reason}")
        return [_Form(structural_print(tree, env, f"a{k}"), tree) for k, tree in enumerate(accepted)]


def _mistake_forms(
    job: _Job, env: SealEnv, print_at: Callable[[Node, str], AnyPrint] | None = None
) -> list[tuple[Mistake, _Form]]:
    out = []
    for index, mistake in enumerate(job.part.mistakes):
        if mistake.answer is None:
            continue
        try:
            tree = _parse(mistake.answer, job.table)
        except Unsealable as error:
            job.note(f"mistake {mistake.id!r} dropped: {error.reason}")
            continue
        label = f"m{index}"
        try:
            out.append((mistake, _Form(print_at(tree, label) if print_at else fingerprint(tree, env, label), tree)))
        except Unsealable as error:
            job.note(f"mistake {mistake.id!r} is recognised only when written exactly so: {error.reason}")
            out.append((mistake, _Form(structural_print(tree, env, label), tree)))
    return out


def _assemble(
    job: _Job,
    env: SealEnv,
    rtol: float,
    atol: float,
    functions: dict[str, str],
    forms: list[_Form],
    mistakes: list[tuple[Mistake, _Form]],
    point: dict[str, Value] | None = None,
) -> SealedMathPart:
    """The sealed part: fingerprints, and each form's feedback sealed under its value at a key point."""
    part = job.part
    evaluable = [f.tree for f in (*forms, *(form for _, form in mistakes)) if f.tree is not None and not isinstance(f.fingerprint, StructuralPrint)]
    if point is None:
        point = choose_key_point(evaluable, env) if evaluable else {}
    if point is None:
        job.note("no point gives every form a value; feedback unlocks only for exact formulas")

    def box(form: _Form, text: str, name: str) -> str | None:
        if not text:
            return None
        return seal_text(env, form.tree, point, text, name, value=form.value)

    accepted = [SealedForm(fingerprint=f.fingerprint, box=box(f, part.feedback_correct, f"a{k}")) for k, f in enumerate(forms)]
    recognised = []
    for index, (mistake, form) in enumerate(mistakes):
        text = json.dumps({"id": mistake.id, "feedback": mistake.feedback}, ensure_ascii=False)
        recognised.append(SealedMistake(ref=f"m{index}", points=mistake.points, fingerprint=form.fingerprint, box=box(form, text, f"m{index}")))
    return SealedMathPart.model_validate(
        {
            **_base(job, rtol, atol),
            "functions": functions,
            "accepted": [form.model_dump() for form in accepted],
            "recognised": [m.model_dump() for m in recognised],
            "key": KeyPoint(at=encode_point(point)).model_dump() if point else None,
        }
    )


# ---------------------------------------------------------------------------------------------
# Dynamics parts: the declared system is the reference, so the simulation is run now


def _seal_dynamics(job: _Job) -> AnyPart | None:
    """Field, Jacobian and stationary points become sealed formulas; stability a sealed choice.

    The Jacobian is the one the open check computes (central differences of the declared field
    at the equilibrium, for the same parameter values); stationary points are checked against
    the declared equilibrium; a stability claim is right when it claims what the rubric's answer
    claims. None when the part cannot be sealed (the instructor then checks it).
    """
    from grader.rubric.parts import DynamicsPart  # the simulation modules load only when needed
    from grader.simulation.dynamics import finite_difference_jacobian, parameter_sets, parse_system

    part = job.part
    assert isinstance(part, DynamicsPart)
    if part.mode == "stability":
        if part.answer is None or part.claims.get(part.answer) in (None, "inconclusive"):
            return None
        right = [o.id for o in part.options if part.claims.get(o.id) == part.claims[part.answer]]
        return seal_choice(part.as_choice(), job.salt, also=[o for o in right if o != part.answer])
    try:
        system = parse_system(part.systems[part.system], job.table)
        params = parameter_sets(system, np.random.default_rng(job.seed))
    except (ValueError, KeyError, EvalError):
        return None
    env = SealEnv(job.table, job.salt, part.rtol, part.atol)
    state = {name: complex(x) for name, x in zip(system.variables, system.equilibrium, strict=True)}
    points: list[dict[str, Value]] = [{**state, **{k: complex(v) for k, v in p.items()}} for p in params]
    try:
        if part.mode == "jacobian":
            k = len(system.variables)
            references = [Mat(finite_difference_jacobian(system, system.equilibrium, p).astype(np.complex128), (k, k)) for p in params]
            samples = [
                Sample(at=encode_point(pt), value=env.hashed(ref, f"a0#{i}", per_entry=True)) for i, (pt, ref) in enumerate(zip(points, references, strict=True))
            ]
            jacobian = ValuesPrint(label="a0", matrix_context=True, literal=True, samples=samples)

            def at_points(tree: Node, label: str) -> AnyPrint:
                found = [value_sample(tree, pt, env, True, f"{label}#{i}", per_entry=True) for i, pt in enumerate(points)]
                if any(s is None for s in found):
                    raise Unsealable("it has no value at the equilibrium")
                return ValuesPrint(label=label, matrix_context=True, literal=True, samples=[s for s in found if s is not None])

            forms = [_Form(jacobian, value=references[0])]
            return _assemble(job, env, part.rtol, part.atol, {}, forms, _mistake_forms(job, env, at_points), point=points[0])
        if part.mode == "stationary":
            job.note("stationary points are checked against the declared equilibrium only")
            tree: Node = Seq(tuple(Num(repr(float(x))) for x in system.equilibrium), "tuple")
        else:
            tree = _parse(part.systems[part.system].field, job.table)
        return _assemble(job, env, part.rtol, part.atol, {}, _tree_forms(job, env, [tree]), _mistake_forms(job, env))
    except Unsealable as error:
        job.note(f"left for the instructor: {error.reason}")
        return None
