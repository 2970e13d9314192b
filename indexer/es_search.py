"""One search on Elasticsearch/OpenSearch: validate the arguments, build the request body, read
the response into a :class:`~indexer.base.SearchResult`.

- sort: ``published`` (undated last either way) then ``id``; ``relevance_score``: ``sort_rel``
  then ``id``; best match: ``_score`` then ``id``, or ``id`` alone when the query has no
  full-text clause (every score is equal). Every hit has a unique sort key, so cursors neither
  skip nor repeat hits;
- cursor: base64 JSON of a fingerprint of (query, sort) and the ``search_after`` values of the
  last hit; for scored relevance orders the depth instead (``from``), because a BM25 score that
  went through JSON may not equal the engine's own (osmem-server compares in float64 what it
  printed in float32) and ties would then repeat or vanish. Relevance paging is therefore
  capped at :data:`MAX_RESULT_WINDOW`, like tantivy's re-collecting relevance pages;
- facets: ``terms`` aggregations (``entity:<LABEL>`` counts the ``LABEL|value`` terms of
  ``entity_facet``, with the label stripped); histogram: ``date_histogram`` of ``published``;
- collapse: the engine's ``collapse`` on ``cluster`` (the top hit of each story in the sort
  order, as tantivy picks it), with an ``inner_hits`` of size 0 whose total is the story's
  number of matching copies, and a ``cardinality`` aggregation estimating the stories.
  Elasticsearch refuses ``search_after`` with ``collapse`` on another field, so collapsed
  listings page by ``from`` (stories served), up to the same window;
- snippets: the ``html`` encoder escapes the crawled text and wraps matches in ``<b>``; without a
  match, the escaped leading text, as the embedded backend does.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from indexer.base import (
    ENTITY_FACET_PREFIX,
    FACET_FIELDS,
    HISTOGRAM_INTERVALS,
    Hit,
    Node,
    SearchResult,
    SortOrder,
    canonical_sort,
)
from indexer.es_mapping import from_source
from indexer.es_query import EsCompiler
from indexer.query import DEFAULT_PHONE_REGION, check_query, parse_query
# One definition of "the listing a cursor belongs to", of the orders and of collapse paging.
from indexer.search_common import (
    CLUSTER_FIELD,
    ENTITY_FACET_FIELD,
    check_story_window,
    decode_story_cursor,
    encode_story_cursor,
    fingerprint,
    mode_for,
)
from osintel.errors import IndexBackendError, QueryError

logger = logging.getLogger(__name__)

#: Deepest hit (offset + limit) an offset search may reach; cursors go further.
MAX_RESULT_WINDOW = 10_000
#: Most values a facet may return.
MAX_FACET_SIZE = 1_000
SNIPPET_CHARS = 200
_LABEL_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_COMPILER = EsCompiler()
MAX_CURSOR_LENGTH = 1024
_CURSOR_VERSION = 1
_SORTS: dict[str, list[dict[str, Any]]] = {
    "score": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
    "id": [{"id": {"order": "asc"}}],
    "up": [{"published": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    "down": [{"published": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    "rel": [{"sort_rel": {"order": "asc"}}, {"id": {"order": "asc"}}],
}
#: Counts below it are near-exact in the engine's HyperLogLog++ (Elasticsearch's maximum).
_STORIES_PRECISION = 40_000
_COPIES = "copies"


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: ``after`` (the last hit's sort values) or, for scored relevance
    orders, ``depth`` (hits served so far)."""

    after: list[Any] | None = None
    depth: int = 0


def mode_of(node: Node, sort: str) -> str:
    """``up``/``down`` (dates), ``rel`` (relevance score), ``score`` (BM25 then id) or ``id``
    (filters only: equal scores)."""
    return mode_for(node, sort)


def encode_cursor(print_: str, mode: str, cursor: Cursor) -> str:
    """An opaque cursor: continues the listing ``print_`` (query + sort) after ``cursor``."""
    payload: dict[str, Any] = {"v": _CURSOR_VERSION, "q": print_, "m": mode}
    if mode == "score":
        payload["d"] = cursor.depth
    else:
        payload["a"] = cursor.after
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, print_: str, mode: str) -> Cursor:
    """The position in ``cursor``; :class:`QueryError` if it is malformed or belongs to another
    query or sort. Every value is type-checked: nothing unchecked reaches the engine."""
    bad = QueryError("bad cursor: pass next_cursor from a previous result unchanged")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
        raise bad
    if data.get("q") != print_ or data.get("m") != mode:
        raise QueryError("this cursor continues another query or sort; pass the same query and sort")
    if mode == "score":
        depth = data.get("d")
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
            raise bad
        return Cursor(depth=depth)
    after = data.get("a")
    if mode == "id":
        if not (isinstance(after, list) and len(after) == 1 and isinstance(after[0], str)):
            raise bad
    elif not (
        isinstance(after, list) and len(after) == 2 and isinstance(after[0], int)
        and not isinstance(after[0], bool) and isinstance(after[1], str)
    ):
        raise bad
    return Cursor(after=after)


def facet_aggregation(name: str, size: int) -> dict[str, Any]:
    """The ``terms`` aggregation counting facet ``name``; :class:`QueryError` if unknown."""
    if name in FACET_FIELDS:
        return {"terms": {"field": name, "size": size}}
    if name.startswith(ENTITY_FACET_PREFIX):
        label = name[len(ENTITY_FACET_PREFIX) :].strip().upper()
        if _LABEL_RE.match(label):
            # The label is validated above, so the include pattern holds no user regex.
            return {"terms": {"field": ENTITY_FACET_FIELD, "size": size, "include": f"{label}\\|.*"}}
    known = ", ".join((*FACET_FIELDS, f"{ENTITY_FACET_PREFIX}<LABEL>"))
    raise QueryError(f"unknown facet {name!r}; known facets: {known}")


@dataclass(frozen=True)
class SearchRequest:
    """A validated search, ready to send."""

    body: dict[str, Any]
    limit: int
    sort: str
    mode: str
    print_: str
    depth: int
    facets: tuple[str, ...]
    histogram: str | None
    collapse: bool = False

    @classmethod
    def build(
        cls,
        query: str | Node,
        *,
        limit: int,
        offset: int,
        sort: SortOrder,
        facets: Sequence[str],
        facet_size: int,
        cursor: str | None,
        histogram: str | None,
        max_page_size: int,
        phone_region: str = DEFAULT_PHONE_REGION,
        timeout_s: float = 10.0,
        collapse: bool = False,
    ) -> SearchRequest:
        """Validate every argument as the embedded backend does, then build the body."""
        if limit < 0 or offset < 0:
            raise QueryError("limit and offset must not be negative")
        sort = canonical_sort(sort)  # type: ignore[assignment]
        if facet_size < 1:
            raise QueryError("facet_size must be at least 1")
        if histogram is not None and histogram not in HISTOGRAM_INTERVALS:
            raise QueryError(
                f"unknown histogram interval {histogram!r}; expected one of {', '.join(HISTOGRAM_INTERVALS)}"
            )
        if cursor is not None and offset:
            raise QueryError("pass either offset or cursor, not both")
        aggs = {f"facet{i}": facet_aggregation(name, min(facet_size, MAX_FACET_SIZE)) for i, name in enumerate(facets)}
        limit = min(limit, max_page_size)
        node = parse_query(query, phone_region=phone_region) if isinstance(query, str) else check_query(query)
        mode = mode_of(node, sort)
        print_ = fingerprint(node, sort, collapse=collapse)
        if collapse:
            stories = decode_story_cursor(cursor, print_) if cursor is not None else offset
            check_story_window(stories, limit)
            position = Cursor(depth=stories)
        else:
            position = decode_cursor(cursor, print_, mode) if cursor is not None else Cursor(depth=offset)
        # BM25 scores cannot be continued after exactly (engines round them in JSON), so scored
        # relevance pages go by depth; every other order continues with search_after.
        depth = position.depth if position.after is None else 0
        if (mode == "score" or position.after is None) and depth + limit > MAX_RESULT_WINDOW:
            raise QueryError(
                f"cannot page beyond hit {MAX_RESULT_WINDOW} by relevance or offset; "
                "narrow the query, or sort by date and use the cursor"
            )
        body: dict[str, Any] = {
            "query": _COMPILER.compile(node),
            # One extra hit tells whether there is a next page without a second request.
            "size": limit + 1 if limit else 0,
            "sort": _SORTS[mode],
            "track_total_hits": True,
            "track_scores": sort == "best_match",
            "timeout": f"{max(timeout_s, 0.001):g}s",
        }
        if position.after is not None:
            body["search_after"] = position.after
        elif depth:
            body["from"] = depth
        if limit:
            body["highlight"] = {
                "encoder": "html",
                "pre_tags": ["<b>"],
                "post_tags": ["</b>"],
                "fields": {"text": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}},
            }
        if histogram is not None:
            aggs["histogram"] = {
                "date_histogram": {
                    "field": "published",
                    "calendar_interval": histogram,
                    "min_doc_count": 0,
                    "format": "yyyy-MM-dd",
                }
            }
        if collapse:
            # Size 0: only the total, i.e. how many matching copies the story has.
            body["collapse"] = {"field": CLUSTER_FIELD, "inner_hits": {"name": _COPIES, "size": 0}}
            aggs["stories"] = {"cardinality": {"field": CLUSTER_FIELD, "precision_threshold": _STORIES_PRECISION}}
        if aggs:
            body["aggs"] = aggs
        return cls(body, limit, sort, mode, print_, depth, tuple(facets), histogram, collapse)


def run_search(client: Elasticsearch, index: str, request: SearchRequest) -> SearchResult:
    """Send ``request`` to ``index`` (an alias) and read the answer."""
    response = client.search(index=index, body=request.body).body
    if response.get("timed_out"):
        logger.warning("search timed out on the cluster", extra={"es_index": index})
        raise IndexBackendError("the search timed out on the cluster; narrow the query")
    raw_hits = response["hits"]["hits"]
    hits = [_hit(h, relevance=request.sort == "best_match") for h in raw_hits[: request.limit]]
    more = len(raw_hits) > request.limit
    next_cursor = None
    if more and request.limit and request.collapse:
        next_cursor = encode_story_cursor(request.print_, request.depth + request.limit)
    elif more and request.limit:
        if request.mode == "score":
            position = Cursor(depth=request.depth + request.limit)
        else:
            position = Cursor(after=list(raw_hits[request.limit - 1]["sort"]))
        next_cursor = encode_cursor(request.print_, request.mode, position)
    aggs = response.get("aggregations", {})
    facets: dict[str, dict[str, int]] = {}
    for i, name in enumerate(request.facets):
        strip = name.startswith(ENTITY_FACET_PREFIX) and name not in FACET_FIELDS
        buckets = aggs[f"facet{i}"]["buckets"]
        facets[name] = {
            (str(b["key"]).split("|", 1)[1] if strip else str(b["key"])): int(b["doc_count"]) for b in buckets
        }
    histogram = [(str(b["key_as_string"]), int(b["doc_count"])) for b in aggs.get("histogram", {}).get("buckets", [])]
    total = int(response["hits"]["total"]["value"])
    stories: int | None = None
    exact = False
    if request.collapse:
        if not more and request.limit and (hits or not request.depth):  # the last page: all listed
            stories, exact = request.depth + len(hits), True
        else:
            seen = request.depth + len(raw_hits)
            stories = min(max(int(aggs["stories"]["value"]), seen), total)
    return SearchResult(
        total=total,
        hits=hits,
        facets=facets,
        next_cursor=next_cursor,
        histogram=histogram,
        stories=stories,
        stories_exact=exact,
    )


def _hit(raw: dict[str, Any], *, relevance: bool) -> Hit:
    document = from_source(raw["_source"])
    fragments = raw.get("highlight", {}).get("text")
    if fragments:
        snippet = fragments[0]
    else:
        text = document.text
        snippet = html.escape(text[:SNIPPET_CHARS]) + ("…" if len(text) > SNIPPET_CHARS else "")
    score = float(raw.get("_score") or 0.0) if relevance else 0.0
    copies = raw.get("inner_hits", {}).get(_COPIES, {}).get("hits", {}).get("total", {}).get("value", 1)
    return Hit(document.id, score, snippet, document, max(int(copies), 1))
