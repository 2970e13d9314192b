"""Sources and their health: ``GET /api/sources`` (the same JSON as ``osintel sources --json``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from osintel.health import sources_report
from osintel.sources import SourceConfig, load_sources
from search_api.deps import SettingsDep, StoreDep

router = APIRouter(tags=["sources"])


@router.get("/sources")
def list_sources(request: Request, settings: SettingsDep, store: StoreDep) -> list[dict[str, Any]]:
    """Every configured source with its last crawl run and health flags."""
    # `osintel run` hands the app the sources it schedules; otherwise read the configured file.
    sources: SourceConfig | None = getattr(request.app.state, "sources", None)
    if sources is None:
        sources = load_sources(settings.sources_file)
    return sources_report(store, sources, settings)
