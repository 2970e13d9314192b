"""FastAPI dependencies: the settings, control store and index the routes receive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from osintel.settings import Settings
from osintel.store import ControlStore


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> ControlStore:
    return request.app.state.store


def get_index(request: Request) -> Any:
    return request.app.state.index


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ControlStore, Depends(get_store)]
IndexDep = Annotated[Any, Depends(get_index)]
