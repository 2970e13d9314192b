"""Watchlists fire once per new matching document, through real receivers on loopback."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from alerts.state import AlertStore
from indexer import Index, SearchResult
from osintel.errors import AlertError, IndexBackendError
from osintel.service.pipeline import drain_outbox
from osintel.store import ControlStore
from alerts.rules import build_rule, save_rule
from alerts.service import AlertService
from alerts.sinks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

from .conftest import SECRET, StandInNLP, collect, doc, make_settings


def add_rule(service: AlertService, **fields: object) -> str:
    rule = build_rule({"name": "county lines watch", "query": '"county lines"', **fields})
    save_rule(service.alerts, rule)
    return rule.id


def run(store: ControlStore, index: Index, service: AlertService) -> None:
    drain_outbox(store, StandInNLP(), index, batch_size=2, after_batch=service.after_batch)
    service.dispatch()


def test_watchlist_fires_once_per_new_matching_document_with_a_verified_signature(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(1, "a county lines gang moved drugs to Exeter"), doc(2, "weather is fine"),
                    doc(3, "police broke up County Lines operation in Leeds")])
    run(store, index, service)

    assert len(receiver.requests) == 2
    titles = set()
    for req in receiver.requests:
        ts, sig = req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER]
        assert sig.startswith("sha256=") and verify(SECRET, ts, req.body, sig)
        assert not verify("wrong-key", ts, req.body, sig)
        assert req.headers["X-Osintel-Delivery"] == str(req.json()["id"])
        body = req.json()
        assert body["rule"]["name"] == "county lines watch" and body["count"] == 1 and not body["digest"]
        titles.add(body["alerts"][0]["document"]["title"])
    assert titles == {"story 1", "story 3"}

    # Evaluating and dispatching again sends nothing more; a new match sends exactly one.
    service.after_batch()
    service.dispatch()
    assert len(receiver.requests) == 2
    collect(store, [doc(4, "another county lines arrest")])
    run(store, index, service)
    assert len(receiver.requests) == 3
    assert receiver.requests[-1].json()["alerts"][0]["document"]["title"] == "story 4"
    store.close()


def test_no_double_alert_after_a_restart_on_the_same_store(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(1, "county lines in Hull"), doc(2, "county lines in York")])
    run(store, index, service)
    assert len(receiver.requests) == 2
    store.close()

    store = ControlStore(settings.store_path)  # the process restarted
    service = AlertService(settings, store, index)
    service.after_batch()
    service.dispatch()
    assert len(receiver.requests) == 2
    collect(store, [doc(3, "county lines in Leeds")])
    run(store, index, service)
    titles = [r.json()["alerts"][0]["document"]["title"] for r in receiver.requests]
    assert sorted(titles[:2]) == ["story 1", "story 2"] and titles[2:] == ["story 3"]
    store.close()


def test_a_late_arriving_old_document_still_alerts(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(1, "county lines today")])
    run(store, index, service)
    old = datetime(2019, 3, 1, tzinfo=timezone.utc)
    collect(store, [doc(2, "county lines archive report", published=old)])
    run(store, index, service)
    assert [r.json()["alerts"][0]["document"]["published_at"][:4] for r in receiver.requests][-1] == "2019"
    assert len(receiver.requests) == 2
    store.close()


def test_a_duplicate_of_an_alerted_story_does_not_alert_again(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    rule_id = add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    first = doc(1, "county lines gang jailed", story="story-a")
    collect(store, [first])
    run(store, index, service)
    collect(store, [doc(2, "county lines gang jailed (syndicated copy)", story="story-a"),
                    doc(3, "county lines: a different story", story="story-b")])
    run(store, index, service)
    assert [r.json()["alerts"][0]["document"]["title"] for r in receiver.requests] == ["story 1", "story 3"]
    statuses = {e["doc_id"]: e["status"] for e in service.alerts.history(rule_ids=[rule_id])}
    assert sorted(statuses.values()) == ["duplicate", "sent", "sent"]
    store.close()


def test_documents_indexed_before_a_rule_existed_do_not_alert(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    collect(store, [doc(1, "county lines history")])
    run(store, index, service)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    service.after_batch()
    service.dispatch()
    assert receiver.requests == []
    store.close()


def test_scope_restricts_sources_languages_and_relevance(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url}, scope={"sources": ["other"]})
    add_rule(service, id="en-only", delivery={"sink": "webhook", "target": receiver.url},
             scope={"languages": ["en"], "sources": ["news"]})
    collect(store, [doc(1, "county lines")])
    run(store, index, service)
    assert [r.json()["rule"]["id"] for r in receiver.requests] == ["en-only"]
    store.close()


class BrokenOnce:
    """The real index, but the first search fails (the alert stage's view of an outage)."""

    def __init__(self, inner: Index) -> None:
        self.inner, self.failed = inner, False

    def __getattr__(self, name: str) -> Any:  # everything but search is the real index's
        return getattr(self.inner, name)

    def search(self, *args: Any, **kwargs: Any) -> SearchResult:
        if not self.failed:
            self.failed = True
            raise IndexBackendError("index unavailable")
        return self.inner.search(*args, **kwargs)


def test_an_alert_failure_neither_blocks_indexing_nor_loses_the_alert(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    service.evaluator.index = BrokenOnce(index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(1, "county lines seizure")])
    report = drain_outbox(store, StandInNLP(), index, after_batch=service.after_batch)
    assert report.indexed == 1 and store.outbox_counts()["done"] == 1
    assert service.status.errors == 1 and "index unavailable" in (service.status.last_error or "")
    service.dispatch()
    assert receiver.requests == []
    service.after_batch()  # the next batch (or restart) catches the document up by the mark
    service.dispatch()
    assert len(receiver.requests) == 1
    store.close()


def test_a_flood_becomes_one_digest_message(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url, flood_threshold=3)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(n, f"county lines report number {n}") for n in range(10)])
    drain_outbox(store, StandInNLP(), index, batch_size=50, after_batch=service.after_batch)
    service.dispatch()
    assert len(receiver.requests) == 1
    body = receiver.requests[0].json()
    assert body["digest"] is True and body["count"] == 10
    store.close()


def test_the_hourly_rate_limit_holds_back_then_folds_into_a_digest(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url, "rate_limit_per_hour": 1})
    collect(store, [doc(1, "county lines one")])
    run(store, index, service)
    collect(store, [doc(2, "county lines two"), doc(3, "county lines three")])
    run(store, index, service)
    assert len(receiver.requests) == 1  # the hour's budget is spent
    from datetime import timedelta

    from osintel.records import utcnow
    service.dispatch(utcnow() + timedelta(hours=1, minutes=1))
    assert len(receiver.requests) == 2
    assert receiver.requests[1].json()["count"] == 2
    store.close()


def test_webhook_failures_are_retried_with_backoff_then_dead_lettered(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, receiver.url, max_attempts=3, retry_backoff_seconds=60.0)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    receiver.always = 503
    collect(store, [doc(1, "county lines failure case")])
    run(store, index, service)
    assert len(receiver.requests) == 1
    from datetime import timedelta

    from osintel.records import utcnow
    service.dispatch(utcnow() + timedelta(seconds=30))  # not due yet: backoff 60 s
    assert len(receiver.requests) == 1
    service.dispatch(utcnow() + timedelta(seconds=61))
    assert len(receiver.requests) == 2
    service.dispatch(utcnow() + timedelta(seconds=119))  # second backoff is 120 s
    assert len(receiver.requests) == 2
    service.dispatch(utcnow() + timedelta(seconds=200))
    assert len(receiver.requests) == 3
    dead = service.alerts.messages(state="dead")
    assert len(dead) == 1 and dead[0].attempts == 3 and "503" in (dead[0].last_error or "")
    assert [e["status"] for e in service.alerts.history()] == ["dead"]
    service.dispatch(utcnow() + timedelta(days=1))
    assert len(receiver.requests) == 3  # dead letters are not retried on their own
    receiver.always = None
    service.alerts.retry_dead(dead[0].id, utcnow())
    service.dispatch()
    assert len(receiver.requests) == 4 and [e["status"] for e in service.alerts.history()] == ["sent"]
    store.close()


def test_a_webhook_to_an_unlisted_private_address_is_refused(tmp_path: Path, receiver, index) -> None:
    settings = make_settings(tmp_path, "")  # 127.0.0.1 is not allowed
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "webhook", "target": receiver.url})
    collect(store, [doc(1, "county lines ssrf")])
    run(store, index, service)
    assert receiver.requests == []
    dead = service.alerts.messages(state="dead")
    assert dead and "alerts.webhook_allowed_hosts" in (dead[0].last_error or "")
    store.close()


def test_email_alerts_reach_a_real_smtp_server_as_plain_and_escaped_html(tmp_path: Path, smtp, index) -> None:
    port, box = smtp
    settings = make_settings(tmp_path, smtp_port=port)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "email", "target": "analyst@unit.example"})
    collect(store, [doc(1, "county lines <img src=x onerror=alert(1)>", title="<script>alert(1)</script> county")])
    run(store, index, service)
    assert len(box.messages) == 1
    mail = box.messages[0]
    assert mail["To"] == "analyst@unit.example" and "county lines watch" in mail["Subject"]
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "<script>alert(1)</script> county" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    store.close()


def test_email_digest_mode_sends_one_message_per_period(tmp_path: Path, smtp, index) -> None:
    port, box = smtp
    settings = make_settings(tmp_path, smtp_port=port)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "email", "target": "desk@unit.example", "digest_minutes": 60})
    collect(store, [doc(1, "county lines a"), doc(2, "county lines b")])
    run(store, index, service)
    collect(store, [doc(3, "county lines c")])
    run(store, index, service)
    assert len(box.messages) == 1 and "2 new alerts (digest)" in box.messages[0]["Subject"]
    from datetime import timedelta

    from osintel.records import utcnow
    service.dispatch(utcnow() + timedelta(minutes=61))
    assert len(box.messages) == 2 and "1 new alert (digest)" in box.messages[1]["Subject"]
    store.close()


def test_file_sink_appends_json_lines_inside_the_data_dir(tmp_path: Path, index) -> None:
    settings = make_settings(tmp_path)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    add_rule(service, delivery={"sink": "file", "target": "hits.jsonl"})
    collect(store, [doc(1, "county lines file"), doc(2, "county lines file two")])
    run(store, index, service)
    lines = (settings.data_dir / "alerts" / "hits.jsonl").read_text().splitlines()
    assert len(lines) == 2
    store.close()


@pytest.mark.parametrize("fields, message", [
    ({"query": "method:("}, "bad watchlist query"),
    ({"query": "nosuchfield:x"}, "unknown field"),
    ({"delivery": {"sink": "file", "target": "../etc/passwd"}}, "plain file name"),
    ({"delivery": {"sink": "webhook", "target": "file:///etc/passwd"}}, "http:// or https://"),
    ({"delivery": {"sink": "email", "target": "not an address"}}, "not an e-mail address"),
    ({"scope": {"sources": ["a b"]}}, "not a source id"),
])
def test_bad_rules_are_clear_errors(fields: dict, message: str) -> None:
    data = {"name": "x", "query": "cocaine", "delivery": {"sink": "file", "target": "x.jsonl"}, **fields}
    with pytest.raises(AlertError, match=message.replace("(", r"\(")):
        build_rule(data)


def test_alert_store_tables_survive_reopening(tmp_path: Path) -> None:
    store = ControlStore(tmp_path / "c.sqlite3")
    alerts = AlertStore(store)
    rule = build_rule({"name": "x", "query": "cocaine", "delivery": {"sink": "file", "target": "x.jsonl"}})
    save_rule(alerts, rule)
    store.close()
    store = ControlStore(tmp_path / "c.sqlite3")
    assert [r.id for r in AlertStore(store).rules()] == [rule.id]
    store.close()
