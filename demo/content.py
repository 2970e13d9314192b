"""Generate the demo corpus: fictional but realistic crime reporting, fully deterministic for a seed.

The corpus is built from the YAML data files in :mod:`demo.corpus` (names, places, story
templates with ``{slots}``). Every slot value that matters to an analyst (people, groups, phones,
e-mails, wallets, IBANs, plates, places) is recorded in :attr:`DemoArticle.planted`, so later
stages can be tested against known ground truth.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from demo import identifiers

#: Every criminal-method id a template may declare (the ids of ``osintel/config/methods.yaml``).
METHOD_IDS = frozenset({
    "drugs.county_lines", "drugs.cuckooing", "drugs.darkweb_market", "drugs.postal_supply",
    "drugs.cannabis_cultivation", "drugs.container_importation", "drugs.rip_on_rip_off",
    "drugs.encrypted_comms", "firearms.converted_blank", "firearms.reactivated",
    "firearms.3d_printed", "firearms.postal_parts", "oic.small_boat", "oic.vehicle_concealment",
    "oic.document_fraud", "slavery.forced_labour", "slavery.sexual_exploitation",
    "slavery.debt_bondage", "slavery.forced_criminality", "fraud.romance",
    "fraud.crypto_investment", "fraud.impersonation_app", "fraud.phishing_smishing",
    "fraud.courier", "ml.money_mules", "ml.cash_smuggling", "ml.crypto_mixing", "ml.trade_based",
    "ml.underground_banking", "border.deep_concealment",
})

#: Keys of :attr:`DemoArticle.planted`, in a stable order.
PLANTED_KEYS = ("methods", "phones", "emails", "btc", "eth", "ibans", "plates", "places",
                "people", "orgs", "vessels")

#: The corpus is dated backwards from this instant, never from the clock.
EPOCH = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)

#: feed id -> (language pool, number of articles). ``None`` is the archive (in no feed).
LAYOUT: tuple[tuple[str | None, tuple[str, ...], int], ...] = (
    ("news", ("en",), 80),
    ("investigations", ("en",), 80),
    ("courts", ("en",), 80),
    ("international", ("fr", "es", "de"), 81),
    (None, ("en",) * 5 + ("fr", "es", "de"), 72),
)

_RANKS = ("Detective Inspector", "Detective Chief Inspector", "Detective Superintendent",
          "Detective Sergeant", "Detective Chief Superintendent")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                 "seventeen", "eighteen", "nineteen", "twenty")


@dataclass(frozen=True)
class Comment:
    """A reader comment shown under an article (never part of the article text)."""

    author: str
    text: str
    posted_at: datetime


@dataclass
class DemoArticle:
    """One generated article and the ground truth planted in it."""

    slug: str
    path: str
    lang: str
    topic: str
    title: str
    summary: str
    paragraphs: list[str]
    author: str
    published_at: datetime
    feed: str | None
    planted: dict[str, list[str]]
    comments: list[Comment] = field(default_factory=list)

    @property
    def section(self) -> str:
        """The site section the article lives in (its feed, or ``archive``)."""
        return self.feed or "archive"

    @property
    def text(self) -> str:
        """Title and body as plain text, paragraphs separated by blank lines."""
        return "\n\n".join([self.title, *self.paragraphs])

    @property
    def word_count(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


@lru_cache(maxsize=None)
def _data(name: str) -> Any:
    text = resources.files("demo.corpus").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _topics(lang: str) -> dict[str, Any]:
    topics: dict[str, Any] = _data(f"topics_{lang}")
    return topics


def slugify(text: str, *, max_length: int = 70) -> str:
    """ASCII, lower-case, hyphenated slug cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    return slug or "article"


class _Slots(dict[str, str]):
    """Template slot values, created on first use from the article's RNG and then reused."""

    def __init__(self, rng: random.Random, lang: str) -> None:
        super().__init__()
        self.rng = rng
        self.lang = lang
        self.recorded: dict[str, list[str]] = {key: [] for key in PLANTED_KEYS}
        self._used: set[str] = set()

    def _record(self, key: str, value: str) -> str:
        if value not in self.recorded[key]:
            self.recorded[key].append(value)
        return value

    def _distinct(self, pool: list[str]) -> str:
        choices = [v for v in pool if v not in self._used] or pool
        value = self.rng.choice(choices)
        self._used.add(value)
        return value

    def _person(self, lang: str) -> str:
        names = _data("names")["people"][lang]
        for _ in range(20):
            name = f"{self.rng.choice(names['first'])} {self.rng.choice(names['last'])}"
            if name not in self._used:
                break
        self._used.add(name)
        return self._record("people", name)

    def _number(self, low: int, high: int, *, words: bool = False) -> str:
        value = self.rng.randint(low, high)
        if words and self.lang == "en" and value < len(_NUMBER_WORDS):
            return _NUMBER_WORDS[value]
        return str(value)

    def _money(self, low: int, high: int) -> str:
        value = self.rng.randrange(low, high, 500)
        text = f"{value:,}"
        return {"en": text, "fr": text.replace(",", "\u202f"), "es": text.replace(",", "."),
                "de": text.replace(",", ".")}[self.lang]

    def __missing__(self, key: str) -> str:  # noqa: C901 - one flat dispatch table reads best
        rng, lang = self.rng, self.lang
        places = _data("places")
        local = places.get(lang, {})
        names = _data("names")
        value: str
        if key in ("p1", "p2", "p3"):
            value = self._person(lang)
        elif key in ("p1s", "p2s", "p3s"):
            value = self[key[:2]].split(" ", 1)[1]
        elif key in ("a1", "a2", "a3"):
            value = self._number(19, 58)
        elif key == "officer":
            value = f"{rng.choice(_RANKS)} {self._person('en')}"
        elif key == "judge":
            value = self._person("en")
        elif key in ("town", "town2"):
            value = self._record("places", self._distinct(local.get("cities") or places["uk_towns"]))
        elif key == "ctown":
            value = self._record("places", self._distinct(local.get("cities") or places["county_towns"]))
        elif key in ("port", "eu_port", "transit", "beach"):
            pool = {"port": "uk_ports", "eu_port": "eu_ports", "transit": "transit_cities",
                    "beach": "beaches"}[key]
            value = self._record("places", self._distinct(places[pool]))
        elif key == "origin_port":
            value = self._record("places", rng.choice(sorted(places["origin_ports"])))
        elif key == "country":
            value = self._record("places", places["origin_ports"][self["origin_port"]][lang])
        elif key in ("court", "agency"):
            pool_name = {"court": "courts", "agency": "agencies"}[key]
            value = rng.choice(local.get(pool_name) or places[pool_name])
        elif key == "force":
            value = rng.choice(places["forces"])
        elif key == "ocg":
            value = self._distinct(names["ocgs"])
            self._record("orgs", value.removeprefix("the "))
        elif key == "company":
            value = self._record("orgs", self._distinct(names["companies"]))
        elif key == "vessel":
            value = self._record("vessels", rng.choice(names["vessels"]))
        elif key in ("phone", "phone2"):
            value = self._record("phones", identifiers.uk_phone(rng))
        elif key == "email":
            value = self._record("emails", identifiers.email(rng))
        elif key == "btc":
            value = self._record("btc", identifiers.btc_address(rng))
        elif key == "eth":
            value = self._record("eth", identifiers.eth_address(rng))
        elif key == "iban":
            value = self._record("ibans", identifiers.iban(rng, "GB"))
        elif key == "iban_eu":
            country = {"fr": "FR", "es": "ES", "de": "DE"}.get(lang) or rng.choice(("DE", "FR", "ES"))
            value = self._record("ibans", identifiers.iban(rng, country))
        elif key in ("plate", "plate2"):
            value = self._record("plates", identifiers.uk_plate(rng))
        elif key == "kg":
            value = str(rng.choice((42, 76, 110, 180, 240, 320, 450, 640, 900, 1200, 1850, 2400)))
        elif key == "value":
            value = f"{rng.randint(12, 95) / 10:.1f}".replace(".", "," if lang in ("fr", "es", "de") else ".")
        elif key == "amount":
            value = self._money(18_000, 480_000)
        elif key == "years":
            value = self._number(6, 18, words=True)
        elif key == "years2":
            value = self._number(2, 7, words=True)
        elif key == "months":
            value = self._number(3, 11, words=True)
        elif key == "count":
            value = str(rng.randint(3, 38))
        elif key == "victims":
            value = str(rng.randint(4, 60))
        elif key == "weeks":
            value = str(rng.randint(6, 40))
        else:
            raise KeyError(f"unknown template slot {{{key}}}")
        self[key] = value
        return value

    def fill(self, template: str) -> str:
        return template.format_map(self)


def _compose(rng: random.Random, lang: str, topic: str, *, court: bool) -> tuple[str, list[str], set[str], _Slots]:
    spec = _topics(lang)[topic]
    common = _data("common")[lang]
    slots = _Slots(rng, lang)
    lead = rng.choice(spec["leads"])
    body = list(spec["body"])
    rng.shuffle(body)
    chosen = [lead, *body[: rng.randint(3, 5)]]
    spare = body[len(chosen) - 1:]
    tail = []
    if "context" in common:  # the shorter non-English template sets get background paragraphs
        tail.extend(rng.sample(common["context"], len(common["context"])))
    if court:
        tail.append(rng.choice(common["court"]))
    if rng.random() < 0.75:
        tail.append(rng.choice(common["appeal"]))
    tail.append(rng.choice(common["closing"]))

    def words() -> int:
        return sum(len(p["text"].split()) for p in chosen) + sum(len(t.split()) for t in tail)

    while words() < 260 and spare:
        chosen.append(spare.pop())
    while words() > 560 and len(chosen) > 3:
        chosen.pop()
    methods: set[str] = set()
    for paragraph in chosen:
        methods.update(paragraph.get("methods") or ())
    unknown = methods - METHOD_IDS
    if unknown:
        raise ValueError(f"templates for {lang}/{topic} name unknown methods: {sorted(unknown)}")
    paragraphs = [slots.fill(p["text"]) for p in chosen] + [slots.fill(t) for t in tail]
    headlines = spec.get("court_headlines") if court and spec.get("court_headlines") else spec["headlines"]
    title = slots.fill(rng.choice(headlines))
    title = title[0].upper() + title[1:]
    return title, paragraphs, methods, slots


def _summary(paragraph: str) -> str:
    match = re.match(r"(.+?[.!?])\s", paragraph + " ")
    sentence = match.group(1) if match else paragraph
    return sentence if len(sentence) <= 300 else sentence[:297].rsplit(" ", 1)[0] + "…"


def _comments(rng: random.Random, published_at: datetime) -> list[Comment]:
    pool = _data("common")["comments"]
    authors = _data("names")["commenters"]
    count = rng.randint(2, 5)
    when = published_at
    comments = []
    for text, author in zip(rng.sample(pool, count), rng.sample(authors, count)):
        when += timedelta(minutes=rng.randint(7, 600))
        comments.append(Comment(author=author, text=text, posted_at=when))
    return comments


def build_corpus(seed: int = 2026) -> list[DemoArticle]:
    """Build the whole demo corpus; the same seed always yields the same articles.

    Feed articles are dated within ~6 months before :data:`EPOCH`, archive articles 6-18 months
    before it. Articles are returned newest first.
    """
    rng = random.Random(seed)
    articles: list[DemoArticle] = []
    index = 0
    for feed, langs, count in LAYOUT:
        for n in range(count):
            index += 1
            lang = langs[n % len(langs)]
            topic = rng.choice(sorted(_topics(lang)))
            court = feed == "courts" or (feed is None and lang == "en" and rng.random() < 0.3)
            article_rng = random.Random(f"{seed}:{index}")
            title, paragraphs, methods, slots = _compose(article_rng, lang, topic, court=court)
            days_back = rng.uniform(0.2, 180.0) if feed else rng.uniform(181.0, 545.0)
            published_at = (EPOCH - timedelta(days=days_back)).replace(second=0, microsecond=0)
            slug = f"{slugify(title)}-{index:04d}"
            section = feed or "archive"
            path = f"/{section}/{published_at:%Y}/{published_at:%m}/{slug}.html"
            text = "\n".join([title, *paragraphs])
            planted = {key: [v for v in slots.recorded[key] if v in text] for key in PLANTED_KEYS}
            planted["methods"] = sorted(methods)
            authors = _data("names")["authors"][lang]
            articles.append(DemoArticle(
                slug=slug, path=path, lang=lang, topic=topic, title=title,
                summary=_summary(paragraphs[0]), paragraphs=paragraphs,
                author=article_rng.choice(authors), published_at=published_at, feed=feed,
                planted=planted, comments=_comments(article_rng, published_at),
            ))
    articles.sort(key=lambda a: (a.published_at, a.slug), reverse=True)
    return articles
