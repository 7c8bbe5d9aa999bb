"""The JSON API (``/api/...``): assignments, uploads, reports, the review queue, decisions, exports, self-checks.

Every route takes a bearer token; roles decide what it may do: an instructor everything, a bot
what an LMS or CI script needs (no decisions, no tokens), a student their own assignment,
self-checks and results only. The OpenAPI document is at ``/openapi.json``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from grader.errors import GraderError
from grader.gradebook.models import Decision
from grader.reports.roster import RosterError
from grader.scoring.models import Report
from grader.service.auth import issue_token
from grader.service.core import ServiceError
from grader.service.deps import AssignmentId, Caller, SubmissionId, require, service
from grader.service.models import (
    AssignmentInfo,
    AssignmentRequest,
    AttemptInfo,
    CheckRequest,
    CheckResult,
    DecisionRequest,
    ErrorBody,
    Frozen,
    Progress,
    ReviewQueue,
    SubmissionInfo,
    TokenIssued,
    TokenRequest,
    UploadResult,
)
from grader.service.review import EXPORTS, DecisionError, decide, export, review_queue

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in ((401, "no token, or an unknown one"), (403, "the token's role may not do this"), (404, "not found, or not this token's"), (422, "the request cannot be used; the problems say why"))
}
router = APIRouter(prefix="/api", responses=ERRORS)


class Me(Frozen):
    role: str
    subject: str
    assignment_id: str | None


class RosterRequest(Frozen):
    csv: str


@router.get("/me", response_model=Me, summary="Who this token is")
def me(who: Caller) -> Me:
    return Me(role=who.role, subject=who.subject, assignment_id=who.assignment_id)


@router.post("/tokens", response_model=TokenIssued, status_code=201, summary="Issue a token (instructors)")
def new_token(request: Request, body: TokenRequest, who: Caller) -> TokenIssued:
    require(who, "instructor")
    svc = service(request)
    if body.assignment_id is not None:
        svc.loaded(body.assignment_id)
    if body.role == "student" and body.assignment_id is None:
        raise ServiceError(422, "a student token opens one assignment: give assignment_id")
    token = issue_token(svc.engine, body.role, body.subject, body.assignment_id)
    return TokenIssued(token=token, role=body.role, subject=body.subject, assignment_id=body.assignment_id)


@router.post("/assignments", response_model=AssignmentInfo, status_code=201, summary="Create an assignment from a rubric")
async def create_assignment(request: Request, body: AssignmentRequest, who: Caller) -> AssignmentInfo:
    require(who, "instructor", "bot")
    return await service(request).create_assignment(body)


@router.get("/assignments", response_model=list[AssignmentInfo], summary="The assignments this token opens")
def list_assignments(request: Request, who: Caller) -> list[AssignmentInfo]:
    return service(request).assignments(who)


@router.get("/assignments/{aid}", response_model=AssignmentInfo)
def get_assignment(request: Request, aid: AssignmentId, who: Caller) -> AssignmentInfo:
    return service(request).assignment(aid, who)


@router.put("/assignments/{aid}/roster", status_code=204, summary="Set the roster (which student each file is)")
def put_roster(request: Request, aid: AssignmentId, body: RosterRequest, who: Caller) -> Response:
    require(who, "instructor", "bot")
    service(request).set_roster(aid, body.csv)
    return Response(status_code=204)


@router.post("/assignments/{aid}/submissions", response_model=UploadResult, status_code=201, summary="Upload submissions (files or zips)")
async def upload(request: Request, aid: AssignmentId, who: Caller, files: Annotated[list[UploadFile], File(description="Markdown submissions, or zip archives of them")]) -> UploadResult:
    return await service(request).upload(aid, files, who)


@router.get("/assignments/{aid}/submissions", response_model=list[SubmissionInfo], summary="Submissions (a student: their own)")
def list_submissions(request: Request, aid: AssignmentId, who: Caller) -> list[SubmissionInfo]:
    svc = service(request)
    svc.assignment(aid, who)
    return svc.store.submissions(aid, student=who.subject if who.role == "student" else None)


@router.get("/assignments/{aid}/progress", response_model=Progress, summary="How far grading is")
def progress(request: Request, aid: AssignmentId, who: Caller) -> Progress:
    require(who, "instructor", "bot")
    return service(request).progress(aid)


@router.get("/submissions/{sid}", response_model=SubmissionInfo, summary="A submission's state and score")
def get_submission(request: Request, sid: SubmissionId, who: Caller) -> SubmissionInfo:
    return service(request).submission(sid, who)


@router.get("/submissions/{sid}/report", response_model=Report, summary="A submission's report (after review decisions)")
def get_report(request: Request, sid: SubmissionId, who: Caller) -> Report:
    return service(request).report(sid, who)


@router.get("/assignments/{aid}/review", response_model=ReviewQueue, summary="The gradebook's review queue, by question or by cluster")
def get_review(
    request: Request, aid: AssignmentId, who: Caller,
    by: Literal["question", "cluster"] = "question", include_decided: Annotated[bool, Query()] = False,
) -> ReviewQueue:
    require(who, "instructor", "bot")
    svc = service(request)
    return review_queue(svc.book, svc.loaded(aid).book, aid, by, include_decided=include_decided)


@router.post("/assignments/{aid}/decisions", response_model=list[Decision], status_code=201, summary="Accept, override or undo, as grader review does (instructors)")
def post_decision(request: Request, aid: AssignmentId, body: DecisionRequest, who: Caller) -> list[Decision]:
    require(who, "instructor")
    svc = service(request)
    try:
        return decide(svc.book, svc.loaded(aid).book, body, who.subject)
    except DecisionError as error:
        raise ServiceError(422, str(error), error.problems) from None


@router.get(
    "/assignments/{aid}/exports/{kind}",
    summary="An export: grades.csv, Canvas, Moodle or Gradescope",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/zip": {}}}},
)
def get_export(
    request: Request, aid: AssignmentId, kind: Literal["grades", "canvas", "moodle", "gradescope"], who: Caller,
    include_provisional: bool = False,
    canvas_assignment_id: Annotated[str | None, Query(max_length=20, description="canvas: the assignment's number in Canvas")] = None,
) -> Response:
    require(who, "instructor", "bot")
    return export_response(request, aid, kind, include_provisional=include_provisional, canvas_assignment_id=canvas_assignment_id)


def export_response(request: Request, aid: str, kind: str, *, include_provisional: bool, canvas_assignment_id: str | None) -> Response:
    """The file, from the gradebook; ``X-Grader-Held`` says how many submissions it holds back (provisional, unreadable)."""
    svc = service(request)
    loaded = svc.loaded(aid)
    try:
        data, held = export(kind, svc.rows(aid), loaded.rubric, loaded.roster, canvas_assignment_id=canvas_assignment_id, include_provisional=include_provisional)
    except RosterError as error:
        raise ServiceError(422, f"the {kind} export needs a roster that names every submission's student; upload one", error.problems) from None
    except GraderError as error:
        raise ServiceError(422, error.problems[0].message if error.problems else str(error), error.problems) from None
    filename, media = EXPORTS[kind]
    headers = {"Content-Disposition": f'attachment; filename="{aid}-{filename}"', "X-Grader-Held": str(held)}
    return Response(data, media_type=media, headers=headers)


@router.post("/assignments/{aid}/check", response_model=CheckResult, summary="Self-check answers against the sealed rubric")
async def check(request: Request, aid: AssignmentId, body: CheckRequest, who: Caller) -> CheckResult:
    require(who, "student", "instructor")
    return await service(request).self_check(aid, body, who, client=request.client.host if request.client else "")


@router.get("/assignments/{aid}/attempts", response_model=list[AttemptInfo], summary="Self-check attempts (a student: their own)")
async def attempts(request: Request, aid: AssignmentId, who: Caller) -> list[AttemptInfo]:
    require(who, "student", "instructor")
    svc = service(request)
    svc.assignment(aid, who)
    return await run_in_threadpool(svc.store.attempt_list, aid, who.token_id if who.role == "student" else None)
