"""Golden files: realistic OSINT paragraphs (fictional people) and what must be found in them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osintel.records import Document, SourceRef

FIXTURES = Path(__file__).parent / "fixtures"

ARTICLES = [json.loads(line) for line in (FIXTURES / "articles.jsonl").read_text(encoding="utf-8").splitlines() if line]
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def enriched(enricher):  # type: ignore[no-untyped-def]
    docs = [
        Document(url=f"https://news.example.org/{a['id']}", source=SourceRef(id="golden", grading=a["grading"]),
                 title=a["title"], text=a["text"])
        for a in ARTICLES
    ]
    return {a["id"]: doc for a, doc in zip(ARTICLES, enricher.enrich(docs))}


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_golden_article(enriched, article_id: str) -> None:  # type: ignore[no-untyped-def]
    doc = enriched[article_id]
    expected = EXPECTED[article_id]
    assert doc.language == expected["language"]
    entities = {(e.label, e.normalized) for e in doc.entities}
    missing = {tuple(pair) for pair in expected["entities"]} - entities
    assert not missing, f"entities not found: {missing}"
    methods = {m.id for m in doc.methods}
    assert set(expected["methods"]) <= methods, f"methods: got {sorted(methods)}"
    locations = {(loc.name, loc.country_code) for loc in doc.locations}
    missing_locations = {tuple(pair) for pair in expected["locations"]} - locations
    assert not missing_locations, f"locations not found: {missing_locations}; got {sorted(locations)}"
    for hit in doc.methods:
        assert doc.text[hit.start : hit.end] == hit.evidence
    assert doc.relevance > 0.3
