"""The Alerts page in a real headless chromium: an analyst creates a watchlist through the form,
the real alert service alerts on newly indexed documents (one sent, one duplicate of the same
story), the history shows them, and the watchlist is deleted; bad input is reported next to the
form; hostile names and titles stay text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from osintel.service import procs
from osintel import apikeys
from osintel.records import Document, SourceRef
from osintel.service.retention import _erase
from alerts.service import AlertService

OWNER = procs.current().token  # the process leases, acks and releases in its name

LiveServer = Any  # tests/ui/conftest.py: the running app, its URL, keys, documents and index
Ready = Callable[[Page], None]

HOSTILE_NAME = '<img src=x onerror="window.__pwned=\'rule\';alert(7)">Hawala & co'
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=\'history\';alert(8)">Hawala copy'


def _login(context: BrowserContext, live_server: LiveServer, secret: str) -> None:
    response = context.request.post(f"{live_server.url}/api/session", data={"api_key": secret})
    assert response.ok, response.text()


def _rules(context: BrowserContext, live_server: LiveServer) -> list[dict[str, Any]]:
    response = context.request.get(f"{live_server.url}/api/alerts")
    assert response.ok, response.text()
    return response.json()


def _fill(page: Page, *, name: str, query: str, target: str, sink: str = "file", languages: str = "",
          sources: str = "", relevance: str = "0") -> None:
    page.fill("#a-name", name)
    page.fill("#a-query", query)
    page.fill("#a-sources", sources)
    page.fill("#a-languages", languages)
    page.fill("#a-relevance", relevance)
    page.select_option("#a-sink", sink)
    page.fill("#a-target", target)


@pytest.fixture
def hawala_documents(live_server: LiveServer) -> Iterator[Callable[[], list[Document]]]:
    """Index two copies of one new story (the second with a hostile title) as the enrichment
    worker would (index, then ack), on request; erase them afterwards so the other UI tests see
    only the session's documents."""
    added: list[Document] = []
    src = SourceRef(id="gazette", name="Harbour Gazette")
    now = datetime.now(timezone.utc)

    def index_them() -> list[Document]:
        first = Document(url="https://gazette.example/hawala-1", source=src, title="Hawala broker charged",
                         text="A hawala broker moved cash for a smuggling crew.", language="en",
                         published_at=now, collected_at=now, relevance=0.8)
        first = first.model_copy(update={"cluster_id": first.id})
        copy = Document(url="https://mirror.example/hawala-1", source=src, title=HOSTILE_TITLE,
                        text="Copy: a hawala broker moved cash for a smuggling crew.", language="en",
                        published_at=now, collected_at=now, relevance=0.8,
                        cluster_id=first.id, duplicate_of=first.id)
        docs = [first, copy]
        for d in docs:
            assert live_server.store.add_collected(d, content_sha256=hashlib.sha256(d.text.encode()).hexdigest())
        added.extend(docs)
        for d in docs:  # the copy arrives second, as copies do
            live_server.index.upsert([d])
            live_server.store.ack([], [d], owner=OWNER)  # what drain_outbox does once the index has them
        return docs

    yield index_them
    if added:
        live_server.index.delete([d.id for d in added])
        for d in added:
            _erase(live_server.store, {"doc_id": d.id, "source": d.source.id, "review_at": None},
                   actor="tests", purpose="test cleanup")


def test_alerts_page_needs_the_alerts_permission(
    wait_ready: Ready, page: Page, context: BrowserContext, live_server: LiveServer
) -> None:
    page.goto("/ui/alerts")
    assert page.url.startswith(f"{live_server.url}/ui/login?next=%2Fui%2Falerts")
    # An auditor may use the UI but holds no alerts: no link, and the page says why.
    _, auditor = apikeys.create_key(live_server.store, role="auditor", name="Audrey")
    _login(context, live_server, auditor)
    page.goto("/ui/")
    wait_ready(page)
    expect(page.locator('nav a[data-nav="alerts"]')).to_have_count(0)
    response = page.goto("/ui/alerts")
    assert response is not None and response.status == 403


def test_analyst_creates_a_watchlist_sees_its_alerts_and_deletes_it(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer,
    hawala_documents: Callable[[], list[Document]],
) -> None:
    page = analyst_page
    page.goto("/ui/")
    wait_ready(page)
    page.click('nav a[data-nav="alerts"]')
    page.wait_for_url(f"{live_server.url}/ui/alerts")
    wait_ready(page)
    expect(page.locator('nav a[data-nav="alerts"]')).to_have_attribute("aria-current", "page")
    page.click("#help-toggle")
    expect(page.locator("#field-help")).to_contain_text("method:")

    _fill(page, name="Hawala brokers", query="hawala AND broker", languages="en, fr", sources="gazette",
          relevance="0.5", target="hawala.jsonl")
    page.click("#alert-form button[type=submit]")
    expect(page.locator("#form-status")).to_have_text("Created “Hawala brokers”.")
    row = page.locator("#rules tr.rule", has_text="Hawala brokers")
    expect(row).to_have_count(1)
    expect(row.locator("code.query")).to_have_text("hawala AND broker")
    expect(row.locator(".scope")).to_have_text("sources: gazette; languages: en, fr; relevance ≥ 0.5")
    expect(row.locator(".delivery")).to_contain_text("hawala.jsonl")
    # The form is ready for the next one; scope and delivery stay as they were.
    expect(page.locator("#a-name")).to_have_value("")
    expect(page.locator("#a-query")).to_have_value("")
    expect(page.locator("#a-target")).to_have_value("hawala.jsonl")
    rule = next(r for r in _rules(page.context, live_server) if r["name"] == "Hawala brokers")
    assert rule["scope"] == {"sources": ["gazette"], "languages": ["en", "fr"], "min_relevance": 0.5}
    assert rule["delivery"]["sink"] == "file" and rule["delivery"]["target"] == "hawala.jsonl"

    # The real alert stage: new documents indexed, watchlists evaluated, the file sink delivers.
    first, copy = hawala_documents()
    service = AlertService(live_server.settings, live_server.store, live_server.index)
    report = service.evaluate()
    assert report.matched == 2
    assert service.dispatch().sent == 1
    delivered = (live_server.settings.data_dir / "alerts" / "hawala.jsonl").read_text(encoding="utf-8")
    assert json.loads(delivered.splitlines()[0])

    row.locator("button.show-history").click()
    events = page.locator("#history tr.event")
    expect(events).to_have_count(2)
    expect(page.locator("#history-scope")).to_have_text("2 alerts of “Hawala brokers”, newest first")
    sent = page.locator('#history tr.event[data-status="sent"]')
    duplicate = page.locator('#history tr.event[data-status="duplicate"]')
    expect(sent.locator(".badge")).to_have_text("sent")
    expect(duplicate.locator(".badge")).to_have_text("duplicate")
    expect(sent.locator(".rule-name")).to_have_text("Hawala brokers")
    expect(sent.locator("a.doc-link")).to_have_attribute("href", f"/ui/documents/{first.id}")
    expect(sent.locator(".when")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    # The copy's crawled title is hostile: it shows as text, and nothing ran.
    expect(duplicate.locator("a.doc-link")).to_have_text(HOSTILE_TITLE)
    expect(page.locator("#history img")).to_have_count(0)
    # The overall history holds them too.
    page.click("#history-all")
    expect(page.locator("#history-scope")).to_contain_text("of my watchlists")
    expect(page.locator('#history tr.event[data-rule="%s"]' % rule["id"])).to_have_count(2)

    sent.locator("a.doc-link").click()
    page.wait_for_url(f"{live_server.url}/ui/documents/{first.id}")
    wait_ready(page)
    expect(page.locator("#doc-title")).to_have_text("Hawala broker charged")
    page.go_back()
    wait_ready(page)

    row = page.locator("#rules tr.rule", has_text="Hawala brokers")
    delete = row.locator("button.delete")
    delete.click()
    expect(delete).to_have_text("Confirm delete")  # armed; nothing deleted yet
    assert any(r["id"] == rule["id"] for r in _rules(page.context, live_server))
    delete.click()
    expect(row).to_have_count(0)
    assert not any(r["id"] == rule["id"] for r in _rules(page.context, live_server))
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("window.__pwned") is None
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_a_bad_query_or_target_is_reported_next_to_the_form(
    wait_ready: Ready, analyst_page: Page, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/alerts")
    wait_ready(page)
    before = len(_rules(page.context, live_server))
    _fill(page, name="Broken", query="hawala AND (broker", target="broken.jsonl")
    page.click("#alert-form button[type=submit]")
    error = page.locator("#form-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("bad watchlist query")
    expect(error).to_contain_text("at position 18")
    expect(page.locator("#a-query")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#a-name")).to_have_value("Broken")  # nothing the analyst typed is lost

    page.fill("#a-query", "nosuchfield:x")
    page.click("#alert-form button[type=submit]")
    expect(error).to_contain_text("unknown field 'nosuchfield'")

    page.fill("#a-query", "hawala")
    page.select_option("#a-sink", "webhook")
    expect(page.locator("#a-target-label")).to_have_text("URL")
    page.fill("#a-target", "ftp://receiver.example/x")
    page.click("#alert-form button[type=submit]")
    expect(error).to_have_text("delivery: a webhook target must be an http:// or https:// URL")
    page.select_option("#a-sink", "email")
    page.fill("#a-target", "not an address")
    page.click("#alert-form button[type=submit]")
    expect(error).to_contain_text("is not an e-mail address")
    assert len(_rules(page.context, live_server)) == before
    expect(page.locator("#rules tr.rule", has_text="Broken")).to_have_count(0)

    # Fixing the input clears the error and creates it.
    page.fill("#a-target", "desk@unit.example")
    page.click("#alert-form button[type=submit]")
    expect(error).to_be_hidden()
    row = page.locator("#rules tr.rule", has_text="Broken")
    expect(row).to_have_count(1)
    expect(row.locator(".delivery")).to_contain_text("desk@unit.example")
    row.locator("button.delete").click()
    row.locator("button.delete").click()
    expect(row).to_have_count(0)


def test_a_hostile_watchlist_name_is_inert_text_and_supervisors_see_it_with_its_owner(
    wait_ready: Ready, analyst_page: Page, context: BrowserContext, live_server: LiveServer
) -> None:
    page = analyst_page
    page.goto("/ui/alerts")
    wait_ready(page)
    _fill(page, name=HOSTILE_NAME, query='"hawala"', target="hostile.jsonl")
    page.click("#alert-form button[type=submit]")
    row = page.locator("#rules tr.rule", has_text="Hawala & co")
    expect(row.locator(".rule-name")).to_have_text(HOSTILE_NAME)
    expect(page.locator("#form-status")).to_contain_text(HOSTILE_NAME)
    expect(page.locator("main img")).to_have_count(0)
    page.reload()
    wait_ready(page)
    expect(row.locator(".rule-name")).to_have_text(HOSTILE_NAME)
    rule_id = row.get_attribute("data-id")

    # A supervisor sees every analyst's watchlist, with its owner, and may remove it.
    _, supervisor = apikeys.create_key(live_server.store, role="supervisor", name="Sue Pervisor")
    _login(context, live_server, supervisor)
    page.goto("/ui/alerts")
    wait_ready(page)
    expect(page.locator("#rules-title")).to_have_text("All watchlists")
    theirs = page.locator(f'#rules tr.rule[data-id="{rule_id}"]')
    expect(theirs.locator(".owner")).to_have_text("Ana Lyst")
    expect(theirs.locator(".rule-name")).to_have_text(HOSTILE_NAME)
    theirs.locator("button.delete").click()
    theirs.locator("button.delete").click()
    expect(theirs).to_have_count(0)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("window.__pwned") is None
    assert page.console_errors == []  # type: ignore[attr-defined]
