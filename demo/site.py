"""The demo news site, served from a daemon thread on 127.0.0.1.

Usage::

    with DemoSite(seed=2026) as site:        # starts on a free port
        urllib.request.urlopen(site.base_url + "/robots.txt")
        site.requests                          # [("GET", "/robots.txt"), ...]

or from a shell: ``python -m demo.site --port 8765`` (serves until Ctrl-C).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from demo import render
from demo.content import EPOCH, DemoArticle, build_corpus
from demo.social import ApiResponse, DemoAPI, default_apis

_FEED_TITLES = {"news": "Latest news", "investigations": "Investigations", "courts": "Courts",
                "international": "International (FR/ES/DE)"}
_XML = "application/xml; charset=utf-8"
_CONTENT_TYPES = {"news": "application/rss+xml; charset=utf-8",
                  "investigations": "application/atom+xml; charset=utf-8",
                  "courts": "application/rdf+xml; charset=utf-8",
                  "international": "application/rss+xml; charset=utf-8"}
_HTML = "text/html; charset=utf-8"

#: (body bytes, content type, last-modified) for one resolved path.
Response = tuple[bytes, str, datetime]


class DemoSite:
    """Serve the generated demo corpus over HTTP on ``host:port`` (``port=0`` picks a free port).

    Attributes: ``articles`` (newest first), ``base_url`` (set by :meth:`start`) and ``requests``,
    a list of ``(method, path_with_query)`` tuples, one per request received, in arrival order.
    """

    def __init__(self, seed: int = 2026, host: str = "127.0.0.1", port: int = 0) -> None:
        self.seed = seed
        self.host = host
        self.port = port
        self.articles: list[DemoArticle] = build_corpus(seed)
        self.base_url = ""
        self._requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._by_path = {a.path: a for a in self.articles}
        self._by_feed: dict[str | None, list[DemoArticle]] = {}
        for article in self.articles:
            self._by_feed.setdefault(article.feed, []).append(article)
        self._by_topic: dict[tuple[str, str], list[DemoArticle]] = {}
        for article in self.articles:
            self._by_topic.setdefault((article.lang, article.topic), []).append(article)
        #: Platform endpoints (Mastodon, Reddit, ...) asked before the news site's own routes.
        self.apis: list[DemoAPI] = default_apis(self.articles, seed=seed)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._server is not None:
            return self.base_url
        site = self

        class Handler(_Handler):
            demo = site

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-site", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def requests(self) -> list[tuple[str, str]]:
        """A snapshot of the request log."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _log(self, method: str, path: str) -> None:
        with self._lock:
            self._requests.append((method, path))

    # -- routing -----------------------------------------------------------------------------

    def feed_articles(self, feed: str | None) -> list[DemoArticle]:
        """Articles of one feed (``None``: the archive), newest first."""
        return list(self._by_feed.get(feed, []))

    def related(self, article: DemoArticle, count: int = 3) -> list[DemoArticle]:
        pool = [a for a in self._by_topic[(article.lang, article.topic)] if a is not article]
        start = sum(map(ord, article.slug)) % max(len(pool), 1)
        return (pool[start:] + pool[:start])[:count]

    def resolve(self, path: str, base: str) -> Response | None:
        """The response for ``path`` given the base URL clients used, or ``None`` (404)."""
        article = self._by_path.get(path)
        if article is not None:
            return render.article_page(article, self.related(article), base), _HTML, article.published_at
        route: Callable[[str], Response | None] | None = self._routes().get(path)
        if route is not None:
            return route(base)
        section = path.strip("/")
        if path.endswith("/") and section in render.SECTIONS:
            items = self.feed_articles(None if section == "archive" else section)
            return (render.listing_page(render.SECTIONS[section], items, base, path), _HTML,
                    items[0].published_at)
        return None

    def _routes(self) -> dict[str, Callable[[str], Response]]:
        newest = self.articles[0].published_at

        def feed(name: str) -> Callable[[str], Response]:
            def build(base: str) -> Response:
                items = self.feed_articles(name)
                title = _FEED_TITLES[name]
                if name == "investigations":
                    body = render.atom(name, title, items, base)
                elif name == "courts":
                    body = render.rdf(name, title, items, base)
                elif name == "news":
                    memo = [("Internal memo: newsroom rota", render.PRIVATE_PATH)]
                    body = render.rss2(name, title, items, base, extra_links=memo)
                else:
                    body = render.rss2(name, title, items, base)
                return body, _CONTENT_TYPES[name], items[0].published_at
            return build

        feed_articles = [a for a in self.articles if a.feed]
        archive = self.feed_articles(None)
        return {
            "/": lambda base: (render.listing_page(f"{render.SITE_NAME}: latest", self.articles[:40], base, "/"),
                               _HTML, newest),
            "/robots.txt": lambda base: (
                f"User-agent: *\nDisallow: /private/\nDisallow: /search\n\nSitemap: {base}/sitemap.xml\n".encode(),
                "text/plain; charset=utf-8", EPOCH),
            "/sitemap.xml": lambda base: (render.sitemap_index(base, [("/sitemaps/news.xml", newest),
                                                                      ("/sitemaps/archive.xml", archive[0].published_at)]),
                                          _XML, newest),
            "/sitemaps/news.xml": lambda base: (render.urlset(base, feed_articles), _XML, newest),
            "/sitemaps/archive.xml": lambda base: (render.urlset(base, archive), _XML, archive[0].published_at),
            render.PRIVATE_PATH: lambda base: (render.static_page(
                "Internal memo", "Newsroom rota and contact sheet. Not for publication.", base, render.PRIVATE_PATH),
                _HTML, EPOCH),
            "/search": lambda base: (render.static_page("Search", "Search is unavailable.", base, "/search"), _HTML, EPOCH),
            "/about.html": lambda base: (render.static_page("About us", "Independent local and crime reporting.", base,
                                                            "/about.html"), _HTML, EPOCH),
            "/contact.html": lambda base: (render.static_page("Contact", "Write to newsdesk@example.com.", base,
                                                              "/contact.html"), _HTML, EPOCH),
            "/privacy.html": lambda base: (render.static_page("Privacy notice", "We keep as little as we can.", base,
                                                              "/privacy.html"), _HTML, EPOCH),
            **{path: feed(name) for name, path in render.FEED_PATHS.items()},
        }


class _Handler(BaseHTTPRequestHandler):
    demo: DemoSite
    server_version = "HarbourCourier/1.0"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        self.demo._log(self.command, self.path)
        host = self.headers.get("Host") or f"{self.demo.host}:{self.demo.port}"
        parts = urlsplit(self.path)
        for api in self.demo.apis:
            answer: ApiResponse | None = api.handle(parts.path, parse_qs(parts.query), f"http://{host}")
            if answer is not None:
                self._send(answer.status, answer.body, answer.content_type, head=head, headers=answer.headers)
                return
        found = self.demo.resolve(parts.path, f"http://{host}")
        if found is None:
            body = b"<!DOCTYPE html><html lang=\"en\"><title>Not found</title><h1>404 Not Found</h1></html>"
            self._send(404, body, "text/html; charset=utf-8", head=head)
            return
        body, content_type, modified = found
        modified = modified.astimezone(timezone.utc).replace(microsecond=0)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True),
                   "Cache-Control": "max-age=60"}
        if self._not_modified(etag, modified):
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(200, body, content_type, head=head, headers=headers)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            return modified <= when
        return False

    def _send(self, status: int, body: bytes, content_type: str, *, head: bool,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr access log
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m demo.site``."""
    parser = argparse.ArgumentParser(description="Serve the osintel demo news site on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    site = DemoSite(seed=args.seed, host=args.host, port=args.port)
    base = site.start()
    print(f"demo site serving {len(site.articles)} articles at {base} (Ctrl-C to stop)", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
