"""The alert stage as one object: evaluate after each indexed batch, deliver in the background.

:class:`AlertService` is what the CLI wires into the enrichment worker
(``drain_outbox(..., after_batch=service.after_batch)``). ``after_batch`` only evaluates
(watchlists against the newly indexed documents, and emerging-method detection when due): it
touches the local store and index, never the network, and never raises, so an alert failure can
neither lose a document (the outbox ack has already happened; the high-water mark catches the
documents up on the next call) nor block indexing. Delivery runs in :meth:`start`'s thread (or
:meth:`dispatch`, called by one-shot commands), with retries and a dead-letter queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from alerts.state import AlertStore, NewEvent
from indexer import Index
from osintel.errors import AlertError, OsintelError
from osintel.records import Document, utcnow
from osintel.settings import Settings
from osintel.store import ControlStore
from alerts.dispatch import Dispatcher, DispatchReport
from alerts.emerging import History, detect, window_start
from alerts.evaluate import SweepReport, WatchlistEvaluator
from alerts.rules import check_delivery, from_row, load_rules_file, save_rule

log = logging.getLogger(__name__)

EMERGING_MARK = "emerging_last_run"


@dataclass
class AlertStatus:
    """Counters an operator greps for (``alerts/...``)."""

    evaluations: int = 0
    evaluated_documents: int = 0
    alerts: int = 0
    errors: int = 0
    last_error: str | None = None
    sent: int = 0
    dead: int = 0


class AlertService:
    """Alert evaluation and delivery for one data directory."""

    def __init__(self, settings: Settings, store: ControlStore, index: Index) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.alerts = AlertStore(store)
        self.evaluator = WatchlistEvaluator(self.alerts, index, self.cfg, page_size=settings.index.max_page_size)
        self.dispatcher = Dispatcher(self.alerts, self.cfg, settings.data_dir)
        self.status = AlertStatus()
        self._lock = threading.Lock()  # one evaluation at a time (worker thread vs. CLI/API callers)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def seed(self) -> int:
        """Add the rules of ``alerts.watchlists_file`` whose ids are not stored yet."""
        if not self.cfg.watchlists_file:
            return 0
        path = Path(self.cfg.watchlists_file)  # absolute: settings resolve it
        rules = load_rules_file(path)
        for rule in rules:  # a target delivery would refuse stops start-up, not every message
            try:
                check_delivery(rule.delivery, self.settings)
            except AlertError as exc:
                raise AlertError(f"{path}: watchlist {rule.id!r}: {exc}") from None
        added = sum(save_rule(self.alerts, rule, if_missing=True) for rule in rules)
        if added:
            log.info("seeded %d alert rule(s) from %s", added, path)
        return added

    # -- evaluation (after each indexed batch) ------------------------------------------------

    def after_batch(self, docs: Sequence[Document] = ()) -> None:
        """The enrichment worker's hook: evaluate, wake the deliverer; never raises."""
        try:
            self.evaluate()
        except Exception as exc:  # noqa: BLE001 - alerts must never stop indexing; the mark retries
            with self._lock:
                self.status.errors += 1
                self.status.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("alert evaluation failed; the documents stay queued by the high-water mark",
                          extra={"alerts_errors": self.status.errors})
        self._wake.set()

    def evaluate(self, *, now: datetime | None = None) -> SweepReport:
        """Sweep watchlists over newly indexed documents; run emerging detection when due."""
        with self._lock:
            report = self.evaluator.sweep()
            self.status.evaluations += 1
            self.status.evaluated_documents += report.evaluated
            self.status.alerts += report.alerts
            now = now or utcnow()
            last = self.alerts.get_mark(EMERGING_MARK)
            interval = timedelta(seconds=self.cfg.emerging_interval_seconds)
            due = last is None or now - datetime.fromisoformat(last) >= interval
            if due and self.alerts.rules(kind="emerging", enabled_only=True):
                report.alerts += len(self.run_emerging(now.date()))
                self.alerts.set_mark(EMERGING_MARK, now.isoformat())
        if report.alerts:
            log.info("alerts: %d new from %d document(s)", report.alerts, report.evaluated,
                     extra={"alerts_new": report.alerts})
        return report

    def run_emerging(self, end: date) -> list[int]:
        """Run every enabled emerging rule for the window ending ``end``; returns queued event ids."""
        rows = self.alerts.rules(kind="emerging", enabled_only=True)
        if not rows:
            return []
        history = History.load(self.alerts, window_start(end, self.cfg), end)
        since = (utcnow() - timedelta(days=self.cfg.emerging_recent_days)).isoformat()
        events: list[NewEvent] = []
        for row in rows:
            try:
                rule = from_row(row)
            except AlertError as exc:
                log.error("alert rule %s cannot be evaluated: %s", row.id, exc)
                continue
            for signal in detect(history, end, self.cfg, methods=rule.methods, per_place=rule.per_place,
                                 phrases=rule.phrases):
                # One alert per signal per recent window, however often detection runs.
                if self.alerts.story_alerted_since(rule.id, signal.key, since):
                    continue
                detail = {"rule": {"id": rule.id, "name": rule.name}, **signal.as_detail()}
                events.append(NewEvent(rule.id, f"{signal.key}:{signal.end}", signal.key, "emerging", detail))
        return self.alerts.add_events(events)

    # -- delivery -----------------------------------------------------------------------------

    def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """Compose and deliver due messages once (one attempt each)."""
        report = self.dispatcher.run(now)
        with self._lock:
            self.status.sent += report.sent
            self.status.dead += report.dead
        return report

    def start(self) -> None:
        """Deliver in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="osintel-alerts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, *, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.dispatcher.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch()
            except OsintelError as exc:
                log.error("alert delivery round failed: %s", exc)
            except Exception:  # noqa: BLE001 - the deliverer must survive and say so
                log.exception("alert delivery round failed")
            self._wake.wait(self._sleep())
            self._wake.clear()

    def _sleep(self) -> float:
        due = self.alerts.next_due()
        if due is None:
            return self.cfg.dispatch_poll_seconds
        wait = (datetime.fromisoformat(due) - utcnow()).total_seconds()
        return max(0.0, min(wait, self.cfg.dispatch_poll_seconds))
