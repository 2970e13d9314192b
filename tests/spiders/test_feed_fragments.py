"""Feed entries that differ only by ``#fragment`` stay distinct (issue 12, item 14), via ``osintel crawl``.

A WordPress-style comment feed of ten comments on one post (links ``post.html#comment-N``, guids
``?p=5#comment-N``) must give ten documents, each with its own comment's text, two of them with
the same words; the post page is fetched once. A news feed whose entries link ``story.html`` and
``story.html#top`` is one story: a fragment naming a place on a page still collapses. Crawling both
feeds again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import pytest

from osintel.records import Document

from .conftest import Cli, Server, crawl_rows

COMMENTS = [f"Comment {i}: the van was seen again outside the unit on Dock Road at {i} am." for i in range(1, 9)]
COMMENTS += ["Thanks for sharing this.", "Thanks for sharing this."]  # same words, two comments
NO_CONTENT = 10  # this comment's entry carries no content: its text comes from the page element


def _post_page(base: str) -> bytes:
    items = "".join(f'<li id="comment-{i}"><p>{escape(text)}</p></li>' for i, text in enumerate(COMMENTS, 1))
    return (f"<html><head><title>Vans seen on Dock Road</title></head><body><article><h1>Vans seen on Dock Road"
            "</h1><p>Residents reported a white van visiting the industrial unit on Dock Road every night "
            "this week, always after midnight, and leaving within ten minutes. Police said they were aware of "
            "the reports and asked anyone with dashcam footage to come forward.</p></article>"
            f'<ol class="comments">{items}</ol></body></html>').encode()


def _comment_feed(base: str) -> bytes:
    entries = []
    for i, text in enumerate(COMMENTS, 1):
        content = "" if i == NO_CONTENT else f"<content:encoded><![CDATA[<p>{escape(text)}</p>]]></content:encoded>"
        entries.append(f"<item><title>Comment on Vans seen on Dock Road by reader{i}</title>"
                       f"<link>{base}/frag/post.html#comment-{i}</link><dc:creator>reader{i}</dc:creator>"
                       f'<guid isPermaLink="false">{base}/frag/?p=5#comment-{i}</guid>'
                       f"<pubDate>Mon, 0{1 + i % 9} Jun 2025 10:00:00 +0000</pubDate>{content}</item>")
    return ('<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Comments on: Vans seen on Dock Road'
            f"</title>{''.join(entries)}</channel></rss>").encode()


def _story(base: str) -> bytes:
    return (b"<html><head><title>Port worker charged</title></head><body><article><h1>Port worker charged</h1>"
            b"<p>A port worker has been charged with importing cocaine after 40 kilograms were found in a "
            b"shipping container of bananas at the container terminal, the National Crime Agency said on "
            b"Friday. He will appear before magistrates next week.</p></article></body></html>")


def _news_feed(base: str) -> bytes:
    items = "".join(f"<item><title>Port worker charged</title><link>{base}/frag/story.html{frag}</link>"
                    f"<guid>{base}/frag/story.html{frag}</guid></item>" for frag in ("", "#top"))
    return f'<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode()


@pytest.fixture(scope="module")
def frag(servers: tuple[Server, Server]) -> Server:
    site = servers[0]
    site.routes["/frag/post.html"] = lambda h: h._send(200, _post_page(site.base))
    site.routes["/frag/story.html"] = lambda h: h._send(200, _story(site.base))
    site.routes["/frag/comments.rss"] = lambda h: h._send(200, _comment_feed(site.base), "application/rss+xml")
    site.routes["/frag/news.rss"] = lambda h: h._send(200, _news_feed(site.base), "application/rss+xml")
    return site


def _docs(cli: Cli, source: str) -> list[Document]:
    with cli.store() as store:
        return [d for d in store.iter_documents() if d.source.id == source]


def test_feed_entries_differing_only_by_fragment_stay_distinct_and_recrawl_adds_nothing(
        frag: Server, make_cli: Callable[..., Cli]) -> None:
    cli = make_cli(frag, [{"id": "comments", "kind": "feed", "urls": [f"{frag.base}/frag/comments.rss"]},
                          {"id": "news", "kind": "feed", "urls": [f"{frag.base}/frag/news.rss"]}])
    frag.clear()
    first = cli.run("comments", "news")
    page_fetches = frag.paths().count("/frag/post.html")
    comments, news = _docs(cli, "comments"), _docs(cli, "news")
    second = cli.run("comments", "news")

    assert first.returncode == 0, first.stderr[-3000:]
    assert len(comments) == len(COMMENTS) == len({d.id for d in comments})
    by_fragment = {d.url.rsplit("#", 1)[1]: d for d in comments}
    assert set(by_fragment) == {f"comment-{i}" for i in range(1, len(COMMENTS) + 1)}
    for i, text in enumerate(COMMENTS, 1):
        doc = by_fragment[f"comment-{i}"]
        assert doc.text == text
        assert doc.author == f"reader{i}"
        assert doc.canonical_url.endswith(f"/frag/post.html#comment-{i}")
        assert doc.capture is not None and doc.capture.fetched_url is not None
        assert doc.capture.fetched_url.endswith("/frag/post.html")
    assert page_fetches == 1  # one fetch of the page for all ten entries

    # "#top" names a place on the page: the two entries of the news feed are one story.
    assert len(news) == 1 and news[0].canonical_url.endswith("/frag/story.html")

    assert second.returncode == 0, second.stderr[-3000:]
    rows = crawl_rows(second)
    assert rows["comments"]["items/new"] == 0 and rows["news"]["items/new"] == 0
    assert len(_docs(cli, "comments")) == len(COMMENTS) and len(_docs(cli, "news")) == 1
    assert {r["stats"]["items/seen"] for r in cli.runs()[2:]} == {len(COMMENTS), 2}
