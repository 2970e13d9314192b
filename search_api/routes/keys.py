"""API key administration for admins (the same operations as ``osintel keys``), all audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, field_validator

from osintel import apikeys
from search_api.auth import Principal, require
from search_api.deps import StoreDep

router = APIRouter(tags=["keys"])

Role = Literal["analyst", "supervisor", "auditor", "partner", "admin"]


class KeyInfo(BaseModel):
    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


class NewKey(BaseModel):
    role: Role
    name: str = Field(min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        # Python's notion of whitespace (as apikeys.create_key strips it), not the schema regex's:
        # "\x1f" is blank to str.strip() but not to a pattern of \S.
        if not value.strip():
            raise ValueError("a key needs a name (who or what holds it)")
        return value


class CreatedKey(KeyInfo):
    secret: str = Field(description="shown once; store it safely")


@router.get("/keys", response_model=list[KeyInfo])
def list_keys(principal: Annotated[Principal, Depends(require("keys.admin"))], store: StoreDep) -> list[KeyInfo]:
    """Every key (never a secret), revoked ones included."""
    return [KeyInfo(**k.to_dict()) for k in apikeys.list_keys(store)]


@router.post("/keys", response_model=CreatedKey, status_code=201)
def create_key(body: NewKey, principal: Annotated[Principal, Depends(require("keys.admin"))],
               store: StoreDep) -> CreatedKey:
    """Create a key; the response carries its secret, which is never shown again."""
    key_id, secret = apikeys.create_key(store, role=body.role, name=body.name, actor=principal.actor)
    info = next(k for k in apikeys.list_keys(store) if k.key_id == key_id)
    return CreatedKey(**info.to_dict(), secret=secret)


@router.delete("/keys/{key_id}", response_model=KeyInfo)
def revoke_key(key_id: Annotated[str, Path(max_length=64)],
               principal: Annotated[Principal, Depends(require("keys.admin"))], store: StoreDep) -> KeyInfo:
    """Revoke a key and end its UI sessions (idempotent)."""
    return KeyInfo(**apikeys.revoke_key(store, key_id, actor=principal.actor).to_dict())
