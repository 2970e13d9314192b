"""Exports through the API: ``POST /api/exports`` returns the file in the asked format.

Permission ``export`` (analysts, supervisors, partners). A partner never receives handling-code
C documents; a supervisor may include them with ``include_conditional`` and a ``purpose``. The
response carries the count, withheld count and audit sequence number in headers; the export
itself is a "disclosure" audit event (recipient: the body's ``recipient`` or the key's name).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from osintel.errors import ExportError
from search_api.auth import Principal, require
from search_api.deps import IndexDep, SettingsDep, StoreDep
from exports.registry import get_exporter
from exports.service import ExportRequest, run_export

router = APIRouter(tags=["exports"])


class ExportBody(BaseModel):
    """What to export, for whom and why."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(description="stix, misp, ndjson or csv")
    query: str = Field(max_length=2000, description="analyst query selecting the documents ('*' for all)")
    recipient: str | None = Field(default=None, max_length=200,
                                  description="who receives it; defaults to the API key's name")
    purpose: str | None = Field(default=None, max_length=500, description="why it is disclosed")
    include_conditional: bool = Field(default=False,
                                      description="include handling-code C documents (supervisors, with a purpose)")


@router.post("/exports", response_class=FileResponse,
             responses={200: {"description": "the export file", "content": {
                 "application/stix+json;version=2.1": {}, "application/json": {},
                 "application/x-ndjson": {}, "text/csv": {}}}})
def create_export(
    body: ExportBody,
    principal: Annotated[Principal, Depends(require("export"))],
    index: IndexDep,
    store: StoreDep,
    settings: SettingsDep,
) -> FileResponse:
    exporter = get_exporter(body.format)
    if exporter.directory:
        raise ExportError(f"format {body.format!r} is a directory; make it with `osintel export`")
    workdir = Path(tempfile.mkdtemp(prefix="osintel-export-"))
    try:
        report = run_export(
            index, store, settings,
            ExportRequest(format=body.format, query=body.query, actor=principal.actor, role=principal.role,
                          recipient=body.recipient or principal.name, purpose=body.purpose,
                          include_conditional=body.include_conditional),
            workdir / f"export{exporter.suffix}",
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return FileResponse(
        report.output, media_type=exporter.media_type, filename=f"osintel-export{exporter.suffix}",
        headers={"X-Osintel-Count": str(report.count), "X-Osintel-Withheld": str(report.withheld),
                 "X-Osintel-Audit-Seq": str(report.audit_seq)},
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )
