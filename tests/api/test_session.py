"""UI sessions (HttpOnly, SameSite=Strict cookie; CSRF header on writes) and per-key rate limits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from search_api.app import create_app


def test_login_sets_a_strict_httponly_cookie_that_authenticates(client: TestClient, keys: dict[str, str]) -> None:
    response = client.post("/api/session", json={"api_key": keys["analyst"]})
    assert response.status_code == 200 and response.json()["role"] == "analyst"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert keys["analyst"] not in response.headers["set-cookie"]  # a session id, not the key
    assert client.get("/api/search").status_code == 200
    assert client.get("/api/session").json()["role"] == "analyst"


def test_a_wrong_key_does_not_log_in(client: TestClient) -> None:
    response = client.post("/api/session", json={"api_key": "ok_123.nope"})
    assert response.status_code == 401 and "set-cookie" not in response.headers


def test_session_writes_need_the_csrf_header(client: TestClient, keys: dict[str, str], docs: list[Any]) -> None:
    client.post("/api/session", json={"api_key": keys["supervisor"]})
    url = f"/api/documents/{docs[0].id}/grading"
    body = {"grading": "1AP", "reason": "checked"}
    refused = client.post(url, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    assert client.post(url, json=body, headers={"X-Requested-With": "fetch"}).status_code == 200


def test_logout_ends_the_session_server_side(client: TestClient, keys: dict[str, str]) -> None:
    client.post("/api/session", json={"api_key": keys["analyst"]})
    token = client.cookies.get("osintel_session")
    assert token is not None
    assert client.delete("/api/session").status_code == 204
    # Replaying the old cookie is refused: the session is gone from the store, not just the browser.
    client.cookies.set("osintel_session", token)
    replay = client.get("/api/search")
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "session_expired"


def test_revoking_a_key_ends_its_sessions(client: TestClient, store: Any) -> None:
    from osintel import apikeys

    key_id, secret = apikeys.create_key(store, role="analyst", name="temp")
    client.post("/api/session", json={"api_key": secret})
    assert client.get("/api/search").status_code == 200
    apikeys.revoke_key(store, key_id)
    assert client.get("/api/search").status_code == 401


def test_rate_limit_answers_429_with_retry_after(settings: Any, store: Any, index: Any,
                                                 keys: dict[str, str]) -> None:
    slow = settings.with_overrides(**{"api.rate_limit_per_second": 0.5, "api.rate_limit_burst": 3})
    with TestClient(create_app(slow, index=index, store=store)) as client:
        codes = [client.get("/api/session", headers={"X-API-Key": keys["analyst"]}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/session", headers={"X-API-Key": keys["analyst"]})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        # Another key has its own bucket.
        assert client.get("/api/session", headers={"X-API-Key": keys["auditor"]}).status_code == 200
