"""The JSON report: the full result of one submission, byte-identical for identical inputs."""

from __future__ import annotations

from grader.scoring.models import Report


def report_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"


def load_report(text: str) -> Report:
    return Report.model_validate_json(text)
