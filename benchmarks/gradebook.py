"""Benchmark the gradebook store: recording, listing the queue, deciding, exporting.

Usage::

    .venv/bin/python benchmarks/gradebook.py [--submissions 300] [--db PATH_OR_URL]

It grades the bundled seed submission once, then records ``submissions`` copies of its report
(each with a different file name and digest) into a fresh SQLite store (or ``--db``), and prints
the time per recording (one transaction each), the time to list the queue and its clusters, the
time per decision (accept, override, a whole-cluster accept, undo) and the time to build every
export from the store. Wall-clock figures on a shared machine: run it twice, read the lower.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from grader.checking.lint import load_rubric
from grader.gradebook.book import open_gradebook
from grader.grading.pipeline import grade_file
from grader.reports.exports import canvas_csv, gradescope_autograder, moodle_csv
from grader.reports.gradebook import gradebook_csv

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--db", help="a store to use (default: a new SQLite file in a temporary folder)")
    args = parser.parse_args()
    rubric = load_rubric(ROOT / "rubrics" / "a3")
    report = grade_file(ROOT / "submissions" / "seed_student.md", rubric, rubric_sha256="bench")
    with tempfile.TemporaryDirectory() as folder, open_gradebook(args.db or folder) as book:
        assignment = book.set_assignment(rubric, "bench", canvas_assignment_id="1")
        record = []
        for k in range(args.submissions):
            copy = report.model_copy(update={"submission": f"s{k:04d}.md", "submission_sha256": f"{k:064x}"})
            started = time.perf_counter()
            book.record_report(assignment, copy, student_id=f"S{k}", student_name=f"Student {k}", roster={"sis_user_id": f"S{k}", "email": f"s{k}@e.du"})
            record.append(time.perf_counter() - started)
        started = time.perf_counter()
        queue = book.queue(assignment)
        listing = time.perf_counter() - started
        started = time.perf_counter()
        clusters = book.clusters(assignment)
        clustering = time.perf_counter() - started
        timings = {}
        for label, act in (
            ("accept one item", lambda: book.accept([queue[0].item], reviewer="bench")),
            ("override one item", lambda: book.override([queue[1].item], score=0, comment="bench", reviewer="bench")),
            (f"accept a cluster of {len(clusters[0].items)}", lambda: book.accept(reviewer="bench", cluster=clusters[0].cluster)),
            ("undo that cluster", lambda: book.undo(reviewer="bench")),
        ):
            started = time.perf_counter()
            act()
            timings[label] = time.perf_counter() - started
        started = time.perf_counter()
        rows = book.rows(assignment)
        reading = time.perf_counter() - started
        started = time.perf_counter()
        gradebook_csv(rubric, rows)
        canvas_csv(rows, rubric, assignment_id="1", include_provisional=True)
        moodle_csv(rows, rubric, include_provisional=True)
        gradescope_autograder(rows, rubric, include_provisional=True)
        exporting = time.perf_counter() - started
    print(f"gradebook benchmark: {args.submissions} submissions of {sum(len(q.parts) for q in rubric.questions)} parts ({'--db ' + args.db if args.db else 'SQLite, WAL, synchronous=FULL'})")
    print(f"record one submission (one transaction): median {statistics.median(record) * 1000:.1f} ms, p95 {sorted(record)[int(len(record) * 0.95)] * 1000:.1f} ms")
    print(f"list the queue ({len(queue)} items): {listing * 1000:.0f} ms; clusters ({len(clusters)}): {clustering * 1000:.0f} ms")
    for label, seconds in timings.items():
        print(f"{label}: {seconds * 1000:.1f} ms")
    print(f"read every final score with decisions applied: {reading * 1000:.0f} ms")
    print(f"grades.csv + canvas.csv + moodle.csv + Gradescope zip from the store: {exporting * 1000:.0f} ms")


if __name__ == "__main__":
    main()
