"""The open /health route: readiness follows the index, and it reveals only counts and codes."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from indexer import open_index
from osintel.settings import load_settings
from osintel.store import ControlStore
from search_api.app import create_app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # released on close: nothing listens there


def test_health_is_ok_with_a_reachable_index(client: TestClient, docs: list[Any]) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["documents"] == len(docs)
    assert body["flags"] == []


def test_health_answers_503_naming_no_hosts_while_the_cluster_is_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    settings = load_settings(env={}, overrides={
        "data_dir": str(tmp_path / "data"), "index.backend": "elasticsearch",
        "elasticsearch.urls": [url], "elasticsearch.request_timeout": 2.0, "elasticsearch.bulk_max_retries": 0})
    with ControlStore(settings.store_path) as store:
        index = open_index(settings)  # opens lazily: a cluster that is down at start-up is not fatal
        with TestClient(create_app(settings, index=index, store=store)) as client:
            response = client.get("/health")
        index.close()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert "index-unreachable" in body["flags"]
    assert "127.0.0.1" not in response.text  # the unauthenticated route does not reveal the cluster
