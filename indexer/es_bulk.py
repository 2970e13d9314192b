"""Bulk writes to Elasticsearch/OpenSearch with per-item results.

``helpers.streaming_bulk`` sends the actions in chunks and reports every item. Outcomes:

- acknowledged: ``200``/``201`` (written) and ``409`` (a version conflict: the engine already
  holds this capture or a newer one, because writes carry ``version_type=external_gte`` with the
  capture time as version), so the document is in the index;
- retryable: ``429`` items (the cluster pushes back; ``streaming_bulk`` itself retries them with
  exponential backoff first), and ``502``/``503``/``504`` or connection failures of a whole
  chunk, which are re-sent here with backoff; what still fails is handed back to the caller;
- rejected: every other item error (``400`` mapping errors and the like): the document will not
  go in however often it is sent, so it is reported with the engine's reason.

Ids are the document ids, so a retry never duplicates a document.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, TransportError, helpers

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class BulkOutcome:
    """Per-document result of :func:`bulk_write`: acknowledged ids, and reasons for the rest."""

    acked: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    retryable: dict[str, str] = field(default_factory=dict)
    unreachable: bool = False


def _reason(info: dict[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        kind = error.get("type", "error")
        reason = error.get("reason", "")
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason = f"{reason} (caused by {cause.get('type')}: {cause.get('reason')})"
        return f"{info.get('status')} {kind}: {reason}"
    if "exception" in info:
        return f"{type(info['exception']).__name__}: {info['exception']}"
    return f"{info.get('status')} {error}"


def bulk_write(
    client: Elasticsearch,
    actions: Sequence[dict[str, Any]],
    *,
    chunk_size: int = 500,
    max_retries: int = 3,
    initial_backoff: float = 0.5,
    max_backoff: float = 10.0,
    refresh: str | bool = "wait_for",
) -> BulkOutcome:
    """Send ``actions`` (each with ``_id``); retry what may succeed later; classify the rest.

    ``refresh="wait_for"`` returns only when the writes are searchable, as the
    :class:`~indexer.base.Index` protocol promises.
    """
    outcome = BulkOutcome()
    pending: dict[str, dict[str, Any]] = {a["_id"]: a for a in actions}
    backoff = initial_backoff
    for attempt in range(max_retries + 1):
        resend: dict[str, str] = {}
        outcome.retryable = {}
        outcome.unreachable = False
        stream = _stream(client, pending.values(), chunk_size, max_retries, initial_backoff, max_backoff, refresh)
        for ok, item in stream:
            op, info = next(iter(item.items()))
            doc_id = str(info.get("_id"))
            status = info.get("status")
            exception = info.get("exception")
            if ok or status == 409 or (op == "delete" and status == 404):
                outcome.acked.append(doc_id)
            elif status == 429 and exception is None:
                # streaming_bulk already retried this item with backoff: the cluster is still
                # pushing back, so hand it back to the caller for later.
                outcome.retryable[doc_id] = _reason(info)
            elif status in RETRY_STATUSES or isinstance(exception, TransportError):
                resend[doc_id] = _reason(info)
                outcome.unreachable = outcome.unreachable or isinstance(exception, TransportError)
            else:
                outcome.rejected[doc_id] = _reason(info)
        pending = {doc_id: pending[doc_id] for doc_id in resend}
        if not pending:
            break
        if attempt < max_retries:
            logger.warning(
                "bulk: %d items not sent (e.g. %s); retry %d/%d in %.1fs",
                len(pending), next(iter(resend.values())), attempt + 1, max_retries, backoff,
            )
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
        else:
            outcome.retryable.update(resend)
    return outcome


def _stream(
    client: Elasticsearch,
    actions: Iterable[dict[str, Any]],
    chunk_size: int,
    max_retries: int,
    initial_backoff: float,
    max_backoff: float,
    refresh: str | bool,
) -> Iterable[tuple[bool, dict[str, Any]]]:
    actions = list(actions)
    seen: set[str] = set()
    try:
        for item in helpers.streaming_bulk(
            client,
            actions,
            chunk_size=chunk_size,
            max_retries=max_retries,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            raise_on_error=False,
            raise_on_exception=False,
            refresh=refresh,
        ):
            seen.add(str(next(iter(item[1].values())).get("_id")))
            yield item
    except TransportError as exc:
        # Connection refused/reset or timed out: streaming_bulk lets these escape. Everything
        # not yet reported is retryable (a later chunk may never have been sent).
        for action in actions:
            if action["_id"] not in seen:
                yield False, {action.get("_op_type", "index"): {"_id": action["_id"], "exception": exc}}
