"""The analyst query language: Lucene-like text parsed once (with ``luqum``) into our AST.

Syntax, by example::

    cocaine heroin                    both words (implicit AND: analysts expect narrowing)
    cocaine OR heroin                 either (operators are upper-case: AND, OR, NOT)
    cocaine -heroin, cocaine NOT heroin, +cocaine
    "county lines"                    a phrase; "county lines"~2 allows two words between
    (cocaine OR heroin) AND title:arrest
    phone:"07700 900123"              values are normalised: this finds +447700900123
    method:drugs.*                    trailing wildcard (leading wildcards and regexes are refused)
    crimetype:violence.homicide       a crime type; crimetype:theft.* or crimetype:theft for its group
    published:[2024-01-01 TO 2024-12-31]   dates are UTC; a date-only upper bound includes the day
    published:>=2025-01-01  relevance:[0.5 TO *]  relevance:{0.2 TO 0.8}
    near:"51.51,-0.13,25km"           a location within 25 km (units: km, m, mi; none means km)
    bbox:"52.0,-1.0,51.0,0.5"         a location inside north,west,south,east (degrees)

Bare words and phrases search ``title`` and ``text``. Every other field is listed in
:data:`FIELDS`. A word longer than :data:`~indexer.analysis.MAX_WORD_BYTES` bytes is refused:
the index does not hold it, and dropping it would widen the query. Range bounds may be negative
numbers (``relevance:[-1 TO 1]``); dates run from :data:`MIN_DATE` to :data:`MAX_DATE`.
Values of keyword fields match exactly and case-insensitively; :func:`normalize` and
:func:`normalize_entity_value` give the canonical forms, and backends index values through the
same functions so that query and index always agree. Every error is a :class:`QueryError` with
the position of the problem in the query text.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from decimal import InvalidOperation
from datetime import datetime, timedelta, timezone
from typing import Literal

import phonenumbers
from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError, ParseSyntaxError
from luqum.parser import parser as _luqum_parser

from indexer.analysis import text_problem
from indexer.base import (
    And,
    GeoBox,
    GeoDistance,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Range,
    Term,
)
from indexer.query_geo import GEO_EXAMPLES, GeoValueError, parse_geo
from osintel.errors import QueryError

#: Resource guards shared by every backend: longest query text, most leaf clauses.
MAX_QUERY_LENGTH = 2000
MAX_CLAUSES = 200
#: Most ``near:``/``bbox:`` filters in one query (each is a scan of its area on tantivy).
MAX_GEO_FILTERS = 10
DEFAULT_PHONE_REGION = "GB"
#: Dates a range may name: what every backend can represent (tantivy's are 64-bit nanoseconds).
MIN_DATE = datetime(1678, 1, 1, tzinfo=timezone.utc)
MAX_DATE = datetime(2262, 1, 1, tzinfo=timezone.utc)
_DATE_SPAN = f"{MIN_DATE:%Y-%m-%d} and {MAX_DATE - timedelta(days=1):%Y-%m-%d}"

FieldKind = Literal["text", "keyword", "entity", "date", "number", "geo"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One analyst-facing query field.

    ``kind``: ``text`` (analysed full text), ``keyword`` (exact, case-insensitive), ``entity``
    (an entity value restricted to ``labels``), ``date`` or ``number`` (ranges).
    """

    name: str
    kind: FieldKind
    description: str
    labels: tuple[str, ...] = ()


_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("title", "text", "words in the title"),
    FieldSpec("text", "text", "words in the body text"),
    FieldSpec("source", "keyword", "source id from sources.yaml"),
    FieldSpec("language", "keyword", "ISO 639-1 language code"),
    FieldSpec("author", "keyword", "author name or handle"),
    FieldSpec("entity", "keyword", "any entity's text or normalised value"),
    FieldSpec("person", "entity", "PERSON entity", ("PERSON",)),
    FieldSpec("org", "entity", "ORG entity", ("ORG",)),
    FieldSpec("phone", "entity", "phone number (normalised to E.164)", ("PHONE",)),
    FieldSpec("email", "entity", "e-mail address", ("EMAIL",)),
    FieldSpec(
        "wallet", "entity", "crypto wallet address", ("BTC_ADDRESS", "ETH_ADDRESS", "XMR_ADDRESS")
    ),
    FieldSpec("iban", "entity", "IBAN (spaces ignored)", ("IBAN",)),
    FieldSpec("plate", "entity", "vehicle plate (spaces ignored)", ("VEHICLE_PLATE",)),
    FieldSpec("ip", "entity", "IP address", ("IP_ADDRESS",)),
    FieldSpec("domain", "entity", "internet domain", ("DOMAIN",)),
    FieldSpec("imo", "entity", "IMO ship number", ("IMO",)),
    FieldSpec("handle", "entity", "social-media handle", ("HANDLE",)),
    FieldSpec("label", "keyword", "an entity label is present, e.g. label:PHONE"),
    FieldSpec("method", "keyword", "criminal method id, e.g. drugs.county_lines or drugs.*"),
    FieldSpec("category", "keyword", "criminal method category"),
    FieldSpec(
        "crimetype", "keyword",
        "crime type (Home Office offence group), e.g. violence.homicide, theft.*, or a whole group: violence",
    ),
    FieldSpec("country", "keyword", "ISO 3166 country code of a location"),
    FieldSpec("place", "keyword", "location name"),
    FieldSpec("published", "date", "publication time (UTC)"),
    FieldSpec("collected", "date", "collection time (UTC)"),
    FieldSpec("relevance", "number", "relevance score"),
    FieldSpec("grading", "keyword", "3x5x2 grading code, e.g. 2BP"),
    FieldSpec("handling", "keyword", "handling code P or C"),
    FieldSpec("id", "keyword", "document id (32 hex digits)"),
    FieldSpec("cluster", "keyword", "story id shared by near-duplicate copies: cluster:<id> lists every copy"),
    FieldSpec("near", "geo", 'a location within a distance: near:"51.51,-0.13,25km"'),
    FieldSpec("bbox", "geo", 'a location inside a box: bbox:"north,west,south,east"'),
)

#: Every field the query language accepts, by name.
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in _SPECS}

_UPPER_FIELDS = frozenset({"country", "label", "grading", "handling"})
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
_POSITION_RE = re.compile(r"position (\d+)")
_PHONE_JUNK_RE = re.compile(r"[\s\-().]")
_MIN_PHONE_DIGITS = 7
_DATE_ONLY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# luqum's proximity/fuzzy degree: "~" then digits and dots ("~." is not a number).
_DEGREE_RE = re.compile(r"~([0-9.]+)")

# PLY parsers keep state on the parser object: one parse at a time.
_PARSE_LOCK = threading.Lock()


# --- normalisation shared by the parser and the backends ------------------------------------


def normalize_phone(value: str, *, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form of a phone number when ``phonenumbers`` can parse it, else digits and ``+``."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    # Possible (not only valid) numbers count: reserved drama ranges such as 07700 900xxx and
    # new allocations must still match; the length floor keeps "12-34" from becoming "+441234".
    if (
        number is not None
        and len(str(number.national_number)) >= _MIN_PHONE_DIGITS
        and phonenumbers.is_possible_number(number)
    ):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _PHONE_JUNK_RE.sub("", value)


def normalize_entity_value(
    label: str, value: str, *, phone_region: str = DEFAULT_PHONE_REGION
) -> str:
    """Canonical form of an entity value of type ``label`` (used at index and query time)."""
    value = value.strip()
    if label == "PHONE":
        return normalize_phone(value, region=phone_region)
    if label in ("VEHICLE_PLATE", "IBAN"):
        return re.sub(r"[\s\-]", "", value).upper()
    return value.casefold()


def normalize(field: str, value: str) -> str:
    """Canonical form of a keyword-field value (case-insensitive matching)."""
    value = value.strip()
    return value.upper() if field in _UPPER_FIELDS else value.casefold()


# --- parsing --------------------------------------------------------------------------------


def parse_query(
    text: str,
    *,
    phone_region: str = DEFAULT_PHONE_REGION,
    max_length: int = MAX_QUERY_LENGTH,
    max_clauses: int = MAX_CLAUSES,
) -> Node:
    """Parse an analyst query into the AST; raise :class:`QueryError` with a position if bad.

    The empty query and ``*`` match everything. Terms next to each other are AND-ed.
    """
    if len(text) > max_length:
        raise QueryError(
            f"query is {len(text)} characters long; the limit is {max_length}",
            query=text,
            position=max_length,
        )
    if not text.strip() or text.strip() == "*":
        return MatchAll()
    try:
        with _PARSE_LOCK:
            luqum_tree = _luqum_parser.parse(text)
    except (ParseSyntaxError, IllegalCharacterError, ParseError) as exc:
        message = str(exc)
        match = _POSITION_RE.search(message)
        position = int(match[1]) if match else len(text)
        reason = message.split(":", 1)[-1].split(" at ")[0].strip(" !") or "syntax error"
        if text[position : position + 1] == "-" and text[max(position - 1, 0)] in "<>=":
            reason += '; quote a negative bound, such as relevance:>="-1"'
        raise QueryError(f"syntax error: {reason}", query=text, position=position) from None
    except RecursionError:
        raise QueryError("query is nested too deeply", query=text, position=0) from None
    except InvalidOperation:
        # luqum builds the degree of "a~." with Decimal("."), which raises.
        position = next((m.start() for m in _DEGREE_RE.finditer(text) if not _is_number(m[1])), 0)
        raise QueryError("syntax error: ~ takes a number, such as ~2", query=text, position=position) from None
    node = _Converter(text, phone_region).convert(luqum_tree, None)
    try:
        return check_query(node, max_clauses=max_clauses)
    except QueryError as exc:
        raise QueryError(exc.args[0], query=text, position=0) from None


_LEAVES = (MatchAll, Term, Phrase, Prefix, Range, GeoDistance, GeoBox)
#: Deepest nesting of AND/OR/NOT a query may have (a parsed query is far shallower).
MAX_DEPTH = 64


def check_query(node: object, *, max_clauses: int = MAX_CLAUSES) -> Node:
    """Validate an AST built elsewhere (a stored alert query, an API client) before a backend
    compiles it: only known node types and fields, at most ``max_clauses`` leaves, bounded
    nesting, geo values in range. Returns ``node``; raises :class:`QueryError`.

    :func:`parse_query` output always passes; backends call this for a :data:`Node` argument so
    that the resource guards hold whichever way a query arrives.
    """
    leaves = geo_filters = 0
    stack: list[tuple[object, int]] = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise QueryError(f"query is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, (And, Or)):
            if not item.clauses:
                raise QueryError(f"{type(item).__name__} needs at least one clause")
            stack.extend((child, depth + 1) for child in item.clauses)
            continue
        if isinstance(item, Not):
            stack.append((item.clause, depth + 1))
            continue
        if not isinstance(item, _LEAVES):
            raise QueryError(f"not a query node: {type(item).__name__}")
        leaves += 1
        geo_filters += isinstance(item, (GeoDistance, GeoBox))
        _check_leaf(item)
    if leaves > max_clauses:
        raise QueryError(f"query has {leaves} clauses; the limit is {max_clauses}")
    if geo_filters > MAX_GEO_FILTERS:
        raise QueryError(f"query has {geo_filters} geo filters; the limit is {MAX_GEO_FILTERS}")
    return node  # type: ignore[return-value]


def _check_leaf(node: Node) -> None:
    field = getattr(node, "field", None)
    if field is not None and field not in FIELDS:
        raise QueryError(f"unknown field {field!r}")
    if isinstance(node, Range):
        kind = FIELDS[node.field].kind
        if kind not in ("date", "number"):
            raise QueryError(f"ranges are not supported on {node.field!r}")
        if node.low is None and node.high is None:
            raise QueryError(f"range on {node.field!r} has no bounds")
        for bound in (node.low, node.high):
            problem = _bound_problem(node.field, kind, bound) if bound is not None else None
            if problem:
                raise QueryError(problem)
    elif isinstance(node, GeoDistance):
        raw = f"{node.lat!r},{node.lon!r},{node.km!r}km"
        _revalidate("near", raw)
    elif isinstance(node, GeoBox):
        _revalidate("bbox", f"{node.north!r},{node.west!r},{node.south!r},{node.east!r}")
    elif isinstance(node, (Term, Prefix, Phrase)):
        value = node.text if isinstance(node, Phrase) else node.value
        if not isinstance(value, str):
            raise QueryError(f"value of {field or 'a word'} must be a string")
        if len(value) > MAX_QUERY_LENGTH:
            raise QueryError(f"a query value is longer than {MAX_QUERY_LENGTH} characters")
        if field is None or FIELDS[field].kind == "text":
            unsearchable = text_problem(value, prefix=isinstance(node, Prefix))
            if unsearchable:
                raise QueryError(unsearchable[1])


def _bound_problem(field: str, kind: str, value: object) -> str | None:
    """Why ``value`` cannot bound a range on ``field``, or ``None``."""
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{field!r} needs a finite number, not {value!r}"
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        return f"{field!r} needs a time zone-aware date, not {value!r}"
    if not MIN_DATE <= value <= MAX_DATE:
        return f"{field!r} dates must lie between {_DATE_SPAN}"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _revalidate(field: str, raw: str) -> None:
    try:
        parse_geo(field, raw)
    except GeoValueError as exc:
        raise QueryError(str(exc)) from None


def _unescape(value: str) -> str:
    return _ESCAPE_RE.sub(r"\1", value)


class _Converter:
    """Walks a luqum tree and builds our AST, validating fields and normalising values."""

    def __init__(self, query: str, phone_region: str) -> None:
        self.query = query
        self.phone_region = phone_region

    def error(self, message: str, node: tree.Item, offset: int = 0) -> QueryError:
        """A :class:`QueryError` at ``node`` (``offset`` characters into it)."""
        start = getattr(node, "pos", None)
        return QueryError(message, query=self.query, position=(start or 0) + offset)

    def convert(self, node: tree.Item, field: str | None) -> Node:
        if isinstance(node, tree.SearchField):
            if field is not None:
                raise self.error(f"field {node.name!r} nested inside field {field!r}", node)
            name = node.name.lower()
            if name not in FIELDS:
                known = ", ".join(FIELDS)
                raise self.error(f"unknown field {node.name!r}; known fields: {known}", node)
            expr = node.expr
            if isinstance(expr, tree.Plus) and isinstance(expr.a, tree.Word):
                # phone:+447700900123 means the number, not "required 447700900123".
                expr = tree.Word("+" + expr.a.value, pos=expr.pos, size=expr.size)
            return self.convert(expr, name)
        if isinstance(node, (tree.Group, tree.FieldGroup)):
            return self.convert(node.expr, field)
        if isinstance(node, (tree.AndOperation, tree.UnknownOperation)):
            return _flatten(And, [self.convert(c, field) for c in node.children])
        if isinstance(node, tree.OrOperation):
            return _flatten(Or, [self.convert(c, field) for c in node.children])
        if isinstance(node, (tree.Not, tree.Prohibit)):
            return Not(self.convert(node.a, field))
        if isinstance(node, tree.Plus):
            return self.convert(node.a, field)
        if isinstance(node, (tree.Word, tree.Phrase)) and field and FIELDS[field].kind == "geo":
            return self.geo(node, field)
        if field is not None and FIELDS[field].kind == "geo":
            raise self.error(f"{field}: takes a quoted value such as {GEO_EXAMPLES[field]}", node)
        if isinstance(node, tree.Word):
            return self.word(node, field)
        if isinstance(node, tree.Phrase):
            return self.phrase(node, field, slop=0)
        if isinstance(node, tree.Proximity) and isinstance(node.term, tree.Phrase):
            return self.phrase(node.term, field, slop=int(node.degree or 1))
        if isinstance(node, tree.Range):
            return self.range(node, field, node.low, node.high, node.include_low, node.include_high)
        if isinstance(node, tree.From):
            return self.range(node, field, node.a, None, node.include, True)
        if isinstance(node, tree.To):
            return self.range(node, field, None, node.a, True, node.include)
        if isinstance(node, tree.Regex):
            raise self.error("regular expressions are not supported", node)
        if isinstance(node, tree.Fuzzy):
            raise self.error("fuzzy matching (~) is not supported", node)
        if isinstance(node, tree.Boost):
            raise self.error("boosts (^) are not supported", node)
        raise self.error(f"unsupported query syntax {str(node)!r}", node)

    # -- leaves --

    def word(self, node: tree.Word, field: str | None) -> Node:
        raw: str = node.value
        spec = FIELDS.get(field) if field else None
        if raw == "*":
            if field is None:
                return MatchAll()
            if spec is not None and spec.kind in ("date", "number"):
                raise self.error(f"use a range such as {field}:[x TO *] on {field!r}", node)
            return Prefix(field, "")
        value, wildcard = self._split_wildcard(raw, node)
        if spec is not None and spec.kind in ("date", "number"):
            if wildcard:
                raise self.error(f"wildcards are not supported on {field!r}", node)
            return self.single_value_range(node, field, value)  # type: ignore[arg-type]
        if spec is None or spec.kind == "text":
            self.check_text(node, raw, prefix=wildcard)
        if wildcard:
            return Prefix(field, self.value(field, value) if field else value.casefold())
        return Term(field, self.value(field, value))

    def phrase(self, node: tree.Phrase, field: str | None, *, slop: int) -> Node:
        text = _unescape(node.value[1:-1])
        spec = FIELDS.get(field) if field else None
        if spec is None or spec.kind == "text":
            if not text.strip():
                raise self.error("empty phrase", node)
            self.check_text(node, node.value, prefix=False)
            return Phrase(field, text, slop)
        if spec.kind in ("date", "number"):
            return self.single_value_range(node, spec.name, text)
        return Term(spec.name, self.value(spec.name, text))

    def check_text(self, node: tree.Item, raw: str, *, prefix: bool) -> None:
        """Refuse full text the index cannot match as written (:func:`analysis.text_problem
        <indexer.analysis.text_problem>`); ``raw`` is the node's text as typed, so offsets are
        positions in the query."""
        problem = text_problem(raw, prefix=prefix)
        if problem:
            raise self.error(problem[1], node, problem[0])

    def value(self, field: str | None, value: str) -> str:
        """The normalised form of ``value`` for ``field`` (text fields are analysed later)."""
        spec = FIELDS.get(field) if field else None
        if spec is None or spec.kind == "text":
            return value
        if spec.kind == "entity":
            return normalize_entity_value(spec.labels[0], value, phone_region=self.phone_region)
        return normalize(spec.name, value)

    def _split_wildcard(self, raw: str, node: tree.Item) -> tuple[str, bool]:
        """Unescape a word and report whether it ends in an (unescaped) trailing ``*``."""
        chars: list[str] = []
        wildcard_at: list[int] = []
        i = 0
        while i < len(raw):
            char = raw[i]
            if char == "\\" and i + 1 < len(raw):
                chars.append(raw[i + 1])
                i += 2
                continue
            if char in "*?":
                wildcard_at.append(len(chars))
                if char == "?":
                    raise self.error("'?' wildcards are not supported; use a trailing *", node)
            chars.append(char)
            i += 1
        if not wildcard_at:
            return "".join(chars), False
        if wildcard_at[0] == 0:
            raise self.error("leading wildcards are not supported", node)
        if wildcard_at != [len(chars) - 1]:
            raise self.error("only a single trailing * wildcard is supported", node)
        return "".join(chars[:-1]), True

    # -- geo --

    def geo(self, node: tree.Word | tree.Phrase, field: str) -> GeoDistance | GeoBox:
        """``near:"lat,lon,25km"`` or ``bbox:"n,w,s,e"``; errors point at the bad component."""
        quoted = isinstance(node, tree.Phrase)
        raw = node.value[1:-1] if quoted else node.value
        start = (getattr(node, "pos", None) or 0) + (1 if quoted else 0)
        try:
            return parse_geo(field, raw)
        except GeoValueError as exc:
            raise QueryError(str(exc), query=self.query, position=start + exc.offset) from None

    # -- ranges --

    def range(
        self,
        node: tree.Item,
        field: str | None,
        low: tree.Item | None,
        high: tree.Item | None,
        include_low: bool,
        include_high: bool,
    ) -> Range:
        spec = FIELDS.get(field) if field else None
        if spec is None or spec.kind not in ("date", "number"):
            allowed = ", ".join(s.name for s in _SPECS if s.kind in ("date", "number"))
            raise self.error(f"ranges are only supported on {allowed}", node)
        low_value = self.bound(low, spec, upper=False, inclusive=include_low)
        high_value = self.bound(high, spec, upper=True, inclusive=include_high)
        if low_value is None and high_value is None:
            raise self.error(f"range on {spec.name!r} has no bounds", node)
        low_bound, include_low = low_value if low_value else (None, True)
        high_bound, include_high = high_value if high_value else (None, True)
        both = low_bound is not None and high_bound is not None
        if both and low_bound > high_bound:  # type: ignore[operator]
            raise self.error(f"range on {spec.name!r} has its low bound above its high bound", node)
        return Range(spec.name, low_bound, high_bound, include_low, include_high)

    def bound(
        self, node: tree.Item | None, spec: FieldSpec, *, upper: bool, inclusive: bool
    ) -> tuple[datetime | float, bool] | None:
        """A parsed bound and whether it is inclusive, or ``None`` when unbounded (``*``)."""
        if node is None:
            return None
        sign = ""
        if isinstance(node, tree.Prohibit):
            # luqum reads the minus of [-1 TO 1] as a prohibition of the bound.
            sign, node = "-", node.a
        if not isinstance(node, (tree.Word, tree.Phrase)):
            raise self.error(f"a range bound on {spec.name!r} must be a single value", node)
        raw = node.value[1:-1] if isinstance(node, tree.Phrase) else _unescape(node.value)
        if raw == "*" and not sign:
            return None
        raw = sign + raw
        # A sign belongs to the bound: point at it.
        at = -len(sign)
        if spec.kind == "number":
            return self.number(node, spec.name, raw, offset=at), inclusive
        start = self.date(node, spec.name, raw, offset=at)
        if not _DATE_ONLY_RE.match(raw.strip()):
            return start, inclusive
        # A date-only bound stands for the whole day: [.. TO 2024-12-31] includes the 31st.
        next_day = start + timedelta(days=1)
        if upper:
            return (next_day, False) if inclusive else (start, False)
        return (start, True) if inclusive else (next_day, True)

    def single_value_range(self, node: tree.Item, field: str, raw: str) -> Range:
        """``published:2024-03-01`` (that whole day) or ``relevance:0.5`` (exactly)."""
        spec = FIELDS[field]
        if spec.kind == "number":
            number = self.number(node, field, raw)
            return Range(field, number, number, True, True)
        start = self.date(node, field, raw)
        if _DATE_ONLY_RE.match(raw.strip()):
            return Range(field, start, start + timedelta(days=1), True, False)
        return Range(field, start, start, True, True)

    def number(self, node: tree.Item, field: str, raw: str, *, offset: int = 0) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise self.error(f"{field!r} needs a number, not {raw!r}", node, offset) from None
        if not math.isfinite(value):
            raise self.error(f"{field!r} needs a finite number, not {raw!r}", node, offset)
        return value

    def date(self, node: tree.Item, field: str, raw: str, *, offset: int = 0) -> datetime:
        try:
            value = datetime.fromisoformat(raw.strip())
            utc = timezone.utc
            value = value.replace(tzinfo=utc) if value.tzinfo is None else value.astimezone(utc)
        except ValueError:
            raise self.error(
                f"{field!r} needs an ISO date such as 2024-01-31 or 2024-01-31T12:00:00Z, "
                f"not {raw!r}",
                node,
                offset,
            ) from None
        except OverflowError:  # 0001-01-01T00:00+05:00 is before year 1 in UTC
            value = MIN_DATE - timedelta(days=1)
        # Below MAX_DATE, so that a date-only bound's next day is still a date.
        if not MIN_DATE <= value < MAX_DATE:
            raise self.error(
                f"{field!r} dates must lie between {_DATE_SPAN}, not {raw!r}",
                node,
                offset,
            )
        return value


def _flatten(kind: type[And] | type[Or], nodes: list[Node]) -> Node:
    """Merge nested nodes of the same kind; drop MatchAll from ANDs; unwrap single clauses."""
    flat: list[Node] = []
    for node in nodes:
        if isinstance(node, kind):
            flat.extend(node.clauses)
        elif kind is And and isinstance(node, MatchAll):
            continue
        elif kind is Or and isinstance(node, MatchAll):
            return MatchAll()
        else:
            flat.append(node)
    if not flat:
        return MatchAll()
    if len(flat) == 1:
        return flat[0]
    return kind(tuple(flat))
