"""Who holds outbox leases, until when, and releasing them: ``osintel outbox status|release``.

An enrichment worker leases outbox rows in its process's name (:meth:`ControlStore.lease`
records :attr:`osintel.service.procs.ProcessId.token`). A worker killed with SIGKILL leaves its rows
leased until the lease expires; until then no other worker takes them and ``osintel enrich``
would find nothing to do. Here:

- :func:`holders` says who holds leases, how many documents, until when, and whether that
  process is alive, dead (gone, or its PID reused) or unknown (another host, or a lease taken
  before owners were recorded);
- :func:`release_dead` gives back the leases of processes that are provably dead (every writing
  command does this at start, see :mod:`osintel.service.recovery`);
- :func:`release` is the operator's choice (``osintel outbox release``): it refuses to take rows
  from a holder that is alive or cannot be checked unless ``force`` is given, because the holder
  may be about to index and acknowledge them.

A release does not count against the documents (the worker died, not the document), and it is
written to the oversight record. :meth:`ControlStore.ack` only acknowledges rows still held by the
acknowledging process, so a holder whose lease was forced away cannot mark another worker's rows
done. This module shares the store's ``outbox`` table: its lease columns hold the identities it judges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from osintel import audit

from osintel.service import procs
from osintel.errors import LeaseHeldError
from osintel.records import utcnow

if TYPE_CHECKING:
    from osintel.store import ControlStore

log = logging.getLogger(__name__)

#: How :class:`LeaseHolder` names rows leased before lease owners were recorded.
UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class LeaseHolder:
    """A process holding outbox leases (``owner`` None for leases with no recorded owner)."""

    token: str
    owner: procs.ProcessId | None
    documents: int
    expires_at: str
    liveness: str

    @property
    def expired(self) -> bool:
        return datetime.fromisoformat(self.expires_at) < utcnow()

    def describe(self) -> str:
        who = self.owner.describe() if self.owner else "a worker that did not record itself"
        return f"{self.documents} document(s) leased by {who} ({self.liveness}) until {self.expires_at}"

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.token, "host": self.owner.host if self.owner else None,
                "pid": self.owner.pid if self.owner else None, "liveness": self.liveness,
                "documents": self.documents, "lease_expires_at": self.expires_at, "expired": self.expired}


def holders(store: ControlStore, *, include_expired: bool = True) -> list[LeaseHolder]:
    """Every holder of pending outbox rows, most documents first."""
    rows = store.read(
        "SELECT COALESCE(lease_owner, '') AS owner, COUNT(*) AS n, MAX(leased_until) AS until FROM outbox"
        " WHERE state = 'pending' AND leased_until IS NOT NULL"
        + ("" if include_expired else " AND leased_until >= ?")
        + " GROUP BY owner ORDER BY n DESC, owner",
        () if include_expired else (utcnow().isoformat(),),
    )
    out = []
    for row in rows:
        token = row["owner"]
        owner = procs.ProcessId.from_token(token) if token else None
        state = procs.liveness(owner) if owner else procs.UNKNOWN
        out.append(LeaseHolder(token or UNRECORDED, owner, int(row["n"]), row["until"], state))
    return out


def status(store: ControlStore) -> dict[str, Any]:
    """Outbox counts plus who holds leases: ``osintel outbox status --json``."""
    counts = store.outbox_counts()
    found = [h for h in holders(store) if not h.expired]
    leased = sum(h.documents for h in found)
    return {"outbox": counts, "leased": leased, "available": counts["pending"] - leased,
            "holders": [h.to_dict() for h in found]}


def parse_owner(text: str) -> str:
    """An owner as the operator names it (``PID``, ``PID@HOST`` or a full token) to a token prefix."""
    text = text.strip()
    if "/" in text:
        return text
    pid, _, host = text.partition("@")
    if not pid.isdigit():
        raise LeaseHeldError(f"--owner must be PID, PID@HOST or an owner token, not {text!r}")
    return f"{host or procs.hostname()}/{int(pid)}/"


def _matches(holder: LeaseHolder, wanted: str | None) -> bool:
    if wanted is None:
        return True
    if wanted == UNRECORDED:
        return holder.owner is None
    return holder.token == wanted or (wanted.endswith("/") and holder.token.startswith(wanted))


def release(store: ControlStore, *, owner: str | None = None, force: bool = False,
            actor: str = "system:recovery", dead_only: bool = False) -> dict[str, int]:
    """Give back the leases of ``owner`` (a token from :func:`parse_owner`; None: every holder).

    Raises :class:`LeaseHeldError` naming the holders that are alive or cannot be checked unless
    ``force``; with ``dead_only`` those are skipped silently instead. Returns
    ``{owner token: rows released}``.
    """
    chosen = [h for h in holders(store) if _matches(h, owner)]
    if dead_only:
        chosen = [h for h in chosen if h.liveness == procs.DEAD]
    elif not force:
        live = [h for h in chosen if h.liveness != procs.DEAD]
        if live:
            raise LeaseHeldError(
                "refusing to release " + "; ".join(h.describe() for h in live)
                + ": the holder may still index and acknowledge them (pass --force if you know it is gone)"
            )
    released: dict[str, int] = {}
    now = utcnow().isoformat()
    for holder in chosen:
        with store.transaction() as tx:
            where = "lease_owner IS NULL" if holder.owner is None else "lease_owner = ?"
            params: tuple[Any, ...] = () if holder.owner is None else (holder.token,)
            released_rows = tx.execute(
                # The attempt the holder took is refunded: it died, the documents did not fail.
                "UPDATE outbox SET leased_until = NULL, lease_owner = NULL, updated_at = ?,"
                " attempts = MAX(attempts - 1, 0)"
                f" WHERE state = 'pending' AND leased_until IS NOT NULL AND {where}",
                (now, *params),
            )
            if released_rows:
                audit.record(tx, actor=actor, action="alteration", detail={
                    "kind": "outbox.release", "owner": holder.token, "liveness": holder.liveness,
                    "documents": released_rows, "lease_expires_at": holder.expires_at,
                    "forced": holder.liveness != procs.DEAD,
                })
                released[holder.token] = released_rows
                log.warning("released %d outbox lease(s) held by %s (%s)", released_rows,
                            holder.owner.describe() if holder.owner else UNRECORDED, holder.liveness,
                            extra={"lease_owner": holder.token})
    return released


def release_dead(store: ControlStore, *, actor: str = "system:recovery") -> dict[str, int]:
    """Release every lease held by a process that is provably dead; ``{owner token: rows}``."""
    return release(store, actor=actor, dead_only=True)
