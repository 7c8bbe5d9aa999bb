"""Time the refusal of expression bombs (issue 15.7-15.8): each must end in a clear reason fast.

Usage::

    .venv/bin/python benchmarks/math_bombs.py [--repeat 3]

Prints, per bomb, the median wall time of one comparison (parse + ``check_equivalence``, which
forks one bounded worker) and the reason it was refused.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.math.equivalence import check_equivalence  # noqa: E402
from grader.math.latex import parse_latex  # noqa: E402
from grader.math.text import parse_text  # noqa: E402
from grader.math.tree import Parsed  # noqa: E402

SUMS = "(2a+2b+2c+2d+2e+2f)^{500} - 2^{500}(a+b+c+d+e+f)^{500}"
DEEP = "1"
for _ in range(150):
    DEEP = r"\frac{1}{1+" + DEEP + "}"
BOMBS = [
    ("binom in LaTeX", "latex", r"\operatorname{binom}(10^{9},10^{8})"),
    ("binomial in calculator syntax", "text", "binomial(10^9,10^8)"),
    ("171! times an expansion", "latex", rf"171!\cdot({SUMS})"),
    ("power tower", "latex", r"2^{2^{2^{2^{2^{100}}}}}"),
    ("double integral", "latex", r"\int_0^1\int_0^1 xy\,dx\,dy"),
    ("150-deep fractions", "latex", DEEP),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference = parse_latex(r"\frac{1-p}{p}")
    assert isinstance(reference, Parsed)
    check_equivalence(reference.tree, reference.tree)  # load everything once
    for name, syntax, text in BOMBS:
        times = []
        detail = ""
        for _ in range(args.repeat):
            started = time.perf_counter()
            parsed = (parse_latex if syntax == "latex" else parse_text)(text)
            if isinstance(parsed, Parsed):
                outcome = check_equivalence(parsed.tree, reference.tree, timeout_s=30)
                detail = f"{outcome.verdict}: {outcome.detail}"
            else:
                detail = f"not read: {parsed.message}"
            times.append(time.perf_counter() - started)
        print(f"{name:32s} {1000 * statistics.median(times):8.1f} ms  {detail[:110]}")


if __name__ == "__main__":
    main()
