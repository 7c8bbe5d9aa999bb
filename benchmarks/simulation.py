"""How often the derivation checker rejects a correct step, and how often it catches a wrong one.

Usage::

    .venv/bin/python benchmarks/simulation.py [--seeds 1000] [--jobs 2] [--samples 4000]

Every step is checked the way ``grader`` checks question 1.1 of ``rubrics/a3`` (its definitions of
``L(w)`` and ``Γ``, ``R`` with i.i.d. Bernoulli(p) entries, 3 random instances per step, Monte
Carlo with common random numbers and a z·SE tolerance), once per seed, for ``--seeds`` seeds.

- *Correct steps*: the displayed steps of the bundled submissions that are true (the seed's 1.1
  lines 13, 25, 31, 45, 49, 53, 57, every step of the two samples' 1.1), plus hand-written true
  identities about the mask. A *false reject* is a correct step reported as failing.
- *Wrong steps*: typical slips (p for p², a dropped p(1−p) term, E[X⊙R] = p²X, …). A *miss* is a
  wrong step reported as holding.

The design target is a false-reject rate below 0.1% (the threshold z is chosen for 1e-6 per step);
the report gives the observed rate with a 95% upper bound (the rule of three when none is seen).
Timing is the median wall time of one step check (3 instances, Monte Carlo included).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader.checking.lint import load_rubric
from grader.grading.pipeline import segment_text
from grader.math.latex import parse_latex
from grader.math.tree import ParseError
from grader.rubric.models import Rubric
from grader.rubric.parts import DerivationPart
from grader.simulation.derivation import (
    Item,
    Step,
    StepChecker,
    local_definitions,
    parse_definitions,
    read_steps,
)
from grader.simulation.montecarlo import Model
from grader.simulation.trees import Definition

ROOT = Path(__file__).resolve().parents[1]

# Lines of the bundled submissions' 1.1 whose steps are true (the others there are unreadable or wrong).
CORRECT_LINES = {
    "seed_student.md": {13, 25, 31, 45, 49, 53, 57},
    "sample_headings.md": None,  # every step
    "sample_mistakes.md": None,
}
EXTRA_CORRECT = [
    (r"\mathbb{E}[(X \odot R)w]", r"pXw"),
    (r"\mathbb{E}[y^T(X \odot R)w]", r"p\,y^TXw"),
    (r"\mathbb{E}[\|(X \odot R)w\|^2]", r"p^2\|Xw\|^2 + p(1-p)\|\Gamma w\|^2"),
    (r"\mathbb{E}[(X \odot R)^T y]", r"pX^Ty"),
    (r"\mathbb{E}[R \odot X]", r"pX"),
    (r"\mathbb{E}[L(w)]", r"y^Ty - 2p\,y^TXw + w^T(p^2X^TX + p(1-p)\Gamma^2)w"),
    (r"\mathbb{E}[(X \odot R)^T(X \odot R)] - p^2X^TX", r"p(1-p)\Gamma^2"),
]
WRONG = [
    (r"\mathbb{E}[X \odot R]", r"p^2X"),
    (r"\mathbb{E}[(X \odot R)^T(X \odot R)]", r"p^2X^TX"),
    (r"\mathbb{E}[(X \odot R)^T(X \odot R)]", r"pX^TX + p(1-p)\operatorname{diag}(X^TX)"),
    (r"\mathbb{E}[(X \odot R)^T(X \odot R)]", r"p^2X^TX + p\operatorname{diag}(X^TX)"),
    (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2"),
    (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2 + p\|\Gamma w\|^2"),
    (r"\mathbb{E}[L(w)]", r"\|y - pXw\|^2 + p(1-p)\|w\|^2"),
    (r"\mathbb{E}[\|(X \odot R)w\|^2]", r"p^2\|Xw\|^2"),
]


@dataclass(frozen=True)
class Case:
    label: str
    step: Step
    correct: bool
    local: dict[str, Definition] = field(default_factory=dict)  # names the student defined (M = X ⊙ R)


def _item(text: str, rubric: Rubric) -> Item:
    parsed = parse_latex(text, rubric.symbol_table)
    assert not isinstance(parsed, ParseError), (text, parsed)
    return Item(text, 0, parsed.tree)


def cases(rubric: Rubric) -> list[Case]:
    out: list[Case] = []
    for name, lines in CORRECT_LINES.items():
        path = ROOT / "submissions" / name
        answer = segment_text(path.read_text(encoding="utf-8"), rubric, path=name).answers["1.1"]
        local = local_definitions(answer, rubric.symbol_table, frozenset(_part(rubric).definitions) | frozenset(_part(rubric).random))
        for step in read_steps(answer, rubric.symbol_table):
            if step.left.tree is None or step.right.tree is None:
                continue
            if lines is None or step.line in lines:
                out.append(Case(f"{name}:{step.line}", step, True, local))
    for left, right in EXTRA_CORRECT:
        out.append(Case(f"{left} = {right}", Step(0, _item(left, rubric), _item(right, rubric), "="), True))
    for left, right in WRONG:
        out.append(Case(f"{left} = {right}", Step(0, _item(left, rubric), _item(right, rubric), "="), False))
    return out


def _part(rubric: Rubric) -> DerivationPart:
    part = rubric.question("1.1").parts[0]
    assert isinstance(part, DerivationPart)
    return part


@lru_cache(maxsize=1)
def _setup() -> tuple[Rubric, list[Case]]:
    rubric = load_rubric(ROOT / "rubrics" / "a3")
    return rubric, cases(rubric)


def run_seed(args: tuple[int, int]) -> list[tuple[str, bool, str, float]]:
    """One seed: every case checked; (label, correct, status, seconds)."""
    seed, samples = args
    rubric, all_cases = _setup()
    part = _part(rubric)
    model = Model(rubric.symbol_table, part.random, samples=samples)
    definitions = parse_definitions(part.definitions, rubric.symbol_table)
    rows = []
    for index, case in enumerate(all_cases):
        checker = StepChecker(model=model, definitions={**case.local, **definitions}, maximizers={}, seed=seed)
        started = time.perf_counter()
        result = checker.check(index, case.step)
        rows.append((case.label, case.correct, result.status, time.perf_counter() - started))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=max(1, multiprocessing.cpu_count()))
    parser.add_argument("--samples", type=int, default=4000, help="Monte Carlo samples per expectation")
    options = parser.parse_args(argv)
    started = time.perf_counter()
    _setup()  # once, before the workers fork
    work = [(seed, options.samples) for seed in range(options.seeds)]
    with multiprocessing.get_context("fork").Pool(options.jobs) as pool:
        results = pool.map(run_seed, work, chunksize=max(1, options.seeds // (options.jobs * 8)))
    rows = [row for seed_rows in results for row in seed_rows]
    correct = [r for r in rows if r[1]]
    wrong = [r for r in rows if not r[1]]
    false_rejects = [r for r in correct if r[2] in ("fails", "shape error")]
    not_checked = [r for r in correct if r[2] not in ("holds", "fails", "shape error")]
    misses = [r for r in wrong if r[2] == "holds"]
    per_seed = len(rows) // max(1, options.seeds)
    rate = len(false_rejects) / max(1, len(correct))
    bound = (3 / len(correct)) if not false_rejects else _upper_bound(len(false_rejects), len(correct))
    print(f"simulation benchmark: {options.seeds} seeds, {per_seed} steps per seed, {options.samples} Monte Carlo samples")
    print(
        f"correct steps: {len(correct)} checks, {len(false_rejects)} false rejects "
        f"({100 * rate:.3f}%; 95% upper bound {100 * bound:.3f}%), {len(not_checked)} not decided"
    )
    print(f"wrong steps:   {len(wrong)} checks, {len(wrong) - len(misses)} rejected ({100 * (1 - len(misses) / max(1, len(wrong))):.2f}%)")
    times = [r[3] * 1000 for r in rows]
    print(f"time per step: median {statistics.median(times):.1f} ms, 99th percentile {sorted(times)[int(0.99 * (len(times) - 1))]:.1f} ms")
    print(f"wall time: {time.perf_counter() - started:.0f} s with {options.jobs} job(s)")
    for label, _, status, _ in false_rejects[:10]:
        print(f"  false reject: {label}: {status}")
    for label, _, _, _ in misses[:10]:
        print(f"  missed: {label}")
    target_met = rate < 0.001
    print("target (false-reject rate below 0.1%):", "met" if target_met else "NOT met")
    return 0 if target_met else 1


def _upper_bound(events: int, trials: int) -> float:
    """A 95% upper bound for a rate (normal approximation; fine away from zero)."""
    rate = events / trials
    return rate + 1.96 * (rate * (1 - rate) / trials) ** 0.5


if __name__ == "__main__":
    raise SystemExit(main())
