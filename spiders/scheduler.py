"""The collection scheduler: APScheduler 3 with a persistent job store in the data directory.

One job per enabled source that has a ``schedule`` (``every 30m`` → interval, a 5-field cron
expression → cron, both in UTC); the job id is the source id. Jobs live in
``<data_dir>/scheduler.sqlite3`` (``SQLAlchemyJobStore``), so the schedule survives restarts and
:meth:`CollectionScheduler.start` can see what was missed while osintel was down.

Missed runs are handled by an explicit policy, ``schedule.misfire_policy``, applied and logged per
source at start-up:

- ``run-once``: the missed runs are coalesced into one run, started at once;
- ``skip``: nothing runs now; the source waits for its next scheduled time.

While the service is up, a run that cannot start within ``schedule.misfire_grace_seconds`` (all
crawl slots busy) is skipped and logged (``EVENT_JOB_MISSED``), and so is a run that falls due
while the previous run of the same source is still going: one source never runs twice at once
(``max_instances=1`` plus a per-source lock). Crawls of different sources may overlap, up to
``schedule.max_concurrent_crawls``; each is a child process with a time limit
(:func:`spiders.runner.run_crawl`).

A persistent job store stores a textual reference to the job function, so the function is the
module-level :func:`run_scheduled_crawl` taking plain arguments; it finds the live scheduler in a
module-level registry.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from osintel.errors import ConfigError
from osintel.records import utcnow
from osintel.settings import Settings
from osintel.sources import SourceConfig

log = logging.getLogger(__name__)

#: The job store's file inside the data directory.
JOBSTORE_FILE = "scheduler.sqlite3"
#: Upper bound when counting missed fire times (a 1-second schedule down for a week).
_MAX_COUNTED = 100_000

CrawlFn = Callable[[Settings, SourceConfig, str], Any]

_REGISTRY: dict[str, CollectionScheduler] = {}
_REGISTRY_LOCK = threading.Lock()


def default_crawl(settings: Settings, sources: SourceConfig, source_id: str) -> Any:
    """Crawl one source in a child process with the configured time limit."""
    from spiders.runner import run_crawl

    results = run_crawl(settings, sources, [source_id])
    return results[0] if results else None


def run_scheduled_crawl(scheduler_key: str, source_id: str) -> str:
    """The job function (referenced by name in the job store): run one source now."""
    with _REGISTRY_LOCK:
        scheduler = _REGISTRY.get(scheduler_key)
    if scheduler is None:
        log.error("scheduled crawl of %s fired but no scheduler is registered for %s", source_id, scheduler_key)
        return "no-scheduler"
    return scheduler.run_source(source_id)


def build_trigger(schedule: str) -> BaseTrigger:
    """An APScheduler trigger (UTC) for a validated ``Source.schedule``."""
    from osintel.service.health import schedule_interval

    text = schedule.strip()
    if text.startswith("every"):
        interval = schedule_interval(text)
        if interval is None:  # pragma: no cover - Source validates schedules
            raise ConfigError(f"bad schedule {schedule!r}")
        return IntervalTrigger(seconds=int(interval.total_seconds()), timezone=timezone.utc)
    try:
        return CronTrigger.from_crontab(text, timezone=timezone.utc)
    except ValueError as exc:
        raise ConfigError(f"bad cron schedule {schedule!r}: {exc}") from None


@dataclass(frozen=True)
class StartupDecision:
    """What :meth:`CollectionScheduler.start` did about one source's schedule."""

    source_id: str
    action: str  # new | resumed | run-once | skip | rescheduled
    missed: int
    first_missed: datetime | None
    next_run_time: datetime | None


class CollectionScheduler:
    """Schedule crawls of ``sources`` per their ``schedule``. :meth:`start`, then :meth:`shutdown`."""

    def __init__(self, settings: Settings, sources: SourceConfig, *, crawl_fn: CrawlFn = default_crawl,
                 on_finished: Callable[[str, Any], None] | None = None) -> None:
        self.settings = settings
        self.sources = sources
        self.crawl_fn = crawl_fn
        self.on_finished = on_finished
        self.policy = settings.schedule.misfire_policy
        data_dir = Path(settings.data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.jobstore_path = data_dir / JOBSTORE_FILE
        self.key = str(self.jobstore_path)
        self.decisions: list[StartupDecision] = []
        self.history: list[tuple[str, str, float, float]] = []  # (source, outcome, started, finished)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._running: set[str] = set()
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{self.jobstore_path}")},
            executors={"default": ThreadPoolExecutor(max_workers=max(1, settings.schedule.max_concurrent_crawls))},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": settings.schedule.misfire_grace_seconds},
            timezone=timezone.utc,
        )
        self._scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, *, now: datetime | None = None) -> list[StartupDecision]:
        """Load the job store, reconcile it with the sources, apply the missed-run policy, run."""
        with _REGISTRY_LOCK:
            _REGISTRY[self.key] = self
        self._scheduler.start(paused=True)
        now = now or utcnow()
        wanted = {s.id: s for s in self.sources.sources if s.enabled and s.schedule}
        for job in self._scheduler.get_jobs():
            if job.id not in wanted:
                log.info("removing the schedule of %s: no longer a scheduled, enabled source", job.id,
                         extra={"source_id": job.id})
                job.remove()
        self.decisions = [self._reconcile(source.id, source.schedule or "", now) for source in wanted.values()]
        self._scheduler.resume()
        log.info("scheduler started with %d job(s); missed-run policy %s; job store %s",
                 len(wanted), self.policy, self.jobstore_path)
        return self.decisions

    def _reconcile(self, source_id: str, schedule: str, now: datetime) -> StartupDecision:
        existing = self._scheduler.get_job(source_id)
        name = f"{source_id}: {schedule}"
        same = existing is not None and existing.name == name
        trigger = existing.trigger if same and existing is not None else build_trigger(schedule)
        next_run = existing.next_run_time if existing is not None else None
        missed, first_missed = 0, None
        if next_run is not None and next_run < now:
            missed, first_missed = _count_missed(existing.trigger, next_run, now), next_run
        if missed and first_missed is not None:  # (missed runs always have a first one)
            if self.policy == "run-once":
                action, next_run = "run-once", now
                log.warning("source %s missed %d scheduled run(s) since %s while osintel was down; "
                            "policy run-once: running it once now", source_id, missed, first_missed.isoformat(),
                            extra={"source_id": source_id, "missed_runs": missed, "policy": self.policy})
            else:
                action, next_run = "skip", trigger.get_next_fire_time(None, now)
                log.warning("source %s missed %d scheduled run(s) since %s while osintel was down; "
                            "policy skip: not running them, next run at %s", source_id, missed,
                            first_missed.isoformat(), next_run.isoformat() if next_run else "never",
                            extra={"source_id": source_id, "missed_runs": missed, "policy": self.policy})
        elif existing is None:
            action, next_run = "new", trigger.get_next_fire_time(None, now)
            log.info("scheduling %s (%s); first run at %s", source_id, schedule,
                     next_run.isoformat() if next_run else "never", extra={"source_id": source_id})
        elif not same:
            action, next_run = "rescheduled", trigger.get_next_fire_time(None, now)
            log.info("schedule of %s changed to %s; next run at %s", source_id, schedule,
                     next_run.isoformat() if next_run else "never", extra={"source_id": source_id})
        else:
            action = "resumed"
            log.info("resuming %s (%s); next run at %s", source_id, schedule,
                     next_run.isoformat() if next_run else "never", extra={"source_id": source_id})
        # replace_existing: configuration changes (schedule, grace, executor key) always apply.
        self._scheduler.add_job(
            run_scheduled_crawl, trigger, args=[self.key, source_id], id=source_id, name=name,
            replace_existing=True, next_run_time=next_run,
        )
        return StartupDecision(source_id, action, missed, first_missed, next_run)

    def shutdown(self, *, grace_seconds: float | None = None) -> None:
        """Stop scheduling; let running crawls finish for ``grace_seconds``, then kill their processes."""
        grace = self.settings.schedule.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if not self.wait_idle(timeout=grace):
            running = sorted(self.running())
            log.warning("crawls still running after %.0fs: %s; terminating their processes", grace,
                        ", ".join(running))
            for pid in _crawl_children():
                _terminate(pid)
            if not self.wait_idle(timeout=10):
                log.error("crawls did not stop: %s", ", ".join(sorted(self.running())))
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.key) is self:
                del _REGISTRY[self.key]
        log.info("scheduler stopped")

    # -- running --------------------------------------------------------------------------------

    def run_source(self, source_id: str) -> str:
        """Crawl one source now unless it is already running. Returns the run's status."""
        with self._locks_guard:
            lock = self._locks.setdefault(source_id, threading.Lock())
        if not lock.acquire(blocking=False):
            log.warning("not starting %s: its previous run is still going", source_id,
                        extra={"source_id": source_id})
            return "already-running"
        started = time.monotonic()
        outcome = "failed"
        try:
            with self._locks_guard:
                self._running.add(source_id)
            log.info("scheduled crawl of %s starting", source_id, extra={"source_id": source_id})
            result = self.crawl_fn(self.settings, self.sources, source_id)
            outcome = str(getattr(result, "status", None) or "ok")
            log.info("scheduled crawl of %s finished: %s", source_id, outcome,
                     extra={"source_id": source_id, "status": outcome})
            if self.on_finished is not None:
                self.on_finished(source_id, result)
            return outcome
        except Exception:
            log.exception("scheduled crawl of %s raised", source_id, extra={"source_id": source_id})
            raise
        finally:
            with self._locks_guard:
                self._running.discard(source_id)
                self.history.append((source_id, outcome, started, time.monotonic()))
            lock.release()

    def running(self) -> set[str]:
        with self._locks_guard:
            return set(self._running)

    def wait_idle(self, *, timeout: float) -> bool:
        """Wait until no crawl is running; False if some still are after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def jobs(self) -> list[dict[str, Any]]:
        """The scheduled jobs: ``{"id", "schedule", "next_run_time"}``."""
        return [{"id": job.id, "schedule": job.name.split(": ", 1)[-1],
                 "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None}
                for job in self._scheduler.get_jobs()]

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("scheduled crawl of %s due at %s was missed (more than %ss late); skipped",
                        event.job_id, event.scheduled_run_time, self.settings.schedule.misfire_grace_seconds,
                        extra={"source_id": event.job_id})
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("crawl of %s is still running; the run due now was skipped", event.job_id,
                        extra={"source_id": event.job_id})
        elif event.code == EVENT_JOB_ERROR:
            log.error("scheduled crawl of %s failed: %r", event.job_id, getattr(event, "exception", None),
                      extra={"source_id": event.job_id})


def _count_missed(trigger: BaseTrigger, first: datetime, now: datetime) -> int:
    count, fire = 0, first
    while fire is not None and fire <= now and count < _MAX_COUNTED:
        count += 1
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return count


def _crawl_children() -> list[int]:
    """PIDs of this process's crawl children (``python -m spiders.child``); Linux ``/proc`` only."""
    me, pids = os.getpid(), []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me and b"spiders.child" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
