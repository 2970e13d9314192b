"""Demo endpoints that speak the social platforms' public APIs, for the social spiders.

Each platform module provides a class with ``handle(path, query, base) -> ApiResponse | None``
(the :class:`~osintel.demo.social.api.DemoAPI` protocol). :func:`default_apis` is the one place
they are registered; :class:`~osintel.demo.site.DemoSite` asks each in turn before its own routes.
"""

from __future__ import annotations

from collections.abc import Sequence

from osintel.demo.content import DemoArticle
from osintel.demo.social.api import ApiResponse, DemoAPI

__all__ = ["ApiResponse", "DemoAPI", "default_apis"]


def default_apis(articles: Sequence[DemoArticle], *, seed: int) -> list[DemoAPI]:
    """The built-in platform endpoints, built from the demo corpus."""
    from osintel.demo.social.bluesky import BlueskyDemoAPI
    from osintel.demo.social.mastodon import MastodonDemoAPI
    from osintel.demo.social.reddit import RedditDemoAPI
    from osintel.demo.social.telegram import TelegramDemoAPI

    return [BlueskyDemoAPI(articles, seed=seed), TelegramDemoAPI(articles, seed=seed),
            MastodonDemoAPI(articles, seed=seed), RedditDemoAPI(articles, seed=seed)]
