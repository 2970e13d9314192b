"""The indexing stage: one :class:`~indexer.base.Index` protocol, several backends.

Public interface (what ``search_api`` and the CLI may import):

- :func:`open_index` — the configured backend for a :class:`~osintel.settings.Settings`;
- :class:`~indexer.base.Index`, :class:`~indexer.base.SearchResult`, :class:`~indexer.base.Hit`;
- :func:`~indexer.query.parse_query` and the AST node types, for stored queries (alerts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.base import (
    FACET_FIELDS,
    And,
    Hit,
    Index,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    SearchResult,
    Term,
)
from indexer.query import FIELDS, parse_query
from osintel.errors import ConfigError

if TYPE_CHECKING:
    from osintel.settings import Settings

#: Backends :func:`open_index` knows, by ``settings.index.backend``.
BACKENDS: tuple[str, ...] = ("tantivy",)

__all__ = [
    "BACKENDS",
    "FACET_FIELDS",
    "FIELDS",
    "And",
    "Hit",
    "Index",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Range",
    "SearchResult",
    "Term",
    "open_index",
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
    raise ConfigError(
        f"unknown index backend {settings.index.backend!r}; expected one of {', '.join(BACKENDS)}"
    )
