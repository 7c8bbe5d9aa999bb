"""Benchmark batch grading: per-submission time, throughput, parallel speed-up, memory, start-up.

Usage::

    .venv/bin/python benchmarks/batch.py [--count 200] [--inputs mixed|copies] [--jobs 1,2] [--repeat 3]
        [--rubric rubrics/a3] [--kill-resume]

It grades ``count`` submissions with ``grade_batch``, the function ``grader grade`` runs, once per
``--jobs`` value and ``--repeat`` rounds, interleaved (1, 2, 1, 2, ...) so that load from other
programs on the machine hits both alike; the fastest round of each counts, as usual for
benchmarks on a shared machine (the median rounds' speed-up is printed beside it: on a shared
2-core machine a ``--jobs 2`` round varies by about 5% from one round to the next). ``mixed``
inputs (the default) are a class made from the samples in ``submissions/``: submission k answers
each question with one sample's answer, chosen by a seeded draw, so answers repeat across the
class as they do in a real one but whole files rarely do; ``copies`` repeats the sample files as
they are. Before the rounds, the rubric's own cache (its reference simulations) is filled once in
a private cache folder ("a warm rubric cache"); each round starts from a copy of that folder, so
the workers of a round share the verdicts they make (as a class's workers do) but inherit none
from an earlier round. It prints:

- per-submission grading time in the worker (median, p95), from the ``--jobs 1`` rounds;
- wall time, throughput and CPU time (this process and its children) per ``--jobs`` value;
- the speed-up of each ``--jobs`` value over the first (``jobs 1``), and whether the reports
  are byte-identical between them; next to it, the ceiling any speed-up has on this machine at
  that moment (CPU-bound processes run side by side against one alone);
- the peak resident memory of each worker and of the largest check process it ran;
- ``grader --version`` start-up time next to ``python -c "import sympy"`` (median of 5 each);
- with ``--kill-resume``: ``grader grade --jobs 2`` killed (SIGKILL) half-way, then ``--resume``,
  compared byte for byte with an uninterrupted ``grader grade --jobs 1`` run made just before it
  (and with the in-process ``--jobs 1`` reports, unless the code or rubric changed meanwhile).

Run it from a copy of the repository (``PYTHONPATH=copy``) when others are editing the code: a
benchmark takes minutes, and a CLI started later would load different code.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from grader.checking.lint import load_rubric
from grader.grading.batch import SubmissionResult, grade_batch
from grader.grading.pipeline import segment_text
from grader.grading.warm import prime_rubric, warm_up
from grader.rubric.load import rubric_digest
from grader.rubric.models import Rubric

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"


def _copies(folder: Path, count: int) -> list[Path]:
    """The sample files repeated, named ``<sample>_<k>.md``, in a stable order."""
    folder.mkdir(parents=True)
    samples = sorted(SAMPLES.glob("*.md"))
    files = []
    for k in range(count):
        sample = samples[k % len(samples)]
        path = folder / f"{sample.stem}_{k:03d}.md"
        path.write_bytes(sample.read_bytes())
        files.append(path)
    return files


def _mixed(folder: Path, count: int, rubric: Rubric) -> list[Path]:
    """A class of ``count`` submissions, each question answered with one sample's answer (seeded)."""
    folder.mkdir(parents=True)
    answers: dict[str, list[str]] = {q.id: [] for q in rubric.questions}
    for sample in sorted(SAMPLES.glob("*.md")):
        split = segment_text(sample.read_text(encoding="utf-8"), rubric, path=sample.name)
        for qid, answer in split.answers.items():
            if answer.status != "missing":
                answers[qid].append(answer.text.strip("\n"))
    draw = random.Random(20240516)
    files = []
    for k in range(count):
        blocks = [f"## {qid}\n\n{draw.choice(texts)}\n" for qid, texts in answers.items() if texts and draw.random() > 0.05]
        path = folder / f"student_{k:03d}.md"
        path.write_text(f"# Assignment\n\nStudent {k:03d}\n\n" + "\n".join(blocks), encoding="utf-8")
        files.append(path)
    return files


def _tree(folder: Path) -> dict[str, bytes]:
    """Reports, pages and class files: what must be byte-identical (the gradebook store is a
    database that records when each grade was made)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith("gradebook.sqlite")}


@dataclasses.dataclass(frozen=True)
class _Round:
    """A round's figures: its folder and its results, without the reports."""

    out_dir: Path
    results: list[SubmissionResult]


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


_SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 2.0:\n    pass\n"


def _parallel_ceiling(jobs: int) -> float:
    """How much faster ``jobs`` CPU-bound processes finish than one, on this machine now: the
    most any ``--jobs`` speed-up can be while other programs share the cores."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _SPIN], check=True)
    one = time.perf_counter() - started
    started = time.perf_counter()
    spinners = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(jobs)]
    for spinner in spinners:
        spinner.wait()
    return jobs * one / (time.perf_counter() - started)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _median_run(command: Sequence[str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _fingerprint(rubric: Path) -> str:
    """A digest of grader's source and the rubric: a benchmark must compare one version with itself."""
    digest = hashlib.sha256()
    package = ROOT / "grader"
    files = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".lark", ".j2", ".css"))
    for path in [*files, *sorted((rubric if rubric.is_dir() else rubric.parent).glob("*.toml"))]:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _kill_resume(inputs: Path, rubric: Path, in_process: dict[str, bytes], scratch: Path, total: int, fingerprint: str) -> str:
    """Kill ``grader grade --jobs 2`` half-way, resume it, compare with an uninterrupted run."""
    def grader(out: Path, *extra: str) -> list[str]:
        command = [sys.executable, "-m", "grader", "grade", str(inputs), "--rubric", str(rubric), "--out", str(out)]
        return [*command, "--progress", "none", *extra]

    before = _fingerprint(rubric)
    subprocess.run(grader(scratch / "uninterrupted", "--jobs", "1"), check=True, capture_output=True)
    out = scratch / "kill-resume"
    process = subprocess.Popen(grader(out, "--jobs", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None and (len(list(out.glob("*.json"))) if out.exists() else 0) < total // 2:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = len(list(out.glob("*.json")))
    resumed = subprocess.run(grader(out, "--jobs", "2", "--resume"), capture_output=True, text=True)
    changed = _fingerprint(rubric) != before
    after, reference = _tree(out), _tree(scratch / "uninterrupted")
    lines = [
        f"kill/resume: killed (SIGKILL) with {killed_at}/{total} reports written; --resume exit {resumed.returncode}: "
        f"{resumed.stdout.strip().splitlines()[-1]}",
        f"  byte-identical to an uninterrupted `grader grade --jobs 1`: {'yes' if after == reference else 'NO'} ({len(after)} files)"
        + (" (the code or rubric changed during this step: not comparable)" if changed else ""),
    ]
    if before == fingerprint:
        lines.append(f"  byte-identical to the in-process --jobs 1 run above: {'yes' if after == in_process else 'NO'}")
    else:
        lines.append("  (the code or rubric changed since the rounds above: not compared with them)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="submissions in the class (default 200)")
    parser.add_argument("--inputs", choices=("mixed", "copies"), default="mixed", help="a class mixed from the samples, or copies")
    parser.add_argument("--jobs", default="1,2", help="comma-separated --jobs values; the first is the baseline")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per --jobs value; the fastest counts")
    parser.add_argument("--rubric", type=Path, default=ROOT / "rubrics" / "a3")
    parser.add_argument("--kill-resume", action="store_true", help="also kill a --jobs 2 run half-way and resume it")
    args = parser.parse_args(argv)
    jobs_values = [int(j) for j in args.jobs.split(",")]

    fingerprint = _fingerprint(args.rubric)
    rubric = load_rubric(args.rubric)
    digest = rubric_digest(args.rubric)
    scratch = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        os.environ["GRADER_CACHE_DIR"] = str(scratch / "cache")  # private: the user's cache neither helps nor is touched
        files = _mixed(scratch / "in", args.count, rubric) if args.inputs == "mixed" else _copies(scratch / "in", args.count)
        distinct = len({p.read_bytes() for p in files})
        print(f"{len(files)} submissions ({args.inputs}: {distinct} distinct files), rubric {rubric.assignment.id}, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        started = time.perf_counter()
        warm_up(rubric)
        prime_rubric(rubric)
        print(f"rubric cache filled in {time.perf_counter() - started:.1f} s (reference simulations; once per rubric and grader version)")
        best: dict[int, tuple[float, float, _Round]] = {}
        walls: dict[int, list[float]] = {jobs: [] for jobs in jobs_values}
        for round_ in range(args.repeat):
            for jobs in jobs_values:
                out = scratch / f"out-jobs{jobs}-{round_}"
                # Each round starts from the rubric's cache alone: no verdict of an earlier round.
                private = scratch / f"cache-jobs{jobs}-{round_}"
                shutil.copytree(scratch / "cache", private)
                os.environ["GRADER_CACHE_DIR"] = str(private)
                cpu, started = _cpu(), time.perf_counter()
                result = grade_batch(files, rubric, out, rubric_sha256=digest, jobs=jobs)
                wall, used = time.perf_counter() - started, _cpu() - cpu
                assert not result.failed, [r.problems for r in result.failed]
                print(f"  round {round_ + 1}, --jobs {jobs}: {wall:.1f} s wall, {used:.1f} s CPU", flush=True)
                walls[jobs].append(wall)
                if jobs not in best or wall < best[jobs][0]:
                    best[jobs] = (wall, used, _Round(result.out_dir, [dataclasses.replace(r, report=None) for r in result.results]))
                # A real batch forks its workers from a fresh process: keep no report of this
                # round in memory, or later rounds would fork (and copy) a larger parent.
                del result
                gc.collect()

        base = jobs_values[0]
        base_wall, _, base_result = best[base]
        seconds = [r.seconds for r in base_result.results]
        print()
        print(f"per submission (in the worker, --jobs {base}): median {statistics.median(seconds) * 1000:.0f} ms, "
              f"p95 {_percentile(seconds, 0.95) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")
        reference = _tree(base_result.out_dir)
        for jobs in jobs_values[1:]:
            seconds = [r.seconds for r in best[jobs][2].results]
            print(f"per submission (in the worker, --jobs {jobs}): median {statistics.median(seconds) * 1000:.0f} ms, "
                  f"p95 {_percentile(seconds, 0.95) * 1000:.0f} ms (more than --jobs {base}: the workers share the cores with each other and the load)")
        for jobs in jobs_values[1:]:
            print(f"ceiling: {jobs} CPU-bound processes finish {_parallel_ceiling(jobs):.2f}x faster than one here, now "
                  f"(2 s of CPU each; load average {os.getloadavg()[0]:.2f}): no --jobs {jobs} speed-up can beat that")
        for jobs in jobs_values:
            wall, used, fastest = best[jobs]
            identical = _tree(fastest.out_dir) == reference
            typical = statistics.median(walls[base]) / statistics.median(walls[jobs])
            print(f"--jobs {jobs}: {wall:.1f} s wall, {len(files) / wall:.1f} submissions/s, {used:.1f} s CPU, "
                  f"speed-up {base_wall / wall:.2f}x over --jobs {base} ({typical:.2f}x between the median rounds), "
                  f"reports byte-identical: {'yes' if identical else 'NO'}")
        for jobs in jobs_values:
            workers: dict[str, tuple[float, float]] = {}
            for r in best[jobs][2].results:
                rss, check = workers.get(r.worker, (0.0, 0.0))
                workers[r.worker] = (max(rss, r.peak_rss_mb or 0.0), max(check, r.peak_check_rss_mb or 0.0))
            shown = ", ".join(f"{rss:.0f} MB (checks {check:.0f} MB)" for rss, check in workers.values())
            print(f"peak memory per worker, --jobs {jobs}: {shown}")

        python = [sys.executable, "-c", "import sympy"]
        cli = [sys.executable, "-m", "grader", "--version"]
        sympy_s, cli_s = _median_run(python), _median_run(cli)
        print(f"start-up: grader --version {cli_s * 1000:.0f} ms; python -c 'import sympy' {sympy_s * 1000:.0f} ms "
              f"(median of 5 each, this run)")
        if args.kill_resume:
            print(_kill_resume(scratch / "in", args.rubric, reference, scratch, len(files), fingerprint))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
