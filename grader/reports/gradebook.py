"""The CSV gradebook: one row per submission, one column per sub-question."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from grader.rubric.models import Rubric
from grader.scoring.models import Report


def _points(value: float) -> str:
    return f"{value:g}"


def gradebook_csv(rubric: Rubric, reports: Sequence[Report]) -> str:
    ids = [q.id for q in rubric.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", *ids, "total", "max_score", "status"])
    for report in sorted(reports, key=lambda r: r.submission):
        scores = {q.id: q.score for q in report.questions}
        writer.writerow(
            [
                report.submission,
                *(_points(scores.get(i, 0)) for i in ids),
                _points(report.score),
                _points(report.max_score),
                report.status,
            ]
        )
    return out.getvalue()
