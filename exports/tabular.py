"""Plain formats: NDJSON (the full record, one document per line) and CSV (one row per
document, for spreadsheets; every cell is guarded against formula injection)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from osintel.records import Document
from exports.common import clean_text, grading_of, spreadsheet_safe
from exports.registry import ExportContext

#: CSV columns, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "id", "url", "title", "source", "published_at", "collected_at", "language", "grading",
    "relevance", "methods", "categories", "crime_types", "places", "countries", "identifiers",
)

#: Entity labels exported as identifiers (names of people and organisations are not).
IDENTIFIER_LABELS = frozenset({
    "URL", "DOMAIN", "IP_ADDRESS", "EMAIL", "HANDLE", "PHONE", "BTC_ADDRESS", "ETH_ADDRESS",
    "XMR_ADDRESS", "IBAN", "UK_SORT_CODE", "VEHICLE_PLATE", "IMO",
})


class NdjsonExporter:
    """One :class:`~osintel.records.Document` JSON object per line (``--format ndjson``)."""

    name = "ndjson"
    media_type = "application/x-ndjson"
    suffix = ".ndjson"
    directory = False

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        count = 0
        with target.open("w", encoding="utf-8") as fh:
            for doc in docs:
                fh.write(doc.to_json())
                fh.write("\n")
                count += 1
        return count


def csv_row(doc: Document) -> list[str]:
    """The CSV cells of one document (see :data:`CSV_COLUMNS`)."""
    identifiers = dict.fromkeys(
        f"{e.label}:{e.normalized or e.text}" for e in doc.entities if e.label in IDENTIFIER_LABELS
    )
    cells = [
        doc.id, doc.url, doc.title, doc.source.id,
        doc.published_at.isoformat() if doc.published_at else "", doc.collected_at.isoformat(),
        doc.language or "", grading_of(doc).code, f"{doc.relevance:.3f}",
        ";".join(dict.fromkeys(m.id for m in doc.methods)),
        ";".join(dict.fromkeys(m.category for m in doc.methods)),
        ";".join(dict.fromkeys(c.id for c in doc.crime_types)),
        ";".join(dict.fromkeys(p.name for p in doc.locations)),
        ";".join(dict.fromkeys(p.country_code for p in doc.locations if p.country_code)),
        ";".join(identifiers),
    ]
    return [spreadsheet_safe(clean_text(cell)) for cell in cells]


class CsvExporter:
    """One row per document (``--format csv``): RFC 4180, UTF-8 with a header row."""

    name = "csv"
    media_type = "text/csv; charset=utf-8"
    suffix = ".csv"
    directory = False

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        count = 0
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for doc in docs:
                writer.writerow(csv_row(doc))
                count += 1
        return count
