"""Output helpers shared by the command modules: data to stdout, progress to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only data)."""
    print(f"[osintel] {message}", file=sys.stderr, flush=True)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, default=str, indent=None)
    sys.stdout.write("\n")


def print_rows(rows: list[dict[str, Any]]) -> None:
    """``key=value`` pairs, one row per line."""
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))


def print_summary(summary: dict[str, Any]) -> None:
    """The corpus summary that ``osintel demo`` and ``osintel stats`` print."""
    out = sys.stdout
    out.write(f"documents: {summary['documents']} (enriched {summary['enriched']})"
              f" in {summary.get('seconds', '?')}s\n")
    for key, title in (("by_source", "by source"), ("by_language", "by language"),
                       ("entities_by_label", "entities by label"), ("methods", "methods (top 10)"),
                       ("locations_by_country", "locations by country (top 10)"),
                       ("crime_types", "crime types (top 10)")):
        items = list(summary.get(key, {}).items())[:10]
        out.write(f"{title}: " + ", ".join(f"{k}={v}" for k, v in items) + "\n")
    out.write(f"documents with geocoded locations: {summary.get('documents_with_locations', 0)}\n")
    out.write(f"outbox: {summary.get('outbox')}\n")
    for holder in summary.get("outbox_leases", []):
        out.write(f"  leased: {holder['documents']} by {holder['owner']} ({holder['liveness']})"
                  f" until {holder['lease_expires_at']}\n")
    for query, res in summary.get("queries", {}).items():
        out.write(f"search {query!r}: {res['total']} hits; top: {res['top'][:1]}\n")
