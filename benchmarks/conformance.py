"""Run grader's equivalence engine over the peer conformance cases and report agreement.

Usage::

    .venv/bin/python benchmarks/conformance.py [--data DIR] [--file NAME] [--show wrong|undecided|all]
        [--timeout 5] [--jobs N]

The data (``../shared/conformance`` next to the repository by default) holds cases from the test
suites of Math-Verify, STACK and PrairieLearn; read its README. Each in-scope case is parsed with
grader's own parsers and compared with ``check_equivalence`` (seed 0, default tolerances unless
the source test states one). A case *agrees* when our decided verdict equals the label; an
``undecided`` verdict never agrees. A *false accept* is "equivalent" on a case labelled false; a
*false reject* is "not equivalent" on a case labelled true.

Scope: cases outside a grader's job are skipped and counted, by reason:

- every file: rows without a true/false label (expected errors, rejections), rows the extractor
  flagged as mislabelled, and ``string_form`` rows (exact text output, not equivalence);
- Math-Verify: free-text answer extraction (``free_text_extraction``, prose around the formula,
  several ``\\boxed``), percentages, units and ``\\text`` words (``text_or_units``), intervals and
  set operations (the expression tree has no interval node), ``strict=false`` (variable renaming),
  ``allow_set_relation_comp``, rows written as SymPy constructor text, thousands separators and
  decimal commas (locale number formatting), and chains with two or more ``=``/``≈`` (Math-Verify
  keeps only the last right-hand side; a grader must check every step);
- STACK: every answer test except AlgEquiv, NumRelative and NumAbsolute (EqualComAss, CasEqual and
  EqualComAssRules are structural on purpose; SubstEquiv renames variables; SysEquiv, Sets and
  PropLogic need systems, Maxima sets and logic), Maxima-only constructs (``ev``, ``stackeq``,
  noun forms ``'f``, ``declare``/``assume``, intervals ``oo(…)``, ``%union``, ``:=``, Maxima's
  ``inf``/``minf`` arithmetic, …), logic
  (``and``/``or``/``not``), units, and all of ``stack_other_tests.jsonl`` (form, precision, units
  and string tests, not equivalence);
- PrairieLearn: sets and intervals, its input conventions (complex numbers disabled, ``j`` as
  the imaginary unit, ``2e+3`` meaning 2·e + 3), and custom multi-argument functions.

Harness adaptations (not engine changes): surrounding ``$…$``/``\\(…\\)``/``\\[…\\]`` and one outer
``\\boxed{…}`` are removed from Math-Verify strings; Math-Verify's ``float_rounding`` r becomes
``atol = 0.5·10⁻ʳ``; Maxima's ``%pi``, ``%e``, ``%i`` become ``pi``, ``e``, ``i``; STACK's
NumRelative/NumAbsolute tolerance becomes ``rtol``/``atol``; PrairieLearn references (SymPy ``str``
output) have ``**`` → ``^``, ``I`` → ``i``, ``E`` → ``e``, ``oo`` → ``infinity``, and the variables
the test declares become scalar symbols (so ``i`` is a variable when the test says so).

Targets: Math-Verify in-scope agreement ≥ 95% with zero false accepts; STACK plain-expression
AlgEquiv (no feature tag) agreement ≥ 90%.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader._internal.sandbox import Finished, run_bounded  # noqa: E402
from grader.math import check_equivalence, parse_latex, parse_text, symbol_table  # noqa: E402
from grader.math.symbols import SymbolTable  # noqa: E402
from grader.math.tree import ParseError  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "conformance"


@dataclass
class Case:
    id: str
    file: str
    student: str
    reference: str
    expected: bool
    syntax: str  # "latex" or "text"
    symbols: SymbolTable = field(default_factory=SymbolTable)
    rtol: float = 1e-6
    atol: float = 1e-9
    group: str = ""  # a subgroup reported on its own (e.g. STACK plain AlgEquiv)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    case: Case
    verdict: bool | None
    method: str
    detail: str
    seconds: float


# ---------------------------------------------------------------------------------------------
# Scope


def common_skip(row: dict[str, Any]) -> str | None:
    if row.get("expected") is None:
        return "no true/false label (expected error or rejection)"
    if row.get("extractor_flag"):
        return "label flagged as wrong by the extractor"
    if row.get("kind") in ("string_form", "rejection", "expected_error"):
        return f"{row['kind']} row (not an equivalence check)"
    return None


_DELIMITERS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
_INTERVAL = re.compile(r"[\[(][^\[\]()]*,[^\[\]()]*[\])]")
_INEQUALITY = re.compile(r"<|>|\\le|\\ge|\\lt|\\gt")
_HALF_OPEN = re.compile(r"\[[^\[\]()]*,[^\[\]()]*\)|\([^\[\]()]*,[^\[\]()]*\]")
_LOCALE_NUMBER = re.compile(r"^\s*-?\d{1,3}([, ]\d{3})+(\.\d+)?\s*$|^\s*-?\d+,\d+\s*$|\d,\\!\s*\d")


def strip_math(text: str) -> str | None:
    """The formula inside one pair of math delimiters and one outer ``\\boxed{}``; None if prose remains."""
    s = text.strip().rstrip(".").strip()
    for opening, closing in _DELIMITERS:
        if s.startswith(opening) and s.endswith(closing) and len(s) >= len(opening) + len(closing):
            inner = s[len(opening) : len(s) - len(closing)]
            if opening == "$" and "$" in inner:
                return None
            s = inner.strip().rstrip(".").strip()
            break
    if "$" in s.replace("\\$", "") or "\\(" in s or "\\[" in s or "\\end{align" in s or "\\begin{align" in s:
        return None
    if re.search(r"(?<![A-Za-z\\])(or|and)(?![A-Za-z])", s):
        return None  # prose connectives between answers
    if s.count("\\boxed") > 1:
        return None
    if s.startswith("\\boxed{") and s.endswith("}"):
        inner = s[len("\\boxed{") : -1]
        if _balanced(inner):
            s = inner.strip()
    elif "\\boxed" in s:
        return None
    return s


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


def mathverify_case(row: dict[str, Any]) -> Case | str:
    options = row.get("options") or {}
    features = set(row.get("features") or [])
    if row.get("syntax") != "latex":
        return "SymPy constructor text, not LaTeX"
    for tag, reason in (
        ("free_text_extraction", "free-text answer extraction"),
        ("percent", "percentages"),
        ("text_or_units", "units or \\text words"),
    ):
        if tag in features:
            return reason
    if options.get("strict") is False:
        return "strict=false (variable renaming)"
    if options.get("allow_set_relation_comp"):
        return "set-vs-relation comparison option"
    student, reference = strip_math(row["student"]), strip_math(row["reference"])
    if student is None or reference is None:
        return "free-text answer extraction"
    for text in (student, reference):
        if (
            "\\cup" in text
            or "\\cap" in text
            or "\\in " in text
            or "\\in[" in text
            or _HALF_OPEN.search(text)
        ):
            return "intervals and set operations"
        if _LOCALE_NUMBER.search(text):
            return "thousands separators or decimal commas"
        if re.search(r"\d\s*:\s*\d|[A-Za-z}]\s*:\s*[A-Za-z\\]", text):
            return "ratios and clock times (the tree has no ratio node)"
        if len(re.findall(r"(?<![<>!\\])=|\\approx", text)) >= 2:
            return "chain of several = (Math-Verify keeps the last right-hand side)"
    if "set_or_interval" in features and (_INTERVAL.search(student) or _INTERVAL.search(reference)):
        return "intervals and set operations"
    for one, other in ((student, reference), (reference, student)):
        if _INEQUALITY.search(one) and _INTERVAL.fullmatch(other.strip()):
            return "intervals and set operations"
    rounding = options.get("float_rounding")
    atol = 0.5 * 10.0 ** (-int(rounding)) if isinstance(rounding, int) else 1e-9
    return Case(
        row["id"], "mathverify", student, reference, bool(row["expected"]), "latex", atol=atol, raw=row
    )


_MAXIMA_ONLY = re.compile(
    r"\b(ev|simp|nounadd|nounmul|noundiff|nounint|nounpow|stackeq|stackvector|stackunits|scientific_notation|"
    r"natural_domain|disp_complex|trigeval|trigrat|declare|assume|integerp|oo|cc|oc|co|texput|ntuple|dispdp|displaydp|"
    r"significantfigures|subst|matrix|makelist|block|lambda)\s*\("
    r"|'|%union|:=|#|\b(and|or|not|nounor|nounand|xor|implies|true|false|all|none|und|ind|zeroa|zerob|inf|minf)\b"
)


def stack_case(row: dict[str, Any]) -> Case | str:
    test = row.get("test")
    if test not in ("AlgEquiv", "NumRelative", "NumAbsolute"):
        return f"STACK {test} (not plain value equivalence)"
    features = set(row.get("features") or [])
    for tag, reason in (
        ("logic", "logic"),
        ("maxima_specific", "Maxima-only constructs"),
        ("possible_units", "units"),
        ("string", "strings"),
        ("function_def", "Maxima function definitions"),
        ("calculus", "calculus nouns (diff/int)"),
        ("set", "Maxima sets and lists"),
        ("list", "Maxima sets and lists"),
        ("matrix", "Maxima matrices"),
    ):
        if tag in features:
            return reason
    student, reference = row["student"], row["reference"]
    for text in (student, reference):
        if _MAXIMA_ONLY.search(text):
            return "Maxima-only constructs"
    rtol, atol = 1e-6, 1e-9
    if test == "NumRelative":
        rtol, atol = _number_option(row.get("options"), 0.05), 0.0
    elif test == "NumAbsolute":
        rtol, atol = 0.0, _number_option(row.get("options"), 0.05)
    group = "plain AlgEquiv" if test == "AlgEquiv" and not features else ""
    return Case(
        row["id"], "stack", _maxima(student), _maxima(reference), bool(row["expected"]), "text",
        rtol=rtol, atol=atol, group=group, raw=row,
    )  # fmt: skip


def _number_option(option: Any, default: float) -> float:
    try:
        return float(option) if option not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _maxima(text: str) -> str:
    return text.replace("%pi", "pi").replace("%e", "e").replace("%i", "i")


def prairielearn_case(row: dict[str, Any]) -> Case | str:
    options = row.get("options") or {}
    features = set(row.get("features") or [])
    if "set_or_interval" in features:
        return "sets and intervals"
    if options.get("allow_complex") is False and "complex_or_imaginary_symbol" in features:
        return "complex numbers disabled (PrairieLearn input policy)"
    if "complex_or_imaginary_symbol" in features and re.search(r"\dj|\bj\b", row["student"]):
        return "j as the imaginary unit (PrairieLearn input policy)"
    if row.get("test", "").startswith("test_scientific_notation_with_sign_as_euler"):
        return "the 2e+3 = 2·e + 3 input rule (PrairieLearn policy)"
    custom = options.get("custom_functions") or []
    declared: dict[str, Any] = {}
    for name in options.get("variables") or []:
        declared[name] = {"kind": "scalar", "domain": "real"}
    if custom:
        if any(
            re.search(rf"\b{re.escape(f)}\s*\([^()]*,", row["student"] + row["reference"]) for f in custom
        ):
            return "custom functions of several arguments"
        for name in custom:
            declared[name] = {"kind": "function"}
    try:
        table = symbol_table(declared)
    except ValueError as error:
        return f"symbols not declarable here ({error})"
    return Case(
        row["id"],
        "prairielearn",
        row["student"],
        _sympy_str(row["reference"]),
        bool(row["expected"]),
        "text",
        symbols=table,
        raw=row,
    )


def _sympy_str(text: str) -> str:
    out = text.replace("**", "^")
    out = re.sub(r"\bI\b", "i", out)
    out = re.sub(r"\bE\b", "e", out)
    out = re.sub(r"\boo\b", "infinity", out)
    return out


READERS: dict[str, Callable[[dict[str, Any]], Case | str]] = {
    "mathverify.jsonl": mathverify_case,
    "stack.jsonl": stack_case,
    "prairielearn.jsonl": prairielearn_case,
    "stack_other_tests.jsonl": lambda row: "other STACK answer tests (form, precision, units, strings)",
}


# ---------------------------------------------------------------------------------------------
# Running


def run_case(case: Case, timeout_s: float) -> Result:
    started = time.perf_counter()
    parse = parse_latex if case.syntax == "latex" else parse_text
    reference = parse(case.reference, case.symbols)
    if isinstance(reference, ParseError):
        return Result(
            case,
            None,
            "parse",
            f"reference does not parse: {reference.message}",
            time.perf_counter() - started,
        )
    student = parse(case.student, case.symbols)
    if isinstance(student, ParseError):
        return Result(
            case,
            None,
            "parse",
            f"student answer does not parse: {student.message}",
            time.perf_counter() - started,
        )
    outcome = check_equivalence(
        student.tree,
        reference.tree,
        case.symbols,
        seed=0,
        rtol=case.rtol,
        atol=case.atol,
        timeout_s=timeout_s,
    )
    verdict = None if outcome.verdict == "undecided" else outcome.verdict == "equivalent"
    return Result(case, verdict, outcome.method, outcome.detail, time.perf_counter() - started)


def math_verify_verdict(case: Case) -> bool | None:
    """Math-Verify on the same pair, when it is installed (it is not a project dependency)."""
    import math_verify

    try:
        gold = math_verify.parse(case.raw["reference"])
        pred = math_verify.parse(case.raw["student"])
        return bool(math_verify.verify(gold, pred))
    except Exception:
        return None


@dataclass
class Tally:
    cases: int = 0
    agree: int = 0
    false_accept: int = 0
    false_reject: int = 0
    undecided: int = 0
    times: list[float] = field(default_factory=list)

    def add(self, result: Result) -> None:
        self.cases += 1
        self.times.append(result.seconds)
        if result.verdict is None:
            self.undecided += 1
        elif result.verdict == result.case.expected:
            self.agree += 1
        elif result.verdict:
            self.false_accept += 1
        else:
            self.false_reject += 1

    def line(self, label: str) -> str:
        if not self.cases:
            return f"  {label}: no in-scope cases"
        pct = 100.0 * self.agree / self.cases
        times = sorted(self.times)
        median = statistics.median(times) * 1000
        p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))] * 1000
        return (
            f"  {label}: in scope {self.cases}, agree {self.agree} ({pct:.1f}%), false accepts {self.false_accept}, "
            f"false rejects {self.false_reject}, undecided {self.undecided}; per case median {median:.1f} ms, p99 {p99:.1f} ms"
        )


def sandbox_round_trip() -> str:
    def noop() -> int:
        return 1

    timings = []
    for _ in range(30):
        started = time.perf_counter()
        outcome = run_bounded(noop, timeout_s=5, memory_mb=256)
        timings.append(time.perf_counter() - started)
        assert isinstance(outcome, Finished)
    timings.sort()
    return f"sandbox round trip (trivial call, 30 runs): median {statistics.median(timings) * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the *.jsonl files")
    parser.add_argument("--file", action="append", help="only this file (repeatable)")
    parser.add_argument("--show", choices=("wrong", "undecided", "all"), help="list cases of this kind")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-check time limit in seconds")
    args = parser.parse_args(argv)

    print(__doc__.split("Scope:")[1].split("Targets:")[0].rstrip())
    print()
    print(sandbox_round_trip())
    try:
        import math_verify  # noqa: F401

        have_math_verify = True
    except ImportError:
        have_math_verify = False
        print("math-verify not installed: no side-by-side comparison")
    print()

    files = sorted(p for p in args.data.glob("*.jsonl") if not args.file or p.name in args.file)
    overall_ok = True
    for path in files:
        reader = READERS.get(path.name)
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        skipped: Counter[str] = Counter()
        tally, groups = Tally(), {}  # type: ignore[var-annotated]
        mv_tally = Tally()
        shown: list[str] = []
        for row in rows:
            reason = common_skip(row) or (None if reader else "no reader for this file")
            case: Case | str = reason if reason else reader(row)  # type: ignore[misc]
            if isinstance(case, str):
                skipped[case] += 1
                continue
            result = run_case(case, args.timeout)
            tally.add(result)
            if case.group:
                groups.setdefault(case.group, Tally()).add(result)
            if have_math_verify and case.file == "mathverify":
                started = time.perf_counter()
                mv = math_verify_verdict(case)
                mv_tally.add(Result(case, mv, "math-verify", "", time.perf_counter() - started))
            wrong = result.verdict is not None and result.verdict != case.expected
            if (
                args.show == "all"
                or (args.show == "wrong" and wrong)
                or (args.show == "undecided" and result.verdict is None)
            ):
                mark = (
                    "UNDECIDED"
                    if result.verdict is None
                    else ("OK" if not wrong else ("FALSE ACCEPT" if result.verdict else "FALSE REJECT"))
                )
                shown.append(
                    f"    [{mark}] {case.id} label={case.expected} student={case.student!r} reference={case.reference!r}"
                    f"\n        {result.method}: {result.detail[:240]}"
                )
        print(f"{path.name}: {len(rows)} rows, skipped {sum(skipped.values())}")
        for reason, count in skipped.most_common():
            print(f"    skipped {count:4d}  {reason}")
        print(tally.line("grader"))
        for name, sub in groups.items():
            print(sub.line(name))
        if have_math_verify and path.name == "mathverify.jsonl":
            print(mv_tally.line("math-verify"))
        if path.name == "mathverify.jsonl" and tally.cases:
            ok = tally.agree >= 0.95 * tally.cases and tally.false_accept == 0
            overall_ok &= ok
            print(f"  target (≥95% agreement, 0 false accepts): {'met' if ok else 'NOT met'}")
        if path.name == "stack.jsonl" and "plain AlgEquiv" in groups:
            sub = groups["plain AlgEquiv"]
            ok = sub.agree >= 0.90 * sub.cases
            overall_ok &= ok
            print(f"  target (plain AlgEquiv ≥90% agreement): {'met' if ok else 'NOT met'}")
        for line in shown:
            print(line)
        print()
    return 0 if overall_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
