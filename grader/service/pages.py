"""The pages: instructors create assignments, upload, watch progress, review and export; students self-check.

Browsers sign in once with their token and then hold a session cookie; every form carries the
session's CSRF token and is refused without it (and from another origin). Pages are jinja2
templates with autoescaping; the one script (``/static/progress.js``) only refreshes counts.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from grader.input.open import MAX_BYTES
from grader.reports.html import STATUS_LABELS
from grader.service.api import export_response
from grader.service.auth import (
    Principal,
    close_session,
    csrf_ok,
    issue_token,
    open_session,
    principal_for_token,
)
from grader.service.core import ServiceError
from grader.service.deps import SESSION_COOKIE, AssignmentId, page_principal, require, service
from grader.service.models import AssignmentRequest, CheckRequest, CheckResult, DecisionRequest
from grader.service.review import EXPORTS, DecisionError, decide, review_queue
from grader.service.security import report_policy

router = APIRouter(include_in_schema=False)
FORM_PART_BYTES = MAX_BYTES + 100_000  # a pasted answer file fits in one form field


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(loader=PackageLoader("grader.service", "templates"), autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["status_label"] = lambda status: STATUS_LABELS.get(status or "", (status or "").replace("_", " "))
    env.filters["points"] = lambda value: "–" if value is None else f"{value:g}"
    return env


def render(request: Request, name: str, who: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
    html = templates().get_template(name).render(who=who, csrf=who.csrf if who else "", path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def signed_in(request: Request, *roles: str) -> Principal:
    who = page_principal(request)
    if who is None:
        raise ServiceError(401, "sign in with your token first")
    return require(who, *roles) if roles else who


async def form(request: Request, who: Principal | None) -> FormData:
    """The posted form, refused without this session's CSRF token or from another origin."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise ServiceError(403, "this form was sent from another site; open the page here and send it again")
    data = await request.form(max_files=1000, max_fields=200, max_part_size=FORM_PART_BYTES)
    if who is not None:
        sent = data.get("csrf")
        if not csrf_ok(who, sent if isinstance(sent, str) else None):
            raise ServiceError(403, "this form has expired or did not come from this page; reload the page and send it again")
    return data


def _text(data: FormData, name: str) -> str | None:
    value = data.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _files(data: FormData, name: str) -> list[UploadFile]:
    return [f for f in data.getlist(name) if isinstance(f, UploadFile) and f.filename]


# ---------------------------------------------------------------------- sign in


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    who = page_principal(request)
    if who is None:
        return RedirectResponse("/login", 303)
    if who.role == "student" and who.assignment_id:
        return RedirectResponse(f"/check/{who.assignment_id}", 303)
    return RedirectResponse("/assignments", 303)


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html.j2", None, error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    data = await form(request, None)
    token = _text(data, "token") or ""
    svc = service(request)
    who = principal_for_token(svc.engine, token)
    if who is None or who.role == "bot":
        return render(request, "login.html.j2", None, status=401, error="This token is unknown or revoked (bot tokens are for the API). Ask your instructor for a new one.")
    cookie = open_session(svc.engine, who.token_id, svc.config.session_hours)
    response = RedirectResponse("/", 303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=svc.config.secure_cookies, max_age=int(svc.config.session_hours * 3600))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    who = page_principal(request)
    if who is not None:
        await form(request, who)
        close_session(service(request).engine, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------- instructors


@router.get("/assignments", response_class=HTMLResponse)
def assignments_page(request: Request) -> HTMLResponse:
    who = signed_in(request, "instructor")
    svc = service(request)
    return render(request, "assignments.html.j2", who, assignments=svc.assignments(who), choices=svc.rubric_choices(), problems=[], error=None)


@router.post("/assignments")
async def create_assignment(request: Request) -> Response:
    who = signed_in(request, "instructor")
    data = await form(request, who)
    svc = service(request)
    uploaded = _files(data, "rubric_file")
    path = _text(data, "rubric_path")
    try:
        if uploaded:
            raw = await uploaded[0].read(5_000_001)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ServiceError(422, f"{uploaded[0].filename} is not UTF-8 text; upload the rubric.toml file itself") from None
            body = AssignmentRequest(rubric_toml=text, title=_text(data, "title"))
        else:
            body = AssignmentRequest(rubric_path=path, title=_text(data, "title"))
        info = await svc.create_assignment(body)
    except ServiceError as error:
        return render(
            request, "assignments.html.j2", who, status=error.status_code,
            assignments=svc.assignments(who), choices=svc.rubric_choices(), problems=error.problems, error=error.detail,
        )
    return RedirectResponse(f"/assignments/{info.id}", 303)


def _assignment_context(request: Request, aid: str, who: Principal) -> dict[str, Any]:
    svc = service(request)
    info = svc.assignment(aid, who)
    return {
        "a": info,
        "progress": svc.progress(aid),
        "submissions": svc.store.submissions(aid),
        "exports": list(EXPORTS),
    }


@router.get("/assignments/{aid}", response_class=HTMLResponse)
def assignment_page(request: Request, aid: AssignmentId) -> HTMLResponse:
    who = signed_in(request, "instructor")
    return render(request, "assignment.html.j2", who, upload=None, roster_problems=[], **_assignment_context(request, aid, who))


@router.get("/assignments/{aid}/progress.json")
def progress_json(request: Request, aid: AssignmentId) -> dict[str, Any]:
    signed_in(request, "instructor")
    progress = service(request).progress(aid)
    return {**progress.model_dump(), "done": progress.done}


@router.post("/assignments/{aid}/submissions", response_class=HTMLResponse)
async def upload(request: Request, aid: AssignmentId) -> HTMLResponse:
    who = signed_in(request, "instructor")
    data = await form(request, who)
    files = _files(data, "files")
    result = await service(request).upload(aid, files, who)
    return render(request, "assignment.html.j2", who, upload=result, roster_problems=[], **_assignment_context(request, aid, who))


@router.post("/assignments/{aid}/roster", response_class=HTMLResponse)
async def roster(request: Request, aid: AssignmentId) -> Response:
    who = signed_in(request, "instructor")
    data = await form(request, who)
    files = _files(data, "roster")
    if not files:
        raise ServiceError(422, "choose the roster CSV file")
    raw = await files[0].read(5_000_001)
    try:
        service(request).set_roster(aid, raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ServiceError(422, "the roster is not UTF-8 text; save it as CSV (UTF-8) and upload it again") from None
    except ServiceError as error:
        return render(request, "assignment.html.j2", who, status=error.status_code, upload=None, roster_problems=error.problems, **_assignment_context(request, aid, who))
    return RedirectResponse(f"/assignments/{aid}", 303)


@router.get("/assignments/{aid}/reports/", response_class=HTMLResponse)
async def summary(request: Request, aid: AssignmentId) -> HTMLResponse:
    signed_in(request, "instructor")
    page = await run_in_threadpool(service(request).summary_page, aid)
    return HTMLResponse(page, headers={"content-security-policy": report_policy(page)})


@router.get("/assignments/{aid}/reports/{stem}.html", response_class=HTMLResponse)
async def report_page(request: Request, aid: AssignmentId, stem: str) -> HTMLResponse:
    signed_in(request, "instructor")
    page = await run_in_threadpool(service(request).report_page, aid, stem)
    return HTMLResponse(page, headers={"content-security-policy": report_policy(page)})


def _review(request: Request, aid: str, who: Principal, by: str, status: int = 200, error: str | None = None, message: str = "") -> HTMLResponse:
    svc = service(request)
    info = svc.assignment(aid, who)
    queue = review_queue(svc.book, svc.loaded(aid).book, aid, "question" if by == "question" else "cluster", include_decided=True)
    return render(request, "review.html.j2", who, status=status, a=info, queue=queue, error=error, message=message)


@router.get("/assignments/{aid}/review", response_class=HTMLResponse)
def review_page(request: Request, aid: AssignmentId, by: str = "cluster", message: str = "") -> HTMLResponse:
    return _review(request, aid, signed_in(request, "instructor"), by, message=message[:200])


@router.post("/assignments/{aid}/review", response_class=HTMLResponse)
async def review_action(request: Request, aid: AssignmentId) -> Response:
    who = signed_in(request, "instructor")
    data = await form(request, who)
    svc = service(request)
    by = _text(data, "by") or "cluster"
    try:
        score_text = _text(data, "score")
        score = float(score_text) if score_text is not None else None
        if score is not None and not math.isfinite(score):
            raise ValueError
        item, cluster = _text(data, "item"), _text(data, "cluster")
        body = DecisionRequest(
            action=_text(data, "action") or "accept",
            items=[int(item)] if item else [],
            cluster=int(cluster) if cluster and not item else None,
            score=score,
            comment=_text(data, "comment") or "",
        )
        made = await run_in_threadpool(decide, svc.book, svc.loaded(aid).book, body, who.subject)
    except (ValueError, ValidationError) as error:
        message = str(error) if isinstance(error, DecisionError) else "the score must be a number of points"
        return _review(request, aid, who, by, status=422, error=message)
    undone = sum(1 for d in made if d.action == "undo")
    done = f"{undone} decision(s) undone" if undone else f"{len(made)} decision(s) recorded"
    return RedirectResponse(f"/assignments/{aid}/review?by={by}&message={done.replace(' ', '+')}", 303)


@router.get("/assignments/{aid}/exports/{kind}")
def export_page(request: Request, aid: AssignmentId, kind: str, include_provisional: bool = False, canvas_assignment_id: str | None = None) -> Response:
    signed_in(request, "instructor")
    if kind not in EXPORTS:
        raise ServiceError(404, f"no export {kind!r}; the exports are {', '.join(EXPORTS)}")
    return export_response(request, aid, kind, include_provisional=include_provisional, canvas_assignment_id=canvas_assignment_id)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request) -> HTMLResponse:
    who = signed_in(request, "instructor")
    svc = service(request)
    return render(request, "tokens.html.j2", who, issued=[], rows=svc.store.token_rows(), assignments=svc.assignments(who), error=None)


@router.post("/tokens", response_class=HTMLResponse)
async def issue_tokens(request: Request) -> HTMLResponse:
    who = signed_in(request, "instructor")
    data = await form(request, who)
    svc = service(request)
    role = _text(data, "role") or "student"
    aid = _text(data, "assignment_id")
    names = [line.strip() for line in (_text(data, "names") or "").splitlines() if line.strip()][:1000]
    error = None
    issued: list[tuple[str, str]] = []
    if role not in ("student", "instructor", "bot"):
        error = "choose a role"
    elif not names:
        error = "write one name per line"
    elif role == "student" and not aid:
        error = "a student token opens one assignment: choose it"
    else:
        if aid:
            svc.loaded(aid)
        issued = [(name[:200], issue_token(svc.engine, role, name[:200], aid if role == "student" else None)) for name in names]  # type: ignore[arg-type]
    return render(request, "tokens.html.j2", who, status=422 if error else 200, issued=issued, rows=svc.store.token_rows(), assignments=svc.assignments(who), error=error)


# ---------------------------------------------------------------------- students


def _check_context(request: Request, aid: str, who: Principal) -> dict[str, Any]:
    svc = service(request)
    info = svc.assignment(aid, who)
    rubric = svc.loaded(aid).rubric
    return {
        "a": info,
        "questions": [(q.id, q.title, q.prompt) for q in rubric.questions],
        "attempts": svc.store.attempt_list(aid, who.token_id)[-10:][::-1],
        "rate": svc.config.check_rate,
    }


@router.get("/check/{aid}", response_class=HTMLResponse)
def check_page(request: Request, aid: AssignmentId) -> HTMLResponse:
    who = signed_in(request, "student", "instructor")
    return render(request, "check.html.j2", who, result=None, error=None, problems=[], form={}, **_check_context(request, aid, who))


@router.post("/check/{aid}", response_class=HTMLResponse)
async def check(request: Request, aid: AssignmentId) -> HTMLResponse:
    who = signed_in(request, "student", "instructor")
    data = await form(request, who)
    svc = service(request)
    client = request.client.host if request.client else ""
    result: CheckResult | None = None
    fields = {name: _text(data, name) or "" for name in ("text", "question", "latex", "calc")}
    try:
        uploaded = _files(data, "file")
        if uploaded:
            raw = await uploaded[0].read(MAX_BYTES + 1)
            result = await svc.self_check_file(aid, raw, uploaded[0].filename or "answers.md", who, client)
        elif fields["text"]:
            result = await svc.self_check(aid, CheckRequest(text=fields["text"]), who, client)
        elif fields["question"] and (fields["latex"] or fields["calc"]):
            body = CheckRequest(question=fields["question"], latex=fields["latex"] or None, calc=fields["calc"] or None if not fields["latex"] else None)
            result = await svc.self_check(aid, body, who, client)
        else:
            raise ServiceError(422, "paste your answer file, choose it, or pick a question and write one answer")
    except ServiceError as error:
        return render(request, "check.html.j2", who, status=error.status_code, result=None, error=error.detail, problems=error.problems, form=fields, **_check_context(request, aid, who))
    return render(request, "check.html.j2", who, result=result, error=None, problems=[], form=fields, **_check_context(request, aid, who))
