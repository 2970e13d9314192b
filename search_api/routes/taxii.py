"""TAXII 2.1 read API (OASIS TAXII 2.1, §4-5), mounted at ``/taxii2/``.

One API root (``/taxii2/osintel/``) with one collection, ``osintel-documents``: the STIX 2.1
objects of every enriched document whose handling code is P, in the order the documents were
(last) enriched, which is each object's ``date_added``. Handling-code C documents are never
served: a standing feed has no per-request purpose to justify a conditional disclosure.

Objects shared by several documents (a source's Identity, a place, a method) are served again
with each document that refers to them (same id and version), so a client that starts at any
``added_after`` receives everything its reports refer to; within one page each appears once.

Supported: ``added_after``, ``limit`` (default and maximum from ``[export]``), ``next`` (an
opaque position, bound to the filters it was issued with), ``match[id]``, ``match[type]``,
``match[version]`` (one version per object: ``last``, ``first``, ``all`` or its timestamp) and
``match[spec_version]`` (``2.1``); ``X-TAXII-Date-Added-First``/``-Last`` headers; the TAXII media
type ``application/taxii+json;version=2.1`` (406 for an Accept header that excludes it).
Authentication: permission ``taxii`` (API key in ``X-API-Key``). Every page of objects is a
"disclosure" audit event naming the documents served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from osintel import audit
from osintel.records import Document
from search_api.auth import Principal, require
from search_api.deps import SettingsDep, StoreDep
from exports.common import grading_of, stable_uuid
from exports.registry import ExportContext
from exports.selection import is_shareable
from exports.stix import STIX_MEDIA_TYPE, document_objects, to_dict

log = logging.getLogger(__name__)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "osintel"
COLLECTION_ALIAS = "osintel-documents"
COLLECTION_ID = str(stable_uuid("taxii-collection", COLLECTION_ALIAS))
_DOC_BATCH = 50
#: Documents one request may examine; past it the page ends early with ``more`` (bounds the
#: latency of a rare ``match[...]``, which otherwise scans the whole collection).
SCAN_BUDGET = 2000
#: Position meaning "after every object of the document".
_DOC_END = 1 << 30

router = APIRouter(tags=["taxii"])
TaxiiPrincipal = Annotated[Principal, Depends(require("taxii"))]


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA_TYPE


class _Failure(Exception):
    def __init__(self, status: int, title: str, description: str) -> None:
        super().__init__(description)
        self.status, self.title, self.description = status, title, description

    def response(self) -> TaxiiResponse:
        return TaxiiResponse({"title": self.title, "description": self.description,
                              "http_status": str(self.status)}, status_code=self.status)


def _accepts_taxii(request: Request) -> None:
    accept = request.headers.get("accept", "").lower().replace(" ", "")
    if not accept:
        return
    for item in accept.split(","):
        media, _, params = item.partition(";")
        if media in ("*/*", "application/*"):
            return
        if media == "application/taxii+json" and (not params or "version=2.1" in params.split(";")):
            return
    raise _Failure(406, "Not Acceptable", f"this server speaks {TAXII_MEDIA_TYPE}")


def _check(request: Request, api_root: str | None = None, collection_id: str | None = None) -> None:
    _accepts_taxii(request)
    if api_root is not None and api_root != API_ROOT:
        raise _Failure(404, "Unknown API root", f"no API root {api_root!r}")
    if collection_id is not None and collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        raise _Failure(404, "Unknown collection", f"no collection {collection_id!r}")


def _timestamp(value: str) -> str:
    """A stored ISO time as a TAXII timestamp (UTC, ``Z``). Microsecond precision, as stored, so
    that ``added_after`` = a page's ``X-TAXII-Date-Added-Last`` resumes exactly after it."""
    when = datetime.fromisoformat(value).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str, name: str) -> str:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _Failure(400, "Bad Request", f"{name} {value!r} is not an RFC 3339 timestamp") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class _Filters:
    added_after: str | None
    ids: frozenset[str]
    types: frozenset[str]
    versions: frozenset[str]
    spec_versions: frozenset[str]

    def digest(self) -> str:
        data = [self.added_after, sorted(self.ids), sorted(self.types), sorted(self.versions),
                sorted(self.spec_versions)]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:12]

    def keep(self, obj: dict[str, Any]) -> bool:
        if self.ids and obj["id"] not in self.ids:
            return False
        if self.types and obj["type"] not in self.types:
            return False
        if self.spec_versions and obj.get("spec_version", "2.1") not in self.spec_versions:
            return False
        wanted = self.versions - {"last", "first", "all"}
        if wanted and obj.get("modified", obj.get("created")) not in wanted:
            return False
        return True


def _split(values: str | None) -> frozenset[str]:
    return frozenset(v.strip() for v in (values or "").split(",") if v.strip())


def _encode_next(position: tuple[str, str, int], filters: _Filters) -> str:
    raw = json.dumps([*position, filters.digest()]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_next(token: str, filters: _Filters) -> tuple[str, str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        enriched_at, doc_id, index, digest = json.loads(raw)
        position = (str(enriched_at), str(doc_id), int(index))
    except (ValueError, TypeError):
        raise _Failure(400, "Bad Request", "next is not a token this server issued") from None
    if digest != filters.digest():
        raise _Failure(400, "Bad Request", "next was issued for other filters; repeat them unchanged")
    return position


class _ObjectCache:
    """The STIX objects of recently served documents, keyed by (id, enriched_at): partners
    polling the same recent pages should not rebuild them (about 5 ms a document)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str, ExportContext], list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, doc: Document, enriched_at: str, context: ExportContext) -> list[dict[str, Any]]:
        # The grading is in the key: a regrade changes markings and confidence, not enriched_at.
        key = (doc.id, enriched_at, grading_of(doc).code, context)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        objects = [to_dict(o) for o in document_objects(doc, context)]
        with self._lock:
            self._items[key] = objects
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return objects


_CACHE = _ObjectCache()


def _objects_of(doc: Document, enriched_at: str, context: ExportContext) -> list[dict[str, Any]]:
    return _CACHE.get(doc, enriched_at, context)


def _stream(store: Any, context: ExportContext, filters: _Filters,
            start: tuple[str, str, int] | None) -> Iterator[tuple[str, str, int, dict[str, Any] | None]]:
    """``(date_added, doc_id, position in the document, object)`` in feed order after ``start``;
    after each document examined, ``(date_added, doc_id, _DOC_END, None)``."""
    if start is not None:
        after: tuple[str, str] | None = (start[0], "")  # re-read the partly served document
    elif filters.added_after is not None:
        after = (filters.added_after, "\U0010ffff")  # every id sorts before: strictly later times
    else:
        after = None
    while True:
        batch = store.documents_enriched_after(after, limit=_DOC_BATCH)
        if not batch:
            return
        for enriched_at, doc in batch:
            after = (enriched_at, doc.id)
            if start is not None and (enriched_at, doc.id) < start[:2]:
                continue
            if filters.added_after is not None and enriched_at <= filters.added_after:
                continue
            if not is_shareable(doc):
                yield enriched_at, doc.id, _DOC_END, None
                continue
            objects = [o for o in _objects_of(doc, enriched_at, context) if filters.keep(o)]
            for position, obj in enumerate(objects):
                if start is not None and (enriched_at, doc.id) == start[:2] and position <= start[2]:
                    continue
                yield enriched_at, doc.id, position, obj
            yield enriched_at, doc.id, _DOC_END, None


@dataclass
class _Page:
    objects: list[tuple[str, dict[str, Any]]]
    doc_ids: list[str]
    next: str | None


def _page(store: Any, settings: Any, filters: _Filters, limit: int | None, next_token: str | None) -> _Page:
    cfg = settings.export
    limit = cfg.taxii_default_limit if limit is None else min(limit, cfg.taxii_max_limit)
    start = _decode_next(next_token, filters) if next_token else None
    context = ExportContext(producer=cfg.producer_name, max_text_chars=cfg.max_text_chars)
    stream = _stream(store, context, filters, start)
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    docs: dict[str, None] = {}
    last: tuple[str, str, int] | None = None
    scanned = 0
    for enriched_at, doc_id, position, obj in stream:
        if obj is None:
            scanned += 1
            last = (enriched_at, doc_id, position)
            if scanned >= SCAN_BUDGET:  # more may follow: let the client ask with next
                return _Page(out, list(docs), _encode_next(last, filters))
            continue
        if len(out) >= limit:
            return _Page(out, list(docs), _encode_next(last, filters) if last else None)  # one more exists
        last = (enriched_at, doc_id, position)
        key = f"{obj['id']}|{obj.get('modified', '')}"
        if key in seen:
            continue  # already on this page
        seen.add(key)
        docs[doc_id] = None
        out.append((enriched_at, obj))
    return _Page(out, list(docs), None)


def _filters(added_after: str | None, match_id: str | None, match_type: str | None,
             match_version: str | None, match_spec_version: str | None) -> _Filters:
    return _Filters(
        added_after=_parse_time(added_after, "added_after") if added_after else None,
        ids=_split(match_id), types=_split(match_type), versions=_split(match_version),
        spec_versions=_split(match_spec_version),
    )


def _envelope(page: _Page, body: list[dict[str, Any]]) -> TaxiiResponse:
    data: dict[str, Any] = {"more": page.next is not None}
    if page.next:
        data["next"] = page.next
    if body:
        data["objects"] = body
    headers = {}
    if page.objects:
        headers["X-TAXII-Date-Added-First"] = _timestamp(page.objects[0][0])
        headers["X-TAXII-Date-Added-Last"] = _timestamp(page.objects[-1][0])
    return TaxiiResponse(data, headers=headers)


def _audit(store: Any, principal: Principal, endpoint: str, page: _Page, filters: _Filters) -> None:
    if not page.objects:
        return
    audit.log_event(store, actor=principal.actor, action="disclosure", detail={
        "kind": "taxii", "format": "stix", "endpoint": endpoint, "collection": COLLECTION_ALIAS,
        "recipient": principal.name, "role": principal.role, "count": len(page.objects),
        "ids": page.doc_ids, "query": {"added_after": filters.added_after, "match_id": sorted(filters.ids),
                                       "match_type": sorted(filters.types)},
    })


# --- endpoints ------------------------------------------------------------------------------

_Limit = Annotated[int | None, Query(ge=1)]
_Next = Annotated[str | None, Query(alias="next", description="the next value of the previous page")]
_MatchId = Annotated[str | None, Query(alias="match[id]")]
_MatchType = Annotated[str | None, Query(alias="match[type]")]
_MatchVersion = Annotated[str | None, Query(alias="match[version]")]
_MatchSpec = Annotated[str | None, Query(alias="match[spec_version]")]


@router.get("/", response_class=TaxiiResponse)
def discovery(request: Request, principal: TaxiiPrincipal, settings: SettingsDep) -> TaxiiResponse:
    """TAXII server discovery: the one API root."""
    try:
        _check(request)
    except _Failure as failure:
        return failure.response()
    root = str(request.url_for("api_root", api_root=API_ROOT))
    return TaxiiResponse({
        "title": f"{settings.export.producer_name} TAXII 2.1",
        "description": "STIX 2.1 objects of the documents osintel collected (handling code P only)",
        "default": root, "api_roots": [root],
    })


@router.get("/{api_root}/", response_class=TaxiiResponse)
def api_root(request: Request, api_root: str, principal: TaxiiPrincipal) -> TaxiiResponse:
    """The API root's information."""
    try:
        _check(request, api_root)
    except _Failure as failure:
        return failure.response()
    return TaxiiResponse({"title": "osintel", "versions": [TAXII_MEDIA_TYPE], "max_content_length": 104857600})


def _collection() -> dict[str, Any]:
    return {"id": COLLECTION_ID, "title": "osintel documents", "alias": COLLECTION_ALIAS,
            "description": "One STIX Report per collected document, with its source, places, methods and identifiers",
            "can_read": True, "can_write": False, "media_types": [STIX_MEDIA_TYPE]}


@router.get("/{api_root}/collections/", response_class=TaxiiResponse)
def collections(request: Request, api_root: str, principal: TaxiiPrincipal) -> TaxiiResponse:
    """The collections of the API root."""
    try:
        _check(request, api_root)
    except _Failure as failure:
        return failure.response()
    return TaxiiResponse({"collections": [_collection()]})


@router.get("/{api_root}/collections/{collection_id}/", response_class=TaxiiResponse)
def collection(request: Request, api_root: str, collection_id: str, principal: TaxiiPrincipal) -> TaxiiResponse:
    """One collection."""
    try:
        _check(request, api_root, collection_id)
    except _Failure as failure:
        return failure.response()
    return TaxiiResponse(_collection())


@router.get("/{api_root}/collections/{collection_id}/objects/", response_class=TaxiiResponse)
def objects(
    request: Request, api_root: str, collection_id: str, principal: TaxiiPrincipal, store: StoreDep,
    settings: SettingsDep, added_after: str | None = None, limit: _Limit = None,
    next_token: _Next = None, match_id: _MatchId = None, match_type: _MatchType = None,
    match_version: _MatchVersion = None, match_spec_version: _MatchSpec = None,
) -> TaxiiResponse:
    """A page of the collection's objects, filtered, with ``more``/``next`` paging."""
    try:
        _check(request, api_root, collection_id)
        filters = _filters(added_after, match_id, match_type, match_version, match_spec_version)
        page = _page(store, settings, filters, limit, next_token)
    except _Failure as failure:
        return failure.response()
    _audit(store, principal, "objects", page, filters)
    return _envelope(page, [obj for _, obj in page.objects])


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse)
def object_by_id(
    request: Request, api_root: str, collection_id: str, object_id: str, principal: TaxiiPrincipal,
    store: StoreDep, settings: SettingsDep, added_after: str | None = None, limit: _Limit = None,
    next_token: _Next = None, match_version: _MatchVersion = None, match_spec_version: _MatchSpec = None,
) -> TaxiiResponse:
    """One object (every version: here there is one), or 404."""
    try:
        _check(request, api_root, collection_id)
        filters = _filters(added_after, object_id, None, match_version, match_spec_version)
        page = _page(store, settings, filters, limit, next_token)
        if not page.objects and not next_token:
            raise _Failure(404, "Not Found", f"no object {object_id!r} in this collection")
    except _Failure as failure:
        return failure.response()
    _audit(store, principal, "object", page, filters)
    return _envelope(page, [page.objects[0][1]] if page.objects else [])


@router.get("/{api_root}/collections/{collection_id}/manifest/", response_class=TaxiiResponse)
def manifest(
    request: Request, api_root: str, collection_id: str, principal: TaxiiPrincipal, store: StoreDep,
    settings: SettingsDep, added_after: str | None = None, limit: _Limit = None,
    next_token: _Next = None, match_id: _MatchId = None, match_type: _MatchType = None,
    match_version: _MatchVersion = None, match_spec_version: _MatchSpec = None,
) -> TaxiiResponse:
    """Ids, versions and ``date_added`` of the collection's objects (no content)."""
    try:
        _check(request, api_root, collection_id)
        filters = _filters(added_after, match_id, match_type, match_version, match_spec_version)
        page = _page(store, settings, filters, limit, next_token)
    except _Failure as failure:
        return failure.response()
    body = [{"id": obj["id"], "date_added": _timestamp(when),
             "version": obj.get("modified", obj.get("created", _timestamp(when))),
             "media_type": STIX_MEDIA_TYPE} for when, obj in page.objects]
    return _envelope(page, body)
