"""Where a batch's submissions are graded: a local pool of worker processes, or Dask."""

from grader.executors.base import (
    Done,
    Executor,
    ExecutorUnavailable,
    Job,
    Setup,
    default_jobs,
    submission_budget,
)
from grader.executors.local import LocalExecutor

__all__ = ["Done", "Executor", "ExecutorUnavailable", "Job", "LocalExecutor", "Setup", "default_jobs", "submission_budget"]
