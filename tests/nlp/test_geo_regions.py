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
    locs = by_name(gazetteer.locate("Officials in Harare and Bulawayo said cholera had reached the Midlands."))
    assert locs["Midlands"].country_code == "ZW"
