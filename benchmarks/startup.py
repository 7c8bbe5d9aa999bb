"""Benchmark start-up: ``grader --version``, ``grader --help`` and a one-answer quick check.

Usage::

    .venv/bin/python benchmarks/startup.py [--runs 9] [--rubric rubrics/a3] [--question 1.2]
        [--answer '\\frac{1-p}{p}']

Each command runs ``--runs`` times, the commands interleaved (a, b, c, a, b, c, ...) so that load
from other programs on the machine hits them alike; the median of each counts. It prints the
targets of issue 16 as ratios measured in this run:

- ``grader --version`` and ``grader --help`` against ``python -c "import sympy"`` (target ≤ 1.3×);
- ``grader check --rubric R --question Q --answer A`` against ``python -c "import sympy, numpy"``
  (target ≤ 2×), with the rubric's lint already in the disk cache (the first check of a rubric
  also lints it: that run is shown apart, as "cold").

The commands run with a private, empty cache folder (``GRADER_CACHE_DIR``), so the user's own
cache neither helps nor is touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _grader() -> list[str]:
    """The installed console script beside this interpreter (what users run), else ``-m grader``."""
    script = Path(sys.executable).with_name("grader")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def _seconds(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (the median counts)")
    parser.add_argument("--rubric", type=Path, default=ROOT / "rubrics" / "a3")
    parser.add_argument("--question", default="1.2")
    parser.add_argument("--answer", default=r"\frac{1-p}{p}")
    args = parser.parse_args(argv)

    cache = Path(tempfile.mkdtemp(prefix="grader-startup-cache-"))
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache)}
    grader = _grader()
    check = [*grader, "check", "--rubric", str(args.rubric), "--question", args.question, "--answer", args.answer]
    commands = {
        "import sympy": [sys.executable, "-c", "import sympy"],
        "grader --version": [*grader, "--version"],
        "grader --help": [*grader, "--help"],
        "import sympy, numpy": [sys.executable, "-c", "import sympy, numpy"],
        "grader check (one answer)": check,
    }
    try:
        cold = _seconds(check, env)  # lints the rubric and fills the cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(_seconds(command, env))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"start-up, median of {args.runs} interleaved runs each ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end):")
    for name, value in median.items():
        print(f"  {name:<28} {value * 1000:6.0f} ms")
    print(f"  {'grader check, cold cache':<28} {cold * 1000:6.0f} ms (one run: also lints the rubric)")
    version = median["grader --version"] / median["import sympy"]
    helptext = median["grader --help"] / median["import sympy"]
    quick = median["grader check (one answer)"] / median["import sympy, numpy"]
    print(f"ratio grader --version / import sympy:        {version:.2f}x (target <= 1.3x: {'met' if version <= 1.3 else 'NOT met'})")
    print(f"ratio grader --help / import sympy:           {helptext:.2f}x (target <= 1.3x: {'met' if helptext <= 1.3 else 'NOT met'})")
    print(f"ratio grader check / import sympy, numpy:     {quick:.2f}x (target <= 2x: {'met' if quick <= 2 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
