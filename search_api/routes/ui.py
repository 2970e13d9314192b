"""The analyst web UI: page shells rendered by Jinja2; the pages fill themselves from the JSON API.

Pages need a session with the ``ui`` permission; without one the browser is redirected to the
login page (an API client gets the usual JSON 401 instead of a redirect when it asks for JSON).
Crawled content never passes through these templates: the browser fetches it from the API and
inserts it with ``textContent`` (see ``search_api/ui/static/``). The templates only carry the
principal's name and the query-language help, both autoescaped.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from indexer import FIELDS
from search_api.auth import Principal, public, require
from search_api.policy import allowed
from search_api.ui.security import SecurityHeadersMiddleware

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
STATIC_DIR = UI_DIR / "static"
# Autoescaping is on for every template (stated here rather than trusting a default).
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(UI_DIR / "templates"), autoescape=True)
)
# Templates ask the policy table whether to show a role-dependent link (the route still checks).
templates.env.globals["allowed"] = allowed

#: Query-language help shown under the search box: the parser's own fields plus the geo filters.
GEO_HELP: tuple[tuple[str, str, str], ...] = (
    ("near", "geo", 'within a radius of a point: near:"51.51,-0.13,25km"'),
    ("bbox", "geo", 'inside a box: bbox:"north,west,south,east"'),
)


def _field_help() -> list[tuple[str, str, str]]:
    return [(f.name, f.kind, f.description) for f in FIELDS.values()] + list(GEO_HELP)


def _entity_fields() -> dict[str, str]:
    """Entity label -> the query field that searches it (for clickable entity facets)."""
    return {label: spec.name for spec in FIELDS.values() for label in spec.labels}


class UIRoute(APIRoute):
    """Turns a page's 401 into a redirect to the login page, and a 403 into an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def ui_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code == 401:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
                if exc.status_code == 403:
                    detail = exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
                    return templates.TemplateResponse(
                        request, "forbidden.html", {"message": detail.get("message", "")}, status_code=403
                    )
                raise

        return ui_handler


router = APIRouter(route_class=UIRoute, include_in_schema=False)
UIPrincipal = Annotated[Principal, Depends(require("ui"))]


def _page(request: Request, template: str, principal: Principal, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"principal": principal, **context})


@router.get("/", dependencies=[Depends(public("redirects to the UI, which checks the session"))])
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/login", dependencies=[Depends(public("redirects to the login page"))])
def login_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=307)


@router.get("/ui/login", response_class=HTMLResponse,
            dependencies=[Depends(public("the login page: a form that posts to /api/session"))])
def login_page(request: Request) -> HTMLResponse:
    """The login form (an API key is exchanged for a session cookie by ``POST /api/session``)."""
    return templates.TemplateResponse(request, "login.html", {"principal": None})


@router.get("/ui", include_in_schema=False, dependencies=[Depends(public("redirects to /ui/"))])
def ui_slash() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/", response_class=HTMLResponse)
def search_page(request: Request, principal: UIPrincipal) -> HTMLResponse:
    """Search: query box with field help, facets, highlighted results."""
    return _page(request, "search.html", principal, fields=_field_help(), entity_fields=_entity_fields())


@router.get("/ui/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: str, principal: UIPrincipal) -> HTMLResponse:
    """One document: text with entities and methods marked, evidence and provenance."""
    return _page(request, "document.html", principal, doc_id=doc_id)


@router.get("/ui/entities", response_class=HTMLResponse)
def entities_page(request: Request, principal: UIPrincipal) -> HTMLResponse:
    """Top entities by type for a query, and the pairs that occur together."""
    return _page(request, "entities.html", principal, entity_fields=_entity_fields())


@router.get("/ui/trends", response_class=HTMLResponse)
def trends_page(request: Request, principal: UIPrincipal) -> HTMLResponse:
    """Counts of methods, entities or places over time for a query, as a chart."""
    return _page(request, "trends.html", principal)


@router.get("/ui/map", response_class=HTMLResponse)
def map_page(request: Request, principal: UIPrincipal) -> HTMLResponse:
    """Geocoded mentions for a query, plotted on the bundled world outline."""
    return _page(request, "map.html", principal)


@router.get("/ui/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, principal: Annotated[Principal, Depends(require("alerts.own"))]) -> HTMLResponse:
    """Watchlists: list, create and delete them, and see their alert history."""
    return _page(request, "alerts.html", principal, fields=_field_help(),
                 see_all=allowed(principal.role, "alerts.all"))


def mount_ui(app: Any) -> None:
    """Add the UI to ``app``: its pages, ``/ui/static`` and the security headers on its responses."""
    app.include_router(router)
    # Scripts, styles and the world outline are public: the login page needs them, and they hold
    # no intelligence (every datum comes from the authenticated API).
    app.mount("/ui/static", StaticFiles(directory=str(STATIC_DIR)), name="ui-static")
    app.add_middleware(SecurityHeadersMiddleware)
