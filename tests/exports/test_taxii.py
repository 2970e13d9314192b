"""TAXII 2.1 read API: discovery, collections, filtering, paging, media types, access, audit;
and the reference client (``taxii2-client``) against it over a real socket."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
import uvicorn
from fastapi.testclient import TestClient
from taxii2client.v21 import Server, as_pages

from osintel import apikeys, audit
from search_api.app import create_app
from search_api.routes.taxii import COLLECTION_ID, TAXII_MEDIA_TYPE

from .conftest import C_MARKER, C_WALLET

ROOT = "/taxii2/osintel/"
OBJECTS = f"{ROOT}collections/{COLLECTION_ID}/objects/"


@pytest.fixture
def taxii(corpus, settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store, index, _ = corpus
    keys = {role: apikeys.create_key(store, role=role, name=f"{role}-key")[1]
            for role in ("partner", "supervisor", "analyst")}
    with TestClient(create_app(settings, index=index, store=store)) as http:
        http.headers.update({"X-API-Key": keys["partner"], "Accept": TAXII_MEDIA_TYPE})
        yield http, keys


def _all_pages(http: TestClient, url: str, **params) -> tuple[list[dict], int]:
    objects: list[dict] = []
    pages = 0
    token = None
    while True:
        response = http.get(url, params={**params, **({"next": token} if token else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        objects += body.get("objects", [])
        pages += 1
        if not body["more"]:
            return objects, pages
        token = body["next"]


def test_discovery_api_root_and_collections_speak_taxii(taxii) -> None:
    http, _ = taxii
    discovery = http.get("/taxii2/")
    assert discovery.status_code == 200
    assert discovery.headers["content-type"] == TAXII_MEDIA_TYPE
    assert discovery.json()["api_roots"] == ["http://testserver/taxii2/osintel/"]
    assert http.get(ROOT).json()["versions"] == [TAXII_MEDIA_TYPE]
    collections = http.get(f"{ROOT}collections/").json()["collections"]
    assert [c["id"] for c in collections] == [COLLECTION_ID]
    assert collections[0]["can_read"] and not collections[0]["can_write"]
    assert http.get(f"{ROOT}collections/{COLLECTION_ID}/").json()["media_types"] == [
        "application/stix+json;version=2.1"]
    assert http.get("/taxii2/nope/").status_code == 404
    assert http.get(f"{ROOT}collections/nope/objects/").status_code == 404


def test_objects_page_with_limit_and_next_and_lose_nothing(taxii) -> None:
    http, _ = taxii
    everything = http.get(OBJECTS, params={"limit": 1000}).json()
    assert everything["more"] is False
    paged, pages = _all_pages(http, OBJECTS, limit=3)
    assert pages > 5
    # Paging serves the same sequence (within a page shared objects are not repeated).
    assert {o["id"] for o in paged} == {o["id"] for o in everything["objects"]}
    reports = [o for o in paged if o["type"] == "report"]
    assert len(reports) == len({r["id"] for r in reports}) == 5


def test_match_type_and_id_filter_objects(taxii) -> None:
    http, _ = taxii
    reports, _ = _all_pages(http, OBJECTS, **{"match[type]": "report", "limit": 2})
    assert len(reports) == 5 and {o["type"] for o in reports} == {"report"}
    mixed = http.get(OBJECTS, params={"match[type]": "location,attack-pattern"}).json()["objects"]
    assert {o["type"] for o in mixed} == {"location", "attack-pattern"}
    one = reports[2]["id"]
    by_id = http.get(OBJECTS, params={"match[id]": one}).json()["objects"]
    assert [o["id"] for o in by_id] == [one]
    single = http.get(f"{OBJECTS}{one}/")
    assert single.status_code == 200 and single.json()["objects"][0]["id"] == one
    assert http.get(f"{OBJECTS}report--00000000-0000-5000-8000-000000000000/").status_code == 404


def test_added_after_and_date_added_headers_resume_exactly(taxii) -> None:
    http, _ = taxii
    first = http.get(OBJECTS, params={"match[type]": "report", "limit": 2})
    assert first.json()["more"] is True
    last = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] <= last and last.endswith("Z")
    rest = http.get(OBJECTS, params={"match[type]": "report", "added_after": last}).json()["objects"]
    seen = [o["id"] for o in first.json()["objects"]]
    assert len(rest) == 3 and not set(seen) & {o["id"] for o in rest}
    manifest = http.get(f"{ROOT}collections/{COLLECTION_ID}/manifest/", params={"match[type]": "report"}).json()
    assert [m["id"] for m in manifest["objects"]] == seen + [o["id"] for o in rest]
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])


def test_handling_code_c_is_never_served_over_taxii(taxii) -> None:
    http, keys = taxii
    for key in (keys["partner"], keys["supervisor"]):
        http.headers["X-API-Key"] = key
        objects, _ = _all_pages(http, OBJECTS, limit=50)
        text = str(objects).lower()
        assert sum(o["type"] == "report" for o in objects) == 5
        assert C_MARKER not in text and C_WALLET not in text


def test_next_token_is_bound_to_its_filters_and_bad_input_is_400(taxii) -> None:
    http, _ = taxii
    token = http.get(OBJECTS, params={"limit": 1}).json()["next"]
    assert http.get(OBJECTS, params={"limit": 1, "next": token, "match[type]": "report"}).status_code == 400
    assert http.get(OBJECTS, params={"next": "garbage!"}).status_code == 400
    assert http.get(OBJECTS, params={"added_after": "yesterday"}).status_code == 400


def test_taxii_needs_the_taxii_permission_and_the_taxii_media_type(taxii) -> None:
    http, keys = taxii
    assert http.get("/taxii2/", headers={"X-API-Key": ""}).status_code == 401
    assert http.get("/taxii2/", headers={"X-API-Key": keys["analyst"]}).status_code == 403
    assert http.get("/taxii2/", headers={"Accept": "text/html"}).status_code == 406
    assert http.get("/taxii2/", headers={"Accept": "application/taxii+json"}).status_code == 200


def test_every_page_of_objects_is_an_audited_disclosure(taxii, corpus) -> None:
    http, _ = taxii
    before = len(audit.events(corpus[0], action="disclosure", limit=1000))
    body = http.get(OBJECTS, params={"match[type]": "report", "limit": 2}).json()
    events = audit.events(corpus[0], action="disclosure", limit=1000)
    assert len(events) == before + 1
    detail = events[-1].detail
    assert detail["kind"] == "taxii" and detail["recipient"] == "partner-key" and detail["count"] == 2
    assert len(detail["ids"]) == len(body["objects"]) == 2


@pytest.fixture
def live(corpus, settings) -> Iterator[tuple[str, str]]:
    store, index, _ = corpus
    _, key = apikeys.create_key(store, role="partner", name="interop")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, index=index, store=store), host="127.0.0.1",
                                           port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/taxii2/", key
    finally:
        server.should_exit = True
        thread.join(10)


class _ApiKey(requests.auth.AuthBase):
    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-API-Key"] = self.key
        return request


def test_reference_taxii2_client_reads_the_feed_over_loopback(live) -> None:
    url, key = live
    server = Server(url, auth=_ApiKey(key))
    root = server.api_roots[0]
    collection = root.collections[0]
    assert collection.id == COLLECTION_ID and collection.can_read
    reports = []
    for envelope in as_pages(collection.get_objects, per_request=2, type="report"):
        reports += envelope.get("objects", [])
    assert len(reports) == 5
    assert collection.get_object(reports[0]["id"])["objects"][0]["id"] == reports[0]["id"]


def test_version_and_spec_version_filters(taxii) -> None:
    http, _ = taxii
    reports = http.get(OBJECTS, params={"match[type]": "report"}).json()["objects"]
    version = reports[0]["modified"]
    same = http.get(OBJECTS, params={"match[type]": "report", "match[version]": version}).json()["objects"]
    assert reports[0]["id"] in {o["id"] for o in same} and all(o["modified"] == version for o in same)
    assert len(http.get(OBJECTS, params={"match[type]": "report", "match[version]": "last"}).json()["objects"]) == 5
    assert "objects" not in http.get(OBJECTS, params={"match[spec_version]": "2.0"}).json()
