"""The service's store: assignments, submissions and their persistent jobs, self-check attempts.

A submission and its job are written in one transaction, so an accepted upload is never lost.
A job is claimed by one runner under a lease; a result is recorded only by the runner that
still holds the job, in the same transaction that marks the job done, and each recording adds
one row to ``service_completions``: a submission is graded once, whatever crashes in between.
Identical bytes under the same name are the same submission (idempotent uploads).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from grader._internal.processes import pid_alive
from grader.errors import Problem
from grader.input.models import SubmissionProblem
from grader.input.open import MAX_BYTES, decode_submission
from grader.reports.roster import Roster, parse_roster
from grader.rubric.models import Rubric
from grader.scoring.models import Report
from grader.service.db import assignments, attempts, completions, jobs, submissions, tokens
from grader.service.models import AssignmentInfo, AttemptInfo, Progress, SubmissionInfo
from grader.service.uploads import Incoming

_SLUG = re.compile(r"[^a-z0-9]+")


def runner_id() -> str:
    """``host:pid``: a lease holder on this host whose pid is gone is known dead at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job a runner now holds: the submission to grade and where its bytes were spooled."""

    submission_id: int
    assignment_id: str
    name: str
    path: Path
    tries: int = 1  # how many times a runner has claimed this job


class Store:
    def __init__(self, engine: Engine, data_dir: Path) -> None:
        self.engine = engine
        self.data_dir = data_dir

    # ------------------------------------------------------------------ assignments

    def add_assignment(self, rubric: Rubric, rubric_text: str, prepared_json: str, source: str, title: str | None) -> str:
        wanted = _SLUG.sub("-", (title or rubric.assignment.id).lower()).strip("-")[:40] or "assignment"
        with self.engine.begin() as conn:
            taken = {row.id for row in conn.execute(select(assignments.c.id).where(assignments.c.id.like(f"{wanted}%")))}
            aid = wanted if wanted not in taken else next(f"{wanted}-{n}" for n in range(2, 10_000) if f"{wanted}-{n}" not in taken)
            conn.execute(
                insert(assignments).values(
                    id=aid,
                    title=title or rubric.assignment.title,
                    rubric_id=rubric.assignment.id,
                    rubric_text=rubric_text,
                    rubric_sha256=hashlib.sha256(rubric_text.encode("utf-8")).hexdigest(),
                    prepared_json=prepared_json,
                    source=source,
                    created_at=time.time(),
                )
            )
        return aid

    def assignment_row(self, aid: str) -> Row | None:
        with self.engine.connect() as conn:
            return conn.execute(select(assignments).where(assignments.c.id == aid)).first()

    def assignment_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(select(assignments.c.id).order_by(assignments.c.created_at))]

    def rubric_file(self, aid: str) -> Path:
        """The assignment's rubric as a file (rubric loading and digests work on files)."""
        row = self.assignment_row(aid)
        if row is None:
            raise KeyError(aid)
        path = self.data_dir / "rubrics" / aid / "rubric.toml"
        data = row.rubric_text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, data)
        return path

    def roster(self, aid: str) -> Roster | None:
        row = self.assignment_row(aid)
        return parse_roster(row.roster_csv, source="roster.csv") if row is not None and row.roster_csv else None

    def assignment_for_rubric(self, rubric_id: str) -> Row | None:
        with self.engine.connect() as conn:
            return conn.execute(select(assignments).where(assignments.c.rubric_id == rubric_id)).first()

    def set_roster(self, aid: str, text: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(assignments).where(assignments.c.id == aid).values(roster_csv=text))

    def info(self, aid: str, rubric: Rubric) -> AssignmentInfo:
        row = self.assignment_row(aid)
        if row is None:
            raise KeyError(aid)
        return AssignmentInfo(
            id=row.id,
            title=row.title,
            rubric=row.rubric_id,
            rubric_sha256=row.rubric_sha256,
            source=row.source,
            questions=[q.id for q in rubric.questions],
            max_score=rubric.max_score,
            has_roster=bool(row.roster_csv),
        )

    # ------------------------------------------------------------------ submissions

    def record(self, aid: str, incoming: Incoming, student: str = "") -> tuple[SubmissionInfo, bool]:
        """Record one uploaded file with its job; (the submission, False) if these bytes were already here."""
        data = incoming.data
        sha = hashlib.sha256(data).hexdigest()
        existing = self._find(aid, incoming.name, sha)
        if existing is not None and incoming.size <= MAX_BYTES:
            return existing, False
        problem: Problem | None = None
        if incoming.size > MAX_BYTES:
            problem = Problem(
                code="submission.too_large",
                message=f"the file is {incoming.size:,} bytes, more than the {MAX_BYTES:,} byte limit",
                file=incoming.name,
                fix="submit only your answers as Markdown text, without embedded images or data",
            )
        else:
            decoded = decode_submission(data, incoming.name)
            if isinstance(decoded, SubmissionProblem):
                problem = decoded.to_problem()
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(submissions)
                    .where(submissions.c.assignment_id == aid, submissions.c.name == incoming.name, submissions.c.current.is_(True))
                    .values(current=False)
                )
                sid = conn.execute(
                    insert(submissions).values(
                        assignment_id=aid,
                        name=incoming.name,
                        sha256=sha,
                        student=student,
                        content=data if problem is None else None,
                        size=incoming.size,
                        current=True,
                        state="unreadable" if problem else "queued",
                        problems_json=json.dumps([problem.model_dump(mode="json")]) if problem else None,
                        created_at=now,
                    )
                ).inserted_primary_key
                assert sid is not None
                sid = sid[0]
                if problem is None:
                    conn.execute(insert(jobs).values(submission_id=sid, state="queued", tries=0, queued_at=now))
        except IntegrityError:  # the same bytes arrived at the same moment from another request
            found = self._find(aid, incoming.name, sha)
            if found is None:
                raise
            return found, False
        info = self.submission(int(sid))
        assert info is not None
        return info, True

    def _find(self, aid: str, name: str, sha: str) -> SubmissionInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(submissions.c.id).where(submissions.c.assignment_id == aid, submissions.c.name == name, submissions.c.sha256 == sha)
            ).first()
        return None if row is None else self.submission(row.id)

    def submission(self, sid: int) -> SubmissionInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_SUMMARY_COLUMNS).where(submissions.c.id == sid)).first()
        return None if row is None else _info(row)

    def submissions(self, aid: str, *, student: str | None = None, current: bool = True) -> list[SubmissionInfo]:
        query = select(*_SUMMARY_COLUMNS).where(submissions.c.assignment_id == aid)
        if current:
            query = query.where(submissions.c.current.is_(True))
        if student is not None:
            query = query.where(submissions.c.student == student)
        with self.engine.connect() as conn:
            return [_info(row) for row in conn.execute(query.order_by(submissions.c.name, submissions.c.id))]

    def is_current(self, sid: int) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(submissions.c.current).where(submissions.c.id == sid)).scalar())

    def report(self, sid: int) -> Report | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(submissions.c.report_json).where(submissions.c.id == sid)).first()
        return None if row is None or row.report_json is None else Report.model_validate_json(row.report_json)

    def progress(self, aid: str) -> Progress:
        with self.engine.connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(submissions.c.state, func.count())
                    .where(submissions.c.assignment_id == aid, submissions.c.current.is_(True))
                    .group_by(submissions.c.state)
                ).all()
            )
            review = conn.execute(
                select(func.count()).where(
                    submissions.c.assignment_id == aid, submissions.c.current.is_(True), submissions.c.report_json.like('%"status":"needs_review"%')
                )
            ).scalar_one()
        return Progress(
            assignment_id=aid,
            total=sum(counts.values()),
            queued=counts.get("queued", 0),
            running=counts.get("running", 0),
            graded=counts.get("graded", 0),
            unreadable=counts.get("unreadable", 0),
            needs_review=review,
        )

    # ------------------------------------------------------------------ jobs

    def requeue_abandoned(self, me: str, lease_seconds: float) -> int:
        """Jobs held by a runner that is gone (a dead pid on this host, or an expired lease) go back to the queue."""
        host = me.rsplit(":", 1)[0]
        now = time.time()
        with self.engine.begin() as conn:
            running = conn.execute(select(jobs.c.id, jobs.c.runner, jobs.c.lease_until, jobs.c.submission_id).where(jobs.c.state == "running")).all()
            gone = []
            for job in running:
                holder_host, _, pid = (job.runner or "").rpartition(":")
                dead_here = holder_host == host and pid.isdigit() and job.runner != me and not pid_alive(int(pid))
                if dead_here or (job.lease_until or 0) < now:
                    gone.append(job)
            for job in gone:
                conn.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.state == "running", jobs.c.runner == job.runner).values(state="queued", runner=None, lease_until=None))
                conn.execute(update(submissions).where(submissions.c.id == job.submission_id).values(state="queued"))
        return len(gone)

    def claim(self, me: str, limit: int, lease_seconds: float) -> list[Claimed]:
        """Take up to ``limit`` queued jobs of one assignment (the oldest first) and spool their bytes."""
        claimed: list[Claimed] = []
        with self.engine.begin() as conn:
            first = conn.execute(
                select(submissions.c.assignment_id)
                .join(jobs, jobs.c.submission_id == submissions.c.id)
                .where(jobs.c.state == "queued")
                .order_by(jobs.c.queued_at, jobs.c.id)
                .limit(1)
            ).first()
            if first is None:
                return []
            rows = conn.execute(
                select(jobs.c.id, jobs.c.tries, submissions.c.id.label("sid"), submissions.c.name, submissions.c.content)
                .join(submissions, jobs.c.submission_id == submissions.c.id)
                .where(jobs.c.state == "queued", submissions.c.assignment_id == first.assignment_id)
                .order_by(jobs.c.queued_at, jobs.c.id)
                .limit(limit)
            ).all()
            lease = time.time() + lease_seconds
            for row in rows:
                took = conn.execute(
                    update(jobs).where(jobs.c.id == row.id, jobs.c.state == "queued").values(state="running", runner=me, lease_until=lease, tries=jobs.c.tries + 1)
                ).rowcount
                if not took:
                    continue
                conn.execute(update(submissions).where(submissions.c.id == row.sid).values(state="running"))
                path = self.data_dir / "spool" / str(row.sid) / row.name
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(path, row.content or b"")
                claimed.append(Claimed(row.sid, first.assignment_id, row.name, path, row.tries + 1))
        return claimed

    def release(self, me: str) -> None:
        """Put back every job this runner holds (it is stopping, or its round failed)."""
        with self.engine.begin() as conn:
            held = [row.submission_id for row in conn.execute(select(jobs.c.submission_id).where(jobs.c.state == "running", jobs.c.runner == me))]
            conn.execute(update(jobs).where(jobs.c.state == "running", jobs.c.runner == me).values(state="queued", runner=None, lease_until=None))
            if held:
                conn.execute(update(submissions).where(submissions.c.id.in_(held)).values(state="queued"))

    def renew(self, me: str, lease_seconds: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.state == "running", jobs.c.runner == me).values(lease_until=time.time() + lease_seconds))

    def complete(self, me: str, claimed: Claimed, report: Report | None, problems: Sequence[Problem]) -> bool:
        """Record a result if this runner still holds the job; False if it was taken back meanwhile."""
        now = time.time()
        with self.engine.begin() as conn:
            held = conn.execute(
                update(jobs)
                .where(jobs.c.submission_id == claimed.submission_id, jobs.c.state == "running", jobs.c.runner == me)
                .values(state="done", finished_at=now, lease_until=None)
            ).rowcount
            if not held:
                return False
            conn.execute(
                update(submissions)
                .where(submissions.c.id == claimed.submission_id)
                .values(
                    state="graded" if report is not None else "unreadable",
                    report_json=report.model_dump_json() if report is not None else None,
                    problems_json=json.dumps([p.model_dump(mode="json") for p in problems]) if problems else None,
                    graded_at=now,
                )
            )
            conn.execute(insert(completions).values(submission_id=claimed.submission_id, runner=me, at=now))
        with contextlib.suppress(OSError):
            claimed.path.unlink()
            claimed.path.parent.rmdir()
        return True

    def completion_counts(self, aid: str) -> dict[int, int]:
        """How many times each current submission's result was recorded (the exactly-once audit)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(submissions.c.id, func.count(completions.c.id))
                .select_from(submissions.outerjoin(completions, completions.c.submission_id == submissions.c.id))
                .where(submissions.c.assignment_id == aid)
                .group_by(submissions.c.id)
            ).all()
        return {row[0]: row[1] for row in rows}

    # ------------------------------------------------------------------ self-check attempts

    def attempts_since(self, token_id: int, since: float) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(attempts.c.token_id == token_id, attempts.c.at >= since, attempts.c.outcome != "refused")
                ).scalar_one()
            )

    def oldest_attempt_since(self, token_id: int, since: float) -> float | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.min(attempts.c.at)).where(attempts.c.token_id == token_id, attempts.c.at >= since, attempts.c.outcome != "refused")
            ).scalar_one()

    def log_attempt(
        self, token_id: int, aid: str, *, kind: str, question: str | None, input_sha256: str, outcome: str,
        score: float | None = None, max_score: float | None = None, client: str = "",
    ) -> int:
        with self.engine.begin() as conn:
            key = conn.execute(
                insert(attempts).values(
                    token_id=token_id, assignment_id=aid, at=time.time(), kind=kind, question=question,
                    input_sha256=input_sha256, outcome=outcome, score=score, max_score=max_score, client=client[:100],
                )
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish_attempt(self, attempt_id: int, outcome: str, score: float | None, max_score: float | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(outcome=outcome, score=score, max_score=max_score))

    def attempt_list(self, aid: str, token_id: int | None = None) -> list[AttemptInfo]:
        query = (
            select(attempts, tokens.c.subject)
            .join(tokens, tokens.c.id == attempts.c.token_id)
            .where(attempts.c.assignment_id == aid)
        )
        if token_id is not None:
            query = query.where(attempts.c.token_id == token_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(attempts.c.id)).all()
        return [
            AttemptInfo(id=r.id, at=r.at, student=r.subject, kind=r.kind, question=r.question, outcome=r.outcome, score=r.score, max_score=r.max_score)
            for r in rows
        ]

    def token_rows(self) -> list[Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(tokens).where(tokens.c.revoked.is_(False)).order_by(tokens.c.id)))


_SUMMARY_COLUMNS = (
    submissions.c.id,
    submissions.c.assignment_id,
    submissions.c.name,
    submissions.c.student,
    submissions.c.sha256,
    submissions.c.size,
    submissions.c.state,
    submissions.c.report_json,
    submissions.c.problems_json,
)


def _info(row: Row) -> SubmissionInfo:
    report = Report.model_validate_json(row.report_json) if row.report_json else None
    problems = [Problem.model_validate(p) for p in json.loads(row.problems_json)] if row.problems_json else []
    return SubmissionInfo(
        id=row.id,
        assignment_id=row.assignment_id,
        name=row.name,
        student=row.student,
        sha256=row.sha256,
        size=row.size,
        state=row.state,
        score=report.score if report else None,
        max_score=report.max_score if report else None,
        status=report.status if report else None,
        problems=problems,
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


__all__ = ["Claimed", "Store", "runner_id"]
