"""The cluster search index: Elasticsearch (or OpenSearch) behind the :class:`~indexer.base.Index` protocol.

One client, the official ``elasticsearch`` one; for an OpenSearch cluster
(``distribution = "opensearch"``) it runs over :class:`indexer.es_compat.OpenSearchNode`.

Layout on the cluster, for an index prefix ``P`` (setting ``elasticsearch.index_prefix``):

- ``P-documents-v<N>``: the concrete index, ``N`` = :data:`indexer.es_mapping.MAPPING_VERSION`,
  created from the composable index template ``P-documents`` (settings + generated mappings);
- ``P-documents``: the read alias every search uses;
- ``P-documents-write``: the write alias every write uses.

A mapping change is a new version: ``osintel reindex --to elasticsearch`` fills
``P-documents-v<N+1>`` from the store of record, then :meth:`ElasticIndex.swap_aliases` moves
both aliases in one atomic request, so searches never see a half-built index.

Query parsing, guards (length, clause count, no regex/leading wildcard) and the AST are shared
with the embedded backend; :mod:`indexer.es_query` compiles the AST; :mod:`indexer.es_search`
builds the request and reads the response; :mod:`indexer.es_bulk` writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from indexer.base import Node, SearchResult, SortOrder
from indexer.es_bulk import BulkOutcome, bulk_write
from indexer.es_mapping import MAPPING_VERSION, from_source, index_body, to_source, version_of
from indexer.es_search import SearchRequest, run_search
from indexer.query import DEFAULT_PHONE_REGION
from osintel.errors import ConfigError, IndexBackendError, PartialIndexError
from osintel.records import Document

if TYPE_CHECKING:
    from osintel.settings import Settings

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ElasticOptions:
    """How to reach the cluster and how hard to lean on it."""

    urls: tuple[str, ...]
    distribution: str = "elasticsearch"
    api_key: str = ""
    username: str = ""
    password: str = ""
    ca_file: str = ""
    request_timeout: float = 30.0
    search_timeout: float = 10.0
    index_prefix: str = "osintel"
    bulk_chunk_size: int = 500
    bulk_max_retries: int = 3
    bulk_initial_backoff: float = 0.5
    shards: int = 1
    replicas: int = 0


def options_from_settings(settings: Settings, *, index_prefix: str | None = None) -> ElasticOptions:
    """The :class:`ElasticOptions` of ``settings.elasticsearch``."""
    es = settings.elasticsearch
    return ElasticOptions(
        urls=tuple(es.urls),
        distribution=es.distribution,
        api_key=es.api_key,
        username=es.username,
        password=es.password,
        ca_file=es.ca_file,
        request_timeout=es.request_timeout,
        search_timeout=es.search_timeout,
        index_prefix=index_prefix or es.index_prefix,
        bulk_chunk_size=es.bulk_chunk_size,
        bulk_max_retries=es.bulk_max_retries,
    )


def make_client(options: ElasticOptions) -> Elasticsearch:
    """An ``Elasticsearch`` client for ``options`` (several hosts are load-balanced)."""
    if not options.urls:
        raise ConfigError("elasticsearch.urls is empty: give at least one cluster URL")
    kwargs: dict[str, Any] = {"request_timeout": options.request_timeout, "max_retries": 1, "retry_on_timeout": True}
    if options.api_key:
        kwargs["api_key"] = options.api_key
    elif options.username:
        kwargs["basic_auth"] = (options.username, options.password)
    if options.ca_file:
        kwargs["ca_certs"] = options.ca_file
    if options.distribution == "opensearch":
        from indexer.es_compat import OpenSearchNode

        kwargs["node_class"] = OpenSearchNode
    elif options.distribution != "elasticsearch":
        raise ConfigError(f"elasticsearch.distribution must be elasticsearch or opensearch, not {options.distribution!r}")
    try:
        return Elasticsearch(list(options.urls), **kwargs)
    except ValueError as exc:
        raise ConfigError(f"invalid Elasticsearch settings: {exc}") from exc


def unreachable_message(options: ElasticOptions, exc: BaseException) -> str:
    """One line for an unreachable cluster: the addresses tried, the root cause, what to check."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    reason = str(cause).rsplit("]", 1)[-1].strip() or type(cause).__name__
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        reason = "connection refused"
    elif "timed out" in str(exc).lower() or isinstance(cause, TimeoutError):
        reason = "timed out"
    return (f"Elasticsearch unreachable at {', '.join(options.urls)} ({reason}); check elasticsearch.urls"
            " (OSINTEL_ES_URL) and that the cluster is up")


class ElasticIndex:
    """An :class:`~indexer.base.Index` on an Elasticsearch/OpenSearch cluster.

    Opening creates the template, the versioned index and its aliases when they do not exist.
    Raises :class:`IndexBackendError` when the cluster cannot be reached at open time.
    """

    def __init__(
        self,
        options: ElasticOptions,
        *,
        max_page_size: int = 500,
        phone_region: str = DEFAULT_PHONE_REGION,
        client: Elasticsearch | None = None,
        create: bool = True,
    ) -> None:
        self.options = options
        self.max_page_size = max_page_size
        self.phone_region = phone_region
        self.client = client or make_client(options)
        prefix = options.index_prefix.strip().lower()
        self.read_alias = f"{prefix}-documents"
        self.write_alias = f"{prefix}-documents-write"
        self.template_name = f"{prefix}-documents"
        self._closed = False
        self._ready = not create
        if create:
            try:
                self._guard(self._make_ready, "open the index")
            except IndexBackendError as exc:
                if not isinstance(exc.__cause__, TransportError):
                    raise  # refused (auth, bad settings): fail loudly at start-up
                # Unreachable: start anyway, so collection goes on and the outbox holds the
                # documents; the index is created on the first call that reaches the cluster.
                logger.info("Elasticsearch unreachable at start-up; will retry on first use: %s", exc)

    def require_reachable(self) -> None:
        """Raise :class:`IndexBackendError` (one line: where, why, what to do) if the cluster is down."""
        try:
            self.client.info()
        except TransportError as exc:
            raise IndexBackendError(unreachable_message(self.options, exc)) from exc
        except ApiError as exc:
            raise IndexBackendError(f"Elasticsearch said {exc.status_code} {exc.message}") from exc

    # --- layout ---

    def index_name(self, version: int = MAPPING_VERSION) -> str:
        """The concrete index name of a mapping version."""
        return f"{self.read_alias}-v{version}"

    def put_template(self) -> None:
        """Create or update the index template that every versioned index is created from."""
        self.client.indices.put_index_template(
            name=self.template_name,
            index_patterns=[f"{self.read_alias}-v*"],
            template=index_body(shards=self.options.shards, replicas=self.options.replicas),
            priority=100,
            meta={"managed_by": "osintel", "mapping_version": MAPPING_VERSION},
        )

    def ensure_index(self) -> str:
        """Create the template, and the current versioned index behind both aliases if no
        index holds the read alias yet; return the index the read alias points to."""
        self.put_template()
        current = self.alias_target()
        if current is not None:
            if current != self.index_name():
                logger.warning(
                    "the read alias %s points to %s, built with an older mapping than v%s; "
                    "run `osintel reindex --to elasticsearch` to rebuild and swap",
                    self.read_alias, current, MAPPING_VERSION,
                )
            return current
        self.create_versioned_index(MAPPING_VERSION, aliases=True)
        return self.index_name()

    def create_versioned_index(self, version: int, *, aliases: bool) -> str:
        """Create ``<prefix>-documents-v<version>`` (optionally holding both aliases)."""
        name = self.index_name(version)
        body: dict[str, Any] = {}
        if aliases:
            body["aliases"] = {self.read_alias: {}, self.write_alias: {"is_write_index": True}}
        try:
            self.client.indices.create(index=name, **body)
        except ApiError as exc:
            if exc.status_code != 400 or "already_exists" not in str(exc.body):
                raise
        return name

    def alias_target(self) -> str | None:
        """The concrete index behind the read alias, or ``None``."""
        try:
            found = self.client.indices.get_alias(name=self.read_alias)
        except NotFoundError:
            return None
        names = sorted(found.body)
        return names[-1] if names else None

    def swap_aliases(self, new_index: str) -> str | None:
        """Point both aliases at ``new_index`` in one atomic request; return the old index."""
        old = self.alias_target()
        actions: list[dict[str, Any]] = []
        if old is not None and old != new_index:
            actions += [
                {"remove": {"index": old, "alias": self.read_alias}},
                {"remove": {"index": old, "alias": self.write_alias}},
            ]
        actions += [
            {"add": {"index": new_index, "alias": self.read_alias}},
            {"add": {"index": new_index, "alias": self.write_alias, "is_write_index": True}},
        ]
        self._guard(lambda: self.client.indices.update_aliases(actions=actions), "swap the aliases")
        return old

    # --- lifecycle ---

    def close(self) -> None:
        """Close the HTTP connections. Idempotent."""
        if not self._closed:
            self._closed = True
            self.client.close()

    def __enter__(self) -> ElasticIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ping(self) -> bool:
        """True when the cluster answers."""
        try:
            return bool(self.client.ping())
        except (TransportError, ApiError):
            return False

    def _make_ready(self) -> None:
        self.ensure_index()
        self._ready = True

    def _guard(self, call: Callable[[], _T], what: str) -> _T:
        if self._closed:
            raise IndexBackendError(f"the Elasticsearch index {self.read_alias} is closed")
        try:
            if not self._ready and call != self._make_ready:
                self._make_ready()
            return call()
        except TransportError as exc:
            raise IndexBackendError(f"cannot {what}: {unreachable_message(self.options, exc)}") from exc
        except ApiError as exc:
            raise IndexBackendError(f"cannot {what}: Elasticsearch said {exc.status_code} {exc.message}") from exc

    # --- writes ---

    def upsert(self, docs: Sequence[Document], *, index: str | None = None) -> None:
        """Index ``docs`` by id (a repeated id in a batch: last wins), searchable on return.

        Raises :class:`PartialIndexError` naming the documents the engine did not acknowledge
        (``rejected`` for good, ``retryable`` later); the others are indexed. Raises
        :class:`IndexBackendError` when the cluster cannot be reached at all.
        """
        if not docs:
            return
        latest = {doc.id: doc for doc in docs}
        actions = [
            {
                "_op_type": "index",
                "_index": index or self.write_alias,
                "_id": doc_id,
                "version": version_of(doc),
                "version_type": "external_gte",
                "_source": to_source(doc, phone_region=self.phone_region),
            }
            for doc_id, doc in latest.items()
        ]
        self._finish(self._write(actions), len(actions), "indexing")

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        if not ids:
            return
        actions = [{"_op_type": "delete", "_index": self.write_alias, "_id": doc_id} for doc_id in dict.fromkeys(ids)]
        self._finish(self._write(actions), len(actions), "deleting")

    def _write(self, actions: list[dict[str, Any]]) -> BulkOutcome:
        if not self._ready:
            self._guard(self._make_ready, "open the index")
        if self._closed:
            raise IndexBackendError(f"the Elasticsearch index {self.read_alias} is closed")
        return bulk_write(
            self.client,
            actions,
            chunk_size=self.options.bulk_chunk_size,
            max_retries=self.options.bulk_max_retries,
            initial_backoff=self.options.bulk_initial_backoff,
        )

    @staticmethod
    def _finish(outcome: BulkOutcome, total: int, what: str) -> None:
        if not outcome.rejected and not outcome.retryable:
            return
        if outcome.unreachable and not outcome.acked:
            example = next(iter(outcome.retryable.values()))
            raise IndexBackendError(f"{what} {total} documents failed: Elasticsearch unreachable ({example})")
        raise PartialIndexError(
            f"{what}: {len(outcome.acked)} of {total} documents acknowledged, "
            f"{len(outcome.rejected)} rejected, {len(outcome.retryable)} to retry",
            rejected=outcome.rejected,
            retryable=outcome.retryable,
        )

    # --- reads ---

    def count(self) -> int:
        return int(self._guard(lambda: self.client.count(index=self.read_alias), "count documents")["count"])

    def get(self, doc_id: str) -> Document | None:
        def fetch() -> Any:
            try:
                return self.client.get(index=self.read_alias, id=doc_id)
            except NotFoundError:
                return None

        found = self._guard(fetch, "get a document")
        return from_source(found["_source"]) if found is not None else None

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
        """Search with the analyst query language (see :mod:`indexer.query`); the same
        arguments and results as :meth:`indexer.tantivy_index.TantivyIndex.search`."""
        request = SearchRequest.build(
            query,
            limit=limit,
            offset=offset,
            sort=sort,
            facets=facets,
            facet_size=facet_size,
            cursor=cursor,
            histogram=histogram,
            max_page_size=self.max_page_size,
            phone_region=self.phone_region,
            timeout_s=self.options.search_timeout,
            collapse=collapse,
        )
        return self._guard(lambda: run_search(self.client, self.read_alias, request), "search")
