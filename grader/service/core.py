"""The service's operations, shared by the JSON API and the pages (both stay thin over this)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from grader.errors import GraderError, Problem
from grader.gradebook.book import open_gradebook
from grader.gradebook.models import AssignmentInfo as BookAssignment
from grader.gradebook.models import GradebookRow
from grader.input.open import MAX_BYTES
from grader.reports.html import html_filename, render_html_report
from grader.reports.roster import Roster, parse_roster
from grader.reports.summary import render_class_summary
from grader.rubric.load import RUBRIC_FILE
from grader.rubric.models import Rubric
from grader.scoring.models import Report
from grader.service.auth import Principal
from grader.service.config import ServiceConfig
from grader.service.db import make_engine
from grader.service.models import (
    AssignmentInfo,
    AssignmentRequest,
    CheckRequest,
    CheckResult,
    Progress,
    SubmissionInfo,
    UploadResult,
)
from grader.service.selfcheck import (
    CheckPool,
    CheckRefused,
    check_answer,
    check_file,
    input_digest,
    prepare_rubric,
    question_feedback,
    references,
)
from grader.service.store import Store
from grader.service.uploads import MAX_ARCHIVE_TOTAL, Incoming, read_upload, safe_name


class ServiceError(HTTPException):
    """An HTTP error whose body names the problems (the pages show the same text)."""

    def __init__(self, status: int, detail: str, problems: tuple[Problem, ...] | list[Problem] = (), headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers)
        self.problems = list(problems)


@dataclass(frozen=True)
class Loaded:
    """An assignment's open rubric (kept in the server, never sent), its references and sealed copy,
    its roster, and the gradebook's assignment it is."""

    rubric: Rubric
    references: tuple[str, ...]
    sealed_json: str
    roster: Roster | None
    book: BookAssignment


class Service:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(config.database_url)
        self.store = Store(self.engine, config.data_dir)
        self.book = open_gradebook(config.database_url)
        self.pool = CheckPool(config.check_workers)
        self._loaded: dict[tuple[str, str, str], Loaded] = {}

    def close(self) -> None:
        self.pool.close()
        self.book.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ assignments

    def loaded(self, aid: str) -> Loaded:
        row = self.store.assignment_row(aid)
        if row is None:
            raise ServiceError(404, f"there is no assignment {aid!r}")
        key = (aid, row.rubric_sha256, row.roster_csv or "")
        found = self._loaded.get(key)
        if found is None:
            rubric = Rubric.model_validate(json.loads(row.prepared_json)["open"])
            roster = parse_roster(row.roster_csv, source="roster.csv") if row.roster_csv else None
            assignment = self.book.set_assignment(rubric, row.rubric_sha256)
            found = Loaded(rubric, references(rubric), json.dumps(json.loads(row.prepared_json)["sealed"]), roster, assignment)
            self._loaded[key] = found
        return found

    def assignment(self, aid: str, who: Principal) -> AssignmentInfo:
        if not who.can_see_assignment(aid):
            raise ServiceError(403, "this token does not open that assignment")
        return self.store.info(aid, self.loaded(aid).rubric)

    def assignments(self, who: Principal) -> list[AssignmentInfo]:
        return [self.store.info(aid, self.loaded(aid).rubric) for aid in self.store.assignment_ids() if who.can_see_assignment(aid)]

    def rubric_choices(self) -> list[str]:
        """Rubric folders under the configured root, relative to it."""
        root = self.config.rubrics_root
        if root is None or not root.is_dir():
            return []
        base = root.resolve()
        found = []
        for file in sorted(base.rglob(RUBRIC_FILE)):
            real = file.resolve()
            if real.is_relative_to(base) and real.is_file():
                found.append(str(file.parent.relative_to(base)))
        return found[:500]

    def _rubric_from_path(self, relative: str) -> tuple[str, str]:
        root = self.config.rubrics_root
        if root is None:
            raise ServiceError(400, "this server has no rubrics folder (start it with --rubrics DIR); upload the rubric.toml instead")
        base = root.resolve()
        if "\x00" in relative or not relative.strip():
            raise ServiceError(400, "the rubric folder's name is empty or not a name; pick one of the folders listed")
        try:
            folder = (base / relative.strip().lstrip("/")).resolve()
        except (OSError, RuntimeError) as error:  # a symlink loop, a name too long
            raise ServiceError(400, f"the rubric folder {relative[:100]!r} cannot be used ({error})") from None
        if not folder.is_relative_to(base):
            raise ServiceError(400, f"{relative!r} is outside the rubrics folder; pick one of the folders listed")
        try:
            file = folder / RUBRIC_FILE if folder.is_dir() else folder
            usable = file.is_file() and file.resolve().is_relative_to(base)
        except OSError:
            usable = False
        if not usable:
            raise ServiceError(400, f"there is no {RUBRIC_FILE} in {relative!r}; pick one of the folders listed")
        try:
            return file.read_text(encoding="utf-8"), relative.strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ServiceError(400, f"{relative}/{RUBRIC_FILE} cannot be read: {error}") from None

    async def create_assignment(self, request: AssignmentRequest) -> AssignmentInfo:
        if (request.rubric_path is None) == (request.rubric_toml is None):
            raise ServiceError(422, "give either rubric_path (a folder under the server's rubrics folder) or rubric_toml (the file's text)")
        if request.rubric_path is not None:
            text, source = await run_in_threadpool(self._rubric_from_path, request.rubric_path)
        else:
            assert request.rubric_toml is not None
            text, source = request.rubric_toml, "upload"
        try:
            prepared = await self.pool.run(prepare_rubric, text)
        except CheckRefused as error:
            raise ServiceError(422, f"the rubric cannot be used ({len(error.problems)} problem(s)); fix them and try again", error.problems) from None
        rubric = Rubric.model_validate(json.loads(prepared)["open"])
        existing = await run_in_threadpool(self.store.assignment_for_rubric, rubric.assignment.id)
        if existing is not None:
            if existing.rubric_sha256 != hashlib.sha256(text.encode("utf-8")).hexdigest():
                raise ServiceError(
                    409,
                    f"assignment {existing.id} already grades rubric {rubric.assignment.id!r} with another version of it; "
                    "give this rubric its own [assignment] id, or keep the one there",
                )
            return await run_in_threadpool(self.store.info, existing.id, rubric)
        aid = await run_in_threadpool(self.store.add_assignment, rubric, text, prepared, source, request.title)
        await run_in_threadpool(self.loaded, aid)  # the gradebook's assignment, from now on
        return await run_in_threadpool(self.store.info, aid, rubric)

    def set_roster(self, aid: str, text: str) -> None:
        self.loaded(aid)
        try:
            parse_roster(text, source="roster.csv")
        except GraderError as error:
            raise ServiceError(422, "the roster cannot be used; fix it and upload it again", error.problems) from None
        self.store.set_roster(aid, text)

    # ------------------------------------------------------------------ submissions

    async def upload(self, aid: str, files: Sequence[UploadFile], who: Principal) -> UploadResult:
        self.assignment(aid, who)
        if not files:
            raise ServiceError(422, "choose at least one file: Markdown submissions, or a zip of them")
        if who.role == "student" and len(files) != 1:
            raise ServiceError(422, "a student uploads one file: their own submission")
        recorded: list[SubmissionInfo] = []
        already: list[int] = []
        problems: list[Problem] = []
        skipped: list[str] = []
        for upload in files:
            name = upload.filename or "upload"
            head = await upload.read(MAX_ARCHIVE_TOTAL + 1)
            size = upload.size if upload.size is not None else len(head)
            unpacked = await run_in_threadpool(read_upload, name, head, size)
            problems += unpacked.problems
            skipped += unpacked.skipped
            for incoming in unpacked.files:
                if who.role == "student":
                    suffix = Path(incoming.name).suffix or ".md"
                    incoming = Incoming(f"{safe_name(who.subject) or 'student'}{suffix}", incoming.data, incoming.size)
                info, created = await run_in_threadpool(self.store.record, aid, incoming, who.subject if who.role == "student" else "")
                if created and info.state == "unreadable":
                    await run_in_threadpool(self._record_unreadable, aid, info)
                recorded.append(info)
                if not created:
                    already.append(info.id)
        return UploadResult(submissions=recorded, already_received=already, problems=problems, skipped=skipped)

    def _record_unreadable(self, aid: str, info: SubmissionInfo) -> None:
        """An upload that cannot be read is in the gradebook too, with its reason (it is never lost from the class)."""
        loaded = self.loaded(aid)
        entry = loaded.roster.lookup(info.name) if loaded.roster is not None else None
        reason = "; ".join(f"{p.message} ({p.fix})" if p.fix else p.message for p in info.problems) or "unreadable"
        self.book.record_unreadable(
            loaded.book, info.name, reason=reason,
            student_id=entry.student_id if entry else info.student, student_name=entry.name if entry else info.student,
            roster=entry.identifiers() if entry else None,
        )

    def rows(self, aid: str) -> list[GradebookRow]:
        """The class as the gradebook stands (every decision applied), by file name."""
        return self.book.rows(self.loaded(aid).book)

    def submission(self, sid: int, who: Principal) -> SubmissionInfo:
        info = self.store.submission(sid)
        if info is None or not who.can_see_assignment(info.assignment_id) or (who.role == "student" and info.student != who.subject):
            raise ServiceError(404, f"there is no submission {sid} that this token may see")
        return info

    def report(self, sid: int, who: Principal) -> Report:
        info = self.submission(sid, who)
        graded = self.store.report(sid)
        if graded is None:
            raise ServiceError(409, f"submission {sid} has no report yet (it is {info.state})")
        report = graded
        if self.store.is_current(sid):  # the gradebook holds the latest upload of each file name
            row = self.book.reviewed(self.loaded(info.assignment_id).book, info.name)
            report = row.report or graded
        if who.role == "student":
            return student_report(report, self.loaded(info.assignment_id).references)
        return report

    def report_page(self, aid: str, stem: str) -> str:
        loaded = self.loaded(aid)
        for row in self.rows(aid):
            if row.report is not None and html_filename(row.report) == f"{stem}.html":
                student = loaded.roster.lookup(row.submission) if loaded.roster else None
                return render_html_report(row.report, loaded.rubric, show_reference=loaded.book.show_reference, student=student, reviews=row.notes)
        raise ServiceError(404, f"no graded submission {stem!r} in {aid}")

    def summary_page(self, aid: str) -> str:
        loaded = self.loaded(aid)
        rows = self.rows(aid)
        return render_class_summary(
            [row.report for row in rows if row.report is not None], loaded.rubric, roster=loaded.roster,
            reviews={row.submission: row.notes for row in rows if row.notes},
            unreadable=[(row.submission, row.reason) for row in rows if row.report is None],
        )

    def progress(self, aid: str) -> Progress:
        """The job counts, and how many submissions still wait for a person (provisional in the gradebook)."""
        counts = self.store.progress(aid)
        waiting = sum(1 for row in self.rows(aid) if row.provisional)
        return counts.model_copy(update={"needs_review": waiting})

    # ------------------------------------------------------------------ self-check

    async def self_check(self, aid: str, request: CheckRequest, who: Principal, client: str = "") -> CheckResult:
        self.assignment(aid, who)
        loaded = self.loaded(aid)
        pieces: tuple[str | bytes | None, ...]
        if request.text is not None:
            if request.question is not None or request.latex is not None or request.calc is not None:
                raise ServiceError(422, "send either the whole answer file (text) or one answer (question with latex or calc), not both")
            kind, question, pieces = "file", None, (request.text,)
        else:
            if request.question is None or (request.latex is None) == (request.calc is None):
                raise ServiceError(422, "send the whole answer file as text, or a question with its answer as latex or calc")
            kind, question, pieces = "answer", request.question, (request.question, request.part, request.latex, request.calc)
        return await self._check(aid, loaded, who, kind, question, pieces, request, client)

    async def self_check_file(self, aid: str, data: bytes, name: str, who: Principal, client: str = "") -> CheckResult:
        self.assignment(aid, who)
        if len(data) > MAX_BYTES:
            raise ServiceError(413, f"the file is more than {MAX_BYTES:,} bytes; check only your answers as Markdown text")
        return await self._check(aid, self.loaded(aid), who, "file", None, (data,), None, client, name=name)

    async def _check(
        self, aid: str, loaded: Loaded, who: Principal, kind: str, question: str | None,
        pieces: tuple[str | bytes | None, ...], request: CheckRequest | None, client: str, name: str = "answers.md",
    ) -> CheckResult:
        rate = self.config.check_rate
        digest = input_digest(*pieces)
        left = rate.count
        if who.role == "student":
            since = time.time() - rate.seconds
            used = await run_in_threadpool(self.store.attempts_since, who.token_id, since)
            if used >= rate.count:
                oldest = await run_in_threadpool(self.store.oldest_attempt_since, who.token_id, since)
                wait = max(1, int((oldest or time.time()) + rate.seconds - time.time()) + 1)
                await run_in_threadpool(lambda: self.store.log_attempt(who.token_id, aid, kind=kind, question=question, input_sha256=digest, outcome="refused", client=client))
                raise ServiceError(429, f"you have used your {rate.count} checks per {_period(rate.seconds)}; try again in {wait} s", headers={"Retry-After": str(wait)})
            left = rate.count - used - 1
        attempt = await run_in_threadpool(lambda: self.store.log_attempt(who.token_id, aid, kind=kind, question=question, input_sha256=digest, outcome="pending", client=client))
        try:
            if kind == "file":
                data = pieces[0] if isinstance(pieces[0], bytes) else str(pieces[0]).encode("utf-8")
                result = await self.pool.run(check_file, loaded.sealed_json, data, name)
            else:
                assert request is not None and request.question is not None
                result = await self.pool.run(check_answer, loaded.sealed_json, request.question, request.part, request.latex, request.calc)
        except CheckRefused as error:
            await run_in_threadpool(self.store.finish_attempt, attempt, "refused", None, None)
            raise ServiceError(422, error.problems[0].message if error.problems else "this cannot be checked", error.problems) from None
        except Exception:
            await run_in_threadpool(self.store.finish_attempt, attempt, "failed", None, None)
            raise ServiceError(503, "the check could not run (the server is overloaded or restarting); try again in a minute") from None
        questions = question_feedback(result["questions"], loaded.references)
        score = round(sum(q.score for q in questions), 4)
        maximum = round(sum(q.max_score for q in questions), 4)
        await run_in_threadpool(self.store.finish_attempt, attempt, "checked", score, maximum)
        return CheckResult(
            assignment_id=aid, score=score, max_score=maximum, questions=questions,
            warnings=list(result["warnings"]), skipped_parts=list(result["skipped"]), attempts_left=max(0, left),
        )


def _period(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def student_report(report: Report, refs: tuple[str, ...]) -> Report:
    """A student's own report: scores and feedback, no evidence or reviewer notes, no references."""
    questions = []
    views = {q.id: q for q in question_feedback([q.model_dump(mode="json") for q in report.questions], refs)}
    for question in report.questions:
        view = views[question.id]
        parts = [
            part.model_copy(update={"evidence": {}, "reasons": [], "extracted": None, "mistake": None, "feedback": shown.feedback})
            for part, shown in zip(question.parts, view.parts, strict=True)
        ]
        questions.append(question.model_copy(update={"parts": parts, "feedback": view.feedback}))
    return report.model_copy(update={"questions": questions})
