"""Source definitions, loaded from ``sources.yaml``.

A sources file is operator-owned configuration::

    allow_private_hosts: ["127.0.0.1:8765"]   # internal hosts these sources deliberately target
    sources:
      - id: demo-news
        name: Demo news desk
        kind: feed                 # feed | sitemap | web | mastodon | reddit | bluesky | telegram
        urls: ["http://127.0.0.1:8765/feeds/news.xml"]
        schedule: every 30m        # or a 5-field cron expression: "*/15 * * * *"
        grading: 2BP               # default 3x5x2 grading of the source's items
        language: en               # optional: what it publishes in (used when detection is unsure)
        country: GB                # optional: where it reports from (a weak geocoding prior)
        purpose: demonstration
        legal_basis: none needed (public, fictional)

``allow_private_hosts`` is the only way a crawl may reach a loopback or private address: the SSRF
guard refuses everything else internal, including redirects and links found in content.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from osintel.errors import ConfigError
from osintel.records import Grading, SourceRef

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_INTERVAL_RE = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_CRON_FIELD = r"[\d*/,\-A-Za-z?]+"
_CRON_RE = re.compile(rf"^{_CRON_FIELD}(\s+{_CRON_FIELD}){{4}}$")

#: The families of source the collection layer knows. ``urls`` holds feed, sitemap or start URLs
#: for the web kinds, and the platform's API base (instance, AppView, t.me) for social kinds,
#: whose ``targets`` name what to follow (``tag:drugs``, ``account:123``, ``r/sub``, a channel).
SourceKind = Literal["feed", "sitemap", "web", "mastodon", "reddit", "bluesky", "telegram"]


class Source(BaseModel):
    """One configured source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""
    kind: SourceKind
    urls: list[str] = Field(min_length=1)
    targets: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    grading: Grading = Field(default_factory=Grading)
    schedule: str | None = None
    purpose: str = ""
    legal_basis: str = ""
    authorisation_expires: date | None = None
    enabled: bool = True
    max_pages: int | None = None
    #: The language the source publishes in (ISO 639-1, e.g. "de"): used when detection is unsure.
    language: str | None = None
    #: The country the source reports from (ISO 3166-1 alpha-2, e.g. "GB"): a weak geocoding prior.
    country: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must be lower-case letters, digits, '.', '_' or '-' (max 64)")
        return value

    @field_validator("grading", mode="before")
    @classmethod
    def _grading(cls, value: Any) -> Any:
        return Grading.parse(value) if isinstance(value, str) else value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not (_INTERVAL_RE.match(value) or _CRON_RE.match(value)):
            raise ValueError(
                f"{value!r} is neither an interval such as 'every 30m' (s, m, h, d) nor a 5-field cron expression"
            )
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^[A-Za-z]{2,3}$", value.strip()):
            raise ValueError(f"{value!r} is not an ISO 639 language code such as 'de'")
        return value.strip().lower()

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^[A-Za-z]{2}$", value.strip()):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as 'GB'")
        return value.strip().upper()

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    def ref(self) -> SourceRef:
        """The reference stamped on every document from this source."""
        return SourceRef(
            id=self.id, name=self.name or self.id, kind=self.kind, grading=self.grading,
            language=self.language, country=self.country,
        )


class SourceConfig(BaseModel):
    """A whole sources file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private_hosts: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise ConfigError(f"unknown source {source_id!r} (configured: {known})")

    def select(self, ids: list[str] | None) -> list[Source]:
        """The sources named by ``ids`` (all enabled ones when ``ids`` is empty)."""
        if not ids:
            return [s for s in self.sources if s.enabled]
        return [self.get(i) for i in ids]


def parse_sources(data: Any, *, origin: str = "sources") -> SourceConfig:
    """Validate a parsed sources document; duplicate ids are an error."""
    if data is None:
        data = {}
    try:
        config = SourceConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{origin}: {problems}") from None
    seen: set[str] = set()
    for source in config.sources:
        if source.id in seen:
            raise ConfigError(f"{origin}: source id {source.id!r} appears twice")
        seen.add(source.id)
    return config


def load_sources(path: str | Path) -> SourceConfig:
    """Load and validate a sources YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sources file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"sources file {path} is not valid YAML: {exc}") from None
    return parse_sources(data, origin=str(path))
