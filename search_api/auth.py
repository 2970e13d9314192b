"""Authentication, authorisation and rate limiting for every API route.

A caller proves who it is with an API key in the ``X-API-Key`` header, or with the UI session
cookie set by ``POST /api/session``. Each route declares the one permission it needs::

    @router.get("/things")
    def things(principal: Annotated[Principal, Depends(require("search"))]) -> ...

and :data:`search_api.policy.POLICY` alone decides which roles hold it: 401 without valid
credentials, 403 when the role lacks the permission, 429 (with ``Retry-After``) past the key's
rate limit (:mod:`search_api.ratelimit`, shared by every API process). Cookie-authenticated requests that change state must also carry the header
``X-Requested-With`` (a cross-site form cannot set a custom header; SameSite=Strict is the first
wall, this the second).

:func:`require` marks the dependency it returns with the permission (``.permission``), and
:func:`public` marks deliberately open routes, so a test can walk every route of the app and
prove each is guarded (``tests/api/test_access.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyCookie, APIKeyHeader

from osintel import apikeys
from search_api.policy import POLICY
from search_api.ratelimit import RateLimiter

log = logging.getLogger(__name__)

#: Name of the UI session cookie.
SESSION_COOKIE = "osintel_session"
#: Header a cookie-authenticated state-changing request must carry (any non-empty value).
CSRF_HEADER = "X-Requested-With"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared as security schemes so the OpenAPI spec documents them (and clients can use them).
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an osintel API key")
_session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                               description="UI session (POST /api/session)")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the key it used (or that opened its UI session)."""

    key_id: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        """How the oversight record names this caller."""
        return f"key:{self.key_id}"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": code, "message": message}, headers=headers)


def authenticate(request: Request, api_key: str | None, session: str | None) -> Principal:
    """The caller behind the request's credentials; raises 401 when there are none or they are bad."""
    store = request.app.state.store
    if api_key:
        key = apikeys.authenticate(store, api_key)
        if key is None:
            raise _error(401, "bad_credentials", "the X-API-Key is unknown or revoked",
                         {"WWW-Authenticate": "APIKey"})
    elif session:
        key = apikeys.session_key(store, session)
        if key is None:
            raise _error(401, "session_expired", "the session has expired or ended; log in again",
                         {"WWW-Authenticate": "APIKey"})
        if request.method not in _SAFE_METHODS and not request.headers.get(CSRF_HEADER):
            raise _error(403, "csrf", f"a session request that changes state needs the {CSRF_HEADER} header")
    else:
        raise _error(401, "unauthenticated",
                     "send an API key in the X-API-Key header or log in (POST /api/session)",
                     {"WWW-Authenticate": "APIKey"})
    return Principal(key.key_id, key.name, key.role)


def require(permission: str) -> Callable[..., Principal]:
    """A FastAPI dependency that returns the :class:`Principal` holding ``permission``.

    401 without valid credentials, 403 when the caller's role lacks the permission, 429 with
    ``Retry-After`` when the caller's key is over its rate limit.
    """
    if permission not in POLICY:
        raise ValueError(f"unknown permission {permission!r}; add it to search_api/policy.py")
    allowed_roles = POLICY[permission]

    def dependency(
        request: Request,
        api_key: Annotated[str | None, Depends(_api_key_header)],
        session: Annotated[str | None, Depends(_session_cookie)],
    ) -> Principal:
        principal = authenticate(request, api_key, session)
        if principal.role not in allowed_roles:
            raise _error(403, "forbidden", f"role {principal.role!r} lacks the {permission!r} permission")
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if limiter is not None:
            wait = limiter.take(principal.key_id)
            if wait > 0:
                raise _error(429, "rate_limited", f"too many requests for this key; retry in {wait:.1f} s",
                             {"Retry-After": str(max(1, math.ceil(wait)))})
        request.state.principal = principal
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def public(reason: str) -> Callable[[], None]:
    """A no-op dependency marking a route as deliberately open (``reason`` says why).

    Use as ``dependencies=[Depends(public("login page"))]``; the access test accepts a route only
    when it has :func:`require` or this marker.
    """

    def dependency() -> None:
        return None

    dependency.public_reason = reason  # type: ignore[attr-defined]
    return dependency


def route_permission(route: Any) -> str | None:
    """The permission a route requires (walking its dependency tree), or None."""
    return _find_marker(getattr(route, "dependant", None), "permission")


def route_public_reason(route: Any) -> str | None:
    """Why a route is open, when it was marked with :func:`public`; else None."""
    return _find_marker(getattr(route, "dependant", None), "public_reason")


def _find_marker(dependant: Dependant | None, attr: str) -> str | None:
    if dependant is None:
        return None
    value: str | None = getattr(dependant.call, attr, None)
    if value is not None:
        return value
    for sub in dependant.dependencies:
        found = _find_marker(sub, attr)
        if found is not None:
            return found
    return None


def iter_routes(app: Any) -> Iterator[Any]:
    """Every route of ``app``, with routers included lazily (FastAPI >= 0.160) flattened.

    Each item has ``path``, ``methods`` (None for mounts) and, for API routes, ``dependant``.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)
