"""The exporter extension point: built-ins and a new exporter register the same way."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from osintel import audit
from osintel.records import Document
from exports import registry
from exports.registry import ExportContext, Exporter, exporters, get_exporter, register
from exports.service import ExportRequest, run_export


class TitlesExporter:
    name = "titles"
    media_type = "text/plain"
    suffix = ".txt"
    directory = False

    def export(self, docs: Iterable[Document], target: Path, *, context: ExportContext) -> int:
        titles = [d.title for d in docs]
        target.write_text("\n".join(titles), encoding="utf-8")
        return len(titles)


def test_builtin_exporters_implement_the_protocol() -> None:
    found = exporters()
    assert set(found) == {"stix", "misp", "misp-feed", "ndjson", "csv"}
    assert all(isinstance(e, Exporter) for e in found.values())
    assert get_exporter("misp-feed").directory


def test_a_new_exporter_registered_once_works_end_to_end(corpus, settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(exporters()))  # leave the real registry untouched
    register(TitlesExporter())
    store, index, _ = corpus
    report = run_export(index, store, settings, ExportRequest(
        format="titles", query="*", actor="t", role="partner", recipient="r"), tmp_path / "t.txt")
    assert report.count == 5 and "County lines gang jailed" in (tmp_path / "t.txt").read_text()
    assert audit.events(store, action="disclosure")[-1].detail["format"] == "titles"


def test_something_that_is_not_an_exporter_is_refused() -> None:
    with pytest.raises(TypeError):
        register(object())  # type: ignore[arg-type]
