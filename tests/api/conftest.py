"""Fixtures for the API tests: a real control store, a real tantivy index, a real WARC capture,
and one API key per role."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from indexer import open_index
from osintel import apikeys
from osintel.records import Capture, CrimeType, Document, Entity, Location, MethodHit, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore
from search_api.app import create_app
from search_api.policy import ROLES

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> cocaine shipment'
CAPTURE_BODY = b"<html><body><script>alert('captured')</script>county lines cocaine</body></html>"


def _when(days: int) -> datetime:
    return datetime(2025, 3, 1, tzinfo=timezone.utc) + timedelta(days=days)


def _ent(text: str, label: str, start: int, normalized: str | None = None) -> Entity:
    return Entity(text=text, label=label, start=start, end=start + len(text), normalized=normalized,
                  extractor="test")


def _write_warc(data_dir: Path) -> Capture:
    """One WARC response record holding CAPTURE_BODY, as the capture middleware writes it."""
    warc_dir = data_dir / "warc"
    warc_dir.mkdir(parents=True, exist_ok=True)
    path = warc_dir / "test-run-1.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        record = writer.create_warc_record("http://example.test/a", "response",
                                           payload=io.BytesIO(CAPTURE_BODY), http_headers=headers)
        writer.write_record(record)
        record_id = record.rec_headers.get_header("WARC-Record-ID")
    return Capture(warc_file="warc/test-run-1.warc.gz", record_id=record_id,
                   sha256=hashlib.sha256(CAPTURE_BODY).hexdigest(), http_status=200, content_type="text/html")


def corpus(capture: Capture) -> list[Document]:
    """Five enriched documents covering the filters, facets, map and hostile content."""
    news = SourceRef(id="news", name="News desk", kind="feed", grading="2BP")
    forum = SourceRef(id="forum", name="Forum", kind="web", grading="3DC")
    london = Location(name="London", country_code="GB", lat=51.5074, lon=-0.1278, geonames_id=2643743,
                      mention="London")
    dover = Location(name="Dover", country_code="GB", lat=51.1279, lon=1.3134, geonames_id=2651048,
                     mention="Dover")
    paris = Location(name="Paris", country_code="FR", lat=48.8566, lon=2.3522, geonames_id=2988507,
                     mention="Paris")
    county = MethodHit(id="drugs.county_lines", label="County lines", category="drugs", confidence=0.9,
                       evidence="County lines gangs move cocaine to Dover.", matched_by="pattern")
    boats = MethodHit(id="oic.small_boat", label="Small boats", category="oic", confidence=0.8,
                      evidence="Small boat crossings left from near Calais.", matched_by="pattern")
    text1 = "County lines gangs move cocaine to Dover. John Smith called 07700 900123 in London."
    supply = CrimeType(id="drugs.trafficking", label="Drug trafficking", confidence=0.8,
                       evidence="County lines gangs move cocaine to Dover.", start=0, end=41, matched_by="pattern:en")
    smuggling = CrimeType(id="society.immigration", label="Immigration offences", confidence=0.6,
                          evidence="Small boat crossings left from near Calais.", start=0, end=43,
                          matched_by="method:oic.small_boat")
    docs = [
        Document(url="http://example.test/a", source=news, title="Cocaine route to Dover", text=text1,
                 published_at=_when(0), language="en", methods=[county], crime_types=[supply],
                 locations=[london, dover],
                 entities=[_ent("John Smith", "PERSON", 42), _ent("07700 900123", "PHONE", 60, "+447700900123")],
                 relevance=0.9, capture=capture, enrichment={"test": "1"}),
        Document(url="http://example.test/b", source=news, title="Small boats near Calais",
                 text="Small boat crossings left from near Calais. John Smith was seen in Paris.",
                 published_at=_when(8), language="en", methods=[boats], crime_types=[smuggling], locations=[paris],
                 entities=[_ent("John Smith", "PERSON", 52)], relevance=0.6, enrichment={"test": "1"}),
        Document(url="http://example.test/c", source=forum, title="Forum chatter about cocaine",
                 text="Cheap cocaine in London, ask for Mary Jones.", published_at=_when(40), language="en",
                 methods=[county],
                 crime_types=[supply.model_copy(update={"evidence": "Cheap cocaine in London, ask for Mary Jones.", "end": 44})],
                 locations=[london], entities=[_ent("Mary Jones", "PERSON", 32)],
                 relevance=0.3, enrichment={"test": "1"}),
        Document(url="http://example.test/d", source=forum, title="Texte en français",
                 text="Trafic de cocaïne à Paris.", published_at=_when(70), language="fr", locations=[paris],
                 relevance=0.1, enrichment={"test": "1"}),
        Document(url="http://example.test/hostile", source=forum, title=HOSTILE, text=HOSTILE,
                 published_at=_when(75), language="en", relevance=0.2, enrichment={"test": "1"}),
    ]
    return docs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Rate limiting stays on, generous enough for the tests; test_rate_limit builds its own app.
    return load_settings(env={}, overrides={"data_dir": str(tmp_path / "data"), "api.rate_limit_burst": 10_000,
                                            "api.rate_limit_per_second": 1000.0})


@pytest.fixture
def store(settings: Settings) -> Iterator[ControlStore]:
    with ControlStore(settings.store_path) as store:
        yield store


@pytest.fixture
def docs(settings: Settings, store: ControlStore) -> list[Document]:
    capture = _write_warc(Path(settings.data_dir))
    documents = corpus(capture)
    for doc in documents:
        store.add_collected(doc, content_sha256=hashlib.sha256(doc.text.encode()).hexdigest())
    store.save_documents(documents)
    return documents


@pytest.fixture
def index(settings: Settings, docs: list[Document]) -> Iterator[Any]:
    index = open_index(settings)
    index.upsert(docs)
    yield index
    index.close()


@pytest.fixture
def keys(store: ControlStore) -> dict[str, str]:
    """role -> API key secret."""
    return {role: apikeys.create_key(store, role=role, name=f"test {role}")[1] for role in ROLES}


@pytest.fixture
def app(settings: Settings, store: ControlStore, index: Any) -> Any:
    return create_app(settings, index=index, store=store)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def as_role(keys: dict[str, str]) -> Any:
    """``as_role("analyst")`` -> the headers that authenticate as that role."""
    return lambda role: {"X-API-Key": keys[role]}


@dataclass
class LiveAPI:
    """The API served by uvicorn on a loopback port, over a store and index holding the corpus."""

    base_url: str
    keys: dict[str, str]
    app: Any
    docs: list[Document]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAPI]:
    data_dir = tmp_path_factory.mktemp("live") / "data"
    live_settings = load_settings(env={}, overrides={
        "data_dir": str(data_dir), "api.rate_limit_burst": 1_000_000, "api.rate_limit_per_second": 100_000.0})
    store = ControlStore(live_settings.store_path)
    documents = corpus(_write_warc(data_dir))
    for doc in documents:
        store.add_collected(doc, content_sha256=hashlib.sha256(doc.text.encode()).hexdigest())
    store.save_documents(documents)
    index = open_index(live_settings)
    index.upsert(documents)
    role_keys = {role: apikeys.create_key(store, role=role, name=f"live {role}")[1] for role in ROLES}
    app = create_app(live_settings, index=index, store=store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield LiveAPI(f"http://127.0.0.1:{port}", role_keys, app, documents)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        index.close()
        store.close()
