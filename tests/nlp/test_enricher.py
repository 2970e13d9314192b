"""The Enricher end to end: copies, determinism, versions, spans and relevance."""

from __future__ import annotations

import pytest

from osintel.errors import EnrichmentError

TEXT = (
    "Detectives said Marcus Doyle, 31, was arrested in Birmingham after officers stopped a van, AB12 CDE. "
    "The county lines gang used the deal line 07911 123456 and cuckooed a flat in Walsall. "
    "Payments went to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4."
)


def test_enrich_returns_new_documents_and_never_changes_text(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    doc = make_doc(TEXT, title="Gang jailed")
    [out] = enricher.enrich([doc])
    assert out is not doc
    assert (out.title, out.text, out.id) == (doc.title, doc.text, doc.id)
    assert doc.entities == [] and doc.enrichment == {}  # the input is untouched


def test_enrich_sets_versions(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(TEXT)])
    assert out.enrichment["spacy"] == "en_core_web_md-3.8.0"
    assert out.enrichment["langdetect"] == "1.0.9"
    assert out.enrichment["methods"] == enricher.methods.digest
    assert out.enrichment["enricher"]
    # Birmingham and Walsall: British places, so national phone numbers are read as British.
    assert out.enrichment == {
        **enricher.versions, "language_from": "detected", "phone_region": "GB", "phone_region_from": "places",
    }


def test_national_phone_numbers_are_read_in_the_country_the_page_is_from(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    text = ("Selon le parquet, le réseau prenait les commandes au 06 12 34 56 78 et livrait la cocaïne "
            "dans tout le département. Un témoin a appelé le 020 7946 0018 depuis Londres.")
    [french] = enricher.enrich([make_doc(text, url="https://www.exemple-presse.fr/article")])
    assert [e.normalized for e in french.entities if e.label == "PHONE"] == ["+33612345678", "+442079460018"]
    assert (french.enrichment["phone_region"], french.enrichment["phone_region_from"]) == ("FR", "url")
    # The same text on a .org site: the only place named is London, so the French number (not a
    # British one) is not read at all. The publisher's country outranks the story's places.
    [elsewhere] = enricher.enrich([make_doc(text, url="https://news.example.org/article")])
    assert [e.normalized for e in elsewhere.entities if e.label == "PHONE"] == ["+442079460018"]
    assert (elsewhere.enrichment["phone_region"], elsewhere.enrichment["phone_region_from"]) == ("GB", "places")


def test_enrich_is_deterministic(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    docs = [make_doc(TEXT), make_doc("Les passeurs organisaient des traversées de la Manche depuis Calais.")]
    first = [d.model_dump(exclude={"collected_at"}) for d in enricher.enrich(docs)]
    second = [d.model_dump(exclude={"collected_at"}) for d in enricher.enrich(list(reversed(docs)))]
    assert first == list(reversed(second))


def test_english_document_gets_entities_methods_locations_and_relevance(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(TEXT)])
    assert out.language == "en"
    pairs = {(e.label, e.normalized) for e in out.entities}
    assert {("PHONE", "+447911123456"), ("VEHICLE_PLATE", "AB12CDE"),
            ("BTC_ADDRESS", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")} <= pairs
    assert any(e.label == "PERSON" and e.text == "Marcus Doyle" for e in out.entities)
    for e in out.entities:
        assert out.text[e.start : e.end] == e.text
    assert {m.id for m in out.methods} >= {"drugs.county_lines", "drugs.cuckooing"}
    assert {(loc.name, loc.country_code) for loc in out.locations} >= {("Birmingham", "GB"), ("Walsall", "GB")}
    assert 0.5 < out.relevance < 1.0
    assert sum(out.relevance_explanation.values()) == pytest.approx(out.relevance, abs=0.01)


def test_entities_do_not_overlap(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(TEXT + " Contact @plugz_uk or plug@example.com.")])
    spans = sorted((e.start, e.end) for e in out.entities)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


def test_source_grading_lowers_relevance(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    reliable, unreliable = enricher.enrich([make_doc(TEXT, grading="1AP"), make_doc(TEXT, grading="3DP")])
    assert reliable.relevance > unreliable.relevance
    assert unreliable.relevance_explanation["grading"] < 0


def test_german_document_gets_german_ner_methods_and_places(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(
        "Die Polizei fand in Hamburg eine Cannabisplantage. Der Händler nutzte die Nummer +49 151 23456789."
    )])
    assert out.language == "de"
    assert all(e.extractor == "spacy:osintel_de" for e in out.entities if e.extractor.startswith("spacy"))
    assert out.enrichment["spacy_de"].startswith("osintel_de-")
    assert ("PHONE", "+4915123456789") in {(e.label, e.normalized) for e in out.entities}
    assert [m.id for m in out.methods] == ["drugs.cannabis_cultivation"]
    assert out.methods[0].matched_by == "pattern:de"
    assert "Hamburg" in {loc.name for loc in out.locations}


def test_empty_and_emoji_documents_are_undetermined_and_harmless(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    empty, emoji = enricher.enrich([make_doc(""), make_doc("🔥🔥🔥 https://t.co/x")])
    assert (empty.language, empty.relevance, empty.entities) == ("und", 0.0, [])
    assert emoji.language == "und"


def test_long_text_is_truncated_for_spacy_only(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    filler = "The council met to discuss bins. " * 40
    doc = make_doc(filler + "A cash courier was stopped with 07911 123456 on him.")
    original = enricher.max_text_chars
    enricher.max_text_chars = 200
    try:
        [out] = enricher.enrich([doc])
    finally:
        enricher.max_text_chars = original
    assert out.text == doc.text
    assert "ml.cash_smuggling" in {m.id for m in out.methods}
    assert ("PHONE", "+447911123456") in {(e.label, e.normalized) for e in out.entities}


def test_missing_spacy_model_is_an_enrichment_error() -> None:
    from nlp.entities import SpacyNER

    with pytest.raises(EnrichmentError, match="no_such_model"):
        SpacyNER(model_name="no_such_model")
