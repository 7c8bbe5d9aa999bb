"""The choice checker: (answer text, expected option verdict) tables on the flagship's choice parts."""

from __future__ import annotations

import pytest
from helpers import answer, context

from grader.checking.choice import ChoiceChecker

CHECKER = ChoiceChecker()


def _part(rubric, question_id: str, part_id: str):  # type: ignore[no-untyped-def]
    return next(p for p in rubric.question(question_id).parts if p.id == part_id)


@pytest.mark.parametrize(
    ("question_id", "part_id", "text", "verdict", "mistake"),
    [
        # 2.2: the direction of an inequality between named KL terms; the last relation is the conclusion.
        ("2.2", "bigger", r"$$\mathcal{L}(q_{\phi^*}) < \mathcal{L}(q_i^*)$$ so $$D_{\mathrm{KL}}(q_{\phi^*}(\boldsymbol{z}|\boldsymbol{x})||p_{\theta}(\boldsymbol{z}|\boldsymbol{x})) \geq D_{\mathrm{KL}}(q_i^*(\boldsymbol{z})||p_{\theta}(\boldsymbol{z}|\boldsymbol{x}))$$", "right", None),
        ("2.2", "bigger", r"$$D_{\mathrm{KL}}(q_{\phi^*}(z|x)||p(z|x)) < D_{\mathrm{KL}}(q_i^*(z|x)||p(z|x))$$", "wrong", "inequality-reversed"),
        ("2.2", "bigger", r"$$D_{KL}(q_i^*(z)\|p_\theta(z|x_i)) \le D_{KL}(q_{\phi^*}(z|x_i)\|p_\theta(z|x_i))$$", "right", None),
        ("2.2", "bigger", "The amortized KL is bigger because of the amortization gap.", "right", None),
        ("2.2", "bigger", "They are the same.", "undecided", None),
        # 2.3b / 2.3c: comparisons in prose.
        ("2.3b", "efficiency", "amortized case is more efficient than instance dependent case.", "right", None),
        ("2.3b", "efficiency", "The amortized approach is slower.", "wrong", None),
        ("2.3c", "memory", "Amortized case needs more memory than the instance dependent case because the global parameters are shared.", "wrong", "memory-reversed"),
        ("2.3c", "memory", "Amortized inference stores only phi, so it needs less memory; the instance-dependent one grows linearly with n.", "right", None),
        # 3.2: a scope selects each scenario's paragraph.
        ("3.2", "scenario-1", "- We don't have samples, but we can evaluate p: the reverse KL.\n- We have samples, but we cannot evaluate p: the forward KL.", "right", None),
        ("3.2", "scenario-2", "- We don't have samples, but we can evaluate p: the reverse KL.\n- We have samples, but we cannot evaluate p: the forward KL.", "right", None),
        ("3.2", "scenario-1", "- Scenario 1: forward KL.\n- Scenario 2: reverse KL.", "wrong", "scenarios-swapped"),
        ("3.2", "scenario-2", "- Scenario 1: forward KL.\n- Scenario 2: reverse KL.", "wrong", "scenarios-swapped"),
        ("3.2", "scenario-1", "I would use maximum likelihood.", "undecided", None),
        # 1.2: the direction of p's effect.
        ("1.2", "effect-of-p", "for p close to 1, $\\lambda$ is small and by decreasing p, $\\lambda$ grows larger.", "right", None),
        ("1.2", "effect-of-p", "λ increases as p increases.", "wrong", "lambda-grows-with-p"),
        # Mentions of both options are not guessed at.
        ("2.3b", "efficiency", "Amortized is faster. Instance-dependent is more efficient.", "undecided", None),
    ],
)
def test_choice_verdicts(a3_rubric, question_id, part_id, text, verdict, mistake) -> None:  # type: ignore[no-untyped-def]
    part = _part(a3_rubric, question_id, part_id)
    result = CHECKER.check(part, answer(text, question_id), context(question_id=question_id))
    assert result.verdict == verdict, result
    assert result.mistake == mistake
    if verdict == "right":
        assert result.score == part.points and result.status == "correct"
    elif verdict == "wrong":
        assert result.score == 0 and result.status == "incorrect"
    else:
        assert result.status == "needs_review" and result.reasons
