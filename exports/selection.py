"""Which documents an export may contain: the query's hits, filtered by handling code.

Handling codes gate dissemination (3x5x2: ``P`` lawful sharing permitted, ``C`` sharing subject
to conditions). The rule, in one place:

- a ``C`` document is never disclosed to a ``partner`` (nor over a standing TAXII feed, which
  has no per-request purpose);
- a role in :data:`CONDITIONAL_ROLES` (supervisors) may include ``C`` documents in an export on
  request, and only with a recorded purpose (it goes into the audit event);
- the command line is run by the system's operator, who may do what a supervisor may.

The check runs on the document loaded from the control store (the store of record), after the
index already filtered by ``handling:P``, so a regrade that the index has not seen yet still
withholds the document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from indexer import And, Index, Node, Not, parse_query
from osintel.errors import DisseminationError, ExportError
from osintel.records import Document
from exports.common import grading_of

log = logging.getLogger(__name__)

#: Roles that may include handling-code C documents in an export (with a purpose).
CONDITIONAL_ROLES: frozenset[str] = frozenset({"supervisor", "operator"})


def conditions_allowed(role: str, *, include_conditional: bool, purpose: str | None) -> bool:
    """Whether this export may contain ``C`` documents; raises when the request is refused.

    Asking for ``C`` documents without the role is a :class:`DisseminationError` (403), and
    asking without a purpose too (the disclosure must say why).
    """
    if not include_conditional:
        return False
    if role not in CONDITIONAL_ROLES:
        raise DisseminationError(
            f"role {role!r} may not export documents whose handling code is C (conditions apply)"
        )
    if not (purpose and purpose.strip()):
        raise DisseminationError("exporting handling-code C documents needs a recorded purpose")
    return True


@dataclass
class Selection:
    """The documents an export will contain (loaded lazily) and what was left out."""

    ids: list[str]
    total_hits: int
    withheld: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    #: Handling-code C documents the query matched in the index and the gate left out.
    withheld_in_index: int = 0

    @property
    def withheld_count(self) -> int:
        """Every document the gate left out (in the index, or on the store's re-check)."""
        return self.withheld_in_index + len(self.withheld)


def _page_hits(index: Index, node: Node, *, page_size: int) -> Iterator[tuple[str, int]]:
    """Every hit id of ``node``, paging with the index's cursor (or offsets without one)."""
    cursor: str | None = None
    offset = 0
    seen = 0
    while True:
        if cursor:
            result = index.search(node, limit=page_size, sort="published", cursor=cursor)
        else:
            result = index.search(node, limit=page_size, sort="published", offset=offset)
        for hit in result.hits:
            yield hit.id, result.total
        seen += len(result.hits)
        if not result.hits or seen >= result.total:
            return
        if result.next_cursor:
            cursor = result.next_cursor
        else:
            offset += len(result.hits)


def select(
    index: Index,
    store: Any,
    query: str,
    *,
    include_conditional: bool,
    max_documents: int,
    page_size: int = 200,
    phone_region: str = "GB",
) -> Selection:
    """Run ``query`` over the index and keep the ids the export may contain.

    Raises :class:`~osintel.errors.QueryError` for a bad query and
    :class:`~osintel.errors.ExportError` when more than ``max_documents`` would be exported.
    """
    node = parse_query(query, phone_region=phone_region)
    withheld = 0
    if not include_conditional:
        conditional = parse_query("handling:C")
        withheld = index.search(And((node, conditional)), limit=0).total
        node = And((node, Not(conditional)))
    ids: list[str] = []
    total = 0
    for doc_id, total in _page_hits(index, node, page_size=page_size):
        if len(ids) >= max_documents:
            raise ExportError(
                f"the query selects {total} documents, more than the {max_documents} one export "
                "may hold ([export] max_documents); narrow the query"
            )
        ids.append(doc_id)
    selection = Selection(ids=ids, total_hits=total, withheld_in_index=withheld)
    log.info("export query %r selected %d documents", query, len(ids))
    return selection


def load(store: Any, selection: Selection, *, include_conditional: bool) -> Iterator[Document]:
    """The selected documents from the store of record, re-checking each handling code.

    Documents found withheld or missing are recorded on ``selection`` as iteration goes, so read
    ``selection.ids`` only after the iterator is exhausted for the final list.
    """
    kept: list[str] = []
    for doc_id in selection.ids:
        doc = store.get_document(doc_id)
        if doc is None:
            selection.missing.append(doc_id)
            continue
        if grading_of(doc).handling == "C" and not include_conditional:
            selection.withheld.append(doc_id)
            continue
        kept.append(doc_id)
        yield doc
    selection.ids = kept


def is_shareable(doc: Document) -> bool:
    """True when ``doc`` may go out on a standing feed (handling code P)."""
    return grading_of(doc).handling == "P"
