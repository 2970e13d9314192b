"""Fixtures for the index contract suite.

``index_factory`` is parametrised over backends, so every contract test runs unchanged on:

- ``tantivy``: the embedded index in a temporary directory;
- ``elasticsearch``: :class:`~indexer.elastic.ElasticIndex` on ``osmem-server`` (an in-memory
  engine speaking the OpenSearch/Elasticsearch REST API) started once per session on
  127.0.0.1, behind the header-normalising proxy of ``esproxy.py``; each test gets its own
  index prefix;
- ``elasticsearch_live`` (only with ``-m elasticsearch_live``): a real cluster at
  ``OSINTEL_ES_URL`` (plus the other ``OSINTEL_ELASTICSEARCH_*`` settings).
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest

from indexer.base import Index
from osintel.records import Capture, CrimeType, Document, Entity, Location, MethodHit, SourceRef

IndexFactory = Callable[[], Index]
LIVE_MARK = "elasticsearch_live"


def load_esproxy() -> ModuleType:
    """``tests/indexer/esproxy.py`` (tests are not a package here: load it by path)."""
    if "osintel_test_esproxy" not in sys.modules:
        spec = importlib.util.spec_from_file_location("osintel_test_esproxy", Path(__file__).with_name("esproxy.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["osintel_test_esproxy"] = module
        spec.loader.exec_module(module)
    return sys.modules["osintel_test_esproxy"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live-cluster tests run only when asked for with ``-m elasticsearch_live``."""
    if LIVE_MARK in (config.getoption("markexpr") or ""):
        return
    keep = [item for item in items if item.get_closest_marker(LIVE_MARK) is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker(LIVE_MARK)])
        items[:] = keep


@pytest.fixture(scope="session")
def osmem() -> Iterator[Any]:
    """One ``osmem-server`` process for the session (exits with the test process)."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    yield server
    server.close()


@pytest.fixture(scope="session")
def es_url(osmem: Any) -> Iterator[str]:
    """URL of a proxy in front of ``osmem`` that the Elasticsearch 9 client accepts."""
    proxy = load_esproxy().EsProxy(osmem.url).start()
    yield proxy.url
    proxy.stop()


@pytest.fixture
def own_proxy(osmem: Any) -> Iterator[Any]:
    """A proxy of this test's own in front of ``osmem``: stop and start it to cut the cluster off."""
    proxy = load_esproxy().EsProxy(osmem.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def es_prefix(es_url: str) -> Iterator[str]:
    """A fresh index prefix on ``osmem``, dropped after the test."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield prefix
    drop_prefix(es_url, prefix)


def elastic_options(url: str, prefix: str, **extra: Any) -> Any:
    from indexer.elastic import ElasticOptions

    return ElasticOptions(urls=(url,), index_prefix=prefix, request_timeout=10.0, **extra)


def drop_prefix(url: str, prefix: str, **client_kwargs: Any) -> None:
    """Delete every index and the template a test created under ``prefix``."""
    from elasticsearch import Elasticsearch

    with Elasticsearch(url, **client_kwargs) as client:
        client.options(ignore_status=404).indices.delete(index=f"{prefix}-documents-v*")
        client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-documents")


def _tantivy_factory(path: Path) -> IndexFactory:
    from indexer.tantivy_index import TantivyIndex

    return lambda: TantivyIndex(path, writer_heap_bytes=20_000_000, max_page_size=50)


def _elastic_factory(options: Any) -> IndexFactory:
    from indexer.elastic import ElasticIndex

    return lambda: ElasticIndex(options, max_page_size=50)


def _live_options(prefix: str) -> Any:
    from indexer.elastic import options_from_settings
    from osintel.settings import load_settings

    settings = load_settings()
    if settings.elasticsearch.urls == load_settings(env={}).elasticsearch.urls:
        pytest.fail("-m elasticsearch_live needs OSINTEL_ES_URL (or OSINTEL_ELASTICSEARCH_URLS) set to the cluster")
    return options_from_settings(settings, index_prefix=prefix)


@pytest.fixture(
    params=["tantivy", "elasticsearch", pytest.param("elasticsearch_live", marks=pytest.mark.elasticsearch_live)]
)
def index_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexFactory]:
    """Opens the backend under test on the same storage each time it is called."""
    opened: list[Index] = []
    prefix = f"t{uuid.uuid4().hex[:12]}"
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "tantivy":
        base = _tantivy_factory(tmp_path / "index")
    elif request.param == "elasticsearch":
        url = request.getfixturevalue("es_url")
        base = _elastic_factory(elastic_options(url, prefix))
        cleanup = lambda: drop_prefix(url, prefix)  # noqa: E731
    else:
        options = _live_options(prefix)
        base = _elastic_factory(options)

        def cleanup() -> None:
            from indexer.elastic import ElasticIndex

            with ElasticIndex(options, create=False) as index:
                index.client.options(ignore_status=404).indices.delete(index=f"{prefix}-documents-v*")
                index.client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-documents")

    def factory() -> Index:
        index = base()
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()
    cleanup()


@pytest.fixture
def index(index_factory: IndexFactory) -> Index:
    return index_factory()


def _entity(text: str, label: str, start: int = 0, normalized: str | None = None) -> Entity:
    return Entity(
        text=text, label=label, start=start, end=start + len(text), normalized=normalized,
        extractor="test",
    )


def _method(mid: str, category: str, evidence: str) -> MethodHit:
    return MethodHit(
        id=mid, label=mid.split(".")[-1].replace("_", " "), category=category, confidence=0.9,
        evidence=evidence, matched_by="pattern",
    )


def _crime(type_id: str, evidence: str) -> CrimeType:
    return CrimeType(id=type_id, label=type_id.split(".")[-1].replace("_", " "), confidence=0.8,
                     evidence=evidence, matched_by="pattern:en")


def _when(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=timezone.utc)


@pytest.fixture
def documents() -> list[Document]:
    """Five realistic records covering every indexed field."""
    news = SourceRef(id="bbc-news", name="BBC News", kind="feed", grading="1BP")
    forum = SourceRef(id="darkforum", name="Forum", kind="web", grading="3DC")
    social = SourceRef(id="mastodon-uk", name="Mastodon", kind="social", platform="mastodon")
    return [
        Document(
            url="https://news.example/county-lines-arrests",
            source=news,
            title="County lines gang jailed after Merseyside raids",
            text=(
                "Police in Liverpool jailed five members of a county lines gang who ran a drugs "
                "line called 'Bravo' using the phone 07700 900123. Officers seized cocaine and "
                "heroin worth £40,000."
            ),
            author="Jane Reporter",
            published_at=_when(2024, 3, 10),
            collected_at=_when(2024, 3, 11),
            language="en",
            entities=[
                _entity("Liverpool", "GPE", 10),
                _entity("07700 900123", "PHONE", 120, normalized="+447700900123"),
                _entity("Merseyside Police", "ORG", 0),
            ],
            methods=[_method("drugs.county_lines", "drugs", "county lines gang")],
            crime_types=[_crime("drugs.trafficking", "Officers seized cocaine")],
            locations=[Location(name="Liverpool", country_code="GB", mention="Liverpool")],
            relevance=0.9,
            capture=Capture(sha256="a" * 64, http_status=200),
        ),
        Document(
            url="https://forum.example/t/123",
            source=forum,
            title="Selling clean plates",
            text=(
                "Cloned plate AB12 CDE available, pay to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh "
                "<script>alert(1)</script> contact vendor@example.onion"
            ),
            author_handle="@shadyseller",
            published_at=_when(2025, 1, 5),
            collected_at=_when(2025, 1, 6),
            language="en",
            entities=[
                _entity("AB12 CDE", "VEHICLE_PLATE", 13, normalized="AB12CDE"),
                _entity("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", "BTC_ADDRESS", 40),
                _entity("vendor@example.onion", "EMAIL", 100),
            ],
            methods=[_method("vehicle.cloned_plates", "vehicle_crime", "Cloned plate")],
            crime_types=[_crime("fraud.fraud", "Cloned plate")],
            relevance=0.6,
        ),
        Document(
            url="https://mastodon.example/@port/1",
            source=social,
            title="",
            text=(
                "New route: cocaine hidden in banana containers via the port of Rotterdam, "
                "vessel IMO 9321483. Transfers to NL91ABNA0417164300."
            ),
            published_at=_when(2024, 11, 20),
            collected_at=_when(2024, 11, 20, 13),
            language="en",
            entities=[
                _entity("IMO 9321483", "IMO", 80, normalized="9321483"),
                _entity("NL91ABNA0417164300", "IBAN", 110),
                _entity("Rotterdam", "GPE", 60),
            ],
            methods=[_method("drugs.maritime_smuggling", "drugs", "hidden in banana containers")],
            crime_types=[_crime("drugs.trafficking", "cocaine hidden"), _crime("society.money_laundering", "Transfers")],
            locations=[Location(name="Rotterdam", country_code="NL", mention="Rotterdam")],
            relevance=0.75,
            grading="2BP",
        ),
        Document(
            url="https://news.example/fr/traite",
            source=news,
            title="Réseau de traite démantelé à Marseille",
            text="La police a démantelé un réseau de traite des êtres humains à Marseille.",
            published_at=_when(2023, 6, 1),
            collected_at=_when(2024, 1, 2),
            language="fr",
            entities=[_entity("Marseille", "GPE", 60)],
            methods=[_method("trafficking.human", "trafficking", "réseau de traite")],
            crime_types=[_crime("violence.modern_slavery", "réseau de traite")],
            locations=[Location(name="Marseille", country_code="FR", mention="Marseille")],
            relevance=0.4,
        ),
        Document(
            url="https://news.example/weather",
            source=news,
            title="Sunny weekend ahead",
            text="Weather forecasters expect a sunny weekend across the country.",
            collected_at=_when(2024, 5, 5),
            language="en",
            relevance=0.0,
        ),
    ]


@pytest.fixture
def loaded(index: Index, documents: list[Document]) -> Index:
    index.upsert(documents)
    return index


class SearchCalls:
    """Counts calls of ``tantivy.Searcher.search`` made by this thread while active.

    A profile hook watches the real searcher, which runs untouched: a wrapper object cannot
    stand in for it, since tantivy's snippet generator accepts only a real ``Searcher``.
    """

    def __init__(self) -> None:
        self.count = 0

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        import tantivy

        if event == "c_call" and getattr(arg, "__qualname__", "") == "Searcher.search":
            if isinstance(getattr(arg, "__self__", None), tantivy.Searcher):
                self.count += 1

    def __enter__(self) -> SearchCalls:
        self.count = 0
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


@pytest.fixture
def search_calls() -> SearchCalls:
    """``with search_calls: ...`` then ``search_calls.count``: engine searches in the block."""
    return SearchCalls()
