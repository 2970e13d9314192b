"""Handling codes gate dissemination, and every export is an audited disclosure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osintel import audit
from osintel.errors import DisseminationError, ExportError, QueryError
from osintel.records import Grading
from exports.service import ExportRequest, run_export

from .conftest import C_MARKER, C_WALLET

FORMATS = ("stix", "misp", "ndjson", "csv")


def _export(corpus, settings, tmp_path: Path, *, fmt: str = "ndjson", role: str = "partner", query: str = "*",
            include_conditional: bool = False, purpose: str | None = None, name: str = "out"):
    store, index, _ = corpus
    request = ExportRequest(format=fmt, query=query, actor=f"key:{role}", role=role, recipient="Partner Unit",
                            purpose=purpose, include_conditional=include_conditional)
    return run_export(index, store, settings, request, tmp_path / name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_partner_export_never_contains_a_handling_code_c_document(corpus, settings, tmp_path, fmt) -> None:
    report = _export(corpus, settings, tmp_path, fmt=fmt, query="*")
    text = Path(report.output).read_text(encoding="utf-8").lower()
    assert report.count == 5
    assert C_MARKER not in text and C_WALLET not in text
    assert "county lines gang jailed" in text  # the P documents are there


def test_partner_asking_for_conditional_documents_is_refused(corpus, settings, tmp_path) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(DisseminationError):
        _export(corpus, settings, out, include_conditional=True, purpose="operation X")
    assert not list(out.iterdir()), "a refused export writes nothing"


def test_supervisor_includes_conditional_documents_only_with_a_recorded_purpose(corpus, settings, tmp_path) -> None:
    with pytest.raises(DisseminationError, match="purpose"):
        _export(corpus, settings, tmp_path, role="supervisor", include_conditional=True)
    report = _export(corpus, settings, tmp_path, role="supervisor", include_conditional=True,
                     purpose="joint operation X, authorised by DI Smith")
    assert report.count == 6
    assert C_MARKER in Path(report.output).read_text()
    event = audit.events(corpus[0], action="disclosure")[-1]
    assert event.purpose == "joint operation X, authorised by DI Smith"
    assert event.detail["include_conditional"] is True


def test_export_is_an_audited_disclosure_naming_recipient_and_documents(corpus, settings, tmp_path) -> None:
    store, _, docs = corpus
    report = _export(corpus, settings, tmp_path, fmt="stix", query="method:drugs.county_lines")
    event = audit.events(store, action="disclosure")[-1]
    assert event.seq == report.audit_seq
    assert event.actor == "key:partner"
    assert event.detail["kind"] == "export" and event.detail["format"] == "stix"
    assert event.detail["recipient"] == "Partner Unit"
    assert event.detail["query"] == "method:drugs.county_lines"
    expected = {d.id for d in docs if any(m.id == "drugs.county_lines" for m in d.methods)
                and d.grading.handling == "P"}
    assert set(event.detail["ids"]) == expected and event.detail["count"] == len(expected) == 2
    assert audit.verify(store).ok


def test_regrade_not_yet_in_the_index_still_withholds_the_document(corpus, settings, tmp_path) -> None:
    store, _, docs = corpus
    doc = docs[0].model_copy(update={"grading": Grading.parse("1BC")})
    store.save_documents([doc])  # the store of record says C; the index still says P
    report = _export(corpus, settings, tmp_path)
    assert report.count == 4 and report.withheld == 2  # the regraded one and the C document
    assert doc.id not in Path(report.output).read_text()


def test_export_pages_through_every_hit(corpus, settings, tmp_path) -> None:
    small = settings.with_overrides(**{"export.page_size": 2})
    report = _export(corpus, small, tmp_path)
    lines = Path(report.output).read_text().splitlines()
    assert report.count == len(lines) == 5
    assert len({json.loads(line)["id"] for line in lines}) == 5


def test_export_larger_than_the_limit_is_refused(corpus, settings, tmp_path) -> None:
    with pytest.raises(ExportError, match="max_documents"):
        _export(corpus, settings.with_overrides(**{"export.max_documents": 3}), tmp_path)


def test_bad_format_query_and_output_are_clear_errors(corpus, settings, tmp_path) -> None:
    with pytest.raises(ExportError, match="unknown export format"):
        _export(corpus, settings, tmp_path, fmt="pdf")
    with pytest.raises(QueryError):
        _export(corpus, settings, tmp_path, query="method:(")
    with pytest.raises(ExportError, match="does not exist"):
        _export(corpus, settings, tmp_path, name="missing/out.json")


def test_csv_cells_cannot_run_as_spreadsheet_formulas(corpus, settings, tmp_path) -> None:
    report = _export(corpus, settings, tmp_path, fmt="csv")
    text = Path(report.output).read_text()
    assert "'=HYPERLINK" in text
    import csv

    for row in csv.reader(text.splitlines()):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row


def test_csv_has_a_crime_types_column_and_ndjson_the_full_crime_types(corpus, settings, tmp_path) -> None:
    import csv
    import json

    rows = list(csv.DictReader(Path(_export(corpus, settings, tmp_path, fmt="csv").output).read_text().splitlines()))
    by_title = {row["title"]: row for row in rows}
    assert by_title["County lines gang jailed"]["crime_types"] == "drugs.trafficking;weapons.other"
    assert by_title["Second county lines trial"]["crime_types"] == ""
    lines = Path(_export(corpus, settings, tmp_path, fmt="ndjson", name="out.ndjson").output).read_text().splitlines()
    county = next(json.loads(line) for line in lines if json.loads(line)["title"] == "County lines gang jailed")
    assert county["crime_types"][0] == {
        "id": "drugs.trafficking", "label": "Drug trafficking", "confidence": 0.8,
        "evidence": "ran the 'Bravo' line", "start": None, "end": None, "matched_by": "pattern:en",
    }


def test_query_that_matches_only_a_c_document_exports_nothing_to_a_partner(corpus, settings, tmp_path) -> None:
    report = _export(corpus, settings, tmp_path, fmt="stix", query=C_MARKER)
    assert report.count == 0
    assert C_MARKER not in Path(report.output).read_text()
