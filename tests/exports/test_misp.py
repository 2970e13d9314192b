"""MISP event JSON and feed: types and categories per MISP's describeTypes, tags, and a feed
directory a MISP instance can pull over HTTP."""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pymisp
import pytest
from pymisp import MISPEvent

from exports.misp import MispExporter
from exports.registry import ExportContext
from exports.service import ExportRequest, run_export

from .conftest import C_MARKER, make_documents

DESCRIBE_TYPES = json.loads(
    (Path(pymisp.__file__).parent / "data" / "describeTypes.json").read_text(encoding="utf-8")
)["result"]


def _events(tmp_path: Path) -> list[dict]:
    out = tmp_path / "events.json"
    docs = [d for d in make_documents() if d.grading and d.grading.handling == "P"]
    MispExporter().export(docs, out, context=ExportContext())
    return [item["Event"] for item in json.loads(out.read_text())["response"]]


def _check_attribute(attribute: dict) -> None:
    assert attribute["type"] in DESCRIBE_TYPES["types"], attribute
    assert attribute["category"] in DESCRIBE_TYPES["categories"], attribute
    assert attribute["type"] in DESCRIBE_TYPES["category_type_mappings"][attribute["category"]], attribute


def test_misp_attributes_have_types_and_categories_misp_accepts(tmp_path: Path) -> None:
    events = _events(tmp_path)
    assert len(events) == 5
    seen_types = set()
    for event in events:
        for attribute in event["Attribute"]:
            _check_attribute(attribute)
            seen_types.add(attribute["type"])
        for obj in event.get("Object", []):
            for attribute in obj["Attribute"]:
                _check_attribute(attribute)
    assert {"link", "text", "url", "domain", "phone-number", "btc", "email", "ip-dst", "iban"} <= seen_types


def test_misp_event_maps_identifiers_places_and_tags(tmp_path: Path) -> None:
    event = next(e for e in _events(tmp_path) if e["info"] == "County lines gang jailed")
    values = {(a["type"], a["value"]) for a in event["Attribute"]}
    assert ("phone-number", "+447700900123") in values
    assert ("url", "https://evil.example/shop") in values
    assert all(a["to_ids"] is False for a in event["Attribute"])
    tags = {t["name"] for t in event["Tag"]}
    assert {'osintel:method="drugs.county_lines"', 'osintel:grading="1BP"', "tlp:green",
            'osintel:handling-code="P"'} <= tags
    assert {t for t in tags if t.startswith(("osintel:crimetype", "osintel:crimegroup"))} == {
        'osintel:crimetype="drugs.trafficking"', 'osintel:crimegroup="drugs"',
        'osintel:crimetype="weapons.other"', 'osintel:crimegroup="weapons"',
    }
    geo = event["Object"][0]
    assert geo["name"] == "geolocation"
    assert {a["object_relation"]: a["value"] for a in geo["Attribute"]}["latitude"] in ("53.41", 53.41)
    # PyMISP reads it back as an event
    loaded = MISPEvent()
    loaded.load(json.dumps({"Event": event}))
    assert loaded.info == "County lines gang jailed"


def test_misp_uuids_are_stable_across_exports(tmp_path: Path) -> None:
    first = [(e["uuid"], [a["uuid"] for a in e["Attribute"]]) for e in _events(tmp_path)]
    assert first == [(e["uuid"], [a["uuid"] for a in e["Attribute"]]) for e in _events(tmp_path)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static HTTP server on loopback over tmp_path/feed (what a MISP instance pulls from)."""
    root = tmp_path / "feed"
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed", root
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.read()


def test_misp_feed_pulled_over_http_is_consistent(corpus, settings, served) -> None:
    store, index, _ = corpus
    base, root = served
    report = run_export(index, store, settings, ExportRequest(
        format="misp-feed", query="*", actor="test", role="partner", recipient="partner-misp"), root)
    assert report.count == 5
    # Pull it the way MISP does: manifest first, then each event, then the hash list.
    manifest = json.loads(_get(f"{base}/manifest.json"))
    assert len(manifest) == 5
    expected_hashes = set()
    for uuid, meta in manifest.items():
        event = json.loads(_get(f"{base}/{uuid}.json"))["Event"]
        assert event["uuid"] == uuid
        assert meta["info"] == event["info"] and meta["date"] == event["date"]
        assert int(meta["timestamp"]) == int(event["timestamp"])
        assert {t["name"] for t in meta["Tag"]} == {t["name"] for t in event["Tag"]}
        for attribute in event["Attribute"] + [a for o in event.get("Object", []) for a in o["Attribute"]]:
            _check_attribute(attribute)
            expected_hashes.add((hashlib.md5(str(attribute["value"]).encode()).hexdigest(), uuid))
        assert C_MARKER not in json.dumps(event)
    rows = {tuple(row) for row in csv.reader(_get(f"{base}/hashes.csv").decode().splitlines())}
    assert rows == expected_hashes
    assert {p.name for p in root.iterdir()} == {"manifest.json", "hashes.csv", *(f"{u}.json" for u in manifest)}


def test_long_non_latin_text_fits_misps_value_column(tmp_path: Path) -> None:
    doc = make_documents()[0].model_copy(update={"text": "毒品" * 20000})
    out = tmp_path / "long.json"
    MispExporter().export([doc], out, context=ExportContext(max_text_chars=50000))
    text = next(a for a in json.loads(out.read_text())["response"][0]["Event"]["Attribute"] if a["type"] == "text")
    assert 0 < len(text["value"].encode("utf-8")) <= 60000
    assert set(text["value"]) <= {"毒", "品"}  # cut on a character boundary
