"""Search filters (query parameters) compiled into the query AST beside the analyst's query.

The analyst's ``q`` is parsed with the query language (:func:`indexer.parse_query`); each filter
parameter becomes one more AST clause, its values normalised exactly as the query language does
(so ``country=gb`` and ``country:GB`` find the same documents). A bad filter raises
:class:`~osintel.errors.QueryError` naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from indexer import (
    FIELDS,
    And,
    GeoBox,
    GeoDistance,
    MatchAll,
    Node,
    Or,
    Prefix,
    Range,
    Term,
    normalize,
    normalize_entity_value,
    parse_query,
)
from osintel.errors import QueryError

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")
_NEAR_RE = re.compile(r"^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*([\d.]+)\s*(km|mi|m)?\s*$", re.I)
_UNIT_KM = {"km": 1.0, "m": 0.001, "mi": 1.609344}
_LABEL_RE = re.compile(r"^[A-Z][A-Z_]{1,31}$")
#: Entity labels that have their own query field (``PHONE`` -> ``phone``).
_LABEL_FIELDS: dict[str, str] = {
    label: spec.name for spec in FIELDS.values() if spec.kind == "entity" for label in spec.labels
}


@dataclass
class Filters:
    """The filter parameters of a search (every list is OR-ed within, AND-ed across)."""

    source: Sequence[str] = ()
    language: Sequence[str] = ()
    entity: Sequence[str] = ()
    method: Sequence[str] = ()
    crimetype: Sequence[str] = ()
    country: Sequence[str] = ()
    grading: Sequence[str] = ()
    published_from: str | None = None
    published_to: str | None = None
    near: str | None = None
    bbox: str | None = None
    min_relevance: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The filters that are set, for the oversight record and the response."""
        out: dict[str, object] = {}
        for name in ("source", "language", "entity", "method", "crimetype", "country", "grading"):
            values = list(getattr(self, name))
            if values:
                out[name] = values
        for name in ("published_from", "published_to", "near", "bbox", "min_relevance"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _bad(param: str, message: str) -> QueryError:
    return QueryError(f"parameter {param!r}: {message}")


def _keyword(param: str, field_name: str, values: Sequence[str]) -> Node | None:
    clauses: list[Node] = []
    for raw in values:
        value = raw.strip()
        if not value:
            raise _bad(param, "empty value")
        if value.endswith("*"):
            stem = value[:-1]
            if not stem or "*" in stem:
                raise _bad(param, f"{raw!r}: only one trailing * wildcard is supported")
            clauses.append(Prefix(field_name, normalize(field_name, stem)))
        else:
            clauses.append(Term(field_name, normalize(field_name, value)))
    return _any(clauses)


def _entity(values: Sequence[str], phone_region: str) -> Node | None:
    """``LABEL:value`` (``PHONE:07700 900123``) or a bare value matching any entity."""
    clauses: list[Node] = []
    for raw in values:
        label, sep, value = raw.partition(":")
        if sep and _LABEL_RE.match(label.strip()):
            label, value = label.strip(), value.strip()
            if not value:
                raise _bad("entity", f"{raw!r} has a label but no value")
            field_name = _LABEL_FIELDS.get(label)
            if field_name is not None:
                clauses.append(Term(field_name, normalize_entity_value(label, value, phone_region=phone_region)))
            else:
                clauses.append(Term("entity", normalize("entity", value)))
        elif raw.strip():
            clauses.append(Term("entity", normalize("entity", raw.strip())))
        else:
            raise _bad("entity", "empty value")
    return _any(clauses)


def _any(clauses: list[Node]) -> Node | None:
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else Or(tuple(clauses))


def _dates(low: str | None, high: str | None) -> Node | None:
    if low is None and high is None:
        return None
    for param, value in (("published_from", low), ("published_to", high)):
        if value is not None and not _DATE_RE.match(value.strip()):
            raise _bad(param, f"{value!r} is not an ISO date such as 2024-01-31 or 2024-01-31T12:00:00Z")
    # The query language owns date semantics (UTC, a date-only upper bound includes its day).
    text = f"published:[{(low or '*').strip()} TO {(high or '*').strip()}]"
    try:
        return parse_query(text)
    except QueryError as exc:
        raise _bad("published_from/published_to", str(exc).split(" at position")[0]) from None


def parse_near(value: str) -> GeoDistance:
    """``"lat,lon,radius"`` (``"51.5,-0.12,25km"``; units km (default), m, mi) to a :class:`GeoDistance`."""
    match = _NEAR_RE.match(value)
    if not match:
        raise _bad("near", f"{value!r} is not 'lat,lon,radius' such as '51.51,-0.13,25km'")
    try:
        lat, lon = float(match[1]), float(match[2])
        km = float(match[3]) * _UNIT_KM[(match[4] or "km").lower()]
    except ValueError:
        raise _bad("near", f"{value!r} has a value that is not a number") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _bad("near", f"latitude must be within ±90 and longitude within ±180, not {lat}, {lon}")
    if not 0 < km <= 20100:
        raise _bad("near", f"radius must be above 0 and at most 20100 km, not {km}")
    return GeoDistance(lat, lon, km)


def parse_bbox(value: str) -> GeoBox:
    """``"north,west,south,east"`` in degrees to a :class:`GeoBox`."""
    parts = value.split(",")
    try:
        north, west, south, east = (float(p) for p in parts)
    except ValueError:
        raise _bad("bbox", f"{value!r} is not 'north,west,south,east' such as '60,-11,49,2'") from None
    if not (-90 <= south <= north <= 90):
        raise _bad("bbox", f"need -90 <= south ({south}) <= north ({north}) <= 90")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise _bad("bbox", "west and east must be within ±180")
    return GeoBox(north, west, south, east)


def compile_search(q: str, filters: Filters, *, phone_region: str) -> Node:
    """The analyst query AND every filter, as one AST (``MatchAll`` when nothing narrows)."""
    clauses: list[Node] = []
    parsed = parse_query(q, phone_region=phone_region)
    if not isinstance(parsed, MatchAll):
        clauses.append(parsed)
    for node in (
        _keyword("source", "source", filters.source),
        _keyword("language", "language", filters.language),
        _entity(filters.entity, phone_region),
        _keyword("method", "method", filters.method),
        _keyword("crimetype", "crimetype", filters.crimetype),
        _keyword("country", "country", filters.country),
        _keyword("grading", "grading", filters.grading),
        _dates(filters.published_from, filters.published_to),
        parse_near(filters.near) if filters.near else None,
        parse_bbox(filters.bbox) if filters.bbox else None,
        Range("relevance", float(filters.min_relevance), None) if filters.min_relevance is not None else None,
    ):
        if node is not None:
            clauses.append(node)
    if not clauses:
        return MatchAll()
    return clauses[0] if len(clauses) == 1 else And(tuple(clauses))


_Values = Annotated[list[str], Query(max_length=20)]


def filter_params(
    source: _Values = [],  # noqa: B006 - FastAPI copies list defaults per request
    language: _Values = [],  # noqa: B006
    entity: Annotated[list[str], Query(max_length=20, description="LABEL:value (PHONE:07700 900123) or a value")] = [],  # noqa: B006
    method: Annotated[list[str], Query(max_length=20, description="method id; a trailing * matches a prefix")] = [],  # noqa: B006
    crimetype: Annotated[list[str], Query(
        max_length=20, description="crime type (violence.homicide) or group (violence); a trailing * matches a prefix",
    )] = [],  # noqa: B006
    country: _Values = [],  # noqa: B006
    grading: Annotated[list[str], Query(max_length=20, description="3x5x2 code such as 2BP")] = [],  # noqa: B006
    published_from: Annotated[str | None, Query(max_length=40, description="ISO date or time (UTC)")] = None,
    published_to: Annotated[str | None, Query(max_length=40, description="ISO date (inclusive) or time")] = None,
    near: Annotated[str | None, Query(max_length=80, description="lat,lon,radius e.g. 51.51,-0.13,25km")] = None,
    bbox: Annotated[str | None, Query(max_length=120, description="north,west,south,east in degrees")] = None,
    min_relevance: Annotated[float | None, Query(ge=0, le=1e6)] = None,
) -> Filters:
    """The filter query parameters every search-like route accepts (a FastAPI dependency)."""
    return Filters(source=source, language=language, entity=entity, method=method, crimetype=crimetype,
                   country=country,
                   grading=grading, published_from=published_from, published_to=published_to,
                   near=near, bbox=bbox, min_relevance=min_relevance)


FiltersDep = Annotated[Filters, Depends(filter_params)]
QueryText = Annotated[str, Query(max_length=2000, description="analyst query, e.g. firearms AND method:firearms.*")]
