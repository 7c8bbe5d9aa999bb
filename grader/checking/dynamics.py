"""Claims about a declared dynamical system, checked by running the system.

One kind, four modes, because they share the system and its parameters:

- ``field``: the student's vector field against the declared one at random points;
- ``jacobian``: the student's Jacobian against central finite differences of the declared field
  at the equilibrium (no hand-derived reference to get wrong);
- ``stationary``: the claimed stationary point(s), by evaluating the field there;
- ``stability``: the claim (read like a ``choice``: options with example statements) against the behaviour of
  the ODE integrated from starts near the equilibrium; the simulation's sentence is the evidence.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from grader.answers.extract import extract
from grader.answers.models import Answer, Extraction
from grader.checking.base import CheckContext, Checker, LintContext, result
from grader.checking.choice import ChoiceChecker
from grader.checking.result import PartResult
from grader.errors import Problem
from grader.math.evaluate import (
    BatchEvaluator,
    BMat,
    EvalError,
    NotEvaluable,
    Undefined,
    as_batch,
    format_value,
    pretty_name,
)
from grader.math.latex import parse_latex
from grader.math.tree import Node, ParseError, Seq
from grader.rubric.parts import Claim, DynamicsPart, Mistake
from grader.simulation.dynamics import (
    FD_STEP,
    System,
    Trajectory,
    evaluate_vector,
    finite_difference_jacobian,
    parameter_sets,
    parse_system,
    point_text,
    simulate,
    vector_nodes,
)

_CONSISTENT: dict[Claim, frozenset[str]] = {
    "converges": frozenset({"converges"}),
    "does-not-converge": frozenset({"circles", "stays", "diverges"}),
    "circles": frozenset({"circles"}),
    "diverges": frozenset({"diverges"}),
    "inconclusive": frozenset(),
}
_FIELD_POINTS = 8
_START_RADIUS = 0.1


class DynamicsChecker(Checker[DynamicsPart]):
    kind = "dynamics"
    part_model = DynamicsPart

    def lint(self, part: DynamicsPart, ctx: LintContext) -> list[Problem]:
        problems: list[Problem] = []

        def add(field: str, message: str, fix: str) -> None:
            problems.append(Problem(code="rubric.system_invalid", message=message, file=ctx.file, question=ctx.question_id, part=part.id, field=field, fix=fix))

        try:
            system = parse_system(part.systems[part.system], ctx.symbols)
        except ValueError as error:
            add(f"systems.{part.system}.field", str(error), "write the field as \\begin{pmatrix} … \\end{pmatrix}, one row per variable")
            return problems
        try:
            value = evaluate_vector(system.components, system.variables, system.equilibrium[None, :], _first(system), ctx.symbols)
        except (EvalError, ValueError) as error:
            add(f"systems.{part.system}", f"the field cannot be evaluated at the equilibrium: {error}", "declare every name the field uses")
            return problems
        if np.max(np.abs(value)) > 1e-9:
            add(f"systems.{part.system}.equilibrium", "the field is not zero at the declared equilibrium", "give the point where the field vanishes")
        for mistake in part.mistakes:
            if mistake.answer is not None and isinstance(parse_latex(mistake.answer, ctx.symbols), ParseError):
                add(f"mistakes.{mistake.id}.answer", f"{mistake.answer!r} does not parse", "write the wrong form in LaTeX")
        if part.mode == "stability":
            problems += ChoiceChecker().lint(part.as_choice(), ctx)
        return problems

    def check(self, part: DynamicsPart, answer: Answer, ctx: CheckContext) -> PartResult:
        system = parse_system(part.systems[part.system], ctx.symbols)
        rng = np.random.default_rng(ctx.seed)
        try:
            params = parameter_sets(system, rng)
        except NotEvaluable as error:
            return result(part, self.kind, verdict="undecided", method="simulation", reasons=[error.reason])
        if part.mode == "stability":
            return self._stability(part, answer, ctx, system, params, rng)
        extraction = extract(answer, part.target, part_id=part.id)
        if extraction.latex is None:
            return result(
                part, self.kind, verdict="undecided", method="none", extracted=extraction,
                reasons=["no formula was found in the answer"],
                feedback=[f"No formula was found; write the result as an equation, e.g. $ {part.target} = \\dots $."],
            )  # fmt: skip
        parsed = parse_latex(extraction.latex, ctx.symbols)
        if isinstance(parsed, ParseError):
            return result(
                part, self.kind, verdict="undecided", method="parse", extracted=extraction,
                reasons=[f"the formula could not be read: {parsed.message}"],
                feedback=[f"grader could not read your formula: {parsed.message}"],
            )  # fmt: skip
        checks = {"field": _field, "jacobian": _jacobian, "stationary": _stationary}
        try:
            outcome = checks[part.mode](part, parsed.tree, system, params, rng)
        except EvalError as error:
            return result(part, self.kind, verdict="undecided", method=_METHODS[part.mode], extracted=extraction, reasons=[error.reason])
        return _finish(part, self.kind, outcome, extraction, ctx)

    def _stability(
        self, part: DynamicsPart, answer: Answer, ctx: CheckContext, system: System, params: list[dict[str, float]], rng: np.random.Generator
    ) -> PartResult:
        starts = [np.asarray(s, dtype=float) for s in part.starts] or _default_starts(system, rng)
        trajectories = simulate(system, starts, params, part.horizon)
        observed = _summary(trajectories)
        evidence: dict[str, Any] = {
            "method": "ODE simulation (scipy solve_ivp, LSODA)",
            "behaviour": observed,
            "trajectories": [
                {
                    "start": [float(x) for x in t.start],
                    "parameters": t.parameters,
                    "behaviour": t.behaviour,
                    "final_distance": float(f"{t.final_distance:.3g}"),
                    "t": t.horizon,
                    "evidence": t.sentence(system),
                }
                for t in trajectories
            ],
        }
        sentence = _evidence_sentence(trajectories, system, observed)
        assert part.answer is not None
        if part.claims[part.answer] == "inconclusive" or observed not in _CONSISTENT[part.claims[part.answer]]:
            return result(
                part, self.kind, verdict="undecided", method="simulation", evidence=evidence,
                reasons=[f"the simulation contradicts the rubric's answer ({part.answer}): {sentence}"],
            )  # fmt: skip
        read = ChoiceChecker().check(part.as_choice(), answer, ctx)
        chosen = read.evidence.get("chosen")
        evidence = {**read.evidence, **evidence}
        if read.verdict == "undecided" or not isinstance(chosen, str):
            return read.model_copy(update={"kind": self.kind, "evidence": evidence, "reasons": [*read.reasons, f"simulation: {sentence}"]})
        claim = part.claims[chosen]
        if read.verdict == "right":
            note = f"Confirmed by simulation: {sentence}."
        elif claim == "inconclusive":
            note = f"The simulation decides it: {sentence}."
        else:
            note = f"Contradicted by simulation: {sentence}."
        return read.model_copy(update={"kind": self.kind, "evidence": evidence, "feedback": [*read.feedback, note], "method": "simulation"})


_METHODS = {"field": "field at random points", "jacobian": "central finite differences", "stationary": "field at the point"}


class _Outcome:
    """What a formula mode found: a verdict, a sentence, a mistake, evidence."""

    def __init__(self, verdict: Literal["right", "wrong", "undecided"], detail: str, evidence: dict[str, Any], mistake: Mistake | None = None) -> None:
        self.verdict = verdict
        self.detail = detail
        self.evidence = evidence
        self.mistake = mistake


def _finish(part: DynamicsPart, kind: str, outcome: _Outcome, extraction: Extraction, ctx: CheckContext) -> PartResult:
    method = _METHODS[part.mode]
    evidence = {"method": method, **outcome.evidence}
    if outcome.verdict == "right":
        return result(part, kind, verdict="right", method=method, extracted=extraction, evidence=evidence, feedback=[outcome.detail])
    if outcome.verdict == "wrong" and extraction.how not in ("target_equation", "boxed") and outcome.mistake is None:
        return result(
            part, kind, verdict="undecided", method=method, extracted=extraction, evidence=evidence,
            reasons=[f"no equation of the form {part.target} = ... was found; {extraction.description}, and {outcome.detail}"],
            feedback=[f"State your result as an equation, $ {part.target} = \\dots $, so it can be checked."],
        )  # fmt: skip
    if outcome.verdict == "wrong":
        return result(
            part, kind, verdict="wrong", method=method, extracted=extraction, evidence=evidence, mistake=outcome.mistake,
            feedback=[outcome.detail],
        )  # fmt: skip
    return result(part, kind, verdict="undecided", method=method, extracted=extraction, evidence=evidence, reasons=[outcome.detail])


def _first(system: System) -> dict[str, float]:
    return {name: values[0] for name, values in system.parameters.items()} | {
        name: 0.5 for name in system.free_parameters
    }


def _params_text(params: dict[str, float]) -> str:
    return ", ".join(f"{pretty_name(k)} = {format_value(v, 3)}" for k, v in sorted(params.items()))


def _matrix_values(tree: Node, system: System, params: dict[str, float], point: np.ndarray) -> np.ndarray:
    """A concrete matrix (or vector) written by the student, with the state at ``point``."""
    values = {name: as_batch(point[k]) for k, name in enumerate(system.variables)}
    values.update({name: as_batch(v) for name, v in params.items()})
    value = BatchEvaluator(system.symbols, values, in_matrix_context=True).eval(tree)
    if isinstance(value, BMat):
        return np.asarray(value.a[0])
    if isinstance(value, np.ndarray):
        return value.reshape(1, 1)
    raise NotEvaluable("an identity of unknown size")


def _jacobian(part: DynamicsPart, tree: Node, system: System, params: list[dict[str, float]], rng: np.random.Generator) -> _Outcome:
    k = len(system.variables)
    references = [finite_difference_jacobian(system, system.equilibrium, p) for p in params]
    evidence: dict[str, Any] = {
        "point": [float(x) for x in system.equilibrium],
        "step": FD_STEP,
        "parameters": params,
        "finite_differences": [np.round(r, 6).tolist() for r in references],
    }
    mine = [_matrix_values(tree, system, p, system.equilibrium) for p in params]
    if mine[0].shape != (k, k):
        return _Outcome("wrong", f"yours is {mine[0].shape[0]}×{mine[0].shape[1]}, but the Jacobian of a field in {k} variables is {k}×{k}", evidence)
    evidence["yours"] = [np.round(m.real, 6).tolist() for m in mine]
    for p, m, ref in zip(params, mine, references, strict=True):
        wrong = np.abs(m - ref) > part.atol + part.rtol * np.abs(ref)
        if np.any(wrong):
            mistake = _matching_mistake(part, system, params, mine, lambda t, p: _matrix_values(t, system, p, system.equilibrium))
            cells = [
                f"row {i + 1}, column {j + 1}: yours {format_value(complex(m[i, j]))}, finite differences give {format_value(float(ref[i, j]), 4)}"
                for i, j in zip(*np.nonzero(wrong), strict=True)
            ]
            at = f" with {_params_text(p)}" if p else ""
            return _Outcome(
                "wrong",
                f"{len(cells)} entr{'y differs' if len(cells) == 1 else 'ies differ'} from central finite differences of the field at "
                f"{point_text(system.equilibrium)}{at}: " + "; ".join(cells[:4]),
                evidence,
                mistake,
            )
    at = f" for {'; '.join(_params_text(p) for p in params)}" if params[0] else ""
    return _Outcome("right", f"Agrees with central finite differences of the field at {point_text(system.equilibrium)}{at}.", evidence)


def _matching_mistake(part: DynamicsPart, system: System, params: list[dict[str, float]], mine: list[np.ndarray], value: Any) -> Mistake | None:
    for mistake in part.mistakes:
        if mistake.answer is None:
            continue
        parsed = parse_latex(mistake.answer, system.symbols)
        if isinstance(parsed, ParseError):
            continue
        try:
            theirs = [value(parsed.tree, p) for p in params]
        except EvalError:
            continue
        if all(a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(mine, theirs, strict=True)):
            return mistake
    return None


def _field(part: DynamicsPart, tree: Node, system: System, params: list[dict[str, float]], rng: np.random.Generator) -> _Outcome:
    k = len(system.variables)
    components = vector_nodes(tree)
    if components is None:
        return _Outcome("wrong", f"a vector field in {k} variables needs {k} components, written as a column vector", {})
    if len(components) != k:
        return _Outcome("wrong", f"yours has {len(components)} components, but the field in ({', '.join(map(pretty_name, system.variables))}) has {k}", {})
    states = system.equilibrium + rng.uniform(-2, 2, (_FIELD_POINTS, k))
    evidence: dict[str, Any] = {"points": np.round(states, 4).tolist(), "parameters": params}

    def values(t: Node, p: dict[str, float]) -> np.ndarray:
        comps = vector_nodes(t)
        if comps is None or len(comps) != k:
            raise NotEvaluable("not a vector of the right length")
        return evaluate_vector(comps, system.variables, states, p, system.symbols)

    reference = [evaluate_vector(system.components, system.variables, states, p, system.symbols) for p in params]
    try:
        mine = [values(tree, p) for p in params]
    except Undefined as error:
        return _Outcome("wrong", f"your field is not defined at some of the points: {error.reason}", evidence)
    for p, m, ref in zip(params, mine, reference, strict=True):
        wrong = np.abs(m - ref) > part.atol + part.rtol * np.abs(ref)
        if np.any(wrong):
            row, comp = (int(x[0]) for x in np.nonzero(wrong))
            at = f" with {_params_text(p)}" if p else ""
            names = ", ".join(map(pretty_name, system.variables))
            return _Outcome(
                "wrong",
                f"at ({names}) = {point_text(states[row])}{at}, component {comp + 1} of yours is "
                f"{format_value(float(m[row, comp]), 4)}, but the field gives {format_value(float(ref[row, comp]), 4)}",
                evidence,
                _matching_mistake(part, system, params, mine, values),
            )
    return _Outcome("right", f"Agrees with the field at {_FIELD_POINTS * len(params)} random points.", evidence)


def _stationary(part: DynamicsPart, tree: Node, system: System, params: list[dict[str, float]], rng: np.random.Generator) -> _Outcome:
    k = len(system.variables)
    points = list(tree.items) if isinstance(tree, Seq) and _is_point_list(tree) else [tree]
    evidence: dict[str, Any] = {"parameters": params, "field_at_points": []}
    for point_tree in points:
        coordinates = vector_nodes(point_tree)
        if coordinates is None or len(coordinates) != k:
            return _Outcome("wrong", f"a point of the system has {k} coordinates ({', '.join(map(pretty_name, system.variables))})", evidence)
        for p in params:
            values = {name: as_batch(v) for name, v in p.items()}
            evaluator = BatchEvaluator(system.symbols, values, in_matrix_context=False)
            point = np.array([complex(evaluator._scalar(evaluator.eval(c), "a coordinate")[0]) for c in coordinates])
            if np.any(np.abs(point.imag) > 0):
                return _Outcome("wrong", f"the point {point_text(point.real)} is not real", evidence)
            velocity = evaluate_vector(system.components, system.variables, point.real[None, :], p, system.symbols)[0]
            evidence["field_at_points"].append({"point": point.real.tolist(), "parameters": p, "field": np.round(velocity, 9).tolist()})
            at = f" with {_params_text(p)}" if p else ""
            if np.max(np.abs(velocity)) > part.atol:
                return _Outcome("wrong", f"the field at {point_text(point.real)}{at} is {point_text(velocity)}, not zero", evidence)
    where = ", ".join(point_text(np.array(e["point"])) for e in evidence["field_at_points"][:: max(1, len(params))])
    return _Outcome("right", f"The field vanishes at {where}.", evidence)


def _is_point_list(tree: Node) -> bool:
    return isinstance(tree, Seq) and all(vector_nodes(item) is not None for item in tree.items)


def _default_starts(system: System, rng: np.random.Generator) -> list[np.ndarray]:
    k = len(system.variables)
    out = []
    for _ in range(3):
        direction = rng.standard_normal(k)
        out.append(system.equilibrium + _START_RADIUS * direction / np.linalg.norm(direction))
    return out


def _summary(trajectories: list[Trajectory]) -> str:
    behaviours = {t.behaviour for t in trajectories}
    for worst in ("diverges", "circles", "stays", "undetermined"):
        if worst in behaviours:
            return worst
    return "converges"


def _evidence_sentence(trajectories: list[Trajectory], system: System, observed: str) -> str:
    """The trajectory that shows the verdict; for convergence, also how many runs were tried."""
    if observed != "converges":
        return next(t for t in trajectories if t.behaviour == observed).sentence(system)
    settings = sorted({tuple(sorted(t.parameters.items())) for t in trajectories})
    starts = len(trajectories) // max(1, len(settings))
    first = trajectories[0].sentence(system)
    if len(settings) > 1:
        values = "; ".join(", ".join(f"{pretty_name(n)} = {format_value(v, 3)}" for n, v in setting) for setting in settings)
        return f"{first}; every run converges ({starts} starts for each of {values})"
    return f"{first}; every run converges ({starts} starts)"
