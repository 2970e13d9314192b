"""First-level regions that only GeoNames names in English, and how much a hand region weighs."""

from __future__ import annotations

import pytest

from nlp.geo import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


def by_name(locations):  # type: ignore[no-untyped-def]
    return {loc.name: loc for loc in locations}


def test_a_province_known_only_by_its_geonames_name_is_a_region(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Drought has spread across Matabeleland South, officials in Bulawayo said."))
    region = locs["Matabeleland South"]
    assert (region.kind, region.country_code) == ("region", "ZW")
    assert -23 < region.lat < -19 and 27 < region.lon < 32  # type: ignore[operator]


def test_a_philippine_region_is_found_by_its_english_name(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Floods displaced thousands of families in Soccsksargen last week."))
    assert locs["Soccsksargen"].country_code == "PH"


def test_direction_words_are_not_regions(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """Ghana's "Eastern Region" must not make every "Eastern ..." a place in Ghana."""
    assert gazetteer.locate("Eastern and Northern delegates met the Western board.") == []


def test_a_part_of_england_does_not_weigh_like_all_of_england(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """With Zimbabwe's cities named, "the Midlands" is the Zimbabwean province."""
    locs = by_name(gazetteer.locate("Officials in Mutare and Bulawayo said cholera had reached the Midlands."))
    assert locs["Midlands"].country_code == "ZW"


def _ent(text: str, name: str, label: str):  # type: ignore[no-untyped-def]
    from osintel.records import Entity

    start = text.index(name)
    return Entity(text=name, label=label, start=start, end=start + len(name), extractor="test")


def test_a_region_the_model_took_for_a_person_is_a_place(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """Nobody is called "North Kivu": a two-word "person" that is only ever a region is the region."""
    text = "Aid convoys reached North Kivu on Monday."
    locs = by_name(gazetteer.locate(text, ner_entities=[_ent(text, "North Kivu", "PERSON")]))
    assert locs["North Kivu"].country_code == "CD"


def test_a_group_label_followed_by_region_is_the_region(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Clinics in the Jalisco region ran out of vaccine."
    locs = by_name(gazetteer.locate(text, ner_entities=[_ent(text, "Jalisco", "NORP")]))
    assert locs["Jalisco"].kind == "region"


def test_a_person_named_like_a_city_still_blocks_it(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Paris Hilton arrived late."
    assert gazetteer.locate(text, ner_entities=[_ent(text, "Paris Hilton", "PERSON")]) == []


def test_a_sentence_opening_function_word_does_not_glue_to_a_place(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """"Four Jalisco ..." opens a sentence; "Four" is not part of a longer name."""
    locs = by_name(gazetteer.locate("The raid was planned for weeks. Four Jalisco state officers were arrested."))
    assert locs["Jalisco"].country_code == "MX"


def test_a_sentence_opening_determiner_still_glues(gazetteer) -> None:  # type: ignore[no-untyped-def]
    assert gazetteer.locate("The Meridian gang sold drugs.") == []


def test_un_subregions_are_macro_regions_not_their_continent(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """"Western Asia" is its own area (countryinfo's UN subregions), not the point of Asia."""
    locs = by_name(gazetteer.locate("Malaria cases rose across Melanesia and Western Asia this year."))
    assert locs["Melanesia"].kind == "continent" and -12 < locs["Melanesia"].lat < -2  # type: ignore[operator]
    assert locs["Western Asia"].kind == "continent" and 35 < locs["Western Asia"].lon < 55  # type: ignore[operator]


def test_a_us_county_is_a_region_of_its_state(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Deputies in Polk County, Iowa, seized two tonnes of fertiliser."))
    county = locs["Polk County"]
    assert (county.kind, county.country_code, county.admin1) == ("region", "US", "IA")


def test_the_state_named_decides_a_county_not_its_size(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """Michigan's Wayne County (Detroit) is thirty times bigger, but the text is about North Carolina."""
    locs = by_name(gazetteer.locate("Wayne County officials in North Carolina closed the river to anglers."))
    assert locs["Wayne County"].admin1 == "NC"


@pytest.mark.parametrize(
    "text",
    [
        "Voters in the state of Chihuahua went to the polls.",
        "Troopers across Chihuahua state set up checkpoints.",
        "The Chihuahua governor resigned on Friday.",
    ],
)
def test_a_text_that_says_state_means_the_region_not_its_namesake_city(gazetteer, text) -> None:  # type: ignore[no-untyped-def]
    assert by_name(gazetteer.locate(text))["Chihuahua"].kind == "region"


def test_a_name_alone_is_still_the_city(gazetteer) -> None:  # type: ignore[no-untyped-def]
    assert by_name(gazetteer.locate("Voters in Chihuahua went to the polls."))["Chihuahua"].kind == "city"


def test_a_big_province_below_the_first_level_is_a_region(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """GeoNames' second level: a Philippine province, a French department."""
    locs = by_name(gazetteer.locate("Army units were sent to Bukidnon; the Morbihan prefect banned fishing."))
    assert (locs["Bukidnon"].kind, locs["Bukidnon"].country_code) == ("region", "PH")
    assert (locs["Morbihan"].kind, locs["Morbihan"].country_code) == ("region", "FR")


def test_the_first_of_two_coordinated_names_sharing_a_last_word_is_a_place(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """"North and South Korea" names North Korea too, at the word "North"."""
    text = "Talks between North and South Korea resumed."
    locs = by_name(gazetteer.locate(text))
    assert locs["North Korea"].country_code == "KP" and locs["North Korea"].start == text.index("North")
    assert locs["South Korea"].country_code == "KR"
