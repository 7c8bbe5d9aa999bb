"""The reading corpora, pinned: submissions in every format and many layouts, graded against
verdicts written from the answer key (never from grader's output). Figures: benchmarks/reading.py."""

from __future__ import annotations

import pytest
from corpus_agreement import CORPORA, grade_corpus, submissions

FORMATS = {"md", "tex", "ipynb", "docx", "txt"}


@pytest.mark.parametrize("name", ["a3", "calc"])
def test_corpus_is_varied(name: str) -> None:
    found = submissions(CORPORA / name)
    suffixes = {path.suffix.lstrip(".") for path, _ in found}
    if name == "a3":
        assert len(found) >= 12 and suffixes == FORMATS
        statuses = {status for _, spec in found for status in dict(spec["expected"]).values()}  # type: ignore[call-overload]
        assert {"correct", "partial", "incorrect", "missing", "needs_review"} <= statuses
    else:
        assert len(found) >= 4 and len(suffixes) >= 4


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a3", "calc"])
def test_corpus_agreement(name: str) -> None:
    results = grade_corpus(CORPORA / name)
    rows = sum(len(r.rows) for r in results)
    agree = sum(r.agree for r in results)
    disagreements = [(r.name, *row) for r in results for row in r.rows if row[1] != row[2]]
    assert agree >= 0.97 * rows, disagreements
    assert [(r.name, r.false_accepts) for r in results if r.false_accepts] == []
    assert [(r.name, r.silent_zeros) for r in results if r.silent_zeros] == []
