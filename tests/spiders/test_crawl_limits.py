"""One page of many links, and a crawl child that must stop: through ``osintel crawl`` (issue 12).

A start page of 3,000 same-site links must cost ``max_links_per_page`` requests, never more than
``max_pages``; the rest of its links wait for later crawls. A crawl child stops on SIGTERM even
while a request hangs, recording its run as ``interrupted``, and it stops when its parent is
killed with SIGKILL instead of running on as an orphan. (Time and memory of a 265,000-link page:
``bench/crawl_links.py``.)
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .conftest import Cli, Server, alive, crawl_children, crawl_rows, wait_until

LINKS = 3000
#: How long the test waits for a process to end before calling it stuck. Far above the child's
#: stop grace (5 s), far below how long a hanging request holds an unfixed child (minutes).
STUCK = 40.0


def _article(h: Any) -> None:
    n = h.path.rsplit("/", 1)[-1]
    h._send(200, (f"<html><head><title>Item {n}</title></head><body><article><h1>Item {n}</h1><p>Item {n}: "
                  "officers searched a unit on the trading estate and seized cannabis plants, cash and two "
                  "phones; two men were arrested on suspicion of production and remain in custody while "
                  "detectives examine the phones.</p><p>The unit had been rented for six months under a false "
                  "name, the force said.</p></article></body></html>").encode())


@pytest.fixture(scope="module")
def many(servers: tuple[Server, Server]) -> Server:
    site = servers[0]
    page = "".join(f'<p><a href="/many/a/{i}">index item number {i:05d}</a></p>' for i in range(LINKS))
    body = f"<html><head><title>Index</title></head><body>{page}</body></html>".encode()
    site.routes["/many/index.html"] = lambda h: h._send(200, body)
    site.prefixes["/many/a/"] = _article
    return site


def _source(site: Server, **extra: Any) -> dict[str, Any]:
    return {"id": "many", "kind": "web", "urls": [f"{site.base}/many/index.html"], "options": {"depth": 1},
            **extra}


def _articles(site: Server) -> list[str]:
    return [p for p in site.paths() if p.startswith("/many/a/")]


def test_a_page_of_many_links_gives_max_links_per_page_requests_and_the_rest_wait(
        many: Server, make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(many, [_source(many)], OSINTEL_CRAWL_MAX_LINKS_PER_PAGE="40")
    many.clear()
    first = cli.run("many")
    assert first.returncode == 0, first.stderr[-3000:]
    first_articles = _articles(many)
    many.clear()
    second = cli.run("many")
    assert second.returncode == 0, second.stderr[-3000:]
    first_run, second_run = cli.runs()

    assert crawl_rows(first)["many"]["status"] == "ok"
    assert first_run["stats"]["links/followed"] == 40
    assert first_run["stats"]["links/capped"] == 1
    assert len(first_articles) == 40 == len(set(first_articles))
    # The next crawl skips what it has and takes the next 40 links of the page.
    assert second_run["stats"]["items/seen"] == 40
    assert second_run["stats"]["links/followed"] == 40
    assert not set(_articles(many)) & set(first_articles)
    with cli.store() as store:
        assert store.count_documents() == 80


def test_a_crawl_never_schedules_more_pages_than_max_pages(
        many: Server, make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(many, [_source(many, max_pages=25)])
    many.clear()
    proc = cli.run("many")
    [run] = cli.runs()
    pages = [p for p in many.paths() if p != "/robots.txt"]

    assert crawl_rows(proc)["many"]["status"] == "page-limit", proc.stderr[-3000:]
    assert run["stats"]["links/followed"] <= 24  # the start page is the 25th
    assert run["stats"]["links/over_page_limit"] == 1
    assert len(pages) <= 25


# -- stopping ------------------------------------------------------------------------------------


@pytest.fixture
def hanging(servers: tuple[Server, Server]) -> Iterator[tuple[Server, threading.Event, threading.Event]]:
    """A start page linking three pages that answer only once released (or after 5 minutes)."""
    site = servers[0]
    reached, release = threading.Event(), threading.Event()

    def hang(h: Any) -> None:
        reached.set()
        release.wait(300)
        _article(h)

    links = "".join(f'<p><a href="/hang/a/{i}">slow page {i}</a></p>' for i in range(3))
    site.routes["/hang/index.html"] = lambda h: h._send(200, f"<html><body>{links}</body></html>".encode())
    site.prefixes["/hang/a/"] = hang
    yield site, reached, release
    release.set()


def _start_hung_crawl(cli: Cli, reached: threading.Event) -> tuple[Any, int]:
    proc = cli.start("hang")
    children: list[int] = []

    def found_children() -> bool:
        children.extend(crawl_children(proc.pid))
        return bool(children)

    assert wait_until(found_children, timeout=60)
    assert reached.wait(60), "the crawl never reached the hanging page"
    return proc, children[0]


def _hang_source(site: Server) -> dict[str, Any]:
    return {"id": "hang", "kind": "web", "urls": [f"{site.base}/hang/index.html"], "options": {"depth": 1}}


def test_sigterm_stops_a_crawl_child_with_requests_in_flight_and_records_it_interrupted(
        hanging: tuple[Server, threading.Event, threading.Event], make_cli: Callable[..., Cli]) -> None:
    site, reached, _ = hanging
    cli = make_cli(site, [_hang_source(site)], OSINTEL_CRAWL_DOWNLOAD_TIMEOUT="600")
    proc, child = _start_hung_crawl(cli, reached)
    out = err = ""
    try:
        os.kill(child, signal.SIGTERM)
        stopped = wait_until(lambda: not alive(child), timeout=STUCK)
        if stopped:
            out, err = proc.communicate(timeout=STUCK)
    finally:
        for pid in (child, proc.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert stopped, "the crawl child ignored SIGTERM while a request was in flight"
    [run] = cli.runs()
    assert run["status"] == "interrupted", (run, err[-3000:])
    assert "SIGTERM" in (run["error"] or "")
    assert run["stats"]["pages/fetched"] == 1  # what it did before the stop is kept
    assert proc.returncode == 1 and '"status": "interrupted"' in out


def test_a_crawl_child_stops_when_its_parent_is_killed(
        hanging: tuple[Server, threading.Event, threading.Event], make_cli: Callable[..., Cli]) -> None:
    site, reached, _ = hanging
    cli = make_cli(site, [_hang_source(site)], OSINTEL_CRAWL_DOWNLOAD_TIMEOUT="600")
    proc, child = _start_hung_crawl(cli, reached)
    try:
        proc.kill()  # SIGKILL: the parent gets no chance to stop its child itself
        proc.wait(timeout=STUCK)
        stopped = wait_until(lambda: not alive(child), timeout=STUCK)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
    assert stopped, "the crawl child outlived its parent"
    [run] = cli.runs()
    assert run["status"] == "interrupted", run
    assert "parent process exited" in (run["error"] or ""), (run["error"], proc.stderr.read()[-3000:])
