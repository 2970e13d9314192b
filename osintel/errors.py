"""The osintel error hierarchy.

Library code raises these; only the CLI and the HTTP layer translate them into exit codes and
status codes. The tree is deliberately shallow::

    OsintelError
    ├── ConfigError          bad settings, sources or taxonomy files (found at start-up)
    ├── StoreError           the control store cannot be opened or written
    ├── CollectionError      a crawl could not run (not: one page failed, which is a stat)
    │   └── BlockedAddressError   the SSRF guard refused a destination
    ├── EnrichmentError      the NLP stage cannot be built or a batch cannot be enriched
    ├── IndexBackendError    the search index cannot be opened or written
    ├── QueryError           an analyst query is malformed; carries the position
    ├── NotFoundError        a requested record does not exist
    └── AlreadyRunningError  another `osintel run` holds the data directory
"""

from __future__ import annotations


class OsintelError(Exception):
    """Root of every error osintel raises on purpose."""


class ConfigError(OsintelError):
    """Settings, sources or taxonomy are invalid; raised at start-up, never mid-run."""


class StoreError(OsintelError):
    """The control store (SQLite) cannot be opened, migrated or written."""


class CollectionError(OsintelError):
    """A crawl could not be started or finished."""


class BlockedAddressError(CollectionError):
    """The SSRF guard refused to connect to an internal or reserved address."""


class EnrichmentError(OsintelError):
    """The NLP stage cannot be built (missing model) or failed on a batch."""


class IndexBackendError(OsintelError):
    """The search index cannot be opened, written or queried."""


class QueryError(OsintelError):
    """An analyst query cannot be parsed or compiled.

    ``position`` is the 0-based character offset where the problem was found, if known.
    """

    def __init__(self, message: str, *, query: str = "", position: int | None = None) -> None:
        self.query = query
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where}")


class NotFoundError(OsintelError):
    """A requested document, source or run does not exist."""


class AlreadyRunningError(OsintelError):
    """Another ``osintel run`` already holds the data directory; ``pid`` is its process id."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        self.pid = pid
        super().__init__(message)
