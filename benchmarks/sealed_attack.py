"""What a sealed a3 costs an attacker, and what it costs a student.

    .venv/bin/python benchmarks/sealed_attack.py [--quick]

Prints: the CPU cost of one guess (one scrypt key) against a sealed part; for each a3 sealed
math part, the size of the cell space a brute-force search must cover and the time that takes
at that cost (there is no per-value or per-entry search: a key covers every value at every
stored point together); the time a search of the option space of each choice part takes; that
no box opens for near-miss answers (each single value, entry or item right but not the whole);
and the time of a student's full ``grader check`` of the seed submission against the sealed a3.
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader._internal.secretbox import KdfParams, derive_key, open_box  # noqa: E402
from grader.authoring.seal import seal_rubric, sealed_json  # noqa: E402
from grader.checking.lint import load_rubric  # noqa: E402
from grader.checking.sealed_math import Env, Grid, evaluation_table, gate_outcome, slot_count  # noqa: E402
from grader.math.latex import parse_latex  # noqa: E402
from grader.math.tree import ParseError  # noqa: E402
from grader.rubric.sealed import SealedChoicePart, SealedMathPart  # noqa: E402


def guess_cost(params: KdfParams, tries: int = 8) -> float:
    """CPU seconds of one key (distinct secrets: the per-process cache must not help)."""
    start = time.process_time()
    for k in range(tries):
        derive_key(f"benchmark guess {k} {time.time_ns()}", "salt", params)
    return (time.process_time() - start) / tries


def cells_per_value(grid: Grid, magnitude_span: float = 1e6) -> float:
    """How many cells a value of unknown size (1/span .. span, any sign or phase) can fall in."""
    rings = (grid._u(magnitude_span) - grid._u(1 / magnitude_span)) / (2 * grid.width)
    sectors = max(1.0, 2 * math.pi / (2 * grid.width * max(grid.rtol, 1e-300)))
    return max(rings, 1.0) * sectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the student's full check")
    args = parser.parse_args()
    a3 = load_rubric(ROOT / "rubrics" / "a3")
    started = time.process_time()
    sealed, _ = seal_rubric(a3, secret=b"benchmark")
    print(f"sealing a3: {time.process_time() - started:.1f} s CPU (this process; boxes and gates)")
    params = KdfParams()
    cost = guess_cost(params)
    print(f"one guess (scrypt n={params.n}, r={params.r}, p={params.p}, {128 * params.n * params.r / 2**20:.0f} MB): {cost * 1000:.0f} ms of one core")
    print()
    print("brute force of each sealed math part (the whole answer at every stored point is one key):")
    for question in sealed.questions:
        for part in question.parts:
            if isinstance(part, SealedMathPart):
                for index, gate in enumerate(part.gates):
                    if gate.layout.form == "formula":
                        print(f"  {question.id}/{part.id} gate {index}: the exact formula only; a guess is a formula, {cost * 1000:.0f} ms each")
                        continue
                    grid = Grid.of(part.rtol, part.atol, gate.width)
                    values = max(1, len(gate.points)) * slot_count(gate.layout)
                    log10_cells = values * math.log10(cells_per_value(grid))
                    log10_seconds = log10_cells + math.log10(cost)
                    print(
                        f"  {question.id}/{part.id} gate {index}: {values} values together, ~10^{log10_cells:.0f} cell combinations, "
                        f"~10^{log10_seconds:.0f} s of one core to enumerate (a guess of the formula: {cost * 1000:.0f} ms)"
                    )
            elif isinstance(part, SealedChoicePart):
                print(f"  {question.id}/{part.id}: {len(part.options)} options: every option tried in {len(part.options) * cost:.2f} s (a checker answers any guess)")
    print()
    print("near misses open no box (each must be the whole answer):")
    table = a3.symbol_table
    near = {
        ("1.2", "lambda"): [r"\frac{1-p}{p} (1 + 10^{-4})", r"\frac{1-p}{p} + 10^{-3} p"],
        ("5.3", "eigenvalues"): [r"-\frac12, \frac{i}{2}, -\frac{i}{2} + 0.01", r"-\frac12, \frac{i}{2}", r"-\frac12"],
        ("1.3", "closed-form"): [r"(X^\top X + 1.001\lambda I)^{-1} X^\top y"],
    }
    for (question_id, part_id), answers in near.items():
        part = next(p for p in sealed.question(question_id).parts if p.id == part_id)
        assert isinstance(part, SealedMathPart)
        env = Env(part, evaluation_table(table, part.functions), seed=1)
        for latex in answers:
            parsed = parse_latex(latex, table)
            assert not isinstance(parsed, ParseError)
            opened = sum(
                open_box(key, form.box) is not None
                for form in (*part.accepted, *part.recognised)
                for key in [gate_outcome(parsed.tree, part.gates[form.gate], form.gate, env).key]
                if key is not None
            )
            print(f"  {question_id}/{part_id} {latex!r}: {opened} box(es) opened")
    if args.quick:
        return
    print()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a3.sealed.json"
        path.write_text(sealed_json(sealed), encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        command = [sys.executable, "-m", "grader", "check", str(ROOT / "submissions" / "seed_student.md"), "--rubric", str(path), "--quiet"]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"student's full check of the seed against the sealed a3: {time.perf_counter() - wall:.1f} s wall, {cpu:.1f} s CPU")
        print(f"  {out.stdout.strip()}")


if __name__ == "__main__":
    main()
