"""``POST /api/exports``: permission ``export``, the handling-code gate, the audit record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from osintel import apikeys, audit
from search_api.app import create_app

from .conftest import C_MARKER


@pytest.fixture
def client(corpus, settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store, index, _ = corpus
    keys = {role: apikeys.create_key(store, role=role, name=f"{role}-key")[1]
            for role in ("partner", "supervisor", "auditor", "admin")}
    with TestClient(create_app(settings, index=index, store=store)) as test_client:
        yield test_client, keys


def _post(client: TestClient, key: str, **body) -> Any:  # the TestClient's response (httpx or httpx2)
    return client.post("/api/exports", json={"query": "*", **body}, headers={"X-API-Key": key})


def test_partner_gets_a_stix_bundle_without_c_documents(client, corpus) -> None:
    http, keys = client
    response = _post(http, keys["partner"], format="stix")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/stix+json;version=2.1"
    assert response.headers["x-osintel-count"] == "5"
    bundle = response.json()
    assert bundle["type"] == "bundle" and C_MARKER not in response.text
    event = audit.events(corpus[0], action="disclosure")[-1]
    assert event.detail["recipient"] == "partner-key" and event.detail["role"] == "partner"


def test_partner_asking_for_c_documents_gets_403(client) -> None:
    http, keys = client
    response = _post(http, keys["partner"], format="ndjson", include_conditional=True, purpose="x")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "dissemination_refused"


def test_supervisor_exports_c_documents_with_purpose(client) -> None:
    http, keys = client
    response = _post(http, keys["supervisor"], format="ndjson", include_conditional=True,
                     purpose="joint op", recipient="Europol")
    assert response.status_code == 200
    ids = [json.loads(line)["id"] for line in response.text.splitlines()]
    assert len(ids) == 6 and C_MARKER in response.text


def test_roles_without_export_permission_and_anonymous_callers_are_refused(client) -> None:
    http, keys = client
    assert _post(http, keys["auditor"], format="csv").status_code == 403
    assert _post(http, keys["admin"], format="csv").status_code == 403
    assert http.post("/api/exports", json={"format": "csv", "query": "*"}).status_code == 401


def test_bad_format_and_directory_formats_are_400(client) -> None:
    http, keys = client
    assert _post(http, keys["partner"], format="pdf").json()["error"]["code"] == "bad_export"
    assert _post(http, keys["partner"], format="misp-feed").status_code == 400
