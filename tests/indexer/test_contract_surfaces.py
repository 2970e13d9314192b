"""The index contract where analysts meet it: ``osintel search`` and ``GET /api/search``, on every
backend, after the index was filled as an operator fills it (``osintel reindex --to ...``).

Backends: ``embedded`` (tantivy), ``elasticsearch`` (the official client through the
header-normalising proxy in front of osmem-server) and ``opensearch`` (the client straight to
osmem-server with ``distribution = "opensearch"``). The documents are enriched as the NLP stage
leaves them: relevance explanations and model names carry dotted keys
(``method:drugs.container_importation``), and the texts hold wallet addresses and a word longer
than 40 characters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tantivy
from fastapi.testclient import TestClient

from osintel import apikeys
from osintel.records import Document, Entity, MethodHit, SourceRef
from osintel.settings import load_settings
from osintel.store import ControlStore
from search_api.app import create_app

ROOT = Path(__file__).resolve().parents[2]
ETH = "0x52908400098527886E0F7030069857D2E4169EE7"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
UNSEEN_ETH = "0x" + "0" * 40
STATUTE = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz"  # 63 letters
WALLET, BITCOIN, LAW, PLAIN = "wallet", "bitcoin", "law", "plain"
EXPLANATION = {"method:drugs.container_importation": 0.41, "entities:ETH_ADDRESS": 0.2, "grading": -0.05}


def _documents() -> dict[str, Document]:
    source = SourceRef(id="news", name="News desk", kind="feed", grading="2BP")
    container = MethodHit(id="drugs.container_importation", label="Container importation", category="drugs",
                          confidence=0.9, evidence="before the container left Santos", matched_by="pattern")
    wallet_text = f"Importers sent the money to {ETH} wallet before the container left Santos."
    return {
        WALLET: Document(
            url="https://news.example/wallet", source=source, title="Container cocaine paid in ether",
            text=wallet_text, language="en", methods=[container], relevance=0.56,
            entities=[Entity(text=ETH, label="ETH_ADDRESS", start=28, end=70, extractor="test")],
            relevance_explanation=EXPLANATION,
            enrichment={"spacy.en": "en_core_web_md-3.8.0", "language_from": "detected"},
        ),
        BITCOIN: Document(
            url="https://news.example/bitcoin", source=source, title="Bitcoin payments for pistols",
            text=f"Buyers paid {BTC} for the pistols.", language="en", relevance=0.3,
            relevance_explanation={"method:firearms.online_purchase": 0.3}, enrichment={"spacy.en": "x"},
        ),
        LAW: Document(
            url="https://news.example/law", source=source, title=f"{STATUTE} amended",
            text="Parliament amended the labelling law.", language="en", relevance=0.0,
        ),
        PLAIN: Document(
            url="https://news.example/plain", source=source, title="Funds sent to wallet holders",
            text="Cash was sent to wallet holders in Rotterdam; cocaine was seized.", language="en",
            relevance=0.05,
        ),
    }


@dataclass
class Deployment:
    """A data directory whose index (of one backend) was filled by ``osintel reindex``."""

    backend: str
    env: dict[str, str]
    api: TestClient
    headers: dict[str, str]
    docs: dict[str, Document]

    def cli(self, query: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "osintel", "search", query, "--limit", "50", "--json"],
            capture_output=True, text=True, cwd=ROOT, env=self.env, check=False, timeout=120,
        )

    def names(self, ids: list[str]) -> set[str]:
        by_id = {doc.id: name for name, doc in self.docs.items()}
        return {by_id[i] for i in ids}

    def cli_found(self, query: str) -> set[str]:
        done = self.cli(query)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["total"] == len(result["hits"])
        return self.names([hit["id"] for hit in result["hits"]])

    def api_found(self, query: str) -> set[str]:
        response = self.api.get("/api/search", params={"q": query, "limit": 50}, headers=self.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["hits"])
        return self.names([hit["id"] for hit in body["hits"]])

    def found(self, query: str) -> set[str]:
        """The documents both surfaces find (they must agree)."""
        by_api = self.api_found(query)
        assert self.cli_found(query) == by_api, query
        return by_api

    def refused(self, query: str, *, cli: bool = True) -> tuple[int, str]:
        """The API refuses ``query`` with a 400 and a position, and (``cli``) the CLI with exit
        code 2 and one line on stderr. Returns (position, message)."""
        response = self.api.get("/api/search", params={"q": query}, headers=self.headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "bad_query" and isinstance(error["position"], int)
        if not cli:
            return error["position"], error["message"]
        done = self.cli(query)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("osintel: bad query: ") and last.endswith(f"at position {error['position']}")
        return error["position"], error["message"]


@pytest.fixture(scope="module", params=["embedded", "elasticsearch", "opensearch"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    data_dir = tmp_path_factory.mktemp(request.param) / "data"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_INDEX_WRITER_HEAP_BYTES": "20000000",
    }
    prefix = f"t{uuid.uuid4().hex[:12]}"
    url = ""
    if request.param == "elasticsearch":
        url = request.getfixturevalue("es_url")
    elif request.param == "opensearch":
        url = request.getfixturevalue("osmem").url
    if url:
        es_url = request.getfixturevalue("es_url")  # the client without distribution, for clean-up
        env |= {"OSINTEL_INDEX": "elasticsearch", "OSINTEL_ES_URL": url, "OSINTEL_ELASTICSEARCH_INDEX_PREFIX": prefix}
        if request.param == "opensearch":
            env["OSINTEL_ELASTICSEARCH_DISTRIBUTION"] = "opensearch"
    settings = load_settings(env=env, overrides={"api.rate_limit_burst": 10_000, "api.rate_limit_per_second": 1000.0})
    docs = _documents()
    with ControlStore(settings.store_path) as store:
        for doc in docs.values():
            store.add_collected(doc, content_sha256=doc.id)
        store.save_documents(list(docs.values()))
        key = apikeys.create_key(store, role="analyst", name="contract")[1]
    filled = subprocess.run(
        [sys.executable, "-m", "osintel", "reindex", "--to", "embedded" if request.param == "embedded" else "elasticsearch",
         "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=300,
    )
    assert filled.returncode == 0, filled.stderr
    assert json.loads(filled.stdout)["written"] == len(docs)
    try:
        with TestClient(create_app(settings)) as api:
            yield Deployment(request.param, env, api, {"X-API-Key": key}, docs)
    finally:
        if url:
            from elasticsearch import Elasticsearch

            with Elasticsearch(es_url) as client:
                client.options(ignore_status=404).indices.delete(index=f"{prefix}-documents-v*")
                client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-documents")


# --- records come back whole, whatever the engine does to dotted keys ---------------------------


def test_search_returns_records_whose_keys_hold_dots(deployment: Deployment) -> None:
    assert deployment.found("method:drugs.container_importation") == {WALLET}
    assert deployment.found("*") == {WALLET, BITCOIN, LAW, PLAIN}
    hits = json.loads(deployment.cli("method:drugs.container_importation").stdout)["hits"]
    assert hits[0]["relevance_explanation"] == EXPLANATION
    assert hits[0]["enrichment"] == {"spacy.en": "en_core_web_md-3.8.0", "language_from": "detected"}


# --- long words match exactly what they say ---------------------------------------------------


def test_a_wallet_address_written_as_free_text_finds_the_document_that_has_it(deployment: Deployment) -> None:
    assert deployment.found(ETH) == {WALLET}
    assert deployment.found(ETH.lower()) == {WALLET}
    assert deployment.found(BTC) == {BITCOIN}
    assert deployment.found(f"text:{BTC}") == {BITCOIN}


def test_an_unseen_long_word_matches_nothing_rather_than_everything(deployment: Deployment) -> None:
    assert deployment.found(UNSEEN_ETH) == set()
    assert deployment.found(f"cocaine {UNSEEN_ETH}") == set()
    assert deployment.found(f"title:{STATUTE}") == {LAW}
    assert deployment.found(f"title:{STATUTE}x") == set()


def test_a_phrase_keeps_its_long_word(deployment: Deployment) -> None:
    assert deployment.found(f'"sent the money to {ETH} wallet"') == {WALLET}
    # Without the address this phrase would be "sent to wallet", which PLAIN holds.
    assert deployment.found(f'"sent to {UNSEEN_ETH} wallet"') == set()


def test_a_word_longer_than_the_index_holds_is_refused_where_it_stands(deployment: Deployment) -> None:
    position, message = deployment.refused("title:" + "x" * 300)
    assert position == len("title:") and "longer than the 255 bytes" in message
    position, _ = deployment.refused(f'cocaine "sent to {"y" * 256} wallet"')
    assert position == len('cocaine "sent to ')


# --- ranges and other odd input: 400 with a position, never 500 ------------------------------


def test_negative_numeric_range_bounds_are_numbers(deployment: Deployment) -> None:
    assert deployment.found("relevance:[-1 TO 1]") == {WALLET, BITCOIN, LAW, PLAIN}
    assert deployment.found("relevance:[-1 TO 0.1]") == {LAW, PLAIN}
    assert deployment.found('relevance:>="-0.5"') == {WALLET, BITCOIN, LAW, PLAIN}


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("published:[-2026-01-01 TO 2027-01-01]", 11, "ISO date"),
        ("relevance:[0 TO -*]", 16, "needs a number"),
        ("relevance:[nan TO 1]", 11, "finite number"),
        ("published:[* TO 9999-12-31]", 16, "dates must lie between"),
        ('published:"0001-01-01T00:00:00+05:00"', 10, "dates must lie between"),
        ("cocaine~.", 7, "~ takes a number"),
        ("county-lines*", 7, "wildcard ends one word"),
        ("relevance:>=-1", 12, "quote a negative bound"),
    ],
)
def test_bad_query_input_is_a_400_with_its_position(
    deployment: Deployment, query: str, position: int, words: str
) -> None:
    # The CLI's handling is the same for every QueryError: one query of the list goes through it.
    found_at, message = deployment.refused(query, cli=query.startswith("published:[-"))
    assert found_at == position and words in message


# --- an embedded index built by the old analyser asks to be rebuilt ----------------------------


def test_an_embedded_index_of_the_old_analyser_asks_for_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexer.tantivy_schema as schema

    # The schema of the previous version: the same fields, the analyser that dropped long words.
    monkeypatch.setattr(schema, "TEXT_ANALYZER", "osintel_en")
    settings = load_settings(env={"OSINTEL_DATA_DIR": str(tmp_path / "data")})
    settings.index_dir.mkdir(parents=True)
    tantivy.Index(schema.build_schema(), path=str(settings.index_dir))
    done = subprocess.run(
        [sys.executable, "-m", "osintel", "search", "cocaine", "--data-dir", str(settings.data_dir)],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert done.returncode == 1, done.stderr
    assert "different schema" in done.stderr and "osintel reindex --to embedded" in done.stderr
