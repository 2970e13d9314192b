"""Documents: provenance and evidence, the captured bytes (never rendered), regrading and holds."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from osintel import audit


def _last(store: Any, kind: str) -> Any:
    return [e for e in audit.events(store, limit=10_000) if e.detail.get("kind") == kind][-1]


def test_document_view_has_provenance_and_assessments_with_evidence(
        client: TestClient, as_role: Any, docs: list[Any], store: Any) -> None:
    doc = docs[0]
    body = client.get(f"/api/documents/{doc.id}", headers=as_role("analyst")).json()
    prov = body["provenance"]
    assert prov["source"]["id"] == "news" and prov["grading"] == "2BP"
    assert prov["capture"]["sha256"] == doc.capture.sha256
    assert prov["capture"]["record_id"] == doc.capture.record_id
    assert prov["capture_url"] == f"/api/documents/{doc.id}/capture"
    method = body["assessments"]["methods"][0]
    assert method["id"] == "drugs.county_lines" and "Dover" in method["evidence"]
    assert {e["label"] for e in body["assessments"]["entities"]} == {"PERSON", "PHONE"}
    (crime,) = body["assessments"]["crime_types"]
    assert crime["id"] == "drugs.trafficking" and doc.text[crime["start"] : crime["end"]] == crime["evidence"]
    # Default policy: 365 days after collection.
    assert body["retention"]["legal_hold"] is None and body["retention"]["review_at"]
    assert _last(store, "document.view").detail == {"kind": "document.view", "doc_id": doc.id}


def test_capture_returns_the_original_bytes_as_an_inert_attachment(
        client: TestClient, as_role: Any, docs: list[Any], store: Any) -> None:
    doc = docs[0]
    response = client.get(f"/api/documents/{doc.id}/capture", headers=as_role("analyst"))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == doc.capture.sha256
    assert b"<script>alert('captured')</script>" in response.content
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-capture-verified"] == "yes"
    event = _last(store, "capture.download")
    assert event.action == "consultation" and event.detail["sha256"] == doc.capture.sha256


def test_capture_of_a_document_without_one_is_404(client: TestClient, as_role: Any, docs: list[Any]) -> None:
    response = client.get(f"/api/documents/{docs[1].id}/capture", headers=as_role("analyst"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_supervisor_regrade_updates_store_index_and_record(
        client: TestClient, as_role: Any, docs: list[Any], store: Any, index: Any) -> None:
    doc = docs[0]
    body = {"grading": "1ap", "reason": "corroborated by a second source"}
    assert client.post(f"/api/documents/{doc.id}/grading", json=body, headers=as_role("analyst")).status_code == 403
    response = client.post(f"/api/documents/{doc.id}/grading", json=body,
                           headers={**as_role("supervisor"), "X-Purpose": "review"})
    assert response.status_code == 200 and response.json()["provenance"]["grading"] == "1AP"
    assert store.get_document(doc.id).grading.code == "1AP"
    assert index.get(doc.id).grading.code == "1AP"
    hits = client.get("/api/search", params={"grading": "1AP"}, headers=as_role("analyst")).json()["hits"]
    assert [h["id"] for h in hits] == [doc.id]
    event = _last(store, "regrade")
    assert event.action == "alteration" and event.detail["from"] == "2BP" and event.detail["to"] == "1AP"
    assert event.purpose == "review"


def test_regrade_rejects_a_bad_code(client: TestClient, as_role: Any, docs: list[Any]) -> None:
    response = client.post(f"/api/documents/{docs[0].id}/grading", json={"grading": "9ZZ", "reason": "x"},
                           headers=as_role("supervisor"))
    assert response.status_code == 422 and "3x5x2" in response.json()["error"]["message"]


def test_legal_hold_is_set_and_released_by_a_supervisor(
        client: TestClient, as_role: Any, docs: list[Any], store: Any) -> None:
    url = f"/api/documents/{docs[2].id}/hold"
    held = client.put(url, json={"reason": "pending trial"}, headers=as_role("supervisor")).json()
    assert held["legal_hold"]["reason"] == "pending trial"
    assert _last(store, "retention.hold").action == "alteration"
    assert client.delete(url, headers=as_role("supervisor")).json()["legal_hold"] is None
    assert _last(store, "retention.release").detail["doc_id"] == docs[2].id
