"""Gazetteer geocoding and disambiguation."""

from __future__ import annotations

import pytest


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
