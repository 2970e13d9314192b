"""Collapsed search on the embedded index: one hit per story, with its number of copies.

Near-duplicate copies share a story id (the ``cluster`` keyword field, from
:attr:`~osintel.records.Document.story_id`); each document also holds a 64-bit hash of it in the
:data:`~indexer.tantivy_schema.STORY_KEY` fast field, read per hit as a column.

A collapsed listing is read off the ordinary total order (:class:`~indexer.tantivy_paging.Pager`):
the first copy of each story in that order stands for the story (the copy Elasticsearch's
``collapse`` keeps), stories come in the order of their first copies, and a page is stories
``skip .. skip+take`` of that list, so no page repeats a story of an earlier one.

Bounds. Rows are read from the start of the order until the page's stories (and one more, to know
whether a next page exists) are found: when the query matches at most :data:`EXACT_SCAN`
documents, all of them in one pass, so copies and stories are counted exactly with no further
query; otherwise ``4 x (skip + take + 1)`` rows (at least 256), doubling while copies fill them,
up to :data:`MAX_COLLAPSE_SCAN` rows, past which the search is refused with a
:class:`~osintel.errors.QueryError` saying how to narrow it. In that second case each hit's copies
are counted by one count query (the query AND its story) and the stories are tantivy's
``cardinality`` estimate (HyperLogLog), flagged as not exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import tantivy

from indexer.query import normalize
from indexer.search_common import CLUSTER_FIELD
from indexer.tantivy_paging import Pager, Row
from indexer.tantivy_schema import STORY_KEY, match_count
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
    the number of stories when known exactly, and the stories seen (a lower bound)."""

    rows: list[Row]
    copies: list[int] | None
    more: bool
    stories: int | None
    seen: int


def collapsed_page(
    pager: Pager, searcher: tantivy.Searcher, *, total: int, skip: int, take: int
) -> CollapsedPage:
    """Stories ``skip .. skip+take`` of the listing ``pager`` orders (``total`` matches)."""
    want = skip + take + 1
    scan = total if total <= EXACT_SCAN else min(max(4 * want, _MIN_SCAN), MAX_COLLAPSE_SCAN)
    while True:
        rows, more = pager.page(after=None, skip=0, take=scan) if scan else ([], False)
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
    page = firsts[skip : skip + take]
    rows_out = [row for row, _ in page]
    if more:
        return CollapsedPage(rows_out, None, True, None, len(firsts))
    copies = [counts[key] for _, key in page]
    return CollapsedPage(rows_out, copies, len(firsts) > skip + take, len(firsts), len(firsts))


def count_copies(
    searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query, story_ids: list[str]
) -> list[int]:
    """How many matches of ``query`` each story has: one count query per story."""
    counts = []
    for story in story_ids:
        term = tantivy.Query.term_query(schema, CLUSTER_FIELD, normalize(CLUSTER_FIELD, story))
        both = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, term)])
        try:
            counts.append(max(match_count(searcher.search(both, 1, count=True)), 1))
        except ValueError as exc:
            raise IndexBackendError(f"search failed: {exc}") from exc
    return counts


def estimate_stories(searcher: tantivy.Searcher, query: tantivy.Query, *, floor: int, total: int) -> int:
    """The stories among the ``total`` matches of ``query``, estimated (HyperLogLog), and at
    least ``floor`` (the stories already seen)."""
    try:
        result = searcher.aggregate(query, {"stories": {"cardinality": {"field": STORY_KEY}}})
    except ValueError as exc:
        raise IndexBackendError(f"counting stories failed: {exc}") from exc
    return min(max(round(float(result["stories"]["value"] or 0)), floor), total)


def _story_keys(searcher: tantivy.Searcher, rows: list[Row]) -> list[int]:
    if not rows:
        return []
    values = searcher.fast_field_values(STORY_KEY, [row.address for row in rows])
    return [int(value or 0) for value in values]
