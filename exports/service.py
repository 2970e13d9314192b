"""One export, end to end: select by query, gate by handling code, write, record the disclosure.

Both the command line (``osintel export``) and the API (``POST /api/exports``) call
:func:`run_export`. The output is written beside its final path and moved into place only after
the disclosure is in the audit log, so a file or feed never exists without its record.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer import Index
from osintel import audit
from osintel.errors import ExportError
from osintel.settings import Settings
from exports.registry import ExportContext, get_exporter
from exports.selection import conditions_allowed, load, select

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportRequest:
    """Who exports what, for whom and why.

    ``role`` decides whether handling-code C documents may be included (see
    :mod:`exports.selection`); ``include_conditional`` asks for them.
    """

    format: str
    query: str
    actor: str
    role: str
    recipient: str
    purpose: str | None = None
    include_conditional: bool = False


@dataclass
class ExportReport:
    """What an export produced (the ``--json`` output of ``osintel export``)."""

    format: str
    query: str
    output: str
    media_type: str
    count: int
    ids: list[str] = field(default_factory=list)
    withheld: int = 0
    missing: int = 0
    audit_seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format, "query": self.query, "output": self.output,
            "media_type": self.media_type, "count": self.count, "ids": self.ids,
            "withheld": self.withheld, "missing": self.missing, "audit_seq": self.audit_seq,
        }


def _prepare(output: Path, *, directory: bool) -> Path:
    """A fresh temporary sibling of ``output`` to write into; checks ``output`` can be replaced."""
    if not output.parent.is_dir():
        raise ExportError(f"cannot write {output}: directory {output.parent} does not exist")
    if directory:
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise ExportError(f"{output} exists and is not an empty directory")
    elif output.is_dir():
        raise ExportError(f"{output} is a directory; give a file name")
    tmp = output.with_name(f".{output.name}.partial-{uuid.uuid4().hex[:8]}")
    if directory:
        tmp.mkdir()
    return tmp


def _discard(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def run_export(index: Index, store: Any, settings: Settings, request: ExportRequest, output: Path) -> ExportReport:
    """Export the documents ``request.query`` selects to ``output`` and audit the disclosure.

    Raises :class:`~osintel.errors.DisseminationError` when the caller may not have what it
    asked for, :class:`~osintel.errors.ExportError` for a bad format or output, and
    :class:`~osintel.errors.QueryError` for a malformed query.
    """
    exporter = get_exporter(request.format)
    if not request.recipient.strip():
        raise ExportError("an export needs a recipient (who receives it goes into the audit log)")
    include_c = conditions_allowed(request.role, include_conditional=request.include_conditional,
                                   purpose=request.purpose)
    cfg = settings.export
    selection = select(index, store, request.query, include_conditional=include_c,
                       max_documents=cfg.max_documents, page_size=cfg.page_size,
                       phone_region=settings.nlp.phone_default_region)
    context = ExportContext(producer=cfg.producer_name, max_text_chars=cfg.max_text_chars)
    tmp = _prepare(output, directory=exporter.directory)
    try:
        count = exporter.export(load(store, selection, include_conditional=include_c), tmp, context=context)
        seq = audit.log_event(
            store, actor=request.actor, action="disclosure", purpose=request.purpose,
            detail={
                "kind": "export", "format": exporter.name, "query": request.query,
                "recipient": request.recipient, "role": request.role, "count": count,
                "ids": selection.ids, "include_conditional": include_c,
                "withheld": selection.withheld_count,
            },
        )
        if exporter.directory and output.is_dir():
            output.rmdir()  # checked empty above
        os.replace(tmp, output)
    except BaseException:
        _discard(tmp)
        raise
    log.info("exported %d documents as %s to %s for %s (audit #%d, %d withheld)",
             count, exporter.name, output, request.recipient, seq, selection.withheld_count)
    return ExportReport(
        format=exporter.name, query=request.query, output=str(output), media_type=exporter.media_type,
        count=count, ids=list(selection.ids), withheld=selection.withheld_count,
        missing=len(selection.missing), audit_seq=seq,
    )
