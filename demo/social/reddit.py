"""A demo Reddit: the public ``.json`` endpoints in Reddit's format.

Endpoints (``GET``):

- ``/r/<sub>/new.json``                       a Listing of ``t3`` things, newest first;
- ``/r/<sub>/comments/<id>[/<slug>].json``    ``[post Listing, comment Listing]``;
- ``/api/morechildren.json?link_id=t3_..&children=a,b``  the comments behind a ``more`` stub.

Listing paging follows Reddit: ``limit`` (default 25, at most 100), ``after`` / ``before`` (a
fullname; older / newer than it), ``count`` (accepted, only informative). ``data.after`` is the
last fullname when older items remain, else ``null``; ``data.before`` the first fullname when newer
items exist. Comment trees nest ``replies`` as a Listing, or the empty string ``""`` when there
are none. A comment level shows at most :data:`TOP_LEVEL_SHOWN` top-level comments followed by a
``kind: "more"`` stub naming the rest; past depth :data:`MAX_DEPTH` a "continue this thread" stub
(``id: "_"``, ``count: 0``, no children) stands in, as on Reddit.

Text fields are HTML-escaped (``&amp;``, ``&lt;``, ``&gt;``) unless ``raw_json=1``, as on Reddit.
Every answer carries ``x-ratelimit-used`` / ``-remaining`` (a float) / ``-reset`` (seconds); the
window here is deliberately small (default 50 requests per second) so clients meet the end of it;
a request sent into an exhausted window is refused (429) with a ``Retry-After`` HTTP date, and
``throttle_every`` (off by default) schedules refusals as in :mod:`demo.social.limits`.
Unknown subreddits are ``404 {"message": "Not Found", "error": 404}``.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from demo.content import DemoArticle, slugify
from demo.social.api import ApiResponse
from demo.social.corpus import SocialComment, SocialPost, build_posts, build_thread
from demo.social.limits import DemoRateLimit, LimitState

SUBREDDITS = ("harbourcity", "ukscamwatch")
SUBREDDIT_IDS = {"harbourcity": "t5_2x9h1c", "ukscamwatch": "t5_3b7q0d"}
POST_COUNT = 100
DEFAULT_LIMIT, MAX_LIMIT = 25, 100
TOP_LEVEL_SHOWN = 3
MAX_DEPTH = 3  # comments at this depth (0-based) are behind "continue this thread"
_AUTHORS = ("Harbour Local", "Night Owl 77", "Dockside Dave", "Concerned Parent", "Throwaway Account",
            "Mod Team Helper", "Quiet Neighbour", "Estate Agent Not", "Cyclist Kate", "Old Salt")
_CROSSPOST_EVERY = 11


def b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"


def _walk(nodes: Sequence[SocialComment]) -> Iterator[SocialComment]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


class RedditDemoAPI:
    """Serves :data:`POST_COUNT` generated posts over :data:`SUBREDDITS`, with comment trees."""

    def __init__(self, articles: Sequence[DemoArticle], *, seed: int, throttle_every: int = 0,
                 window: int = 50, reset_seconds: float = 1.0) -> None:
        self.limits = DemoRateLimit(window=window, reset_seconds=reset_seconds, throttle_every=throttle_every)
        self.seed = seed
        posts = build_posts(articles, seed=seed, count=POST_COUNT, channels=SUBREDDITS, authors=_AUTHORS,
                            reply_rate=0.0, media_rate=0.25, titles=True)
        self.posts = posts
        self.ids = {p.index: b36(2_900_000_000 + p.index * 131) for p in posts}
        self.threads = {p.index: build_thread(p, seed=seed, authors=_AUTHORS) for p in posts}
        self.by_id = {self.ids[p.index]: p for p in posts}
        # Crossposts: every 11th post re-shares an earlier post from the other subreddit.
        self.crosspost_of: dict[int, int] = {}
        for post in posts[_CROSSPOST_EVERY::_CROSSPOST_EVERY]:
            earlier = [p for p in posts[: post.index] if p.channel != post.channel]
            if earlier:
                self.crosspost_of[post.index] = earlier[-1].index

    def comment_id(self, post: SocialPost, node: SocialComment) -> str:
        return b36(4_000_000_000 + post.index * 1000 + node.key)

    def permalink(self, post: SocialPost) -> str:
        return f"/r/{post.channel}/comments/{self.ids[post.index]}/{slugify(post.title, max_length=50)}/"

    # -- things ------------------------------------------------------------------------------

    def link(self, post: SocialPost, base: str, *, raw: bool) -> dict[str, Any]:
        """The ``t3`` data of ``post``."""
        esc = (lambda s: s) if raw else (lambda s: html.escape(s, quote=False))
        pid = self.ids[post.index]
        created = post.created_at.timestamp()
        host = urlsplit(base).netloc
        data: dict[str, Any] = {
            "id": pid, "name": f"t3_{pid}", "title": esc(post.title), "selftext": esc(post.text),
            "selftext_html": "&lt;!-- SC_OFF --&gt;&lt;div class=\"md\"&gt;&lt;p&gt;"
                             + html.escape(html.escape(post.text, quote=False), quote=False)
                             + "&lt;/p&gt;\n&lt;/div&gt;&lt;!-- SC_ON --&gt;",
            "author": post.author, "author_fullname": f"t2_{b36(int(hashlib.sha256(post.author.encode()).hexdigest()[:8], 16))}",
            "subreddit": post.channel, "subreddit_name_prefixed": f"r/{post.channel}",
            "subreddit_id": SUBREDDIT_IDS[post.channel], "subreddit_type": "public",
            "permalink": self.permalink(post), "url": base + self.permalink(post),
            "domain": f"self.{post.channel}", "is_self": True, "is_video": False, "media": None,
            "secure_media": None, "post_hint": "self", "thumbnail": "self",
            "created": created, "created_utc": created, "num_comments": sum(1 for _ in _walk(self.threads[post.index])),
            "score": post.likes, "ups": post.likes, "downs": 0, "upvote_ratio": 0.93,
            "over_18": False, "spoiler": False, "stickied": False, "locked": False, "archived": False,
            "edited": False, "gilded": 0, "total_awards_received": 0, "link_flair_text": None,
            "num_crossposts": 0, "send_replies": True,
        }
        if len(post.media) == 2:
            video = f"{base}/media/v/{pid}"
            data.update(is_self=False, is_video=True, selftext="", selftext_html=None, url=video,
                        domain=f"v.{host}", post_hint="hosted:video", thumbnail=f"{base}/media/thumbs/{pid}.jpg")
            data["media"] = data["secure_media"] = {"reddit_video": {
                "fallback_url": f"{video}/DASH_720.mp4?source=fallback", "height": 720, "width": 1280,
                "duration": 14, "is_gif": False, "hls_url": f"{video}/HLSPlaylist.m3u8",
                "dash_url": f"{video}/DASHPlaylist.mpd", "transcoding_status": "completed"}}
        elif post.media:
            image = f"{base}/media/i/{post.media[0]}"
            data.update(is_self=False, selftext="", selftext_html=None, url=image, domain=f"i.{host}",
                        post_hint="image", thumbnail=f"{base}/media/thumbs/{pid}.jpg")
            amp = "&" if raw else "&amp;"
            data["preview"] = {"images": [{
                "source": {"url": f"{base}/media/preview/{post.media[0]}?width=1280{amp}format=pjpg{amp}s={pid}",
                           "width": 1280, "height": 960},
                "resolutions": [], "variants": {}, "id": pid}], "enabled": True}
        parent = self.crosspost_of.get(post.index)
        if parent is not None:
            original = self.link(self.posts[parent], base, raw=raw)
            data.update(crosspost_parent=original["name"], crosspost_parent_list=[original], is_self=False,
                        selftext="", selftext_html=None, url=base + original["permalink"],
                        domain=f"self.{self.posts[parent].channel}", title=original["title"])
        return data

    def comment(self, post: SocialPost, node: SocialComment, parent: str, depth: int, base: str, *,
                raw: bool, nested: bool) -> dict[str, Any]:
        """A ``t1`` thing; ``nested`` renders its replies as a Listing (else ``""``)."""
        esc = (lambda s: s) if raw else (lambda s: html.escape(s, quote=False))
        cid = self.comment_id(post, node)
        created = node.created_at.timestamp()
        replies: Any = ""
        if nested and node.children:
            replies = self._listing(self._level(post, node.children, f"t1_{cid}", depth + 1, base, raw=raw))
        return {"kind": "t1", "data": {
            "id": cid, "name": f"t1_{cid}", "parent_id": parent, "link_id": f"t3_{self.ids[post.index]}",
            "author": node.author, "body": esc(node.text),
            "body_html": "&lt;div class=\"md\"&gt;&lt;p&gt;" + html.escape(html.escape(node.text, quote=False),
                                                                             quote=False) + "&lt;/p&gt;\n&lt;/div&gt;",
            "created": created, "created_utc": created, "score": node.score, "ups": node.score, "downs": 0,
            "depth": depth, "permalink": f"{self.permalink(post)}{cid}/", "subreddit": post.channel,
            "subreddit_id": SUBREDDIT_IDS[post.channel], "replies": replies, "is_submitter": node.author == post.author,
            "stickied": False, "score_hidden": False, "controversiality": 0, "edited": False,
            "distinguished": None, "gilded": 0, "collapsed": False, "archived": False, "locked": False,
            "total_awards_received": 0, "author_flair_text": None, "send_replies": True,
        }}

    def _level(self, post: SocialPost, nodes: Sequence[SocialComment], parent: str, depth: int, base: str, *,
               raw: bool) -> list[dict[str, Any]]:
        if depth >= MAX_DEPTH:
            return [{"kind": "more", "data": {"count": 0, "name": "t1__", "id": "_", "parent_id": parent,
                                              "depth": depth, "children": []}}]
        shown = list(nodes) if depth else list(nodes)[:TOP_LEVEL_SHOWN]
        things = [self.comment(post, n, parent, depth, base, raw=raw, nested=True) for n in shown]
        rest = list(nodes)[len(shown):]
        if rest:
            ids = [self.comment_id(post, n) for n in rest]
            things.append({"kind": "more", "data": {
                "count": sum(1 for _ in _walk(rest)), "name": f"t1_{ids[0]}", "id": ids[0],
                "parent_id": parent, "depth": depth, "children": ids}})
        return things

    @staticmethod
    def _listing(children: list[dict[str, Any]], *, after: str | None = None, before: str | None = None,
                 dist: bool = False) -> dict[str, Any]:
        return {"kind": "Listing", "data": {"after": after, "dist": len(children) if dist else None,
                                            "modhash": "", "geo_filter": "", "children": children,
                                            "before": before}}

    # -- routing -----------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
        parts = path.strip("/").split("/")
        is_listing = len(parts) == 3 and parts[0] == "r" and parts[2] == "new.json"
        is_comments = len(parts) in (4, 5) and parts[0] == "r" and parts[2] == "comments" and path.endswith(".json")
        is_more = path == "/api/morechildren.json" or path == "/api/morechildren"
        if not (is_listing or is_comments or is_more):
            return None
        state = self.limits.hit()
        headers = self._limit_headers(state)
        if state.retry_after is not None:
            when = datetime.now(timezone.utc) + timedelta(seconds=state.retry_after + 2)
            headers["Retry-After"] = format_datetime(when.replace(microsecond=0), usegmt=True)
            return ApiResponse.json({"message": "Too Many Requests", "error": 429}, status=429, headers=headers)
        one = {k: v[-1] for k, v in query.items() if v}
        raw = one.get("raw_json") == "1"
        if is_more:
            return self._more(one, base, raw, headers)
        sub = parts[1].lower()
        if sub not in SUBREDDITS:
            return ApiResponse.json({"message": "Not Found", "error": 404}, status=404, headers=headers)
        if is_listing:
            return self._new(sub, one, base, raw, headers)
        pid = parts[3].removesuffix(".json")
        post = self.by_id.get(pid)
        if post is None or post.channel != sub:
            return ApiResponse.json({"message": "Not Found", "error": 404}, status=404, headers=headers)
        link = self._listing([{"kind": "t3", "data": self.link(post, base, raw=raw)}], dist=True)
        comments = self._listing(self._level(post, self.threads[post.index], f"t3_{pid}", 0, base, raw=raw))
        return ApiResponse.json([link, comments], headers=headers)

    def _new(self, sub: str, params: dict[str, str], base: str, raw: bool, headers: dict[str, str]) -> ApiResponse:
        try:
            limit = max(1, min(int(params.get("limit", DEFAULT_LIMIT)), MAX_LIMIT))
        except ValueError:
            limit = DEFAULT_LIMIT
        posts = [p for p in reversed(self.posts) if p.channel == sub]  # newest first
        names = [f"t3_{self.ids[p.index]}" for p in posts]
        start = 0
        if params.get("after") in names:
            start = names.index(params["after"]) + 1
        elif params.get("before") in names:
            start = max(0, names.index(params["before"]) - limit)
            limit = names.index(params["before"]) - start
        page = posts[start:start + limit]
        after = names[start + len(page) - 1] if page and start + len(page) < len(posts) else None
        before = names[start] if page and start > 0 else None
        children = [{"kind": "t3", "data": self.link(p, base, raw=raw)} for p in page]
        return ApiResponse.json(self._listing(children, after=after, before=before, dist=True), headers=headers)

    def _more(self, params: dict[str, str], base: str, raw: bool, headers: dict[str, str]) -> ApiResponse:
        post = self.by_id.get(params.get("link_id", "").removeprefix("t3_"))
        wanted = set(filter(None, params.get("children", "").split(",")))
        things: list[dict[str, Any]] = []
        if post is not None:
            def visit(nodes: Sequence[SocialComment], parent: str, depth: int, inside: bool) -> None:
                for node in nodes:
                    cid = self.comment_id(post, node)
                    hit = inside or cid in wanted
                    if hit and depth < MAX_DEPTH:
                        things.append(self.comment(post, node, parent, depth, base, raw=raw, nested=False))
                    visit(node.children, f"t1_{cid}", depth + 1, hit)
            visit(self.threads[post.index], f"t3_{self.ids[post.index]}", 0, False)
        return ApiResponse.json({"json": {"errors": [], "data": {"things": things}}}, headers=headers)

    def _limit_headers(self, state: LimitState) -> dict[str, str]:
        return {"x-ratelimit-used": str(state.used), "x-ratelimit-remaining": f"{float(state.remaining):.1f}",
                "x-ratelimit-reset": str(max(0, math.ceil(state.reset_in)))}
