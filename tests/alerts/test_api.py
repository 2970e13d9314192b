"""The alerts API: analysts manage their own rules, supervisors see all; history; audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from osintel import apikeys
from osintel.service.pipeline import drain_outbox
from osintel.store import ControlStore
from alerts.service import AlertService
from search_api.app import create_app

from .conftest import StandInNLP, collect, doc, make_settings


@pytest.fixture()
def api(tmp_path: Path, index: Any) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Any]]:
    settings = make_settings(tmp_path)
    store = ControlStore(settings.store_path)
    keys = {}
    for who, role in (("ann", "analyst"), ("bob", "analyst"), ("sue", "supervisor"), ("pat", "partner")):
        key_id, secret = apikeys.create_key(store, role=role, name=who)
        keys[who] = {"X-API-Key": secret, "key_id": key_id}
    with TestClient(create_app(settings, index=index, store=store)) as client:
        yield client, keys, (settings, store, index)
    store.close()


def h(keys: dict[str, dict[str, str]], who: str) -> dict[str, str]:
    return {"X-API-Key": keys[who]["X-API-Key"]}


RULE = {"name": "lines", "query": '"county lines"', "delivery": {"sink": "file", "target": "lines.jsonl"}}


def test_analysts_own_their_rules_and_supervisors_see_all(api: Any) -> None:
    client, keys, _ = api
    r = client.post("/api/alerts", json=RULE, headers=h(keys, "ann"))
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["owner_id"] == keys["ann"]["key_id"] and rule["owner_name"] == "ann"
    assert [x["id"] for x in client.get("/api/alerts", headers=h(keys, "ann")).json()] == [rule["id"]]
    assert client.get("/api/alerts", headers=h(keys, "bob")).json() == []
    assert client.get(f"/api/alerts/{rule['id']}", headers=h(keys, "bob")).status_code == 404
    assert client.delete(f"/api/alerts/{rule['id']}", headers=h(keys, "bob")).status_code == 404
    assert [x["id"] for x in client.get("/api/alerts", headers=h(keys, "sue")).json()] == [rule["id"]]
    assert client.get("/api/alerts", headers=h(keys, "pat")).status_code == 403
    assert client.get("/api/alerts").status_code == 401
    assert client.delete(f"/api/alerts/{rule['id']}", headers=h(keys, "sue")).status_code == 204
    assert client.get("/api/alerts", headers=h(keys, "ann")).json() == []


def test_a_bad_rule_is_a_400_with_the_reason(api: Any) -> None:
    client, keys, _ = api
    r = client.post("/api/alerts", json={**RULE, "query": "nosuchfield:x"}, headers=h(keys, "ann"))
    assert r.status_code == 400 and "unknown field" in r.text
    r = client.post("/api/alerts", json={**RULE, "delivery": {"sink": "file", "target": "../../x"}},
                    headers=h(keys, "ann"))
    assert r.status_code in (400, 422) and "file name" in r.text


def test_alert_history_shows_the_owners_alerts(api: Any) -> None:
    client, keys, (settings, store, index) = api
    rule = client.post("/api/alerts", json=RULE, headers=h(keys, "ann")).json()
    service = AlertService(settings, store, index)
    collect(store, [doc(1, "county lines <b>bold</b>"), doc(2, "nothing here")])
    drain_outbox(store, StandInNLP(), index, after_batch=service.after_batch)
    service.dispatch()
    history = client.get(f"/api/alerts/{rule['id']}/history", headers=h(keys, "ann")).json()
    assert [e["detail"]["document"]["title"] for e in history] == ["story 1"]
    assert history[0]["status"] == "sent"
    assert len(client.get("/api/alerts/history", headers=h(keys, "ann")).json()) == 1
    assert client.get("/api/alerts/history", headers=h(keys, "bob")).json() == []
    assert len(client.get("/api/alerts/history", headers=h(keys, "sue")).json()) == 1
    actions = [r["detail"] for r in store.read("SELECT detail FROM audit_log WHERE detail LIKE '%alert_rule%'")]
    assert len(actions) == 1 and rule["id"] in actions[0]


@pytest.mark.parametrize(
    ("delivery", "reason"),
    [
        ({"sink": "webhook", "target": "http://127.0.0.1:9/hook"}, "internal address 127.0.0.1"),
        ({"sink": "webhook", "target": "http://192.168.1.10:8080/hook"}, "internal address 192.168.1.10"),
        ({"sink": "webhook", "target": "http://example.com:0/hook"}, "invalid port"),
        ({"sink": "webhook", "target": "http://[::ffff:10.0.0.1]/hook"}, "internal address"),
        ({"sink": "email", "target": "ann@example.org, bob@example.org"}, "is not an e-mail address"),
        ({"sink": "email", "target": "ann@localhost"}, "is not an e-mail address"),
    ],
)
def test_creating_a_rule_with_an_undeliverable_target_is_a_400_with_the_reason(
        api: Any, delivery: dict[str, str], reason: str) -> None:
    client, keys, _ = api
    r = client.post("/api/alerts", json={**RULE, "delivery": delivery}, headers=h(keys, "ann"))
    # 422 when the request model's own syntax check refuses it, 400 when the sink's check does.
    assert r.status_code in (400, 422), r.text
    assert reason in r.json()["error"]["message"]
    assert client.get("/api/alerts", headers=h(keys, "ann")).json() == []


def test_a_webhook_listed_in_webhook_allowed_hosts_is_accepted(tmp_path: Path, index: Any, receiver: Any) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    _, secret = apikeys.create_key(store, role="analyst", name="ann")
    with TestClient(create_app(settings, index=index, store=store)) as client:
        r = client.post("/api/alerts", json={**RULE, "delivery": {"sink": "webhook", "target": receiver.url}},
                        headers={"X-API-Key": secret})
    store.close()
    assert r.status_code == 201, r.text
