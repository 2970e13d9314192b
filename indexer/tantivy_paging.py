"""Stable ordering and cursor (``search_after``) paging on the embedded index.

Every order is total, with the document id as the last tiebreak, so a page boundary never
splits or repeats a group of equal keys:

- ``published`` / ``-published``: ``(time, id)`` on the ``sort_up``/``sort_down`` fast fields
  (undated documents last in both);
- ``relevance_score``: ``(-relevance, id)`` on the ``sort_rel`` fast field;
- ``best_match`` with scored (full-text) clauses: ``(-score, id)``;
- ``best_match`` with filters only (every score is equal): ``(id)``.

Tantivy orders by one key and breaks ties arbitrarily, so the pager fetches the page plus the
whole group of documents that share the boundary key (ordered by
:data:`~indexer.tantivy_schema.ID_KEY`, the id's first 8 bytes) and orders the rest here; ids are
read only where two ``id_key`` values collide. Date and id orders filter on the cursor's key
inside tantivy, so a page costs the same at any depth. BM25 scores cannot be filtered on, so a
relevance page re-collects the hits before it (the cursor remembers how many); that depth is
capped by :data:`MAX_SCORE_SCAN`.

One engine search per page in the normal case: date and id orders fetch one hit past the page
(its key tells whether the boundary group is complete); relevance fetches :data:`TIE_MARGIN`
hits past it, since only hits scoring above the lowest fetched score are known to be complete.
A wider tie at the boundary costs a second search, four times wider (and so on).

A cursor is URL-safe base64 of JSON: version, a fingerprint of (query, sort), the last hit's
key and id, and the depth reached. It is validated on the way back in.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import tantivy

from indexer.search_common import Mode, fingerprint, is_scored, mode_for
from indexer.tantivy_schema import ID_KEY, SORT_DOWN, SORT_REL, SORT_UP, match_count
from osintel.errors import IndexBackendError, QueryError

# fingerprint, is_scored and mode_for live in search_common; re-exported for existing imports.
__all__ = [
    "Cursor",
    "Mode",
    "Pager",
    "decode_cursor",
    "encode_cursor",
    "fingerprint",
    "is_scored",
    "mode_for",
]

#: Deepest hit a relevance-sorted (scored) query may page to; date orders have no limit.
MAX_SCORE_SCAN = 100_000
#: Hits a relevance page fetches past its last one (and the one telling whether more follow),
#: so that the lowest score's group, which may continue beyond the fetched hits and is dropped,
#: rarely leaves the page short. Fetching a few more costs next to nothing: every match is
#: scored anyway, for the total.
TIE_MARGIN = 32
#: How much wider each further relevance search is when a tie group was cut. Every search scores
#: every match, so a wide tie (quantised document lengths make many: 479 documents share the
#: second score of a phrase at 1M) is found in fewer, wider searches: 3 instead of 5 there.
_TIE_GROWTH = 4
MAX_CURSOR_LENGTH = 1024
_CURSOR_VERSION = 1
_UNCHANGED = "invalid cursor: pass next_cursor from a previous result unchanged"
_ORDER = operator.attrgetter("key", "id_key")
_MUST = tantivy.Occur.Must
_SHOULD = tantivy.Occur.Should
_FIELD_OF_MODE = {"id": ID_KEY, "up": SORT_UP, "down": SORT_DOWN, "rel": SORT_REL}
_TYPE_OF_FIELD = {
    ID_KEY: tantivy.FieldType.Unsigned,
    SORT_UP: tantivy.FieldType.Integer,
    SORT_DOWN: tantivy.FieldType.Integer,
    SORT_REL: tantivy.FieldType.Integer,
}


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the last hit's primary key, ``id_key`` and id, and hits served."""

    key: int | float
    id_key: int
    doc_id: str
    depth: int


def encode_cursor(print_: str, cursor: Cursor) -> str:
    payload = {
        "v": _CURSOR_VERSION,
        "q": print_,
        "k": cursor.key,
        "ik": cursor.id_key,
        "id": cursor.doc_id,
        "d": cursor.depth,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, print_: str, mode: Mode) -> Cursor:
    """Parse and validate a cursor for the listing identified by ``print_``."""
    if not isinstance(text, str) or not text or len(text) > MAX_CURSOR_LENGTH:
        raise QueryError(_UNCHANGED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError):
        raise QueryError(_UNCHANGED) from None
    if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION:
        raise QueryError("invalid cursor: unknown format or version")
    if data.get("q") != print_:
        raise QueryError("the cursor belongs to a different query or sort order")
    key, ikey, doc_id, depth = data.get("k"), data.get("ik"), data.get("id"), data.get("d")
    malformed = QueryError("invalid cursor: malformed position")
    if mode == "score":
        if isinstance(key, int) and not isinstance(key, bool):
            key = float(key)
        if not (isinstance(key, float) and math.isfinite(key)):
            raise malformed
    else:
        low, high = (0, 2**64 - 1) if mode == "id" else (-(2**63), 2**63 - 1)
        if not (isinstance(key, int) and not isinstance(key, bool) and low <= key <= high):
            raise malformed
    if not (isinstance(ikey, int) and not isinstance(ikey, bool) and 0 <= ikey < 2**64):
        raise malformed
    if not (isinstance(depth, int) and not isinstance(depth, bool) and 0 <= depth < 2**31):
        raise malformed
    if not isinstance(doc_id, str):
        raise malformed
    return Cursor(key, ikey, doc_id, depth)


class Row:
    """One hit while ordering: ``key`` ascending (negated score for relevance), then id."""

    __slots__ = ("address", "doc_id", "id_key", "key")

    def __init__(self, key: int | float, address: tantivy.DocAddress) -> None:
        self.key = key
        self.address = address
        self.id_key = 0
        self.doc_id: str | None = None

    @property
    def score(self) -> float:
        return -float(self.key)


class Pager:
    """Fetches one page of a compiled query in a total order (see the module docstring)."""

    def __init__(
        self, searcher: tantivy.Searcher, schema: tantivy.Schema, query: tantivy.Query, mode: Mode
    ) -> None:
        self.searcher = searcher
        self.schema = schema
        self.query = query
        self.mode = mode
        #: Matches of the whole query, when a page was fetched without a cursor filter.
        self.total: int | None = None
        # Set when a relevance search stopped at a shorter complete prefix (see prefix()).
        self._stopped_early = False

    def page(self, *, after: Cursor | None, skip: int, take: int) -> tuple[list[Row], bool]:
        """Rows ``skip .. skip+take`` after ``after`` (or from the start), and whether more
        follow."""
        need = skip + take + 1
        try:
            if self.mode == "score":
                rows = self._scored(after, need, depth=after.depth if after else 0)
            else:
                rows = self._by_field(_FIELD_OF_MODE[self.mode], after, need)
        except ValueError as exc:
            raise IndexBackendError(f"search failed: {exc}") from exc
        return rows[skip : skip + take], len(rows) > skip + take

    def prefix(self, take: int, enough: Callable[[list[Row]], bool]) -> tuple[list[Row], bool]:
        """The first ``take`` rows of the order (no cursor), or a shorter complete prefix of it
        that ``enough`` accepts, and whether more rows follow.

        A relevance order whose lowest fetched score ties over many documents needs wider
        searches to complete ``take`` rows; a caller that needs only some of them (a collapsed
        page needs its stories) says so with ``enough`` and saves those searches."""
        if self.mode != "score":
            return self.page(after=None, skip=0, take=take)
        self._stopped_early = False
        try:
            rows = self._scored(None, take + 1, depth=0, enough=enough)
        except ValueError as exc:
            raise IndexBackendError(f"search failed: {exc}") from exc
        if self._stopped_early:
            return rows, True
        return rows[:take], len(rows) > take

    def cursor_after(self, row: Row, depth: int) -> Cursor:
        return Cursor(row.key, row.id_key, self._id(row), depth)

    # --- orders ---

    def _scored(
        self,
        after: Cursor | None,
        need: int,
        *,
        depth: int,
        enough: Callable[[list[Row]], bool] | None = None,
    ) -> list[Row]:
        limit = min(need + depth + TIE_MARGIN, MAX_SCORE_SCAN)
        while True:
            result = self.searcher.search(self.query, limit, count=True)
            self.total = match_count(result)
            rows = [Row(-float(score), address) for score, address in result.hits]
            full = match_count(result) > len(rows)
            self._fill_id_keys(rows)
            if full:
                # The lowest score's group may continue past the fetched hits: not yet ordered.
                boundary = rows[-1].key
                rows = [row for row in rows if row.key < boundary]
            rows = self._after(self._sorted(rows), after)
            if len(rows) >= need or not full:
                return rows[:need]
            if enough is not None and enough(rows):
                self._stopped_early = True
                return rows
            if limit >= MAX_SCORE_SCAN:
                raise QueryError(
                    f"cannot page a relevance-ordered query beyond hit {MAX_SCORE_SCAN}; "
                    "sort by date or narrow the query"
                )
            limit = min(limit * _TIE_GROWTH, MAX_SCORE_SCAN)

    def _by_field(self, field: str, after: Cursor | None, need: int) -> list[Row]:
        query = self.query
        if after is not None:
            query = self._and(query, self._after_filter(field, after))
        # One row more than needed: when its key differs from the row before, the page's
        # boundary group is complete and no group query is needed (the common case).
        limit = need + 1
        while True:
            result = self.searcher.search(
                query, limit, count=True, order_by_field=field, order=tantivy.Order.Asc
            )
            if after is None:
                self.total = match_count(result)
            rows = [Row(key, address) for key, address in result.hits]
            full = match_count(result) > len(rows)
            if full:
                boundary = int(rows[-1].key)  # an integer fast field: its keys are ints
                below = self._ordered([row for row in rows if row.key < boundary], field, after)
                if len(below) >= need:
                    return below[:need]
                rows = [row for row in rows if row.key < boundary]
                rows += self._group(query, field, boundary, limit)
            rows = self._ordered(rows, field, after)
            if len(rows) >= need or not full:
                return rows[:need]
            limit *= 2

    def _ordered(self, rows: list[Row], field: str, after: Cursor | None) -> list[Row]:
        if field == ID_KEY:
            for row in rows:
                row.id_key = int(row.key)
        else:
            self._fill_id_keys(rows)
        return self._after(self._sorted(rows), after)

    def _group(self, query: tantivy.Query, field: str, key: int, limit: int) -> list[Row]:
        """The ``limit`` first rows (by id) whose ``field`` equals ``key``, plus any rows that
        share the last one's ``id_key`` (so the group is complete up to its last id)."""
        if field == ID_KEY:
            return self._all_equal(self._and(query, self._equals(ID_KEY, key)), ID_KEY)
        in_group = self._and(query, self._equals(field, key))
        rows = [Row(key, address) for _, address in self._search(in_group, limit, ID_KEY)]
        self._fill_id_keys(rows)
        if len(rows) == limit:
            last = rows[-1].id_key
            rows = [row for row in rows if row.id_key < last]
            tied = self._all_equal(self._and(in_group, self._equals(ID_KEY, last)), ID_KEY)
            for row in tied:
                row.key, row.id_key = key, last
            rows += tied
        return rows

    def _all_equal(self, query: tantivy.Query, field: str) -> list[Row]:
        total = match_count(self.searcher.search(query, 1, count=True))
        return [Row(k, a) for k, a in self._search(query, max(total, 1), field)]

    # --- helpers ---

    def _search(
        self, query: tantivy.Query, limit: int, field: str
    ) -> list[tuple[int, tantivy.DocAddress]]:
        result = self.searcher.search(
            query, limit, count=False, order_by_field=field, order=tantivy.Order.Asc
        )
        return result.hits

    def _fill_id_keys(self, rows: list[Row]) -> None:
        if rows:
            values = self.searcher.fast_field_values(ID_KEY, [row.address for row in rows])
            for row, value in zip(rows, values):
                row.id_key = int(value or 0)

    def _id(self, row: Row) -> str:
        if row.doc_id is None:
            row.doc_id = str(self.searcher.doc(row.address).get_first("id"))
        return row.doc_id

    def _sorted(self, rows: list[Row]) -> list[Row]:
        rows.sort(key=_ORDER)
        keys = [(row.key, row.id_key) for row in rows]
        if len(set(keys)) == len(keys):
            return rows  # the common case: no two rows share (key, id_key)
        out: list[Row] = []
        for _, group in itertools.groupby(rows, key=_ORDER):
            tied = list(group)
            if len(tied) > 1:
                tied.sort(key=self._id)
            out.extend(tied)
        return out

    def _after(self, rows: list[Row], after: Cursor | None) -> list[Row]:
        if after is None:
            return rows
        mark = (after.key, after.id_key)
        return [
            row
            for row in rows
            if (row.key, row.id_key) > mark
            or ((row.key, row.id_key) == mark and self._id(row) > after.doc_id)
        ]

    def _after_filter(self, field: str, after: Cursor) -> tantivy.Query:
        """Documents at or past the cursor's key (the exact id comparison is done here)."""
        if field == ID_KEY:
            return self._range(ID_KEY, after.id_key, None)
        past = self._range(field, int(after.key), None, include_low=False)
        same = self._and(
            self._equals(field, int(after.key)), self._range(ID_KEY, after.id_key, None)
        )
        return tantivy.Query.boolean_query([(_SHOULD, past), (_SHOULD, same)])

    def _equals(self, field: str, value: int) -> tantivy.Query:
        return self._range(field, value, value)

    def _range(
        self, field: str, low: int, high: int | None, *, include_low: bool = True
    ) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, field, _TYPE_OF_FIELD[field], low, high, include_low, True
        )

    @staticmethod
    def _and(*queries: tantivy.Query) -> tantivy.Query:
        return tantivy.Query.boolean_query([(_MUST, q) for q in queries])
