"""Grade a whole class: parallel, bounded, resumable, and the same bytes whatever the parallelism.

``grade_batch`` is what ``grader grade`` runs. Submissions go to an executor (a pool of local
worker processes, or a Dask cluster); each report is written atomically the moment its
submission finishes, so an interrupted batch (Ctrl-C, ``kill``, a power cut) leaves only
complete reports, and ``resume=True`` skips every submission whose report is up to date: the
same submission hash, rubric hash and grader version. Reports hold no timestamps or paths beyond
the file name, and every random draw is seeded from the rubric, question and part, so a report
does not depend on ``jobs``, on the executor, or on the order submissions finish in.

Each submission's ``S.html`` is written just before its ``S.json``: a report on disk means its
page is there too, which is what resuming relies on. The class pages (``grades.csv`` and
``index.html``) are written at the end, from every report graded now or kept by resuming.

Limits: each check (and the splitting of each file) runs in a killable child with the rubric's
``check_timeout_s`` and ``check_memory_mb`` (``limits`` overrides both); each worker process is
capped at the same memory on top of its start-up size, and a worker that dies or overruns a
generous per-submission budget is killed and replaced, costing only that submission.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from grader._internal.processes import frozen_heap
from grader._internal.safe_text import terminal_text
from grader._internal.sandbox import helper_pids, stop_helpers
from grader._internal.version import __version__
from grader.errors import Problem
from grader.gradebook.models import RecordOutcome
from grader.grading.executors.base import Done, Executor, Job, Setup
from grader.grading.executors.local import LocalExecutor
from grader.grading.options import PROGRESS_MODES, ExecutorName, Limits, ProgressMode, default_jobs
from grader.grading.recording import BatchRecorder
from grader.grading.warm import prime_rubric, warm_up
from grader.input.open import MAX_BYTES
from grader.reports.html import environment, html_filename, submission_stem
from grader.reports.json_report import load_report, report_json
from grader.reports.roster import Roster
from grader.rubric.models import Rubric
from grader.scoring.models import Report

__all__ = [
    "BarProgress",
    "BatchInterrupted",
    "BatchResult",
    "LineProgress",
    "Limits",
    "PROGRESS_MODES",
    "Progress",
    "SubmissionResult",
    "default_jobs",
    "grade_batch",
    "make_executor",
    "make_progress",
    "report_name",
]

GRADEBOOK = "grades.csv"
SUMMARY = "index.html"
_TMP_FILE = re.compile(r"^\..+\.tmp(?P<pid>[0-9]+)$")


# ---------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """One submission of the batch: its report, or the problems that kept it from having one."""

    path: Path
    report: Report | None
    problems: tuple[Problem, ...] = ()
    resumed: bool = False  # the report on disk was up to date and was kept as it is
    seconds: float = 0.0  # grading time in the worker (0 when resumed)
    worker: str = ""
    peak_rss_mb: float | None = None  # the worker's peak resident memory (shared pages included)
    peak_check_rss_mb: float | None = None  # the largest check process the worker had run

    @property
    def ok(self) -> bool:
        return self.report is not None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Everything a batch did, in the order the submissions were given."""

    out_dir: Path
    results: tuple[SubmissionResult, ...]
    jobs: int
    executor: str
    seconds: float
    review: tuple[RecordOutcome, ...] = ()  # decisions kept or flagged by this regrade

    @property
    def reports(self) -> tuple[Report, ...]:
        """The reports in the gradebook: graded now or resumed."""
        return tuple(r.report for r in self.results if r.report is not None)

    @property
    def failed(self) -> tuple[SubmissionResult, ...]:
        return tuple(r for r in self.results if r.report is None)

    @property
    def graded(self) -> int:
        return sum(1 for r in self.results if r.report is not None and not r.resumed)

    @property
    def resumed(self) -> int:
        return sum(1 for r in self.results if r.resumed)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the batch; every report written so far is complete."""

    def __init__(self, written: int, total: int) -> None:
        super().__init__(f"interrupted: {written} of {total} report(s) are written; run again with --resume to finish")
        self.written = written
        self.total = total


# ---------------------------------------------------------------------- progress


class Progress:
    """Told when a batch starts, as each submission ends (in completion order), and at the end.

    This base draws nothing (``--progress none``); ``echo`` prints a line of the caller's own
    output without breaking what a subclass draws on the terminal.
    """

    def start(self, total: int, resumed: int) -> None:
        """``total`` submissions, of which ``resumed`` are already done."""

    def update(self, result: SubmissionResult) -> None:
        """One more submission is done."""

    def finish(self) -> None:
        """The batch is over (or interrupted)."""

    def echo(self, text: str, *, err: bool = False) -> None:
        stream = sys.stderr if err else sys.stdout
        stream.write(text + "\n")
        stream.flush()


class LineProgress(Progress):
    """One plain line per finished submission, for logs and CI: ``graded k/N: path score/max``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0

    def start(self, total: int, resumed: int) -> None:
        self.total, self.done = total, resumed
        if resumed:
            self._write(f"resumed {resumed}/{total}: report(s) already up to date")

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        where = f"{self.done}/{self.total}"
        shown = terminal_text(str(result.path))  # a file name must not forge a line (issue 15.5)
        if result.report is not None:
            self._write(f"graded {where}: {shown} {result.report.score:g}/{result.report.max_score:g}")
        else:
            reason = terminal_text(result.problems[0].message) if result.problems else "no report"
            self._write(f"failed {where}: {shown}: {reason}")

    def finish(self) -> None:
        self.stream.flush()

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A single updating terminal line: done/total, failures, elapsed time and ETA."""

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic, min_interval: float = 0.1) -> None:
        self.stream = stream
        self.clock = clock
        self.min_interval = min_interval
        self.total = self.done = self.resumed = self.failed = self.graded = 0
        self.started = 0.0
        self._drawn = float("-inf")
        self._shown = False  # the bar is on screen (between start and finish)

    def start(self, total: int, resumed: int) -> None:
        self.total, self.done, self.resumed = total, resumed, resumed
        self.started = self.clock()
        self._shown = True
        self._draw(force=True)

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.graded += 1
        if result.report is None:
            self.failed += 1
        self._draw(force=self.done == self.total)

    def finish(self) -> None:
        if not self._shown:
            return
        self._draw(force=True)
        self._shown = False
        self.stream.write("\n")
        self.stream.flush()

    def echo(self, text: str, *, err: bool = False) -> None:
        """Clear the bar, print the line, draw the bar again below it."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        super().echo(text, err=err)
        if self._shown:
            self._draw(force=True)

    def line(self, width: int = 80) -> str:
        """The status line as it would be drawn now (without the carriage return)."""
        elapsed = self.clock() - self.started
        remaining = self.total - self.done
        if remaining == 0:
            eta = "done"
        elif self.graded:
            eta = "ETA " + _clock(elapsed / self.graded * remaining)
        else:
            eta = "ETA --:--"
        counts = f"{self.done}/{self.total}"
        extra = "".join(
            text for text, shown in ((f", {self.failed} failed", self.failed), (f", {self.resumed} resumed", self.resumed)) if shown
        )
        tail = f" {counts}{extra}  {_clock(elapsed)} elapsed, {eta}"
        bar_width = max(0, min(30, width - len(tail) - 3))
        if bar_width >= 5:
            filled = bar_width * self.done // max(1, self.total)
            return f"[{'#' * filled}{'.' * (bar_width - filled)}]{tail}"[:width]
        return tail.strip()[:width]

    def _draw(self, *, force: bool) -> None:
        now = self.clock()
        if not force and now - self._drawn < self.min_interval:
            return
        self._drawn = now
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.stream.write("\r" + self.line(width) + "\x1b[K")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def make_progress(mode: ProgressMode = "auto", stream: TextIO | None = None) -> Progress:
    """``auto``: the bar on a terminal, plain lines otherwise (both on stderr by default)."""
    stream = sys.stderr if stream is None else stream
    if mode == "none":
        return Progress()
    if mode == "auto":
        tty = bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"
        mode = "bar" if tty else "lines"
    return BarProgress(stream) if mode == "bar" else LineProgress(stream)


# ---------------------------------------------------------------------- the batch


def make_executor(
    executor: ExecutorName = "local", *, jobs: int | None = None, scheduler: str | None = None, dashboard: bool = False
) -> Executor:
    """The executor named on the command line; ``dask`` needs the ``grader[dask]`` extra.

    ``dashboard`` serves a local Dask cluster's dashboard (on 127.0.0.1 only).
    """
    if executor == "local":
        if scheduler or dashboard:
            raise ValueError("--scheduler and --dashboard are only used with --executor dask")
        return LocalExecutor(jobs)
    if executor == "dask":
        from grader.grading.executors.dask_executor import DaskExecutor

        if scheduler and dashboard:
            raise ValueError("--dashboard is for a local Dask cluster; a scheduler serves its own")
        return DaskExecutor(scheduler, jobs=jobs, dashboard=dashboard)
    raise ValueError(f"unknown executor {executor!r}; use 'local' or 'dask'")


def report_name(path: Path) -> str:
    """``S.json`` for submission ``S.md`` (``index.md`` gets ``index.submission.json``: see
    ``grader.reports.html.submission_stem``; its page must not replace the class's ``index.html``)."""
    return f"{submission_stem(path.name)}.json"


@frozen_heap()  # through the class pages at the end, which allocate the most
def grade_batch(
    files: Sequence[Path | str],
    rubric: Rubric,
    out_dir: Path | str,
    *,
    rubric_sha256: str = "",
    jobs: int | None = None,
    resume: bool = False,
    executor: ExecutorName | Executor = "local",
    scheduler: str | None = None,
    dashboard: bool = False,
    limits: Limits | None = None,
    html: bool = True,
    show_reference: bool | None = None,
    roster: Roster | None = None,
    progress: Progress | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
    gradebook: str | Path | None = None,
) -> BatchResult:
    """Grade ``files`` into ``out_dir``: ``S.json`` and ``S.html`` per submission, then the class pages.

    ``on_result`` is called once per submission in the order of ``files`` (as soon as every
    earlier one is done), so output built from it is the same whatever ``jobs`` is; ``progress``
    hears about submissions as they finish. ``rubric_sha256`` is the rubric file's digest (the
    CLI's ``rubric_digest``); without it a digest of the loaded rubric is used, so that resuming
    still notices a changed rubric. ``show_reference`` defaults to the rubric's setting and
    ``roster`` puts students' names on the pages; neither changes the JSON, so a page of a
    resumed report is rendered again with the options of this run. ``gradebook`` is the store
    (default ``out_dir/gradebook.sqlite``): each submission is recorded as it settles, and
    ``grades.csv`` and ``index.html`` are written from it. Raises ``BatchInterrupted``
    on Ctrl-C or SIGTERM after stopping every worker; reports already written stay.
    """
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out)
    digest = rubric_sha256 or _rubric_fingerprint(rubric)
    paths = [Path(f) for f in files]
    effective = limits.apply(rubric) if limits is not None else rubric
    reveal = rubric.settings.show_reference if show_reference is None else show_reference
    setup = Setup.for_rubric(effective, digest, html=html, show_reference=reveal, roster=roster)
    if html:
        environment().get_template("report.html.j2")  # compiled once here, not in every worker

    settled: dict[int, SubmissionResult] = {}
    # ---- gradebook store (issue 13): every settled submission is recorded at once
    recorder = BatchRecorder(gradebook or out, rubric, digest, out, show_reference=reveal, roster=roster, html=html)
    owned = not isinstance(executor, Executor)
    runner = make_executor(executor, jobs=jobs, scheduler=scheduler, dashboard=dashboard) if isinstance(executor, str) else executor
    outcomes: Generator[Done, None, None] | None = None
    try:
        with _sigterm_as_interrupt():
            jobs_to_run = _triage(paths, out, rubric, digest, setup, settled, resume=resume)
            release = _InOrder(len(paths), on_result)
            for index in sorted(settled):
                recorder.record(settled[index].path, settled[index].report, settled[index].problems)
                release.add(index, settled[index])
            if progress is not None:
                progress.start(len(paths), sum(1 for r in settled.values() if r.resumed))
            outcomes = _run(runner, setup, jobs_to_run)
            for done in outcomes:
                result = _settle(done, paths[done.index], out)
                recorder.record(result.path, result.report, result.problems)
                settled[done.index] = result
                if progress is not None:
                    progress.update(result)
                release.add(done.index, result)
    except KeyboardInterrupt:
        recorder.close()
        if progress is not None:
            progress.finish()
        written = sum(1 for r in settled.values() if r.report is not None)
        raise BatchInterrupted(written, len(paths)) from None
    finally:
        if outcomes is not None:
            outcomes.close()  # stops the workers now, not when the traceback is freed
        if owned:
            runner.close()
    if progress is not None:
        progress.finish()
    results = tuple(settled[i] for i in range(len(paths)))
    try:
        recorder.finish()  # grades.csv and index.html, from the store
    finally:
        recorder.close()
    return BatchResult(
        out_dir=out,
        results=results,
        jobs=runner.jobs,
        executor=runner.name,
        seconds=time.monotonic() - started,
        review=tuple(recorder.outcomes),
    )


def _triage(
    paths: Sequence[Path],
    out: Path,
    rubric: Rubric,
    digest: str,
    setup: Setup,
    settled: dict[int, SubmissionResult],
    *,
    resume: bool,
) -> list[Job]:
    """Settle what needs no grading (duplicate report names, reports kept by resuming); the rest are jobs."""
    jobs: list[Job] = []
    claimed: dict[str, Path] = {}  # by the report's name as a case-insensitive file system sees it
    for index, path in enumerate(paths):
        name = report_name(path)
        if name.casefold() in claimed:
            settled[index] = SubmissionResult(path=path, report=None, problems=(_duplicate(path, claimed[name.casefold()], name),))
            continue
        claimed[name.casefold()] = path
        kept = _up_to_date(path, out / name, rubric, digest) if resume else None
        if kept is not None and (not setup.html or _page_kept(out, kept, setup)):
            settled[index] = SubmissionResult(path=path, report=kept, resumed=True)
        else:
            jobs.append(Job(index=index, path=str(path)))
    return jobs


def _run(runner: Executor, setup: Setup, jobs: Sequence[Job]) -> Generator[Done, None, None]:
    """The executor's outcomes, closing its generator (and so its workers) however we leave."""
    if not jobs:
        return
    warm_up(setup.rubric)  # workers fork from this process: warm once, shared copy-on-write
    helpers = helper_pids()
    prime_rubric(setup.rubric)
    stop_helpers(keep=helpers)  # the priming helper's work is on disk now; the workers start their own
    outcomes = runner.run(setup, jobs)
    try:
        yield from outcomes
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


def _settle(done: Done, path: Path, out: Path) -> SubmissionResult:
    """Write a finished submission's page, then its report (each atomically); describe the outcome."""
    problems = done.problems
    report = done.report
    if report is not None:
        try:
            if done.html is not None:
                _write_atomic(out / html_filename(report), done.html)
            _write_atomic(out / report_name(path), report_json(report))
        except OSError as error:
            problems = (
                Problem(
                    code="batch.write_failed",
                    message=f"the report could not be written: {error.strerror or error}",
                    file=str(out / report_name(path)),
                    fix="check the output folder (free space, permissions), then run again with --resume",
                ),
            )
            report = None
    return SubmissionResult(
        path=path,
        report=report,
        problems=problems,
        seconds=done.seconds,
        worker=done.worker,
        peak_rss_mb=done.peak_rss_mb,
        peak_check_rss_mb=done.peak_check_rss_mb,
    )


class _InOrder:
    """Hands results to a callback in input order, each as soon as all earlier ones are known."""

    def __init__(self, total: int, callback: Callable[[SubmissionResult], None] | None) -> None:
        self.callback = callback
        self.waiting: dict[int, SubmissionResult] = {}
        self.next = 0
        self.total = total

    def add(self, index: int, result: SubmissionResult) -> None:
        self.waiting[index] = result
        while self.next in self.waiting:
            ready = self.waiting.pop(self.next)
            self.next += 1
            if self.callback is not None:
                self.callback(ready)


def _up_to_date(path: Path, report_path: Path, rubric: Rubric, digest: str) -> Report | None:
    """The report on disk if it was made from these exact bytes, this rubric and this grader."""
    try:
        if path.is_symlink() or not report_path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
        report = load_report(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # unreadable, or not a report (pydantic errors are ValueErrors)
        return None
    current = (hashlib.sha256(data).hexdigest(), digest, __version__, path.name, rubric.assignment.id)
    stored = (report.submission_sha256, report.rubric_sha256, report.grader_version, report.submission, report.rubric)
    return report if stored == current else None


def _rubric_fingerprint(rubric: Rubric) -> str:
    """A digest of the loaded rubric, for callers that do not pass the file's digest."""
    return hashlib.sha256(rubric.model_dump_json().encode()).hexdigest()


def _duplicate(path: Path, first: Path, name: str) -> Problem:
    return Problem(
        code="batch.duplicate_name",
        message=f"{first} also writes {name}, so this submission was not graded",
        file=str(path),
        fix="rename one of the two files (reports are named after the file) and run again with --resume",
    )


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target, flush to disk, and rename: a reader never sees half a file.

    The temporary file is locked (``flock``) from just after its creation to its rename, which is
    how a batch tells it from one a killed batch left behind (see ``_remove_stale_temporaries``);
    a process id alone could have been reused. Should another batch remove it in the instant
    between creation and lock, it is made again.
    """
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        for _attempt in range(3):
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                if not _still_named(handle.fileno(), tmp):
                    continue
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
                os.replace(tmp, path)
                return
        raise OSError(f"the temporary file {tmp.name} kept disappearing")
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _still_named(fd: int, path: Path) -> bool:
    """The open file is still the one at ``path`` (no cleaner unlinked it before we locked it)."""
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def _page_kept(out: Path, report: Report, setup: Setup) -> bool:
    """Bring a resumed report's page up to date with this run's options; False: grade it again.

    The page depends on ``--show-reference`` and the roster, which the report does not record,
    so it is rendered again (cheap next to grading) and rewritten only when its bytes differ.
    """
    try:
        text = setup.render_html(report)
    except Exception:  # a page that cannot be rendered here is re-done by a bounded worker
        return False
    path = out / html_filename(report)
    with contextlib.suppress(OSError):
        if path.read_bytes() == text.encode("utf-8"):
            return True
    _write_atomic(path, text)
    return True


def _remove_stale_temporaries(out: Path) -> None:
    """Remove ``.S.json.tmpPID`` files left by a batch that was killed mid-write.

    Stale means nobody holds the file's lock (a writer locks it from creation to rename, and a
    killed writer's lock is released with it); the process id in the name is not trusted, since
    the system may have given it to another process since.
    """
    for entry in out.iterdir():
        if _TMP_FILE.match(entry.name) is None or entry.is_symlink() or not entry.is_file():
            continue
        try:
            with open(entry, "rb") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a writer holds it
                entry.unlink()
        except OSError:
            continue


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the batch runs, so ``kill`` also stops workers cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
