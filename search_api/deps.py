"""FastAPI dependencies: the settings, control store and index the routes receive."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from indexer import Index
from osintel.errors import ConfigError
from osintel.settings import Settings
from osintel.sources import SourceConfig, load_sources
from osintel.store import ControlStore


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ControlStore:
    store: ControlStore = request.app.state.store
    return store


def get_index(request: Request) -> Index:
    index: Index = request.app.state.index
    return index


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ControlStore, Depends(get_store)]
IndexDep = Annotated[Index, Depends(get_index)]


def get_purpose(
    x_purpose: Annotated[str | None, Header(max_length=500, description="why this is being consulted (recorded in the audit log)")] = None,
    purpose: Annotated[str | None, Query(max_length=500, description="why (recorded in the audit log); same as the X-Purpose header")] = None,
) -> str | None:
    """The caller's stated purpose, from the ``X-Purpose`` header or the ``purpose`` parameter."""
    return x_purpose or purpose or None


PurposeDep = Annotated[str | None, Depends(get_purpose)]


def get_sources(request: Request) -> SourceConfig | None:
    """The sources `osintel run` handed the app, else the configured file (None if unreadable)."""
    sources: SourceConfig | None = getattr(request.app.state, "sources", None)
    if sources is not None:
        return sources
    path = Path(request.app.state.settings.sources_file)
    try:
        stat = path.stat()
        return _parsed_sources(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, ConfigError):
        # Retention then falls back to the default policy; `osintel sources` reports the file.
        return None


@lru_cache(maxsize=4)
def _parsed_sources(path: Path, mtime_ns: int, size: int) -> SourceConfig:
    # Every document view needs the sources' retention policy: parse the YAML once per version
    # of the file (keyed on its modification time and size), not once per request.
    return load_sources(path)


SourcesDep = Annotated[SourceConfig | None, Depends(get_sources)]
