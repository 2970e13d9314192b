"""The analyst query language: text to AST, independent of any backend."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from indexer.base import And, GeoBox, GeoDistance, MatchAll, Not, Or, Phrase, Prefix, Range, Term
from indexer.query import FIELDS, MAX_DEPTH, check_query, normalize_entity_value, parse_query
from indexer.query_geo import bounding_ranges, haversine_km, point_matches
from osintel.errors import QueryError


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=timezone.utc)


def test_adjacent_words_are_anded() -> None:
    assert parse_query("cocaine heroin") == And((Term(None, "cocaine"), Term(None, "heroin")))


def test_boolean_operators_and_prefix_signs() -> None:
    assert parse_query("a OR b") == Or((Term(None, "a"), Term(None, "b")))
    assert parse_query("a AND NOT b") == And((Term(None, "a"), Not(Term(None, "b"))))
    assert parse_query("a -b +c") == And((Term(None, "a"), Not(Term(None, "b")), Term(None, "c")))
    assert parse_query("(a OR b) c") == And((Or((Term(None, "a"), Term(None, "b"))), Term(None, "c")))


def test_nested_operations_of_one_kind_are_flattened() -> None:
    assert parse_query("a AND (b AND c)") == And(tuple(Term(None, x) for x in "abc"))


def test_phrases_keep_their_text_and_slop() -> None:
    assert parse_query('"county lines"') == Phrase(None, "county lines")
    assert parse_query('title:"county lines"~2') == Phrase("title", "county lines", 2)


def test_field_groups_apply_the_field_to_each_clause() -> None:
    assert parse_query('title:(arrest OR "drug raid")') == Or(
        (Term("title", "arrest"), Phrase("title", "drug raid"))
    )


def test_field_names_are_case_insensitive() -> None:
    assert parse_query("Country:gb") == Term("country", "GB")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('phone:"07700 900123"', Term("phone", "+447700900123")),
        ("phone:+447700900123", Term("phone", "+447700900123")),
        ('plate:"ab12 cde"', Term("plate", "AB12CDE")),
        ("iban:nl91abna0417164300", Term("iban", "NL91ABNA0417164300")),
        ("email:Bob@Example.COM", Term("email", "bob@example.com")),
        ("source:BBC-News", Term("source", "bbc-news")),
        ("label:phone", Term("label", "PHONE")),
        ("grading:2bp", Term("grading", "2BP")),
        ('place:"New York"', Term("place", "new york")),
    ],
)
def test_values_are_normalised_in_the_ast(query: str, expected: Term) -> None:
    assert parse_query(query) == expected


def test_phone_region_is_configurable() -> None:
    assert parse_query('phone:"(202) 555-0143"', phone_region="US") == Term("phone", "+12025550143")


def test_phone_normalisation_falls_back_to_digits() -> None:
    assert normalize_entity_value("PHONE", "12-34") == "1234"


def test_trailing_wildcard_is_a_prefix() -> None:
    assert parse_query("method:drugs.*") == Prefix("method", "drugs.")
    assert parse_query("cocai*") == Prefix(None, "cocai")
    assert parse_query("method:*") == Prefix("method", "")


def test_escaped_star_is_literal() -> None:
    assert parse_query(r"handle:a\*") == Term("handle", "a*")


def test_date_range_with_date_only_bounds_covers_whole_days() -> None:
    assert parse_query("published:[2024-01-01 TO 2024-12-31]") == Range(
        "published", utc(2024, 1, 1), utc(2025, 1, 1), True, False
    )
    assert parse_query("published:{2024-01-01 TO 2024-12-31}") == Range(
        "published", utc(2024, 1, 2), utc(2024, 12, 31), True, False
    )


def test_open_ended_and_comparison_ranges() -> None:
    assert parse_query("published:>=2025-01-01") == Range("published", utc(2025, 1, 1), None)
    assert parse_query('collected:[* TO "2024-06-30T12:00:00+02:00"]') == Range(
        "collected", None, utc(2024, 6, 30, 10), True, True
    )
    assert parse_query("relevance:[0.5 TO *]") == Range("relevance", 0.5, None)
    assert parse_query("relevance:>0.5") == Range("relevance", 0.5, None, False, True)


def test_negative_range_bounds_are_numbers() -> None:
    assert parse_query("relevance:[-1 TO 1]") == Range("relevance", -1.0, 1.0)
    assert parse_query('relevance:{-"0.5" TO -0.25]') == Range("relevance", -0.5, -0.25, False, True)


def test_words_up_to_the_index_limit_are_kept_whole() -> None:
    eth = "0x52908400098527886E0F7030069857D2E4169EE7"
    assert parse_query(eth) == Term(None, eth)
    assert parse_query("x" * 255) == Term(None, "x" * 255)
    assert parse_query(f'"to {eth} wallet"') == Phrase(None, f"to {eth} wallet")


def test_a_single_date_means_that_day() -> None:
    assert parse_query("published:2024-03-01") == Range(
        "published", utc(2024, 3, 1), utc(2024, 3, 2), True, False
    )


@pytest.mark.parametrize("query", ["", "   ", "*"])
def test_empty_query_and_star_match_all(query: str) -> None:
    assert parse_query(query) == MatchAll()


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("a AND (b", 8, "syntax error"),
        ("a)", 1, "syntax error"),
        ('a "unterminated', 2, "syntax error"),
        ("cocaine colour:red", 8, "unknown field 'colour'; known fields: title, text"),
        ("method:*lines", 7, "leading wildcards"),
        ("method:dr*gs", 7, "single trailing"),
        ("x?y", 0, r"'\?' wildcards"),
        ("/coc.*/", 0, "regular expressions"),
        ("cocaine~", 0, "fuzzy"),
        ("cocaine^2", 0, "boosts"),
        ("source:[a TO b]", 7, "ranges are only supported"),
        ("relevance:[high TO *]", 11, "needs a number"),
        ("published:[2025-01-01 TO 2024-01-01]", 10, "low bound above"),
        ("a:b:c", 0, "unknown field"),
        ("title:text:x", 6, "nested inside field"),
    ],
)
def test_bad_queries_report_a_position(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query)
    assert caught.value.position == position
    assert caught.value.query == query


def test_query_length_is_capped() -> None:
    with pytest.raises(QueryError, match="limit is 2000") as caught:
        parse_query("a " * 1001)
    assert caught.value.position == 2000


def test_clause_count_is_capped() -> None:
    parse_query(" ".join(f"w{i}" for i in range(200)))
    with pytest.raises(QueryError, match="201 clauses; the limit is 200"):
        parse_query(" ".join(f"w{i}" for i in range(201)))


def test_geo_filters_per_query_are_capped() -> None:
    ten = " OR ".join(f'near:"{i},0,5km"' for i in range(10))
    assert len(parse_query(ten).clauses) == 10  # type: ignore[union-attr]
    with pytest.raises(QueryError, match="11 geo filters; the limit is 10"):
        parse_query(ten + ' OR bbox:"1,0,0,1"')


def test_every_field_is_documented() -> None:
    assert all(spec.description for spec in FIELDS.values())
    for name in ("person", "org", "phone", "email", "wallet", "iban", "plate", "ip", "domain", "imo", "handle"):
        assert FIELDS[name].kind == "entity"
    assert FIELDS["wallet"].labels == ("BTC_ADDRESS", "ETH_ADDRESS", "XMR_ADDRESS")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('near:"51.51,-0.13,25km"', GeoDistance(51.51, -0.13, 25.0)),
        ('near:"51.51,-0.13,25"', GeoDistance(51.51, -0.13, 25.0)),
        ("near:51.51,-0.13,25km", GeoDistance(51.51, -0.13, 25.0)),
        ('near:" 51.51 , -0.13 , 500 m "', GeoDistance(51.51, -0.13, 0.5)),
        ('near:"0,0,10mi"', GeoDistance(0.0, 0.0, 16.09344)),
        ('NEAR:"-90,180,1KM"', GeoDistance(-90.0, 180.0, 1.0)),
        ('bbox:"52.0,-1.0,51.0,0.5"', GeoBox(52.0, -1.0, 51.0, 0.5)),
        ('bbox:"-10,170,-20,-170"', GeoBox(-10.0, 170.0, -20.0, -170.0)),
    ],
)
def test_geo_values_parse_into_geo_nodes(query: str, expected: object) -> None:
    assert parse_query(query) == expected


def test_geo_filters_combine_like_any_clause() -> None:
    assert parse_query('cocaine -near:"1,2,3"') == And((Term(None, "cocaine"), Not(GeoDistance(1.0, 2.0, 3.0))))
    assert parse_query('near:("1,2,3" OR "4,5,6")') == Or((GeoDistance(1.0, 2.0, 3.0), GeoDistance(4.0, 5.0, 6.0)))


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ('near:"91,0,10km"', 6, "latitude 91 is outside -90..90"),
        ('near:"-90.5,0,10km"', 6, "latitude -90.5 is outside"),
        ('near:"51,180.01,10km"', 9, "longitude 180.01 is outside -180..180"),
        ('near:"51,0,-5km"', 11, "radius must be greater than 0"),
        ('near:"51,0,0"', 11, "radius must be greater than 0"),
        ('near:"51,0,30000km"', 11, "larger than half the Earth"),
        ('near:"51,0,5ft"', 11, "unit km, m or mi"),
        ('near:"51,0,km"', 11, "unit km, m or mi"),
        ('near:"x,0,5"', 6, "latitude must be a number, not 'x'"),
        ('near:"nan,0,5"', 6, "latitude nan is outside"),
        ('near:"51,inf,5"', 9, "longitude inf is outside"),
        ('near:"51,0"', 6, "needs 3 comma-separated values"),
        ('near:"1,2,3,4"', 6, "needs 3 comma-separated values"),
        ('bbox:"1,2,3"', 6, "needs 4 comma-separated values"),
        ('bbox:"49,0,51,1"', 6, r"north \(49\) is below south \(51\)"),
        ('bbox:"50,0,40,181"', 14, "east 181 is outside"),
        ("near:[1 TO 2]", 5, "quoted value"),
        ("cocaine AND bbox:>5", 17, "quoted value"),
        ('title:near:"1,2,3"', 6, "nested inside field"),
    ],
)
def test_bad_geo_values_report_the_component(query: str, position: int, message: str) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        parse_query(query)
    assert caught.value.position == position


def test_haversine_matches_known_distances() -> None:
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=1.0)  # London-Paris
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.1)  # across the antimeridian
    assert haversine_km(10, 20, 10, 20) == 0.0


def test_point_matches_includes_edges_and_handles_the_antimeridian() -> None:
    box = GeoBox(10.0, 170.0, -10.0, -170.0)
    assert point_matches(box, 0, 175) and point_matches(box, 0, -175) and point_matches(box, 10, 170)
    assert not point_matches(box, 0, 0)
    assert point_matches(GeoDistance(0, 0, 111.2), 1.0, 0.0)
    assert not point_matches(GeoDistance(0, 0, 110.0), 1.0, 0.0)


@pytest.mark.parametrize(
    "node",
    [
        GeoDistance(51.5, -0.1, 25.0),
        GeoDistance(0.0, 179.9, 50.0),
        GeoDistance(-60.0, -179.99, 500.0),
        GeoDistance(89.0, 10.0, 200.0),
        GeoDistance(70.0, 0.0, 2500.0),
        GeoBox(-10.0, 170.0, -20.0, -170.0),
    ],
)
def test_bounding_ranges_contain_every_matching_point(node: GeoDistance | GeoBox) -> None:
    boxes = bounding_ranges(node)
    centre = (node.lat, node.lon) if isinstance(node, GeoDistance) else (-15.0, 180.0)
    points = [(lat / 2, lon / 2) for lat in range(-180, 181) for lon in range(-360, 361, 2)]
    # A fine grid around the filter as well, where the edge cases are.
    points += [
        (max(-90.0, min(90.0, centre[0] + dlat / 40)), (centre[1] + dlon / 20 + 180) % 360 - 180)
        for dlat in range(-200, 201)
        for dlon in range(-200, 201, 4)
    ]
    for lat, lon in points:
        if point_matches(node, lat, lon):
            assert any(s <= lat <= n and w <= lon <= e for s, n, w, e in boxes), (lat, lon)
    assert all(-180.0 <= w <= e <= 180.0 for _, _, w, e in boxes)


def test_check_query_accepts_parsed_queries() -> None:
    node = parse_query('cocaine near:"1,2,3" published:[2024-01-01 TO *] -method:drugs.*')
    assert check_query(node) is node


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (Term("colour", "red"), "unknown field 'colour'"),
        (Range("source", "a", "b"), "ranges are not supported"),  # type: ignore[arg-type]
        (Range("published", None, None), "no bounds"),
        (GeoDistance(95.0, 0.0, 1.0), "latitude"),
        (GeoDistance(0.0, 0.0, float("nan")), "radius"),
        (GeoBox(0.0, 0.0, 10.0, 1.0), "below south"),
        (And(()), "at least one clause"),
        ("cocaine", "not a query node"),
        (Term(None, 42), "must be a string"),  # type: ignore[arg-type]
        (Phrase("text", "x " * 1001), "longer than 2000 characters"),
        (Term(None, "x" * 256), "longer than the 255 bytes"),
        (Phrase("title", f"sent to {'é' * 128} wallet"), "longer than the 255 bytes"),
        (Prefix("text", "county-lin"), "wildcard ends one word"),
        (Range("relevance", float("nan"), None), "finite number"),
        (Range("relevance", None, float("inf")), "finite number"),
        (Range("published", utc(1, 1, 1), None), "dates must lie between"),
        (And(tuple(Term(None, f"w{i}") for i in range(201))), "201 clauses; the limit is 200"),
    ],
)
def test_check_query_refuses_what_the_parser_never_builds(node: object, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        check_query(node)


def test_check_query_bounds_nesting_without_recursion() -> None:
    node: object = Term(None, "x")
    for _ in range(MAX_DEPTH + 1):
        node = Not(node)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="nested more than"):
        check_query(node)
    deep: object = Term(None, "x")
    for _ in range(100_000):
        deep = Not(deep)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="nested"):
        check_query(deep)


def test_deeply_nested_query_text_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="nested") as caught:
        parse_query("NOT (" * 100 + "a" + ")" * 100)
    assert caught.value.position == 0
