"""The small interface between a batch and whatever runs its submissions.

A batch hands an :class:`Executor` one :class:`Setup` (the rubric, shared by every task) and
a list of :class:`Job` (one per submission); the executor yields one :class:`Done` per job as
each finishes, in any order. Executors never raise for what a job does: a crash, a timeout or a
killed worker comes back as a ``Done`` with problems, so one hostile file cannot stop a batch.
Writing reports, resuming and progress stay in ``grader.batch``, the same for every executor.
"""

from __future__ import annotations

import os
import resource
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar

from grader._internal.sandbox import helper_pids
from grader.errors import GraderError, Problem
from grader.grading.options import default_jobs
from grader.grading.pipeline import grade_file, grade_text
from grader.input.models import SubmissionText
from grader.reports.html import render_html_report
from grader.reports.roster import Roster
from grader.rubric.models import Rubric
from grader.scoring.models import Report

__all__ = [
    "Done",
    "Executor",
    "ExecutorUnavailable",
    "Job",
    "Setup",
    "default_jobs",
    "failure",
    "grade_job",
    "submission_budget",
]

# Slack on top of the per-check limits before a whole submission is declared stuck: process
# start-up, reading, scoring. Checks are bounded one by one; this only catches grader bugs.
_BUDGET_SLACK_S = 30.0
_PER_STAGE_SLACK_S = 1.0


def submission_budget(rubric: Rubric) -> float:
    """Wall-clock seconds after which a submission's worker is presumed stuck and is killed.

    Every stage is bounded by ``check_timeout_s`` (segmentation, then each part), so a healthy
    worker always finishes within this; only a bug outside the sandboxed stages can exceed it.
    """
    stages = 1 + sum(len(question.parts) for question in rubric.questions)
    return stages * (rubric.settings.check_timeout_s + _PER_STAGE_SLACK_S) + _BUDGET_SLACK_S


@dataclass(frozen=True, slots=True)
class Setup:
    """What every task of a batch shares; sent to each worker once.

    The HTML page is rendered in the worker, beside the grading: it is the other step that
    reads what the student wrote, so it runs under the same per-submission budget.
    """

    rubric: Rubric  # with CLI limit overrides already applied
    rubric_sha256: str
    budget_s: float  # per submission, see submission_budget
    html: bool = False  # also render S.html
    show_reference: bool = False
    roster: Roster | None = None  # puts the student's name on the page

    @classmethod
    def for_rubric(
        cls,
        rubric: Rubric,
        rubric_sha256: str,
        *,
        html: bool = False,
        show_reference: bool = False,
        roster: Roster | None = None,
    ) -> Setup:
        return cls(
            rubric=rubric,
            rubric_sha256=rubric_sha256,
            budget_s=submission_budget(rubric),
            html=html,
            show_reference=show_reference,
            roster=roster,
        )

    def render_html(self, report: Report) -> str:
        """The submission's HTML page for this batch's options."""
        student = self.roster.lookup(report.submission) if self.roster is not None else None
        return render_html_report(report, self.rubric, show_reference=self.show_reference, student=student)

    @property
    def memory_mb(self) -> int:
        return self.rubric.settings.check_memory_mb


@dataclass(frozen=True, slots=True)
class Job:
    """One submission to grade; ``index`` is its place in the batch's input order."""

    index: int
    path: str


@dataclass(frozen=True, slots=True)
class Done:
    """The outcome of one job: a report, or the problems that prevented one."""

    index: int
    report: Report | None
    problems: tuple[Problem, ...] = ()
    html: str | None = None  # the report's page, when the batch asked for one
    seconds: float = 0.0  # wall time spent grading, in the worker
    worker: str = ""  # which worker graded it (pid or Dask address), for diagnostics
    peak_rss_mb: float | None = None  # the worker's peak resident memory so far
    peak_check_rss_mb: float | None = None  # the largest check process it has run so far
    fatal: bool = False  # the worker should not be reused (it ran out of memory)


def failure(index: int, path: str, code: str, message: str, fix: str, *, worker: str = "", seconds: float = 0.0) -> Done:
    """A ``Done`` without a report, with one problem that says what happened and what to do."""
    problem = Problem(code=code, message=message, file=path, fix=fix)
    return Done(index=index, report=None, problems=(problem,), worker=worker, seconds=seconds)


def grade_job(setup: Setup, job: Job, read: SubmissionText | None = None) -> Done:
    """The body every executor runs for one job; never raises for anything the submission does.

    ``read`` is the file's text when the caller read it already (a remote worker may not see the
    path); otherwise the worker reads the path itself.
    """
    started = time.monotonic()
    fatal = False
    try:
        if read is None:
            report = grade_file(job.path, setup.rubric, rubric_sha256=setup.rubric_sha256)
        else:
            report = grade_text(read, setup.rubric, rubric_sha256=setup.rubric_sha256)
        html = setup.render_html(report) if setup.html else None
        outcome = Done(index=job.index, report=report, html=html)
    except GraderError as error:
        outcome = Done(index=job.index, report=None, problems=error.problems)
    except MemoryError:
        fatal = True
        outcome = failure(
            job.index,
            job.path,
            "grading.out_of_memory",
            f"grading this submission needed more than {setup.memory_mb} MB of memory outside the checks",
            "report this file to the grader's maintainers; raise the limit with --memory to get a grade meanwhile",
        )
    except Exception as error:  # a grader bug: one submission fails, the batch goes on
        frames = traceback.extract_tb(error.__traceback__)
        where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
        outcome = failure(
            job.index,
            job.path,
            "grading.crashed",
            f"grader failed on this submission: {type(error).__name__}: {error}{where}",
            "report this file to the grader's maintainers",
        )
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    usage_children = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, *map(_peak_kb, helper_pids()), 0)
    return Done(
        index=outcome.index,
        report=outcome.report,
        problems=outcome.problems,
        html=outcome.html,
        seconds=time.monotonic() - started,
        worker=f"pid {os.getpid()}",
        peak_rss_mb=usage_self / 1024,  # Linux reports kilobytes
        peak_check_rss_mb=usage_children / 1024 if usage_children else None,
        fatal=fatal,
    )


def _peak_kb(pid: int) -> int:
    """A live helper's peak resident memory (its check processes are reused, never reaped)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class ExecutorUnavailable(RuntimeError):
    """The executor cannot run at all (a missing extra, an unreachable scheduler): nothing was graded."""


class Executor(ABC):
    """Runs a batch's jobs somewhere: worker processes here, or a Dask cluster."""

    name: ClassVar[str]
    jobs: int

    @abstractmethod
    def run(self, setup: Setup, jobs: Sequence[Job]) -> Iterator[Done]:
        """Yield exactly one ``Done`` per job, as each finishes; stop every worker when closed early."""

    @abstractmethod
    def close(self) -> None:
        """Release what the executor holds (workers, a cluster it started); safe to call twice."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
