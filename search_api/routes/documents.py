"""Single documents from the store of record: provenance, assessments, capture, regrading, holds.

Viewing a document and downloading its capture are consultations; regrading and legal holds are
alterations. Each is logged in the oversight record.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path as PathParam, Response
from pydantic import BaseModel, Field, field_validator
from warcio.archiveiterator import ArchiveIterator

from osintel import audit

from osintel.service import retention
from osintel.errors import IndexBackendError, NotFoundError
from osintel.grading import regrade
from osintel.records import Capture, CrimeType, Document, Entity, Grading, Location, MethodHit, SourceRef
from osintel.store import ControlStore
from search_api.auth import Principal, require
from search_api.deps import IndexDep, PurposeDep, SettingsDep, SourcesDep, StoreDep

router = APIRouter(tags=["documents"])

DocId = Annotated[str, PathParam(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Provenance(BaseModel):
    source: SourceRef
    grading: str | None
    capture: Capture | None
    previous_captures: list[dict[str, Any]]
    capture_url: str | None = Field(description="where to download the captured bytes")
    collected_at: datetime


class Assessments(BaseModel):
    """NLP output: assessments beside the captured text, each with its evidence."""

    language: str | None
    language_confidence: float | None
    entities: list[Entity]
    methods: list[MethodHit]
    crime_types: list[CrimeType] = Field(
        default_factory=list, description="crime types (Home Office offence groups), each with its evidence sentence"
    )
    locations: list[Location]
    relevance: float
    relevance_explanation: dict[str, float]
    duplicate_of: str | None
    cluster_id: str | None
    enrichment: dict[str, str]


class Retention(BaseModel):
    review_at: datetime
    legal_hold: dict[str, Any] | None


class DocumentView(BaseModel):
    id: str
    url: str
    canonical_url: str
    title: str
    text: str
    author: str | None
    author_handle: str | None
    published_at: datetime | None
    provenance: Provenance
    assessments: Assessments
    retention: Retention


class RegradeRequest(BaseModel):
    grading: str = Field(description="3x5x2 code such as 2BP", max_length=10)
    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("grading")
    @classmethod
    def _code(cls, value: str) -> str:
        return Grading.parse(value).code


class HoldRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


def _load(store: ControlStore, doc_id: str) -> Document:
    doc = store.get_document(doc_id)
    if doc is None:
        raise NotFoundError(f"no document with id {doc_id!r}")
    return doc


def document_view(doc: Document, store: Any, sources: Any, default_days: int) -> DocumentView:
    """The API form of a stored document."""
    days = retention.source_days(sources, doc.source.id, default_days)
    return DocumentView(
        id=doc.id, url=doc.url, canonical_url=doc.canonical_url, title=doc.title, text=doc.text,
        author=doc.author, author_handle=doc.author_handle, published_at=doc.published_at,
        provenance=Provenance(
            source=doc.source, grading=doc.grading.code if doc.grading else None, capture=doc.capture,
            previous_captures=list(doc.extra.get("previous_captures", [])),
            capture_url=f"/api/documents/{doc.id}/capture" if doc.capture and doc.capture.record_id else None,
            collected_at=doc.collected_at,
        ),
        assessments=Assessments(
            language=doc.language, language_confidence=doc.language_confidence, entities=doc.entities,
            methods=doc.methods, crime_types=doc.crime_types, locations=doc.locations, relevance=doc.relevance,
            relevance_explanation=doc.relevance_explanation, duplicate_of=doc.duplicate_of,
            cluster_id=doc.cluster_id, enrichment=doc.enrichment,
        ),
        retention=Retention(
            review_at=retention.review_date(collected_at=doc.collected_at, explicit=doc.retention_review_at,
                                            days=days),
            legal_hold=retention.hold(store, doc.id),
        ),
    )


@router.get("/documents/{doc_id}", response_model=DocumentView)
def get_document(
    doc_id: DocId, principal: Annotated[Principal, Depends(require("document.view"))],
    store: StoreDep, settings: SettingsDep, sources: SourcesDep, purpose: PurposeDep,
) -> DocumentView:
    """One document with its provenance and NLP assessments (with evidence)."""
    doc = _load(store, doc_id)
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose,
                    detail={"kind": "document.view", "doc_id": doc_id})
    return document_view(doc, store, sources, settings.retention.default_days)


def read_capture(data_dir: Path, capture: Capture) -> bytes:
    """The payload bytes of ``capture``'s WARC record (after the HTTP headers), as recorded."""
    if not capture.warc_file or not capture.record_id:
        raise NotFoundError("this document has no WARC capture")
    root = Path(os.path.abspath(data_dir))
    path = Path(os.path.abspath(root / capture.warc_file))
    if root not in path.parents or not path.is_file():
        raise NotFoundError(f"WARC file {capture.warc_file!r} is not in the evidence store")
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh, no_record_parse=True):
            if record.rec_headers.get_header("WARC-Record-ID") != capture.record_id:
                continue
            block: bytes = record.raw_stream.read()
            content_type = record.rec_headers.get_header("Content-Type") or ""
            if record.rec_type in ("response", "request") and content_type.startswith("application/http"):
                head, sep, body = block.partition(b"\r\n\r\n")
                return body if sep else b""
            return block
    raise NotFoundError(f"record {capture.record_id} is not in {capture.warc_file}")


@router.get("/documents/{doc_id}/capture", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the captured bytes"}})
def get_capture(
    doc_id: DocId, principal: Annotated[Principal, Depends(require("document.capture"))],
    store: StoreDep, settings: SettingsDep, purpose: PurposeDep,
) -> Response:
    """The original captured bytes, as an attachment (never rendered: crawled HTML is hostile)."""
    doc = _load(store, doc_id)
    if doc.capture is None:
        raise NotFoundError(f"document {doc_id!r} has no capture")
    if doc.capture.warc_file and doc.capture.record_id and retention.erased_capture(
            store, doc.capture.warc_file, doc.capture.record_id):
        raise NotFoundError(f"the capture of {doc_id!r} was erased under the retention policy")
    body = read_capture(Path(settings.data_dir), doc.capture)
    digest = hashlib.sha256(body).hexdigest()
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose, detail={
        "kind": "capture.download", "doc_id": doc_id, "warc_file": doc.capture.warc_file,
        "record_id": doc.capture.record_id, "sha256": digest,
    })
    return Response(body, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{doc_id}.capture"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        # Crawled metadata: only printable ASCII may reach a response header.
        "X-Capture-Content-Type": re.sub(r"[^\x20-\x7e]", "", doc.capture.content_type or "unknown")[:200],
        "X-Capture-SHA256": digest,
        "X-Capture-Verified": "yes" if digest == doc.capture.sha256 else "no",
    })


@router.post("/documents/{doc_id}/grading", response_model=DocumentView)
def set_grading(
    doc_id: DocId, body: RegradeRequest, principal: Annotated[Principal, Depends(require("regrade"))],
    store: StoreDep, index: IndexDep, settings: SettingsDep, sources: SourcesDep, purpose: PurposeDep,
) -> DocumentView:
    """Regrade a document (supervisors): the store of record first, then the index."""
    doc = regrade(store, doc_id, Grading.parse(body.grading), actor=principal.actor, reason=body.reason,
                  purpose=purpose)
    try:
        if index.get(doc_id) is not None:  # not yet indexed: the worker will index the new grading
            index.upsert([doc])
    except IndexBackendError as exc:
        raise IndexBackendError(f"grading saved, but the index was not updated ({exc}); "
                                "re-run the regrade or rebuild the index") from exc
    return document_view(doc, store, sources, settings.retention.default_days)


@router.put("/documents/{doc_id}/hold", response_model=Retention)
def put_hold(
    doc_id: DocId, body: HoldRequest, principal: Annotated[Principal, Depends(require("retention"))],
    store: StoreDep, settings: SettingsDep, sources: SourcesDep, purpose: PurposeDep,
) -> Retention:
    """Place a legal hold: retention will not erase the document until it is released."""
    retention.set_hold(store, doc_id, actor=principal.actor, reason=body.reason, purpose=purpose)
    return document_view(_load(store, doc_id), store, sources, settings.retention.default_days).retention


@router.delete("/documents/{doc_id}/hold", response_model=Retention)
def delete_hold(
    doc_id: DocId, principal: Annotated[Principal, Depends(require("retention"))],
    store: StoreDep, settings: SettingsDep, sources: SourcesDep, purpose: PurposeDep,
) -> Retention:
    """Release a legal hold (the document is erased at its next retention run if past review)."""
    doc = _load(store, doc_id)
    retention.release_hold(store, doc_id, actor=principal.actor, purpose=purpose)
    return document_view(doc, store, sources, settings.retention.default_days).retention
