"""From recorded alerts to delivered messages: rate limits, digests, retries, dead letters.

Two steps, each safe to repeat and to interrupt:

1. :meth:`Dispatcher.compose` groups a rule's queued alerts into messages. Immediate rules send
   one message per alert while they stay under their hourly rate limit and below
   ``alerts.flood_threshold``; beyond either, everything pending becomes **one digest** (so a
   flood is one message). Rules with ``digest_minutes`` send one digest per that period.
2. :meth:`Dispatcher.deliver` sends due messages through their sink. A failure is retried after
   ``retry_backoff_seconds * 2**(attempt-1)``; after ``max_attempts`` (or at once for a
   permanent failure) the message is dead-lettered (state ``dead``), visible in
   ``osintel alerts history`` and retryable.

A message is recorded before it is sent, so a crash re-sends it at most once; receivers can
de-duplicate on the message ``id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.state import AlertStore
from osintel.errors import AlertError, DeliveryError
from osintel.records import utcnow
from osintel.settings import AlertSettings
from alerts.rules import Rule, from_row
from alerts.sinks import SINKS, Sink

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    """What one compose + deliver round did."""

    composed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def build_message(rule: Rule, events: list[dict[str, Any]], *, digest: bool, now: datetime) -> dict[str, Any]:
    """The JSON a sink receives (the message ``id`` is added when it is stored)."""
    return {
        "type": "osintel.alert", "version": 1, "created_at": now.isoformat(),
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind},
        "digest": digest, "count": len(events),
        "alerts": [{"event_id": e["id"], "kind": e["kind"], "fired_at": e["created_at"], **e["detail"]}
                   for e in events],
    }


class Dispatcher:
    """Composes and delivers alert messages for one control store."""

    def __init__(self, alerts: AlertStore, settings: AlertSettings, data_dir: Path,
                 *, sinks: dict[str, Sink] | None = None) -> None:
        self.alerts = alerts
        self.settings = settings
        self.data_dir = data_dir
        self._sinks: dict[str, Sink] = dict(sinks or {})

    def sink(self, name: str) -> Sink:
        if name not in self._sinks:
            if name not in SINKS:
                raise DeliveryError(f"unknown alert sink {name!r}", permanent=True)
            self._sinks[name] = SINKS[name](self.settings, self.data_dir)
        return self._sinks[name]

    def run(self, now: datetime | None = None) -> DispatchReport:
        """Compose, then deliver everything due."""
        now = now or utcnow()
        report = DispatchReport()
        self.compose(now, report)
        self.deliver(now, report)
        return report

    def compose(self, now: datetime, report: DispatchReport | None = None) -> DispatchReport:
        report = report or DispatchReport()
        for rule_id, events in self.alerts.queued_events().items():
            row = self.alerts.get_rule(rule_id)
            if row is None:
                continue  # removed: its queued events were cancelled with it
            try:
                rule = from_row(row)
            except AlertError as exc:
                log.error("alert rule %s cannot be delivered: %s", rule_id, exc)
                continue
            for batch, digest in self._plan(rule, events, now):
                message = build_message(rule, batch, digest=digest, now=now)
                self.alerts.add_message(rule_id=rule.id, sink=rule.delivery.sink, target=rule.delivery.target,
                                        payload=message, event_ids=[e["id"] for e in batch], now=now)
                report.composed += 1
        return report

    def _plan(self, rule: Rule, events: list[dict[str, Any]], now: datetime) -> list[tuple[list[dict[str, Any]], bool]]:
        delivery = rule.delivery
        sent, last = self.alerts.messages_since(rule.id, now - timedelta(hours=1))
        if delivery.digest_minutes:
            if last is None or now - datetime.fromisoformat(last) >= timedelta(minutes=delivery.digest_minutes):
                return [(events, True)]
            return []
        budget = (delivery.rate_limit_per_hour or self.settings.rate_limit_per_hour) - sent
        if budget <= 0:
            return []  # held back; they go out as one digest when the hour frees a slot
        if len(events) <= min(budget, self.settings.flood_threshold):
            return [([e], False) for e in events]
        return [(events, True)]

    def deliver(self, now: datetime, report: DispatchReport | None = None) -> DispatchReport:
        report = report or DispatchReport()
        for message in self.alerts.due_messages(now):
            payload = {**message.payload, "id": message.id}
            try:
                self.sink(message.sink).send(message.target, payload)
            except DeliveryError as exc:
                attempt = message.attempts + 1
                if exc.permanent or attempt >= self.settings.max_attempts:
                    self.alerts.message_failed(message.id, str(exc), retry_at=None)
                    report.dead += 1
                    log.error("alert message %d dead-lettered after %d attempt(s): %s", message.id, attempt, exc,
                              extra={"alerts_dead": 1})
                else:
                    delay = self.settings.retry_backoff_seconds * 2 ** (attempt - 1)
                    self.alerts.message_failed(message.id, str(exc), retry_at=now + timedelta(seconds=delay))
                    report.retried += 1
                    log.warning("alert message %d failed (attempt %d), retry in %.1fs: %s", message.id, attempt,
                                delay, exc)
                report.errors.append(str(exc))
                continue
            self.alerts.message_sent(message.id, utcnow())
            report.sent += 1
        return report

    def close(self) -> None:
        for sink in self._sinks.values():
            close = getattr(sink, "close", None)
            if close is not None:
                close()
