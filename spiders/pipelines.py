"""OutboxPipeline: collected documents go to the control store's outbox, and nowhere else.

Crawling never waits for NLP: a document is stored and queued (``ControlStore.add_collected``)
and the enrichment worker picks it up later. Every fetched page is marked seen, so the next
crawl does not fetch it again.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from osintel.records import canonical_url
from osintel.store import ControlStore
from spiders.extract import normalise_text
from spiders.items import Collected, PageFailed

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)


def content_sha256(text: str) -> str:
    """SHA-256 of the normalised extracted text: the same article under two URLs hashes alike."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


class OutboxPipeline:
    """Item pipeline writing :class:`~spiders.items.Collected` documents to the outbox.

    Stats: ``items/new``, ``items/duplicate``; :class:`~spiders.items.PageFailed` items are
    marked seen when permanent (their ``items/failed`` count is kept by the spider).
    """

    def __init__(self, store_path: str, stats: StatsCollector, *, store_url: str = "") -> None:
        self.store_path = store_path
        self.store_url = store_url  # [store] url: PostgreSQL when set, else the SQLite file
        self.stats = stats
        self.store: ControlStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutboxPipeline:
        path = crawler.settings.get("OSINTEL_STORE_PATH")
        if not path:
            raise NotConfigured("OSINTEL_STORE_PATH is not set")
        return cls(path, crawler.stats, store_url=crawler.settings.get("OSINTEL_STORE_URL", ""))

    def open_spider(self, spider: Spider | None = None) -> None:
        # A store that cannot be opened fails the crawl here, loudly (StoreError).
        self.store = ControlStore(self.store_path, url=self.store_url)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        assert self.store is not None, "pipeline used before open_spider"
        if isinstance(item, Collected):
            self._collected(item)
        elif isinstance(item, PageFailed):
            if item.mark_seen:
                self.store.mark_seen(item.key or canonical_url(item.url), source_id=item.source_id)
        return item

    def _collected(self, item: Collected) -> None:
        assert self.store is not None
        doc = item.document
        if item.content_key is not None:
            digest = hashlib.sha256(item.content_key.encode("utf-8")).hexdigest()
        else:
            digest = content_sha256(doc.text)
        seen = [doc.canonical_url, *item.also_seen]  # marked seen in the same transaction as the document
        if item.replace:
            new = self.store.recapture_document(doc, content_sha256=digest, seen=seen)
            self.stats.inc_value("items/new" if new else "items/recaptured")
        elif self.store.add_collected(doc, content_sha256=digest, seen=seen):
            self.stats.inc_value("items/new")
        else:
            self.stats.inc_value("items/duplicate")
            log.info("duplicate document %s (%s)", doc.id, doc.canonical_url,
                     extra={"doc_id": doc.id, "url": doc.canonical_url})
