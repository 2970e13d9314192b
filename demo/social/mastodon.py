"""A demo Mastodon instance: the public, unauthenticated timeline endpoints in Mastodon's format.

Endpoints (all ``GET``, JSON):

- ``/api/v1/timelines/tag/:hashtag``   public statuses with the hashtag (case-insensitive);
- ``/api/v1/accounts/:id/statuses``    an account's statuses, boosts (reblogs) included unless
  ``exclude_reblogs=true``; ``exclude_replies=true`` and ``only_media=true`` are honoured;
- ``/api/v1/accounts/lookup?acct=``    the Account entity for a username;
- ``/api/v1/accounts/:id``             the Account entity.

Paging follows Mastodon: ``max_id`` (older than), ``since_id`` (newer than; the newest page),
``min_id`` (newer than; the page immediately above), ``limit`` (default 20, at most 40); results
are always newest first. The ``Link`` header carries ``rel="next"`` (``max_id`` = the last id of
the page; only when the page is full) and ``rel="prev"`` (``min_id`` = the first id; whenever the
page is not empty). Ids are snowflake-like strings (milliseconds << 16), ordered by time.

Every answer carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (ISO 8601 UTC time), and
a scheduled 429 with ``Retry-After`` is served as described in :mod:`demo.social.limits`.
Unknown accounts are ``404 {"error": "Record not found"}``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from demo.content import DemoArticle
from demo.social.api import ApiResponse
from demo.social.corpus import SocialPost, build_posts
from demo.social.limits import DemoRateLimit, LimitState

#: The followed accounts: (id, username, display name). Their statuses fill the account timelines.
ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("109876000000000001", "harbourwatch", "Harbour Watch"),
    ("109876000000000002", "scamalertsuk", "Scam Alerts UK"),
)
#: Other local posters, and one remote account (``acct`` carries its domain).
OTHER_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("109876000000000003", "nightshiftnurse", "Night Shift Nurse"),
    ("109876000000000004", "estate_voice", "Estate Voice"),
    ("109876000000000005", "quietlistener", "Quiet Listener"),
    ("109876000000000006", "portside@social.example.net", "Portside"),
)
HASHTAGS = ("countylines", "scamwatch", "ukcrime")
STATUS_COUNT = 150
DEFAULT_LIMIT, MAX_LIMIT = 20, 40
_BOOST_EVERY = 9  # every 9th status of another account is boosted by a followed account


def snowflake(when: datetime, sequence: int) -> str:
    """A Mastodon-style id: milliseconds since the epoch shifted 16 bits, plus a sequence."""
    return str((int(when.timestamp() * 1000) << 16) | (sequence & 0xFFFF))


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class MastodonDemoAPI:
    """Serves :data:`STATUS_COUNT` generated statuses over :data:`HASHTAGS` and the accounts."""

    def __init__(self, articles: Sequence[DemoArticle], *, seed: int, throttle_every: int = 7,
                 window: int = 300, reset_seconds: float = 300.0) -> None:
        self.limits = DemoRateLimit(window=window, reset_seconds=reset_seconds, throttle_every=throttle_every)
        people = ACCOUNTS + OTHER_ACCOUNTS
        by_name = {name: (aid, user) for aid, user, name in people}
        # Followed accounts post most; others fill the hashtags.
        weighted = [p[2] for p in ACCOUNTS] * 3 + [p[2] for p in OTHER_ACCOUNTS]
        posts = build_posts(articles, seed=seed, count=STATUS_COUNT, channels=HASHTAGS, authors=weighted,
                            reply_rate=0.15, media_rate=0.2)
        self.posts: list[SocialPost] = posts
        self._accounts = {aid: (aid, user, name) for aid, user, name in people}
        self._author = {p.index: by_name[p.display_name] for p in posts}
        #: Status rows, newest first: (id, post, boosted post or None, account id).
        rows: list[tuple[str, SocialPost, SocialPost | None, str]] = []
        self._ids: dict[int, str] = {}
        for post in posts:
            sid = snowflake(post.created_at, post.index)
            self._ids[post.index] = sid
            rows.append((sid, post, None, self._author[post.index][0]))
        followed = [a[0] for a in ACCOUNTS]
        others = [p for p in posts if self._author[p.index][0] not in followed]
        for n, post in enumerate(others[::_BOOST_EVERY]):
            when = post.created_at + timedelta(minutes=5 + n)
            rows.append((snowflake(when, 0x8000 + n), post, post, followed[n % len(followed)]))
        rows.sort(key=lambda r: int(r[0]), reverse=True)
        self.rows = rows

    # -- entities ----------------------------------------------------------------------------

    def account(self, account_id: str, base: str) -> dict[str, Any]:
        aid, user, name = self._accounts[account_id]
        username, _, domain = user.partition("@")
        url = f"https://{domain}/@{username}" if domain else f"{base}/@{username}"
        count = sum(1 for r in self.rows if r[3] == aid)
        return {
            "id": aid, "username": username, "acct": user, "display_name": name, "locked": False,
            "bot": False, "discoverable": True, "group": False, "created_at": "2022-11-05T00:00:00.000Z",
            "note": f"<p>{html.escape(name)}: community posts.</p>", "url": url,
            "uri": f"https://{domain}/users/{username}" if domain else f"{base}/users/{username}",
            "avatar": f"{base}/avatars/original/missing.png", "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png", "header_static": f"{base}/headers/original/missing.png",
            "followers_count": 40 + int(aid[-2:]) * 37, "following_count": 12, "statuses_count": count,
            "last_status_at": "2026-10-31", "emojis": [], "fields": [],
        }

    def _content(self, post: SocialPost, base: str) -> str:
        parts = []
        if post.reply_to is not None:
            user = self._author[post.reply_to][1].split("@")[0]
            parts.append(f'<span class="h-card" translate="no"><a href="{base}/@{user}" class="u-url mention">'
                         f"@<span>{user}</span></a></span>")
        parts.append(html.escape(post.text, quote=True).replace("'", "&#39;"))
        tag = post.channel
        tag_html = (f'<a href="{base}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>')
        if len(post.text) > 60:
            # A longer post splits over two paragraphs with a line break, as Mastodon renders it.
            head, _, tail = parts[-1].partition(", ")
            if tail:
                parts[-1] = f"{head},<br />{tail}"
        return f"<p>{' '.join(parts)}</p><p>{tag_html}</p>"

    def status(self, post: SocialPost, base: str, *, status_id: str | None = None) -> dict[str, Any]:
        """The Status entity for ``post``."""
        sid = status_id or self._ids[post.index]
        aid, user = self._author[post.index]
        username, _, domain = user.partition("@")
        origin = f"https://{domain}" if domain else base
        reply_id = self._ids.get(post.reply_to) if post.reply_to is not None else None
        mentions = []
        if post.reply_to is not None:
            raid, ruser = self._author[post.reply_to]
            mentions.append({"id": raid, "username": ruser.split("@")[0], "acct": ruser,
                             "url": f"{base}/@{ruser.split('@')[0]}"})
        media = [{
            "id": str(int(sid) + n + 1), "type": "image",
            "url": f"{base}/system/media_attachments/files/{sid}/original/{name}",
            "preview_url": f"{base}/system/media_attachments/files/{sid}/small/{name}",
            "remote_url": None, "preview_remote_url": None, "text_url": None,
            "meta": {"original": {"width": 1280, "height": 960, "size": "1280x960", "aspect": 1.333}},
            "description": "photo", "blurhash": "UFGuhU~q%MRj~qRjRjt7D%M{t7t7ofWBWBWB",
        } for n, name in enumerate(post.media)]
        replies = sum(1 for p in self.posts if p.reply_to == post.index)
        return {
            "id": sid, "created_at": _iso(post.created_at), "in_reply_to_id": reply_id,
            "in_reply_to_account_id": self._author[post.reply_to][0] if post.reply_to is not None else None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": post.language,
            "uri": f"{origin}/users/{username}/statuses/{sid}", "url": f"{origin}/@{username}/{sid}",
            "replies_count": replies, "reblogs_count": post.shares, "favourites_count": post.likes,
            "edited_at": None, "content": self._content(post, base), "reblog": None,
            "account": self.account(aid, base), "media_attachments": media, "mentions": mentions,
            "tags": [{"name": post.channel, "url": f"{base}/tags/{post.channel}"}], "emojis": [],
            "card": None, "poll": None,
        }

    def _row_status(self, row: tuple[str, SocialPost, SocialPost | None, str], base: str) -> dict[str, Any]:
        sid, post, boosted, aid = row
        if boosted is None:
            return self.status(post, base)
        user = self._accounts[aid][1]
        when = datetime.fromtimestamp((int(sid) >> 16) / 1000, tz=timezone.utc)
        return {
            "id": sid, "created_at": _iso(when), "in_reply_to_id": None, "in_reply_to_account_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": None,
            "uri": f"{base}/users/{user}/statuses/{sid}/activity", "url": None, "replies_count": 0,
            "reblogs_count": 0, "favourites_count": 0, "edited_at": None, "content": "",
            "reblog": self.status(boosted, base), "account": self.account(aid, base),
            "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
        }

    # -- routing -----------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
        if not path.startswith("/api/v1/"):
            return None
        parts = path.strip("/").split("/")[2:]
        state = self.limits.hit()
        headers = self._limit_headers(state)
        if state.retry_after is not None:
            headers["Retry-After"] = str(state.retry_after)
            return ApiResponse.json({"error": "Too many requests"}, status=429, headers=headers)
        one = {k: v[-1] for k, v in query.items() if v}
        if parts[:2] == ["timelines", "tag"] and len(parts) == 3:
            tag = parts[2].lower()
            rows = [r for r in self.rows if r[2] is None and r[1].channel == tag]
            return self._page(rows, path, one, base, headers)
        if parts[:1] == ["accounts"] and len(parts) == 2 and parts[1] == "lookup":
            acct = one.get("acct", "").lstrip("@")
            for aid, user, _ in self._accounts.values():
                if user == acct:
                    return ApiResponse.json(self.account(aid, base), headers=headers)
            return ApiResponse.json({"error": "Record not found"}, status=404, headers=headers)
        if parts[:1] == ["accounts"] and len(parts) in (2, 3) and parts[1] in self._accounts:
            if len(parts) == 2:
                return ApiResponse.json(self.account(parts[1], base), headers=headers)
            if parts[2] == "statuses":
                rows = [r for r in self.rows if r[3] == parts[1]]
                if one.get("exclude_reblogs") == "true":
                    rows = [r for r in rows if r[2] is None]
                if one.get("exclude_replies") == "true":
                    rows = [r for r in rows if r[2] is not None or r[1].reply_to is None]
                if one.get("only_media") == "true":
                    rows = [r for r in rows if r[2] is None and r[1].media]
                return self._page(rows, path, one, base, headers)
        return ApiResponse.json({"error": "Record not found"}, status=404, headers=headers)

    def _page(self, rows: list[tuple[str, SocialPost, SocialPost | None, str]], path: str,
              params: dict[str, str], base: str, headers: dict[str, str]) -> ApiResponse:
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            limit = DEFAULT_LIMIT
        limit = max(1, min(limit, MAX_LIMIT))
        selected = rows  # newest first
        if params.get("max_id"):
            selected = [r for r in selected if int(r[0]) < _int(params["max_id"])]
        if params.get("since_id"):
            selected = [r for r in selected if int(r[0]) > _int(params["since_id"])]
        if params.get("min_id"):
            above = [r for r in selected if int(r[0]) > _int(params["min_id"])]
            page = above[-limit:]  # the page immediately above min_id, still newest first
        else:
            page = selected[:limit]
        body = [self._row_status(r, base) for r in page]
        links = []
        keep = {k: v for k, v in params.items() if k in ("limit", "exclude_reblogs", "exclude_replies", "only_media")}
        if len(page) == limit:
            links.append(f'<{base}{path}?{urlencode({**keep, "max_id": page[-1][0]})}>; rel="next"')
        if page:
            links.append(f'<{base}{path}?{urlencode({**keep, "min_id": page[0][0]})}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return ApiResponse.json(body, headers=headers)

    def _limit_headers(self, state: LimitState) -> dict[str, str]:
        reset = datetime.now(timezone.utc) + timedelta(seconds=state.reset_in)
        return {"X-RateLimit-Limit": str(state.limit), "X-RateLimit-Remaining": str(state.remaining),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.") + f"{reset.microsecond:06d}Z"}


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
