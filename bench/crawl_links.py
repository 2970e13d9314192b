"""One page of very many links: what a ``kind: web`` crawl of it costs (issue 12, item 12).

Serves, on 127.0.0.1, a start page holding ``--links`` same-site links (265,000 by default, about
10 MB, the page that took 316 s and 1.6 GB before the fix) and a small article behind every link,
then crawls it once through :func:`spiders.runner.run_crawl` (the same child process the CLI
starts) with ``max_pages`` ``--max-pages``. Prints the wall-clock time, the crawl child's peak
resident memory (``RUSAGE_CHILDREN``), the run status and the link and page counts; figures
before and after the fix are in ``bench/README.md``.
Run: ``.venv/bin/python bench/crawl_links.py [--links 265000] [--max-pages 200]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osintel.settings import load_settings  # noqa: E402
from osintel.sources import parse_sources  # noqa: E402
from spiders.runner import run_crawl  # noqa: E402

ARTICLE = ("<html><head><title>Article {n}</title></head><body><article><h1>Article {n}</h1>"
           "<p>Report {n}: officers from the regional organised crime unit searched {n} premises "
           "and seized cash, phones and ledgers after a long investigation into supply lines "
           "running between the port and three inland towns.</p></article></body></html>")


def link_page(links: int) -> bytes:
    """A listing page of ``links`` distinct same-site links, ~38 bytes each (265,000: 10 MB)."""
    items = "".join(f'<p><a href="/a/{i}">item {i:07d}</a>' for i in range(links))
    return f"<html><head><title>Index</title></head><body><ul>\n{items}</ul></body></html>".encode()


def serve(page: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/index.html":
                body = page
            elif self.path.startswith("/a/"):
                body = ARTICLE.format(n=self.path.rsplit("/", 1)[-1]).encode()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--links", type=int, default=265_000)
    parser.add_argument("--max-pages", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=1800, help="crawl.process_timeout, seconds")
    args = parser.parse_args()

    page = link_page(args.links)
    httpd = serve(page)
    host = f"127.0.0.1:{httpd.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory(prefix="osintel-bench-") as tmp:
            settings = load_settings(env={}, overrides={
                "data_dir": tmp, "log_level": "WARNING", "crawl.autothrottle": False,
                "crawl.download_delay": 0.0, "crawl.retry_times": 0,
                "crawl.max_pages": args.max_pages, "crawl.process_timeout": args.timeout,
            })
            sources = parse_sources({"allow_private_hosts": [host], "sources": [
                {"id": "links", "kind": "web", "urls": [f"http://{host}/index.html"], "options": {"depth": 1}}]})
            started = time.perf_counter()
            (result,) = run_crawl(settings, sources, ["links"])
            elapsed = time.perf_counter() - started
    finally:
        httpd.shutdown()
        httpd.server_close()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stats = result.stats
    print(f"page: {args.links:,} links, {len(page) / 1e6:.1f} MB; max_pages {args.max_pages}")
    print(f"status {result.status}; wall {elapsed:.1f} s; crawl child peak RSS {peak_mb:,.0f} MB")
    for key in ("links/followed", "links/capped", "links/over_page_limit", "pages_fetched", "items/new"):
        print(f"  {key:24} {stats.get(key, 0):>9,}")
    if result.error:
        print(f"  error: {result.error}")


if __name__ == "__main__":
    main()
