"""The search API application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from indexer import open_index
from osintel.errors import IndexBackendError, NotFoundError, OsintelError, QueryError
from osintel.settings import Settings
from osintel.store import ControlStore
from search_api.routes import documents, health, search, sources

#: How each error class maps to an HTTP status and a stable error code.
_ERRORS: list[tuple[type[OsintelError], int, str]] = [
    (QueryError, 400, "bad_query"),
    (NotFoundError, 404, "not_found"),
    (IndexBackendError, 503, "index_unavailable"),
    (OsintelError, 500, "internal_error"),
]


def create_app(settings: Settings, *, index: Any = None, store: ControlStore | None = None) -> FastAPI:
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

    app = FastAPI(title="osintel search API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        for cls, status, code in _ERRORS:
            if isinstance(exc, cls):
                body: dict[str, Any] = {"code": code, "message": str(exc)}
                if isinstance(exc, QueryError) and exc.position is not None:
                    body["position"] = exc.position
                return JSONResponse({"error": body}, status_code=status)
        raise exc  # pragma: no cover - only OsintelError subclasses are registered

    app.add_exception_handler(OsintelError, handle)
    app.include_router(health.router)
    app.include_router(search.router, prefix="/api")
    app.include_router(documents.router, prefix="/api")
    app.include_router(sources.router, prefix="/api")
    return app
