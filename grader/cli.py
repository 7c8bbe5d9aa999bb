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

from grader._internal.version import __version__
from grader.authoring.testing import run_rubric_tests
from grader.checking.lint import load_rubric
from grader.errors import GraderError, Problem
from grader.grading.batch import (
    PROGRESS_MODES,
    BatchInterrupted,
    SubmissionResult,
    grade_batch,
    make_progress,
)
from grader.grading.executors.base import ExecutorUnavailable, default_jobs
from grader.grading.pipeline import MAX_MEMORY_MB, MAX_TIMEOUT_S, MIN_MEMORY_MB, Limits, grade_file
from grader.reports.exports import EXPORT_KINDS, write_exports
from grader.reports.json_report import report_json
from grader.reports.roster import Roster, load_roster
from grader.reports.terminal import render_terminal
from grader.rubric.load import rubric_digest, rubric_path, rubric_schema
from grader.rubric.models import Rubric

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
@click.option("--jobs", "-j", type=click.IntRange(min=1), help=f"Submissions graded at once (default: the usable cores, {default_jobs()} here).")
@click.option("--resume", is_flag=True, help="Keep each report made from the same submission, rubric and grader version.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True, help="Worker processes here, or a Dask cluster (pip install 'grader[dask]').")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786 (default: a local Dask cluster).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0, MAX_TIMEOUT_S, min_open=True), metavar="SECONDS", help="Time limit of one check (default: the rubric's check_timeout_s).")
@click.option("--memory", "memory_mb", type=click.IntRange(MIN_MEMORY_MB, MAX_MEMORY_MB), metavar="MB", help="Memory limit of one check and of each worker (default: the rubric's check_memory_mb).")
@click.option("--progress", type=click.Choice(PROGRESS_MODES), default="auto", show_default=True, help="On stderr: a bar on a terminal, plain lines otherwise (auto), or none.")
@click.option("--export", "exports", multiple=True, type=click.Choice(EXPORT_KINDS), help="Also write a gradebook export (repeatable): canvas.csv, moodle.csv or Gradescope JSON.")
@click.option("--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False), help="CSV mapping submission files to students (needed by --export canvas/moodle).")
@click.option("--show-reference/--hide-reference", "show_reference", default=None, help="Show reference answers in the HTML reports (default: the rubric's settings.show_reference).")
def grade(
    paths: tuple[Path, ...],
    rubric_dir: Path,
    out_dir: Path,
    jobs: int | None,
    resume: bool,
    executor: str,
    scheduler: str | None,
    timeout_s: float | None,
    memory_mb: int | None,
    progress: str,
    exports: tuple[str, ...],
    roster_path: Path | None,
    show_reference: bool | None,
) -> None:
    """Grade submissions (files or folders) into DIR: S.json and S.html each, index.html, grades.csv.

    Each report is written as soon as its submission is graded; after an interruption, run the
    same command with --resume to grade only what is missing or out of date.
    """
    needs_roster = sorted({"canvas", "moodle"} & set(exports))
    if needs_roster and roster_path is None:
        raise click.UsageError(f"--export {' and '.join(needs_roster)} needs --roster FILE (which student each submission is)")
    if scheduler is not None and executor != "dask":
        raise click.UsageError("--scheduler goes with --executor dask")
    try:
        rubric, digest = _load(rubric_dir)
    except _Failed:
        sys.exit(1)
    roster: Roster | None = None
    if roster_path is not None:
        try:
            roster = load_roster(roster_path)
        except GraderError as exc:
            _print_problems(exc.problems)
            sys.exit(1)
    files = _submissions(paths)
    if not files:
        click.echo(f"error: no submissions found in {', '.join(map(str, paths))}; pass .md files or folders holding them", err=True)
        sys.exit(1)
    shown = make_progress(progress)  # type: ignore[arg-type]  # click.Choice checked it
    failed = False

    def print_result(result: SubmissionResult) -> None:
        """Stdout gets one line per submission, in input order whatever --jobs is."""
        nonlocal failed
        if result.report is None:
            failed = True
            for problem in result.problems:
                shown.echo(f"error: {problem.one_line()}", err=True)
            return
        report = result.report
        shown.echo(f"{result.path}: {report.score:g} / {report.max_score:g} ({report.status.replace('_', ' ')})")

    try:
        batch = grade_batch(
            files,
            rubric,
            out_dir,
            rubric_sha256=digest,
            jobs=jobs,
            resume=resume,
            executor=executor,  # type: ignore[arg-type]  # click.Choice checked it
            scheduler=scheduler,
            limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb),
            show_reference=show_reference,
            roster=roster,
            progress=shown,
            on_result=print_result,
        )
    except ExecutorUnavailable as exc:
        raise click.UsageError(str(exc)) from None
    except BatchInterrupted as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(130)
    kept = f" ({batch.resumed} already up to date)" if batch.resumed else ""
    click.echo(f"wrote {batch.graded} report(s){kept}, index.html and grades.csv to {out_dir}")
    for kind in dict.fromkeys(exports):
        try:
            written = write_exports(kind, batch.reports, rubric, out_dir, roster)
        except GraderError as exc:
            _print_problems(exc.problems)
            failed = True
            continue
        click.echo(f"wrote {written}")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--rubric", "rubric_dir", required=True, type=click.Path(path_type=Path),
    help="Rubric folder, its rubric.toml, or a sealed rubric (.json).",
)
@click.option("--question", "question_id", help="Check one answer to this question instead of a file.")
@click.option("--part", "part_id", help="With --question: only this part of the question.")
@click.option("--answer", "latex", help="With --question: the answer in LaTeX, e.g. '\\frac{1-p}{p}'.")
@click.option("--text", "text", help="With --question: the answer in calculator syntax, e.g. '(1-p)/p'.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of feedback.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@click.option(
    "--fail-under", type=float, metavar="SCORE", help="Exit with code 3 when the score is below SCORE (for scripts)."
)
def check(
    file: Path | None,
    rubric_dir: Path,
    question_id: str | None,
    part_id: str | None,
    latex: str | None,
    text: str | None,
    as_json: bool,
    quiet: bool,
    fail_under: float | None,
) -> None:
    """Check one submission, or one answer (--question with --answer or --text), and print feedback.

    Exit code 0 whatever the score (3 below --fail-under), 1 for a bad rubric or an unreadable file.
    """
    from grader.authoring.quickcheck import QuickCheckError, quick_check
    from grader.reports.terminal import colour_wanted, render_question

    if question_id is None:
        if file is None:
            raise click.UsageError("pass a submission FILE, or --question with --answer or --text")
        if latex is not None or text is not None or part_id is not None:
            raise click.UsageError("--answer, --text and --part go with --question")
    else:
        if file is not None:
            raise click.UsageError("pass either a submission FILE or --question, not both")
        if (latex is None) == (text is None):
            raise click.UsageError("with --question, pass the answer as --answer LATEX or --text CALC")
    colour = colour_wanted()
    try:
        rubric, digest = _load(rubric_dir)
        if question_id is not None:
            quick = quick_check(rubric, question_id, latex=latex, text=text, part_id=part_id)
            score = quick.question.score
            if as_json:
                click.echo(quick.question.model_dump_json(indent=2))
            else:
                click.echo(render_question(quick.question, colour=colour, quiet=quiet, skipped=quick.skipped), nl=False)
        else:
            assert file is not None
            report = grade_file(file, rubric, rubric_sha256=digest)
            score = report.score
            if as_json:
                click.echo(report_json(report), nl=False)
            else:
                click.echo(render_terminal(report, colour=colour, quiet=quiet), nl=False)
    except _Failed:
        sys.exit(1)
    except QuickCheckError as exc:
        raise click.UsageError(str(exc)) from None
    except GraderError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    if fail_under is not None and score < fail_under:
        sys.exit(3)


@main.command()
@click.argument("rubric_path", metavar="RUBRIC", type=click.Path(path_type=Path))
def template(rubric_path: Path) -> None:
    """Print a Markdown answer file for RUBRIC (folder, rubric.toml or sealed .json) to fill in."""
    from grader.authoring.template import render_template

    try:
        rubric, _ = _load(rubric_path)
    except _Failed:
        sys.exit(1)
    click.echo(render_template(rubric), nl=False)


@main.group()
def rubric() -> None:
    """Work with rubric files."""


@rubric.command("lint")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--tests/--no-tests", "run_tests", default=True, help="Also check alternatives and mistakes against the reference and run the rubric's tests (no mutants).")
def rubric_lint(path: Path, run_tests: bool) -> None:
    """Report every problem of a rubric, with file, line, question, field and a fix.

    Undeclared names in references, alternatives and mistakes; alternatives that are not
    equivalent to the reference and mistakes that are; failing rubric tests.
    """
    from grader.authoring.lint import lint_fully

    problems = lint_fully(path, run_tests=run_tests)
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


@rubric.command("seal")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="The sealed rubric to write, e.g. a3.sealed.json.",
)
@click.option("--keep-hints", is_flag=True, help="Keep feedback_incorrect hints and proof mistakes (they may state the answer).")
def rubric_seal(path: Path, out: Path, keep_hints: bool) -> None:
    """Write a sealed copy of a rubric for students: it checks answers but does not contain them."""
    from grader.authoring.seal import seal_rubric, sealed_json

    if out.suffix.lower() != ".json":
        raise click.UsageError(f"the sealed rubric is JSON: name it like a3.sealed.json, not {out.name}")
    try:
        rubric, _ = _load(path)
    except _Failed:
        sys.exit(1)
    sealed, notes = seal_rubric(rubric, keep_hints=keep_hints)
    for note in notes:
        click.echo(f"note: {note.line()}", err=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(out, sealed_json(sealed))
    parts = sum(len(q.parts) for q in sealed.questions)
    click.echo(f"wrote {out}: {len(sealed.questions)} questions, {parts} parts sealed ({len(notes)} note(s))")


@rubric.command("schema")
def rubric_schema_command() -> None:
    """Print the rubric's JSON Schema (for editor completion)."""
    click.echo(rubric_schema())


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
