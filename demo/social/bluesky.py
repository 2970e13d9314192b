"""Demo Bluesky AppView: ``app.bsky.feed.getAuthorFeed`` and ``app.bsky.feed.searchPosts``.

The responses follow the public AppView's XRPC lexicons (``app.bsky.feed.defs``):

* ``GET /xrpc/app.bsky.feed.getAuthorFeed?actor=<handle|did>&limit=&cursor=`` answers
  ``{"cursor"?, "feed": [feedViewPost]}``; a ``feedViewPost`` is ``{"post": postView,
  "reply"?: {"root", "parent"}, "reason"?: {"$type": "app.bsky.feed.defs#reasonRepost", "by",
  "uri", "cid", "indexedAt"}}``. Items are newest first by their sort time (the repost time for a
  repost); the cursor is the sort time of the page's last item and the next page holds the items
  strictly older than it. The last page has no ``cursor``.
* ``GET /xrpc/app.bsky.feed.searchPosts?q=&limit=&cursor=&sort=latest`` answers
  ``{"cursor"?, "hitsTotal", "posts": [postView]}``; every whitespace-separated term of ``q``
  must occur in the text (case-insensitive); the cursor is an opaque offset.
* ``postView`` = ``{uri, cid, author: {did, handle, displayName}, record: {"$type":
  "app.bsky.feed.post", text, createdAt, langs, reply?, embed?}, embed?, replyCount,
  repostCount, likeCount, quoteCount, indexedAt}`` with ``app.bsky.embed.images#view``,
  ``app.bsky.embed.record#view`` (a quote) and ``app.bsky.embed.external#view`` embeds.
* Errors are XRPC errors: ``400 {"error": "InvalidRequest", "message": ...}``.
* Every answer carries the AppView's rate-limit headers: ``RateLimit-Limit``,
  ``RateLimit-Remaining`` (counting down per request), ``RateLimit-Reset`` (epoch seconds) and
  ``RateLimit-Policy`` (``"3000;w=300"``).

With ``rate_limit_once=True`` the first request that carries a ``cursor`` (the first "next page")
is answered once with ``429 {"error": "RateLimitExceeded"}``, ``Retry-After: 1`` and
``RateLimit-Remaining: 0``; the retry is served normally. It is off by default so that crawls of
the demo do not depend on a rate-limit middleware.

~100 posts by five fictional accounts, generated from the demo news corpus (planted phones,
wallets, plates, places, method wording) plus chatter: replies, quotes, reposts, images and
French/Spanish/German posts. Nothing depends on the clock.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from demo.content import EPOCH, DemoArticle
from demo.social.api import ApiResponse

AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
SEARCH_POSTS = "/xrpc/app.bsky.feed.searchPosts"

#: (handle, display name) of the fictional accounts; handles are under reserved example domains.
ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("harbourwatch.example.com", "Harbour Watch"),
    ("nightdesk.example.org", "Night Desk Crime"),
    ("quayside-tips.example.net", "Quayside Tips"),
    ("routes-observer.example.com", "Routes Observer"),
    ("la-veille.example.fr", "La Veille"),
)
POST_COUNT = 100
RATE_LIMIT = 3000
RATE_WINDOW = 300

_CHATTER = (
    "anyone else seeing this on their timeline?", "big if true", "this again. third time this month",
    "not surprised tbh", "source?", "following this one closely", "wow", "thread below",
    "the council knew about this for ages", "sharing for visibility",
)
_CHATTER_OTHER = {
    "fr": ("quelqu'un a vu ça ?", "incroyable", "à suivre de près"),
    "es": ("¿alguien más ha visto esto?", "increíble", "hay que seguir esto"),
    "de": ("hat das noch jemand gesehen?", "unglaublich", "bleibe da dran"),
}
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _did(handle: str) -> str:
    digest = hashlib.sha256(handle.encode()).digest()
    return "did:plc:" + "".join(_TID_CHARS[b % 32] for b in digest[:24])


def _tid(rng: random.Random) -> str:
    return "3l" + "".join(rng.choice(_TID_CHARS) for _ in range(11))


def _cid(*parts: str) -> str:
    digest = hashlib.sha512(":".join(parts).encode()).digest()
    return "bafyrei" + "".join(_TID_CHARS[b % 32] for b in digest[:52])


def _sentences(article: DemoArticle) -> list[str]:
    out: list[str] = []
    for paragraph in article.paragraphs:
        out.extend(s.strip() + ("" if s.strip().endswith((".", "!", "?")) else ".")
                   for s in paragraph.split(". ") if len(s.strip()) > 20)
    return out


@dataclass
class DemoPost:
    """One generated post (the AppView's stored record plus its counts)."""

    uri: str
    cid: str
    rkey: str
    handle: str
    text: str
    created_at: datetime
    lang: str
    reply_parent: DemoPost | None = None
    reply_root: DemoPost | None = None
    quote_of: DemoPost | None = None
    images: int = 0
    link: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoRepost:
    """A repost by ``handle`` of ``post`` at ``at``."""

    uri: str
    cid: str
    handle: str
    post: DemoPost
    at: datetime


class BlueskyDemoAPI:
    """The demo AppView (see the module docstring). ``posts`` are newest first."""

    def __init__(self, articles: Sequence[DemoArticle], *, seed: int, rate_limit_once: bool = False) -> None:
        self.rate_limit_once = rate_limit_once
        self.rate_limited: list[str] = []
        self._lock = threading.Lock()
        self._served = 0
        self.profiles = {h: {"did": _did(h), "handle": h, "displayName": name} for h, name in ACCOUNTS}
        self._by_did = {p["did"]: h for h, p in self.profiles.items()}
        self.posts, self.reposts = self._generate(articles, random.Random(f"{seed}:bluesky"))

    # -- generation ----------------------------------------------------------------------------

    def _generate(self, articles: Sequence[DemoArticle],
                  rng: random.Random) -> tuple[list[DemoPost], list[DemoRepost]]:
        english = [a for a in articles if a.lang == "en"][:60]
        other = [a for a in articles if a.lang != "en"][:20]
        handles = [h for h, _ in ACCOUNTS]
        posts: list[DemoPost] = []  # oldest first while generating
        at = EPOCH - timedelta(days=20)
        for n in range(POST_COUNT):
            at += timedelta(minutes=rng.randint(45, 400), seconds=rng.randint(0, 59))
            handle = handles[n % len(handles)] if n % 7 else rng.choice(handles)
            roll = rng.random()
            if handle == "la-veille.example.fr" or roll < 0.12:
                article = rng.choice(other)
                lang = article.lang
                text = " ".join(rng.sample(_sentences(article), 1))
                if rng.random() < 0.3:
                    text = f"{rng.choice(_CHATTER_OTHER[lang])} {text}"
            elif roll < 0.25:
                lang, text = "en", rng.choice(_CHATTER)
            else:
                article = rng.choice(english)
                lang = "en"
                text = " ".join(_sentences(article)[: rng.randint(1, 2)])
            text = text[:300]
            rkey = _tid(rng)
            did = self.profiles[handle]["did"]
            uri = f"at://{did}/app.bsky.feed.post/{rkey}"
            post = DemoPost(uri=uri, cid=_cid(uri), rkey=rkey, handle=handle, text=text,
                            created_at=at.replace(microsecond=rng.randint(0, 999) * 1000), lang=lang)
            if posts and rng.random() < 0.2:
                parent = rng.choice(posts[-15:])
                post.reply_parent = parent
                post.reply_root = parent.reply_root or parent
            elif posts and rng.random() < 0.12:
                post.quote_of = rng.choice(posts[-20:])
            if rng.random() < 0.2:
                post.images = rng.randint(1, 3)
            elif rng.random() < 0.08:
                post.link = f"https://news.example.com/story/{rkey}"
            post.counts = {"replyCount": 0, "repostCount": rng.randint(0, 40),
                           "likeCount": rng.randint(0, 250), "quoteCount": 0}
            posts.append(post)
        for post in posts:
            if post.reply_parent is not None:
                post.reply_parent.counts["replyCount"] += 1
            if post.quote_of is not None:
                post.quote_of.counts["quoteCount"] += 1
        reposts: list[DemoRepost] = []
        for n in range(12):
            original = posts[rng.randrange(0, len(posts) - 5)]
            by = rng.choice([h for h in handles if h != original.handle])
            when = original.created_at + timedelta(minutes=rng.randint(5, 900), seconds=n)
            rkey = _tid(rng)
            uri = f"at://{self.profiles[by]['did']}/app.bsky.feed.repost/{rkey}"
            reposts.append(DemoRepost(uri=uri, cid=_cid(uri), handle=by, post=original, at=when))
        posts.reverse()
        reposts.sort(key=lambda r: r.at, reverse=True)
        return posts, reposts

    # -- views ---------------------------------------------------------------------------------

    def _ref(self, post: DemoPost) -> dict[str, str]:
        return {"uri": post.uri, "cid": post.cid}

    def _record(self, post: DemoPost) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": post.text,
                                  "createdAt": _iso(post.created_at), "langs": [post.lang]}
        if post.reply_parent is not None and post.reply_root is not None:
            record["reply"] = {"root": self._ref(post.reply_root), "parent": self._ref(post.reply_parent)}
        if post.quote_of is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": self._ref(post.quote_of)}
        elif post.images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [
                {"alt": f"photo {i + 1}", "image": {"$type": "blob", "ref": {"$link": _cid(post.uri, str(i))},
                                                     "mimeType": "image/jpeg", "size": 84211 + i}}
                for i in range(post.images)]}
        elif post.link:
            record["embed"] = {"$type": "app.bsky.embed.external", "external": {
                "uri": post.link, "title": "Story", "description": post.text[:80]}}
        return record

    def _embed_view(self, post: DemoPost, base: str) -> dict[str, Any] | None:
        did = self.profiles[post.handle]["did"]
        if post.quote_of is not None:
            quoted = post.quote_of
            return {"$type": "app.bsky.embed.record#view", "record": {
                "$type": "app.bsky.embed.record#viewRecord", "uri": quoted.uri, "cid": quoted.cid,
                "author": self.profiles[quoted.handle], "value": self._record(quoted),
                "indexedAt": _iso(quoted.created_at), **{k: v for k, v in quoted.counts.items()}}}
        if post.images:
            images = []
            for i in range(post.images):
                blob = _cid(post.uri, str(i))
                images.append({
                    "thumb": f"{base}/img/feed_thumbnail/plain/{did}/{blob}@jpeg",
                    "fullsize": f"{base}/img/feed_fullsize/plain/{did}/{blob}@jpeg",
                    "alt": f"photo {i + 1}", "aspectRatio": {"width": 1200, "height": 900}})
            return {"$type": "app.bsky.embed.images#view", "images": images}
        if post.link:
            return {"$type": "app.bsky.embed.external#view", "external": {
                "uri": post.link, "title": "Story", "description": post.text[:80]}}
        return None

    def post_view(self, post: DemoPost, base: str) -> dict[str, Any]:
        """The ``app.bsky.feed.defs#postView`` of ``post``."""
        view: dict[str, Any] = {
            "$type": "app.bsky.feed.defs#postView",
            "uri": post.uri, "cid": post.cid, "author": dict(self.profiles[post.handle]),
            "record": self._record(post),
        }
        embed = self._embed_view(post, base)
        if embed is not None:
            view["embed"] = embed
        view.update(post.counts)
        view["indexedAt"] = _iso(post.created_at + timedelta(seconds=2))
        view["labels"] = []
        return view

    def _feed(self, handle: str) -> list[tuple[datetime, DemoPost | DemoRepost]]:
        items: list[tuple[datetime, DemoPost | DemoRepost]] = [(p.created_at, p) for p in self.posts if p.handle == handle]
        items += [(r.at, r) for r in self.reposts if r.handle == handle]
        items.sort(key=lambda pair: pair[0], reverse=True)
        return items

    def _feed_item(self, item: DemoPost | DemoRepost, base: str) -> dict[str, Any]:
        if isinstance(item, DemoRepost):
            return {"post": self.post_view(item.post, base), "reason": {
                "$type": "app.bsky.feed.defs#reasonRepost", "by": dict(self.profiles[item.handle]),
                "uri": item.uri, "cid": item.cid, "indexedAt": _iso(item.at)}}
        out: dict[str, Any] = {"post": self.post_view(item, base)}
        if item.reply_parent is not None and item.reply_root is not None:
            out["reply"] = {"root": self.post_view(item.reply_root, base),
                            "parent": self.post_view(item.reply_parent, base)}
        return out

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
        if path not in (AUTHOR_FEED, SEARCH_POSTS):
            return None
        with self._lock:
            self._served += 1
            served = self._served
            limited = self.rate_limit_once and not self.rate_limited and "cursor" in query
            if limited:
                self.rate_limited.append(path)
        reset = int((EPOCH + timedelta(seconds=RATE_WINDOW)).timestamp())
        headers = {"RateLimit-Limit": str(RATE_LIMIT), "RateLimit-Reset": str(reset),
                   "RateLimit-Policy": f"{RATE_LIMIT};w={RATE_WINDOW}"}
        if limited:
            headers.update({"RateLimit-Remaining": "0", "Retry-After": "1"})
            return ApiResponse.json({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                    status=429, headers=headers)
        headers["RateLimit-Remaining"] = str(max(RATE_LIMIT - served, 0))
        try:
            limit = int(query.get("limit", ["50"])[0])
        except ValueError:
            return _invalid("limit must be an integer", headers)
        if not 1 <= limit <= 100:
            return _invalid("limit must be between 1 and 100", headers)
        cursor = query.get("cursor", [None])[0]
        if path == AUTHOR_FEED:
            return self._author_feed(query, limit, cursor, base, headers)
        return self._search(query, limit, cursor, base, headers)

    def _author_feed(self, query: dict[str, list[str]], limit: int, cursor: str | None, base: str,
                     headers: dict[str, str]) -> ApiResponse:
        actor = query.get("actor", [""])[0]
        if not actor:
            return _invalid('Error: Params must have the property "actor"', headers)
        handle = self._by_did.get(actor, actor.lower())
        if handle not in self.profiles:
            return _invalid("Profile not found", headers)
        items = self._feed(handle)
        if cursor:
            items = [pair for pair in items if _iso(pair[0]) < cursor]
        page = items[:limit]
        body: dict[str, Any] = {"feed": [self._feed_item(item, base) for _, item in page]}
        if len(items) > limit:
            body = {"cursor": _iso(page[-1][0]), **body}
        return ApiResponse.json(body, headers=headers)

    def _search(self, query: dict[str, list[str]], limit: int, cursor: str | None, base: str,
                headers: dict[str, str]) -> ApiResponse:
        q = query.get("q", [""])[0].strip()
        if not q:
            return _invalid('Error: Params must have the property "q"', headers)
        terms = q.lower().split()
        hits = [p for p in self.posts if all(t in p.text.lower() for t in terms)]
        try:
            offset = int(cursor) if cursor else 0
        except ValueError:
            return _invalid("Malformed cursor", headers)
        page = hits[offset:offset + limit]
        body: dict[str, Any] = {"hitsTotal": len(hits), "posts": [self.post_view(p, base) for p in page]}
        if offset + limit < len(hits):
            body = {"cursor": str(offset + limit), **body}
        return ApiResponse.json(body, headers=headers)


def _invalid(message: str, headers: dict[str, str]) -> ApiResponse:
    return ApiResponse.json({"error": "InvalidRequest", "message": message}, status=400, headers=headers)
