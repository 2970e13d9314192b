"""A real server and a real browser for the UI tests.

The app runs under uvicorn in a thread on 127.0.0.1 (an ephemeral port) over a tantivy index and
control store holding a handful of documents, one of them hostile. Debian's chromium
(``/usr/bin/chromium``) is driven headless by Playwright; Playwright's own browser downloads are
never used, and the browser is told to make no background connections.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Error, Page, expect, sync_playwright

from osintel import apikeys
from osintel.records import Capture, CrimeType, Document, Entity, Location, MethodHit, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore
from search_api.app import create_app

# The machine's cores are shared: give the browser time before an expectation fails.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

#: The hostile document's payloads. Each would set window.__pwned or open a dialog if it ran.
XSS_TITLE = (
    '<script>window.__pwned="title";alert("title")</script>'
    '<img src=x onerror="window.__pwned=\'img\';alert(1)">'
)
XSS_ENTITY = '<img src=x onerror="window.__pwned=\'entity\';alert(2)">'
XSS_TEXT = (
    "Vendor notes: " + XSS_ENTITY + " meets at the docks. "
    '<svg onload="window.__pwned=\'svg\';alert(3)"></svg> '
    '<a href="javascript:window.__pwned=\'link\';alert(4)">click me</a> '
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe> "
    "Payment via <b onmouseover=\"window.__pwned='b'\">cloned plate</b> smuggling."
)
XSS_URL = "javascript:window.__pwned='url';alert(5)"
XSS_PLACE = '<script>window.__pwned="place"</script>Dockside'


def _when(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, tzinfo=timezone.utc)


def _entity(text: str, label: str, body: str, normalized: str | None = None) -> Entity:
    start = body.index(text)
    return Entity(text=text, label=label, start=start, end=start + len(text), normalized=normalized,
                  extractor="test")


def _documents(capture: Capture) -> list[Document]:
    news = SourceRef(id="bbc-news", name="BBC News", kind="feed", grading="1BP")
    forum = SourceRef(id="darkforum", name='Forum <img src=x onerror="window.__pwned=\'source\'">', kind="web",
                      grading="3DC")
    county = (
        "Police in Liverpool jailed five members of a county lines gang who ran a drugs line called "
        "'Bravo' using the phone 07700 900123. Officers seized cocaine worth £40,000."
    )
    port = (
        "New route: cocaine hidden in banana containers via the port of Rotterdam, vessel IMO 9321483. "
        "Police in Marseille followed the county lines money."
    )
    hostile_evidence = "cloned plate"
    return [
        Document(
            url="https://news.example/county-lines-arrests", source=news,
            title="County lines gang jailed after Merseyside raids", text=county, author="Jane Reporter",
            published_at=_when(2024, 3, 10), collected_at=_when(2024, 3, 11), language="en",
            entities=[
                _entity("Liverpool", "GPE", county),
                _entity("07700 900123", "PHONE", county, normalized="+447700900123"),
                _entity("Bravo", "ORG", county),
            ],
            methods=[MethodHit(id="drugs.county_lines", label="county lines", category="drugs", confidence=0.9,
                               evidence="Police in Liverpool jailed five members of a county lines gang",
                               matched_by="pattern")],
            locations=[Location(name="Liverpool", country_code="GB", lat=53.41, lon=-2.98, mention="Liverpool",
                                start=county.index("Liverpool"), end=county.index("Liverpool") + 9)],
            crime_types=[CrimeType(id="drugs.trafficking", label="Drug trafficking", confidence=0.8,
                                   evidence="Officers seized cocaine worth £40,000.",
                                   start=county.index("Officers"), end=len(county), matched_by="pattern:en")],
            relevance=0.9, relevance_explanation={"methods": 0.6, "entities": 0.3}, capture=capture,
        ),
        Document(
            url="https://social.example/@port/1", source=news, title="Banana boat cocaine route", text=port,
            published_at=_when(2024, 5, 20), collected_at=_when(2024, 5, 20), language="en",
            entities=[_entity("IMO 9321483", "IMO", port, normalized="9321483"),
                      _entity("Rotterdam", "GPE", port)],
            methods=[MethodHit(id="drugs.maritime_smuggling", label="maritime smuggling", category="drugs",
                               confidence=0.8, evidence="cocaine hidden in banana containers",
                               matched_by="pattern"),
                     MethodHit(id="drugs.county_lines", label="county lines", category="drugs", confidence=0.5,
                               evidence="county lines money", matched_by="embedding")],
            locations=[Location(name="Rotterdam", country_code="NL", lat=51.92, lon=4.48, mention="Rotterdam"),
                       Location(name="Marseille", country_code="FR", lat=43.30, lon=5.37, mention="Marseille")],
            relevance=0.75, grading="2BP",
        ),
        Document(
            url=XSS_URL, source=forum, title=XSS_TITLE, text=XSS_TEXT, author_handle='"><script>alert(6)</script>',
            published_at=_when(2024, 4, 2), collected_at=_when(2024, 4, 2), language="en",
            entities=[_entity(XSS_ENTITY, "PERSON", XSS_TEXT),
                      _entity("cloned plate", "VEHICLE_PLATE", XSS_TEXT, normalized="<b>PLATE</b>")],
            methods=[MethodHit(id="vehicle.cloned_plates", label='<img src=x onerror="window.__pwned=\'method\'">',
                               category="vehicle_crime", confidence=0.7, evidence=hostile_evidence,
                               matched_by="pattern")],
            crime_types=[CrimeType(id="fraud.fraud", label="Fraud", confidence=0.6,
                                   evidence=XSS_TEXT[XSS_TEXT.index("Payment"):], start=XSS_TEXT.index("Payment"),
                                   end=len(XSS_TEXT), matched_by="pattern:en")],
            locations=[Location(name=XSS_PLACE, country_code="GB", lat=51.5, lon=0.05, mention="docks")],
            relevance=0.6,
        ),
    ]


@dataclass
class LiveServer:
    """The running app: its base URL and the keys the tests log in with."""

    url: str
    settings: Settings
    store: ControlStore
    analyst_key: str
    partner_key: str
    documents: list[Document]
    index: Any  # the server's TantivyIndex (tests that index more documents remove them again)

    def doc(self, title_start: str) -> Document:
        return next(d for d in self.documents if d.title.startswith(title_start))


def _write_capture(settings: Settings, body: bytes) -> Capture:
    """A real one-record WARC file under the data dir, as the spiders would have written it."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    settings.warc_dir.mkdir(parents=True, exist_ok=True)
    path = settings.warc_dir / "ui-test.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record("https://news.example/county-lines-arrests", "response",
                                           payload=BytesIO(body), http_headers=headers)
        writer.write_record(record)
        record_id = record.rec_headers.get_header("WARC-Record-ID")
    return Capture(warc_file=str(path.relative_to(settings.data_dir)), record_id=record_id,
                   sha256=hashlib.sha256(body).hexdigest(), http_status=200, content_type="text/html",
                   fetched_url="https://news.example/county-lines-arrests")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from indexer.tantivy_index import TantivyIndex

    data = tmp_path_factory.mktemp("ui-data")
    # A generous rate limit: one key drives every page of every test.
    settings = load_settings(env={}, overrides={"data_dir": str(data), "api.rate_limit_burst": 10_000})
    store = ControlStore(settings.store_path)
    capture = _write_capture(settings, b"<html><body>County lines gang jailed</body></html>")
    docs = _documents(capture)
    for doc in docs:
        store.add_collected(doc, content_sha256=hashlib.sha256(doc.text.encode()).hexdigest())
    index = TantivyIndex(settings.index_dir, writer_heap_bytes=20_000_000, max_page_size=50)
    index.upsert(docs)
    _, analyst = apikeys.create_key(store, role="analyst", name="Ana Lyst")
    _, partner = apikeys.create_key(store, role="partner", name="Partner Agency")

    app = create_app(settings, index=index, store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="ui-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, store, analyst, partner, docs, index)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        index.close()
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `apt-get install -y chromium` (make test installs it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    # Nothing may leave loopback: any other host is refused and recorded.
    ctx.off_loopback = []  # type: ignore[attr-defined]

    def guard(route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith(live_server.url) or request.url.startswith("data:"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            ctx.off_loopback.append(request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    ctx.route("**/*", guard)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page that records dialogs (any dialog means injected script ran) and console errors."""
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]

    def on_dialog(dialog: Dialog) -> None:
        pg.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    # Console errors include CSP violations and failed module loads: the happy paths have none.
    pg.console_errors = []  # type: ignore[attr-defined]
    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            pg.console_errors.append(msg.text)  # type: ignore[attr-defined]

    def on_page_error(error: Error) -> None:
        pg.console_errors.append(str(error))  # type: ignore[attr-defined]

    pg.on("console", on_console)
    pg.on("pageerror", on_page_error)
    return pg


@pytest.fixture
def analyst_page(page: Page, context: BrowserContext, live_server: LiveServer) -> Page:
    """A page whose context holds an analyst's session (logged in through the API)."""
    response = context.request.post(f"{live_server.url}/api/session", data={"api_key": live_server.analyst_key})
    assert response.ok, response.text()
    return page


def _wait_ready(page: Page) -> None:
    # A locator wait, not wait_for_function: the page's CSP forbids the eval that one needs.
    page.locator("body[data-ready]").wait_for(state="attached", timeout=15_000)
    assert page.get_attribute("body", "data-ready") == "true", page.text_content("#status")


@pytest.fixture
def wait_ready() -> Callable[[Page], None]:
    """Call with a page to wait until its module has finished its first render."""
    return _wait_ready
