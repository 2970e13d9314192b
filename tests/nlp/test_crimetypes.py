"""Crime types: the scheme file, labels per text in several languages, crime-free text, evidence,
negation, the principal-crime rule, methods that imply a type, and the enricher wiring."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from osintel.errors import ConfigError
from osintel.records import MethodHit
from osintel.settings import CONFIG_DIR

from nlp.crimetypes import CrimeTypeClassifier
from nlp.methods import split_sentences

SCHEME = CONFIG_DIR / "crimetypes.yaml"
DEV_SET = Path(__file__).resolve().parents[1] / "data" / "crimetypes.jsonl"
GROUPS = {"violence", "sexual", "robbery", "theft", "damage", "drugs", "weapons", "public_order", "society", "fraud"}


@pytest.fixture(scope="module")
def classifier() -> CrimeTypeClassifier:
    return CrimeTypeClassifier.from_file(SCHEME)


def labels(classifier: CrimeTypeClassifier, text: str, lang: str | None = "en") -> set[str]:
    return {c.id for c in classifier.classify_one(text, split_sentences(text), lang)}


# --- the scheme ---------------------------------------------------------------------------------


def test_scheme_has_the_home_office_groups_and_their_subgroups(classifier: CrimeTypeClassifier) -> None:
    assert set(classifier.scheme.groups) == GROUPS
    ids = set(classifier.by_id)
    assert {
        "violence.homicide", "violence.with_injury", "violence.without_injury", "violence.stalking_harassment",
        "violence.unlawful_driving", "violence.modern_slavery", "sexual.rape", "sexual.other", "robbery.personal",
        "robbery.business", "theft.burglary", "theft.vehicle", "theft.from_person", "theft.bicycle",
        "theft.shoplifting", "theft.other", "damage.arson", "damage.criminal_damage", "drugs.trafficking",
        "drugs.possession", "weapons.firearms", "weapons.other", "public_order.disorder",
        "society.money_laundering", "society.immigration", "society.other", "fraud.fraud", "fraud.computer_misuse",
    } == ids
    assert all(set(t.patterns) == {"en", "fr", "es", "de", "it", "nl", "pt"} for t in classifier.types)
    assert len(classifier.digest) == 12


def _example_cases() -> list[tuple[str, str, str]]:
    data = yaml.safe_load(SCHEME.read_text(encoding="utf-8"))
    return [
        (entry["id"], lang, sentence)
        for entry in data["types"]
        for lang, sentences in entry["examples"].items()
        for sentence in sentences
    ]


@pytest.mark.parametrize(("type_id", "lang", "sentence"), _example_cases())
def test_every_example_sentence_is_labelled_with_its_type(
    classifier: CrimeTypeClassifier, type_id: str, lang: str, sentence: str
) -> None:
    text = f"Update. {sentence}"
    found = {c.id: c for c in classifier.classify_one(text, split_sentences(text), lang)}
    assert type_id in found
    assert found[type_id].evidence == sentence


def _counter_cases() -> list[tuple[str, str]]:
    data = yaml.safe_load(SCHEME.read_text(encoding="utf-8"))
    return [(entry["id"], s) for entry in data["types"] for s in entry.get("counter_examples", [])]


@pytest.mark.parametrize(("type_id", "sentence"), _counter_cases())
def test_counter_examples_do_not_get_their_type(classifier: CrimeTypeClassifier, type_id: str, sentence: str) -> None:
    assert type_id not in labels(classifier, sentence, "en")
    assert type_id not in labels(classifier, sentence, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["types"][0].update(id="nogroup.x"), "unknown group"),
        (lambda d: d["types"][0]["patterns"]["en"].append("(unclosed"), "does not compile"),
        (lambda d: d["types"][0].update(supersedes=["violence.nope"]), "supersedes unknown type"),
        (lambda d: d["from_methods"].update(drugs="drugs.nope"), "unknown type"),
        (lambda d: d["types"][1].update(id=d["types"][0]["id"]), "duplicate id"),
        (lambda d: d["types"][0].update(colour="red"), "unknown keys"),
    ],
)
def test_a_broken_scheme_is_a_config_error_naming_the_problem(change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(SCHEME.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ConfigError, match=message):
        CrimeTypeClassifier.from_dict(data)


# --- labels per text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en", "A 31-year-old man was knifed to death in a row over a parking space in Oldham.", {"violence.homicide"}),
        ("en", "Burglars got into the bungalow through a kitchen window and took her late husband's medals.", {"theft.burglary"}),
        ("en", "Detectives seized 3kg of cocaine and charged two men with conspiracy to supply.", {"drugs.trafficking"}),
        ("en", "He was jailed after defrauding his employer of £90,000 with false expense claims.", {"fraud.fraud"}),
        ("en", "Three men were charged with violent disorder after the town centre brawl.", {"public_order.disorder"}),
        ("fr", "Deux hommes ont été interpellés après le braquage d'une bijouterie à Cannes.", {"robbery.business"}),
        ("fr", "Le conducteur, en état d'ivresse, a pris la fuite: un délit de fuite qui a coûté la vie à un cycliste.", {"violence.unlawful_driving"}),
        ("es", "Detenido en Granada por agresión sexual a una menor en un parque.", {"sexual.other"}),
        ("es", "La Policía investiga un incendio intencionado en un bloque de pisos de Vigo.", {"damage.arson"}),
        ("de", "Der 19-Jährige wurde festgenommen, weil er eine Frau vergewaltigt haben soll.", {"sexual.rape"}),
        ("de", "Die Polizei fand bei dem Mann eine Schusswaffe und Munition, die sichergestellt wurden.", {"weapons.firearms"}),
        ("it", "Arrestato dai carabinieri il pusher che spacciava cocaina davanti alla stazione.", {"drugs.trafficking"}),
        ("nl", "De politie heeft twee verdachten van mensensmokkel aangehouden in Vlissingen.", {"society.immigration"}),
        ("pt", "A PSP deteve um suspeito de tráfico de droga no Porto com 200 doses de cocaína.", {"drugs.trafficking"}),
    ],
)
def test_offences_are_labelled_in_each_language(
    classifier: CrimeTypeClassifier, lang: str, text: str, expected: set[str]
) -> None:
    assert labels(classifier, text, lang) == expected


def test_a_document_can_report_several_crime_types(classifier: CrimeTypeClassifier) -> None:
    text = (
        "Officers searched the flat and found heroin wrapped for sale and a loaded revolver. "
        "The 28-year-old was charged with possession with intent to supply and possession of a firearm."
    )
    assert labels(classifier, text) == {"drugs.trafficking", "weapons.firearms"}


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "The keeper's superb save robbed the visitors of a late winner."),
        ("en", "Investors hope the chipmaker's new design will be the killer app for AI."),
        ("en", "The cancer drug trial will recruit 400 patients across Europe."),
        ("en", "Office staff took part in a fire drill before lunch."),
        ("en", "The centre-forward stole the show with a hat-trick on his debut."),
        ("en", "A heavy snowfall is forecast for the Highlands on Saturday."),
        ("en", "MPs voted to approve the budget after a long debate on tax."),
        ("en", "The film follows a detective hunting a murderer through 1920s Berlin."),
        ("fr", "Le vol AF123 pour New York a été retardé de deux heures."),
        ("es", "El Atlético robó el balón y marcó en el último minuto."),
        ("de", "Die Mannschaft hat das Spiel mit 2:0 gewonnen."),
        ("it", "Il Milan ha rubato palla a centrocampo e ha segnato."),
        ("pt", "O Porto roubou a bola e marcou o golo da vitória."),
    ],
)
def test_crime_free_text_gets_no_crime_type(classifier: CrimeTypeClassifier, lang: str, text: str) -> None:
    assert labels(classifier, text, lang) == set()


# --- evidence, guards and rules -------------------------------------------------------------------


def test_evidence_is_the_sentence_that_shows_the_offence(classifier: CrimeTypeClassifier) -> None:
    text = "Police were called to Elm Road at 9pm.\nA woman had been raped in an alleyway. Enquiries continue."
    (found,) = classifier.classify_one(text, split_sentences(text), "en")
    assert found.id == "sexual.rape" and found.label == "Rape"
    assert found.evidence == "A woman had been raped in an alleyway."
    assert text[found.start : found.end] == found.evidence
    assert found.matched_by == "pattern:en" and 0.5 <= found.confidence <= 0.95


def test_a_negation_before_the_offence_word_cancels_it(classifier: CrimeTypeClassifier) -> None:
    assert labels(classifier, "Police said no one was stabbed during the disturbance at the fair.") == set()
    assert labels(classifier, "Police said a man was stabbed during the disturbance at the fair.") == {"violence.with_injury"}
    assert labels(classifier, "Le suspect n'a pas été agressé.", "fr") == set()


def test_an_acquittal_is_still_news_of_that_offence(classifier: CrimeTypeClassifier) -> None:
    assert labels(classifier, "The coach was found not guilty of raping a student.") == {"sexual.rape"}


def test_previous_convictions_are_background_not_the_offence_reported(classifier: CrimeTypeClassifier) -> None:
    text = "He was jailed for dangerous driving. He had previous convictions for burglary and shoplifting."
    assert labels(classifier, text) == {"society.other"}


def test_fiction_gives_no_evidence(classifier: CrimeTypeClassifier) -> None:
    assert labels(classifier, "In the new Netflix series a gang plans the robbery of a casino.") == set()


def test_the_principal_crime_replaces_the_lesser_one(classifier: CrimeTypeClassifier) -> None:
    assert labels(classifier, "A man was stabbed to death in Leeds; the stabbing happened at 2am.") == {"violence.homicide"}
    assert labels(classifier, "Burglars broke into the house and stole a car and jewellery.") == {"theft.burglary"}
    assert labels(classifier, "He was charged with possession with intent to supply and possession of cannabis.") == {
        "drugs.trafficking"
    }


def test_a_criminal_method_implies_its_crime_type(classifier: CrimeTypeClassifier) -> None:
    text = "The line was run from Liverpool into market towns by teenagers."
    method = MethodHit(
        id="drugs.county_lines", label="County lines", category="drugs", confidence=0.7,
        evidence=text, start=0, end=len(text), matched_by="semantic",
    )
    assert classifier.classify_one(text, split_sentences(text), "en") == []
    (found,) = classifier.classify_one(text, split_sentences(text), "en", [method])
    assert (found.id, found.matched_by, found.start, found.end) == ("drugs.trafficking", "method:drugs.county_lines", 0, len(text))
    blocked = method.model_copy(update={"id": "cyber.sextortion", "category": "cyber"})
    assert classifier.classify_one(text, split_sentences(text), "en", [blocked]) == []


def test_english_patterns_alone_run_on_english_text(classifier: CrimeTypeClassifier) -> None:
    # "brand gesticht" is Dutch arson; in an English document it must not be read as Dutch.
    text = "The brand gesticht a new range of trainers."
    assert labels(classifier, text, "en") == set()
    assert labels(classifier, "Er is brand gesticht in een schuur.", "nl") == {"damage.arson"}


def test_classify_batch_keeps_document_order(classifier: CrimeTypeClassifier) -> None:
    texts = ["A shop was ram-raided overnight.", "Sunny spells today.", "He admitted shoplifting."]
    out = classifier.classify([(t, split_sentences(t), "en", ()) for t in texts])
    assert [[c.id for c in labels_] for labels_ in out] == [["theft.burglary"], [], ["theft.shoplifting"]]


# --- the development set is well formed -----------------------------------------------------------


def test_development_set_has_both_splits_crime_free_texts_and_valid_labels(classifier: CrimeTypeClassifier) -> None:
    items = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(items) >= 200
    assert len({i["id"] for i in items}) == len(items)
    assert all(re.fullmatch(r"ct-\d{4}", i["id"]) for i in items)
    assert Counter(i["split"] for i in items).keys() == {"tune", "report"}
    assert sum(1 for i in items if not i["crime_types"]) >= 60
    assert {i["lang"] for i in items} == {"en", "fr", "es", "de", "it", "nl", "pt"}
    assert all(set(i["crime_types"]) <= set(classifier.by_id) for i in items)
    assert all(i["text"].strip() for i in items)


# --- the enricher ---------------------------------------------------------------------------------


def test_the_enricher_attaches_crime_types_and_records_the_scheme_version(make_doc) -> None:  # type: ignore[no-untyped-def]
    from nlp.enricher import Enricher
    from nlp.extractors import ExtractorSet
    from nlp.geo import Gazetteer
    from nlp.langid import LanguageIdentifier
    from nlp.methods import MethodTaxonomy

    classifier = CrimeTypeClassifier.from_file(SCHEME)
    enricher = Enricher(
        language=LanguageIdentifier(), extractors=ExtractorSet(),
        methods=MethodTaxonomy.from_file(CONFIG_DIR / "methods.yaml"), gazetteer=Gazetteer(),
        crimetypes=classifier,
    )
    text = "Police were called to a house in Derby on Sunday. A man has been charged with arson after a fire at his neighbour's home."
    (doc,) = enricher.enrich([make_doc(text)])
    (found,) = doc.crime_types
    assert found.id == "damage.arson"
    assert doc.text[found.start : found.end] == found.evidence == "A man has been charged with arson after a fire at his neighbour's home."
    assert doc.enrichment["crimetypes"] == classifier.digest
    off = Enricher(
        language=enricher.language, extractors=enricher.extractors, methods=enricher.methods,
        gazetteer=enricher.gazetteer,
    )
    (plain,) = off.enrich([make_doc(text)])
    assert plain.crime_types == [] and "crimetypes" not in plain.enrichment


def test_enricher_from_settings_builds_the_classifier_from_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.crimetypes_file == CONFIG_DIR / "crimetypes.yaml"
    assert CrimeTypeClassifier.from_file(settings.crimetypes_file).digest
