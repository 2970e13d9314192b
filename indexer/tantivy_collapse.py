"""Collapsed search on the embedded index: one hit per story, with its number of copies.

Near-duplicate copies share a story id (the ``cluster`` keyword field, from
:attr:`~osintel.records.Document.story_id`); each document also holds a 64-bit hash of it in the
:data:`~indexer.tantivy_schema.STORY_KEY` fast field, read per hit as a column.

A collapsed listing is read off the ordinary total order (:class:`~indexer.tantivy_paging.Pager`):
the first copy of each story in that order stands for the story (the copy Elasticsearch's
``collapse`` keeps), stories come in the order of their first copies, and a page is stories
``skip .. skip+take`` of that list, so no page repeats a story of an earlier one.

Bounds. Rows are read from the start of the order until the page's stories (and one more, to know
whether a next page exists) are found: first ``4 x (skip + take + 1)`` rows (at least 256), whose
search also counts the matches; when the query matches at most :data:`EXACT_SCAN` documents,
all of them (a second pass if the first did not hold them), so copies and stories are counted
exactly with no further query; otherwise the rows double while copies fill them, up to
:data:`MAX_COLLAPSE_SCAN` rows, past which the search is refused with a
:class:`~osintel.errors.QueryError` saying how to narrow it. In that second case the page's
copies are counted by one engine search (the query AND the page's stories, read as a column) and
the stories are tantivy's ``cardinality`` estimate (HyperLogLog, counted in the same pass as any
facets), flagged as not exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tantivy

from indexer.query import normalize
from indexer.search_common import CLUSTER_FIELD
from indexer.tantivy_paging import Pager, Row
from indexer.tantivy_schema import STORY_KEY, id_hash, match_count
from osintel.errors import IndexBackendError, QueryError

#: Queries matching at most this many documents are collapsed from one full read (exact counts).
EXACT_SCAN = 10_000
#: Most rows one collapsed page may read from the start of the order.
MAX_COLLAPSE_SCAN = 50_000
_MIN_SCAN = 256


@dataclass(frozen=True, slots=True)
class CollapsedPage:
    """The rows standing for the page's stories; ``copies`` per row when the scan read every
    match (else ``None``: count them with :func:`count_copies`); whether more stories follow;
    the number of stories when known exactly, the stories seen (a lower bound), and the
    matches of the query."""

    rows: list[Row]
    copies: list[int] | None
    more: bool
    stories: int | None
    seen: int
    total: int


def collapsed_page(pager: Pager, searcher: tantivy.Searcher, *, skip: int, take: int) -> CollapsedPage:
    """Stories ``skip .. skip+take`` of the listing ``pager`` orders."""
    want = skip + take + 1

    def enough(rows: list[Row]) -> bool:
        return len(set(_story_keys(searcher, rows))) >= want

    scan = min(max(4 * want, _MIN_SCAN), MAX_COLLAPSE_SCAN)
    rows, more = pager.prefix(scan, enough)
    # The first search counted every match (no cursor filter).
    total = pager.total if pager.total is not None else len(rows)
    if more and total <= EXACT_SCAN:
        scan = total
        rows, more = pager.page(after=None, skip=0, take=scan)
    while True:
        firsts: list[tuple[Row, int]] = []
        counts: Counter[int] = Counter()
        for row, key in zip(rows, _story_keys(searcher, rows)):
            if key not in counts:
                firsts.append((row, key))
            counts[key] += 1
        if len(firsts) >= want or not more:
            break
        if scan >= MAX_COLLAPSE_SCAN:
            raise QueryError(
                f"too many copies to collapse: the first {MAX_COLLAPSE_SCAN} matches tell only "
                f"{len(firsts)} stories; narrow the query, or list every copy (collapse=false, "
                "--all-copies)"
            )
        scan = min(scan * 2, MAX_COLLAPSE_SCAN)
        rows, more = pager.prefix(scan, enough)
    page = firsts[skip : skip + take]
    rows_out = [row for row, _ in page]
    if more:
        return CollapsedPage(rows_out, None, True, None, len(firsts), total)
    copies = [counts[key] for _, key in page]
    return CollapsedPage(rows_out, copies, len(firsts) > skip + take, len(firsts), len(firsts), total)


def count_copies(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query, story_ids: list[str]
) -> list[int]:
    """How many matches of ``query`` each story has (at least 1): one engine search for all of
    them, the matches of ``query`` AND any of the stories, their story keys read as a column."""
    if not story_ids:
        return []
    terms = sorted({normalize(CLUSTER_FIELD, story) for story in story_ids})
    # A disjunction of term queries: measured 4x faster here than term_set_query (0.12 vs 0.53
    # ms for 20 stories AND a term matching 282,890 of 1M documents).
    stories = tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(schema, CLUSTER_FIELD, term)) for term in terms]
    )
    both = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, stories)])
    limit = max(4 * len(terms), 64)
    try:
        while True:
            # Ordering by the story key skips scoring, and returns each hit's key.
            result = searcher.search(both, limit, count=True, order_by_field=STORY_KEY)
            matched = match_count(result)
            if matched <= limit:
                break
            limit = matched
    except ValueError as exc:
        raise IndexBackendError(f"search failed: {exc}") from exc
    per_key = Counter(int(key) for key, _ in result.hits)
    return [max(per_key[id_hash(story)], 1) for story in story_ids]


def stories_estimate(estimate: float | None, *, floor: int, total: int) -> int:
    """The engine's estimate of the stories among ``total`` matches, at least ``floor`` (the
    stories already seen)."""
    return min(max(round(estimate or 0), floor), total)


def _story_keys(searcher: tantivy.Searcher, rows: list[Row]) -> list[int]:
    if not rows:
        return []
    values = searcher.fast_field_values(STORY_KEY, [row.address for row in rows])
    return [int(value or 0) for value in values]
