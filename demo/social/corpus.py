"""Fictional social-media posts for the demo platforms, deterministic for a seed.

Platform-neutral: :func:`build_posts` returns :class:`SocialPost` objects (oldest first) and
:func:`build_thread` a tree of :class:`SocialComment`; each platform module (Mastodon, Reddit, and
any other that wants them) turns them into its own wire format and ids.

Posts reuse the demo news corpus's vocabulary: a sentence lifted from a :class:`DemoArticle`,
identifiers planted in it (phones, wallets, plates, places) and the way offenders word an offer
(method phrasing), mixed with chatty noise and plain off-topic chatter. Every identifier put into a
post is recorded in :attr:`SocialPost.planted`, as for articles. Nothing depends on the clock: times
count back from :data:`SOCIAL_EPOCH`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from demo import identifiers
from demo.content import DemoArticle

#: The newest demo post is at most this recent (a fixed instant, never the clock).
SOCIAL_EPOCH = datetime(2026, 11, 1, 5, 0, tzinfo=timezone.utc)

_PLACES = ("Birmingham", "Manchester", "Leeds", "Bristol", "Liverpool", "Hull", "Plymouth",
           "Norwich", "Ipswich", "Swindon", "Exeter", "Lincoln", "Croydon", "Hackney", "Dover")

_OPENERS = ("anyone else seen this?", "heads up:", "not again.", "saw this on the local group:",
            "wow.", "this is getting worse round here.", "PSA:", "mate of mine says", "can confirm,",
            "reading this with my morning tea:", "honestly?", "")
_CLOSERS = ("stay safe x", "shocking.", "report it!", "\U0001F644", "who do you even call about this",
            "share so people know", "", "", "")
_CHATTER = ("bus was late again, third time this week", "anyone know a decent mechanic near {place}?",
            "lovely sunrise over {place} this morning", "the match last night though \U0001F62C",
            "roadworks on the ring road AGAIN", "new bakery opened in {place}, recommend the sourdough",
            "can't believe it's nearly winter", "quiet one tonight, early shift tomorrow")

#: Offers and sightings worded the way they appear on open platforms; ``{slots}`` are planted.
_METHOD_LINES: tuple[tuple[str, str], ...] = (
    ("drugs.county_lines", "new line open in {place}, text {phone} for the usual, runners wanted"),
    ("drugs.county_lines", "kids being sent out from the city to {place} again, the number going round is {phone}"),
    ("drugs.postal_supply", "next day delivery, stealth packaging, pay to {btc} and message for tracking"),
    ("drugs.cuckooing", "flat on our estate taken over by dealers, the old boy inside is terrified"),
    ("drugs.cannabis_cultivation", "house on our street with blacked-out windows and the meter bypassed, {place}"),
    ("fraud.crypto_investment", "20% weekly returns guaranteed!! send USDT to {eth} and DM for the group link"),
    ("fraud.phishing_smishing", "got a text saying my parcel is held, pay the fee at a link, number was {phone}"),
    ("fraud.romance", "my aunt met someone online who now needs money for customs fees, sent to {iban}"),
    ("oic.small_boat", "boats launching from the beach again at dawn, drivers paid in cash, crossing to {place}"),
    ("oic.vehicle_concealment", "van {plate} seen twice at the services near {place}, people in the back"),
    ("ml.money_mules", "easy money, just let us use your bank account for a week, call {phone}"),
    ("firearms.converted_blank", "someone selling 'blank firers' that have clearly been converted, meet in {place}"),
    ("slavery.forced_labour", "car wash in {place} where the lads never leave and a van {plate} drops them off"),
)


@dataclass(frozen=True)
class SocialPost:
    """One generated post, platform-neutral. ``index`` orders posts (0 is the oldest)."""

    index: int
    channel: str
    author: str
    display_name: str
    text: str
    created_at: datetime
    language: str = "en"
    title: str = ""
    reply_to: int | None = None
    media: tuple[str, ...] = ()
    likes: int = 0
    shares: int = 0
    planted: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SocialComment:
    """One comment in a thread, with its replies (newest-agnostic; generation order)."""

    key: int
    author: str
    text: str
    created_at: datetime
    score: int
    children: list[SocialComment] = field(default_factory=list)


def _handle(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower().replace(" ", "_"))[:30] or "user"


def _sentence(rng: random.Random, articles: Sequence[DemoArticle]) -> tuple[str, DemoArticle]:
    article = rng.choice(articles)
    sentences = [s for p in article.paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if 40 < len(s) < 260]
    return (rng.choice(sentences) if sentences else article.title), article


def _method_line(rng: random.Random, planted: dict[str, list[str]]) -> str:
    method, template = rng.choice(_METHOD_LINES)
    values = {
        "place": rng.choice(_PLACES), "phone": identifiers.uk_phone(rng),
        "btc": identifiers.btc_address(rng), "eth": identifiers.eth_address(rng),
        "iban": identifiers.iban(rng, "GB"), "plate": identifiers.uk_plate(rng),
    }
    used = {name for name in re.findall(r"{(\w+)}", template)}
    for name in sorted(used):
        key = {"place": "places", "phone": "phones", "plate": "plates", "iban": "ibans"}.get(name, name)
        planted.setdefault(key, []).append(values[name])
    planted.setdefault("methods", []).append(method)
    return template.format(**values)


def build_posts(articles: Sequence[DemoArticle], *, seed: int, count: int, channels: Sequence[str],
                authors: Sequence[str], newest: datetime = SOCIAL_EPOCH, reply_rate: float = 0.15,
                media_rate: float = 0.2, titles: bool = False) -> list[SocialPost]:
    """``count`` posts spread over ``channels`` by ``authors`` (display names), oldest first.

    About half quote a news sentence, a third carry an offer or sighting in method phrasing with
    planted identifiers, the rest are off-topic chatter. ``reply_rate`` of them reply to an
    earlier post; ``media_rate`` carry one or two image file names. ``titles`` adds a short title
    (for platforms whose posts have one).
    """
    rng = random.Random(f"social:{seed}:{','.join(channels)}")
    pool = [a for a in articles if a.lang == "en"] or list(articles)
    gaps = [rng.randint(7, 190) for _ in range(count)]
    times = []
    when = newest - timedelta(minutes=rng.randint(3, 60))
    for gap in gaps:
        times.append(when)
        when -= timedelta(minutes=gap)
    times.reverse()
    posts: list[SocialPost] = []
    for index, created in enumerate(times):
        planted: dict[str, list[str]] = {}
        roll = rng.random()
        title = ""
        if roll < 0.5:
            sentence, article = _sentence(rng, pool)
            body = f"{rng.choice(_OPENERS)} {sentence} {rng.choice(_CLOSERS)}".strip()
            for key in ("places", "plates", "phones"):
                hits = [v for v in article.planted.get(key, []) if v in sentence]
                if hits:
                    planted[key] = hits
            title = article.title
        elif roll < 0.82:
            body = f"{rng.choice(_OPENERS)} {_method_line(rng, planted)} {rng.choice(_CLOSERS)}".strip()
            title = body.split(",")[0][:80]
        else:
            body = rng.choice(_CHATTER).format(place=rng.choice(_PLACES))
            title = body[:60]
        reply_to = None
        if posts and rng.random() < reply_rate:
            reply_to = rng.randrange(max(0, index - 12), index)
        media: tuple[str, ...] = ()
        if rng.random() < media_rate:
            media = tuple(f"{seed}-{index}-{n}.jpg" for n in range(rng.choice((1, 1, 2))))
        name = rng.choice(authors)
        posts.append(SocialPost(
            index=index, channel=channels[index % len(channels)] if rng.random() < 0.5 else rng.choice(channels),
            author=_handle(name), display_name=name, text=body, created_at=created,
            title=title if titles else "", reply_to=reply_to, media=media,
            likes=int(rng.paretovariate(1.2)) - 1 + rng.randint(0, 5), shares=rng.randint(0, 9),
            planted=planted,
        ))
    return posts


def build_thread(post: SocialPost, *, seed: int, authors: Sequence[str], max_top: int = 5,
                 max_depth: int = 4) -> list[SocialComment]:
    """A comment tree under ``post`` (top-level comments first); may be empty.

    Keys are unique within the thread. Depth reaches ``max_depth`` on some branches so platforms
    can exercise their "more" and "continue this thread" cut-offs.
    """
    rng = random.Random(f"thread:{seed}:{post.index}:{post.channel}")
    counter = iter(range(1, 10_000))

    def comments(depth: int, after: datetime, width: int) -> list[SocialComment]:
        out: list[SocialComment] = []
        for _ in range(width):
            created = after + timedelta(minutes=rng.randint(1, 240))
            roll = rng.random()
            if roll < 0.3:
                planted: dict[str, list[str]] = {}
                text = _method_line(rng, planted)
            elif roll < 0.7:
                text = rng.choice(("this.", "source?", "been saying this for months",
                                   "same on our road in {place}", "report it to Crimestoppers",
                                   "the police know, they just don't care", "happened to my cousin",
                                   "lol no chance", "that number's been spamming everyone"))
                text = text.format(place=rng.choice(_PLACES))
            else:
                text = rng.choice(_CHATTER).format(place=rng.choice(_PLACES))
            node = SocialComment(key=next(counter), author=_handle(rng.choice(authors)), text=text,
                                 created_at=created, score=rng.randint(-3, 40))
            if depth + 1 < max_depth and rng.random() < 0.45 - 0.1 * depth:
                node.children = comments(depth + 1, created, rng.choice((1, 1, 2, 3)))
            out.append(node)
        return out

    width = rng.choice((0, 0, 1, 2, 3, max_top))
    return comments(0, post.created_at, width)
