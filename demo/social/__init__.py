"""Demo endpoints that speak the social platforms' public APIs, for the social spiders.

Each platform module provides a class with ``handle(path, query, base) -> ApiResponse | None``
(the :class:`~demo.social.api.DemoAPI` protocol). :func:`default_apis` is the one place
they are registered; :class:`~demo.site.DemoSite` asks each in turn before its own routes.
"""

from __future__ import annotations

from collections.abc import Sequence

from demo.content import DemoArticle
from demo.social.api import ApiResponse, DemoAPI

__all__ = ["ApiResponse", "DemoAPI", "default_apis"]


def default_apis(articles: Sequence[DemoArticle], *, seed: int) -> list[DemoAPI]:
    """The built-in platform endpoints, built from the demo corpus."""
    from demo.social.bluesky import BlueskyDemoAPI
    from demo.social.mastodon import MastodonDemoAPI
    from demo.social.reddit import RedditDemoAPI
    from demo.social.telegram import TelegramDemoAPI

    return [BlueskyDemoAPI(articles, seed=seed), TelegramDemoAPI(articles, seed=seed),
            MastodonDemoAPI(articles, seed=seed), RedditDemoAPI(articles, seed=seed)]
