"""UI login sessions: ``POST /api/session`` logs in with an API key, ``DELETE`` logs out.

The session token travels only in an HttpOnly, SameSite=Strict cookie (scripts cannot read it,
other sites cannot send it); the store keeps its hash and expiry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from osintel import apikeys
from search_api.auth import SESSION_COOKIE, Principal, public, require
from search_api.deps import SettingsDep, StoreDep

router = APIRouter(tags=["session"])


class LoginRequest(BaseModel):
    api_key: str = Field(min_length=1, max_length=200, description="the analyst's API key secret")


class SessionInfo(BaseModel):
    key_id: str
    name: str
    role: str


@router.post("/session", response_model=SessionInfo,
             dependencies=[Depends(public("the login itself: it checks the key it is given"))])
def login(body: LoginRequest, response: Response, store: StoreDep, settings: SettingsDep) -> SessionInfo:
    """Exchange an API key for a session cookie (the web UI's login)."""
    key = apikeys.authenticate(store, body.api_key)
    if key is None:
        raise HTTPException(401, detail={"code": "bad_credentials", "message": "that API key is unknown or revoked"})
    token = apikeys.create_session(store, key, ttl_seconds=settings.api.session_ttl_seconds)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.api.session_ttl_seconds, httponly=True,
                        samesite="strict", secure=settings.api.cookie_secure, path="/")
    return SessionInfo(key_id=key.key_id, name=key.name, role=key.role)


@router.get("/session", response_model=SessionInfo)
def whoami(principal: Annotated[Principal, Depends(require("authenticated"))]) -> SessionInfo:
    """Who the credentials belong to."""
    return SessionInfo(key_id=principal.key_id, name=principal.name, role=principal.role)


@router.delete("/session", status_code=204,
               dependencies=[Depends(public("logging out needs no permission; it only ends the caller's own session"))])
def logout(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """End the session in the cookie (if any) and clear the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        apikeys.end_session(store, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=settings.api.cookie_secure)
    return response
