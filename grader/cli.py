"""The command line: a thin layer over the Python API.

Exit codes: 0 graded (whatever the score), 1 a bad rubric or an unreadable submission,
2 wrong usage (click's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader._internal.safe_text import terminal_text
from grader._internal.sandbox import single_threaded_blas
from grader._internal.version import __version__
from grader.grading.options import (
    EXECUTORS,
    MAX_MEMORY_MB,
    MAX_TIMEOUT_S,
    MIN_MEMORY_MB,
    PROGRESS_MODES,
    Limits,
    default_jobs,
)

if TYPE_CHECKING:
    from grader.errors import Problem
    from grader.gradebook.book import Gradebook
    from grader.gradebook.models import AssignmentInfo
    from grader.grading.batch import SubmissionResult
    from grader.reports.exports import ExportResult
    from grader.reports.roster import Roster
    from grader.rubric.models import Rubric

SUBMISSION_SUFFIXES = (".md", ".markdown", ".txt", ".tex", ".ipynb", ".docx")

# Checks run one at a time in bounded helpers, and batch workers run side by side: multithreaded
# BLAS would only fight them for the cores. Set before NumPy loads, this sizes its pools.
single_threaded_blas()


class _Failed(Exception):
    """Problems already printed; exit with code 1."""


class _ExportKinds(click.Choice):
    """The export kinds, read from the exports module only when ``grader grade`` needs them."""

    def __init__(self) -> None:
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> Sequence[Any]:
        from grader.reports.exports import EXPORT_KINDS

        return EXPORT_KINDS

    @choices.setter
    def choices(self, _value: Sequence[Any]) -> None:
        """Click sets the (empty) choices in ``__init__``; the real ones are read above."""


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        click.echo(f"error: {terminal_text(problem.one_line())}", err=True)


def _load(rubric_dir: Path) -> tuple[Rubric, str]:
    from grader.checking.lint import load_rubric
    from grader.errors import GraderError
    from grader.rubric.load import rubric_digest

    try:
        return load_rubric(rubric_dir), rubric_digest(rubric_dir)
    except GraderError as exc:
        _print_problems(exc.problems)
        raise _Failed from None


def _load_roster(path: Path | None) -> Roster | None:
    """The roster, or exit 1 with its problems (before any grading)."""
    from grader.errors import GraderError
    from grader.reports.roster import load_roster

    if path is None:
        return None
    try:
        return load_roster(path)
    except GraderError as exc:
        _print_problems(exc.problems)
        sys.exit(1)


def _submissions(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            # A link is listed (and then refused with a message), never followed: it could point at the answer key.
            found.extend(
                sorted(p for p in path.rglob("*") if (p.is_symlink() or p.is_file()) and p.suffix.lower() in SUBMISSION_SUFFIXES)
            )
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
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True, help="Worker processes here, or a Dask cluster (pip install 'grader[dask]').")
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786 (default: a local Dask cluster).")
@click.option("--dashboard", is_flag=True, help="Serve the local Dask cluster's dashboard (on 127.0.0.1 only; it has no login).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0, MAX_TIMEOUT_S, min_open=True), metavar="SECONDS", help="Time limit of one check (default: the rubric's check_timeout_s).")
@click.option("--memory", "memory_mb", type=click.IntRange(MIN_MEMORY_MB, MAX_MEMORY_MB), metavar="MB", help="Memory limit of one check and of each worker (default: the rubric's check_memory_mb).")
@click.option("--progress", type=click.Choice(PROGRESS_MODES), default="auto", show_default=True, help="On stderr: a bar on a terminal, plain lines otherwise (auto), or none.")
@click.option("--export", "exports", multiple=True, type=_ExportKinds(), help="Also write a gradebook export (repeatable): canvas.csv, moodle.csv or Gradescope JSON.")
@click.option("--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False), help="CSV mapping submission files to students (needed by --export canvas/moodle).")
@click.option("--show-reference/--hide-reference", "show_reference", default=None, help="Show reference answers in the HTML reports (default: the rubric's settings.show_reference).")
@click.option("--db", "db", metavar="PATH|URL", help="The gradebook store: a .sqlite file or postgresql://user@host/db (default: DIR/gradebook.sqlite).")
@click.option("--include-provisional", is_flag=True, help="Also send scores still waiting for a person's review to Canvas/Moodle/Gradescope.")
@click.option("--canvas-assignment-id", metavar="N", help="The assignment's Canvas id (the number after /assignments/ in its address); needed by --export canvas.")
def grade(
    paths: tuple[Path, ...],
    rubric_dir: Path,
    out_dir: Path,
    jobs: int | None,
    resume: bool,
    executor: str,
    scheduler: str | None,
    dashboard: bool,
    timeout_s: float | None,
    memory_mb: int | None,
    progress: str,
    exports: tuple[str, ...],
    roster_path: Path | None,
    show_reference: bool | None,
    db: str | None,
    include_provisional: bool,
    canvas_assignment_id: str | None,
) -> None:
    """Grade submissions (files or folders) into DIR: S.json and S.html each, index.html, grades.csv.

    Each report is written as soon as its submission is graded, and recorded in the gradebook
    store; after an interruption, run the same command with --resume to grade only what is
    missing or out of date. Regrading keeps each review decision whose answer did not change.
    """
    from grader.errors import GraderError
    from grader.gradebook.book import open_gradebook
    from grader.grading.batch import BatchInterrupted, grade_batch, make_progress
    from grader.grading.executors.base import ExecutorUnavailable
    from grader.reports.review_text import outcome_text

    needs_roster = sorted({"canvas", "moodle"} & set(exports))
    if needs_roster and roster_path is None:
        raise click.UsageError(f"--export {' and '.join(needs_roster)} needs --roster FILE (which student each submission is)")
    if "canvas" in exports and not canvas_assignment_id:
        raise click.UsageError("--export canvas needs --canvas-assignment-id N (the number after /assignments/ in the assignment's Canvas address)")
    if scheduler is not None and executor != "dask":
        raise click.UsageError("--scheduler goes with --executor dask")
    if dashboard and (executor != "dask" or scheduler is not None):
        raise click.UsageError("--dashboard goes with --executor dask and a local cluster (no --scheduler)")
    try:
        rubric, digest = _load(rubric_dir)
    except _Failed:
        sys.exit(1)
    roster = _load_roster(roster_path)
    files = _submissions(paths)
    if not files:
        click.echo(f"error: no submissions found in {terminal_text(', '.join(map(str, paths)))}; pass .md files or folders holding them", err=True)
        sys.exit(1)
    try:
        if roster is not None:
            roster.check([f.name for f in files], exports)  # a bad roster costs no grading
        out_dir.mkdir(parents=True, exist_ok=True)
        open_gradebook(db or out_dir).close()  # a store that cannot be opened costs no grading either
    except GraderError as exc:
        _print_problems(exc.problems)
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
        shown.echo(f"{terminal_text(str(result.path))}: {report.score:g} / {report.max_score:g} ({report.status.replace('_', ' ')})")

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
            dashboard=dashboard,
            limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb),
            show_reference=show_reference,
            roster=roster,
            progress=shown,
            on_result=print_result,
            gradebook=db,
        )
    except ExecutorUnavailable as exc:
        raise click.UsageError(str(exc)) from None
    except GraderError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    except BatchInterrupted as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(130)
    kept = f" ({batch.resumed} already up to date)" if batch.resumed else ""
    click.echo(f"wrote {batch.graded} report(s){kept}, index.html and grades.csv to {out_dir}")
    click.echo(outcome_text(batch.review), nl=False)
    if exports:
        with open_gradebook(db or out_dir) as book:
            assignment = book.set_assignment(rubric, digest, canvas_assignment_id=canvas_assignment_id)
            failed = not _export(book, assignment, exports, out_dir, roster, include_provisional) or failed
    sys.exit(1 if failed else 0)


def _export(
    book: Gradebook, assignment: AssignmentInfo, kinds: Sequence[str], out_dir: Path, roster: Roster | None, include_provisional: bool
) -> bool:
    """Write each export from the store; print what was written and what was held back."""
    from grader.errors import GraderError
    from grader.reports.exports import write_exports

    rows = book.rows(assignment)
    rubric = book.rubric(assignment)
    ok = True
    for kind in dict.fromkeys(kinds):
        try:
            result: ExportResult = write_exports(
                kind, rows, rubric, out_dir, roster,
                canvas_assignment_id=assignment.canvas_assignment_id, include_provisional=include_provisional,
            )
        except GraderError as exc:
            _print_problems(exc.problems)
            ok = False
            continue
        held = f"; held back {len(result.held)}" if result.held else ""
        click.echo(f"wrote {result.path} ({result.written} submission(s){held})")
        for item in result.held:
            click.echo(f"  held back {terminal_text(item.submission)}: {terminal_text(item.reason)}")
    return ok


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
    from grader._internal.sandbox import prime_helpers
    from grader.grading.options import CHECK_MODULES, HELPER_DEPTH

    prime_helpers(CHECK_MODULES, HELPER_DEPTH)  # the helpers import what checks need while this process reads
    from grader.authoring.quickcheck import QuickCheckError, quick_check
    from grader.errors import GraderError
    from grader.grading.pipeline import grade_file
    from grader.reports.json_report import report_json
    from grader.reports.terminal import colour_wanted, render_question, render_terminal

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
    from grader.authoring.testing import run_rubric_tests
    from grader.rubric.load import rubric_path

    try:
        rubric, _ = _load(path)
    except _Failed:
        sys.exit(1)
    report = run_rubric_tests(rubric, file=str(rubric_path(path)), mutate=mutants, progress=_TestProgress(sys.stderr))
    for failure in report.failures:
        click.echo(f"FAIL {failure.line()}")
    click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


class _TestProgress:
    """``grader rubric test``'s progress on stderr: one updating line on a terminal, else a line
    per question (CI logs), so a run of half a minute is never silent."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"

    def __call__(self, done: int, total: int, question: str) -> None:
        line = f"testing the rubric: {done}/{total} questions done (last: {question})"
        if self.tty:
            self.stream.write(f"\r\x1b[K{line}" + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


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
    from grader.rubric.load import rubric_schema

    click.echo(rubric_schema())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--data", "data_dir", default="grader-data", show_default=True, type=click.Path(path_type=Path, file_okay=False), help="Folder for the SQLite database and work files.")
@click.option("--db", "db_url", metavar="URL", help="Database URL, e.g. postgresql://user@host/grader (default: DATA/grader.db, SQLite).")
@click.option("--rubrics", "rubrics_root", type=click.Path(path_type=Path, file_okay=False, exists=True), help="Folder of rubric folders instructors may pick (default: ./rubrics if present).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help=f"Grading worker processes (default: the usable cores, {default_jobs()} here).")
@click.option("--scheduler", metavar="ADDRESS", help="Grade on a Dask cluster, e.g. tcp://host:8786 (pip install 'grader[dask]').")
@click.option("--check-rate", default="30/10m", show_default=True, metavar="COUNT/PERIOD", help="Self-checks allowed per student token, e.g. 30/10m.")
def serve(
    host: str, port: int, data_dir: Path, db_url: str | None, rubrics_root: Path | None, jobs: int | None, scheduler: str | None, check_rate: str
) -> None:
    """Start the grading service: instructor pages, student self-check and the JSON API (/openapi.json)."""
    from grader.service.config import Rate, ServiceConfig
    from grader.service.server import StartError
    from grader.service.server import serve as run_server

    try:
        rate = Rate.parse(check_rate)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--check-rate") from None
    if rubrics_root is None and Path("rubrics").is_dir():
        rubrics_root = Path("rubrics")
    config = ServiceConfig(
        data_dir=data_dir, db_url=db_url or "", rubrics_root=rubrics_root, jobs=jobs or default_jobs(), scheduler=scheduler, check_rate=rate
    )
    try:
        run_server(config, host, port)
    except StartError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename, so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------ the gradebook: export, review

_DB_HELP = "The gradebook: a reports folder, its gradebook.sqlite, or a postgresql:// URL."


def _open_book(db: str, assignment_id: str | None) -> tuple[Gradebook, AssignmentInfo]:
    from grader.errors import GraderError
    from grader.gradebook.book import open_gradebook

    try:
        book = open_gradebook(db)
    except GraderError as exc:
        _print_problems(exc.problems)
        sys.exit(1)
    try:
        return book, book.assignment(assignment_id)
    except GraderError as exc:
        book.close()
        _print_problems(exc.problems)
        sys.exit(1)


@main.command("export")
@click.argument("kinds", nargs=-1, required=True, type=_ExportKinds())
@click.option("--db", default="reports", show_default=True, metavar="PATH|URL", help=_DB_HELP)
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the files (default: the gradebook's folder).")
@click.option("--assignment", "assignment_id", metavar="ID", help="The rubric id, when the gradebook holds several.")
@click.option("--roster", "roster_path", type=click.Path(path_type=Path, dir_okay=False), help="Use this roster instead of the one stored when grading.")
@click.option("--include-provisional", is_flag=True, help="Also send scores still waiting for a person's review.")
@click.option("--canvas-assignment-id", metavar="N", help="The assignment's Canvas id (stored for next time).")
def export(
    kinds: tuple[str, ...],
    db: str,
    out_dir: Path | None,
    assignment_id: str | None,
    roster_path: Path | None,
    include_provisional: bool,
    canvas_assignment_id: str | None,
) -> None:
    """Write canvas.csv, moodle.csv or the Gradescope autograder zip from the gradebook (after review)."""
    roster = _load_roster(roster_path)
    book, assignment = _open_book(db, assignment_id)
    with book:
        if canvas_assignment_id is not None:
            assignment = book.set_assignment(book.rubric(assignment), assignment.rubric_sha256, canvas_assignment_id=canvas_assignment_id)
        if "canvas" in kinds and not assignment.canvas_assignment_id:
            raise click.UsageError("the canvas export needs --canvas-assignment-id N (the number after /assignments/ in the assignment's Canvas address)")
        target = out_dir or _reports_folder(db) or Path(".")
        target.mkdir(parents=True, exist_ok=True)
        ok = _export(book, assignment, kinds, target, roster, include_provisional)
    sys.exit(0 if ok else 1)


def _reports_folder(db: str) -> Path | None:
    """The folder of a SQLite gradebook (where its pages are), or None for a server."""
    if "://" in db:
        return None
    path = Path(db)
    return path if path.is_dir() else path.parent


def _review_options(*, decides: bool) -> Any:
    def decorate(command: Any) -> Any:
        options = [
            click.option("--db", default="reports", show_default=True, metavar="PATH|URL", help=_DB_HELP),
            click.option("--assignment", "assignment_id", metavar="ID", help="The rubric id, when the gradebook holds several."),
            click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts)."),
        ]
        if decides:
            options.append(
                click.option(
                    "--reviewer", default=lambda: os.environ.get("USER", ""), show_default="$USER", metavar="NAME", help="Who decides (recorded with the decision)."
                )
            )
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _echo_json(value: Any) -> None:
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


@main.group()
def review() -> None:
    """Review what the machine could not decide: list the queue, show an item, accept, override, undo.

    An ITEM is one part of one submission (see 'grader review list'); a cluster is every ITEM of
    one part whose normalised answer is the same, named by its first ITEM: decide it once.
    """


@review.command("list")
@_review_options(decides=False)
@click.option("--by", "by", type=click.Choice(["question", "cluster"]), default="question", show_default=True, help="One line per item, or one group per identical answer.")
@click.option("--all", "include_decided", is_flag=True, help="Also list items already decided.")
def review_list(db: str, assignment_id: str | None, as_json: bool, by: str, include_decided: bool) -> None:
    """The review queue: parts waiting for a person, and decisions a regrade flagged."""
    from grader.reports.review_text import clusters_text, queue_text

    book, assignment = _open_book(db, assignment_id)
    with book:
        if by == "cluster":
            clusters = book.clusters(assignment, include_decided=include_decided)
            if as_json:
                _echo_json([c.model_dump(mode="json") for c in clusters])
            else:
                click.echo(clusters_text(clusters), nl=False)
        else:
            items = book.queue(assignment, include_decided=include_decided)
            if as_json:
                _echo_json([i.model_dump(mode="json") for i in items])
            else:
                click.echo(queue_text(items), nl=False)


@review.command("show")
@click.argument("item", type=int)
@_review_options(decides=False)
def review_show(item: int, db: str, assignment_id: str | None, as_json: bool) -> None:
    """One item: the answer read, why a person must look, the evidence, the history."""
    from grader.errors import GraderError
    from grader.reports.review_text import item_text

    book, _ = _open_book(db, assignment_id)
    with book:
        try:
            detail = book.item(item)
        except GraderError as exc:
            _print_problems(exc.problems)
            sys.exit(1)
        if as_json:
            _echo_json(detail.model_dump(mode="json"))
        else:
            click.echo(item_text(detail), nl=False)


def _after_decision(book: Gradebook, assignment: AssignmentInfo, db: str, submissions: Sequence[str], as_json: bool) -> None:
    """Bring the reports folder up to date: the decided pages, index.html and grades.csv."""
    from grader.reports.gradebook import write_class_files, write_pages

    folder = _reports_folder(db)
    if folder is None or not (folder / "grades.csv").exists():
        return
    pages = write_pages(book, assignment, folder, submissions) if (folder / "index.html").exists() else []
    write_class_files(book, assignment, folder, html=(folder / "index.html").exists())
    if not as_json:
        click.echo(f"updated grades.csv, index.html and {len(pages)} page(s) in {folder}")


def _decide(db: str, assignment_id: str | None, as_json: bool, act: Any) -> None:
    from grader.errors import GraderError
    from grader.reports.review_text import decisions_text

    book, assignment = _open_book(db, assignment_id)
    with book:
        try:
            made = act(book)
        except GraderError as exc:
            _print_problems(exc.problems)
            sys.exit(1)
        if as_json:
            _echo_json([d.model_dump(mode="json") for d in made])
        else:
            click.echo(decisions_text(made), nl=False)
        _after_decision(book, assignment, db, [d.submission for d in made], as_json)


@review.command("accept")
@click.argument("items", nargs=-1, type=int)
@click.option("--cluster", type=int, metavar="C", help="Every undecided item with the same answer as item C.")
@click.option("--comment", default="", help="Why (optional for an accept).")
@_review_options(decides=True)
def review_accept(items: tuple[int, ...], cluster: int | None, comment: str, db: str, assignment_id: str | None, as_json: bool, reviewer: str) -> None:
    """Accept the proposed score of ITEMs, or of a whole cluster."""
    if not items and cluster is None:
        raise click.UsageError("pass ITEM ids or --cluster C")
    _decide(db, assignment_id, as_json, lambda book: book.accept(items, reviewer=reviewer, cluster=cluster, comment=comment))


@review.command("override")
@click.argument("items", nargs=-1, type=int)
@click.option("--cluster", type=int, metavar="C", help="Every undecided item with the same answer as item C.")
@click.option("--score", required=True, type=float, help="The points the part gets.")
@click.option("--comment", required=True, help="Why: the student and the record see it.")
@_review_options(decides=True)
def review_override(
    items: tuple[int, ...], cluster: int | None, score: float, comment: str, db: str, assignment_id: str | None, as_json: bool, reviewer: str
) -> None:
    """Set the score of ITEMs (or a cluster) with a comment."""
    if not items and cluster is None:
        raise click.UsageError("pass ITEM ids or --cluster C")
    _decide(db, assignment_id, as_json, lambda book: book.override(items, score=score, comment=comment, reviewer=reviewer, cluster=cluster))


@review.command("undo")
@click.argument("item", required=False, type=int)
@_review_options(decides=True)
def review_undo(item: int | None, db: str, assignment_id: str | None, as_json: bool, reviewer: str) -> None:
    """Undo the decision in force on ITEM, or your latest action (a whole cluster at once)."""
    _decide(db, assignment_id, as_json, lambda book: book.undo(reviewer=reviewer, item=item))
