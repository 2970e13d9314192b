"""Sources and their health: ``GET /api/sources`` (the same JSON as ``osintel sources --json``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from osintel.errors import ConfigError
from osintel.service.health import sources_report
from search_api.auth import Principal, require
from search_api.deps import SettingsDep, SourcesDep, StoreDep

router = APIRouter(tags=["sources"])


@router.get("/sources")
def list_sources(
    principal: Annotated[Principal, Depends(require("sources.view"))],
    settings: SettingsDep, store: StoreDep, sources: SourcesDep,
) -> list[dict[str, Any]]:
    """Every configured source with its last crawl run and health flags."""
    if sources is None:
        raise ConfigError(f"the sources file {settings.sources_file} cannot be read; run `osintel sources`")
    return sources_report(store, sources, settings)
