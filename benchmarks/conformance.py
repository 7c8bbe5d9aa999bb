"""Run grader's equivalence engine over the peer conformance cases and report agreement.

Usage::

    .venv/bin/python benchmarks/conformance.py [--data DIR] [--file NAME] [--show wrong|undecided|all]
        [--timeout 5]

The data (``../shared/conformance`` next to the repository by default) holds cases from the test
suites of Math-Verify, STACK and PrairieLearn; read its README. Each in-scope case is parsed with
grader's own parsers and compared with ``check_equivalence`` (seed 0, default tolerances unless
the source test states one). A case *agrees* when our decided verdict equals the label; an
``undecided`` verdict never agrees. A *false accept* is "equivalent" on a case labelled false; a
*false reject* is "not equivalent" on a case labelled true.

Scope: a case is in scope when it compares two formulas, which is a grader's job, whatever the
formulas hold: numbers, expressions, equations, inequalities, sets, tuples, intervals, matrices,
ratios, lists of named values, decimals against fractions under a rounding. Skipped cases are
counted by reason, and each reason is a case that is not a comparison of two formulas:

- every file: rows without a true/false label (expected errors, rejections), rows the extractor
  flagged as mislabelled, and ``string_form`` rows (exact text output, not equivalence);
- Math-Verify (the issue's own exclusions: free-text extraction, units, percent):
  - free-text answer extraction: prose around or inside the formula (two words in a row), the
    ``free_text_extraction`` tag, several ``\\boxed``, several ``$…$``, "and"/"or" between
    answers;
  - percentages (``%``, "percent", "pct");
  - units, degrees and ``\\text`` words: a ``\\text``/``\\textbf``/``\\mbox`` holding anything but a
    single letter (``\\text{e}``, ``\\text{E}`` are symbols and stay in), ``^\\circ``;
  - locale number formats: comma thousands separators (``7,425,000``) and decimal commas
    (``1,22``), which read as lists (``1 000``, ``1\\,000``, ``14{,}912``, ``49,\\!479`` are in);
  - chains ``x = 5+5+1 = 7 = 11`` with two or more ``=``/``≈`` in one statement: Math-Verify
    grades only the last right-hand side, a grader every link (``k=0`` in a subscript and
    ``a = 1, b = 2`` are not chains);
  - clock times (both sides ``h:mm``);
  - ``strict=false`` (variable renaming) and ``allow_set_relation_comp`` (set-vs-relation
    matching), Math-Verify options that are not grading;
  - garbled source strings: a doubled backslash before a command (``\\\\le``), as the README notes;
  - SymPy constructor text that is not a plain number (see the harness adaptations);
- STACK: every answer test except AlgEquiv, NumRelative and NumAbsolute (EqualComAss, CasEqual and
  EqualComAssRules are structural on purpose; SubstEquiv renames variables; SysEquiv, Sets and
  PropLogic need systems, Maxima sets and logic), Maxima-only constructs (``ev``, ``stackeq``,
  noun forms of functions grader does not read (``'diff``), ``declare``/``assume``, intervals
  ``oo(…)``, ``%union``, ``:=``, Maxima's ``inf``/``minf`` arithmetic, …), logic
  (``and``/``or``/``not``), units, and all of ``stack_other_tests.jsonl`` (form, precision, units
  and string tests, not equivalence);
- PrairieLearn: sets and intervals (calculator syntax has no interval reader yet), and its input
  policies (complex numbers disabled, ``j`` as the imaginary unit, ``2e+3`` meaning 2·e + 3).

Harness adaptations (not engine changes): surrounding ``$…$``/``\\(…\\)``/``\\[…\\]``, a lone
leftover ``$`` and one outer ``\\boxed{…}`` are removed from Math-Verify strings; Math-Verify's
``float_rounding`` r becomes ``atol = 0.5·10⁻ʳ``; its ``sympy.Float(0.333)``/``sympy.Rational(1, 3)``
rows become ``0.333``/``\\frac{1}{3}``; Maxima's ``%pi``, ``%e``, ``%i`` become ``pi``, ``e``, ``i``
and the noun quote of a function grader reads is dropped (``'root(x)`` is ``root(x)``); STACK's
AlgEquiv is exact equality (``rtol = atol = 0``: decimals are the numbers they write, so
``0.333333333333333`` is not ``1/3``) and NumRelative/NumAbsolute tolerances become
``rtol``/``atol``; PrairieLearn references (SymPy ``str`` output) have ``**`` → ``^``, ``I`` →
``i``, ``E`` → ``e``, ``oo`` → ``infinity``, the variables the test declares become scalar
symbols (so ``i`` is a variable when the test says so; ``μ0`` is declared as ``mu0``, the name
grader reads) and its custom functions are declared without a definition (uninterpreted).

Targets: Math-Verify in-scope agreement ≥ 95% with zero false accepts; STACK plain-expression
AlgEquiv (no feature tag) agreement ≥ 90%; the median time per Math-Verify pair (parse both sides
and compare, bounded as in grading) below Math-Verify's own on the same pairs in the same run.
Math-Verify is optional (``pip install -e '.[bench]'``); without it the comparison is skipped.
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
from grader.math.api import symbol_table  # noqa: E402
from grader.math.equivalence import check_equivalence  # noqa: E402
from grader.math.functions import FUNCTION_ALIASES  # noqa: E402
from grader.math.latex import parse_latex  # noqa: E402
from grader.math.symbols import SymbolTable  # noqa: E402
from grader.math.text import parse_text  # noqa: E402
from grader.math.tree import ParseError, Sym  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "conformance"
_KNOWN_WORDS = frozenset(FUNCTION_ALIASES) | {"root", "lg", "abs", "factorial", "log10", "log2"}


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
_LOCALE_NUMBER = re.compile(r"^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$|^\s*-?\d+,\d+\s*$")
_TEXT_WORD = re.compile(r"\\(?:text[a-z]*|mbox)\s*\{(?!\s*[A-Za-z]\s*\})[^{}]*\}")
_PROSE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}'?[a-z]*\s+[A-Za-z]{2,}(?![A-Za-z]*\s*[({])")
_DEGREES = re.compile(r"\\circ|°")
_PERCENT = re.compile(r"%|\bpercent|\bpct\b")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
_GARBLED = re.compile(r"(?<!\\)\\\\(?:le|ge|boxed|left|right|frac|text|sqrt|cdot)(?![A-Za-z])")
_SYMPY_NUMBER = re.compile(r"sympy\.(?:Float|Integer)\(\s*(-?[\d.]+)\s*\)")
_SYMPY_RATIONAL = re.compile(r"sympy\.Rational\(\s*(-?\d+)\s*,\s*(\d+)\s*\)")


def strip_math(text: str) -> str | None:
    """The formula inside one pair of math delimiters and one outer ``\\boxed{}``; None if prose remains."""
    s = text.strip().rstrip(".").strip()
    if s.replace("\\$", "").count("$") == 1 and (s.startswith("$") or s.endswith("$")):
        s = s.strip("$").strip()  # a lone delimiter left over from extraction: "0.3333$"
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


def _statements(text: str) -> list[str]:
    """Top-level statements (split at commas and semicolons outside brackets), brace groups blanked."""
    out, current, depth = [], [], 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if depth == 0 and ch in ",;":
            out.append("".join(current))
            current = []
            continue
        current.append(ch if depth == 0 or ch in "()[]" else " ")
    out.append("".join(current))
    return out


def _is_chain(text: str) -> bool:
    """``x = 5+5+1 = 7 = 11``: one statement with two or more ``=``/``≈`` (not ``k=0`` in a subscript)."""
    return any(len(re.findall(r"(?<![<>!:\\])=|\\approx", statement)) >= 2 for statement in _statements(text))


def _from_sympy(text: str) -> str | None:
    """``sympy.Rational(1, 3) + 1`` as LaTeX (numbers and + - only); None for anything else."""
    out = _SYMPY_RATIONAL.sub(lambda m: f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}", text)
    out = _SYMPY_NUMBER.sub(lambda m: m.group(1), out)
    return None if "sympy" in out or re.search(r"[^\d\s.+\-\\{}a-z]", out) else out


def mathverify_case(row: dict[str, Any]) -> Case | str:
    options = row.get("options") or {}
    features = set(row.get("features") or [])
    raw_student, raw_reference = row["student"], row["reference"]
    if row.get("syntax") != "latex":
        translated = (_from_sympy(raw_student), _from_sympy(raw_reference))
        if translated[0] is None or translated[1] is None:
            return "SymPy constructor text that is not a plain number"
        raw_student, raw_reference = translated[0], translated[1]
    if "free_text_extraction" in features:
        return "free-text answer extraction (prose, several answers, several \\boxed)"
    if options.get("strict") is False:
        return "strict=false (variable renaming)"
    if options.get("allow_set_relation_comp"):
        return "set-vs-relation comparison option"
    if any(_GARBLED.search(t) for t in (raw_student, raw_reference)):
        return "garbled source string (a doubled backslash before a command)"
    if any(_PERCENT.search(t) for t in (raw_student, raw_reference)):
        return "percentages"
    if any(_TEXT_WORD.search(t) or _DEGREES.search(t) for t in (raw_student, raw_reference)):
        return "units, degrees or \\text words"
    student, reference = strip_math(raw_student), strip_math(raw_reference)
    if student is None or reference is None or _PROSE.search(student) or _PROSE.search(reference):
        return "free-text answer extraction (prose, several answers, several \\boxed)"
    for text in (student, reference):
        if _LOCALE_NUMBER.search(text):
            return "thousands separators or decimal commas (locale number formats)"
        if _is_chain(text):
            return "chain of several = (Math-Verify grades only the last right-hand side)"
    if _CLOCK.match(student) and _CLOCK.match(reference):
        return "clock times (h:mm)"
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
    student, reference = _drop_nouns(row["student"]), _drop_nouns(row["reference"])
    for text in (student, reference):
        if _MAXIMA_ONLY.search(text):
            return "Maxima-only constructs"
    rtol, atol = 0.0, 0.0  # AlgEquiv is exact equality: 0.333333333333333 is not 1/3
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


_NOUN = re.compile(r"'([A-Za-z][A-Za-z0-9_]*)(?=\()")


def _drop_nouns(text: str) -> str:
    """``'root(x)`` is Maxima's unevaluated (noun) form of ``root(x)``: the same value. Only for
    functions grader reads; ``'diff``/``'int`` nouns stay and are skipped as calculus."""
    return _NOUN.sub(lambda m: m.group(1) if m.group(1) in _KNOWN_WORDS else m.group(0), text)


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
    declared: dict[str, Any] = {}
    for name in options.get("variables") or []:
        declared[_pl_name(name)] = {"kind": "scalar", "domain": "real"}
    for name in options.get("custom_functions") or []:
        declared[_pl_name(name)] = {"kind": "function"}  # uninterpreted: random functions decide
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


def _pl_name(name: str) -> str:
    """A declared name as grader's reader spells it (``μ0`` is ``mu0``, ``φ`` is ``phi``)."""
    parsed = parse_text(name)
    return parsed.tree.name if not isinstance(parsed, ParseError) and isinstance(parsed.tree, Sym) else name


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


def _noop() -> int:
    return 1


def sandbox_round_trip() -> str:
    """A trivial bounded call through the warm helper, and through a child forked for the call
    (what a call that cannot be pickled, and every call before the helpers, costs)."""
    lines = []
    for label, fn in (("warm helper", _noop), ("a fork per call", lambda: 1)):
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            outcome = run_bounded(fn, timeout_s=5, memory_mb=256)
            timings.append(time.perf_counter() - started)
            assert isinstance(outcome, Finished)
        timings.sort()
        lines.append(f"{label} median {statistics.median(timings) * 1000:.2f} ms, max {timings[-1] * 1000:.1f} ms")
    return "sandbox round trip (trivial call, 30 runs each): " + "; ".join(lines)


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
            if tally.times and mv_tally.times:
                ours, theirs = statistics.median(tally.times) * 1000, statistics.median(mv_tally.times) * 1000
                verdict = "met" if ours < theirs else "NOT met"
                print(f"  is_equivalent median per pair: grader {ours:.1f} ms, Math-Verify {theirs:.1f} ms on the same "
                      f"{len(tally.times)} pairs in this run (parse and compare, each; target: below Math-Verify's: {verdict})")
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
