"""Headers every response carries, the body-size limit, and the policy for the report pages.

The service's own pages load one stylesheet and one small script from ``/static``: no inline
script or style, so the policy names only 'self'. The report pages (the same HTML files
``grader grade`` writes) inline their stylesheet; they are served with that one style block
allowed by its hash, and still no script at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # our own forms still send their Origin
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


def report_policy(page: str) -> str:
    """The policy for a report page: its inline style blocks by hash, nothing else."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode() + "'" for block in _STYLE.findall(page)
    )
    return f"default-src 'none'; style-src {hashes or chr(39) + 'none' + chr(39)}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"


class BodyTooLarge(Exception):
    pass


class SecurityMiddleware:
    """Adds the headers above (a route may set its own CSP) and refuses bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers: list[Any] = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large(send, self.max_bytes)


async def _too_large(send: Send, limit: int) -> None:
    detail = (
        f"the upload is larger than the server accepts ({limit // 1_000_000} MB); "
        "upload the class in several parts, or only the submissions (Markdown files)"
    )
    body = json.dumps({"detail": detail, "problems": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
            + [(k.encode(), v.encode()) for k, v in HEADERS.items()],
        }
    )
    await send({"type": "http.response.body", "body": body})
