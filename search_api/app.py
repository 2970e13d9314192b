"""The search API application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer import Index, open_index
from osintel.errors import (
    DisseminationError,
    ExportError,
    IndexBackendError,
    NotFoundError,
    OsintelError,
    QueryError,
)
from osintel.settings import Settings
from osintel.store import ControlStore
from search_api.auth import require
from search_api.ratelimit import RateLimiter
from search_api.routes import audit as audit_routes
from search_api.routes import documents, entities, health, keys, search, session, sources, taxii, trends
from search_api.routes import exports as export_routes
from search_api.routes import alerts as alert_routes
from search_api.routes import map as map_routes
from search_api.routes import ui as ui_routes

#: How each error class maps to an HTTP status and a stable error code.
_ERRORS: list[tuple[type[OsintelError], int, str]] = [
    (QueryError, 400, "bad_query"),
    (NotFoundError, 404, "not_found"),
    (DisseminationError, 403, "dissemination_refused"),
    (ExportError, 400, "bad_export"),
    (IndexBackendError, 503, "index_unavailable"),
    (OsintelError, 500, "internal_error"),
]


def rate_limit_file(settings: Settings) -> Path:
    """Where the API processes of one data directory keep their shared rate-limit table."""
    return settings.data_dir / "api-ratelimit.bin"


def create_app(settings: Settings, *, index: Index | None = None, store: ControlStore | None = None) -> FastAPI:
    """Build the API for ``settings``. ``index`` and ``store`` may be passed in (tests, demo)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        own_index = index is None
        app.state.store = store if store is not None else ControlStore(settings.store_path)
        app.state.index = index if index is not None else open_index(settings)
        try:
            yield
        finally:
            if own_index:
                app.state.index.close()
            if own_store:
                app.state.store.close()
            app.state.rate_limiter.close()

    # The spec is served below behind authentication; Swagger/ReDoc pages are off because they
    # load their scripts from a CDN, which neither this network nor the UI's CSP allows.
    app = FastAPI(title="osintel search API", version="0.1.0", lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    # In a file under the data directory, so every API process of `--api-workers` shares it.
    app.state.rate_limiter = RateLimiter(rate=settings.api.rate_limit_per_second,
                                         burst=settings.api.rate_limit_burst, path=rate_limit_file(settings))

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        for cls, status, code in _ERRORS:
            if isinstance(exc, cls):
                body: dict[str, Any] = {"code": code, "message": str(exc)}
                if isinstance(exc, QueryError) and exc.position is not None:
                    body["position"] = exc.position
                return JSONResponse({"error": body}, status_code=status)
        raise exc  # pragma: no cover - only OsintelError subclasses are registered

    app.add_exception_handler(OsintelError, handle)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require("authenticated"))])
    def openapi() -> JSONResponse:
        # The interface is no secret (the code is open), but anonymous scanners get nothing.
        return JSONResponse(app.openapi())

    app.include_router(health.router)
    app.include_router(search.router, prefix="/api")
    app.include_router(documents.router, prefix="/api")
    app.include_router(sources.router, prefix="/api")
    app.include_router(session.router, prefix="/api")
    app.include_router(entities.router, prefix="/api")
    app.include_router(trends.router, prefix="/api")
    app.include_router(map_routes.router, prefix="/api")
    app.include_router(audit_routes.router, prefix="/api")
    app.include_router(keys.router, prefix="/api")
    app.include_router(export_routes.router, prefix="/api")
    app.include_router(alert_routes.router, prefix="/api")
    app.include_router(taxii.router, prefix="/taxii2")
    # The analyst web UI: pages under /ui/, its static files, CSP and other security headers.
    ui_routes.mount_ui(app)
    return app


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """HTTP errors (401, 403, 404 of unknown paths, 429 ...) in the same JSON shape as the rest."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if isinstance(detail, dict) and "code" in detail:
        body = dict(detail)
    else:
        body = {"code": _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), "message": str(detail)}
    return JSONResponse({"error": body}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Invalid parameters or body: say which field is wrong and why."""
    assert isinstance(exc, RequestValidationError)
    fields = [{"where": ".".join(str(p) for p in err.get("loc", ())), "problem": str(err.get("msg", ""))}
              for err in exc.errors()]
    message = "; ".join(f"{f['where']}: {f['problem']}" for f in fields) or "invalid request"
    return JSONResponse({"error": {"code": "invalid_request", "message": message, "fields": fields}},
                        status_code=422)
