"""Contract: geo filters (``near:`` and ``bbox:``), on every backend of ``index_factory``."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from indexer.base import And, GeoBox, GeoDistance, Index, Not, Term
from osintel.errors import QueryError
from osintel.records import Document, Location, SourceRef

SOURCE = SourceRef(id="geo-test", name="Geo test", kind="feed")
WHEN = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)

# name -> (lat, lon)
PLACES = {
    "london": (51.5074, -0.1278),
    "reading": (51.4543, -0.9781),  # ~59 km west of London
    "paris": (48.8566, 2.3522),
    # ~31 km from the centre below, but inside the 25 km circle's bounding box (its NE corner).
    "corner": (51.71, 0.19),
    "fiji": (-17.7134, 178.0650),
    "samoa": (-13.8333, -172.1000),
    "pole": (89.95, 170.0),
    "a": (10.0, 50.0),
    "b": (50.0, 10.0),
}


def _doc(name: str, text: str, *places: str) -> Document:
    return Document(
        url=f"https://geo.example/{name}",
        source=SOURCE,
        title=name,
        text=text,
        published_at=WHEN,
        collected_at=WHEN,
        language="en",
        locations=[
            Location(name=p, lat=PLACES[p][0], lon=PLACES[p][1], mention=p, country_code="XX")
            for p in places
        ],
    )


@pytest.fixture
def geo_docs() -> dict[str, Document]:
    docs = [
        _doc("london", "cocaine seized at a London flat", "london"),
        _doc("reading", "cannabis farm found in Reading", "reading"),
        _doc("paris_and_reading", "route from Paris to Reading", "paris", "reading"),
        _doc("corner", "a village near the circle's corner", "corner"),
        _doc("pacific", "fishing vessels near Fiji and Samoa", "fiji", "samoa"),
        _doc("fiji", "port of Suva", "fiji"),
        _doc("pole", "research station", "pole"),
        _doc("crossed", "one place at 10,50 and one at 50,10", "a", "b"),
        _doc("nowhere", "cocaine without any geocoded place"),
        Document(
            url="https://geo.example/unplaced",
            source=SOURCE,
            title="unplaced",
            text="a location that was never geocoded",
            collected_at=WHEN,
            locations=[Location(name="Somewhere", mention="Somewhere")],
        ),
    ]
    return {doc.title: doc for doc in docs}


@pytest.fixture
def geo_index(index: Index, geo_docs: dict[str, Document]) -> Index:
    index.upsert(list(geo_docs.values()))
    return index


def names(index: Index, query: object, **kwargs: object) -> set[str]:
    result = index.search(query, limit=50, **kwargs)  # type: ignore[arg-type]
    assert result.total == len(result.hits)
    return {hit.document.title for hit in result.hits}


def test_near_finds_documents_within_the_radius(geo_index: Index) -> None:
    assert names(geo_index, 'near:"51.51,-0.13,25km"') == {"london"}
    assert names(geo_index, 'near:"51.51,-0.13,70km"') == {"london", "reading", "paris_and_reading", "corner"}


def test_near_radius_units(geo_index: Index) -> None:
    assert names(geo_index, 'near:"51.51,-0.13,25"') == {"london"}  # no unit means km
    assert names(geo_index, 'near:"51.51,-0.13,2000m"') == {"london"}
    assert names(geo_index, 'near:"51.51,-0.13,40mi"') == {"london", "reading", "paris_and_reading", "corner"}
    assert names(geo_index, 'near:"51.51,-0.13,100m"') == set()


def test_near_is_a_circle_not_its_bounding_box(geo_index: Index) -> None:
    # "corner" is inside the box around the 25 km circle but ~31 km from its centre.
    assert "corner" not in names(geo_index, 'near:"51.51,-0.13,25km"')
    assert "corner" in names(geo_index, 'near:"51.51,-0.13,32km"')


def test_a_document_matches_if_any_of_its_locations_matches(geo_index: Index) -> None:
    assert names(geo_index, 'near:"48.85,2.35,10km"') == {"paris_and_reading"}
    assert names(geo_index, 'near:"51.45,-0.98,5km"') == {"reading", "paris_and_reading"}


def test_bbox_needs_one_location_inside_not_a_mix_of_two(geo_index: Index) -> None:
    # "crossed" has a latitude of 50 (at 50,10) and a longitude of 50 (at 10,50), never together.
    assert names(geo_index, 'bbox:"51,49,49,51"') == set()
    assert names(geo_index, 'bbox:"51,9,49,11"') == {"crossed"}


def test_bbox_edges_are_north_west_south_east(geo_index: Index) -> None:
    assert names(geo_index, 'bbox:"52,-1.5,51,0.5"') == {"london", "reading", "paris_and_reading", "corner"}
    assert names(geo_index, 'bbox:"52,-0.5,51,0.5"') == {"london", "corner"}


def test_bbox_crossing_the_antimeridian(geo_index: Index) -> None:
    assert names(geo_index, 'bbox:"-10,170,-20,-170"') == {"pacific", "fiji"}
    # The same edges the other way round span the rest of the globe instead.
    assert "fiji" not in names(geo_index, 'bbox:"-10,-170,-20,170"')


def test_near_a_pole_reaches_every_longitude(geo_index: Index) -> None:
    assert names(geo_index, 'near:"90,0,50km"') == {"pole"}
    assert names(geo_index, 'near:"89.9,-10,20km"') == {"pole"}


def test_geo_combines_with_text_and_boolean_operators(geo_index: Index) -> None:
    assert names(geo_index, 'cocaine near:"51.51,-0.13,70km"') == {"london"}
    assert names(geo_index, 'cocaine AND NOT near:"51.51,-0.13,70km"') == {"nowhere"}
    assert names(geo_index, 'near:"48.85,2.35,10km" OR bbox:"-10,170,-20,-170"') == {
        "paris_and_reading", "pacific", "fiji",
    }
    assert names(geo_index, 'near:("48.85,2.35,10km" OR "51.51,-0.13,5km")') == {"paris_and_reading", "london"}


def test_a_negated_circle_keeps_the_corners_of_its_box(geo_index: Index) -> None:
    # "corner" lies in the box around the 25 km circle but outside the circle itself.
    ring = 'near:"51.51,-0.13,70km" -near:"51.51,-0.13,25km"'
    assert names(geo_index, ring) == {"reading", "paris_and_reading", "corner"}
    assert names(geo_index, 'NOT near:"51.51,-0.13,25km" AND bbox:"52,-0.5,51,0.5"') == {"corner"}


def test_documents_without_coordinates_never_match_a_geo_filter(geo_index: Index) -> None:
    everything = names(geo_index, 'bbox:"90,-180,-90,180"')
    assert "nowhere" not in everything
    assert "unplaced" not in everything
    assert len(everything) == 8


def test_geo_filters_drive_totals_facets_and_histograms(geo_index: Index) -> None:
    result = geo_index.search('near:"51.51,-0.13,70km"', limit=1, facets=["source"], histogram="day")
    assert result.total == 4
    assert result.facets == {"source": {"geo-test": 4}}
    assert result.histogram == [("2024-06-01", 4)]


def test_parsed_geo_nodes_can_be_passed_directly(geo_index: Index) -> None:
    assert names(geo_index, GeoDistance(51.51, -0.13, 25.0)) == {"london"}
    assert names(geo_index, GeoBox(-10.0, 170.0, -20.0, -170.0)) == {"pacific", "fiji"}
    assert names(geo_index, And((Term("source", "geo-test"), Not(GeoBox(90.0, -180.0, -90.0, 180.0))))) == {
        "nowhere", "unplaced",
    }


def test_out_of_range_geo_nodes_are_refused(geo_index: Index) -> None:
    with pytest.raises(QueryError, match="latitude"):
        geo_index.search(GeoDistance(95.0, 0.0, 10.0))
    with pytest.raises(QueryError, match="radius"):
        geo_index.search(GeoDistance(50.0, 0.0, -1.0))


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ('near:"91,0,10km"', 6, "latitude 91 is outside"),
        ('near:"51.5,-181,10km"', 11, "longitude -181 is outside"),
        ('near:"51.5,0,-5km"', 13, "radius must be greater than 0"),
        ('near:"51.5,0,5ft"', 13, "unit km, m or mi"),
        ('near:"51.5,0"', 6, "needs 3 comma-separated values"),
        ('bbox:"49,0,51,1"', 6, "north .* is below south"),
        ("near:[1 TO 2]", 5, "quoted value"),
    ],
)
def test_malformed_geo_values_are_query_errors_with_a_position(
    geo_index: Index, query: str, position: int, message: str
) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        geo_index.search(query)
    assert caught.value.position == position
