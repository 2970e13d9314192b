"""Retention: review dates from source policy, legal holds, and erasure everywhere, logged."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from osintel import audit

from osintel.service import retention
from osintel.cli import run as cli
from osintel.records import Document, SourceRef, utcnow
from osintel.sources import parse_sources

SOURCES = parse_sources({"sources": [
    {"id": "news", "kind": "feed", "urls": ["http://example.test/feed"], "options": {"retention_days": 30}},
    {"id": "forum", "kind": "web", "urls": ["http://example.test/"]},
]})


def test_review_date_comes_from_the_source_policy_or_the_default(docs: list[Any], store: Any) -> None:
    items, report = retention.due(store, SOURCES, default_days=365, now=utcnow() + timedelta(days=31))
    assert report.checked == 5 and {i["source"] for i in items} == {"news"}
    items, _ = retention.due(store, SOURCES, default_days=365, now=utcnow() + timedelta(days=366))
    assert len(items) == 5


def test_run_erases_expired_unheld_documents_from_index_store_and_warc_index(
        client: TestClient, as_role: Any, docs: list[Any], store: Any, index: Any) -> None:
    a, b = docs[0], docs[1]  # both from "news" (30 days)
    client.put(f"/api/documents/{b.id}/hold", json={"reason": "pending trial"}, headers=as_role("supervisor"))
    report = retention.run(store, index, SOURCES, default_days=365, actor="cli:test",
                           now=utcnow() + timedelta(days=31))
    assert report.erased == [a.id] and report.held == 1
    assert store.get_document(a.id) is None and index.get(a.id) is None
    assert store.get_document(b.id) is not None and index.get(b.id) is not None
    for table, column in (("content_hashes", "doc_id"), ("seen_urls", "doc_id"), ("outbox", "doc_id")):
        assert not store.read(f"SELECT 1 FROM {table} WHERE {column} = ?", (a.id,)), table
    # The WARC index: the record is unreachable and listed for supervised disposal.
    assert retention.erased_capture(store, a.capture.warc_file, a.capture.record_id)
    hits = client.get("/api/search", params={"q": "dover"}, headers=as_role("analyst")).json()["hits"]
    assert a.id not in [h["id"] for h in hits]
    assert client.get(f"/api/documents/{a.id}/capture", headers=as_role("analyst")).status_code == 404
    # Logged without the content; the chain still verifies.
    event = [e for e in audit.events(store, limit=10_000) if e.action == "erasure"][-1]
    assert event.detail["doc_id"] == a.id and event.detail["captures"][0]["record_id"] == a.capture.record_id
    flat = json.dumps(event.detail)
    assert "Dover" not in flat and "cocaine" not in flat.lower() and a.title not in flat
    assert audit.verify(store).ok


def test_dry_run_changes_nothing(docs: list[Any], store: Any, index: Any) -> None:
    report = retention.run(store, index, SOURCES, default_days=365, actor="t", now=utcnow() + timedelta(days=400),
                           dry_run=True)
    assert len(report.erased) == 5 and store.count_documents() == 5 and index.count() == 5
    assert not [e for e in audit.events(store) if e.action == "erasure"]


def test_cli_retention_run_honours_an_explicit_review_date(settings: Any, store: Any, capsys: Any,
                                                            tmp_path: Path) -> None:
    old = Document(url="http://example.test/old", source=SourceRef(id="forum"), text="old news",
                   retention_review_at=utcnow() - timedelta(days=1))
    fresh = Document(url="http://example.test/fresh", source=SourceRef(id="forum"), text="fresh news")
    for doc in (old, fresh):
        store.add_collected(doc, content_sha256=hashlib.sha256(doc.text.encode()).hexdigest())
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    assert cli(["retention", "run", "--json", "--data-dir", str(settings.data_dir), "--sources", str(sources)]) == 0
    assert json.loads(capsys.readouterr().out)["erased_ids"] == [old.id]
    assert store.get_document(old.id) is None and store.get_document(fresh.id) is not None
