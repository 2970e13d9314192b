"""Ad-hoc capture: an analyst's "capture this before it is deleted" (``osintel capture URL...``).

The URLs are fetched now, through the same crawl machinery as any source (child process, SSRF
guard, robots.txt, size caps, WARC evidence with request and response records), as a ``web``
source with id ``capture``, depth 0 and ``options.recapture``:

- a URL already collected is fetched again: a capture is a new piece of evidence at a new time.
  The document id is stable per URL, so the stored document is replaced (keeping its source and
  grading, and listing the earlier captures under ``extra["previous_captures"]``);
- every page fetched becomes a document, article or not (a listing or profile page keeps its
  visible text);
- then the outbox is drained (enrichment and indexing), so the documents are searchable on return.

Grading: an ad-hoc capture defaults to ``2CP`` (source untested, information known indirectly,
shareable), the same as an unassessed source; the analyst regrades it (``grading=`` / ``--grading``).

The SSRF guard lets a capture reach a loopback or private address only when the sources file
(``settings.sources_file``) lists it in ``allow_private_hosts``; the tests pass ``--sources`` with
such an allow-list for their 127.0.0.1 server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from osintel.errors import ConfigError, UsageError
from osintel.records import Document, Grading
from osintel.sources import Source, SourceConfig, load_sources
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings

log = logging.getLogger(__name__)

CAPTURE_SOURCE_ID = "capture"
DEFAULT_CAPTURE_GRADING = "2CP"

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class CaptureOutcome:
    """What happened to one requested URL. ``status``: ``captured`` or ``failed``."""

    url: str
    status: str
    doc_id: str | None = None
    reason: str | None = None


@dataclass
class CaptureReport:
    """The captured documents (enriched, read back from the store) and one outcome per URL."""

    run_id: int
    run_status: str
    outcomes: list[CaptureOutcome] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    @property
    def failed(self) -> list[CaptureOutcome]:
        return [o for o in self.outcomes if o.status != "captured"]


def capture_source(urls: Sequence[str], *, grading: str | Grading = DEFAULT_CAPTURE_GRADING,
                   max_pages: int | None = None) -> Source:
    """The ad-hoc ``web`` source an analyst capture runs as."""
    if not urls:
        raise UsageError("name at least one URL to capture")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise UsageError(f"cannot capture {url!r}: not an http(s) URL; give the whole address,"
                             " e.g. https://example.org/page")
    try:
        return Source(
            id=CAPTURE_SOURCE_ID, name="Ad-hoc capture", kind="web", urls=list(urls),
            options={"depth": 0, "recapture": True}, grading=Grading.parse(grading),
            purpose="ad-hoc capture by analyst", max_pages=max_pages,
        )
    except ValidationError as exc:
        raise UsageError("cannot capture: " + "; ".join(err["msg"] for err in exc.errors())) from None
    except ValueError as exc:
        raise UsageError(f"cannot capture: {exc}") from None


def run_capture(settings: Settings, urls: Sequence[str], *, run_crawl: Callable[..., list[Any]],
                grading: str | Grading = DEFAULT_CAPTURE_GRADING, progress: Progress = _quiet) -> CaptureReport:
    """Fetch ``urls`` now and store them (not yet enriched).

    ``run_crawl`` is :func:`spiders.runner.run_crawl`, passed in by :func:`osintel.service.commands.capture`
    (the kernel does not import stages itself).
    """
    allow = load_sources(settings.sources_file).allow_private_hosts
    # Robots.txt fetches and redirects count as pages too: leave room for them.
    source = capture_source(urls, grading=grading,
                            max_pages=max(settings.crawl.max_pages, 4 * len(urls) + 4))
    config = SourceConfig(allow_private_hosts=allow, sources=[source])
    progress(f"capturing {len(urls)} URL(s)")
    (result,) = run_crawl(settings, config, [source.id])
    raw: dict[str, Any] = result.stats.get("capture/outcomes") or {}
    outcomes = []
    for url in urls:
        got = raw.get(url)
        if got is None:
            reason = result.error or f"not fetched (crawl run {result.status})"
            outcomes.append(CaptureOutcome(url, "failed", reason=reason))
        else:
            reason = got.get("reason")
            outcomes.append(CaptureOutcome(url, got["status"], got.get("doc_id"),
                                           describe_failure(reason) if reason else None))
    return CaptureReport(result.run_id, result.status, outcomes)


#: What a crawl's failure reason (:func:`spiders.base.classify_failure`) means, and what to do.
_FAILURE_HELP = {
    "blocked": "refused by the SSRF guard: the address is internal (loopback, private or reserved);"
               " to capture it on purpose, list its host:port under allow_private_hosts in the sources file",
    "robots": "refused: the site's robots.txt disallows it (crawl.obey_robots)",
    "oversize": "refused: the response is larger than crawl.max_response_bytes (or inflates past it)",
    "ignored": "not fetched: the crawler dropped the request",
    "TimeoutError": "the server did not answer within crawl.download_timeout",
    "DNSLookupError": "the host name does not resolve",
    "ConnectionRefusedError": "the server refused the connection (nothing listening there?)",
}


def describe_failure(reason: str) -> str:
    """A crawl failure reason (``blocked``, ``http-404``...) as a sentence an analyst can act on."""
    if reason.startswith("http-"):
        return f"the server answered HTTP {reason[5:]}"
    return _FAILURE_HELP.get(reason, reason)


def load_documents(settings: Settings, report: CaptureReport) -> None:
    """Read the captured documents back from the store into ``report.documents``."""
    with open_store(settings) as store:
        ids = dict.fromkeys(o.doc_id for o in report.outcomes if o.doc_id)
        report.documents = [d for d in (store.get_document(i) for i in ids if i) if d is not None]
