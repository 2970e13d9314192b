"""Alert rules: what a watchlist or an emerging-method rule is, validated on construction.

A **watchlist** is a stored query in the analyst query language (any field: entity, method,
place, language, source...) with a scope (sources, languages, minimum relevance), an owner and
one delivery. An **emerging** rule watches method counts (optionally only methods under a prefix)
and new phrases, and delivers what :mod:`alerts.emerging` finds.

Rules are stored as JSON in ``alert_rules`` (:mod:`alerts.state`) and may be seeded from
``osintel/config/watchlists.yaml``. Secrets never live in a rule: webhook signing keys and SMTP passwords
come from the ``[alerts]`` settings.
"""

from __future__ import annotations

import functools
import re
import uuid
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from indexer import And, Node, Range, parse_query
from alerts.state import AlertStore, RuleRow
from osintel.errors import AlertError, DeliveryError, QueryError
from osintel.settings import Settings
from alerts.sinks import check_target

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

#: Parsed queries by text. Every sweep rebuilds the enabled rules from their rows, and with a
#: thousand watchlists re-parsing them cost ~0.1 s per pass; query ASTs are immutable, so one
#: parse per distinct query text is enough (a QueryError is not cached: it is raised again).
_parsed = functools.lru_cache(maxsize=8192)(parse_query)
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")

SinkName = Literal["webhook", "email", "file"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Delivery(_Model):
    """Where a rule's alerts go. ``target``: a URL (webhook), an address (email) or a file name
    under ``<data_dir>/alerts/`` (file). ``digest_minutes`` > 0 sends at most one digest per that
    many minutes; ``rate_limit_per_hour`` overrides the ``[alerts]`` default."""

    sink: SinkName
    target: str
    digest_minutes: int = Field(default=0, ge=0, le=10080)
    rate_limit_per_hour: int | None = Field(default=None, ge=1, le=10000)

    @model_validator(mode="after")
    def _target(self) -> Delivery:
        target = self.target.strip()
        if self.sink == "webhook" and not re.match(r"^https?://[^\s/]+", target):
            raise ValueError("a webhook target must be an http:// or https:// URL")
        if self.sink == "email" and not _EMAIL.match(target):
            raise ValueError(f"{target!r} is not an e-mail address")
        if self.sink == "file" and (not _SLUG.match(target) or ".." in target):
            raise ValueError("a file target is a plain file name (letters, digits, . _ -), kept under"
                             " <data_dir>/alerts/")
        self.target = target
        return self


class Scope(_Model):
    """Restricts a watchlist: only these sources / languages, only at least this relevance."""

    sources: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    min_relevance: float = Field(default=0.0, ge=0.0)

    @field_validator("sources", "languages")
    @classmethod
    def _slugs(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _SLUG.match(value):
                raise ValueError(f"{value!r} is not a source id or language code")
        return values


class Rule(_Model):
    """One alert rule. ``kind="watchlist"`` needs a ``query``; ``kind="emerging"`` watches
    method counts (``methods``: an id prefix such as ``drugs.``, empty for all), per place too
    when ``per_place``, and new phrases when ``phrases``."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["watchlist", "emerging"] = "watchlist"
    query: str = ""
    scope: Scope = Field(default_factory=Scope)
    delivery: Delivery
    enabled: bool = True
    methods: str = ""
    per_place: bool = True
    phrases: bool = True
    owner_id: str | None = None
    owner_name: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("a rule id is letters, digits, . _ - (at most 100)")
        return value

    @model_validator(mode="after")
    def _query(self) -> Rule:
        if self.kind == "watchlist":
            if not self.query.strip():
                raise ValueError("a watchlist needs a query")
            _parsed(self.query)  # QueryError with its position
        return self

    def spec(self) -> dict[str, Any]:
        """The JSON stored in ``alert_rules.spec``."""
        return self.model_dump(mode="json", exclude={"id", "name", "kind", "enabled", "owner_id", "owner_name"})

    def node(self) -> Node:
        """The watchlist's query with its scope, as one AST."""
        clauses: list[Node] = [_parsed(self.query)]
        if self.scope.sources:
            clauses.append(_parsed(" OR ".join(f'source:"{s}"' for s in self.scope.sources)))
        if self.scope.languages:
            clauses.append(_parsed(" OR ".join(f'language:"{s}"' for s in self.scope.languages)))
        if self.scope.min_relevance > 0:
            clauses.append(Range("relevance", self.scope.min_relevance, None, True, True))
        return clauses[0] if len(clauses) == 1 else And(tuple(clauses))


def build_rule(data: dict[str, Any]) -> Rule:
    """Validate a rule from a dict; raises :class:`AlertError` saying what is wrong."""
    try:
        return Rule.model_validate(data)
    except QueryError as exc:
        raise AlertError(f"bad watchlist query: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors())
        raise AlertError(f"invalid alert rule: {problems}") from None


def check_delivery(delivery: Delivery, settings: Settings) -> None:
    """Refuse (:class:`AlertError`, with the reason) a delivery its sink would refuse at delivery
    time: a webhook to a loopback/private address not in ``alerts.webhook_allowed_hosts``, a
    malformed URL or e-mail address, a file name that leaves ``<data_dir>/alerts/``. The check is
    the sink's own (:func:`~alerts.sinks.check_target`), so the two never disagree."""
    try:
        check_target(delivery.sink, delivery.target, settings.alerts, settings.data_dir)
    except DeliveryError as exc:
        raise AlertError(f"delivery.target: {exc}") from None


def from_row(row: RuleRow) -> Rule:
    """The :class:`Rule` of a stored row."""
    return build_rule({**row.spec, "id": row.id, "name": row.name, "kind": row.kind, "enabled": row.enabled,
                       "owner_id": row.owner_id, "owner_name": row.owner_name})


def save_rule(alerts: AlertStore, rule: Rule, *, if_missing: bool = False) -> bool:
    """Store ``rule`` (replacing one with its id unless ``if_missing``)."""
    return alerts.add_rule(rule_id=rule.id, name=rule.name, kind=rule.kind, spec=rule.spec(),
                           owner_id=rule.owner_id, owner_name=rule.owner_name, enabled=rule.enabled,
                           if_missing=if_missing)


def load_rules_file(path: Path) -> list[Rule]:
    """Rules from a YAML file with a top-level ``watchlists:`` list (see osintel/config/watchlists.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise AlertError(f"watchlists file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise AlertError(f"watchlists file {path} is not valid YAML: {exc}") from None
    items = data.get("watchlists") if isinstance(data, dict) else None
    if items is None:
        items = []
    if not isinstance(items, list):
        raise AlertError(f"{path}: 'watchlists' must be a list")
    rules = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "id" not in item:
            raise AlertError(f"{path}: watchlist #{n} must be a mapping with an 'id'")
        try:
            rules.append(build_rule({"owner_name": "config", **item}))
        except AlertError as exc:
            raise AlertError(f"{path}: watchlist {item.get('id')!r}: {exc}") from None
    return rules


def visible_to(rule: Rule, owner_id: str | None, *, see_all: bool) -> bool:
    """True when ``owner_id`` may see/manage ``rule`` (supervisors see all)."""
    return see_all or (owner_id is not None and rule.owner_id == owner_id)


__all__ = ["Delivery", "Rule", "Scope", "build_rule", "check_delivery", "from_row", "load_rules_file",
           "save_rule", "visible_to"]
