"""Tokens with roles, browser sessions, and CSRF tokens.

A token is shown once, when issued; the store keeps only its SHA-256. The API takes it as
``Authorization: Bearer``; a browser signs in with it once and then holds a session cookie
(HttpOnly, SameSite=Strict) whose forms carry a per-session CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import Engine, delete, insert, select

from grader.service.db import sessions, tokens

Role = Literal["instructor", "student", "bot"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "grd_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a token's id, role, name, and (students) the one assignment it opens."""

    token_id: int
    role: Role
    subject: str
    assignment_id: str | None
    csrf: str | None = None  # set for a browser session

    def can_see_assignment(self, assignment_id: str) -> bool:
        return self.role != "student" or self.assignment_id in (None, assignment_id)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(engine: Engine, role: Role, subject: str, assignment_id: str | None = None) -> str:
    """A new token; the only time its text exists outside the holder's hands."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(
            insert(tokens).values(
                token_sha256=digest(token), role=role, subject=subject, assignment_id=assignment_id, revoked=False, created_at=time.time()
            )
        )
    return token


def has_instructor(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(tokens.c.id).where(tokens.c.role == "instructor", tokens.c.revoked.is_(False)).limit(1)).first() is not None


def principal_for_token(engine: Engine, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(tokens).where(tokens.c.token_sha256 == digest(token), tokens.c.revoked.is_(False))).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.subject, row.assignment_id)


def open_session(engine: Engine, token_id: int, hours: float) -> str:
    """A new session cookie value for a signed-in token."""
    cookie = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at < time.time()))
        conn.execute(insert(sessions).values(id_sha256=digest(cookie), token_id=token_id, csrf=secrets.token_urlsafe(32), expires_at=time.time() + hours * 3600))
    return cookie


def principal_for_session(engine: Engine, cookie: str) -> Principal | None:
    if not cookie or len(cookie) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(tokens, sessions.c.csrf)
            .join(sessions, sessions.c.token_id == tokens.c.id)
            .where(sessions.c.id_sha256 == digest(cookie), sessions.c.expires_at > time.time(), tokens.c.revoked.is_(False))
        ).first()
    if row is None:
        return None
    return Principal(row.id, row.role, row.subject, row.assignment_id, csrf=row.csrf)


def close_session(engine: Engine, cookie: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id_sha256 == digest(cookie)))


def csrf_ok(principal: Principal, sent: str | None) -> bool:
    return principal.csrf is not None and sent is not None and hmac.compare_digest(principal.csrf, sent)
