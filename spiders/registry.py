"""The one place where source kinds are mapped to spider classes.

Every built-in spider is registered here the same way a new one would be: by dotted path, so that
importing the registry does not import every spider (and its libraries) up front.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from osintel.errors import ConfigError

#: Source kind -> "module:ClassName" of its spider.
SPIDERS: dict[str, str] = {
    "feed": "spiders.feed:FeedSpider",
    "sitemap": "spiders.sitemap:SitemapSpider",
    "mastodon": "spiders.mastodon:MastodonSpider",
    "reddit": "spiders.reddit:RedditSpider",
    "bluesky": "spiders.bluesky:BlueskySpider",
    "telegram": "spiders.telegram:TelegramSpider",
    "web": "spiders.web:WebSpider",
}


def spider_class(kind: str) -> type[Any]:
    """The spider class for a source kind; :class:`ConfigError` if none is registered."""
    try:
        target = SPIDERS[kind]
    except KeyError:
        known = ", ".join(sorted(SPIDERS))
        raise ConfigError(f"no spider for source kind {kind!r} (available: {known})") from None
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)  # type: ignore[no-any-return]
