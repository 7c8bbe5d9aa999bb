"""Q5 by running the system: finite-difference Jacobians, stationary points, simulated stability."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import answer, context, part, submission_answer

from grader.checking.dynamics import DynamicsChecker
from grader.math.symbols import SymbolTable
from grader.rubric.models import Rubric
from grader.rubric.simulation import SystemDecl
from grader.simulation.dynamics import finite_difference_jacobian, parse_system, simulate

CHECKER = DynamicsChecker()


def _system(rubric: Rubric, name: str):  # type: ignore[no-untyped-def]
    return parse_system(rubric.systems[name], rubric.symbol_table)


@pytest.mark.parametrize("gamma", [0.0, 0.25, 1.0, 4.0])
def test_finite_differences_give_the_known_jacobian(a3_rubric: Rubric, gamma: float) -> None:
    system = _system(a3_rubric, "gan-regularized")
    expected = np.array([[-gamma, 0, -0.5], [0, -0.5, 0], [0.5, 0, 0]])
    np.testing.assert_allclose(finite_difference_jacobian(system, system.equilibrium, {"gamma": gamma}), expected, atol=1e-8)


def test_unregularized_flow_circles(a3_rubric: Rubric) -> None:
    system = _system(a3_rubric, "gan")
    (trajectory,) = simulate(system, [np.array([0.1, 0.0, 0.1])], [{}])
    assert trajectory.behaviour == "circles"
    assert trajectory.final_distance == pytest.approx(0.1414, abs=0.005)
    assert trajectory.sentence(system) == (
        "from (0.1, 0, 0.1) the unregularized flow circles around the equilibrium and keeps a distance ≈ 0.14 from it after t = 200"
    )


@pytest.mark.parametrize("gamma", [0.1, 0.25, 1.0, 4.0, 10.0])
def test_regularized_flow_converges_for_every_gamma(a3_rubric: Rubric, gamma: float) -> None:
    system = _system(a3_rubric, "gan-regularized")
    starts = [np.array([0.1, 0.0, 0.1]), np.array([-0.05, 0.05, 0.08])]
    assert {t.behaviour for t in simulate(system, starts, [{"gamma": gamma}])} == {"converges"}


def test_an_unstable_system_diverges() -> None:
    symbols = SymbolTable()
    system = parse_system(SystemDecl(variables=["a", "b"], field=r"\begin{pmatrix} a + b \\ b \end{pmatrix}", equilibrium=[0, 0]), symbols)
    (trajectory,) = simulate(system, [np.array([0.1, 0.1])], [{}], horizon=50)
    assert trajectory.behaviour == "diverges"


@pytest.mark.parametrize(
    ("question_id", "part_id", "text", "verdict", "mistake"),
    [
        ("5.2", "jacobian", r"$$J^* = \begin{pmatrix} 0 & 0 & -\frac12 \\ 0 & -\frac12 & 0 \\ \frac12 & 0 & 0 \end{pmatrix}$$", "right", None),
        ("5.2", "jacobian", r"$$J^* = \begin{pmatrix} 0 & 0 & 0 \\ 0 & 0 & 0 \\ 0 & 0 & 0 \end{pmatrix}$$", "wrong", None),
        ("5.2", "jacobian", r"$$J^* = \begin{pmatrix} 0 & 0 & \frac12 \\ 0 & -\frac12 & 0 \\ -\frac12 & 0 & 0 \end{pmatrix}$$", "wrong", "jacobian-sign-flipped"),
        ("5.2", "jacobian", r"$$J^* = \begin{pmatrix} 0 & 0 \\ 0 & 0 \end{pmatrix}$$", "wrong", None),
        ("5.5", "jacobian", r"$$\bar{J}^* = \begin{pmatrix} -\gamma & 0 & -\frac12 \\ 0 & -\frac12 & 0 \\ \frac12 & 0 & 0 \end{pmatrix}$$", "right", None),
        ("5.5", "jacobian", r"$$\bar{J}^* = \begin{pmatrix} \gamma & 0 & -\frac12 \\ 0 & -\frac12 & 0 \\ \frac12 & 0 & 0 \end{pmatrix}$$", "wrong", "penalty-sign"),
        ("5.1", "stationary", r"$$(\psi_0^*, \psi_1^*, \theta^*) = (0, 0, 0)$$", "right", None),
        ("5.1", "stationary", r"$$(\psi_0^*, \psi_1^*, \theta^*) = (0, 1, 0)$$", "wrong", None),
        ("5.1", "stationary", r"$$(\psi_0^*, \psi_1^*, \theta^*) = (0, 0)$$", "wrong", None),
        ("5.4", "stationary", r"$$(\psi_0^*, \psi_1^*, \theta^*) = (0, 0, \gamma)$$", "wrong", None),
        ("5.3", "stability", "The pair ±i/2 is imaginary: the system is not asymptotically stable, the flow circles.", "right", None),
        ("5.3", "stability", "No eigenvalue has a positive real part, so the system is stable.", "wrong", "claims-stable"),
        ("5.3", "stability", "We cannot say anything, more studies are needed.", "wrong", "only-inconclusive"),
        ("5.6", "stability", "Every real part is negative, so the regularized system is locally asymptotically stable.", "right", None),
        ("5.6", "stability", "The gradient penalty makes the system unstable.", "wrong", "positive-real-parts"),
        ("5.6", "stability", "Nothing to say.", "undecided", None),
    ],
)
def test_dynamics_parts(a3_rubric: Rubric, question_id: str, part_id: str, text: str, verdict: str, mistake: str | None) -> None:
    result = CHECKER.check(part(a3_rubric, question_id, part_id), answer(text, question_id), context(a3_rubric, question_id, part_id))
    assert (result.verdict, result.mistake) == (verdict, mistake), (result.feedback, result.reasons)
    assert result.evidence.get("method")


def test_wrong_jacobian_names_the_entries(a3_rubric: Rubric) -> None:
    text = r"$$J^* = \begin{pmatrix} 0 & 0 & -\frac12 \\ 0 & -\frac14 & 0 \\ \frac12 & 0 & 0 \end{pmatrix}$$"
    result = CHECKER.check(part(a3_rubric, "5.2", "jacobian"), answer(text, "5.2"), context(a3_rubric, "5.2", "jacobian"))
    assert "row 2, column 2: yours -0.25, finite differences give -0.5" in result.feedback[0]


def test_stable_claim_for_5_3_is_contradicted_by_simulation(a3_rubric: Rubric) -> None:
    result = CHECKER.check(part(a3_rubric, "5.3", "stability"), submission_answer(a3_rubric, "sample_mistakes.md", "5.3"), context(a3_rubric, "5.3", "stability"))
    assert (result.status, result.mistake) == ("incorrect", "claims-stable")
    assert (
        "Contradicted by simulation: from (0.1, 0, 0.1) the unregularized flow circles around the equilibrium and keeps a distance ≈ 0.14 "
        "from it after t = 200." in result.feedback
    )
    assert result.evidence["behaviour"] == "circles"


def test_correct_5_6_is_confirmed_for_several_gammas(a3_rubric: Rubric) -> None:
    result = CHECKER.check(part(a3_rubric, "5.6", "stability"), submission_answer(a3_rubric, "sample_headings.md", "5.6"), context(a3_rubric, "5.6", "stability"))
    assert result.status == "correct"
    confirmed = next(f for f in result.feedback if f.startswith("Confirmed by simulation"))
    assert "every run converges (3 starts for each of γ = 0.25; γ = 1; γ = 4)" in confirmed
    gammas = {t["parameters"]["gamma"] for t in result.evidence["trajectories"]}
    assert gammas == {0.25, 1.0, 4.0}
    assert {t["behaviour"] for t in result.evidence["trajectories"]} == {"converges"}


def test_a_rubric_answer_the_simulation_contradicts_goes_to_a_person(a3_rubric: Rubric) -> None:
    wrong_key = part(a3_rubric, "5.3", "stability").model_copy(update={"answer": "stable"})
    result = CHECKER.check(wrong_key, answer("The system is stable.", "5.3"), context(a3_rubric, "5.3", "stability"))
    assert result.verdict == "undecided"
    assert "contradicts the rubric's answer" in result.reasons[0]


FIELD = r"\begin{pmatrix} -\theta\sigma(\psi_0\theta+\psi_1) \\ \sigma(-\psi_1) - \sigma(\psi_0\theta+\psi_1) \\ \psi_0\sigma(\psi_0\theta+\psi_1) \end{pmatrix}"


@pytest.mark.parametrize(
    ("field", "verdict"),
    [
        (FIELD, "right"),
        (r"\begin{pmatrix} -\frac{\theta}{1+e^{-\psi_0\theta-\psi_1}} \\ \frac{1}{1+e^{\psi_1}} - \frac{1}{1+e^{-\psi_0\theta-\psi_1}} \\ \frac{\psi_0}{1+e^{-\psi_0\theta-\psi_1}} \end{pmatrix}", "right"),
        (FIELD.replace(r"-\theta\sigma", r"\theta\sigma"), "wrong"),
        (r"\begin{pmatrix} (1 - \sigma(-\psi_0\theta - \psi_1))\theta^2 \\ (1 - \sigma(\psi_1)) + (1 - \sigma(-\psi_0\theta - \psi_1)) \end{pmatrix}", "wrong"),
    ],
)
def test_field_mode_compares_at_random_points(a3_rubric: Rubric, field: str, verdict: str) -> None:
    field_part = part(a3_rubric, "5.2", "jacobian").model_copy(update={"mode": "field", "target": "v", "mistakes": []})
    result = CHECKER.check(field_part, answer(f"$$v = {field}$$", "5.1"), context(a3_rubric, "5.1", "field"))
    assert result.verdict == verdict, result.feedback
    if verdict == "wrong":
        assert "component" in result.feedback[0]
