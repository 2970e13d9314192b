"""The contract every Index backend must honour (parametrised in conftest.index_factory)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from indexer.base import Index, SearchResult
from osintel.errors import QueryError
from osintel.records import Document, Entity, SourceRef

# Positions in the ``documents`` fixture.
COUNTY, PLATES, PORT, FRENCH, WEATHER = range(5)


def found(index: Index, documents: list[Document], query: str, **kwargs: object) -> set[int]:
    """Positions (in ``documents``) of every hit for ``query``."""
    result = index.search(query, limit=50, **kwargs)  # type: ignore[arg-type]
    by_id = {doc.id: i for i, doc in enumerate(documents)}
    assert result.total == len(result.hits)
    return {by_id[hit.id] for hit in result.hits}


def test_upsert_is_idempotent_by_id(index: Index, documents: list[Document]) -> None:
    index.upsert([documents[COUNTY]])
    index.upsert([documents[COUNTY]])
    index.upsert([documents[COUNTY], documents[COUNTY]])
    assert index.count() == 1


def test_upsert_replaces_the_previous_version(loaded: Index, documents: list[Document]) -> None:
    changed = documents[WEATHER].model_copy(update={"text": "Stormy weekend ahead with hail."})
    loaded.upsert([changed])
    assert loaded.count() == len(documents)
    assert found(loaded, documents, "hail") == {WEATHER}
    assert found(loaded, documents, "forecasters") == set()


def test_get_returns_the_document_as_stored(loaded: Index, documents: list[Document]) -> None:
    for doc in documents:
        assert loaded.get(doc.id) == doc
    assert loaded.get("no-such-id") is None


def test_delete_removes_documents_and_ignores_unknown_ids(loaded: Index, documents: list[Document]) -> None:
    loaded.delete([documents[WEATHER].id, "no-such-id"])
    assert loaded.count() == len(documents) - 1
    assert loaded.get(documents[WEATHER].id) is None
    assert found(loaded, documents, "sunny") == set()


def test_documents_persist_across_close_and_reopen(index_factory, documents: list[Document]) -> None:
    first = index_factory()
    first.upsert(documents)
    first.close()
    second = index_factory()
    assert second.count() == len(documents)
    assert second.get(documents[PORT].id) == documents[PORT]
    second.upsert([documents[PORT]])  # the writer lock was released by close()
    assert second.count() == len(documents)


def test_bare_words_search_title_and_text_and_are_anded(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "cocaine") == {COUNTY, PORT}
    assert found(loaded, documents, "cocaine liverpool") == {COUNTY}
    assert found(loaded, documents, "plates") == {PLATES}  # title only
    assert found(loaded, documents, "jailed raids") == {COUNTY}


def test_id_field_selects_documents_by_id(loaded: Index, documents: list[Document]) -> None:
    first, third = documents[0].id, documents[2].id
    assert {h.id for h in loaded.search(f"id:{first}", limit=50).hits} == {first}
    assert {h.id for h in loaded.search(f"id:{first} OR id:{third}", limit=50).hits} == {first, third}
    assert loaded.search(f"id:{'0' * 32}", limit=50).total == 0


def test_boolean_operators(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "cocaine AND rotterdam") == {PORT}
    assert found(loaded, documents, "rotterdam OR liverpool") == {COUNTY, PORT}
    assert found(loaded, documents, "cocaine NOT rotterdam") == {COUNTY}
    assert found(loaded, documents, "cocaine -rotterdam") == {COUNTY}
    assert found(loaded, documents, "+cocaine +heroin") == {COUNTY}
    assert found(loaded, documents, "(rotterdam OR marseille) AND NOT language:fr") == {PORT}
    assert found(loaded, documents, "NOT cocaine") == {PLATES, FRENCH, WEATHER}


def test_phrases_match_words_in_order(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, '"county lines gang"') == {COUNTY}
    assert found(loaded, documents, '"gang county lines"') == set()
    assert found(loaded, documents, '"banana containers"~1') == {PORT}
    assert found(loaded, documents, 'title:"county lines"') == {COUNTY}
    assert found(loaded, documents, 'text:"sunny weekend"') == {WEATHER}


def test_stemming_matches_inflected_forms(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "raid") == {COUNTY}
    assert found(loaded, documents, "container") == {PORT}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("source:bbc-news", {COUNTY, FRENCH, WEATHER}),
        ("source:BBC-NEWS", {COUNTY, FRENCH, WEATHER}),
        ("language:fr", {FRENCH}),
        ('author:"jane reporter"', {COUNTY}),
        ("author:@shadyseller", {PLATES}),
        ("entity:liverpool", {COUNTY}),
        ('entity:"merseyside police"', {COUNTY}),
        ("entity:+447700900123", {COUNTY}),
        ('org:"Merseyside Police"', {COUNTY}),
        ("person:liverpool", set()),
        ("email:VENDOR@example.onion", {PLATES}),
        ("wallet:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh", {PLATES}),
        ('plate:"ab12 cde"', {PLATES}),
        ("plate:AB12CDE", {PLATES}),
        ('iban:"NL91 ABNA 0417 1643 00"', {PORT}),
        ("imo:9321483", {PORT}),
        ("label:PHONE", {COUNTY}),
        ("label:iban", {PORT}),
        ("method:drugs.county_lines", {COUNTY}),
        ("category:drugs", {COUNTY, PORT}),
        ("country:gb", {COUNTY}),
        ("country:NL", {PORT}),
        ("place:marseille", {FRENCH}),
        ("grading:2BP", {PORT}),
        ("grading:1bp", {COUNTY, FRENCH, WEATHER}),
        ("handling:C", {PLATES}),
        ("label:*", {COUNTY, PLATES, PORT, FRENCH}),
    ],
)
def test_field_filters(loaded: Index, documents: list[Document], query: str, expected: set[int]) -> None:
    assert found(loaded, documents, query) == expected


@pytest.mark.parametrize(
    "typed", ['phone:"07700 900123"', "phone:07700900123", "phone:+447700900123", 'phone:"+44 7700 900123"'])
def test_phone_queries_match_the_e164_normalised_entity(
    loaded: Index, documents: list[Document], typed: str
) -> None:
    assert found(loaded, documents, typed) == {COUNTY}


def _french_phone_page() -> Document:
    text = "Le réseau de Marseille recevait les commandes au 06 12 34 56 78, selon la police."
    start = text.index("06 12")
    return Document(
        url="https://presse.example.fr/reseau", source=SourceRef(id="presse-fr", country="FR"), text=text,
        language="fr",
        entities=[Entity(text="06 12 34 56 78", label="PHONE", start=start, end=start + 14,
                         normalized="+33612345678", extractor="phonenumbers")],
    )


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ("phone:+33612345678", 1),
        ('phone:"+33 6 12 34 56 78"', 1),
        ('phone:"0033 6 12 34 56 78"', 1),
        # A number without its country code is read in the default region (GB): a British
        # 0612345678 would be +44612345678, which this French number is not.
        ("phone:+44612345678", 0),
        ('phone:"06 12 34 56 78"', 0),
        ('entity:"06 12 34 56 78"', 1),  # the text as written is still there to match
    ],
)
def test_a_phone_read_in_the_documents_region_is_indexed_under_that_number_only(
    index: Index, query: str, hits: int
) -> None:
    index.upsert([_french_phone_page()])
    assert index.search(query, limit=10).total == hits


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("crimetype:drugs.trafficking", {COUNTY, PORT}),
        ("crimetype:DRUGS.Trafficking", {COUNTY, PORT}),
        ("crimetype:drugs.*", {COUNTY, PORT}),
        ("crimetype:drugs", {COUNTY, PORT}),
        ("crimetype:violence.*", {FRENCH}),
        ("crimetype:violence.homicide", set()),
        ("crimetype:society.money_laundering AND crimetype:drugs", {PORT}),
        ("crimetype:* AND NOT crimetype:drugs", {PLATES, FRENCH}),
        ("cocaine -crimetype:society.*", {COUNTY}),
    ],
)
def test_crime_type_field_matches_types_and_whole_groups(
    loaded: Index, documents: list[Document], query: str, expected: set[int]
) -> None:
    assert found(loaded, documents, query) == expected


def test_crime_type_facet_counts_each_group_once_per_document(loaded: Index) -> None:
    result = loaded.search("*", limit=0, facets=["crimetype"])
    assert result.facets["crimetype"] == {
        "drugs": 2, "drugs.trafficking": 2, "fraud": 1, "fraud.fraud": 1, "society": 1,
        "society.money_laundering": 1, "violence": 1, "violence.modern_slavery": 1,
    }
    narrowed = loaded.search("language:en", limit=0, facets=["crimetype"])
    assert narrowed.facets["crimetype"] == {
        "drugs": 2, "drugs.trafficking": 2, "fraud": 1, "fraud.fraud": 1, "society": 1, "society.money_laundering": 1,
    }


def test_method_prefix_wildcard(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "method:drugs.*") == {COUNTY, PORT}
    assert found(loaded, documents, "method:drugs.county*") == {COUNTY}
    assert found(loaded, documents, "method:drug*") == {COUNTY, PORT}
    # The dot is literal, not a regex wildcard.
    assert found(loaded, documents, "method:drugsx*") == set()


def test_word_prefix_wildcard(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "cocai*") == {COUNTY, PORT}


def test_date_ranges(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "published:[2024-01-01 TO 2024-12-31]") == {COUNTY, PORT}
    # A date-only upper bound includes that whole day (PORT was published at noon).
    assert found(loaded, documents, "published:[2024-11-01 TO 2024-11-20]") == {PORT}
    assert found(loaded, documents, "published:{2024-11-01 TO 2024-11-20}") == set()
    assert found(loaded, documents, "published:>=2025-01-01") == {PLATES}
    assert found(loaded, documents, "published:<2024-01-01") == {FRENCH}
    assert found(loaded, documents, "published:2024-03-10") == {COUNTY}
    assert found(loaded, documents, 'published:>="2024-03-10T12:00:00Z"') == {COUNTY, PORT, PLATES}
    assert found(loaded, documents, "collected:[2024-01-01 TO 2024-06-01]") == {COUNTY, FRENCH, WEATHER}


def test_relevance_range(loaded: Index, documents: list[Document]) -> None:
    assert found(loaded, documents, "relevance:[0.5 TO *]") == {COUNTY, PLATES, PORT}
    assert found(loaded, documents, "relevance:{0.6 TO 0.9}") == {PORT}
    assert found(loaded, documents, "relevance:<0.1") == {WEATHER}


def test_facets_count_values_over_all_matches(loaded: Index) -> None:
    result = loaded.search("*", limit=1, facets=["source", "language", "method", "category", "country", "label"])
    assert result.total == 5
    assert len(result.hits) == 1
    assert result.facets["source"] == {"bbc-news": 3, "darkforum": 1, "mastodon-uk": 1}
    assert result.facets["language"] == {"en": 4, "fr": 1}
    assert result.facets["category"] == {"drugs": 2, "vehicle_crime": 1, "trafficking": 1}
    assert result.facets["country"] == {"GB": 1, "NL": 1, "FR": 1}
    assert result.facets["label"]["GPE"] == 3
    assert result.facets["method"]["drugs.county_lines"] == 1


def test_facets_follow_the_query(loaded: Index) -> None:
    result = loaded.search("category:drugs", limit=0, facets=["country"])
    assert result.total == 2
    assert result.hits == []
    assert result.facets == {"country": {"GB": 1, "NL": 1}}


def test_unknown_facet_is_a_query_error(loaded: Index) -> None:
    with pytest.raises(QueryError, match="unknown facet"):
        loaded.search("*", facets=["colour"])


def test_grading_facet_counts_3x5x2_codes(loaded: Index) -> None:
    result = loaded.search("*", limit=0, facets=["grading"])
    assert result.facets == {"grading": {"1BP": 3, "2BP": 1, "3DC": 1}}


def test_entity_facets_count_normalised_values_per_label(loaded: Index) -> None:
    labels = ["GPE", "PHONE", "IMO", "VEHICLE_PLATE", "IBAN", "ORG", "PERSON"]
    result = loaded.search("*", limit=0, facets=[f"entity:{label}" for label in labels])
    assert result.facets["entity:GPE"] == {"liverpool": 1, "marseille": 1, "rotterdam": 1}
    # One value per entity: its normalised form (not also its raw text "IMO 9321483").
    assert result.facets["entity:PHONE"] == {"+447700900123": 1}
    assert result.facets["entity:IMO"] == {"9321483": 1}
    assert result.facets["entity:VEHICLE_PLATE"] == {"AB12CDE": 1}
    assert result.facets["entity:IBAN"] == {"NL91ABNA0417164300": 1}
    assert result.facets["entity:ORG"] == {"merseyside police": 1}
    assert result.facets["entity:PERSON"] == {}


def test_entity_facets_follow_the_query(loaded: Index) -> None:
    result = loaded.search("category:drugs", limit=0, facets=["entity:GPE", "grading"])
    assert result.facets == {"entity:GPE": {"liverpool": 1, "rotterdam": 1}, "grading": {"1BP": 1, "2BP": 1}}


def test_facet_values_come_most_frequent_first_then_by_value_cut_at_facet_size(loaded: Index) -> None:
    result = loaded.search("*", limit=0, facets=["source", "country", "language"], facet_size=2)
    assert list(result.facets["source"].items()) == [("bbc-news", 3), ("darkforum", 1)]
    assert list(result.facets["country"].items()) == [("FR", 1), ("GB", 1)]
    assert list(result.facets["language"].items()) == [("en", 4), ("fr", 1)]
    assert list(loaded.search("*", limit=0, facets=["source"], facet_size=1).facets["source"]) == ["bbc-news"]


@pytest.mark.parametrize(("facets", "size"), [(["source"], 0), (["source"], -3), (["entity:"], 20)])
def test_bad_facet_requests_are_query_errors(loaded: Index, facets: list[str], size: int) -> None:
    with pytest.raises(QueryError, match="facet"):
        loaded.search("*", facets=facets, facet_size=size)


def test_month_histogram_fills_empty_months_between_matches(loaded: Index) -> None:
    result = loaded.search("category:drugs", limit=0, histogram="month")
    middle = [(f"2024-{month:02d}-01", 0) for month in range(4, 11)]
    assert result.histogram == [("2024-03-01", 1), *middle, ("2024-11-01", 1)]
    assert result.total == 2


def test_histogram_counts_dated_matches_only(loaded: Index) -> None:
    result = loaded.search("*", limit=1, histogram="month")
    assert result.histogram[0] == ("2023-06-01", 1)
    assert result.histogram[-1] == ("2025-01-01", 1)
    assert len(result.histogram) == 20
    assert sum(count for _, count in result.histogram) == 4  # the weather report is undated
    assert len(result.hits) == 1


def test_day_and_week_buckets_are_utc_with_weeks_starting_on_monday(index: Index, documents: list[Document]) -> None:
    template = documents[WEATHER]
    times = [
        datetime(2024, 3, 10, 12, tzinfo=timezone.utc),  # a Sunday
        datetime(2024, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=-2))),  # Monday 01:30 UTC
        datetime(2024, 3, 12, 0, 0, tzinfo=timezone.utc),
        datetime(2024, 3, 14, 23, 59, 59, tzinfo=timezone.utc),
    ]
    index.upsert(
        [template.model_copy(update={"id": f"h{i}", "published_at": t.astimezone(timezone.utc)}) for i, t in enumerate(times)]
    )
    day = index.search("*", limit=0, histogram="day").histogram
    assert day == [("2024-03-10", 1), ("2024-03-11", 1), ("2024-03-12", 1), ("2024-03-13", 0), ("2024-03-14", 1)]
    assert index.search("*", limit=0, histogram="week").histogram == [("2024-03-04", 1), ("2024-03-11", 3)]
    assert index.search("*", limit=0, histogram="month").histogram == [("2024-03-01", 4)]


def test_histogram_is_empty_unless_asked_or_nothing_is_dated(loaded: Index) -> None:
    assert loaded.search("*").histogram == []
    assert loaded.search("sunny", histogram="day").histogram == []


def test_unknown_histogram_interval_is_a_query_error(loaded: Index) -> None:
    with pytest.raises(QueryError, match="histogram"):
        loaded.search("*", histogram="year")


def test_sort_by_published(loaded: Index, documents: list[Document]) -> None:
    by_id = {doc.id: i for i, doc in enumerate(documents)}
    newest = [by_id[h.id] for h in loaded.search("*", sort="-published").hits]
    oldest = [by_id[h.id] for h in loaded.search("*", sort="published").hits]
    assert newest[:4] == [PLATES, PORT, COUNTY, FRENCH]
    assert oldest[:4] == [FRENCH, COUNTY, PORT, PLATES]
    assert newest[-1] == oldest[-1] == WEATHER  # undated documents come last


def test_relevance_ranks_the_better_match_first(loaded: Index, documents: list[Document]) -> None:
    result = loaded.search("county lines")
    assert result.hits[0].id == documents[COUNTY].id
    assert result.hits[0].score > 0


def test_offset_pagination_walks_all_hits_once(loaded: Index) -> None:
    pages: list[str] = []
    for offset in range(0, 6, 2):
        page = loaded.search("*", limit=2, offset=offset, sort="-published")
        assert page.total == 5
        pages.extend(h.id for h in page.hits)
    assert len(pages) == 5
    assert len(set(pages)) == 5


def test_snippet_highlights_the_term(loaded: Index) -> None:
    (hit,) = loaded.search("rotterdam").hits
    assert "<b>Rotterdam</b>" in hit.snippet


def test_snippet_escapes_hostile_crawled_html(loaded: Index) -> None:
    (hit,) = loaded.search("alert").hits
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet
    assert "<b>alert</b>" in hit.snippet


def test_snippet_falls_back_to_escaped_leading_text(loaded: Index, documents: list[Document]) -> None:
    (hit,) = loaded.search("handling:C").hits
    assert hit.snippet.startswith("Cloned plate AB12 CDE")
    assert "<script>" not in hit.snippet


def test_hits_carry_full_documents(loaded: Index, documents: list[Document]) -> None:
    (hit,) = loaded.search("imo:9321483").hits
    assert hit.document == documents[PORT]
    assert isinstance(loaded.search("*"), SearchResult)


def test_empty_query_matches_everything(loaded: Index) -> None:
    assert loaded.search("").total == 5
    assert loaded.search("*").total == 5


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("cocaine AND (heroin", 19, "syntax error"),
        ("cocaine)", 7, "syntax error"),
        ("cocaine colour:red", 8, "unknown field 'colour'"),
        ("method:*lines", 7, "leading wildcard"),
        ("/coc.*/", 0, "regular expressions"),
        ("published:[soon TO *]", 11, "ISO date"),
    ],
)
def test_bad_queries_raise_query_error_with_position(
    loaded: Index, query: str, position: int, message: str
) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        loaded.search(query)
    assert caught.value.position == position
