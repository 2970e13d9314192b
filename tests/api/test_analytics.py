"""Entities with co-occurrence, trends over time and the GeoJSON map, for a query."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def test_entities_counts_top_values_and_pairs(client: TestClient, as_role: Any) -> None:
    response = client.get("/api/entities", params={"label": ["PERSON", "PHONE"]}, headers=as_role("analyst"))
    assert response.status_code == 200, response.text
    body = response.json()
    people = {e["value"]: e["count"] for e in body["labels"]["PERSON"]}
    assert people == {"john smith": 2, "mary jones": 1}
    assert body["labels"]["PHONE"] == [{"value": "+447700900123", "count": 1}]
    pair = body["pairs"][0]
    assert {pair["a"]["label"], pair["b"]["label"]} == {"PERSON", "PHONE"} and pair["count"] == 1
    assert body["hits_examined"] == 5


def test_entities_follow_the_query(client: TestClient, as_role: Any) -> None:
    body = client.get("/api/entities", params={"q": "calais", "label": "PERSON"}, headers=as_role("analyst")).json()
    assert body["labels"]["PERSON"] == [{"value": "john smith", "count": 1}] and body["pairs"] == []


def test_trends_count_each_method_per_interval(client: TestClient, as_role: Any) -> None:
    response = client.get("/api/trends", params={"by": "method", "interval": "month"}, headers=as_role("analyst"))
    assert response.status_code == 200, response.text
    body = response.json()
    series = {s["value"]: {b["start"][:7]: b["count"] for b in s["buckets"]} for s in body["series"]}
    assert series["drugs.county_lines"]["2025-03"] == 1 and series["drugs.county_lines"]["2025-04"] == 1
    assert series["oic.small_boat"]["2025-03"] == 1 and series["oic.small_boat"]["2025-04"] == 0
    assert sum(b["count"] for b in body["overall"]) == 5
    # Every series shares the same buckets, so a chart can stack them.
    assert len({len(s["buckets"]) for s in body["series"]} | {len(body["overall"])}) == 1


def test_trends_chart_crime_types_and_their_groups(client: TestClient, as_role: Any) -> None:
    body = client.get("/api/trends", params={"by": "crimetype", "interval": "month", "top": 10},
                      headers=as_role("analyst")).json()
    totals = {s["value"]: s["total"] for s in body["series"]}
    assert totals == {"drugs": 2, "drugs.trafficking": 2, "society": 1, "society.immigration": 1}


def test_trends_by_place_and_bad_dimension(client: TestClient, as_role: Any) -> None:
    body = client.get("/api/trends", params={"by": "country"}, headers=as_role("analyst")).json()
    assert {s["value"] for s in body["series"]} == {"GB", "FR"}
    bad = client.get("/api/trends", params={"by": "colour"}, headers=as_role("analyst"))
    assert bad.status_code == 400 and "'by'" in bad.json()["error"]["message"]


def test_map_is_geojson_of_places_with_counts(client: TestClient, as_role: Any) -> None:
    response = client.get("/api/map", params={"q": "cocaine"}, headers=as_role("analyst"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "FeatureCollection"
    places = {f["properties"]["name"]: f for f in body["features"]}
    assert set(places) == {"London", "Dover", "Paris"}
    assert places["London"]["properties"]["documents"] == 2
    assert places["London"]["geometry"] == {"type": "Point", "coordinates": [-0.1278, 51.5074]}


def test_map_with_a_box_draws_only_places_inside(client: TestClient, as_role: Any) -> None:
    body = client.get("/api/map", params={"bbox": "52,-1,51,0"}, headers=as_role("analyst")).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["London"]


def test_osintel_stats_counts_documents_per_crime_type_and_group(settings: Any, index: Any) -> None:
    from osintel.service import commands

    index.close()  # the command opens the index itself, as the CLI does
    data = commands.stats(settings)
    assert data["crime_types"] == {"drugs": 2, "drugs.trafficking": 2, "society": 1, "society.immigration": 1}
    assert data["documents"] == 5
