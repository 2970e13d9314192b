"""Recovery after a process died without cleaning up (SIGKILL, OOM killer, power loss).

A crawl run is created ``running`` by the process that starts it (:meth:`ControlStore.start_run`
records that process) and the crawl child is added as a second owner (:func:`add_run_owner`)
before it is given its job. Each owner is host + PID + process start time
(:mod:`osintel.service.procs`). When every owner is dead, nobody will ever close the run, so
:func:`recover` (run at the start of every command that writes to the data directory: ``crawl``,
``capture``, ``enrich``, ``run``):

1. seals the run's WARC files (:mod:`osintel.service.sealing`: read-only, size and SHA-256 recorded,
   audit event ``warc.seal``);
2. marks the run ``interrupted``, with the reason, and writes the ``crawl.finish`` audit event the
   dead process never wrote (``recovered: true``), so every ``crawl.start`` has its finish;
3. releases outbox leases held by dead processes (:func:`osintel.service.leases.release_dead`).

Owners on another host cannot be checked; such a run (and a run recorded before owners were,
with no owner at all) counts as dead once it is older than ``crawl.process_timeout`` plus a
minute, because the crawl's own parent kills its child at that limit. ``osintel sources`` shows a
dead run as the ``orphaned-run`` flag before any recovery has run (:func:`run_liveness`).

This module shares the store's ``crawl_runs`` table: its owners and status are what it judges and closes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osintel import audit

from osintel.service import leases, procs, sealing
from osintel.records import utcnow

if TYPE_CHECKING:
    from osintel.settings import Settings
    from osintel.store import ControlStore

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: Added to ``crawl.process_timeout`` before an unverifiable run is presumed dead.
GRACE = timedelta(seconds=60)


def _quiet(_: str) -> None:
    pass


@dataclass
class RecoveryReport:
    """What :func:`recover` did: runs marked interrupted, files sealed, leases released."""

    interrupted: list[dict[str, Any]] = field(default_factory=list)
    sealed: list[sealing.SealedWarc] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.interrupted or self.sealed or self.released)

    def to_dict(self) -> dict[str, Any]:
        return {"interrupted": self.interrupted, "sealed": [s.to_dict() for s in self.sealed],
                "released": dict(self.released)}


def run_owners(run: dict[str, Any]) -> list[procs.ProcessId]:
    """The processes recorded as running ``run`` (a ``crawl_runs`` row)."""
    try:
        return [procs.ProcessId.from_dict(o) for o in json.loads(run.get("owners") or "[]")]
    except (ValueError, TypeError, AttributeError):
        return []


def add_run_owner(store: ControlStore, run_ids: list[int], owner: procs.ProcessId) -> None:
    """Record ``owner`` (the crawl child) as running ``run_ids`` too."""
    with store.transaction() as tx:
        for run_id in run_ids:
            row = tx.fetch_one("SELECT owners FROM crawl_runs WHERE id = ?", (run_id,))
            owners = json.loads(row["owners"] or "[]") if row else []
            owners.append(owner.to_dict())
            tx.execute("UPDATE crawl_runs SET owners = ? WHERE id = ?", (json.dumps(owners), run_id))


def run_liveness(run: dict[str, Any], *, process_timeout: float, now: datetime | None = None) -> tuple[str, str]:
    """``(alive|dead|unknown, why)`` for a ``running`` run."""
    owners = run_owners(run)
    states = [(o, procs.liveness(o)) for o in owners]
    if any(state == procs.ALIVE for _, state in states):
        return procs.ALIVE, ""
    if owners and all(state == procs.DEAD for _, state in states):
        who = ", ".join(o.describe() for o in owners)
        return procs.DEAD, f"its process{'es' if len(owners) > 1 else ''} ({who}) died without closing it"
    started = datetime.fromisoformat(run["started_at"])
    started = started if started.tzinfo else started.replace(tzinfo=timezone.utc)
    limit = timedelta(seconds=process_timeout) + GRACE
    what = ("no owning process was recorded" if not owners
            else "its process runs on another host (" + ", ".join(o.describe() for o in owners) + ")")
    if process_timeout > 0 and (now or utcnow()) - started > limit:
        return procs.DEAD, f"{what} and it started more than crawl.process_timeout ({process_timeout:g}s) ago"
    return procs.UNKNOWN, what


def dead_runs(store: ControlStore, *, process_timeout: float) -> list[tuple[dict[str, Any], str]]:
    """``running`` runs whose owners are all dead, with the reason."""
    out = []
    for row in store.read("SELECT * FROM crawl_runs WHERE status = 'running' ORDER BY id"):
        run = dict(row)
        state, why = run_liveness(run, process_timeout=process_timeout)
        if state == procs.DEAD:
            out.append((run, why))
    return out


def seal_run_warcs(store: ControlStore, settings: Settings, run_id: int, source_id: str, *,
                   reason: str) -> list[sealing.SealedWarc]:
    """Seal the WARC files of a run that did not close them (see :mod:`osintel.service.sealing`)."""
    data_dir = Path(settings.data_dir)
    done = []
    for path in sealing.run_warc_files(Path(settings.warc_dir), source_id, run_id):
        try:
            name = path.resolve().relative_to(data_dir.resolve()).as_posix()
        except ValueError:
            name = str(path)
        record = sealing.seal(store, path, name=name, run_id=run_id, reason=reason)
        if record is not None:
            done.append(record)
    return done


def interrupt_run(store: ControlStore, run: dict[str, Any], *, reason: str,
                  sealed: list[sealing.SealedWarc]) -> bool:
    """Close a dead ``running`` run as ``interrupted`` with its audit event; False if it was closed meanwhile."""
    with store.transaction() as tx:
        closed = tx.execute(
            "UPDATE crawl_runs SET status = 'interrupted', finished_at = ?, error = ?"
            " WHERE id = ? AND status = 'running'",
            (utcnow().isoformat(), f"interrupted: {reason}", run["id"]),
        )
        if closed == 0:
            return False
        audit.record(tx, actor="system:recovery", action="collection", detail={
            "kind": "crawl.finish", "run_id": run["id"], "source": run["source_id"], "status": "interrupted",
            "error": f"interrupted: {reason}", "recovered": True, "owners": json.loads(run.get("owners") or "[]"),
            "sealed": [s.file for s in sealed], "counts": {},
        })
    return True


def _seal_left_writable(store: ControlStore, settings: Settings, progress: Progress) -> list[sealing.SealedWarc]:
    """Seal WARC files still writable although every process of their (finished) run is gone:
    a child killed after recording its run's outcome but before closing its file."""
    done = []
    for path, source_id, run_id in sealing.writable_run_files(Path(settings.warc_dir)):
        run = store.get_run(run_id)
        if run is None or run["source_id"] != source_id or run["status"] == "running":
            continue  # not a run of this store, or handled (or still going) above
        state, why = run_liveness(run, process_timeout=settings.crawl.process_timeout)
        if state != procs.DEAD:
            continue
        done += seal_run_warcs(store, settings, run_id, source_id,
                               reason=f"run {run_id} ({run['status']}) left it writable: {why}")
    for record in done:
        progress(f"sealed {record.file}, left writable by run {record.run_id}")
    return done


def recover(settings: Settings, store: ControlStore, *, progress: Progress = _quiet) -> RecoveryReport:
    """Close runs whose processes died, seal their WARC files, release dead workers' leases."""
    report = RecoveryReport()
    for run, why in dead_runs(store, process_timeout=settings.crawl.process_timeout):
        sealed = seal_run_warcs(store, settings, run["id"], run["source_id"], reason=f"run {run['id']}: {why}")
        report.sealed.extend(sealed)
        if interrupt_run(store, run, reason=why, sealed=sealed):
            report.interrupted.append({"run_id": run["id"], "source": run["source_id"], "reason": why,
                                       "sealed": [s.file for s in sealed]})
            log.warning("run %s of %s marked interrupted: %s", run["id"], run["source_id"], why,
                        extra={"run_id": run["id"], "source_id": run["source_id"]})
            progress(f"recovered run {run['id']} ({run['source_id']}): {why}; marked interrupted"
                     + (f", sealed {len(sealed)} WARC file(s)" if sealed else ""))
    report.sealed.extend(_seal_left_writable(store, settings, progress))
    report.released = leases.release_dead(store)
    for token, count in report.released.items():
        owner = procs.ProcessId.from_token(token)
        progress(f"released {count} outbox lease(s) held by {owner.describe()}, which died")
    return report
