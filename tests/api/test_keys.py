"""Key administration over the API: names must be real names, whatever whitespace they use."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_admin_creates_a_key_whose_secret_authenticates(client: TestClient, as_role: Any) -> None:
    created = client.post("/api/keys", json={"role": "analyst", "name": "desk 4"}, headers=as_role("admin"))
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert client.get("/api/search?q=cocaine", headers={"X-API-Key": secret}).status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "\x1f", "\u3000\t"])
def test_a_blank_key_name_is_refused_as_bad_input_not_a_server_error(
    client: TestClient, as_role: Any, name: str
) -> None:
    response = client.post("/api/keys", json={"role": "analyst", "name": name}, headers=as_role("admin"))
    assert response.status_code == 422
