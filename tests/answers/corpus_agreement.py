"""Grade a corpus of submissions whose expected verdicts per question were written by hand (from
the answer key, never from grader's output) and count agreement, false accepts and silent zeros.

Each submission ``NAME.EXT`` has a sidecar ``NAME.expected.toml`` with an ``[expected]`` table of
question id to status (correct, partial, incorrect, missing, needs_review). A corpus folder is
graded with ``rubric.toml`` in the folder if there is one, else with the rubric named by its
``rubric`` file (a path relative to the repository).
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.checking.lint import load_rubric
from grader.errors import GraderError
from grader.grading.pipeline import grade_file
from grader.rubric.models import Rubric

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT / "tests" / "corpus"
_BETTER = {"correct": 3, "partial": 2, "incorrect": 1, "missing": 0}


@dataclass
class FileResult:
    name: str
    format: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (question, expected, got)
    report_status: str = ""
    score: float = 0.0
    seconds: float = 0.0

    @property
    def agree(self) -> int:
        return sum(1 for _, want, got in self.rows if want == got)

    @property
    def false_accepts(self) -> list[tuple[str, str, str]]:
        """Credit the answer key does not give: 'correct' for anything else, 'partial' for a wrong or missing answer."""
        return [
            row for row in self.rows
            if row[1] in _BETTER and row[2] in _BETTER and row[2] != "missing" and _BETTER[row[2]] > _BETTER[row[1]]
            or (row[2] == "correct" and row[1] != "correct")
        ]

    @property
    def silent_zeros(self) -> list[tuple[str, str, str]]:
        """An answer the student wrote, finished as missing; or the whole file graded 0 without review."""
        rows = [row for row in self.rows if row[1] != "missing" and row[2] == "missing"]
        if self.report_status == "graded" and self.score == 0 and any(want != "missing" for _, want, _ in self.rows):
            rows.append(("(file)", "answers", "graded 0"))
        return rows


def corpus_rubric(folder: Path) -> Rubric:
    own = folder / "rubric.toml"
    if own.is_file():
        return load_rubric(folder)
    return load_rubric(ROOT / (folder / "rubric").read_text(encoding="utf-8").strip())


def submissions(folder: Path) -> list[tuple[Path, dict[str, object]]]:
    found = []
    for sidecar in sorted(folder.glob("*.expected.toml")):
        stem = sidecar.name.removesuffix(".expected.toml")
        matches = [p for p in folder.glob(stem + ".*") if not p.name.endswith(".expected.toml")]
        assert len(matches) == 1, f"{sidecar.name}: expected one submission named {stem}.*, found {matches}"
        found.append((matches[0], tomllib.loads(sidecar.read_text(encoding="utf-8"))))
    return found


def grade_corpus(folder: Path) -> list[FileResult]:
    rubric = corpus_rubric(folder)
    results = []
    for path, spec in submissions(folder):
        expected = {str(k): str(v) for k, v in dict(spec["expected"]).items()}  # type: ignore[call-overload]
        result = FileResult(name=path.name, format=str(spec.get("format", path.suffix.lstrip("."))))
        started = time.perf_counter()
        try:
            report = grade_file(path, rubric)
        except GraderError as error:
            result.rows = [(qid, want, "error") for qid, want in expected.items()]
            result.report_status = error.problems[0].code
        else:
            got = {q.id: q.status for q in report.questions}
            result.rows = [(qid, want, got.get(qid, "absent")) for qid, want in expected.items()]
            result.report_status, result.score = report.status, report.score
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results
