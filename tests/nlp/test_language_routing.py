"""Which language a document is read in, and which NER pipeline reads it (issue 11, findings 1, 7).

A supplied language is honoured; an unsure detection falls back to what the platform or the source
declares; an undetermined language never means "no entities"; German, Spanish, Dutch, Portuguese
and Italian get real NER.
"""

from __future__ import annotations

import io
import json

from osintel.records import Document, SourceRef

# Written for these tests: one short news item per language, each with a person, an
# organisation and a place.
NEWS = {
    "en": "Detectives from Merseyside Police arrested Daniel Hughes in Liverpool on Tuesday.",
    "fr": "Le juge Pierre Martin a confié l'enquête à l'Office anti-stupéfiants à Marseille.",
    "de": "Die Staatsanwaltschaft Köln hat Anklage gegen Thomas Becker wegen Kokainhandels erhoben.",
    "es": "La Guardia Civil detuvo en Sevilla a Manuel García, acusado de blanquear dinero del narcotráfico.",
    "nl": "Het Openbaar Ministerie in Rotterdam heeft Jan de Vries vervolgd voor de smokkel van cocaïne.",
    "pt": "A Polícia Judiciária deteve em Lisboa o empresário João Silva por tráfico de droga.",
    "it": "La Guardia di Finanza ha arrestato a Napoli l'imprenditore Marco Russo per riciclaggio.",
}


def _doc(text: str, **fields: object) -> Document:
    source = fields.pop("source", SourceRef(id="test", name="Test"))
    return Document(url=f"https://example.org/{abs(hash(text))}", source=source, text=text, **fields)  # type: ignore[arg-type]


def test_a_supplied_language_is_honoured_and_kept_on_re_enrichment(enricher) -> None:  # type: ignore[no-untyped-def]
    # A football result: detection alone reads it as another language (or none at all).
    text = "Real Betis 2 Osasuna 0: goles de Isco y Vitor Roque."
    [out] = enricher.enrich([_doc(text, language="es")])
    assert out.language == "es" and out.enrichment["language_from"] == "supplied"
    assert out.enrichment.get("spacy_es", "").startswith("osintel_es")
    [again] = enricher.enrich([out])  # osintel reprocess re-enriches the stored record
    assert again.language == "es" and again.enrichment["language_from"] == "supplied"


def test_a_detected_language_is_detected_again_on_re_enrichment(enricher) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([_doc(NEWS["de"])])
    assert out.enrichment["language_from"] == "detected"
    stale = out.model_copy(update={"language": "fr"})  # e.g. detected by an older identifier
    [again] = enricher.enrich([stale])
    assert again.language == "de"


def test_unsure_detection_falls_back_to_the_sources_language(enricher) -> None:  # type: ignore[no-untyped-def]
    source = SourceRef(id="nl-desk", name="NL desk", language="nl")
    [out] = enricher.enrich([_doc("Marco Borsato", source=source)])  # a bare name: no language in it
    assert out.language == "nl" and out.enrichment["language_from"] == "source"
    [sure] = enricher.enrich([_doc(NEWS["en"], source=source)])
    assert sure.language == "en"  # a confident detection is not overruled by the source


def test_an_undetermined_language_still_gets_entities(enricher) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([_doc("Cody Rhodes")])
    assert {"Cody Rhodes"} <= {e.text for e in out.entities if e.label == "PERSON"}


def test_every_language_gets_persons_organisations_and_places(enricher) -> None:  # type: ignore[no-untyped-def]
    docs = enricher.enrich([_doc(text) for text in NEWS.values()])
    for (lang, text), out in zip(NEWS.items(), docs):
        assert out.language == lang, (lang, out.language)
        labels = {e.label for e in out.entities if e.extractor.startswith("spacy:")}
        assert "PERSON" in labels, (lang, out.entities)
        assert labels & {"LOC", "GPE"} or out.locations, (lang, out.entities)
        assert any(e.label == "ORG" for e in out.entities), (lang, out.entities)


def test_italian_is_read_by_the_multilingual_fallback(enricher) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([_doc(NEWS["it"])])
    assert out.language == "it"
    assert any(e.extractor == "spacy:osintel_xx" and e.text == "Marco Russo" for e in out.entities), out.entities
    assert "spacy_xx" in out.enrichment


def test_enrich_cli_gives_entities_in_seven_languages(settings, enricher) -> None:  # type: ignore[no-untyped-def]
    from osintel.service.enrich_stream import enrich_jsonl

    lines = "".join(json.dumps({"id": lang, "text": text}) + "\n" for lang, text in NEWS.items())
    sink = io.StringIO()
    report = enrich_jsonl(settings, io.BytesIO(lines.encode()), sink, enricher=enricher)
    assert report.written == 7 and report.failed == 0
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    for record in out:
        people = [e for e in record["entities"] if e["label"] == "PERSON"]
        assert people, record["id"]
