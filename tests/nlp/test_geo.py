"""Gazetteer geocoding and disambiguation."""

from __future__ import annotations

import pytest

from nlp.geo import Gazetteer


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The gazetteer alone: these tests pass spaCy's spans themselves when they need them."""
    return Gazetteer()


def by_name(locations):  # type: ignore[no-untyped-def]
    return {loc.name: loc for loc in locations}


def test_birmingham_near_west_midlands_is_in_gb(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Officers from the West Midlands raided a house in Birmingham."
    loc = by_name(gazetteer.locate(text))["Birmingham"]
    assert loc.country_code == "GB"
    assert loc.lat == pytest.approx(52.48, abs=0.1) and loc.lon == pytest.approx(-1.90, abs=0.1)
    assert text[loc.start : loc.end] == "Birmingham"


def test_birmingham_in_an_alabama_story_is_in_the_us(gazetteer) -> None:  # type: ignore[no-untyped-def]
    loc = by_name(gazetteer.locate("Police in Birmingham, Alabama, arrested a man."))["Birmingham"]
    assert loc.country_code == "US"


def test_ports_and_foreign_names_resolve(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Les migrants partaient de Dunkerque vers Douvres, puis Holyhead et Tilbury."))
    assert locs["Dunkirk"].country_code == "FR"
    assert locs["Dover"].country_code == "GB"
    assert locs["Holyhead"].lat == pytest.approx(53.31, abs=0.1)
    assert locs["Tilbury"].country_code == "GB"


def test_common_words_and_lower_case_are_not_places(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Police said the deal was nice. March was busy for reading and sale figures. Officers left."
    assert gazetteer.locate(text) == []


def test_each_place_is_reported_once_at_its_first_mention(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Calais police said Calais port was closed."
    [loc] = gazetteer.locate(text)
    assert (loc.name, loc.start) == ("Calais", 0)


def test_countries_are_placed_on_the_map(gazetteer) -> None:
    locs = {loc.name: loc for loc in gazetteer.locate("Firearms were smuggled from Kosovo through Albania to France.")}
    assert set(locs) >= {"Kosovo", "Albania", "France"}
    for loc in locs.values():
        assert loc.lat is not None and loc.lon is not None, loc.name
    assert 40 < locs["France"].lat < 52 and -5 < locs["France"].lon < 9  # type: ignore[operator]
    assert 41 < locs["Kosovo"].lat < 44 and 20 < locs["Kosovo"].lon < 22  # Pristina fallback  # type: ignore[operator]


def test_alternate_names_that_are_common_words_are_not_places(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "According to the latest European Drug Report, cocaine continues to arrive through ports."
    assert [loc.name for loc in gazetteer.locate(text)] == []
    # Short exonyms of major cities still resolve.
    assert by_name(gazetteer.locate("Die Ware wurde von Wien nach Hamburg gebracht."))["Vienna"].country_code == "AT"


def test_sentence_initial_common_words_are_not_places(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Officers searched a flat in Leeds.\n\nMuch of the evidence came from EncroChat."
    assert set(by_name(gazetteer.locate(text))) == {"Leeds"}


def test_german_nouns_after_an_article_are_not_places(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Die Päckchen waren im Boden des Containers versteckt. Die Gruppe handelte im Namen von Banken in Bremen."
    assert set(by_name(gazetteer.locate(text))) == {"Bremen"}


def test_a_name_after_a_determiner_is_part_of_something_else(gazetteer) -> None:  # type: ignore[no-untyped-def]
    assert gazetteer.locate("Members of the Meridian cartel discussed buying weapons.") == []
    locs = gazetteer.locate("Detenido en La Línea de la Concepción un correo con euros ocultos.")
    assert "Concepción" not in {loc.mention for loc in locs}


def test_part_of_a_longer_name_is_not_an_alternate_name_match(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = gazetteer.locate("Cocaine was shipped from Puerto Bolívar to Harwich via Calais.")
    assert {loc.name for loc in locs} == {"Harwich", "Calais"}


def test_people_named_like_places_are_not_places(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Detective Sergeant Jordan Haverlock said the network was dismantled in Leeds. "
        "Jamal Wexford, 40, of Blackpool, was arrested. The judge said Wexford had played a leading role."
    )
    assert set(by_name(gazetteer.locate(text))) == {"Leeds", "Blackpool"}


@pytest.mark.parametrize(
    "text",
    [
        "Anyone with information is asked to call Kent Police.",
        "Anyone with information is asked to call Norfolk Constabulary.",
        "Anyone with information is asked to call Avon and Somerset Police.",
        "Officers searched the Kent Street flats.",
    ],
)
def test_uk_county_names_in_english_text_are_not_foreign_cities(gazetteer, text) -> None:  # type: ignore[no-untyped-def]
    assert [(loc.name, loc.country_code) for loc in gazetteer.locate(text)] == []


def test_uk_counties_are_areas_in_britain(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Detectives in Essex and Surrey seized the drugs."))
    assert {name: loc.country_code for name, loc in locs.items()} == {"Essex": "GB", "Surrey": "GB"}
    assert abs(locs["Surrey"].lat - 51.3) < 0.5 and abs(locs["Surrey"].lon + 0.4) < 0.5


@pytest.mark.parametrize(
    ("text", "place", "country", "area"),
    [
        ("Athens, Georgia, police have arrested a student.", "Athens", "US", "Georgia"),
        ("London, Ontario, police seized gun parts.", "London", "CA", "Ontario"),
        ("The suspect lives in Paris, Texas.", "Paris", "US", "Texas"),
        ("A pensioner from Boston, Lincolnshire, lost money.", "Boston", "GB", "Lincolnshire"),
        ("Valencia, Venezuela, is a hub for forgers.", "Valencia", "VE", "Venezuela"),
        ("Police in Seattle, Washington, charged a man.", "Seattle", "US", "Washington"),
        ("Tbilisi, Georgia, is where the call centre ran.", "Tbilisi", "GE", "Georgia"),
    ],
)
def test_city_comma_region_restricts_the_city(gazetteer, text, place, country, area) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate(text))
    assert locs[place].country_code == country
    assert locs[area].country_code == country
    assert set(locs) == {place, area}


@pytest.mark.parametrize(
    ("text", "name", "country"),
    [
        ("The yacht was intercepted 200 miles west of the Azores.", "Azores", "PT"),
        ("The boat was boarded near the Canary Islands.", "Canary Islands", "ES"),
        ("Migrants were rescued off Lampedusa.", "Lampedusa", "IT"),
        ("The scam hit seniors across Ontario.", "Ontario", "CA"),
        ("Police in Queensland seized the drugs.", "Queensland", "AU"),
    ],
)
def test_regions_and_islands_are_areas(gazetteer, text, name, country) -> None:  # type: ignore[no-untyped-def]
    loc = by_name(gazetteer.locate(text))[name]
    assert loc.country_code == country and loc.lat is not None and loc.lon is not None


def test_other_places_in_the_sentence_pick_the_namesake(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Cocaine was found on a yacht in Lagos marina on the Algarve."))
    assert locs["Lagos"].country_code == "PT" and locs["Algarve"].country_code == "PT"


def test_ambiguous_names_lean_to_the_sources_declared_country(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("A man from Enfield was arrested in Bangor on Tuesday.", default_country="GB"))
    assert locs["Enfield Town"].country_code == "GB"
    assert locs["Bangor"].country_code == "GB"
    # Without the default, the bigger or exact-spelling foreign namesake wins.
    assert by_name(gazetteer.locate("A man from Enfield was arrested.", default_country=None))["Enfield"].country_code == "US"


def test_other_places_in_the_text_outweigh_the_default_country(gazetteer) -> None:  # type: ignore[no-untyped-def]
    text = "Police in Kent, Washington, said the car came from Seattle and Tacoma."
    locs = by_name(gazetteer.locate(text))
    assert locs["Kent"].country_code == "US"


def test_names_written_without_their_special_letters_are_found(gazetteer) -> None:  # type: ignore[no-untyped-def]
    """ł, ø, ı have no Unicode decomposition: "Lodz" must still meet "Łódź", "Tromso" "Tromsø"."""
    locs = by_name(gazetteer.locate("The courier flew from Lodz to Tromso with the parcels."))
    assert locs["Łódź"].country_code == "PL"
    assert locs["Tromsø"].country_code == "NO"


def test_a_name_written_with_a_hyphen_meets_the_same_name_with_a_space(gazetteer) -> None:  # type: ignore[no-untyped-def]
    locs = by_name(gazetteer.locate("Wildfires spread across Samtskhe Javakheti and Shida-Kartli overnight."))
    assert locs["Shida Kartli"].country_code == "GE"
    assert locs["Samtskhe-Javakheti"].country_code == "GE"
