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
    │   └── PartialIndexError     some documents of a batch were not acknowledged (per-id reasons)
    ├── QueryError           an analyst query is malformed; carries the position
    ├── NotFoundError        a requested record does not exist
    ├── AlertError           an alert rule is invalid or an alert cannot be evaluated
    │   └── DeliveryError    an alert sink (webhook, e-mail, file) refused or failed a delivery
    ├── ExportError          an export cannot be made (unknown format, unwritable output)
    │   └── DisseminationError  the handling code or caller's role forbids this disclosure
    ├── AlreadyRunningError  another `osintel run` holds the data directory
    ├── ApiWorkerError       the API's worker processes cannot start or keep dying
    └── LeaseHeldError       outbox leases of a live (or unverifiable) worker were not released
"""

from __future__ import annotations


class OsintelError(Exception):
    """Root of every error osintel raises on purpose."""


class ConfigError(OsintelError):
    """Settings, sources or taxonomy are invalid; raised at start-up, never mid-run."""


class UsageError(OsintelError):
    """A command-line argument or input is invalid (a malformed URL, a missing data directory)."""


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


class PartialIndexError(IndexBackendError):
    """A bulk write was only partly acknowledged; the documents not named here were indexed.

    ``rejected`` maps document id to the engine's reason for refusing it for good (a mapping
    error: sending it again cannot help); ``retryable`` maps id to the reason it may succeed
    later (429 back-pressure, an unreachable node).
    """

    def __init__(
        self, message: str, *, rejected: dict[str, str] | None = None, retryable: dict[str, str] | None = None
    ) -> None:
        self.rejected = dict(rejected or {})
        self.retryable = dict(retryable or {})
        super().__init__(message)

    @property
    def failed(self) -> dict[str, str]:
        """Every id that was not acknowledged, with its reason."""
        return {**self.retryable, **self.rejected}


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


class ApiWorkerError(OsintelError):
    """The API's worker processes cannot listen on their port, or keep dying (``--api-workers``)."""


class LeaseHeldError(OsintelError):
    """Releasing outbox leases was refused: their holder is alive or cannot be checked."""


class AlertError(OsintelError):
    """An alert rule is invalid (bad query, scope or delivery) or cannot be evaluated."""


class DeliveryError(AlertError):
    """A sink could not deliver an alert message. ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class ExportError(OsintelError):
    """An export or feed cannot be produced: unknown format, bad output path, too many documents."""


class DisseminationError(ExportError):
    """The disclosure is not permitted: a handling code forbids it for this caller or purpose."""
