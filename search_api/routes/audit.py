"""The oversight record for auditors: read pages of it and verify its hash chain (read-only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from osintel import audit
from search_api.auth import Principal, require
from search_api.deps import PurposeDep, StoreDep

router = APIRouter(tags=["audit"])

Action = Literal["collection", "consultation", "disclosure", "alteration", "combination", "erasure"]


class AuditEventModel(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]
    purpose: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventModel]
    next_since: int | None


class VerifyResult(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    problem: str | None


@router.get("/audit", response_model=AuditPage)
def read_audit(
    principal: Annotated[Principal, Depends(require("audit.read"))], store: StoreDep, purpose: PurposeDep,
    since: Annotated[int, Query(ge=0, le=2**62, description="return events after this seq")] = 0,
    action: Action | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """A page of events in sequence order; pass ``next_since`` back as ``since`` for the next."""
    page = audit.events(store, since_seq=since, action=action, limit=limit)
    # Reading the record is itself recorded, after the page is read so it is not part of it.
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose,
                    detail={"kind": "audit.read", "since": since, "action": action, "returned": len(page)})
    return AuditPage(events=[AuditEventModel(**e.to_dict()) for e in page],
                     next_since=page[-1].seq if len(page) == limit else None)


@router.get("/audit/verify", response_model=VerifyResult)
def verify_audit(principal: Annotated[Principal, Depends(require("audit.read"))], store: StoreDep) -> VerifyResult:
    """Re-compute the hash chain and report the first broken row, if any."""
    return VerifyResult(**audit.verify(store).to_dict())
