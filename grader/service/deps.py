"""Who is asking, for the API (a bearer token) and the pages (a session cookie with CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from grader.service.auth import Principal, principal_for_session, principal_for_token
from grader.service.core import Service, ServiceError

SESSION_COOKIE = "grader_session"
ASSIGNMENT_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
MAX_ID = 2**62  # larger ids exist in no database; refusing them keeps integers in range

bearer = HTTPBearer(auto_error=False, description="a token an instructor issued (grd_...)")

AssignmentId = Annotated[str, Path(pattern=ASSIGNMENT_ID, description="the assignment's id, e.g. a3")]
SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID)]


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


def api_principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None:
        raise ServiceError(401, "send your token as 'Authorization: Bearer grd_...'", headers={"WWW-Authenticate": "Bearer"})
    found = principal_for_token(service(request).engine, credentials.credentials)
    if found is None:
        raise ServiceError(401, "this token is unknown or revoked; ask your instructor for a new one", headers={"WWW-Authenticate": "Bearer"})
    return found


def page_principal(request: Request) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return principal_for_session(service(request).engine, cookie) if cookie else None


def require(who: Principal, *roles: str) -> Principal:
    if who.role not in roles:
        allowed = " or ".join(roles)
        raise ServiceError(403, f"this needs an {allowed} token; yours is a {who.role} token")
    return who


Caller = Annotated[Principal, Depends(api_principal)]
