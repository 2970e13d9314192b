"""The bundled demo: a generated, fictional crime-news site served on 127.0.0.1 for the crawler.

- :func:`build_corpus` builds the articles (deterministic for a seed) with planted ground truth;
- :class:`DemoSite` serves them with feeds, sitemaps and robots.txt;
- :func:`demo_sources_config` returns sources pointing at a running site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from demo.config import demo_sources_config
from demo.content import METHOD_IDS, Comment, DemoArticle, build_corpus

if TYPE_CHECKING:
    from demo.site import DemoSite

__all__ = ["METHOD_IDS", "Comment", "DemoArticle", "DemoSite", "build_corpus", "demo_sources_config"]


def __getattr__(name: str) -> Any:
    # Imported lazily so ``python -m demo.site`` does not import the module twice.
    if name == "DemoSite":
        from demo.site import DemoSite

        return DemoSite
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
