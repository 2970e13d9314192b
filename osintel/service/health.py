"""Source health: what each source's recent crawl runs say, with problems flagged, never silent.

Computed read-only from the ``crawl_runs`` table (:meth:`ControlStore.runs`). Per source it gives
the last run (status, times, duration, pages, items new / seen / duplicate / failed / refused, HTTP
status counts, bytes), the last success, consecutive failures, and ``flags``: stable codes with a
human message and a severity, so a dashboard or an alert can key on the code.

=========================  ========  =======================================================
code                       severity  when
=========================  ========  =======================================================
``never-run``              warning   the source has no crawl run yet
``running``                info      a run is in progress
``orphaned-run``           error     a run is recorded as running but its processes died (the
                                     next crawl, capture, enrich or run marks it interrupted)
``failing``                error     the last finished run failed or its process timed out
``interrupted``            warning   the last finished run was interrupted (stopped, or its
                                     process died and recovery closed it)
``rejected-content``       error/    the last run refused content: a feed or sitemap declaring
                           warning   XML entities (XXE, entity bomb), a malformed feed, an
                                     oversize or decompression-bomb response, unreadable JSON;
                                     error when the run collected nothing, else warning
``http-error``             error/    a source URL (feed, sitemap, API target) answered an HTTP
                           warning   error status; error when the run collected nothing
``fetch-failed``           error/    a source URL could not be fetched (connection, DNS,
                           warning   timeout, robots.txt or SSRF refusal)
``no-new-items``           warning   the last ``health.empty_runs`` successful runs yielded no
                                     item at all (no new, seen or duplicate item)
``http-403``/``http-429``  warning   the last run got 403 (forbidden) / 429 (rate-limited)
``extraction-drift``       error     ≥ ``drift_failed_share`` of the articles fetched in the last
                                     run yielded no text, while earlier runs stayed below
                                     ``drift_baseline_share`` (the site's template changed)
``stale``                  warning   a scheduled source has no success within
                                     ``stale_intervals`` schedule intervals
``authorisation-expired``  error     the source's authorisation ended before today
``authorisation-expiring`` warning   it ends within ``authorisation_warning_days``
=========================  ========  =======================================================
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from osintel.service.procs import DEAD
from osintel.records import utcnow
from osintel.service.recovery import run_liveness
from osintel.settings import HealthSettings, Settings
from osintel.sources import Source, SourceConfig
from osintel.store import ControlStore

if TYPE_CHECKING:
    from indexer import Index

#: Run statuses that count as a successful collection.
SUCCESS_STATUSES = frozenset({"ok", "page-limit"})
#: Run statuses that count as a failure of the source (or of its crawl process).
FAILURE_STATUSES = frozenset({"failed", "timeout", "unknown"})
#: Stats keys counting documents whose text could not be extracted from a fetched page.
EXTRACTION_FAILURE_KEYS = ("items/failed/no-text",)

_STATUS_PREFIX = "downloader/response_status_count/"
_FETCH_FAILED = "fetch/failed/"
#: Stats counting content a run refused to parse: key -> what it was.
REJECTED_CONTENT_KEYS = {
    "feeds/rejected-xml": "feed(s) declaring XML entities (XXE or entity bomb), not parsed",
    "sitemaps/rejected-xml": "sitemap(s) declaring XML entities (XXE or entity bomb), not parsed",
    "feeds/malformed": "malformed feed(s)",
    "responses/oversize": "response(s) over crawl.max_response_bytes or inflating past it (decompression bomb)",
    "fetch/failed/bad-json": "API response(s) that were not valid JSON",
}
#: ``fetch/failed/<reason>`` reasons counted by other keys above.
_COUNTED_ELSEWHERE = frozenset({"oversize", "bad-json"})
_INTERVAL_RE = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SEVERITY_ORDER = {"ok": 0, "info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class HealthFlag:
    """One problem (or notable state) of a source; ``code`` is stable, ``message`` is for people."""

    code: str
    severity: str
    message: str


@dataclass
class SourceHealth:
    """The health of one source. :meth:`to_dict` is the stable JSON form."""

    source_id: str
    status: str = "ok"  # ok | warning | error: the worst flag's severity
    schedule: str | None = None
    last_run: dict[str, Any] | None = None
    last_success_at: str | None = None
    consecutive_failures: int = 0
    runs_examined: int = 0
    flags: list[HealthFlag] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.flags]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schedule_interval(schedule: str | None) -> timedelta | None:
    """The period of a schedule: exact for ``every 30m``, the next gap for a cron expression."""
    if not schedule:
        return None
    m = _INTERVAL_RE.match(schedule.strip())
    if m:
        return timedelta(**{_UNITS[m[2]]: int(m[1])})
    try:
        from apscheduler.triggers.cron import CronTrigger
    except ImportError:  # pragma: no cover - APScheduler is a dependency
        return None
    trigger = CronTrigger.from_crontab(schedule, timezone=timezone.utc)
    first = trigger.get_next_fire_time(None, utcnow())
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first) if first and second else None


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """The operator's view of one crawl run (from a :meth:`ControlStore.runs` row)."""
    stats = run.get("stats") or {}
    http = {key[len(_STATUS_PREFIX):]: int(v) for key, v in stats.items() if key.startswith(_STATUS_PREFIX)}
    duration = stats.get("duration_seconds")
    if not duration and run.get("finished_at"):
        duration = (_parse(run["finished_at"]) - _parse(run["started_at"])).total_seconds()
    return {
        "run_id": run["id"],
        "status": run["status"],
        "started_at": run["started_at"],
        "finished_at": run["finished_at"],
        "duration_seconds": round(float(duration or 0.0), 3),
        "pages_fetched": int(stats.get("pages_fetched", 0)),
        "items": {k: int(stats.get(f"items/{k}", 0)) for k in ("new", "seen", "duplicate", "failed", "refused")},
        "extraction_failed": _extraction_failed(stats),
        "http_status": dict(sorted(http.items())),
        "bytes": int(stats.get("bytes", 0)),
        "error": run.get("error"),
    }


def content_problems(stats: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(code, severity, message)`` for what a run refused or could not fetch, from its stats:
    ``rejected-content``, ``http-error``, ``fetch-failed``. Severity ``error`` when the run
    collected nothing at all, else ``warning``."""
    severity = "error" if _yield(stats) == 0 else "warning"
    out = []
    rejected = [f"{int(stats[k])} {what}" for k, what in REJECTED_CONTENT_KEYS.items() if int(stats.get(k) or 0)]
    if rejected:
        out.append(("rejected-content", severity, "last run rejected " + "; ".join(rejected)))
    failed = {k[len(_FETCH_FAILED):]: int(v) for k, v in stats.items()
              if k.startswith(_FETCH_FAILED) and int(v or 0) and k[len(_FETCH_FAILED):] not in _COUNTED_ELSEWHERE}
    http = {k: v for k, v in failed.items() if k.startswith("http-")}
    if http:
        out.append(("http-error", severity, "last run: source URL(s) answered " + ", ".join(
            f"HTTP {k[5:]} ({v})" for k, v in sorted(http.items()))))
    other = {k: v for k, v in failed.items() if k not in http}
    if other:
        out.append(("fetch-failed", severity, "last run could not fetch source URL(s): " + ", ".join(
            f"{k} ({v})" for k, v in sorted(other.items()))))
    return out


def evaluate(source: Source, runs: list[dict[str, Any]], cfg: HealthSettings, *,
             now: datetime | None = None, process_timeout: float = 0) -> SourceHealth:
    """The health of ``source`` from its runs, newest first (as :meth:`ControlStore.runs` returns).

    ``process_timeout`` (``crawl.process_timeout``) bounds how long a ``running`` run whose owner
    cannot be checked is believed (see :func:`osintel.service.recovery.run_liveness`).
    """
    now = now or utcnow()
    health = SourceHealth(source_id=source.id, schedule=source.schedule, runs_examined=len(runs))
    flags = health.flags
    finished = [r for r in runs if r["status"] != "running"]
    if runs:
        health.last_run = run_summary(runs[0])
    for run in runs:
        if run["status"] != "running":
            continue
        state, why = run_liveness(run, process_timeout=process_timeout)
        if state == DEAD:
            flags.append(HealthFlag("orphaned-run", "error", (
                f"run {run['id']} (started {run['started_at']}) is recorded as running but {why}; the next"
                " crawl, capture, enrich or run marks it interrupted and seals its WARC file")))
        elif run is runs[0]:
            flags.append(HealthFlag("running", "info", f"run {run['id']} started at {run['started_at']}"
                                    + (f" ({why})" if why else "")))
    successes = [r for r in finished if r["status"] in SUCCESS_STATUSES]
    if successes:
        health.last_success_at = successes[0]["finished_at"]
    for run in finished:
        if run["status"] in SUCCESS_STATUSES or run["status"] == "skipped-expired":
            break
        health.consecutive_failures += 1

    if not runs:
        flags.append(HealthFlag("never-run", "warning", "the source has not been crawled yet"))
    last = finished[0] if finished else None
    if last is not None:
        if last["status"] in FAILURE_STATUSES:
            flags.append(HealthFlag(
                "failing", "error",
                f"last run {last['status']} ({health.consecutive_failures} in a row): {last.get('error') or 'no detail'}",
            ))
        if last["status"] == "interrupted":
            flags.append(HealthFlag("interrupted", "warning",
                                    f"last run {last['id']} was interrupted: {last.get('error') or 'no detail'}"))
        stats = last["stats"] or {}
        flags.extend(HealthFlag(code, sev, msg) for code, sev, msg in content_problems(stats))
        for code in (403, 429):
            count = int(stats.get(f"{_STATUS_PREFIX}{code}", 0))
            if count:
                what = "forbidden" if code == 403 else "rate-limited (too many requests)"
                flags.append(HealthFlag(f"http-{code}", "warning", f"last run got {count} HTTP {code} response(s): {what}"))
        _check_drift(successes, last, cfg, flags)
    _check_empty(successes, cfg, flags)
    _check_stale(source, runs, successes, cfg, now, flags)
    _check_authorisation(source, cfg, now, flags)
    worst = max((_SEVERITY_ORDER[f.severity] for f in flags), default=0)
    health.status = {0: "ok", 1: "warning", 2: "error"}[worst]
    return health


def source_health(store: ControlStore, sources: SourceConfig | list[Source], settings: Settings | HealthSettings,
                  *, now: datetime | None = None) -> list[SourceHealth]:
    """The health of every configured source (read-only over ``crawl_runs``)."""
    cfg = settings.health if isinstance(settings, Settings) else settings
    timeout = settings.crawl.process_timeout if isinstance(settings, Settings) else 0
    items = sources.sources if isinstance(sources, SourceConfig) else sources
    return [evaluate(s, store.runs(source_id=s.id, limit=cfg.history_runs), cfg, now=now, process_timeout=timeout)
            for s in items]


def sources_report(store: ControlStore, sources: SourceConfig, settings: Settings, *,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """Configured sources with their last run and health: ``osintel sources --json`` and ``GET /api/sources``."""
    rows = []
    for source, health in zip(sources.sources, source_health(store, sources, settings, now=now)):
        last = health.last_run
        rows.append({
            "id": source.id,
            "name": source.name,
            "kind": source.kind,
            "urls": source.urls,
            "grading": source.grading.code,
            "enabled": source.enabled,
            "last_run": None if last is None else {
                "status": last["status"],
                "started_at": last["started_at"],
                "finished_at": last["finished_at"],
                "items_new": last["items"]["new"],
                "pages": last["pages_fetched"],
            },
            "health": health.to_dict(),
        })
    return rows


def index_health(store: ControlStore, index: Index, *, worker: dict[str, Any] | None = None) -> dict[str, Any]:
    """Can the search index be reached, and is the outbox draining into it?

    Flags ``index-unreachable`` (error: collection and enrichment go on, the outbox holds the
    documents until the index returns), ``indexing-failing`` (error: the worker's last drains
    failed, from ``worker`` = :meth:`EnrichmentWorker.status`) and ``dead-letters`` (warning:
    documents the index refused for good, see :mod:`osintel.service.deadletter`).
    """
    from osintel.service import deadletter
    from osintel.errors import OsintelError

    outbox = store.outbox_counts()
    flags: list[HealthFlag] = []
    documents: int | None = None
    try:
        documents = int(index.count())
    except (OsintelError, OSError) as exc:
        flags.append(HealthFlag("index-unreachable", "error",
                                f"the search index cannot be reached ({exc}); {outbox['pending']} documents wait in the outbox"))
    if worker and worker.get("consecutive_errors"):
        flags.append(HealthFlag("indexing-failing", "error",
                                f"the last {worker['consecutive_errors']} drains failed: {worker.get('last_error')}"))
    dead = deadletter.count_open(store)
    if dead:
        flags.append(HealthFlag("dead-letters", "warning", f"{dead} documents were refused by the index (see dead letters)"))
    worst = max((_SEVERITY_ORDER[f.severity] for f in flags), default=0)
    return {
        "status": {0: "ok", 1: "warning", 2: "error"}[worst],
        "index": {"reachable": documents is not None, "documents": documents},
        "outbox": outbox,
        "dead_letters": dead,
        "flags": [asdict(f) for f in flags],
    }


# -- the checks --------------------------------------------------------------------------------


def _check_drift(successes: list[dict[str, Any]], last: dict[str, Any], cfg: HealthSettings,
                 flags: list[HealthFlag]) -> None:
    share = _failed_share(last["stats"] or {}, cfg.drift_min_articles)
    if share is None or share < cfg.drift_failed_share:
        return
    earlier = [s for r in successes if r["id"] != last["id"]
               if (s := _failed_share(r["stats"] or {}, cfg.drift_min_articles)) is not None]
    if not earlier:
        return  # no baseline yet: a source that never extracted well is not drifting
    if max(earlier) < cfg.drift_baseline_share:
        flags.append(HealthFlag(
            "extraction-drift", "error",
            f"{share:.0%} of the articles fetched in the last run yielded no text (earlier runs at most "
            f"{max(earlier):.0%}): the site's template has probably changed",
        ))


def _check_empty(successes: list[dict[str, Any]], cfg: HealthSettings, flags: list[HealthFlag]) -> None:
    recent = successes[: cfg.empty_runs]
    if cfg.empty_runs <= 0 or len(recent) < cfg.empty_runs:
        return
    if all(_yield(r["stats"] or {}) == 0 for r in recent):
        flags.append(HealthFlag(
            "no-new-items", "warning",
            f"the last {len(recent)} successful run(s) yielded no items at all (no new, seen or duplicate item)",
        ))


def _check_stale(source: Source, runs: list[dict[str, Any]], successes: list[dict[str, Any]],
                 cfg: HealthSettings, now: datetime, flags: list[HealthFlag]) -> None:
    interval = schedule_interval(source.schedule) if source.enabled else None
    if interval is None or not runs:
        return
    # Since the last success, or since the oldest run we know of when none succeeded.
    since = _parse(successes[0]["finished_at"]) if successes else _parse(runs[-1]["started_at"])
    limit = interval * cfg.stale_intervals
    if now - since > limit:
        what = "no successful run" if not successes else "last success"
        flags.append(HealthFlag(
            "stale", "warning",
            f"{what} since {since.isoformat()}: more than {cfg.stale_intervals:g} × the schedule ({source.schedule})",
        ))


def _check_authorisation(source: Source, cfg: HealthSettings, now: datetime, flags: list[HealthFlag]) -> None:
    expires = source.authorisation_expires
    if expires is None:
        return
    today = now.date()
    if expires < today:
        flags.append(HealthFlag("authorisation-expired", "error",
                                f"authorisation expired on {expires}: the source is not crawled"))
    elif expires <= today + timedelta(days=cfg.authorisation_warning_days):
        flags.append(HealthFlag("authorisation-expiring", "warning",
                                f"authorisation expires on {expires} ({(expires - today).days} day(s))"))


def _extraction_failed(stats: dict[str, Any]) -> int:
    return sum(int(stats.get(k, 0)) for k in EXTRACTION_FAILURE_KEYS)


def _failed_share(stats: dict[str, Any], min_articles: int) -> float | None:
    failed = _extraction_failed(stats)
    fetched = int(stats.get("articles/fetched", 0)) or (int(stats.get("items/new", 0))
                                                        + int(stats.get("items/duplicate", 0)) + failed)
    if fetched < max(1, min_articles):
        return None
    return failed / fetched


def _yield(stats: dict[str, Any]) -> int:
    return sum(int(stats.get(f"items/{k}", 0)) for k in ("new", "seen", "duplicate", "recaptured"))


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
