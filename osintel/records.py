"""The one typed record that crosses every stage boundary: :class:`Document`.

Everything is validated and normalised on construction: times become timezone-aware UTC,
URLs are canonicalised, the id is derived from the canonical URL (or platform + post id) when not
given. NLP output (language, entities, methods, locations, relevance) is an *assessment* attached
beside the captured text; nothing in the enrichment stage may rewrite ``title`` or ``text``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ref_src)$", re.I)
_GRADING_RE = re.compile(r"^\s*([123])\s*([A-Ea-e])\s*([PCpc])\s*$")
#: How much of an untitled item's text :meth:`Document.display_title` shows: words, characters.
DISPLAY_TITLE_WORDS = 12
DISPLAY_TITLE_CHARS = 90


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def canonical_url(url: str, *, keep_fragment: bool = False) -> str:
    """Canonical form of a URL, used for identity and de-duplication.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters, sorts
    the remaining query parameters, and removes an empty path's trailing slash differences.
    ``keep_fragment`` keeps a non-empty fragment: for a feed entry whose ``#fragment`` names a
    distinct item on a page (a comment, a live-blog post), not a place on the page (``#top``).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)
    )
    path = parts.path or "/"
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((scheme, host, path, urlencode(query), fragment))


def document_id_for_url(url: str, *, keep_fragment: bool = False) -> str:
    """Stable document id for web content: SHA-256 of the canonical URL, 32 hex characters."""
    return hashlib.sha256(canonical_url(url, keep_fragment=keep_fragment).encode("utf-8")).hexdigest()[:32]


def document_id_for_post(platform: str, post_id: str) -> str:
    """Stable document id for a social-media post: SHA-256 of ``platform:post_id``."""
    return hashlib.sha256(f"{platform.lower()}:{post_id}".encode("utf-8")).hexdigest()[:32]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Grading(_Model):
    """UK 3x5x2 grading.

    ``source``: 1 reliable, 2 untested, 3 not reliable. ``intelligence``: A known directly to the
    source, B known indirectly but corroborated, C known indirectly, D not known, E suspected
    false. ``handling``: P lawful sharing permitted, C sharing subject to conditions.
    """

    source: Literal[1, 2, 3] = 2
    intelligence: Literal["A", "B", "C", "D", "E"] = "C"
    handling: Literal["P", "C"] = "P"

    @classmethod
    def parse(cls, code: str | Grading | dict[str, Any]) -> Grading:
        """Build from a code such as ``"2BP"``, a dict, or an existing grading."""
        if isinstance(code, Grading):
            return code
        if isinstance(code, dict):
            return cls.model_validate(code)
        match = _GRADING_RE.match(str(code))
        if not match:
            raise ValueError(f"grading {code!r} is not a 3x5x2 code such as '2BP'")
        return cls(source=int(match[1]), intelligence=match[2].upper(), handling=match[3].upper())

    @property
    def code(self) -> str:
        return f"{self.source}{self.intelligence}{self.handling}"


class SourceRef(_Model):
    """Where a document came from, as configured in ``sources.yaml``."""

    id: str
    name: str = ""
    kind: str = "web"
    platform: str | None = None
    grading: Grading = Field(default_factory=Grading)
    #: The language the source publishes in (ISO 639-1), a fallback when detection is unsure.
    language: str | None = None
    #: The country the source reports from (ISO 3166-1 alpha-2), a weak prior for geocoding.
    country: str | None = None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value else None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return value.strip().upper() or None if value else None

    @field_validator("grading", mode="before")
    @classmethod
    def _grading(cls, value: Any) -> Any:
        return Grading.parse(value) if isinstance(value, str) else value


class Entity(_Model):
    """A span of the text recognised as a named or domain entity."""

    text: str
    label: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    normalized: str | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    extractor: str

    @model_validator(mode="after")
    def _span(self) -> Entity:
        if self.end < self.start:
            raise ValueError(f"entity span end {self.end} is before start {self.start}")
        return self


class MethodHit(_Model):
    """A criminal method (modus operandi) found in the text, with the sentence that shows it."""

    id: str
    label: str
    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str
    start: int | None = None
    end: int | None = None
    matched_by: str


class Mention(_Model):
    """One place in the text where something is mentioned: ``text[start:end]``."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _span(self) -> Mention:
        if self.end < self.start:
            raise ValueError(f"mention span end {self.end} is before start {self.start}")
        return self


#: Kinds of place: a populated place, a port or crossing, a first-level region (state, province,
#: county), a country, a continent or macro-region ("South America", "the Balkans").
PlaceKind = Literal["city", "port", "region", "country", "continent"]


class Location(_Model):
    """A place geocoded to a GeoNames entry (or a listed area), with every mention of it.

    ``mention``, ``start`` and ``end`` are the first mention (kept for readers written before
    ``mentions`` existed); ``mentions`` lists every mention in text order, the first included.
    """

    name: str
    kind: PlaceKind | None = None
    country_code: str | None = None
    admin1: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    geonames_id: int | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    mention: str
    start: int | None = None
    end: int | None = None
    mentions: list[Mention] = Field(default_factory=list)

    @model_validator(mode="after")
    def _first_mention(self) -> Location:
        # A record written before ``mentions`` existed has its one mention in start/end.
        if not self.mentions and self.start is not None and self.end is not None and self.end >= self.start:
            object.__setattr__(self, "mentions", [Mention(text=self.mention, start=self.start, end=self.end)])
        return self


class CrimeType(_Model):
    """A crime type (offence group of a small fixed scheme) the document reports, with evidence."""

    id: str
    label: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str = ""
    start: int | None = None
    end: int | None = None
    matched_by: str = ""


class Capture(_Model):
    """Evidence of how and when the bytes were captured."""

    warc_file: str | None = None
    record_id: str | None = None
    sha256: str
    http_status: int | None = None
    content_type: str | None = None
    fetched_url: str | None = None
    ip_address: str | None = None


class Document(_Model):
    """One collected item (article, post, page) and every assessment made of it."""

    id: str = ""
    url: str
    canonical_url: str = ""
    source: SourceRef
    title: str = ""
    text: str = ""
    author: str | None = None
    author_handle: str | None = None
    published_at: datetime | None = None
    collected_at: datetime = Field(default_factory=utcnow)
    language: str | None = None
    language_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    entities: list[Entity] = Field(default_factory=list)
    methods: list[MethodHit] = Field(default_factory=list)
    crime_types: list[CrimeType] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    capture: Capture | None = None
    duplicate_of: str | None = None
    cluster_id: str | None = None
    relevance: float = Field(default=0.0, ge=0.0)
    relevance_explanation: dict[str, float] = Field(default_factory=dict)
    grading: Grading | None = None
    retention_review_at: datetime | None = None
    enrichment: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("published_at", "collected_at", "retention_review_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return utc(value) if value is not None else None

    @field_validator("grading", mode="before")
    @classmethod
    def _grading(cls, value: Any) -> Any:
        return Grading.parse(value) if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("url must not be empty")
        return value

    @model_validator(mode="after")
    def _derive(self) -> Document:
        # Assignments inside an after-validator must bypass validate_assignment recursion.
        if not self.canonical_url:
            object.__setattr__(self, "canonical_url", canonical_url(self.url))
        if not self.id:
            object.__setattr__(self, "id", document_id_for_url(self.canonical_url))
        if self.grading is None:
            object.__setattr__(self, "grading", self.source.grading)
        return self

    @property
    def is_enriched(self) -> bool:
        return bool(self.enrichment)

    @property
    def story_id(self) -> str:
        """The story this document is a copy of: its near-duplicate ``cluster_id`` (the first
        copy's id), else its own id. Copies of one story share it."""
        return self.cluster_id or self.duplicate_of or self.id

    def display_title(self, *, max_words: int = DISPLAY_TITLE_WORDS) -> str:
        """The title, or for an untitled item (most social posts) the first words of its text
        (``…`` when cut), or its URL when it has neither."""
        if self.title.strip():
            return " ".join(self.title.split())
        words = self.text.split()
        if not words:
            return self.url
        lead = " ".join(words[:max_words])
        cut = len(words) > max_words
        if len(lead) > DISPLAY_TITLE_CHARS:
            lead, cut = lead[:DISPLAY_TITLE_CHARS].rsplit(" ", 1)[0] or lead[:DISPLAY_TITLE_CHARS], True
        return lead.rstrip(",;:–—-") + "…" if cut else lead

    def to_json(self) -> str:
        """Serialise to compact JSON (the form stored in the control store and JSON lines)."""
        return self.model_dump_json(exclude_none=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> Document:
        return cls.model_validate_json(data)
