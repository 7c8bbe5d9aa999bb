"""The ASGI application: the JSON API, the pages, the static files, and the error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from grader._internal.version import __version__
from grader.service import api, pages
from grader.service.config import ServiceConfig
from grader.service.core import Service, ServiceError
from grader.service.deps import page_principal
from grader.service.security import SecurityMiddleware

_HEADINGS = {400: "Bad request", 401: "Sign in", 403: "Not allowed", 404: "Not found", 409: "Not ready", 413: "Too large", 422: "Cannot use this", 429: "Too many checks", 503: "Busy"}


def create_app(config: ServiceConfig, service: Service | None = None) -> FastAPI:
    """The application over ``config`` (or an existing ``service``, which tests share)."""
    svc = service or Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if service is None:
            svc.close()

    app = FastAPI(
        title="grader",
        version=__version__,
        description="Grading service for math-heavy written assignments: assignments from rubrics, uploads, reports, "
        "the review queue, exports and student self-checks. Authenticate with 'Authorization: Bearer <token>'.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the OpenAPI document is enough
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_middleware(SecurityMiddleware, max_bytes=config.max_upload_bytes)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/openapi.json", "/static/")) and not request.url.path.endswith(".json")


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    problems = getattr(error, "problems", []) if isinstance(error, ServiceError) else []
    headers = dict(error.headers or {})
    if _wants_html(request):
        html = pages.templates().get_template("error.html.j2").render(
            who=page_principal(request), csrf="", path=request.url.path, status=error.status_code,
            heading=_HEADINGS.get(error.status_code, "Error"), detail=error.detail, problems=problems,
        )
        return HTMLResponse(html, status_code=error.status_code, headers=headers)
    body = {"detail": error.detail, "problems": [p.model_dump(mode="json", exclude_none=True) for p in problems]}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    details = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        details.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return await _http_error(request, ServiceError(422, "the request cannot be used: " + "; ".join(details[:10])))
