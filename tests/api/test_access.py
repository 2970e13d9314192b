"""Every route of the app, every role: the policy table decides, and nothing is left open.

Routes are enumerated from the app itself, so routers added later are covered automatically.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from search_api.auth import iter_routes, route_permission, route_public_reason
from search_api.policy import POLICY, ROLES

#: The only /api routes that may be open, and why.
PUBLIC_API = {("POST", "/api/session"), ("DELETE", "/api/session")}
_PARAM_RE = re.compile(r"\{([^}:]+)(:[^}]+)?\}")


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for route in iter_routes(app):
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                out.append((method, route.path, route))
    return out


def _url(path: str, doc_id: str) -> str:
    return _PARAM_RE.sub(lambda m: doc_id if m[1] == "doc_id" else "x", path)


def _is_login_redirect(path: str, response: Any) -> bool:
    return (not path.startswith("/api") and response.status_code in (302, 303, 307)
            and "login" in response.headers.get("location", ""))


def test_every_route_is_guarded_or_deliberately_public(app: Any) -> None:
    unguarded = []
    for method, path, route in _routes(app):
        permission, reason = route_permission(route), route_public_reason(route)
        if permission is not None:
            assert permission in POLICY, f"{method} {path} requires unknown permission {permission!r}"
            continue
        if path.startswith("/api") and (method, path) not in PUBLIC_API:
            unguarded.append(f"{method} {path}")
        elif reason is None and path != "/openapi.json":
            unguarded.append(f"{method} {path}")
    for route in iter_routes(app):
        # Mounted apps (static files) bypass dependencies: only static assets may be mounted.
        if getattr(route, "methods", None) is None:
            assert not route.path.startswith("/api"), f"mount {route.path} under /api bypasses access control"
            assert "static" in route.path, f"mount {route.path} is not a static-file mount"
    assert not unguarded, f"routes without require(...) or public(...): {unguarded}"


def test_the_guard_check_would_catch_an_unguarded_api_route(app: Any) -> None:
    @app.get("/api/naked")
    def naked() -> dict[str, str]:
        return {}

    found = [(m, p) for m, p, r in _routes(app) if p == "/api/naked" and route_permission(r) is None]
    assert found == [("GET", "/api/naked")]


def test_every_guarded_route_answers_401_403_or_serves_by_role(
        client: TestClient, app: Any, keys: dict[str, str], docs: list[Any]) -> None:
    checked = 0
    for method, path, route in _routes(app):
        permission = route_permission(route)
        if permission is None:
            continue
        url = _url(path, docs[0].id)
        anonymous = client.request(method, url, headers={"X-Requested-With": "t"}, follow_redirects=False)
        if _is_login_redirect(path, anonymous):
            pass  # a web page sends the browser to the login form instead of a 401
        else:
            assert anonymous.status_code == 401, f"{method} {url} without credentials: {anonymous.status_code}"
            assert anonymous.json()["error"]["code"] == "unauthenticated"
        bad = client.request(method, url, headers={"X-API-Key": "ok_nope.wrong"}, follow_redirects=False)
        assert bad.status_code == 401 or _is_login_redirect(path, bad), f"{method} {url} with a bad key"
        for role in ROLES:
            response = client.request(method, url, headers={"X-API-Key": keys[role]}, follow_redirects=False)
            if role in POLICY[permission]:
                assert response.status_code not in (401, 403), (
                    f"{method} {url} as {role} (holds {permission}): {response.status_code} {response.text[:200]}")
                assert response.status_code < 500, f"{method} {url} as {role}: {response.text[:300]}"
            else:
                assert response.status_code == 403, f"{method} {url} as {role} (lacks {permission})"
                if path.startswith("/api"):
                    assert response.json()["error"]["code"] == "forbidden"
            checked += 1
    assert checked >= 5 * 15


def test_public_routes_answer_without_credentials(client: TestClient, app: Any) -> None:
    assert client.get("/health").status_code == 200
    for method, path, route in _routes(app):
        if route_public_reason(route) is not None and "{" not in path:
            response = client.request(method, path, follow_redirects=False)
            assert response.status_code not in (401, 403), f"public {method} {path}: {response.status_code}"


def test_openapi_spec_needs_a_key_and_lists_the_api(client: TestClient, as_role: Any) -> None:
    assert client.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json", headers=as_role("auditor")).json()
    assert "/api/search" in spec["paths"] and "/api/documents/{doc_id}/capture" in spec["paths"]
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])


def test_a_revoked_key_is_refused(client: TestClient, store: Any, as_role: Any) -> None:
    from osintel import apikeys

    key_id, secret = apikeys.create_key(store, role="analyst", name="leaver")
    assert client.get("/api/search", headers={"X-API-Key": secret}).status_code == 200
    apikeys.revoke_key(store, key_id)
    response = client.get("/api/search", headers={"X-API-Key": secret})
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_credentials"


def test_keys_are_stored_hashed(store: Any) -> None:
    from osintel import apikeys

    _, secret = apikeys.create_key(store, role="analyst", name="hash check")
    rows = store.read("SELECT * FROM api_keys")
    dumped = repr([dict(r) for r in rows])
    assert secret not in dumped and secret.split(".")[1] not in dumped


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_unknown_document_is_404_for_a_permitted_role(client: TestClient, as_role: Any, role: str) -> None:
    response = client.get("/api/documents/nope", headers=as_role(role))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
