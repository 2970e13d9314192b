"""Geocoding from the document's own evidence: every mention, qualifiers, kinds, no GB lean.

Texts written for these tests (fictional events); none is taken from an evaluation set.
"""

from __future__ import annotations

import pytest

from nlp.geo import Gazetteer
from osintel.records import Entity


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def by_name(locations):  # type: ignore[no-untyped-def]
    return {loc.name: loc for loc in locations}


def gpe(text: str, name: str, nth: int = 0) -> Entity:
    """A spaCy-like GPE span over the ``nth`` occurrence of ``name``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    return Entity(text=name, label="GPE", start=start, end=start + len(name), extractor="test")


# --- every mention, with offsets -----------------------------------------------------------


def test_every_mention_of_a_place_is_listed_with_its_offsets(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Customs officers in Rotterdam found cocaine in a banana shipment. "
        "The container had been loaded in Ecuador. Rotterdam port handles most of the fruit from Ecuador, "
        "and Rotterdam police said more seizures were likely."
    )
    locs = by_name(gazetteer.locate(text))
    rotterdam = locs["Rotterdam"]
    assert [m.start for m in rotterdam.mentions] == [i for i in range(len(text)) if text.startswith("Rotterdam", i)]
    assert all(text[m.start : m.end] == m.text == "Rotterdam" for m in rotterdam.mentions)
    assert (rotterdam.start, rotterdam.end) == (rotterdam.mentions[0].start, rotterdam.mentions[0].end)
    assert len(locs["Ecuador"].mentions) == 2


def test_a_name_resolved_once_resolves_the_same_way_where_spacy_missed_it(gazetteer) -> None:  # type: ignore[no-untyped-def]
    # "Georgia" opens a sentence the scan would not trust on its own; spaCy tagged only the first one.
    text = "Police in Atlanta, Georgia, seized fentanyl pills. Georgia officials said the pills came from Mexico."
    locs = gazetteer.locate(text, ner_entities=[gpe(text, "Atlanta"), gpe(text, "Georgia")])
    georgia = by_name(locs)["Georgia"]
    assert georgia.country_code == "US" and georgia.kind == "region"
    assert [m.start for m in georgia.mentions] == [text.index("Georgia"), text.index("Georgia officials")]


def test_a_persons_name_is_not_a_repeated_mention(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "The van left Jackson, Mississippi, on Friday. Officer Tom Jackson said Jackson police had been told."
    person = Entity(text="Tom Jackson", label="PERSON", start=text.index("Tom"), end=text.index("Tom") + 11,
                    extractor="test")
    ner = [gpe(text, "Jackson"), gpe(text, "Jackson", 2), person]
    jackson = by_name(gazetteer.locate(text, ner_entities=ner))["Jackson"]
    assert jackson.country_code == "US" and jackson.admin1 == "MS"
    assert [m.start for m in jackson.mentions] == [text.index("Jackson"), text.index("Jackson police")]


# --- qualifiers and datelines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place", "country", "admin1"),
    [
        ("Two men from Richmond, Va., were charged with trafficking.", "Richmond", "US", "VA"),
        ("A courier was stopped in London, Ont., with 4 kg of cocaine.", "London", "CA", "08"),
        ("Detectives in Rochester, N.Y., dismantled a pill press.", "Rochester", "US", "NY"),
        ("The warehouse in Perth, WA, held counterfeit tobacco.", "Perth", "AU", None),
        ("Federal agents raided a house in Austin, TX, on Monday.", "Austin", "US", "TX"),
        ("A dealer in Portland, Maine, sold pills made in a garage.", "Portland", "US", "ME"),
    ],
)
def test_ap_style_and_postal_abbreviations_place_the_city(gazetteer, text, place, country, admin1) -> None:  # type: ignore[no-untyped-def]
    loc = by_name(gazetteer.locate(text))[place]
    assert loc.country_code == country
    if admin1:
        assert loc.admin1 == admin1


def test_a_dateline_places_the_story(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "RICHMOND, Va. (AP) — A state trooper found 30 pounds of marijuana in a rental car on Interstate 95."
    loc = by_name(gazetteer.locate(text))["Richmond"]
    assert loc.country_code == "US" and loc.admin1 == "VA"
    assert (loc.start, loc.end) == (0, 8)


def test_athens_georgia_is_in_the_us_and_georgia_alone_in_the_caucasus(gazetteer) -> None:  # type: ignore[no-untyped-def]
    us = by_name(gazetteer.locate("A student in Athens, Georgia, ordered pills on the dark web."))
    assert us["Athens"].country_code == "US" and us["Georgia"].country_code == "US"
    caucasus = by_name(gazetteer.locate(
        "Call-centre fraudsters operated from Tbilisi. Georgia extradited two men to Armenia last year."
    ))
    assert caucasus["Georgia"].country_code == "GE" and caucasus["Georgia"].kind == "country"
    assert abs(caucasus["Georgia"].lat - 42.0) < 1.5 and abs(caucasus["Georgia"].lon - 43.5) < 2.5  # type: ignore[operator]


# --- kinds: continents, long country names, regions of every country --------------------


@pytest.mark.parametrize(
    ("text", "name", "lat", "lon"),
    [
        ("Synthetic opioids are spreading across Asia.", "Asia", 30.0, 90.0),
        ("The cartel ships cocaine from South America to ports in Europe.", "South America", -15.0, -58.0),
        ("Smuggling routes through West Africa have grown.", "West Africa", 13.0, -3.0),
        ("Weapons from the Balkans reach criminal groups in the EU.", "Balkans", 43.0, 20.0),
        ("Money was moved through banks in the Middle East.", "Middle East", 28.0, 44.0),
        ("Yachts crossing the Caribbean carry most of the shipments.", "Caribbean", 18.0, -72.0),
    ],
)
def test_continents_and_macro_regions_are_their_own_kind(gazetteer, text, name, lat, lon) -> None:  # type: ignore[no-untyped-def]
    loc = by_name(gazetteer.locate(text))[name]
    assert loc.kind == "continent" and loc.country_code is None
    assert abs(loc.lat - lat) < 8 and abs(loc.lon - lon) < 12  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Precursor chemicals were exported from the People's Republic of China.", "CN"),
        ("The Republic of Korea coast guard boarded the vessel.", "KR"),
        ("Miners smuggled gold out of the Democratic Republic of the Congo.", "CD"),
        ("Gold from the DRC was sold in Dubai.", "CD"),
        ("Cocoa smugglers crossed from Côte d'Ivoire into Ghana.", "CI"),
        ("The heroin was refined in Burma before shipment.", "MM"),
        ("The US Drug Enforcement Administration joined the inquiry.", "US"),
    ],
)
def test_countries_are_found_by_long_official_and_former_names(gazetteer, text, code) -> None:  # type: ignore[no-untyped-def]
    locs = gazetteer.locate(text)
    assert code in {loc.country_code for loc in locs if loc.kind == "country"}, [(x.name, x.country_code) for x in locs]


@pytest.mark.parametrize(
    ("text", "name", "country"),
    [
        ("Police in Uttar Pradesh arrested 12 people over spurious liquor.", "Uttar Pradesh", "IN"),
        ("Kidnappings rose in Guerrero and Jalisco last year.", "Guerrero", "MX"),
        ("Fake medicines were seized in Guangdong.", "Guangdong", "CN"),
        ("Illegal miners were arrested in Gauteng.", "Gauteng", "ZA"),
        ("Armed gangs attacked villages in Borno.", "Borno", "NG"),
        ("Police in Kerala seized hashish oil.", "Kerala", "IN"),
        ("Timber was smuggled out of Sumatra.", "Sumatra", "ID"),
    ],
)
def test_first_level_regions_and_islands_of_other_countries_are_found(gazetteer, text, name, country) -> None:  # type: ignore[no-untyped-def]
    loc = by_name(gazetteer.locate(text))[name]
    assert loc.country_code == country and loc.kind == "region" and loc.lat is not None


def test_a_country_is_preferred_to_a_small_place_of_the_same_name(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Heroin from Afghanistan passes through Jordan and Lebanon."))
    assert locs["Jordan"].kind == "country" and locs["Lebanon"].country_code == "LB"


# --- no GB lean: the document's own evidence ------------------------------------------------


def test_a_us_story_is_not_placed_in_england(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Deputies in Richmond arrested two men after a traffic stop on Interstate 64. The men told officers "
        "they had driven from Charlotte, North Carolina, and were headed to Baltimore."
    )
    locs = by_name(gazetteer.locate(text))
    assert locs["Richmond"].country_code == "US"
    assert all(loc.country_code == "US" for loc in locs.values())


def test_a_canadian_story_places_london_in_ontario(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Ontario Provincial Police said the drugs were bound for London. Officers in Toronto made two arrests."
    locs = by_name(gazetteer.locate(text))
    assert locs["London"].country_code == "CA"


def test_a_british_story_keeps_birmingham_in_england_by_its_own_evidence(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Officers from West Midlands Police raided a flat in Birmingham and a lock-up in Wolverhampton."
    locs = by_name(gazetteer.locate(text, default_country=None))
    assert locs["Birmingham"].country_code == "GB"
    assert locs["Wolverhampton"].country_code == "GB"


def test_an_australian_story_resolves_perth_and_victoria_in_australia(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Detectives in Perth charged a man over meth posted from Victoria. Police in NSW made a related arrest."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Perth"), gpe(text, "Victoria")]))
    assert locs["Perth"].country_code == "AU"
    assert locs["Victoria"].country_code == "AU" and locs["Victoria"].kind == "region"
    assert locs["New South Wales"].mention == "NSW"


def test_the_sources_country_is_only_a_weak_prior(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "He was arrested in Richmond."
    assert by_name(gazetteer.locate(text))["Richmond"].country_code == "US"
    assert by_name(gazetteer.locate(text, default_country="CA"))["Richmond"].country_code == "CA"
    text = "He was arrested in Richmond after a chase that began in Norfolk, Virginia."
    assert by_name(gazetteer.locate(text, default_country="CA"))["Richmond"].country_code == "US"


def test_a_small_place_is_reported_only_when_the_text_names_its_country(gazetteer) -> None:  # type: ignore[no-untyped-def]
    bare = "Police raided a shed near Mudgee."
    assert gazetteer.locate(bare, ner_entities=[gpe(bare, "Mudgee")]) == []
    text = "Police raided a shed near Mudgee in central west New South Wales."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Mudgee")]))
    assert locs["Mudgee"].country_code == "AU" and locs["Mudgee"].kind == "city"
    assert abs(locs["Mudgee"].lat + 32.6) < 0.5  # type: ignore[operator]


def test_a_list_of_regions_is_not_city_comma_region(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Seizures were reported in Rio Grande do Sul, Santa Catarina and Paraná."
    locs = by_name(gazetteer.locate(text))
    assert locs["Rio Grande do Sul"].kind == "region" and locs["Rio Grande do Sul"].country_code == "BR"


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("Police in Lagos seized 40 kg of cocaine at the airport.", "Lagos", "city"),
        ("Biker gangs in Quebec control the cocaine trade.", "Quebec", "region"),
    ],
)
def test_a_region_named_like_its_big_city_is_said_as_the_city(gazetteer, text, name, kind) -> None:  # type: ignore[no-untyped-def]
    [loc] = [loc for loc in gazetteer.locate(text) if loc.mention == name]
    assert loc.kind == kind


def test_a_big_city_after_the_is_still_a_place(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Doctors at the Karachi hospital treated the poisoned workers."))
    assert locs["Karachi"].country_code == "PK"
    assert gazetteer.locate("Members of the Meridian cartel discussed buying weapons.") == []


def test_a_country_spacy_took_for_a_person_is_still_the_country(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "She fell ill after working in Sierra Leone for a medical charity."
    start = text.index("Sierra Leone")
    person = Entity(text="Sierra Leone", label="PERSON", start=start, end=start + 12, extractor="test")
    assert by_name(gazetteer.locate(text, ner_entities=[person]))["Sierra Leone"].country_code == "SL"


def test_a_village_of_a_few_thousand_people_is_found_when_its_country_is_named(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """GeoNames places down to 1,000 people: "Grindelwald" (3,700) with Switzerland named."""
    text = "Two climbers were rescued above Grindelwald, police in Switzerland said."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Grindelwald")]))
    assert locs["Grindelwald"].country_code == "CH"
    bare = "Two climbers were rescued above Grindelwald."
    assert gazetteer.locate(bare, ner_entities=[gpe(bare, "Grindelwald")]) == []


def test_a_three_letter_city_is_a_place_only_when_the_model_tags_it(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Customs officers in Ulm seized 30 kg of heroin."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Ulm")]))
    assert locs["Ulm"].country_code == "DE"
    assert gazetteer.locate(text) == []


def test_names_the_text_calls_villages_are_places_whatever_the_model_tagged(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """The model often takes a village for an organisation or a person; "the villages of" says."""
    text = "Mudslides cut off the villages of Brienz, Meiringen and Lauterbrunnen in Switzerland."
    person = Entity(text="Meiringen", label="PERSON", start=text.index("Meiringen"),
                    end=text.index("Meiringen") + 9, extractor="test")
    locs = by_name(gazetteer.locate(text, ner_entities=[person]))
    assert {"Brienz", "Meiringen", "Lauterbrunnen"} <= set(locs)
    assert all(locs[n].country_code == "CH" for n in ("Brienz", "Meiringen", "Lauterbrunnen"))


def test_a_village_cue_without_a_known_name_adds_nothing(gazetteer) -> None:  # type: ignore[no-untyped-def]
    assert gazetteer.locate("Officers searched the village of Zzyzxqua.") == []


def test_a_small_town_in_the_region_the_text_names_beats_a_bigger_namesake_abroad(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """Marlow, Oklahoma (4,600 people) against the English Marlow (18,000), in an Oklahoma story."""
    text = "A city official in Marlow said the water tower failed. Oklahoma regulators are investigating."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Marlow"), gpe(text, "Oklahoma")]))
    assert (locs["Marlow"].country_code, locs["Marlow"].admin1) == ("US", "OK")
    bare = "A city official in Marlow said the water tower failed."
    assert by_name(gazetteer.locate(bare, ner_entities=[gpe(bare, "Marlow")]))["Marlow"].country_code == "GB"


def test_a_town_after_the_is_a_place_when_the_text_names_its_region(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """"the Motril harbour" with Andalusia named is the Andalusian town; alone it is not said."""
    text = "Police in Andalusia said the Motril harbour was closed."
    locs = by_name(gazetteer.locate(text, ner_entities=[gpe(text, "Andalusia")]))
    assert locs["Motril"].country_code == "ES"
    bare = "Police said the Motril harbour was closed."
    assert "Motril" not in by_name(gazetteer.locate(bare))


def test_a_region_named_in_a_force_is_listed_once_the_region_is_a_place(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """Every mention is listed: "Cumbria Police" alone reports nothing, but beside "in Cumbria"
    it is a second mention of the county."""
    assert gazetteer.locate("Cumbria Police said two men were charged.") == []
    text = "Cannabis farms were found in Cumbria, Cumbria Police said."
    [loc] = gazetteer.locate(text)
    assert [(m.start, m.end) for m in loc.mentions] == [(29, 36), (38, 45)]
