"""STIX 2.1 bundles: valid for the OASIS validator, complete, stable and inert."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file

from osintel.records import Grading
from exports.common import confidence
from exports.registry import ExportContext
from exports.stix import StixExporter

from .conftest import make_documents

#: Validator warnings we accept, and why: 103 "id is not UUIDv4" (we use UUIDv5 on purpose, so
#: re-exports keep their ids); 302 "external reference has a URL but no hash" (a document
#: without a capture record has no SHA-256 to give).
ACCEPTED_WARNINGS = {"{103}", "{302}"}


def _export(tmp_path: Path, name: str = "bundle.json") -> Path:
    out = tmp_path / name
    docs = [d for d in make_documents() if d.grading and d.grading.handling == "P"]
    StixExporter().export(docs, out, context=ExportContext())
    return out


def test_stix_bundle_passes_the_oasis_validator_without_errors(tmp_path: Path) -> None:
    result = validate_file(str(_export(tmp_path)), ValidationOptions(version="2.1"))
    errors = [e for obj in result.object_results for e in obj.errors]
    warnings = {m for obj in result.object_results for w in obj.warnings for m in re.findall(r"\{\d+\}", str(w))}
    assert result.is_valid and not errors, errors
    assert "{103}" in warnings  # the warnings are read at all
    assert warnings <= ACCEPTED_WARNINGS, warnings


def test_stix_report_refers_to_source_places_methods_and_identifiers(tmp_path: Path) -> None:
    bundle = json.loads(_export(tmp_path).read_text())
    objects = {o["id"]: o for o in bundle["objects"]}
    reports = [o for o in bundle["objects"] if o["type"] == "report"]
    assert len(reports) == 5
    report = next(r for r in reports if r["name"] == "County lines gang jailed")
    refs = [objects[ref] for ref in report["object_refs"]]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in refs:
        by_type.setdefault(obj["type"], []).append(obj)
    assert by_type["identity"][0]["name"] == "North News"
    place = by_type["location"][0]
    assert (place["latitude"], place["longitude"], place["country"]) == (53.41, -2.98, "GB")
    method = by_type["attack-pattern"][0]
    assert method["external_references"][0]["external_id"] == "drugs.county_lines"
    assert method["kill_chain_phases"][0]["phase_name"] == "drugs"
    assert by_type["x-osintel-phone-number"][0]["value"] == "+447700900123"
    assert by_type["url"][0]["value"] == "https://evil.example/shop"
    assert by_type["domain-name"][0]["value"] == "evil.example"
    assert report["confidence"] == 75  # 1BP
    assert report["labels"] == [
        "crime-type:drugs.trafficking", "crime-group:drugs", "crime-type:weapons.other", "crime-group:weapons",
    ]
    trial = next(r for r in reports if r["name"] == "Second county lines trial")
    assert "labels" not in trial  # no crime type, no labels
    assert report["external_references"][0]["hashes"] == {"SHA-256": "a" * 64}
    markings = [objects[m] for m in report["object_marking_refs"]]
    assert {m.get("name") for m in markings} >= {"TLP:GREEN", "3x5x2 1BP"}
    # the custom observable types travel with their extension definitions
    definitions = {o["name"] for o in bundle["objects"] if o["type"] == "extension-definition"}
    assert {"x-osintel-phone-number", "x-osintel-cryptocurrency-wallet", "x-osintel-vessel"} <= definitions


def test_stix_reexport_is_identical_so_partners_update_rather_than_duplicate(tmp_path: Path) -> None:
    first = _export(tmp_path, "a.json").read_bytes()
    second = _export(tmp_path, "b.json").read_bytes()
    assert first == second
    ids = [o["id"] for o in json.loads(first)["objects"]]
    assert len(ids) == len(set(ids)), "a shared object must appear once per bundle"


def test_hostile_crawled_text_stays_an_inert_json_string(tmp_path: Path) -> None:
    bundle = json.loads(_export(tmp_path).read_text())
    forum = next(o for o in bundle["objects"] if o["type"] == "report" and "HYPERLINK" in o["name"])
    assert "<script>alert(1)</script>" in forum["description"]  # verbatim, inside a string value
    assert all(o["type"] != "indicator" for o in bundle["objects"])  # no pattern built from text


@pytest.mark.parametrize(("code", "expected"), [("1AP", 90), ("2BP", 65), ("2CC", 40), ("3DC", 5), ("3EP", 0)])
def test_grading_maps_to_stix_confidence(code: str, expected: int) -> None:
    assert confidence(Grading.parse(code)) == expected
