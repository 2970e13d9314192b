"""Demo Telegram public-channel web preview: ``/s/<channel>`` pages like ``https://t.me/s/<channel>``.

The markup follows the real preview: a ``section.tgme_channel_history`` of
``div.tgme_widget_message_wrap > div.tgme_widget_message[data-post="<channel>/<id>"]``, each with
the owner name (``a.tgme_widget_message_owner_name``), an optional forwarded-from header
(``.tgme_widget_message_forwarded_from`` with ``a.tgme_widget_message_forwarded_from_name``), an
optional reply block (``a.tgme_widget_message_reply`` whose quoted text reuses the
``tgme_widget_message_text`` class with ``js-message_reply_text``, as the real page does), photos
(``a.tgme_widget_message_photo_wrap`` with ``style="...background-image:url('...')"``), the text
(``div.tgme_widget_message_text.js-message_text``: HTML with ``<br/>``, links and emoji), and a
footer with ``span.tgme_widget_message_views`` ("845", "1.2K", "2.1M"), an optional author
signature (``span.tgme_widget_message_from_author``) and the permalink
``a.tgme_widget_message_date[href] > time[datetime]``.

Paging is the preview's: the newest 20 messages without parameters, ``?before=<id>`` for the 20
messages with ids below ``id``, ``?after=<id>`` for newer ones. A page with older messages has
``<link rel="prev" href="/s/<channel>?before=<lowest id>">`` and an
``a.tme_messages_more[data-before]`` at the top of the history. An unknown channel redirects to
``/<channel>`` (t.me sends unknown or private channels to the channel's landing page).

Permalinks, photos and channel links use the demo host in place of ``https://t.me`` and its CDN,
so nothing served points off the loopback host. Message ids have gaps (deleted messages), as on
real channels. Nothing depends on the clock.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape

from demo.content import EPOCH, DemoArticle
from demo.social.api import ApiResponse

#: channel username -> (title, number of messages, language pool)
CHANNELS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "harbour_deals": ("Harbour Deals 24/7", 58, ("en",)),
    "nightshift_news": ("Nightshift News", 30, ("en", "en", "fr")),
    "ruta_sur": ("Ruta Sur", 14, ("es", "de")),
}
PAGE_SIZE = 20
_HTML = "text/html; charset=utf-8"
_SIGNATURES = ("Mika", "Dee", "admin")
_CHATTER = (
    "Price list updated, DM for details", "Back online tomorrow", "Who is around the docks tonight?",
    "Same as last week, no changes", "Reminder: use the new number only", "Quiet night",
)
_EMOJI = ("🚀", "📦", "🔥")


@dataclass
class DemoMessage:
    """One channel message."""

    channel: str
    id: int
    text: str
    at: datetime
    views: int
    lang: str
    photos: int = 0
    reply_to: DemoMessage | None = None
    forwarded_from: tuple[str, str, int] | None = None  # (channel, title, message id)
    signature: str | None = None
    emoji: str | None = None
    link: str | None = None


def format_views(views: int) -> str:
    """Views as the preview shows them: 845, 1.2K, 12.5K, 2.1M."""
    if views < 1000:
        return str(views)
    if views < 1_000_000:
        return f"{views / 1000:.1f}".rstrip("0").rstrip(".") + "K"
    return f"{views / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


def _sentences(article: DemoArticle) -> list[str]:
    return [s.strip().rstrip(".") + "." for p in article.paragraphs for s in p.split(". ") if len(s.strip()) > 20]


class TelegramDemoAPI:
    """The demo ``/s/<channel>`` preview (see the module docstring)."""

    def __init__(self, articles: Sequence[DemoArticle], *, seed: int) -> None:
        self.messages: dict[str, list[DemoMessage]] = self._generate(articles, random.Random(f"{seed}:telegram"))

    def _generate(self, articles: Sequence[DemoArticle], rng: random.Random) -> dict[str, list[DemoMessage]]:
        by_lang: dict[str, list[DemoArticle]] = {}
        for article in articles:
            by_lang.setdefault(article.lang, []).append(article)
        out: dict[str, list[DemoMessage]] = {}
        for index, (channel, (title, count, langs)) in enumerate(CHANNELS.items()):
            at = EPOCH - timedelta(days=25 - index)
            msg_id = 200 + 37 * index
            messages: list[DemoMessage] = []
            for n in range(count):
                msg_id += 1 if rng.random() < 0.85 else rng.randint(2, 4)
                at += timedelta(minutes=rng.randint(20, 600), seconds=rng.randint(0, 59))
                lang = rng.choice(langs)
                if lang == "en" and rng.random() < 0.2:
                    text = rng.choice(_CHATTER)
                else:
                    sentences = _sentences(rng.choice(by_lang[lang][:40]))
                    text = "\n".join(sentences[: rng.randint(1, 3)])
                views = rng.choice((rng.randint(40, 999), rng.randint(1000, 99_000), rng.randint(1_000_000, 3_000_000)))
                if n % 25 == 3:
                    views = 1200 + rng.randint(0, 49)  # shows as "1.2K"
                message = DemoMessage(channel=channel, id=msg_id, text=text, at=at, views=views, lang=lang)
                roll = rng.random()
                if messages and roll < 0.15:
                    message.reply_to = rng.choice(messages[-10:])
                elif roll < 0.27:
                    other = rng.choice([c for c in CHANNELS if c != channel])
                    message.forwarded_from = (other, CHANNELS[other][0], rng.randint(10, 199))
                if rng.random() < 0.22:
                    message.photos = rng.randint(1, 2)
                if rng.random() < 0.15:
                    message.signature = rng.choice(_SIGNATURES)
                if rng.random() < 0.1:
                    message.emoji = rng.choice(_EMOJI)
                if rng.random() < 0.08:
                    message.link = f"https://news.example.com/t/{channel}/{msg_id}"
                messages.append(message)
            out[channel] = messages  # oldest first
        return out

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
        if not path.startswith("/s/"):
            return None
        channel = path[3:].strip("/")
        if "/" in channel or not channel:
            return None
        messages = self.messages.get(channel.lower())
        if messages is None:
            return ApiResponse(302, b"", _HTML, headers={"Location": f"{base}/{channel}"})
        before = _int(query.get("before"))
        after = _int(query.get("after"))
        if before is not None:
            page = [m for m in messages if m.id < before][-PAGE_SIZE:]
        elif after is not None:
            page = [m for m in messages if m.id > after][:PAGE_SIZE]
        else:
            page = messages[-PAGE_SIZE:]
        older = bool(page) and page[0].id > messages[0].id
        newer = bool(page) and page[-1].id < messages[-1].id
        return ApiResponse(200, self.render(channel.lower(), page, base, older=older, newer=newer).encode("utf-8"),
                           _HTML, headers={"Cache-Control": "no-cache"})

    # -- rendering -----------------------------------------------------------------------------

    def render(self, channel: str, page: list[DemoMessage], base: str, *, older: bool, newer: bool) -> str:
        title = escape(CHANNELS[channel][0])
        head_links = [f'<link rel="canonical" href="{base}/s/{channel}">']
        more_before = more_after = ""
        if page and older:
            head_links.append(f'<link rel="prev" href="/s/{channel}?before={page[0].id}">')
            more_before = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}'
                           f'?before={page[0].id}" class="tme_messages_more js-messages_more" '
                           f'data-before="{page[0].id}"></a></div>')
        if page and newer:
            head_links.append(f'<link rel="next" href="/s/{channel}?after={page[-1].id}">')
            more_after = (f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{channel}'
                          f'?after={page[-1].id}" class="tme_messages_more js-messages_more" '
                          f'data-after="{page[-1].id}"></a></div>')
        body = "\n".join(self._message(m, title, base) for m in page)
        return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{title} – Telegram</title>
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <meta property="og:title" content="{title}">
    <meta property="og:description" content="Public channel">
    {"".join(head_links)}
  </head>
  <body class="widget_frame_base tgme_webpreview emoji_image">
    <header class="tgme_header"><div class="tgme_header_title"><span dir="auto">{title}</span></div></header>
    <main class="tgme_main">
      <div class="tgme_channel_info">
        <div class="tgme_channel_info_header"><div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>
        <div class="tgme_channel_info_header_username"><a href="{base}/{channel}">@{channel}</a></div></div>
        <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">{format_views(len(channel) * 731)}</span> <span class="counter_type">subscribers</span></div></div>
      </div>
      <section class="tgme_channel_history js-message_history">
{more_before}
{body}
{more_after}
      </section>
    </main>
  </body>
</html>
"""

    def _message(self, m: DemoMessage, title: str, base: str) -> str:
        link = f"{base}/{m.channel}/{m.id}"
        parts = [f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
                 f'href="{base}/{m.channel}"><span dir="auto">{title}</span></a></div>']
        if m.forwarded_from is not None:
            source, source_title, source_id = m.forwarded_from
            parts.append(
                '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
                f'<a class="tgme_widget_message_forwarded_from_name" href="{base}/{source}/{source_id}">'
                f'<span dir="auto">{escape(source_title)}</span></a></div>')
        if m.reply_to is not None:
            quoted = escape(m.reply_to.text.split("\n")[0][:60])
            parts.append(
                f'<a class="tgme_widget_message_reply" href="{base}/{m.channel}/{m.reply_to.id}">'
                f'<div class="tgme_widget_message_author accent_color"><span class="tgme_widget_message_author_name" '
                f'dir="auto">{title}</span></div>'
                f'<div class="tgme_widget_message_text js-message_reply_text" dir="auto">{quoted}</div></a>')
        for i in range(m.photos):
            digest = hashlib.sha256(f"{m.channel}/{m.id}/{i}".encode()).hexdigest()[:32]
            parts.append(
                f'<a class="tgme_widget_message_photo_wrap {int(digest[:12], 16)} {m.id}" href="{link}?single" '
                f"style=\"width:800px;background-image:url('{base}/file/{digest}.jpg')\">"
                '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>')
        html_text = "<br/>".join(escape(line) for line in m.text.split("\n"))
        if m.emoji:
            code = "".join(f"{b:02X}" for b in m.emoji.encode("utf-8"))
            html_text += (f' <i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/{code}.png\')">'
                          f"<b>{m.emoji}</b></i>")
        if m.link:
            html_text += f'<br/><a href="{m.link}" target="_blank" rel="noopener">{escape(m.link)}</a>'
        parts.append(f'<div class="tgme_widget_message_text js-message_text" dir="auto">{html_text}</div>')
        signature = (f'<span class="tgme_widget_message_from_author" dir="auto">{escape(m.signature)}</span>&nbsp;'
                     if m.signature else "")
        stamp = m.at.astimezone(timezone.utc)
        parts.append(
            '<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info '
            f'short js-message_info"><span class="tgme_widget_message_views">{format_views(m.views)}</span>'
            f'<span class="copyonclick"></span><span class="tgme_widget_message_meta">{signature}'
            f'<a class="tgme_widget_message_date" href="{link}"><time datetime="{stamp.isoformat()}" class="time">'
            f"{stamp:%H:%M}</time></a></span></div></div>")
        inner = "\n      ".join(parts)
        return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap">
  <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{m.channel}/{m.id}" data-view="{m.id}">
    <div class="tgme_widget_message_user"><a href="{base}/{m.channel}"><i class="tgme_widget_message_user_photo bgcolor1" data-content="{title[:1]}"></i></a></div>
    <div class="tgme_widget_message_bubble">
      {inner}
    </div>
  </div>
</div>"""


def _int(values: list[str] | None) -> int | None:
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None
