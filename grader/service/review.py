"""The review queue, decisions, class rows and exports: the gradebook's (``grader.gradebook``), per assignment.

The service keeps no decisions of its own: ``grader review`` on the command line and the pages
and API here act on the same store, with the same actions (accept the proposed score, override
with a score and a comment, undo; one ITEM or a whole cluster of identical answers). A service
assignment is the gradebook's assignment of the same rubric id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from grader.errors import GraderError
from grader.gradebook.book import Gradebook
from grader.gradebook.models import AssignmentInfo, Decision, GradebookRow
from grader.reports.exports import canvas_csv, gradescope_autograder, moodle_csv
from grader.reports.gradebook import gradebook_csv
from grader.reports.roster import Roster
from grader.rubric.models import Rubric
from grader.service.models import DecisionRequest, ReviewQueue

EXPORTS = {
    "grades": ("grades.csv", "text/csv"),
    "canvas": ("canvas.csv", "text/csv"),
    "moodle": ("moodle.csv", "text/csv"),
    "gradescope": ("gradescope_autograder.zip", "application/zip"),
}


class DecisionError(ValueError):
    """The decision names nothing in this assignment's queue, or the gradebook refused it; the message says why."""

    def __init__(self, message: str, error: GraderError | None = None) -> None:
        super().__init__(message)
        self.problems = list(error.problems) if error is not None else []


def review_queue(book: Gradebook, assignment: AssignmentInfo, aid: str, by: Literal["question", "cluster"], *, include_decided: bool) -> ReviewQueue:
    items = book.queue(assignment, include_decided=include_decided)
    open_count = sum(1 for item in items if item.state in ("pending", "flagged"))
    if by == "question":
        return ReviewQueue(assignment_id=aid, by=by, items=items, open=open_count)
    return ReviewQueue(assignment_id=aid, by=by, clusters=book.clusters(assignment, include_decided=include_decided), open=open_count)


def decide(book: Gradebook, assignment: AssignmentInfo, request: DecisionRequest, reviewer: str) -> list[Decision]:
    """Accept, override or undo ITEMs or a cluster of this assignment's queue."""
    known = {item.item: item for item in book.queue(assignment, include_decided=True)}
    named = [*request.items, *([request.cluster] if request.cluster is not None else [])]
    strangers = [str(i) for i in named if i not in known and not any(q.cluster == i for q in known.values())]
    if strangers:
        raise DecisionError(f"no item {', '.join(strangers)} in the review queue of this assignment; see its review queue for the ITEM numbers")
    if not named and request.action != "undo":
        raise DecisionError("name the ITEMs (items) or the cluster (cluster) the decision is about")
    try:
        if request.action == "accept":
            return book.accept(request.items, reviewer=reviewer, cluster=request.cluster, comment=request.comment)
        if request.action == "override":
            if request.score is None:
                raise DecisionError("an override needs the points given (score)")
            return book.override(request.items, score=request.score, comment=request.comment, reviewer=reviewer, cluster=request.cluster)
        made: list[Decision] = []
        for item in request.items or [None]:  # type: ignore[list-item]
            made += book.undo(reviewer=reviewer, item=item)
        return made
    except GraderError as error:
        raise DecisionError(error.problems[0].message if error.problems else str(error), error) from None


def export(
    kind: str, rows: Sequence[GradebookRow], rubric: Rubric, roster: Roster | None, *, canvas_assignment_id: str | None, include_provisional: bool
) -> tuple[bytes, int]:
    """One export's bytes and how many submissions it holds back (provisional or unreadable)."""
    if kind == "grades":
        return gradebook_csv(rubric, rows).encode("utf-8"), 0
    if kind == "canvas":
        text, held = canvas_csv(rows, rubric, assignment_id=canvas_assignment_id or "", roster=roster, include_provisional=include_provisional)
        return text.encode("utf-8"), len(held)
    if kind == "moodle":
        text, held = moodle_csv(rows, rubric, roster=roster, include_provisional=include_provisional)
        return text.encode("utf-8"), len(held)
    if kind == "gradescope":
        data = gradescope_autograder(rows, rubric, include_provisional=include_provisional)
        return data, sum(1 for r in rows if r.report is None or (r.provisional and not include_provisional))
    raise ValueError(f"unknown export {kind!r}; use one of {', '.join(EXPORTS)}")
