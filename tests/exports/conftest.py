"""A small graded corpus in a real control store and tantivy index, shared by the export tests.

One document is handling code C (conditions): its marker values (the word ``conditional``,
wallet ``bc1qconditional...``) must never surface in a partner's output.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from osintel.records import Capture, CrimeType, Document, Entity, Location, MethodHit, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore

#: Appears only in the handling-code C document.
C_MARKER = "condmarker"
C_WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def _entity(text: str, label: str, normalized: str | None = None) -> Entity:
    return Entity(text=text, label=label, start=0, end=len(text), normalized=normalized, extractor="test")


def _method(mid: str, category: str, evidence: str) -> MethodHit:
    return MethodHit(id=mid, label=mid.split(".")[-1].replace("_", " "), category=category,
                     confidence=0.9, evidence=evidence, matched_by="pattern")


def _crime(type_id: str, label: str, evidence: str) -> CrimeType:
    return CrimeType(id=type_id, label=label, confidence=0.8, evidence=evidence, matched_by="pattern:en")


def _when(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=timezone.utc)


def make_documents() -> list[Document]:
    """Five P documents covering every exported field, and one C document."""
    news = SourceRef(id="north-news", name="North News", kind="feed", grading="1BP")
    forum = SourceRef(id="darkforum", name="Forum", kind="web", grading="3DP")
    social = SourceRef(id="mastodon-uk", name="Mastodon UK", kind="mastodon", platform="mastodon")
    docs = [
        Document(
            url="https://news.example/county-lines", source=news,
            title="County lines gang jailed", language="en",
            text="Liverpool gang ran the 'Bravo' line on 07700 900123; see https://evil.example/shop.",
            published_at=_when(2026, 3, 10), collected_at=_when(2026, 3, 11),
            entities=[
                _entity("07700 900123", "PHONE", "+447700900123"),
                _entity("https://evil.example/shop", "URL"),
                _entity("evil.example", "DOMAIN"),
                _entity("Merseyside Police", "ORG"),
            ],
            methods=[_method("drugs.county_lines", "drugs", "ran the 'Bravo' line")],
            crime_types=[_crime("drugs.trafficking", "Drug trafficking", "ran the 'Bravo' line"),
                         _crime("weapons.other", "Knives and other weapons", "a machete was found")],
            locations=[Location(name="Liverpool", country_code="GB", lat=53.41, lon=-2.98,
                                geonames_id=2644210, mention="Liverpool")],
            relevance=0.9, capture=Capture(sha256="a" * 64, http_status=200),
        ),
        Document(
            url="https://forum.example/t/1", source=forum, language="en",
            title='=HYPERLINK("http://x.example","click") plates',
            text="Cloned plate AB12 CDE, pay bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh <script>alert(1)</script> "
                 "mail vendor@example.org or 0x52908400098527886E0F7030069857D2E4169EE7, IP 203.0.113.9",
            published_at=_when(2026, 3, 12), collected_at=_when(2026, 3, 12, 13),
            entities=[
                _entity("AB12 CDE", "VEHICLE_PLATE", "AB12CDE"),
                _entity("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", "BTC_ADDRESS"),
                _entity("0x52908400098527886E0F7030069857D2E4169EE7", "ETH_ADDRESS",
                        "0x52908400098527886e0f7030069857d2e4169ee7"),
                _entity("vendor@example.org", "EMAIL"),
                _entity("203.0.113.9", "IP_ADDRESS"),
                _entity("@shadyseller", "HANDLE"),
            ],
            methods=[_method("vehicle.cloned_plates", "vehicle_crime", "Cloned plate")],
            crime_types=[_crime("fraud.fraud", "Fraud", "Cloned plate AB12 CDE")],
            relevance=0.6,
        ),
        Document(
            url="https://mastodon.example/@port/1", source=social, language="en", title="",
            text="Cocaine in banana containers via Rotterdam, vessel IMO 9321483, pay NL91ABNA0417164300.",
            published_at=_when(2026, 3, 14), collected_at=_when(2026, 3, 14, 13),
            entities=[_entity("IMO 9321483", "IMO", "9321483"), _entity("NL91ABNA0417164300", "IBAN")],
            methods=[_method("drugs.maritime_smuggling", "drugs", "banana containers")],
            locations=[Location(name="Rotterdam", country_code="NL", lat=51.92, lon=4.48, mention="Rotterdam"),
                       Location(name="Netherlands", country_code="NL", mention="NL")],
            relevance=0.75, grading="2BP",
        ),
        Document(
            url="https://news.example/fr/traite", source=news, language="fr",
            title="Réseau de traite démantelé à Marseille",
            text="La police a démantelé un réseau de traite à Marseille.",
            published_at=_when(2026, 3, 16), collected_at=_when(2026, 3, 16, 9),
            methods=[_method("trafficking.human", "trafficking", "réseau de traite")],
            locations=[Location(name="Marseille", country_code="FR", lat=43.30, lon=5.37, mention="Marseille")],
            relevance=0.4,
        ),
        Document(
            url="https://news.example/county-lines-2", source=news, language="en",
            title="Second county lines trial", text="Another county lines trial opened in Leeds.",
            published_at=_when(2026, 3, 18), collected_at=_when(2026, 3, 18, 8),
            methods=[_method("drugs.county_lines", "drugs", "county lines trial")],
            relevance=0.5,
        ),
        Document(
            url="https://forum.example/t/secret", source=forum, language="en",
            title=f"County lines {C_MARKER} informant thread",
            text=f"county lines {C_MARKER}: pay {C_WALLET} for the list.",
            published_at=_when(2026, 3, 13), collected_at=_when(2026, 3, 13, 10),
            entities=[_entity(C_WALLET, "BTC_ADDRESS")],
            methods=[_method("drugs.county_lines", "drugs", "county lines")],
            relevance=0.8, grading="2CC",
        ),
    ]
    return docs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, overrides={"data_dir": str(tmp_path / "data"), "index.writer_heap_bytes": 20_000_000})


@pytest.fixture
def corpus(settings: Settings) -> Iterator[tuple[ControlStore, object, list[Document]]]:
    """(store, index, documents): every document stored, marked enriched and indexed."""
    from indexer import open_index

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = ControlStore(settings.store_path)
    index = open_index(settings)
    docs = make_documents()
    for doc in docs:
        store.add_collected(doc, content_sha256=doc.id * 2)
        store.save_documents([doc])  # sets enriched_at: the order TAXII's date_added follows
        time.sleep(0.002)  # distinct enriched_at times, so added_after can split between any two
    index.upsert(docs)
    index.close()  # release the writer lock: the CLI under test opens the index itself
    index = open_index(settings)
    try:
        yield store, index, docs
    finally:
        index.close()
        store.close()
