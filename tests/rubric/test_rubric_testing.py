"""`grader rubric test`: a rubric's own tests and the mutants of its references."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.authoring.mutants import mutants
from grader.authoring.testing import assert_rubric_passes
from grader.checking.lint import load_rubric
from grader.cli import main
from grader.math.latex import parse_latex
from grader.math.symbols import SymbolTable
from grader.math.tree import Parsed

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "cli" / "fixtures" / "mini" / "rubric.toml"
MATRICES = SymbolTable.model_validate(
    {
        "symbols": {
            "X": {"kind": "matrix", "shape": ["n", "d"]},
            "y": {"kind": "matrix", "shape": ["n", 1]},
            "lambda": {"kind": "scalar", "domain": "positive"},
        }
    }
)


def test_flagship_rubric_passes_its_tests_and_kills_every_mutant() -> None:
    report = assert_rubric_passes(ROOT / "rubrics" / "a3")
    assert len(report.cases) >= 50
    assert len(report.mutants) >= 100


def _operators(latex: str, symbols: SymbolTable) -> set[str]:
    parsed = parse_latex(latex, symbols)
    assert isinstance(parsed, Parsed)
    return {m.operator for m in mutants(parsed.tree, symbols)}


@pytest.mark.parametrize(
    ("latex", "present", "absent"),
    [
        (
            r"(X^\top X + \lambda I)^{-1} X^\top y",
            {"sign flip", "factor of 2", "swapped matrix product", "missing inverse", "missing transpose", "dropped term", "transposed matrix"},
            set(),
        ),
        (r"\frac{1-p}{p}", {"sign flip", "factor of 2", "inverted fraction", "sign of one term", "dropped term"}, {"swapped matrix product"}),
        (r"\begin{pmatrix} 0 & -\frac12 \\ \frac12 & 0 \end{pmatrix}", {"sign of one entry", "transposed matrix"}, {"sign flip"}),
        (r"-\frac12, \pm\frac{i}{2}", {"dropped item", "sign of one item"}, set()),
    ],
)
def test_mutant_operators(latex: str, present: set[str], absent: set[str]) -> None:
    operators = _operators(latex, MATRICES)
    assert present <= operators
    assert not (absent & operators)


def test_no_mutant_of_a_scalar_product_swaps_it() -> None:
    # p·q = q·p: swapping scalars would be an equivalent mutant, so it is never generated.
    assert "swapped matrix product" not in _operators(r"p q (1-p)", SymbolTable())


def test_broken_reference_fails_naming_question_and_part(tmp_path: Path) -> None:
    broken = tmp_path / "rubric.toml"
    broken.write_text(MINI.read_text().replace(r"'\frac{1-p}{p}'", r"'\frac{1-p}{2p}'"), encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "test", str(tmp_path), "--no-mutants"])
    assert result.exit_code == 1
    assert result.stdout == (
        r"FAIL question 1, part lambda: test 1 (\frac{1}{p} - 1): expected right, got wrong "
        "(at p = 0.4 yours gives 1.5, expected 0.75)\n"
        "rubric tests: 2 passed, 1 failed; mutants: 0 killed, 0 survived\n"
    )


def test_lenient_tolerance_lets_mutants_survive(tmp_path: Path) -> None:
    lenient = tmp_path / "rubric.toml"
    lenient.write_text(MINI.read_text().replace("reference = '0.5'", "reference = '0.5'\n  rtol = 5"), encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert "survived" in result.stdout.splitlines()[-1]
    assert "was accepted: the rubric cannot tell it from the reference" in result.stdout


def test_mini_rubric_passes() -> None:
    result = CliRunner().invoke(main, ["rubric", "test", str(MINI.parent)])
    assert (result.exit_code, result.stdout) == (0, "rubric tests: 3 passed, 0 failed; mutants: 10 killed, 0 survived\n")


def test_progress_goes_to_stderr_one_line_per_question_when_not_a_terminal() -> None:
    """A run of half a minute is never silent; stdout keeps only the results."""
    result = CliRunner().invoke(main, ["rubric", "test", str(MINI.parent), "--no-mutants"])
    ids = [q.id for q in load_rubric(MINI.parent).questions]
    assert result.stderr.splitlines() == [
        f"testing the rubric: {k}/{len(ids)} questions done (last: {qid})" for k, qid in enumerate(ids, start=1)
    ]
    assert result.stdout == "rubric tests: 3 passed, 0 failed; mutants: 0 killed, 0 survived\n"
