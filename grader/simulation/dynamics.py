"""Vector fields run as what they are: evaluated at points, differentiated, and integrated in time.

A Jacobian or a stability claim about a dynamical system can be checked without trusting any
hand-derived reference: central finite differences of the declared field give the Jacobian at
the stationary point, and integrating the ODE from starts near it shows whether the flow
converges, circles, or runs away. The evidence is a sentence a student can check by hand
("from (0.1, 0, 0.1) the unregularized flow keeps a distance ≈ 0.14 from the equilibrium after
t = 200").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from grader._internal.cache import Memo
from grader.math.evaluate import (
    BatchEvaluator,
    BMat,
    BValue,
    NotEvaluable,
    Undefined,
    as_batch,
    format_value,
    pretty_name,
    sample_scalar,
)
from grader.math.latex import parse_latex
from grader.math.symbols import ScalarSymbol, SymbolTable
from grader.math.tree import MatrixLit, Node, ParseError, Seq, symbols_in
from grader.rubric.parts import HORIZON
from grader.rubric.simulation import SystemDecl

__all__ = [
    "Behaviour",
    "System",
    "Trajectory",
    "VectorFunction",
    "evaluate_vector",
    "finite_difference_jacobian",
    "parameter_sets",
    "parse_system",
    "point_text",
    "simulate",
    "vector_nodes",
]

Behaviour = Literal["converges", "circles", "stays", "diverges", "undetermined"]
FD_STEP = 1e-5
MAX_HORIZON = 3200.0
_SAMPLED_PARAMETER_VALUES = 2


@dataclass(frozen=True)
class System:
    """A declared system with its field parsed into one tree per component."""

    variables: tuple[str, ...]
    components: tuple[Node, ...]
    equilibrium: np.ndarray
    parameters: dict[str, list[float]]
    label: str
    symbols: SymbolTable

    @property
    def free_parameters(self) -> list[str]:
        """Names in the field that are neither state variables nor listed parameters."""
        used = set().union(*(symbols_in(c) for c in self.components))
        return sorted(used - set(self.variables) - set(self.parameters) - {"i", "e", "pi"})


def vector_nodes(tree: Node) -> tuple[Node, ...] | None:
    """The entries of a column or row vector, or of a tuple: None for anything else."""
    if isinstance(tree, MatrixLit):
        if all(len(row) == 1 for row in tree.rows):
            return tuple(row[0] for row in tree.rows)
        if len(tree.rows) == 1:
            return tree.rows[0]
        return None
    if isinstance(tree, Seq) and tree.kind in ("tuple", "list"):
        return tree.items
    return None


def parse_system(decl: SystemDecl, symbols: SymbolTable) -> System:
    """Parse the declared field; raises ValueError with a sentence for the rubric author."""
    parsed = parse_latex(decl.field, symbols)
    if isinstance(parsed, ParseError):
        raise ValueError(f"the field does not parse: {parsed.message}")
    components = vector_nodes(parsed.tree)
    if components is None:
        raise ValueError("the field must be a column vector (pmatrix) or a tuple, one entry per variable")
    if len(components) != len(decl.variables):
        raise ValueError(f"the field has {len(components)} components but there are {len(decl.variables)} variables")
    return System(
        variables=tuple(decl.variables),
        components=components,
        equilibrium=np.asarray(decl.equilibrium, dtype=float),
        parameters={k: list(v) for k, v in decl.parameters.items()},
        label=decl.label,
        symbols=symbols,
    )


def parameter_sets(system: System, rng: np.random.Generator) -> list[dict[str, float]]:
    """Parameter values to check at: the listed ones, and draws from the domain for the others."""
    values: dict[str, list[float]] = dict(system.parameters)
    for name in system.free_parameters:
        decl = system.symbols.get(name)
        if not isinstance(decl, ScalarSymbol):
            raise NotEvaluable(f"the field uses {pretty_name(name)}, which is neither a state variable nor a declared scalar")
        values[name] = [sample_scalar(decl.parsed_domain, rng).real for _ in range(_SAMPLED_PARAMETER_VALUES)]
    if not values:
        return [{}]
    count = max(len(v) for v in values.values())
    return [{name: options[k % len(options)] for name, options in sorted(values.items())} for k in range(count)]


def evaluate_vector(
    components: Sequence[Node],
    variables: Sequence[str],
    states: np.ndarray,
    parameters: Mapping[str, np.ndarray | float],
    symbols: SymbolTable,
) -> np.ndarray:
    """Each component at each state: (B, k) states in, (B, len(components)) real values out."""
    return VectorFunction(components, variables, parameters, symbols)(states)


class VectorFunction:
    """A vector of expressions as a function of the state, with one evaluator reused across calls
    (an ODE solver calls it thousands of times)."""

    def __init__(
        self, components: Sequence[Node], variables: Sequence[str], parameters: Mapping[str, np.ndarray | float], symbols: SymbolTable
    ) -> None:
        self.components = tuple(components)
        self.variables = tuple(variables)
        values: dict[str, BValue] = {name: as_batch(value) for name, value in parameters.items()}
        self.evaluator = BatchEvaluator(symbols, values, in_matrix_context=False)

    def __call__(self, states: np.ndarray) -> np.ndarray:
        evaluator = self.evaluator
        evaluator.left_reals = False
        for k, name in enumerate(self.variables):
            evaluator.values[name] = states[:, k].astype(np.complex128)
        columns = []
        for component in self.components:
            value = evaluator.eval(component)
            if isinstance(value, BMat):
                if value.shape != (1, 1):
                    raise NotEvaluable("a component of the field is a matrix, not a number")
                value = value.a[:, 0, 0]
            if not isinstance(value, np.ndarray):
                raise NotEvaluable("a component of the field is an identity matrix, not a number")
            columns.append(np.broadcast_to(value, (states.shape[0],)))
        out = np.stack(columns, axis=1)
        if evaluator.left_reals or np.any(np.abs(out.imag) > 1e-12 * (1 + np.abs(out.real))):
            raise Undefined("the field is not real at these points")
        return out.real


def finite_difference_jacobian(system: System, point: np.ndarray, parameters: Mapping[str, float], h: float = FD_STEP) -> np.ndarray:
    """Central differences: column j is (f(x + h e_j) − f(x − h e_j)) / 2h, all 2k states in one batch."""
    k = len(system.variables)
    offsets = np.vstack([np.eye(k) * h, -np.eye(k) * h])
    values = evaluate_vector(system.components, system.variables, point[None, :] + offsets, parameters, system.symbols)
    return ((values[:k] - values[k:]) / (2 * h)).T


@dataclass(frozen=True)
class Trajectory:
    start: np.ndarray
    parameters: dict[str, float]
    behaviour: Behaviour
    initial_distance: float
    final_distance: float
    largest_distance: float
    horizon: float

    def sentence(self, system: System) -> str:
        start = point_text(self.start)
        params = ", ".join(f"{pretty_name(k)} = {format_value(v, 3)}" for k, v in sorted(self.parameters.items()))
        where = f"from {start}" + (f" with {params}" if params else "")
        t = format_value(self.horizon, 4)
        final = _approx(self.final_distance)
        match self.behaviour:
            case "converges":
                return f"{where} {system.label} converges to the equilibrium: its distance falls from {_approx(self.initial_distance)} to {final} by t = {t}"
            case "circles":
                return f"{where} {system.label} circles around the equilibrium and keeps a distance ≈ {final} from it after t = {t}"
            case "stays":
                return f"{where} {system.label} does not approach the equilibrium: it keeps a distance ≈ {final} after t = {t}"
            case "diverges":
                return f"{where} {system.label} moves away from the equilibrium (distance {_approx(self.largest_distance)} by t = {t})"
        return f"{where} {system.label} is still at a distance ≈ {final} from the equilibrium after t = {t}"


def point_text(point: np.ndarray) -> str:
    return "(" + ", ".join(format_value(float(x), 3) for x in point) + ")"


def _approx(value: float) -> str:
    if value < 1e-9:
        return "less than 1e-9"
    if value < 1e-3:
        return f"{value:.0e}"
    return format_value(float(f"{value:.2g}"), 3)


def simulate(
    system: System,
    starts: Sequence[np.ndarray],
    parameter_list: Sequence[Mapping[str, float]],
    horizon: float = HORIZON,
) -> list[Trajectory]:
    """Integrate every (start, parameters) pair at once (LSODA: a regularized field can be stiff);
    a run still approaching the equilibrium at the horizon gets a four times longer one.

    Memoized (in memory and on disk): the runs depend on the rubric's system alone, not on any
    answer, and each takes a large share of checking a stability claim.
    """
    starts = [np.asarray(s, dtype=float) for s in starts]
    parameter_list = [dict(p) for p in parameter_list]
    key = _SIMULATIONS.key(system, starts, parameter_list, float(horizon))
    return list(_SIMULATIONS.get_or_compute(key, lambda: _simulate(system, starts, parameter_list, horizon)))


def _trajectory_json(trajectories: list[Trajectory]) -> list[dict[str, object]]:
    return [
        {
            "start": t.start.tolist(),
            "parameters": t.parameters,
            "behaviour": t.behaviour,
            "distances": [t.initial_distance, t.final_distance, t.largest_distance],
            "horizon": t.horizon,
        }
        for t in trajectories
    ]


def _trajectories(data: list[dict[str, Any]]) -> list[Trajectory]:
    return [
        Trajectory(
            start=np.asarray(t["start"], dtype=float),
            parameters={str(k): float(v) for k, v in t["parameters"].items()},
            behaviour=t["behaviour"],
            initial_distance=float(t["distances"][0]),
            final_distance=float(t["distances"][1]),
            largest_distance=float(t["distances"][2]),
            horizon=float(t["horizon"]),
        )
        for t in data
    ]


_SIMULATIONS: Memo[list[Trajectory]] = Memo("dynamics.simulate", size=64, encode=_trajectory_json, decode=_trajectories)


def _simulate(
    system: System,
    starts: Sequence[np.ndarray],
    parameter_list: Sequence[Mapping[str, float]],
    horizon: float,
) -> list[Trajectory]:
    pairs = [(np.asarray(s, dtype=float), dict(p)) for p in parameter_list for s in starts]
    results: dict[int, Trajectory] = {}
    pending = list(range(len(pairs)))
    t_end = horizon
    while pending:
        batch = [pairs[i] for i in pending]
        outcomes = _integrate(system, batch, t_end)
        still = []
        for index, trajectory in zip(pending, outcomes, strict=True):
            if trajectory.behaviour == "undetermined" and t_end * 4 <= MAX_HORIZON:
                still.append(index)
            else:
                results[index] = trajectory
        pending = still
        t_end *= 4
    return [results[i] for i in range(len(pairs))]


def _integrate(system: System, pairs: Sequence[tuple[np.ndarray, dict[str, float]]], horizon: float) -> list[Trajectory]:
    k = len(system.variables)
    count = len(pairs)
    names = sorted({name for _, params in pairs for name in params})
    parameters = {name: np.array([params[name] for _, params in pairs], dtype=float) for name in names}
    y0 = np.concatenate([start for start, _ in pairs])

    field = VectorFunction(system.components, system.variables, parameters, system.symbols)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        return field(y.reshape(count, k)).reshape(-1)

    from scipy.integrate import solve_ivp  # scipy.integrate costs a third of a second: loaded when needed

    samples = np.linspace(0.0, horizon, 801)
    solution = solve_ivp(rhs, (0.0, horizon), y0, method="LSODA", rtol=1e-8, atol=1e-11, t_eval=samples)
    path = solution.y.T.reshape(-1, count, k) if solution.y.size else y0.reshape(1, count, k)
    finished = bool(solution.success)
    out = []
    for index, (start, params) in enumerate(pairs):
        track = path[:, index, :] - system.equilibrium
        distance = np.linalg.norm(track, axis=1)
        out.append(_classify(start, params, track, distance, horizon if finished else float(solution.t[-1]), finished))
    return out


def _classify(start: np.ndarray, params: dict[str, float], track: np.ndarray, distance: np.ndarray, horizon: float, finished: bool) -> Trajectory:
    d0, d_end, d_max = float(distance[0]), float(distance[-1]), float(distance.max())
    half = distance[len(distance) // 2 :]
    behaviour: Behaviour
    if not finished or not math.isfinite(d_end) or d_max > 1e3 * max(d0, 1e-12) or d_end > 10 * d0:
        behaviour = "diverges"
    elif d_end <= 1e-3 * d0 or d_end <= 1e-9:
        behaviour = "converges"
    elif d_end >= 0.5 * d0 and half.min() >= 0.25 * d0:
        behaviour = "circles" if _winds(track[len(track) // 2 :]) else "stays"
    else:
        behaviour = "undetermined"
    return Trajectory(start, params, behaviour, d0, d_end, d_max, horizon)


def _winds(track: np.ndarray) -> bool:
    """Some coordinate keeps changing sign: the flow turns around the equilibrium."""
    signs = np.sign(track)
    changes = np.sum(signs[1:] != signs[:-1], axis=0)
    return bool(np.any(changes >= 4))
