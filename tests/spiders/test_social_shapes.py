"""Social mappers refuse what is not a post (issue 12, item 15), through ``osintel crawl``.

Loopback endpoints answer each platform's spider with the wrong things: a Mastodon hashtag
timeline that is a list of Account entities and an account timeline holding Notifications beside
one real Status; a Bluesky author feed holding a feed generator and a blocked-post stub beside one
post, and a search answer with no posts at all; a Reddit listing of a subreddit, an account and a
post without a permalink beside one post; a Telegram preview with a message of another channel and
one without an id beside one message, and a channel with no preview. Each source must give
exactly its one real post; everything else is counted in the run's stats with its reason, logged
in one line per page, and never moves a cursor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from osintel.records import document_id_for_post

from .conftest import Cli, Server

ACCOUNT = {"id": "77", "username": "harbourwatch", "acct": "harbourwatch", "display_name": "Harbour Watch",
           "url": "https://m.example/@harbourwatch", "note": "<p>Watching the docks</p>",
           "created_at": "2022-11-05T00:00:00.000Z", "followers_count": 12}


def _status(base: str) -> dict[str, Any]:
    return {"id": "1001", "uri": f"{base}/users/harbourwatch/statuses/1001",
            "url": f"{base}/@harbourwatch/1001", "created_at": "2025-06-01T10:00:00.000Z",
            "content": "<p>Fresh batch in at the marina, DM for prices</p>", "spoiler_text": "",
            "account": ACCOUNT, "reblog": None, "media_attachments": [], "language": "en"}


def _mastodon(base: str) -> dict[str, Any]:
    accounts = [{**ACCOUNT, "id": str(80 + i), "username": f"user{i}", "acct": f"user{i}"} for i in range(3)]
    notifications = [
        {"id": "9999", "type": "mention", "created_at": "2025-06-02T10:00:00.000Z", "account": ACCOUNT,
         "status": _status(base)},
        {"id": "9998", "type": "follow", "created_at": "2025-06-02T09:00:00.000Z", "account": ACCOUNT},
    ]
    return {"/mst/api/v1/timelines/tag/wrong": accounts,
            "/mst/api/v1/accounts/77/statuses": [*notifications, _status(base)]}


def _bluesky() -> dict[str, Any]:
    author = {"did": "did:plc:abc", "handle": "harbour.test", "displayName": "Harbour"}
    post = {"uri": "at://did:plc:abc/app.bsky.feed.post/3kpost", "cid": "bafy1", "author": author,
            "record": {"$type": "app.bsky.feed.post", "text": "Boat came in late again at pier 4",
                       "createdAt": "2025-06-01T10:00:00.000Z"}, "indexedAt": "2025-06-01T10:00:01.000Z"}
    generator = {"uri": "at://did:plc:abc/app.bsky.feed.generator/hot", "cid": "bafy2", "did": "did:web:feeds",
                 "creator": author, "displayName": "Hot posts", "indexedAt": "2025-06-01T09:00:00.000Z"}
    blocked = {"uri": "at://did:plc:zzz/app.bsky.feed.post/3kgone", "blocked": True,
               "author": {"did": "did:plc:zzz", "viewer": {"blockedBy": True}}}
    return {"/bsky/xrpc/app.bsky.feed.getAuthorFeed": {"feed": [{"post": post}, {"post": generator},
                                                                {"post": blocked}]},
            "/bsky/xrpc/app.bsky.feed.searchPosts": {"actors": [author]}}


def _reddit() -> dict[str, Any]:
    good = {"id": "1abc", "name": "t3_1abc", "title": "Scam texts again", "selftext": "Same number as last week",
            "author": "someone", "permalink": "/r/wrongsub/comments/1abc/scam_texts_again/",
            "created_utc": 1748772000.0, "num_comments": 0}
    children = [{"kind": "t5", "data": {"name": "t5_2qh1i", "display_name": "wrongsub"}},
                {"kind": "t2", "data": {"name": "t2_x1", "id": "x1"}},
                {"kind": "t3", "data": {"name": "t3_1abd", "title": "no permalink"}},
                {"kind": "t3", "data": good}]
    return {"/rdt/r/wrongsub/new.json": {"kind": "Listing", "data": {"after": None, "children": children}}}


def _telegram() -> dict[str, bytes]:
    def message(post: str, text: str) -> str:
        return (f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message js-widget_message" '
                f'data-post="{post}"><div class="tgme_widget_message_bubble"><div class="tgme_widget_message_text '
                f'js-message_text">{text}</div><a class="tgme_widget_message_date" href="https://t.me/{post}">'
                '<time datetime="2025-06-01T10:00:00+00:00">10:00</time></a></div></div></div>')

    history = "".join([message("chan_one/5", "Cheap cigarettes, collection only"),
                       message("other_chan/6", "A message of another channel"),
                       message("chan_one/abc", "A message without a number")])
    return {"/tgm/s/chan_one": f'<html><body><section class="tgme_channel_history js-message_history">{history}'
                               "</section></body></html>".encode(),
            "/tgm/s/nopreview": b'<html><body><div class="tgme_page">This channel has no preview</div></body></html>'}


@pytest.fixture(scope="module")
def wrong(servers: tuple[Server, Server]) -> Server:
    site = servers[0]
    answers: dict[str, Any] = {**_mastodon(f"{site.base}/mst"), **_bluesky(), **_reddit()}
    for path, data in answers.items():
        site.routes[path] = _answer(json.dumps(data).encode(), "application/json")
    for path, page in _telegram().items():
        site.routes[path] = _answer(page)
    return site


def _answer(body: bytes, content_type: str = "text/html; charset=utf-8") -> Callable[[Any], None]:
    """A route that answers 200 with ``body``."""
    def route(handler: Any) -> None:
        handler._send(200, body, content_type)

    return route


def test_social_spiders_refuse_what_is_not_a_post_count_it_and_log_it(
        wrong: Server, make_cli: Callable[..., Cli]) -> None:
    base = wrong.base
    cli = make_cli(wrong, [
        {"id": "mst", "kind": "mastodon", "urls": [f"{base}/mst"], "targets": ["tag:wrong", "account:77"]},
        {"id": "bsk", "kind": "bluesky", "urls": [f"{base}/bsky"], "targets": ["author:harbour.test", "search:x"]},
        {"id": "rdt", "kind": "reddit", "urls": [f"{base}/rdt"], "targets": ["r/wrongsub"]},
        {"id": "tgm", "kind": "telegram", "urls": [f"{base}/tgm"], "targets": ["chan_one", "nopreview"]},
    ])
    proc = cli.run("mst", "bsk", "rdt", "tgm")
    runs = {r["source_id"]: r["stats"] for r in cli.runs()}
    with cli.store() as store:
        docs: dict[str, list[str]] = {d.source.id: [] for d in store.iter_documents()}
        for d in store.iter_documents():
            docs[d.source.id].append(d.id)
        mastodon_cursor = store.get_cursor("mst", "account:77")
    refusals = [line for line in proc.stderr.splitlines() if "refused" in line]
    host = base.split("//", 1)[1]

    assert docs == {
        "mst": [document_id_for_post("mastodon", f"{host}/1001")],
        "bsk": [document_id_for_post("bluesky", "at://did:plc:abc/app.bsky.feed.post/3kpost")],
        "rdt": [document_id_for_post("reddit", "t3_1abc")],
        "tgm": [document_id_for_post("telegram", "chan_one/5")],
    }, proc.stderr[-4000:]

    mst = runs["mst"]
    assert mst["items/rejected"] == 5
    assert mst["items/rejected/account"] == 3 and mst["items/rejected/notification"] == 2
    assert mst["mastodon/bad_response"] == 1  # a page of nothing but accounts is not a timeline
    assert mastodon_cursor == "1001"  # the notifications' larger ids never became the cursor

    bsk = runs["bsk"]
    assert bsk["items/rejected"] == 2
    assert bsk["items/rejected/not-a-post"] == 1 and bsk["items/rejected/bad-record"] == 1
    assert bsk["fetch/failed/bad-response"] == 1  # an answer with no posts at all

    rdt = runs["rdt"]
    assert rdt["items/rejected"] == 3
    assert rdt["items/rejected/kind-t5"] == rdt["items/rejected/kind-t2"] == rdt["items/rejected/bad-t3"] == 1

    tgm = runs["tgm"]
    assert tgm["items/rejected"] == 2
    assert tgm["items/rejected/other-channel"] == tgm["items/rejected/no-post-id"] == 1
    assert tgm["fetch/failed/bad-response"] == 1  # no preview is not an empty channel

    # One line per page that held refused objects.
    sources = [re.search(r" (\w+): refused \d+ object", line) for line in refusals]
    assert sorted(m[1] if m else line for m, line in zip(sources, refusals)) == \
        ["bsk", "mst", "mst", "rdt", "tgm"], refusals
