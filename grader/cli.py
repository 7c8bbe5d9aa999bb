"""The command line: a thin layer over the Python API.

Exit codes: 0 graded (whatever the score), 1 a bad rubric or an unreadable submission,
2 wrong usage (click's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from grader import __version__
from grader.errors import GraderError, Problem
from grader.pipeline import grade_file
from grader.report.gradebook import gradebook_csv
from grader.report.json_report import report_json
from grader.report.terminal import render_terminal
from grader.rubric.load import lint_rubric, load_rubric, rubric_digest, rubric_path, rubric_schema
from grader.rubric.testing import run_rubric_tests
from grader.rubric.models import Rubric
from grader.scoring.models import Report

SUBMISSION_SUFFIXES = (".md", ".markdown", ".txt", ".tex")


class _Failed(Exception):
    """Problems already printed; exit with code 1."""


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        click.echo(f"error: {problem.one_line()}", err=True)


def _load(rubric_dir: Path) -> tuple[Rubric, str]:
    try:
        return load_rubric(rubric_dir), rubric_digest(rubric_dir)
    except GraderError as exc:
        _print_problems(exc.problems)
        raise _Failed from None


def _submissions(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUBMISSION_SUFFIXES))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade math-heavy written assignments against a rubric."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_dir", required=True, type=click.Path(path_type=Path), help="Rubric folder (or its rubric.toml).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Folder for the reports.")
def grade(paths: tuple[Path, ...], rubric_dir: Path, out_dir: Path) -> None:
    """Grade submissions (files or folders) and write DIR/S.json and DIR/grades.csv."""
    try:
        rubric, digest = _load(rubric_dir)
    except _Failed:
        sys.exit(1)
    files = _submissions(paths)
    if not files:
        click.echo(f"error: no submissions found in {', '.join(map(str, paths))}; pass .md files or folders holding them", err=True)
        sys.exit(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports: list[Report] = []
    failed = False
    for path in files:
        try:
            report = grade_file(path, rubric, rubric_sha256=digest)
        except GraderError as exc:
            _print_problems(exc.problems)
            failed = True
            continue
        _write_atomic(out_dir / f"{path.stem}.json", report_json(report))
        reports.append(report)
        click.echo(f"{path}: {report.score:g} / {report.max_score:g} ({report.status.replace('_', ' ')})")
    _write_atomic(out_dir / "grades.csv", gradebook_csv(rubric, reports))
    click.echo(f"wrote {len(reports)} report(s) and grades.csv to {out_dir}")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_dir", required=True, type=click.Path(path_type=Path), help="Rubric folder (or its rubric.toml).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of feedback.")
def check(file: Path, rubric_dir: Path, as_json: bool) -> None:
    """Check one submission and print feedback for the student."""
    try:
        rubric, digest = _load(rubric_dir)
        report = grade_file(file, rubric, rubric_sha256=digest)
    except _Failed:
        sys.exit(1)
    except GraderError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    if as_json:
        click.echo(report_json(report), nl=False)
    else:
        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        click.echo(render_terminal(report, colour=colour), nl=False)


@main.group()
def rubric() -> None:
    """Work with rubric files."""


@rubric.command("lint")
@click.argument("path", type=click.Path(path_type=Path))
def rubric_lint(path: Path) -> None:
    """Report every problem of a rubric, with file, question, field and a fix."""
    problems = lint_rubric(path)
    if problems:
        _print_problems(problems)
        click.echo(f"{len(problems)} problem(s) found", err=True)
        sys.exit(1)
    click.echo(f"{path}: ok")


@rubric.command("test")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--mutants/--no-mutants", default=True, help="Also check that wrong variants of every reference are rejected.")
def rubric_test(path: Path, mutants: bool) -> None:
    """Run the rubric's own test answers and its reference mutants; exit 1 on any failure."""
    try:
        rubric, _ = _load(path)
    except _Failed:
        sys.exit(1)
    report = run_rubric_tests(rubric, file=str(rubric_path(path)), mutate=mutants)
    for failure in report.failures:
        click.echo(f"FAIL {failure.line()}")
    click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@rubric.command("schema")
def rubric_schema_command() -> None:
    """Print the rubric's JSON Schema (for editor completion)."""
    click.echo(rubric_schema())


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
