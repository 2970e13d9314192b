"""What the sentence says a name is (issue 11, finding 5): definitions, classifier nouns, last
words, ranks, given names and surnames correct the English model's type and span.

Every text here was written for these tests; each asserts something the bare model gets wrong.
"""

from __future__ import annotations

import pytest

from nlp import entity_cues
from nlp.entities import SpacyNER


@pytest.fixture(scope="module")
def english(enricher) -> SpacyNER:  # type: ignore[no-untyped-def]
    ner = enricher.ner.pipeline("en")
    assert isinstance(ner, SpacyNER)
    return ner


def _ents(ner: SpacyNER, text: str) -> set[tuple[str, str]]:
    [parsed] = list(ner.parse([text]))
    return {(e.text, e.label) for e in parsed.entities}


def test_a_definition_decides_what_a_name_is(english: SpacyNER) -> None:
    # The model reads both as people; "is a village", "a haulage firm" say otherwise.
    assert ("Threlkeld", "GPE") in _ents(english, "Threlkeld is a small village in the north of the county.")
    assert ("Brackwater", "ORG") in _ents(english, "Brackwater, a haulage firm based in Hull, went into administration.")
    assert ("Rusty Lantern", "ORG") in _ents(english, "Rusty Lantern is a folk band from Bristol.")


def test_a_classifier_noun_before_a_name_decides_its_type(english: SpacyNER) -> None:
    assert ("Morning Sparrow", "ORG") in _ents(english, "Police said the band Morning Sparrow had cancelled the tour.")
    assert ("Aldcombe", "GPE") in _ents(english, "He grew up in the village of Aldcombe before moving away.")


def test_a_place_word_at_the_end_makes_a_facility_and_an_award_is_no_organisation(english: SpacyNER) -> None:
    assert ("Hancock Reservoir", "FAC") in _ents(english, "The body was found near Hancock Reservoir on Sunday.")
    found = _ents(english, "The Merrow Valley Awards were cancelled this year.")
    assert not any("Awards" in text for text, _ in found)


def test_ranks_are_not_part_of_a_name_and_are_no_name_alone(english: SpacyNER) -> None:
    assert ("Ann Cole", "PERSON") in _ents(english, "Brigadier General Ann Cole, 54, led the inquiry.")
    found = _ents(english, "The fraud was uncovered by Major General Peter Oduya.")
    assert ("Peter Oduya", "PERSON") in found
    assert not any(text == "Major" for text, _ in found)


def test_a_given_name_or_a_common_surname_makes_a_person(english: SpacyNER) -> None:
    assert ("Nettie Stoner", "PERSON") in _ents(english, "Nettie Stoner gave evidence on the second day.")
    assert ("Whitlock", "PERSON") in _ents(english, "Whitlock eventually served six months of the sentence.")
    # A brand after a determiner stays an organisation.
    assert ("Ring", "ORG") in _ents(english, "Officers seized the Ring doorbell footage.")


def test_no_person_is_a_number_or_a_short_capitalised_code(english: SpacyNER) -> None:
    assert not any(label == "PERSON" for _, label in _ents(english, "He won by KO in the third round."))


def test_descriptions_read_only_the_phrase_after_the_name() -> None:
    import spacy

    nlp = spacy.blank("en")
    doc = nlp("Vendmoor, a caravan park developer at the time, bought the site.")
    assert entity_cues.described_as(doc, doc[0:1]) == "org"  # a developer, not a park
    doc = nlp("Vendmoor bought a caravan park.")
    assert entity_cues.described_as(doc, doc[0:1]) is None


def test_a_name_listed_with_places_is_a_place(english: SpacyNER) -> None:
    found = _ents(english, "The line runs from Hilsea to Portsmouth and east to Bedhampton and Havant .")
    assert ("Bedhampton", "GPE") in found and ("Havant", "GPE") in found


def test_a_capitalised_back_reference_or_a_numbered_vehicle_is_no_organisation(english: SpacyNER) -> None:
    assert not _ents(english, "In 1939 the Institute withdrew funding for the project .")
    assert not _ents(english, "The driver of Train No. 23 failed to stop .")


def test_an_ordinal_before_a_unit_is_part_of_its_name(english: SpacyNER) -> None:
    assert ("65th Air Division", "ORG") in _ents(english, "The 65th Air Division moved to Spain in 1957 .")


def test_a_plural_name_after_the_is_a_team_not_a_person(english: SpacyNER) -> None:
    assert ("Bruins", "ORG") in _ents(english, "He left the Bruins in 1941 .")
    assert ("Vancouver Canucks", "ORG") in _ents(english, "The Bruins lost 4-2 , and the Vancouver Canucks won .")


def test_a_model_designation_opens_a_product_not_an_organisation(english: SpacyNER) -> None:
    assert not _ents(english, "A F-16 Fighting Falcon crashed near the base .")


def test_a_final_initial_keeps_its_full_stop(english: SpacyNER) -> None:
    assert ("William L .", "PERSON") in _ents(english, "The warrant was signed by Colonel William L .")


def test_a_place_split_at_a_connective_is_one_place(english: SpacyNER) -> None:
    assert ("Newcastle upon Tyne", "GPE") in _ents(english, "He is a poker player based in Newcastle upon Tyne .")
    assert ("Frankfurt am Main", "GPE") in _ents(english, "She moved to Frankfurt am Main in 1829 .")


def test_a_town_and_its_country_read_as_one_organisation_are_two_places() -> None:
    import spacy
    from spacy.tokens import Span

    doc = spacy.blank("en")("Alnwick , England , 5 June 1943 .")
    ents = entity_cues.joined_places(doc, [Span(doc, 0, 3, label="ORG")], {"England"}, place_label="GPE")
    assert [(e.text, e.label_) for e in ents] == [("Alnwick", "GPE"), ("England", "GPE")]


def test_a_plural_of_people_is_no_person(english: SpacyNER) -> None:
    assert not _ents(english, "Obstetricians at the hospital refused to operate .")


def test_a_town_and_a_plural_is_a_team_and_a_festival_is_no_place(english: SpacyNER) -> None:
    assert ("Sacramento River Cats", "ORG") in _ents(english, "He began the season with the Sacramento River Cats .")
    assert not _ents(english, "The band played the North Sea Jazz Festival in 2004 .")
    # People keep their names: a surname ending in "s", a surname that is an event word.
    assert ("Jackson Roberts", "PERSON") in _ents(english, "Jackson Roberts was arrested in Leeds .")
    assert ("Doris Day", "PERSON") in _ents(english, "Doris Day sang the song .")
