"""``grader.verify`` against Math-Verify on every labelled row of Math-Verify's own test cases.

Usage::

    .venv/bin/pip install -e '.[bench]'     # math-verify, for this benchmark only
    .venv/bin/python benchmarks/verify.py [--data ../shared/conformance/mathverify.jsonl] [--show]

Every row with a true/false label is run through both, in the same process, on the same strings:
``grader.verify(student, reference)`` and Math-Verify's ``verify(parse(gold), parse(pred))`` with
the row's own options (extraction targets, float rounding, strictness, set/relation matching).
Per test group it prints rows, agreement with the label (an undecided verdict never agrees), false
accepts (True on a row labelled false) and undecided rows, for both tools side by side. Labels
are Math-Verify's own recorded behaviour, so its agreement is its consistency with its tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "conformance" / "mathverify.jsonl"
if not DEFAULT.is_file():
    DEFAULT = Path("/work/shared/conformance/mathverify.jsonl")


def _math_verify(row: dict[str, Any]) -> bool | None:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, StringExtractionConfig, parse, verify

    options = row.get("options") or {}
    kinds = options.get("match_types") or ["latex", "expr"]
    priority = options.get("latex_boxed_match_priority", 0)
    configs: list[Any] = []
    for kind in kinds:
        if kind == "latex":
            configs.append(LatexExtractionConfig(boxed_match_priority=priority))
        elif kind == "expr":
            configs.append(ExprExtractionConfig())
        else:
            configs.append(StringExtractionConfig())
    try:
        gold = parse(row["reference"], extraction_config=configs)
        pred = parse(row["student"], extraction_config=configs)
        return bool(
            verify(
                gold,
                pred,
                float_rounding=options.get("float_rounding", 6),
                strict=options.get("strict", True),
                allow_set_relation_comp=options.get("allow_set_relation_comp", False),
            )
        )
    except Exception:  # Math-Verify raising counts as no verdict
        return None


_SYMPY = re.compile(r"sympy\.(?:Float|Integer)\(([^()]*)\)|sympy\.Rational\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)")


def _constructor_text(text: str) -> str:
    """The harness adaptation for ``test_precision``: ``sympy.Float(0.333)`` -> ``0.333``, ``sympy.Rational(1, 3)`` -> ``1/3``."""
    return _SYMPY.sub(lambda m: m.group(1) if m.group(1) is not None else f"({m.group(2)}/{m.group(3)})", text)


def _grader(row: dict[str, Any]) -> bool | None:
    import grader

    digits = (row.get("options") or {}).get("float_rounding", 6)
    try:
        return grader.verify(_constructor_text(row["student"]), _constructor_text(row["reference"]), rtol=10.0 ** -digits)
    except ValueError:  # a reference with no answer in it
        return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--show", action="store_true", help="print the rows where grader.verify disagrees with the label")
    args = parser.parse_args(argv)
    try:
        import math_verify  # noqa: F401
    except ImportError:
        print("math-verify is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("expected") in (True, False)]
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    shown = []
    for row in rows:
        label = bool(row["expected"])
        for tool, verdict in (("grader", _grader(row)), ("mv", _math_verify(row))):
            for group in (row["test"], "ALL"):
                s = stats[group]
                s["rows_" + tool] += 1
                s[f"{tool}_agree"] += verdict is not None and verdict == label
                s[f"{tool}_false_accept"] += verdict is True and not label
                s[f"{tool}_undecided"] += verdict is None
            if tool == "grader" and verdict != label:
                shown.append((row["id"], label, verdict, row["student"][:70], row["reference"][:40]))
    header = f"{'test group':42} {'rows':>4} | {'grader agree':>12} {'FA':>3} {'und':>4} | {'Math-Verify agree':>17} {'FA':>3} {'und':>4}"
    print(header)
    print("-" * len(header))
    for group in sorted(g for g in stats if g != "ALL") + ["ALL"]:
        s = stats[group]
        n = s["rows_grader"]
        print(
            f"{group:42} {n:>4} | {s['grader_agree']:>5} ({100 * s['grader_agree'] / n:5.1f}%) {s['grader_false_accept']:>3} {s['grader_undecided']:>4} |"
            f" {s['mv_agree']:>10} ({100 * s['mv_agree'] / n:5.1f}%) {s['mv_false_accept']:>3} {s['mv_undecided']:>4}"
        )
    if args.show:
        for item in shown:
            print(*item, sep=" | ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
