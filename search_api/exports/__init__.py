"""Feeds to other intelligence systems: STIX 2.1, MISP (event JSON and feed), NDJSON, CSV, and
a TAXII 2.1 read API.

Public interface:

- :func:`~search_api.exports.service.run_export` — select documents by query, apply the
  handling-code gate, write one format, record the disclosure in the audit log;
- :func:`~search_api.exports.registry.get_exporter` / :func:`~search_api.exports.registry.register`
  — the exporter extension point (one registry, built-ins included);
- :data:`~search_api.exports.taxii.router` — the TAXII 2.1 API, mounted at ``/taxii2/``.
"""

from __future__ import annotations

from search_api.exports.registry import ExportContext, Exporter, exporters, get_exporter, register

__all__ = ["ExportContext", "Exporter", "exporters", "get_exporter", "register"]
