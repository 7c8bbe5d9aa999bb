"""The review queue, decisions and exports over the service's store.

Interim: issue 13's gradebook (``grader.gradebook``) owns review decisions; until the service is
switched to it, decisions live in the service's own table with the same actions as ``grader
review``: accept the proposed score, override with a score and a comment, undo; one item or a
whole cluster of identical normalised answers. A decision applies to the report it was made
on: a new upload under the same name is a new submission and starts undecided.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import insert, select, update

from grader.checking.result import PartResult
from grader.reports.exports import canvas_csv, gradescope_json, moodle_csv
from grader.reports.gradebook import gradebook_csv
from grader.reports.roster import Roster
from grader.reports.summary import answer_key
from grader.rubric.models import Rubric
from grader.scoring.models import Report
from grader.scoring.score import score_question
from grader.service.db import decisions
from grader.service.models import (
    DecisionInfo,
    DecisionRequest,
    DecisionResult,
    ReviewCluster,
    ReviewItem,
    ReviewQueue,
)
from grader.service.store import Store

REVIEW_STATUSES = ("needs_review", "error")
EXPORTS = {
    "grades": ("grades.csv", "text/csv"),
    "canvas": ("canvas.csv", "text/csv"),
    "moodle": ("moodle.csv", "text/csv"),
    "gradescope": ("gradescope.json", "application/json"),
}


class DecisionError(ValueError):
    """The decision names nothing in the queue, or a score out of range; the message says which."""


def _answer(part: PartResult) -> str:
    extracted = part.extracted
    if extracted is None:
        return ""
    return extracted.latex or " ".join(extracted.text.split())[:500]


def _decision(row: object) -> DecisionInfo:
    return DecisionInfo.model_validate(row, from_attributes=True)


def latest_decisions(store: Store, submission_ids: Sequence[int]) -> dict[tuple[int, str, str], DecisionInfo]:
    if not submission_ids:
        return {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(decisions).where(decisions.c.submission_id.in_(list(submission_ids)), decisions.c.undone.is_(False)).order_by(decisions.c.id)
        ).all()
    return {(row.submission_id, row.question, row.part): _decision(row) for row in rows}


def _items(store: Store, aid: str) -> list[tuple[ReviewItem, str]]:
    reports = store.reports(aid)
    students = {s.id: s.student for s in store.submissions(aid)}
    decided = latest_decisions(store, [sid for sid, _ in reports])
    found = []
    for sid, report in reports:
        for question in report.questions:
            for part in question.parts:
                if part.status not in REVIEW_STATUSES:
                    continue
                item = ReviewItem(
                    submission_id=sid,
                    submission=report.submission,
                    student=students.get(sid, ""),
                    question=question.id,
                    part=part.id,
                    kind=part.kind,
                    answer=_answer(part),
                    proposed_score=part.proposed_score,
                    max_score=part.max_score,
                    reasons=list(part.reasons),
                    decided=decided.get((sid, question.id, part.id)),
                )
                found.append((item, answer_key(part) or f"submission:{sid}"))
    return found


def review_queue(store: Store, aid: str, by: Literal["question", "cluster"] = "question", *, include_decided: bool = True) -> ReviewQueue:
    found = _items(store, aid)
    open_count = sum(1 for item, _ in found if item.decided is None)
    if not include_decided:
        found = [(item, key) for item, key in found if item.decided is None]
    if by == "question":
        return ReviewQueue(assignment_id=aid, by=by, items=[item for item, _ in found], open=open_count)
    groups: dict[tuple[str, str, str], list[ReviewItem]] = defaultdict(list)
    for item, key in found:
        groups[(item.question, item.part, key)].append(item)
    clusters = [
        ReviewCluster(question=q, part=p, key=key, answer=items[0].answer, items=items)
        for (q, p, key), items in sorted(groups.items(), key=lambda entry: (entry[0][0], entry[0][1], -len(entry[1]), entry[0][2]))
    ]
    return ReviewQueue(assignment_id=aid, by=by, clusters=clusters, open=open_count)


def decide(store: Store, aid: str, request: DecisionRequest, who: str) -> DecisionResult:
    """Record one decision on one item, or on every item of a cluster."""
    targets = [
        item
        for item, key in _items(store, aid)
        if item.question == request.question
        and item.part == request.part
        and (request.submission_id is None or item.submission_id == request.submission_id)
        and (request.cluster is None or key == request.cluster)
    ]
    if request.submission_id is None and request.cluster is None:
        raise DecisionError("name the item (submission_id) or the cluster (cluster) the decision is about")
    if not targets:
        raise DecisionError(f"nothing in the review queue of {aid} matches question {request.question}, part {request.part}")
    now = time.time()
    made: list[DecisionInfo] = []
    undone: list[int] = []
    with store.engine.begin() as conn:
        for item in targets:
            if request.action == "undo":
                if item.decided is not None:
                    conn.execute(update(decisions).where(decisions.c.id == item.decided.id).values(undone=True))
                    undone.append(item.decided.id)
                continue
            if request.action == "accept":
                score = item.proposed_score if item.proposed_score is not None else 0.0
            else:
                if request.score is None or not 0 <= request.score <= item.max_score:
                    raise DecisionError(f"an override needs a score from 0 to {item.max_score:g}")
                if not request.comment.strip():
                    raise DecisionError("an override needs a comment saying why (the student sees it)")
                score = request.score
            before = item.decided.to_score if item.decided is not None else (item.proposed_score or 0.0)
            values = dict(
                submission_id=item.submission_id, question=item.question, part=item.part, action=request.action,
                from_score=before, to_score=score, comment=request.comment.strip(), who=who, at=now, undone=False,
            )
            key = conn.execute(insert(decisions).values(**values)).inserted_primary_key
            assert key is not None
            made.append(DecisionInfo.model_validate({"id": int(key[0]), **{k: v for k, v in values.items() if k != "undone"}}))
    return DecisionResult(decisions=made, undone=undone)


def apply_decisions(report: Report, decided: dict[tuple[str, str], DecisionInfo]) -> Report:
    """The report with each decided part scored as the person said (and no longer waiting)."""
    if not decided:
        return report
    questions = []
    for question in report.questions:
        parts = []
        for part in question.parts:
            decision = decided.get((question.id, part.id))
            if decision is None:
                parts.append(part)
                continue
            status = "correct" if decision.to_score >= part.max_score else "incorrect" if decision.to_score == 0 else "partial"
            feedback = [*part.feedback, *([decision.comment] if decision.comment else [])]
            parts.append(part.model_copy(update={"status": status, "score": decision.to_score, "feedback": feedback}))
        questions.append(score_question(question.id, question.title, question.max_score, parts, question.answer_lines))
    review = any(q.status in REVIEW_STATUSES for q in questions)
    return report.model_copy(
        update={"questions": questions, "score": round(sum(q.score for q in questions), 4), "status": "needs_review" if review else "graded"}
    )


def decided_reports(store: Store, aid: str) -> list[tuple[int, Report]]:
    reports = store.reports(aid)
    decided = latest_decisions(store, [sid for sid, _ in reports])
    by_submission: dict[int, dict[tuple[str, str], DecisionInfo]] = defaultdict(dict)
    for (sid, question, part), decision in decided.items():
        by_submission[sid][(question, part)] = decision
    return [(sid, apply_decisions(report, by_submission.get(sid, {}))) for sid, report in reports]


def export(kind: str, reports: Sequence[Report], rubric: Rubric, roster: Roster | None) -> str:
    """One export's text; canvas and moodle need a roster (``RosterError`` says so otherwise)."""
    if kind == "grades":
        return gradebook_csv(rubric, reports)
    if kind == "canvas":
        return canvas_csv(reports, rubric, roster)
    if kind == "moodle":
        return moodle_csv(reports, rubric, roster)
    if kind == "gradescope":
        return json.dumps({r.submission: json.loads(gradescope_json(r, rubric)) for r in reports}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown export {kind!r}; use one of {', '.join(EXPORTS)}")
