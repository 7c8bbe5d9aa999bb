"""4.1's JSD written with the optimal discriminator, against the JSD of two Gaussians by quadrature."""

from __future__ import annotations

import pytest
from sim_helpers import answer, context, part, submission_answer

from grader.checking.divergence import DivergenceChecker
from grader.rubric.models import Rubric

CHECKER = DivergenceChecker()
E1 = r"\mathbb{E}_{x\sim p_1}"
E0 = r"\mathbb{E}_{x\sim p_0}"


@pytest.mark.parametrize(
    ("rhs", "verdict", "mistake"),
    [
        (rf"\frac{{1}}{{2}}\left({E1}[\log D^*(x)] + {E0}[\log(1 - D^*(x))]\right) + \log 2", "right", None),
        (rf"\frac{{1}}{{2}}\left({E1}[\log D^*(x)] + {E0}[\log(1 - D^*(x))] + \log 4\right)", "right", None),
        (rf"\frac12 \left(\max_D {E1}[\log D(x)] + {E0}[\log(1 - D(x))]\right) + \log 2", "right", None),
        (r"\frac{1}{2}\left(KL(p_0 \| \frac{p_0 + p_1}{2}) + KL(p_1 \| \frac{p_0 + p_1}{2})\right)", "right", None),
        (rf"\frac{{1}}{{2}}\left({E1}[\log D^*(x)] + {E0}[\log(1 - D^*(x))]\right) - \log 2", "wrong", None),
        (rf"{E1}[\log D^*(x)] + {E0}[\log(1 - D^*(x))] + \log 4", "wrong", None),
        (rf"\frac{{1}}{{2}}\left({E0}[\log D^*(x)] + {E1}[\log(1 - D^*(x))]\right) + \log 2", "wrong", None),
        (rf"\frac{{1}}{{2}}\left(\arg\max_D {E1}[\log D(x)] + {E0}[\log(1 - D(x))] + \log 4\right)", "wrong", "argmax-for-max"),
        (r"JSD(p_1, p_0)", "undecided", None),
    ],
)
def test_jsd_expressions(a3_rubric: Rubric, rhs: str, verdict: str, mistake: str | None) -> None:
    result = CHECKER.check(part(a3_rubric, "4.1", "jsd-value"), answer(f"$$JSD(p_0, p_1) = {rhs}$$", "4.1"), context(a3_rubric, "4.1", "jsd-value"))
    assert (result.verdict, result.mistake) == (verdict, mistake), (result.feedback, result.reasons)


def test_evidence_lists_the_gaussians_and_values(a3_rubric: Rubric) -> None:
    result = CHECKER.check(
        part(a3_rubric, "4.1", "jsd-value"), submission_answer(a3_rubric, "sample_headings.md", "4.1"), context(a3_rubric, "4.1", "jsd-value")
    )
    assert result.verdict == "right"
    pairs = result.evidence["pairs"]
    assert len(pairs) == 3 and len({tuple(p["densities"]) for p in pairs}) == 3
    for pair in pairs:
        assert pair["yours"] == pytest.approx(pair["reference"], rel=1e-6)
        assert pair["densities"][0] == "p_0 = N(0, 1²)"


def test_a_wrong_form_gets_a_counterexample(a3_rubric: Rubric) -> None:
    text = rf"$$JSD(p_0, p_1) = \frac{{1}}{{2}}\left({E1}[\log D^*(x)] + {E0}[\log(1 - D^*(x))]\right)$$"
    result = CHECKER.check(part(a3_rubric, "4.1", "jsd-value"), answer(text, "4.1"), context(a3_rubric, "4.1", "jsd-value"))
    assert result.verdict == "wrong"
    assert result.feedback[0].startswith("for p_0 = N(0, 1²), p_1 = N(")
    assert "but JSD = " in result.feedback[0]
