"""The indexing stage: one :class:`~indexer.base.Index` protocol, several backends.

Public interface (what ``search_api`` and the CLI may import):

- :func:`open_index` — the configured backend for a :class:`~osintel.settings.Settings`;
- :func:`prepare_batch` — documents mapped for that backend without opening it (workers map in
  parallel, the one writer calls :meth:`~indexer.base.Index.write`);
- :class:`~indexer.base.Index`, :class:`~indexer.base.SearchResult`, :class:`~indexer.base.Hit`;
- :func:`~indexer.query.parse_query`, :func:`~indexer.query.check_query` and the AST node
  types (incl. :class:`~indexer.base.GeoDistance`/:class:`~indexer.base.GeoBox`), for stored
  queries (alerts);
- :func:`~indexer.query.normalize` and :func:`~indexer.query.normalize_entity_value`, how a
  field's value is written in the index (phones in E.164, handles without ``@``...);
- :data:`~indexer.base.SORT_ALIASES`, old sort names still accepted;
- :data:`~indexer.base.FACET_FIELDS`, :data:`~indexer.base.ENTITY_FACET_PREFIX` and
  :data:`~indexer.base.HISTOGRAM_INTERVALS`, what ``search(facets=, histogram=)`` accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from indexer.base import (
    ENTITY_FACET_PREFIX,
    FACET_FIELDS,
    HISTOGRAM_INTERVALS,
    SORT_ALIASES,
    SORT_ORDERS,
    And,
    GeoBox,
    GeoDistance,
    Hit,
    Index,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    PreparedBatch,
    Prefix,
    Range,
    SearchResult,
    Term,
)
from indexer.query import (
    FIELDS,
    MAX_CLAUSES,
    MAX_QUERY_LENGTH,
    check_query,
    normalize,
    normalize_entity_value,
    parse_query,
)
from osintel.errors import ConfigError

if TYPE_CHECKING:
    from osintel.records import Document
    from osintel.settings import Settings

#: Backends :func:`open_index` knows, by ``settings.index.backend``.
BACKENDS: tuple[str, ...] = ("tantivy", "elasticsearch")

__all__ = [
    "BACKENDS",
    "ENTITY_FACET_PREFIX",
    "FACET_FIELDS",
    "FIELDS",
    "HISTOGRAM_INTERVALS",
    "MAX_CLAUSES",
    "MAX_QUERY_LENGTH",
    "SORT_ALIASES",
    "SORT_ORDERS",
    "And",
    "GeoBox",
    "GeoDistance",
    "Hit",
    "Index",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "PreparedBatch",
    "Prefix",
    "Range",
    "SearchResult",
    "Term",
    "normalize",
    "normalize_entity_value",
    "check_query",
    "open_index",
    "prepare_batch",
    "parse_query",
]


def open_index(settings: Settings) -> Index:
    """Open (creating if needed) the search index configured in ``settings.index``.

    Raises :class:`~osintel.errors.ConfigError` for an unknown backend and
    :class:`~osintel.errors.IndexBackendError` if the index cannot be opened.
    """
    backend = settings.index.backend.strip().lower()
    if backend == "tantivy":
        from indexer.tantivy_index import TantivyIndex

        return TantivyIndex(
            settings.index_dir,
            writer_heap_bytes=settings.index.writer_heap_bytes,
            max_page_size=settings.index.max_page_size,
            phone_region=settings.nlp.phone_default_region,
        )
    if backend == "elasticsearch":
        from indexer.elastic import ElasticIndex, options_from_settings

        return ElasticIndex(
            options_from_settings(settings),
            max_page_size=settings.index.max_page_size,
            phone_region=settings.nlp.phone_default_region,
        )
    raise ConfigError(
        f"unknown index backend {settings.index.backend!r}; expected one of {', '.join(BACKENDS)}"
    )


def prepare_batch(settings: Settings, docs: Sequence[Document]) -> PreparedBatch:
    """``docs`` mapped onto the fields of the backend in ``settings.index`` (no index is opened).

    Equal to what that backend's ``upsert`` maps; pass it to :meth:`~indexer.base.Index.write`.
    """
    backend = settings.index.backend.strip().lower()
    region = settings.nlp.phone_default_region
    if backend == "tantivy":
        from indexer.tantivy_schema import prepare as prepare_tantivy

        return prepare_tantivy(docs, phone_region=region)
    if backend == "elasticsearch":
        from indexer.es_mapping import prepare as prepare_es

        return prepare_es(docs, phone_region=region)
    raise ConfigError(
        f"unknown index backend {settings.index.backend!r}; expected one of {', '.join(BACKENDS)}"
    )
