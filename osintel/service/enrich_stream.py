"""Stateless enrichment of JSON lines (``osintel enrich --input/--output``).

Documents in, enriched documents out, in input order and in batches; no data directory, store or
index is touched. A line that is not a document, or a document the NLP stage cannot enrich, is
reported with its line number and the run goes on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError

from osintel.errors import OsintelError
from osintel.records import Document

if TYPE_CHECKING:
    from osintel.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress that goes nowhere."""


@dataclass
class StreamReport:
    """What one :func:`enrich_jsonl` run did. ``invalid`` lines were not documents; ``failed``
    documents could not be enriched; neither is written to the output."""

    read: int = 0
    written: int = 0
    invalid: int = 0
    failed: int = 0
    seconds: float = 0.0


#: Called with (line number, reason) for every line that is not written to the output.
Problem = Callable[[int, str], None]


def document_from_line(line: bytes | str) -> Document:
    """Build a Document from one JSON line of ``osintel enrich --input``.

    ``id`` and ``text`` are required; any other :class:`Document` field may be given (a line
    written by ``--output`` reads back unchanged). Without ``url`` the document gets
    ``urn:osintel:input:<id>``; without ``source``, the source ``input`` (a string is a source id).
    Raises ValueError saying what is wrong.
    """
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    doc_id = obj.get("id")
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise ValueError("'id' must be a non-empty string")
    if not isinstance(obj.get("text"), str):
        raise ValueError("'text' must be a string")
    data = dict(obj)
    data.setdefault("url", f"urn:osintel:input:{doc_id}")
    source = data.setdefault("source", {"id": "input", "name": "input", "kind": "input"})
    if isinstance(source, str):
        data["source"] = {"id": source}
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


def enrich_jsonl(
    settings: Settings,
    source: IO[bytes],
    sink: IO[str],
    *,
    enricher: Any = None,
    progress: Progress = _quiet,
    problem: Problem | None = None,
) -> StreamReport:
    """Stateless enrichment (``osintel enrich --input``): Documents as JSON lines in, enriched
    JSON lines out, in input order. No data directory, store or index is touched.

    Lines are read and enriched in batches of ``nlp.batch_size`` (the input is never loaded
    whole). Blank lines are skipped; a line that is not a document, or a document the NLP stage
    cannot enrich, is reported to ``problem`` with its line number and counted, and the run goes
    on. Near-duplicates are clustered within this run only.
    """
    report = StreamReport()
    problem = problem or (lambda n, msg: log.warning("line %d: %s", n, msg))
    started = time.perf_counter()
    if enricher is None:
        progress("loading NLP models")
        from osintel.service.commands import build_enricher  # the wiring module; imported when needed

        enricher = build_enricher(settings)
        progress(f"models loaded in {time.perf_counter() - started:.1f}s")
    batch: list[tuple[int, Document]] = []

    def flush() -> None:
        good, bad = enrich_each(enricher, [doc for _, doc in batch])
        for n, (number, _) in enumerate(batch):
            if n in bad:
                report.failed += 1
                problem(number, bad[n])
            else:
                sink.write(good[n].to_json() + "\n")
                report.written += 1
        sink.flush()
        batch.clear()
        progress(f"enriched {report.written} document(s); {report.invalid} invalid line(s),"
                 f" {report.failed} failed")

    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        report.read += 1
        try:
            batch.append((number, document_from_line(raw)))
        except ValueError as exc:
            report.invalid += 1
            problem(number, str(exc))
            continue
        if len(batch) >= settings.nlp.batch_size:
            flush()
    if batch:
        flush()
    report.seconds = time.perf_counter() - started
    return report


def enrich_each(enricher: Any, docs: list[Document]) -> tuple[dict[int, Document], dict[int, str]]:
    """Enrich a batch; if it fails, one by one, so one bad document holds up no other.

    Returns ``({position: enriched}, {position: error})``.
    """
    try:
        return dict(enumerate(enricher.enrich(docs))), {}
    except OsintelError as exc:
        if len(docs) == 1:
            return {}, {0: f"{type(exc).__name__}: {exc}"}
    good: dict[int, Document] = {}
    bad: dict[int, str] = {}
    for n, doc in enumerate(docs):
        try:
            good[n] = enricher.enrich([doc])[0]
        except OsintelError as exc:
            bad[n] = f"{type(exc).__name__}: {exc}"
    return good, bad
