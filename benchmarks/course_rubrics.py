"""Every bundled rubric's own test answers and sample submissions: agreement with the rubric's
expected verdicts, false accepts, and the cost of reading choice answers by meaning.

Usage::

    .venv/bin/python benchmarks/course_rubrics.py

A *false accept* is "right" where the test expects "wrong" or "undecided". Choice reading is timed
in-process (no sandbox) over every choice test answer, repeated, to show what meaning costs.
"""

from __future__ import annotations

import time
from pathlib import Path

from grader.authoring.testing import run_rubric_tests
from grader.checking.choice import part_reader
from grader.checking.lint import load_rubric
from grader.grading.pipeline import grade_file
from grader.rubric.parts import ChoicePart, DynamicsPart

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    for folder in sorted(p.parent for p in (ROOT / "rubrics").glob("*/rubric.toml")):
        rubric = load_rubric(folder)
        started = time.perf_counter()
        report = run_rubric_tests(rubric, file=str(folder), mutate=False)
        seconds = time.perf_counter() - started
        tests = [(q, p, t) for q in rubric.questions for p in q.parts for t in p.tests]
        false_accepts = sum(1 for (_, _, t), o in zip(tests, report.cases, strict=True) if not o.passed and t.expect != "right" and "got right" in o.message)
        passed = sum(o.passed for o in report.cases)
        print(f"{folder.name}: {passed}/{len(report.cases)} test answers as expected, {false_accepts} false accepts ({seconds:.1f} s)")
        submissions = sorted((folder / "submissions").glob("*.md"))
        for path in submissions:
            graded = grade_file(path, rubric)
            statuses = [p.status for q in graded.questions for p in q.parts]
            print(f"  {path.name}: {graded.score:g} / {graded.max_score:g} ({', '.join(f'{s} {statuses.count(s)}' for s in sorted(set(statuses)))})")
        choices = [(p.as_choice() if isinstance(p, DynamicsPart) else p, t.answer) for _, p, t in tests if isinstance(p, ChoicePart) or (isinstance(p, DynamicsPart) and p.mode == "stability")]
        if choices:
            for part, _ in choices:
                part_reader(part)  # built once per part, like a batch does
            repeat = 20
            started = time.process_time()
            for _ in range(repeat):
                for part, text in choices:
                    part_reader(part).hits(text)
            per = (time.process_time() - started) / (repeat * len(choices)) * 1000
            print(f"  choice reading: {len(choices)} answers, {per:.2f} ms CPU per answer")


if __name__ == "__main__":
    main()
