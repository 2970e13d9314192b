"""Feeds to other intelligence systems: STIX 2.1, MISP (event JSON and feed), NDJSON, CSV. The
TAXII 2.1 read API that serves the STIX objects over HTTP lives in :mod:`search_api.routes.taxii`.

Public interface:

- :func:`~exports.service.run_export` — select documents by query, apply the
  handling-code gate, write one format, record the disclosure in the audit log;
- :func:`~exports.registry.get_exporter` / :func:`~exports.registry.register`
  — the exporter extension point (one registry, built-ins included);
"""

from __future__ import annotations

from exports.registry import ExportContext, Exporter, exporters, get_exporter, register

__all__ = ["ExportContext", "Exporter", "exporters", "get_exporter", "register"]
