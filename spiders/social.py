"""What every social-media spider shares: a post becomes a :class:`~osintel.records.Document`.

Platform spiders (Mastodon, Reddit, Bluesky, Telegram) parse their platform's own response format
into :class:`Post` and hand it to :func:`post_item`. The document id is derived from the platform
and the post id (stable across permalink spellings), the permalink is the document URL, and the
platform context (post id, reply and quote references, media URLs, engagement counts, the target
followed) is kept under ``Document.extra``.

Posts are de-duplicated by id, never by text: identical text from many accounts is itself a
signal (coordinated posting) and must not collapse into one document.

Every platform mapper checks the shape of what it is given before mapping it: an object that is
not a post (an account, a notification, a feed generator, a subreddit, a message without an id)
is refused, never turned into an empty or invented post. :func:`reject` counts what one response
held that was refused, by reason (``items/rejected``, ``items/rejected/<reason>``), and logs one
line for it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from osintel.records import Capture, Document, document_id_for_post
from osintel.sources import Source
from spiders.base import classify_failure
from spiders.items import Collected

log = logging.getLogger(__name__)


@dataclass
class Post:
    """One public post, in platform-neutral form."""

    platform: str
    post_id: str
    permalink: str
    text: str
    author: str | None = None
    author_handle: str | None = None
    published_at: datetime | None = None
    title: str = ""
    reply_to: str | None = None
    quote_of: str | None = None
    media_urls: list[str] = field(default_factory=list)
    engagement: dict[str, int] = field(default_factory=dict)
    target: str | None = None
    language: str | None = None


def post_document(source: Source, post: Post, *, capture: Capture | None = None) -> Document:
    """The Document for ``post`` collected from ``source``."""
    context = {
        "platform": post.platform,
        "post_id": post.post_id,
        "reply_to": post.reply_to,
        "quote_of": post.quote_of,
        "media_urls": list(post.media_urls),
        "engagement": dict(post.engagement),
        "target": post.target,
        "declared_language": post.language,
    }
    ref = source.ref().model_copy(update={"platform": post.platform})
    return Document(
        id=document_id_for_post(post.platform, post.post_id),
        url=post.permalink,
        source=ref,
        title=post.title,
        text=post.text,
        author=post.author,
        author_handle=post.author_handle,
        published_at=post.published_at,
        capture=capture,
        extra={k: v for k, v in context.items() if v not in (None, [], {})},
    )


def post_item(source: Source, post: Post, *, capture: Capture | None = None) -> Collected:
    """The pipeline item for ``post``: keyed by platform and post id, not by its text."""
    doc = post_document(source, post, capture=capture)
    return Collected(document=doc, content_key=f"{post.platform}:{post.post_id}")


def target_failed(spider: Any, keeper: Any, *, url: str, target: str, failure: Any = None,
                  counter: str | None = None) -> None:
    """What every social spider does when a page of ``target`` could not be used.

    ``failure`` is the Twisted failure of a request that failed (classified and counted as
    ``fetch/failed/<reason>``); without it the page arrived but could not be read
    (``reason`` ``bad-response``). Either way it is logged, counted under ``counter`` when given,
    and the target's cursor is held back for this crawl (``keeper.fail``), since posts may be missing.
    """
    stats = spider.crawler.stats
    if failure is not None:
        reason, _ = classify_failure(failure, stats)
        stats.inc_value(f"fetch/failed/{reason}")
    else:
        reason = "bad-response"
    if counter:
        stats.inc_value(counter)
    log.error("%s: could not fetch %s for %s: %s", spider.source.id, url, target, reason,
              extra={"source_id": spider.source.id, "url": url, "target": target, "reason": reason})
    if keeper is not None:
        keeper.fail(target)
        keeper.closed(target)


def screen(objects: Iterable[Any], problem: Callable[[Any], str | None]) -> tuple[list[Any], Counter[str]]:
    """Split a response's objects into the accepted ones and, by reason, counts of the refused.

    ``problem(obj)`` is None for an object of the wanted shape, else the reason it is refused.
    """
    accepted: list[Any] = []
    refused = Counter[str]()
    for obj in objects:
        reason = problem(obj)
        if reason is None:
            accepted.append(obj)
        else:
            refused[reason] += 1
    return accepted, refused


def reject(spider: Any, reasons: Counter[str], *, url: str, target: str, expected: str) -> int:
    """Count the objects of one response that were refused, by reason, and log one line.

    ``reasons`` maps a reason (``account``, ``notification``, ``not-a-status`` ...) to how many
    objects were refused for it; ``expected`` names what was wanted ("Mastodon statuses").
    Returns the number refused.
    """
    total = sum(reasons.values())
    if not total:
        return 0
    stats = spider.crawler.stats
    stats.inc_value("items/rejected", total)
    for reason, count in reasons.items():
        stats.inc_value(f"items/rejected/{reason}", count)
    summary = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    log.warning("%s: refused %d object(s) from %s for %s that are not %s (%s)", spider.source.id, total,
                url, target, expected, summary,
                extra={"source_id": spider.source.id, "url": url, "target": target, "reasons": dict(reasons)})
    return total
