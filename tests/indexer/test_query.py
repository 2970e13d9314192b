"""The analyst query language: text to AST, independent of any backend."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from indexer.base import And, MatchAll, Not, Or, Phrase, Prefix, Range, Term
from indexer.query import FIELDS, normalize_entity_value, parse_query
from osintel.errors import QueryError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


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


def test_every_field_is_documented() -> None:
    assert all(spec.description for spec in FIELDS.values())
    for name in ("person", "org", "phone", "email", "wallet", "iban", "plate", "ip", "domain", "imo", "handle"):
        assert FIELDS[name].kind == "entity"
    assert FIELDS["wallet"].labels == ("BTC_ADDRESS", "ETH_ADDRESS", "XMR_ADDRESS")
