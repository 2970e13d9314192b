"""GET /api/search: filters, facets, histogram, paging, escaping, errors, and its audit event."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from osintel import audit


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(body: dict[str, Any], docs: list[Any]) -> set[str]:
    urls = {d.id: d.url.rsplit("/", 1)[1] for d in docs}
    return {urls[h["id"]] for h in body["hits"]}


def test_filters_narrow_the_query(client: TestClient, as_role: Any, docs: list[Any]) -> None:
    h = as_role("analyst")
    # Accents fold: "cocaïne" (d) matches too.
    assert _ids(_search(client, h, q="cocaine"), docs) == {"a", "c", "d", "hostile"}
    assert _ids(_search(client, h, q="cocaine", source="news"), docs) == {"a"}
    assert _ids(_search(client, h, source=["news", "forum"], language="fr"), docs) == {"d"}
    assert _ids(_search(client, h, method="drugs.*"), docs) == {"a", "c"}
    assert _ids(_search(client, h, crimetype="drugs.*"), docs) == {"a", "c"}
    assert _ids(_search(client, h, crimetype=["society", "violence"]), docs) == {"b"}
    assert _ids(_search(client, h, q="crimetype:drugs.trafficking", source="forum"), docs) == {"c"}
    assert _ids(_search(client, h, country="fr"), docs) == {"b", "d"}
    assert _ids(_search(client, h, grading="3dc", min_relevance=0.25), docs) == {"c"}
    assert _ids(_search(client, h, entity="PHONE:07700 900123"), docs) == {"a"}
    assert _ids(_search(client, h, entity="john smith"), docs) == {"a", "b"}
    assert _ids(_search(client, h, published_from="2025-03-05", published_to="2025-04-10"), docs) == {"b", "c"}


def test_geo_filters_find_documents_by_place(client: TestClient, as_role: Any, docs: list[Any]) -> None:
    h = as_role("analyst")
    # 25 km around central London: London is mentioned in a and c; Dover (100 km) is not near.
    assert _ids(_search(client, h, near="51.51,-0.13,25km"), docs) == {"a", "c"}
    # A box over northern France holds Paris.
    assert _ids(_search(client, h, bbox="50,1,48,3"), docs) == {"b", "d"}


def test_facets_and_histogram_count_the_matches(client: TestClient, as_role: Any) -> None:
    body = _search(client, as_role("analyst"), facet=["source", "country", "entity:PERSON"], histogram="month")
    assert body["total"] == 5
    assert body["facets"]["source"] == {"forum": 3, "news": 2}
    assert body["facets"]["country"]["GB"] == 2
    assert body["facets"]["entity:PERSON"]["john smith"] == 2
    months = {b["start"][:7]: b["count"] for b in body["histogram"]}
    assert months["2025-03"] == 2 and months["2025-05"] == 2 and sum(months.values()) == 5


def test_facets_are_counted_only_when_asked(client: TestClient, as_role: Any) -> None:
    h = as_role("analyst")
    plain = _search(client, h)
    assert plain["total"] == 5 and plain["facets"] == {}
    asked = _search(client, h, facet=["language", "source"])
    assert asked["facets"] == {"language": {"en": 4, "fr": 1}, "source": {"forum": 3, "news": 2}}


def test_crime_types_are_a_facet_and_listed_on_each_hit(client: TestClient, as_role: Any) -> None:
    body = _search(client, as_role("analyst"), facet="crimetype")
    assert body["facets"]["crimetype"] == {
        "drugs": 2, "drugs.trafficking": 2, "society": 1, "society.immigration": 1,
    }
    by_url = {h["url"].rsplit("/", 1)[1]: h["crime_types"] for h in body["hits"]}
    assert by_url["a"] == ["drugs.trafficking"] and by_url["b"] == ["society.immigration"] and by_url["d"] == []
    narrowed = _search(client, as_role("analyst"), q="calais", facet="crimetype")
    assert narrowed["facets"] == {"crimetype": {"society": 1, "society.immigration": 1}}


def test_cursor_pages_through_every_hit_once(client: TestClient, as_role: Any) -> None:
    h = as_role("analyst")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 2, "sort": "-published"}
        if cursor:
            params["cursor"] = cursor
        body = _search(client, h, **params)
        seen += [hit["id"] for hit in body["hits"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5


def test_page_size_is_capped(client: TestClient, as_role: Any, settings: Any) -> None:
    body = _search(client, as_role("analyst"), limit=10**6)
    assert body["limit"] == settings.index.max_page_size


def test_snippets_escape_hostile_text_and_keep_highlights(client: TestClient, as_role: Any) -> None:
    body = _search(client, as_role("analyst"), q="shipment")
    snippet = body["hits"][0]["snippet"]
    assert "<script" not in snippet and "<img" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<b>shipment</b>" in snippet


def test_a_bad_query_says_where_it_is_wrong(client: TestClient, as_role: Any) -> None:
    response = client.get("/api/search", params={"q": 'text:"unclosed'}, headers=as_role("analyst"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_query" and isinstance(error["position"], int)
    response = client.get("/api/search", params={"q": "colour:red"}, headers=as_role("analyst"))
    assert response.status_code == 400 and "unknown field 'colour'" in response.json()["error"]["message"]


def test_a_bad_filter_names_the_parameter(client: TestClient, as_role: Any) -> None:
    for params, name in (({"near": "51.5,-0.1"}, "near"), ({"bbox": "1,2,3"}, "bbox"),
                         ({"published_from": "last tuesday"}, "published_from"), ({"facet": "colour"}, "facet")):
        response = client.get("/api/search", params=params, headers=as_role("analyst"))
        assert response.status_code == 400, params
        assert f"'{name}'" in response.json()["error"]["message"]
    response = client.get("/api/search", params={"limit": -1}, headers=as_role("analyst"))
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["where"] == "query.limit"


def test_each_search_is_a_consultation_with_query_and_returned_ids(
        client: TestClient, as_role: Any, store: Any, keys: dict[str, str]) -> None:
    headers = {**as_role("analyst"), "X-Purpose": "op TRIDENT"}
    body = _search(client, headers, q="cocaine", source="news")
    event = [e for e in audit.events(store, limit=1000) if e.action == "consultation"][-1]
    assert event.detail["kind"] == "search" and event.detail["q"] == "cocaine"
    assert event.detail["filters"] == {"source": ["news"]}
    assert event.detail["returned"] == [h["id"] for h in body["hits"]]
    assert event.purpose == "op TRIDENT"
    assert event.actor == "key:" + keys["analyst"].split(".")[0]
    assert json.dumps(event.detail)  # JSON-able
