"""What spiders hand to the pipeline: a collected document, or a page that gave none."""

from __future__ import annotations

from dataclasses import dataclass, field

from osintel.records import Document


@dataclass
class Collected:
    """A document built from a fetched page.

    ``also_seen`` holds other canonical URLs that led to it (the link as given in a feed, before
    redirects), so the next crawl skips those too. ``content_key``, when set, replaces the text as
    the de-duplication key (social posts are keyed by platform and post id, not by text).
    ``replace`` (an analyst's re-capture) stores the document even when its id is already held,
    replacing the stored one (:meth:`~osintel.store.ControlStore.recapture_document`).
    """

    document: Document
    also_seen: list[str] = field(default_factory=list)
    content_key: str | None = None
    replace: bool = False


@dataclass
class PageFailed:
    """A page that produced no document. ``mark_seen`` says whether to skip it next time
    (true for a fetched page with no extractable text or a 404/410, false for transient errors).
    ``key``, when set, is what is marked seen instead of the canonical ``url`` (a feed entry
    that is part of a page is known by its link with the fragment).
    """

    url: str
    source_id: str
    reason: str
    mark_seen: bool = True
    key: str | None = None
