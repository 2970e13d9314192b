"""The search-index contract: the :class:`Index` protocol, its result types and the query AST.

Every backend (the embedded tantivy index, an Elasticsearch/OpenSearch cluster) implements
:class:`Index` and passes the same contract-test suite (``tests/indexer/test_contract.py``).

Analyst queries are parsed once (:func:`indexer.query.parse_query`) into the small AST defined
here, with values already normalised (phones in E.164, plates upper-cased without spaces, ...).
Each backend compiles the AST to its own query objects, so both return the same hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self, TypeAlias, runtime_checkable

from osintel.errors import QueryError
from osintel.records import Document

#: The orderings :meth:`Index.search` accepts: ``best_match`` (the engine's full-text score,
#: BM25), ``relevance_score`` (the enrichment's relevance assessment, highest first),
#: ``-published`` (newest first) and ``published`` (oldest first). ``relevance`` is the old name
#: of ``best_match`` and still accepted (:data:`SORT_ALIASES`).
SortOrder: TypeAlias = Literal["best_match", "relevance_score", "-published", "published", "relevance"]
SORT_ORDERS: tuple[str, ...] = ("best_match", "relevance_score", "-published", "published")
SORT_ALIASES: dict[str, str] = {"relevance": "best_match"}

#: Fields that :meth:`Index.search` can count values of (``facets=``). ``entity:<LABEL>`` (for
#: example ``entity:PERSON``) counts the normalised values of that entity label.
#: ``crimetype`` counts crime types and their groups (``violence`` and ``violence.homicide``).
FACET_FIELDS: tuple[str, ...] = (
    "source", "language", "method", "category", "crimetype", "country", "label", "grading",
)
#: Prefix of the per-label entity facets (``entity:PERSON``, ``entity:PHONE``, ...).
ENTITY_FACET_PREFIX = "entity:"
#: Buckets :meth:`Index.search` can build a date histogram of ``published_at`` in (``histogram=``).
HISTOGRAM_INTERVALS: tuple[str, ...] = ("day", "week", "month")


def canonical_sort(sort: str) -> str:
    """The canonical name of ``sort`` (aliases resolved); :class:`QueryError` if unknown."""
    name = SORT_ALIASES.get(sort, sort)
    if name not in SORT_ORDERS:
        raise QueryError(f"unknown sort {sort!r}; expected one of {', '.join(SORT_ORDERS)}")
    return name


# --- query AST ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Matches every document (the empty query and ``*``)."""


@dataclass(frozen=True, slots=True)
class Term:
    """A single value. ``field`` is ``None`` for a bare word (searches title and text)."""

    field: str | None
    value: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in order (``"county lines"``); ``slop`` is the permitted gap (``"a b"~2``)."""

    field: str | None
    text: str
    slop: int = 0


@dataclass(frozen=True, slots=True)
class Prefix:
    """A trailing-wildcard match: ``method:drugs.*`` is ``Prefix("method", "drugs.")``."""

    field: str | None
    value: str


@dataclass(frozen=True, slots=True)
class Range:
    """A range over a date (``published``, ``collected``) or number (``relevance``) field.

    Bounds are :class:`datetime` (aware, UTC) for dates and :class:`float` for numbers;
    ``None`` is unbounded (and then inclusive by definition).
    """

    field: str
    low: datetime | float | None
    high: datetime | float | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True, slots=True)
class And:
    """All of the clauses must match."""

    clauses: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of the clauses must match."""

    clauses: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Documents that do not match ``clause``."""

    clause: Node


@dataclass(frozen=True, slots=True)
class GeoDistance:
    """Documents with a geocoded location within ``km`` of (``lat``, ``lon``).

    Query syntax: ``near:"51.51,-0.13,25km"``. Distance is great-circle (haversine).
    """

    lat: float
    lon: float
    km: float


@dataclass(frozen=True, slots=True)
class GeoBox:
    """Documents with a geocoded location inside a bounding box.

    Query syntax: ``bbox:"north,west,south,east"`` (degrees); ``west > east`` crosses the
    antimeridian.
    """

    north: float
    west: float
    south: float
    east: float


Node: TypeAlias = MatchAll | Term | Phrase | Prefix | Range | And | Or | Not | GeoDistance | GeoBox


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One search hit.

    ``snippet`` is HTML: the crawled text is escaped and matched terms are wrapped in ``<b>``, so
    it is safe to insert into a page as-is. ``score`` is the BM25 score when sorted by best match
    and ``0.0`` when sorted by date or relevance score. ``copies`` is, when the search collapsed
    copies, how many matching documents tell this hit's story (itself included; list them with
    ``cluster:<story id>``), else 1.
    """

    id: str
    score: float
    snippet: str
    document: Document
    copies: int = 1


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of hits, the total number of matches, and facet counts ``{field: {value: n}}``.

    ``next_cursor`` is an opaque string to pass as ``cursor=`` for the page after this one
    (``None`` on the last page). ``histogram`` is ``[(bucket start as ISO date, count), ...]``
    in date order when ``histogram=`` was asked for (empty buckets included).

    ``total``, facets and histogram count matching documents. When the search collapsed copies,
    ``stories`` is the number of distinct stories among them (``None`` otherwise), exact when
    ``stories_exact``, else the engine's estimate (HyperLogLog, within a few per cent).
    """

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    next_cursor: str | None = None
    histogram: list[tuple[str, int]] = field(default_factory=list)
    stories: int | None = None
    stories_exact: bool = False


# --- the protocol ---------------------------------------------------------------------------


@runtime_checkable
class Index(Protocol):
    """A search index of :class:`~osintel.records.Document` records.

    The index is derived data (the control store is the store of record), so it can always be
    rebuilt. Writes are idempotent by ``Document.id`` and durable when the call returns. An index
    is a context manager that closes it on exit (``with open_index(settings) as index: ...``).
    """

    def upsert(self, docs: Sequence[Document]) -> None:
        """Insert or replace ``docs`` by id; committed (durable, searchable) on return."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove the documents with these ids (unknown ids are ignored); committed on return."""
        ...

    def get(self, doc_id: str) -> Document | None:
        """The stored document with this id, or ``None``."""
        ...

    def count(self) -> int:
        """Number of documents in the index."""
        ...

    def search(
        self,
        query: str | Node,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: SortOrder = "best_match",
        facets: Sequence[str] = (),
        facet_size: int = 20,
        cursor: str | None = None,
        histogram: str | None = None,
        collapse: bool = False,
    ) -> SearchResult:
        """Run an analyst query (string or parsed AST) and return one page of hits.

        ``facets`` names fields of :data:`FACET_FIELDS` or ``entity:<LABEL>``; each returns its
        ``facet_size`` most frequent values. ``cursor`` (from a previous result's
        ``next_cursor``, same query and sort) continues after that page, deep-paging without
        ``offset``'s window limit (``search_after``). ``histogram`` (one of
        :data:`HISTOGRAM_INTERVALS`) counts matches per bucket of ``published_at``.

        ``collapse`` lists each story once (near-duplicate copies share a story, see
        :attr:`~osintel.records.Document.story_id`): its first copy in the sort order stands for
        it, with :attr:`Hit.copies`, and :attr:`SearchResult.stories` counts the stories.
        ``offset`` and the cursor then count stories, and paging stops at the result window
        (10,000 stories), as Elasticsearch's ``collapse`` does.

        Raises :class:`~osintel.errors.QueryError` for a malformed query, unknown facet, bad
        cursor or interval.
        """
        ...

    def close(self) -> None:
        """Release the writer lock and any other resources. Idempotent."""
        ...

    def __enter__(self) -> Self:
        ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """:meth:`close` the index."""
        ...
