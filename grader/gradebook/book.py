"""The gradebook's Python API: record graded reports, review parts, read final scores.

Both ``grader review`` and the web service call this; each method is one transaction, so a
process killed at any instant loses no committed decision and leaves no half-written row.

An ITEM is one part of one submission (its row id, stable across regrades). A decision is
kept for the answer it was made for: it applies while the part's normalised answer and its
maximum are unchanged, and is *flagged* (the part goes back to the queue, the decision shown
beside it) when a regrade finds a different answer: never silently dropped, never silently
applied to an answer nobody looked at. Decisions are never deleted; ``undo`` adds a row.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from grader.checking.result import PartResult
from grader.errors import Problem
from grader.gradebook.answers import answer_key, answer_text
from grader.gradebook.models import (
    AssignmentInfo,
    Cluster,
    Decision,
    GradebookRow,
    ItemDetail,
    ItemState,
    QueueItem,
    RecordOutcome,
    ReviewNote,
)
from grader.gradebook.store import GradebookError, open_engine, session_scope
from grader.gradebook.tables import AssignmentRow, DecisionRow, FinalScoreRow, PartRow, SubmissionRow
from grader.rubric.models import Rubric
from grader.scoring.models import QuestionResult, Report
from grader.scoring.score import score_question

__all__ = ["Gradebook", "open_gradebook"]

_REVIEW = ("needs_review", "error")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _error(code: str, message: str, fix: str) -> GradebookError:
    return GradebookError([Problem(code=code, message=message, fix=fix)])


def _points(value: float) -> str:
    return f"{value:g}"


def open_gradebook(location: str | Path, *, keep_reports: bool = False) -> Gradebook:
    """The store at ``location``: a reports folder, a ``.sqlite`` file or a ``postgresql://`` URL.

    ``keep_reports``: remember the reports recorded through this object, so reading them back
    (the class files at the end of a batch) parses no JSON. For a batch, which holds its reports
    anyway; not for a long-lived process.
    """
    return Gradebook(location, keep_reports=keep_reports)


class _Effective:
    """A submission's decisions, resolved: the one in force per part, and the undo bookkeeping."""

    def __init__(self, rows: Sequence[DecisionRow]) -> None:
        undone = {row.undoes_id for row in rows if row.action == "undo"}
        self.rows = rows
        self.live = [row for row in rows if row.action != "undo" and row.id not in undone]
        self.by_part: dict[tuple[str, str], DecisionRow] = {}
        for row in self.live:  # ascending ids: the newest live decision wins
            self.by_part[(row.question_id, row.part_id)] = row

    def get(self, part: PartRow) -> DecisionRow | None:
        return self.by_part.get((part.question_id, part.part_id))


def _valid(decision: DecisionRow, part: PartRow) -> bool:
    return decision.answer_key == part.answer_key and decision.max_score == part.max_score


def _state(part: PartRow, decision: DecisionRow | None) -> ItemState:
    if decision is not None:
        return "decided" if _valid(decision, part) else "flagged"
    return _status_state(part.status)


def _note(decision: DecisionRow, part: PartRow) -> ReviewNote:
    return ReviewNote(
        state="decided" if _valid(decision, part) else "flagged",
        score=decision.score if decision.score is not None else 0.0,
        from_score=decision.from_score,
        reviewer=decision.reviewer,
        decided_at=_aware(decision.decided_at),
        comment=decision.comment,
        answer=decision.answer_text,
    )


def _status_for(score: float, max_score: float) -> Literal["correct", "partial", "incorrect"]:
    if score >= max_score:
        return "correct"
    return "incorrect" if score <= 0 else "partial"


# Built once: ``json.dumps`` with options builds an encoder per call, and a batch stores ~80 per submission.
_to_json = json.JSONEncoder(ensure_ascii=False).encode
_evidence_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode


def _part_values(part: PartResult, question: QuestionResult, position: int, sha256: str) -> dict[str, object]:
    """A part result's columns (all but its identity), as a new row and a regrade store them."""
    return {
        "position": position,
        "question_max": question.max_score,
        "status": part.status,
        "verdict": part.verdict,
        "method": part.method,
        "score": part.score,
        "max_score": part.max_score,
        "proposed_score": part.proposed_score,
        # Nothing read: the decision holds for these exact file bytes only.
        "answer_key": answer_key(part) or f"file:{sha256}",
        "answer_text": answer_text(part),
        "feedback_json": _to_json(part.feedback),
        "evidence_json": _evidence_json(part.evidence),
        "reasons_json": _to_json(part.reasons),
    }


def _submission_values(report: Report, text: str, path: str) -> dict[str, object]:
    """A graded submission's columns, as a new row and a regrade store them (an empty ``path``
    keeps the one on record)."""
    return {
        **({"path": path} if path else {}),
        "sha256": report.submission_sha256,
        "rubric_sha256": report.rubric_sha256,
        "grader_version": report.grader_version,
        "status": report.status,
        "reason": "",
        "report_json": text,
        "graded_at": _now(),
    }


def _student_values(student_id: str, student_name: str, roster: dict[str, str] | None) -> dict[str, object]:
    """The student's columns, or none when nothing is known (the ones on record stay)."""
    if not (student_id or student_name or roster):
        return {}
    return {"student_id": student_id, "student_name": student_name, "roster_json": json.dumps(roster or {}, sort_keys=True)}


def _set(row: object, values: dict[str, object]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _status_state(status: str) -> ItemState:
    return "pending" if status in _REVIEW else "automatic"


def _final_values(
    parts: Sequence[tuple[str, float, float, ItemState, DecisionRow | None]], *, graded: bool, max_score: float
) -> dict[str, object]:
    """A submission's final score from its parts (question, question's points, score, state, decision).

    Computed as the scorer does (each question capped at its points, rounded to 4 places), so
    it agrees with the reviewed report without parsing it.
    """
    questions: dict[str, tuple[float, float]] = {}
    reviewers = set()
    states = [state for _, _, _, state, _ in parts]
    for question, cap, score, state, decision in parts:
        if state == "decided" and decision is not None and decision.score is not None:
            score = decision.score
            reviewers.add(decision.reviewer)
        got, cap = questions.get(question, (0.0, cap))
        questions[question] = (got + score, cap)
    total = round(sum(round(min(cap, got), 4) for got, cap in questions.values()), 4)
    return {
        "score": total if graded else None,
        "max_score": max_score,
        "pending": states.count("pending"),
        "flagged": states.count("flagged"),
        "reviewed": states.count("decided"),
        "provisional": "pending" in states or "flagged" in states,
        "reviewers": "\n".join(sorted(reviewers)),
    }


class Gradebook:
    """The store of one or more assignments; open it once, call its methods, ``close`` it."""

    def __init__(self, location: str | Path, *, keep_reports: bool = False) -> None:
        self.location = location
        self.engine = open_engine(location)
        # Reports recorded here, by submission row, with a digest of the JSON stored for them.
        self._kept: dict[int, tuple[str, Report]] | None = {} if keep_reports else None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ assignments

    def set_assignment(
        self,
        rubric: Rubric,
        rubric_sha256: str,
        *,
        show_reference: bool | None = None,
        canvas_assignment_id: str | None = None,
    ) -> AssignmentInfo:
        """Create or update the assignment graded with ``rubric`` (its version: the file's digest)."""
        with session_scope(self.engine) as session:
            row = session.scalars(select(AssignmentRow).where(AssignmentRow.rubric_id == rubric.assignment.id)).first()
            if row is None:
                row = AssignmentRow(rubric_id=rubric.assignment.id, show_reference=rubric.settings.show_reference)
                session.add(row)
            wanted = {
                "rubric_sha256": rubric_sha256,
                "title": rubric.assignment.title,
                "max_score": rubric.max_score,
                "rubric_json": rubric.model_dump_json(),
            }
            if show_reference is not None:
                wanted["show_reference"] = show_reference
            if canvas_assignment_id is not None:
                wanted["canvas_assignment_id"] = canvas_assignment_id
            changed = {k: v for k, v in wanted.items() if getattr(row, k, None) != v}
            for name, value in changed.items():
                setattr(row, name, value)
            if changed or row.updated_at is None:
                row.updated_at = _now()
            session.flush()
            return self._info(row)

    def assignments(self) -> list[AssignmentInfo]:
        with session_scope(self.engine) as session:
            return [self._info(row) for row in session.scalars(select(AssignmentRow).order_by(AssignmentRow.rubric_id))]

    def assignment(self, rubric_id: str | None = None) -> AssignmentInfo:
        """The assignment named ``rubric_id``, or the only one in the store."""
        known = self.assignments()
        if rubric_id is not None:
            found = [a for a in known if a.rubric_id == rubric_id]
            if found:
                return found[0]
            names = ", ".join(a.rubric_id for a in known) or "none yet"
            raise _error("gradebook.no_assignment", f"the gradebook has no assignment {rubric_id!r} (it has: {names})", "pass one of those with --assignment")
        if len(known) == 1:
            return known[0]
        if not known:
            raise _error("gradebook.empty", "the gradebook holds no graded assignment yet", "grade first: grader grade FILES --rubric DIR --out DIR")
        names = ", ".join(a.rubric_id for a in known)
        raise _error("gradebook.which_assignment", f"the gradebook holds several assignments ({names})", "pass one with --assignment ID")

    def rubric(self, assignment: AssignmentInfo) -> Rubric:
        with session_scope(self.engine) as session:
            row = session.get(AssignmentRow, assignment.id)
            assert row is not None
            return Rubric.model_validate_json(row.rubric_json)

    @staticmethod
    def _info(row: AssignmentRow) -> AssignmentInfo:
        return AssignmentInfo(
            id=row.id,
            rubric_id=row.rubric_id,
            rubric_sha256=row.rubric_sha256,
            title=row.title,
            max_score=row.max_score,
            canvas_assignment_id=row.canvas_assignment_id,
            show_reference=row.show_reference,
        )

    # ------------------------------------------------------------------ recording

    def record_report(
        self,
        assignment: AssignmentInfo,
        report: Report,
        *,
        path: str = "",
        student_id: str = "",
        student_name: str = "",
        roster: dict[str, str] | None = None,
    ) -> RecordOutcome:
        """Store a graded report (a regrade replaces the machine's results, never the decisions)."""
        text = report.model_dump_json()
        fresh = self._record_new(assignment, report, text, path, student_id, student_name, roster)
        if fresh is not None:
            return fresh
        with session_scope(self.engine) as session:
            sub = self._submission_row(session, assignment, report.submission)
            if sub.id is not None and sub.report_json == text and self._same_student(sub, student_id, student_name, roster):
                return self._outcome(session, sub)  # a resumed report: nothing to write
            _set(sub, _submission_values(report, text, path) | _student_values(student_id, student_name, roster))
            session.flush()
            existing = {(p.question_id, p.part_id): p for p in session.scalars(select(PartRow).where(PartRow.submission_id == sub.id))}
            before = _Effective(self._decisions(session, sub.id))
            seen: set[tuple[str, str]] = set()
            position = 0
            for question in report.questions:
                for part in question.parts:
                    key = (question.id, part.id)
                    seen.add(key)
                    row = existing.get(key)
                    if row is None:
                        row = PartRow(submission_id=sub.id, question_id=question.id, part_id=part.id)
                        session.add(row)
                    _set(row, _part_values(part, question, position, report.submission_sha256))
                    position += 1
            for key, row in existing.items():
                if key not in seen:
                    session.delete(row)
            session.flush()
            self._refresh_final(session, sub)
            return self._outcome(session, sub, before)

    def _record_new(
        self,
        assignment: AssignmentInfo,
        report: Report,
        text: str,
        path: str,
        student_id: str,
        student_name: str,
        roster: dict[str, str] | None,
    ) -> RecordOutcome | None:
        """Insert a submission the store has never seen, in one transaction of three statements.

        The common case of a batch, and the parent process's main cost per submission through
        the ORM; None when the submission exists (a regrade takes the path that keeps decisions).
        """
        with self.engine.begin() as connection:
            known = connection.execute(
                select(SubmissionRow.id).where(
                    SubmissionRow.assignment_id == assignment.id, SubmissionRow.file_name == report.submission
                )
            ).first()
            if known is not None:
                return None
            row = {"assignment_id": assignment.id, "file_name": report.submission, "path": path}
            row |= _submission_values(report, text, path) | _student_values(student_id, student_name, roster)
            inserted = connection.execute(insert(SubmissionRow), row).inserted_primary_key
            assert inserted is not None
            sub_id = inserted[0]
            parts = [
                {"submission_id": sub_id, "question_id": question.id, "part_id": part.id}
                | _part_values(part, question, position, report.submission_sha256)
                for position, (question, part) in enumerate((q, p) for q in report.questions for p in q.parts)
            ]
            if parts:
                connection.execute(insert(PartRow), parts)
            final = _final_values(
                [(p["question_id"], p["question_max"], p["score"], _status_state(p["status"]), None) for p in parts],
                graded=True,
                max_score=assignment.max_score,
            )
            connection.execute(insert(FinalScoreRow), {"submission_id": sub_id, "updated_at": row["graded_at"], **final})
        if self._kept is not None:
            self._kept[sub_id] = (_digest(text), report)
        return RecordOutcome(submission=report.submission)

    def _report(self, sub: SubmissionRow) -> Report | None:
        """The submission's stored report: the one recorded here if it is still what is stored."""
        if sub.report_json is None:
            return None
        kept = self._kept.get(sub.id) if self._kept is not None else None
        if kept is not None and kept[0] == _digest(sub.report_json):
            return kept[1]
        return Report.model_validate_json(sub.report_json)

    def _outcome(self, session: Session, sub: SubmissionRow, before: _Effective | None = None) -> RecordOutcome:
        """Which decisions still hold for the submission's answers (kept) and which do not (flagged)."""
        decisions = before or _Effective(self._decisions(session, sub.id))
        kept: list[QueueItem] = []
        flagged: list[QueueItem] = []
        for part in self._parts(session, sub.id):
            decision = decisions.get(part)
            if decision is not None:
                item = self._queue_item(session, sub, part, decision)
                (kept if item.state == "decided" else flagged).append(item)
        return RecordOutcome(submission=sub.file_name, kept=kept, flagged=flagged)

    @staticmethod
    def _same_student(sub: SubmissionRow, student_id: str, student_name: str, roster: dict[str, str] | None) -> bool:
        if not (student_id or student_name or roster):
            return True
        stored = json.loads(sub.roster_json) if sub.roster_json else None
        return (sub.student_id, sub.student_name, stored) == (student_id, student_name, roster or {})

    def record_unreadable(
        self,
        assignment: AssignmentInfo,
        file_name: str,
        *,
        reason: str,
        path: str = "",
        student_id: str = "",
        student_name: str = "",
        roster: dict[str, str] | None = None,
    ) -> RecordOutcome:
        """Store a submission that could not be graded, with the reason a person will read."""
        with session_scope(self.engine) as session:
            sub = self._submission_row(session, assignment, file_name)
            sub.path = path or sub.path
            sub.status = "unreadable"
            sub.reason = reason
            sub.report_json = None
            sub.graded_at = _now()
            _set(sub, _student_values(student_id, student_name, roster))
            session.flush()
            session.execute(delete(PartRow).where(PartRow.submission_id == sub.id))
            flagged = [
                QueueItem(
                    item=0, submission=sub.file_name, question=row.question_id, part=row.part_id, state="flagged",
                    status="unreadable", verdict="undecided", method="none", score=row.score or 0.0,
                    proposed_score=None, max_score=row.max_score or 0.0, answer=row.answer_text, cluster=0,
                )
                for row in _Effective(self._decisions(session, sub.id)).live
            ]
            self._refresh_final(session, sub)
            return RecordOutcome(submission=sub.file_name, flagged=flagged)

    @staticmethod
    def _submission_row(session: Session, assignment: AssignmentInfo, file_name: str) -> SubmissionRow:
        sub = session.scalars(
            select(SubmissionRow).where(SubmissionRow.assignment_id == assignment.id, SubmissionRow.file_name == file_name)
        ).first()
        if sub is None:
            sub = SubmissionRow(assignment_id=assignment.id, file_name=file_name, status="unreadable", graded_at=_now())
            session.add(sub)
        return sub


    # ------------------------------------------------------------------ reading the queue

    def queue(self, assignment: AssignmentInfo, *, include_decided: bool = False) -> list[QueueItem]:
        """Parts waiting for a person (pending, or flagged by a regrade), in rubric order by question."""
        wanted = {"pending", "flagged"} | ({"decided"} if include_decided else set())
        with session_scope(self.engine) as session:
            return self._items(session, assignment, wanted)

    def clusters(self, assignment: AssignmentInfo, *, include_decided: bool = False) -> list[Cluster]:
        """The queue grouped by question, part and identical normalised answer; largest first."""
        groups: dict[int, list[QueueItem]] = defaultdict(list)
        order: dict[int, int] = {}
        for position, item in enumerate(self.queue(assignment, include_decided=include_decided)):
            groups[item.cluster].append(item)
            order.setdefault(item.cluster, position)
        clusters = [
            Cluster(cluster=c, question=m[0].question, part=m[0].part, answer=m[0].answer, max_score=m[0].max_score, items=m)
            for c, m in groups.items()
        ]
        return sorted(clusters, key=lambda c: (-len(c.items), order[c.cluster]))

    def item(self, item_id: int) -> ItemDetail:
        """One part with its evidence, its review history and the other ITEMs of its cluster."""
        with session_scope(self.engine) as session:
            part, sub = self._part(session, item_id)
            effective = _Effective(self._decisions(session, sub.id))
            item = self._queue_item(session, sub, part, effective.get(part))
            history = [
                self._decision(row, part.id, sub.file_name)
                for row in effective.rows
                if (row.question_id, row.part_id) == (part.question_id, part.part_id)
            ]
            same = [i for i in self._cluster_members(session, part) if i != part.id]
            return ItemDetail(
                item=item,
                feedback=json.loads(part.feedback_json),
                evidence=json.loads(part.evidence_json),
                history=history,
                same_answer=same,
            )

    def history(self, assignment: AssignmentInfo) -> list[Decision]:
        """Every decision row of the assignment, oldest first."""
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(DecisionRow, SubmissionRow.file_name)
                .join(SubmissionRow, SubmissionRow.id == DecisionRow.submission_id)
                .where(SubmissionRow.assignment_id == assignment.id)
                .order_by(DecisionRow.id)
            ).all()
            parts = {
                (p.submission_id, p.question_id, p.part_id): p.id
                for p in session.scalars(
                    select(PartRow).join(SubmissionRow, SubmissionRow.id == PartRow.submission_id).where(SubmissionRow.assignment_id == assignment.id)
                )
            }
            return [self._decision(row, parts.get((row.submission_id, row.question_id, row.part_id)), name) for row, name in rows]

    # ------------------------------------------------------------------ deciding

    def accept(self, items: Iterable[int] = (), *, reviewer: str, cluster: int | None = None, comment: str = "") -> list[Decision]:
        """Accept the proposed score of ITEMs, or of every undecided ITEM in ``cluster``."""
        return self._decide("accept", items, reviewer=reviewer, cluster=cluster, score=None, comment=comment)

    def override(
        self, items: Iterable[int] = (), *, score: float, comment: str, reviewer: str, cluster: int | None = None
    ) -> list[Decision]:
        """Set ``score`` (with the reason in ``comment``) on ITEMs, or on every undecided ITEM in ``cluster``."""
        if not comment.strip():
            raise _error("review.comment_required", "an override needs a comment saying why", "add --comment 'why this score'")
        return self._decide("override", items, reviewer=reviewer, cluster=cluster, score=score, comment=comment)

    def _decide(
        self,
        action: Literal["accept", "override"],
        items: Iterable[int],
        *,
        reviewer: str,
        cluster: int | None,
        score: float | None,
        comment: str,
    ) -> list[Decision]:
        reviewer = reviewer.strip()
        if not reviewer:
            raise _error("review.no_reviewer", "who decided is not known", "pass --reviewer NAME (or set $USER)")
        wanted = list(dict.fromkeys(items))
        if not wanted and cluster is None:
            raise _error("review.no_item", "no ITEM was given", "pass an ITEM id from 'grader review list', or --cluster C")
        group = uuid.uuid4().hex
        made: list[Decision] = []
        with session_scope(self.engine) as session:
            targets = [self._part(session, item_id) for item_id in wanted]
            if cluster is not None:
                head, _ = self._part(session, cluster)
                members = self._cluster_members(session, head)
                for item_id in members:
                    part, sub = self._part(session, item_id)
                    state = _state(part, _Effective(self._decisions(session, sub.id)).get(part))
                    if state in ("pending", "flagged") and all(part.id != t[0].id for t in targets):
                        targets.append((part, sub))
                if not targets:
                    raise _error(
                        "review.empty_cluster",
                        f"cluster {cluster} has no part waiting for a decision",
                        "see 'grader review list --by cluster'; decided parts change with override ITEM",
                    )
            for part, sub in targets:
                before = self._current_score(session, sub, part)
                if score is not None:
                    new = score
                else:  # accept: the machine's proposal for the answer as it is now
                    new = part.proposed_score if part.proposed_score is not None else part.score
                if not (math.isfinite(new) and 0 <= new <= part.max_score):
                    raise _error(
                        "review.bad_score",
                        f"item {part.id} ({sub.file_name}, {part.question_id} {part.part_id}) is worth 0 to {_points(part.max_score)} points, not {_points(new)}",
                        f"pass --score between 0 and {_points(part.max_score)}",
                    )
                row = DecisionRow(
                    submission_id=sub.id,
                    question_id=part.question_id,
                    part_id=part.part_id,
                    action=action,
                    action_group=group,
                    score=new,
                    from_score=before,
                    max_score=part.max_score,
                    comment=comment,
                    reviewer=reviewer,
                    decided_at=_now(),
                    answer_key=part.answer_key,
                    answer_text=part.answer_text,
                )
                session.add(row)
                session.flush()
                made.append(self._decision(row, part.id, sub.file_name))
            for sub in {id(s): s for _, s in targets}.values():
                self._refresh_final(session, sub)
        return made

    def undo(self, *, reviewer: str, item: int | None = None) -> list[Decision]:
        """Undo the decision in force on ITEM, or else ``reviewer``'s latest action (a whole cluster at once)."""
        reviewer = reviewer.strip()
        if not reviewer:
            raise _error("review.no_reviewer", "who decided is not known", "pass --reviewer NAME (or set $USER)")
        with session_scope(self.engine) as session:
            if item is not None:
                part, sub = self._part(session, item)
                decision = _Effective(self._decisions(session, sub.id)).get(part)
                if decision is None:
                    raise _error("review.nothing_to_undo", f"item {item} has no decision in force", "see its history with 'grader review show ITEM'")
                targets = [decision]
            else:
                targets = self._latest_action(session, reviewer)
            group = uuid.uuid4().hex
            made = []
            touched: dict[int, SubmissionRow] = {}
            for target in targets:
                owner = session.get(SubmissionRow, target.submission_id)
                assert owner is not None
                held = self._part_of(session, owner.id, target.question_id, target.part_id)
                row = DecisionRow(
                    submission_id=target.submission_id,
                    question_id=target.question_id,
                    part_id=target.part_id,
                    action="undo",
                    action_group=group,
                    score=None,
                    from_score=target.score,
                    max_score=target.max_score,
                    comment=f"undoes decision {target.id}",
                    reviewer=reviewer,
                    decided_at=_now(),
                    answer_key=target.answer_key,
                    answer_text=target.answer_text,
                    undoes_id=target.id,
                )
                session.add(row)
                session.flush()
                made.append(self._decision(row, held.id if held is not None else None, owner.file_name))
                touched[owner.id] = owner
            for changed in touched.values():
                self._refresh_final(session, changed)
            return made

    def _latest_action(self, session: Session, reviewer: str) -> list[DecisionRow]:
        undone = set(session.scalars(select(DecisionRow.undoes_id).where(DecisionRow.undoes_id.is_not(None))))
        rows = session.scalars(
            select(DecisionRow).where(DecisionRow.reviewer == reviewer, DecisionRow.action != "undo").order_by(DecisionRow.id.desc())
        ).all()
        for row in rows:
            if row.id not in undone:
                return [r for r in rows if r.action_group == row.action_group and r.id not in undone]
        raise _error("review.nothing_to_undo", f"{reviewer} has no decision left to undo", "undo another person's decision with: grader review undo ITEM")

    # ------------------------------------------------------------------ final scores and exports

    def rows(self, assignment: AssignmentInfo) -> list[GradebookRow]:
        """Every submission of the assignment with its final (or provisional) score, by file name."""
        with session_scope(self.engine) as session:
            subs = session.scalars(
                select(SubmissionRow).where(SubmissionRow.assignment_id == assignment.id).order_by(SubmissionRow.file_name)
            ).all()
            # At most three queries for the whole assignment, not three per submission.
            ids = [sub.id for sub in subs]
            finals = {row.submission_id: row for row in session.scalars(select(FinalScoreRow).where(FinalScoreRow.submission_id.in_(ids)))}
            decisions: dict[int, list[DecisionRow]] = defaultdict(list)
            for decision in session.scalars(select(DecisionRow).where(DecisionRow.submission_id.in_(ids)).order_by(DecisionRow.id)):
                decisions[decision.submission_id].append(decision)
            parts: dict[int, list[PartRow]] = defaultdict(list)
            decided = list(decisions)  # parts matter only where a decision applies to them
            for part in session.scalars(select(PartRow).where(PartRow.submission_id.in_(decided)).order_by(PartRow.position)) if decided else ():
                parts[part.submission_id].append(part)
            return [
                self._row(session, sub, assignment, final=finals.get(sub.id), decisions=decisions[sub.id], parts=parts[sub.id])
                for sub in subs
            ]

    def reviewed(self, assignment: AssignmentInfo, file_name: str) -> GradebookRow:
        with session_scope(self.engine) as session:
            sub = session.scalars(
                select(SubmissionRow).where(SubmissionRow.assignment_id == assignment.id, SubmissionRow.file_name == file_name)
            ).first()
            if sub is None:
                raise _error("gradebook.no_submission", f"the gradebook has no submission {file_name!r}", "grade it first")
            return self._row(session, sub, assignment)

    def decided_submissions(self, assignment: AssignmentInfo) -> set[str]:
        """File names that have any decision on record (their pages show it)."""
        with session_scope(self.engine) as session:
            return set(
                session.scalars(
                    select(SubmissionRow.file_name)
                    .join(DecisionRow, DecisionRow.submission_id == SubmissionRow.id)
                    .where(SubmissionRow.assignment_id == assignment.id)
                    .distinct()
                )
            )

    def _row(
        self,
        session: Session,
        sub: SubmissionRow,
        assignment: AssignmentInfo,
        *,
        final: FinalScoreRow | None = None,
        decisions: Sequence[DecisionRow] | None = None,
        parts: Sequence[PartRow] | None = None,
    ) -> GradebookRow:
        """One submission's row; ``final``, ``decisions`` and ``parts`` are read here unless given."""
        if final is None:
            final = session.get(FinalScoreRow, sub.id)
        report, notes = self._apply(session, sub, decisions=decisions, parts=parts)
        roster = json.loads(sub.roster_json) if sub.roster_json else {}
        status: Literal["graded", "needs_review", "unreadable"] = (
            "unreadable" if report is None else ("needs_review" if report.status == "needs_review" else "graded")
        )
        return GradebookRow(
            submission=sub.file_name,
            path=sub.path,
            student_id=sub.student_id,
            student_name=sub.student_name,
            roster={str(k): str(v) for k, v in roster.items()},
            status=status,
            reason=sub.reason,
            score=final.score if final is not None else None,
            max_score=final.max_score if final is not None else assignment.max_score,
            provisional=final.provisional if final is not None else True,
            pending=final.pending if final is not None else 0,
            flagged=final.flagged if final is not None else 0,
            reviewed=final.reviewed if final is not None else 0,
            reviewers=[r for r in (final.reviewers.split("\n") if final is not None else []) if r],
            questions={q.id: q.score for q in report.questions} if report is not None else {},
            report=report,
            notes=notes,
        )

    def _apply(
        self,
        session: Session,
        sub: SubmissionRow,
        *,
        decisions: Sequence[DecisionRow] | None = None,
        parts: Sequence[PartRow] | None = None,
    ) -> tuple[Report | None, dict[str, ReviewNote]]:
        """The stored report with every decision in force applied; flagged parts back to review."""
        report = self._report(sub)
        if report is None:
            return None, {}
        effective = _Effective(decisions if decisions is not None else self._decisions(session, sub.id))
        if not effective.live:
            return report, {}
        by_key = {(p.question_id, p.part_id): p for p in (parts if parts is not None else self._parts(session, sub.id))}
        notes: dict[str, ReviewNote] = {}
        questions = []
        for question in report.questions:
            new_parts = []
            for part in question.parts:
                row = by_key.get((question.id, part.id))
                decision = effective.get(row) if row is not None else None
                if row is None or decision is None:
                    new_parts.append(part)
                    continue
                note = _note(decision, row)
                notes[f"{question.id}/{part.id}"] = note
                if note.state == "decided":
                    new_parts.append(part.model_copy(update={"score": note.score, "status": _status_for(note.score, part.max_score)}))
                else:
                    reason = (
                        f"{note.reviewer} decided {_points(note.score)} / {_points(part.max_score)} for a different answer"
                        f" ({note.answer or 'nothing read'}); the answer changed, so a person must decide again"
                    )
                    new_parts.append(
                        part.model_copy(
                            update={
                                "status": "needs_review",
                                "proposed_score": part.proposed_score if part.proposed_score is not None else part.score,
                                "reasons": [reason, *part.reasons],
                            }
                        )
                    )
            if new_parts == question.parts:
                questions.append(question)
            else:
                questions.append(score_question(question.id, question.title, question.max_score, new_parts, question.answer_lines))
        if not notes:
            return report, notes
        review = any(q.status in _REVIEW for q in questions)
        score = round(sum(q.score for q in questions), 4)
        return report.model_copy(update={"questions": questions, "score": score, "status": "needs_review" if review else "graded"}), notes

    def _refresh_final(self, session: Session, sub: SubmissionRow) -> None:
        """Recompute the submission's final score in the same transaction as what changed it."""
        session.flush()
        assignment = session.get(AssignmentRow, sub.assignment_id)
        assert assignment is not None
        effective = _Effective(self._decisions(session, sub.id))
        parts = self._parts(session, sub.id) if sub.report_json is not None else []
        values = _final_values(
            [(p.question_id, p.question_max, p.score, _state(p, effective.get(p)), effective.get(p)) for p in parts],
            graded=sub.report_json is not None,
            max_score=assignment.max_score,
        )
        values["updated_at"] = _now()
        row = session.get(FinalScoreRow, sub.id)
        if row is None:
            session.add(FinalScoreRow(submission_id=sub.id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _decisions(session: Session, submission_id: int) -> Sequence[DecisionRow]:
        return session.scalars(select(DecisionRow).where(DecisionRow.submission_id == submission_id).order_by(DecisionRow.id)).all()

    @staticmethod
    def _parts(session: Session, submission_id: int) -> Sequence[PartRow]:
        return session.scalars(select(PartRow).where(PartRow.submission_id == submission_id).order_by(PartRow.position)).all()

    @staticmethod
    def _part_of(session: Session, submission_id: int, question: str, part: str) -> PartRow | None:
        return session.scalars(
            select(PartRow).where(PartRow.submission_id == submission_id, PartRow.question_id == question, PartRow.part_id == part)
        ).first()

    @staticmethod
    def _part(session: Session, item_id: int) -> tuple[PartRow, SubmissionRow]:
        part = session.get(PartRow, item_id)
        sub = session.get(SubmissionRow, part.submission_id) if part is not None else None
        if part is None or sub is None:
            raise _error("review.no_item", f"there is no item {item_id}", "see the ITEM ids with 'grader review list'")
        return part, sub

    @staticmethod
    def _cluster_members(session: Session, part: PartRow) -> list[int]:
        sub = session.get(SubmissionRow, part.submission_id)
        assert sub is not None
        return list(
            session.scalars(
                select(PartRow.id)
                .join(SubmissionRow, SubmissionRow.id == PartRow.submission_id)
                .where(
                    SubmissionRow.assignment_id == sub.assignment_id,
                    PartRow.question_id == part.question_id,
                    PartRow.part_id == part.part_id,
                    PartRow.answer_key == part.answer_key,
                )
                .order_by(PartRow.id)
            )
        )

    def _current_score(self, session: Session, sub: SubmissionRow, part: PartRow) -> float:
        decision = _Effective(self._decisions(session, sub.id)).get(part)
        if decision is not None and _valid(decision, part) and decision.score is not None:
            return decision.score
        return part.score

    def _items(self, session: Session, assignment: AssignmentInfo, states: set[str]) -> list[QueueItem]:
        rubric_row = session.get(AssignmentRow, assignment.id)
        assert rubric_row is not None
        order = {}
        rubric = json.loads(rubric_row.rubric_json)
        for i, question in enumerate(rubric.get("questions", [])):
            for j, part in enumerate(question.get("parts", [])):
                order[(question["id"], part["id"])] = (i, j)
        clusters: dict[tuple[str, str, str], int] = {}
        for q, p, key, smallest in session.execute(
            select(PartRow.question_id, PartRow.part_id, PartRow.answer_key, func.min(PartRow.id))
            .join(SubmissionRow, SubmissionRow.id == PartRow.submission_id)
            .where(SubmissionRow.assignment_id == assignment.id)
            .group_by(PartRow.question_id, PartRow.part_id, PartRow.answer_key)
        ):
            clusters[(q, p, key)] = smallest
        # Three queries for the whole assignment, not three per submission.
        subs = {s.id: s for s in session.scalars(select(SubmissionRow).where(SubmissionRow.assignment_id == assignment.id))}
        decisions: dict[int, list[DecisionRow]] = defaultdict(list)
        for row in session.scalars(select(DecisionRow).where(DecisionRow.submission_id.in_(subs)).order_by(DecisionRow.id)):
            decisions[row.submission_id].append(row)
        effective = {sub_id: _Effective(decisions[sub_id]) for sub_id in subs}
        items = [
            self._queue_item(
                session,
                subs[part.submission_id],
                part,
                effective[part.submission_id].get(part),
                cluster=clusters.get((part.question_id, part.part_id, part.answer_key)),
            )
            for part in session.scalars(select(PartRow).where(PartRow.submission_id.in_(subs)))
            if _state(part, effective[part.submission_id].get(part)) in states
        ]
        return sorted(items, key=lambda i: (order.get((i.question, i.part), (len(order), 0)), i.submission, i.item))

    def _queue_item(
        self, session: Session, sub: SubmissionRow, part: PartRow, decision: DecisionRow | None, *, cluster: int | None = None
    ) -> QueueItem:
        state = _state(part, decision)
        if cluster is None:
            cluster = min(self._cluster_members(session, part), default=part.id)
        score = decision.score if state == "decided" and decision is not None and decision.score is not None else part.score
        return QueueItem(
            item=part.id,
            submission=sub.file_name,
            student=sub.student_name,
            question=part.question_id,
            part=part.part_id,
            state=state,
            status=part.status,
            verdict=part.verdict,
            method=part.method,
            score=score,
            proposed_score=part.proposed_score,
            max_score=part.max_score,
            answer=part.answer_text,
            cluster=cluster,
            reasons=json.loads(part.reasons_json),
            note=_note(decision, part) if decision is not None else None,
        )

    @staticmethod
    def _decision(row: DecisionRow, item: int | None, submission: str) -> Decision:
        return Decision(
            id=row.id,
            item=item,
            submission=submission,
            question=row.question_id,
            part=row.part_id,
            action=row.action,
            score=row.score,
            from_score=row.from_score,
            comment=row.comment,
            reviewer=row.reviewer,
            decided_at=_aware(row.decided_at),
            answer=row.answer_text,
            undoes=row.undoes_id,
        )

