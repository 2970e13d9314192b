"""GET /api/search lists each story once (copies collapsed, counted and listable), names its sorts
so that "relevance" is not ambiguous, and gives untitled posts a display title."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from osintel import audit
from osintel.records import Document, SourceRef

WIRE = SourceRef(id="wire", name="Wire", kind="feed", grading="2BP")
SOCIAL = SourceRef(id="mastodon-uk", name="Mastodon", kind="social", platform="mastodon")
POST = ("County lines gangs move cocaine to Dover, someone posted this morning with a photo of the "
        "van and its plate.")


def _search(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def copies(index: Any, docs: list[Document]) -> list[Document]:
    """Two near-duplicate copies of document ``a`` (another wire and an untitled repost)."""
    original = docs[0]
    made = [
        Document(url="http://example.test/a-wire", source=WIRE, title="Cocaine route to Dover (wire)",
                 text=original.text + " Agency copy.", published_at=original.published_at, language="en",
                 relevance=0.9),
        Document(url="http://example.test/a-post", source=SOCIAL, title="", text=POST,
                 published_at=original.published_at, language="en", relevance=0.5),
    ]
    made = [d.model_copy(update={"cluster_id": original.id, "duplicate_of": original.id}) for d in made]
    index.upsert(made)
    return made


def test_copies_of_a_story_collapse_into_one_hit_that_counts_them(
    client: TestClient, as_role: Any, docs: list[Document], copies: list[Document], store: Any
) -> None:
    h = as_role("analyst")
    story = docs[0].id
    body = _search(client, h, q="cocaine")
    # Matches: a, c, d, hostile and the two copies of a; stories: four.
    assert (body["total"], body["stories"], body["stories_exact"], body["collapsed"]) == (6, 4, True, True)
    assert len(body["hits"]) == 4
    assert [h_["copies"] for h_ in body["hits"] if h_["cluster_id"] == story] == [3]
    assert all(h_["copies"] == 1 for h_ in body["hits"] if h_["cluster_id"] != story)
    event = [e for e in audit.events(store, limit=1000) if e.action == "consultation"][-1]
    assert event.detail["collapse"] is True

    # Every copy, on request; and the copies of one story by its cluster id.
    every = _search(client, h, q="cocaine", collapse="false")
    assert (every["total"], every["stories"], len(every["hits"])) == (6, None, 6)
    assert {h_["copies"] for h_ in every["hits"]} == {1}
    listed = _search(client, h, q=f"cluster:{story}", collapse="false")
    assert {h_["id"] for h_ in listed["hits"]} == {story} | {c.id for c in copies}
    assert {h_["source"] for h_ in listed["hits"]} == {"news", "wire", "mastodon-uk"}


def test_collapsed_pages_never_repeat_a_story(
    client: TestClient, as_role: Any, copies: list[Document]
) -> None:
    h = as_role("analyst")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        body = _search(client, h, q="cocaine", sort="-published", limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [hit["cluster_id"] for hit in body["hits"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 4


def test_sorts_say_best_match_or_relevance_score_and_relevance_still_means_best_match(
    client: TestClient, as_role: Any, docs: list[Document]
) -> None:
    h = as_role("analyst")
    by_relevance = _search(client, h, sort="relevance_score")
    assert by_relevance["sort"] == "relevance_score"
    scores = [hit["relevance"] for hit in by_relevance["hits"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == len(docs)
    best = _search(client, h, q="cocaine", sort="best_match")
    old = _search(client, h, q="cocaine", sort="relevance")
    assert old["sort"] == best["sort"] == "best_match"
    assert [hit["id"] for hit in old["hits"]] == [hit["id"] for hit in best["hits"]]
    assert [hit["score"] for hit in best["hits"]] == sorted((hit["score"] for hit in best["hits"]), reverse=True)
    response = client.get("/api/search", params={"sort": "score"}, headers=h)
    assert response.status_code == 422


def test_an_untitled_post_is_shown_by_the_first_words_of_its_text(
    client: TestClient, as_role: Any, copies: list[Document]
) -> None:
    body = _search(client, as_role("analyst"), q="photo", collapse="false")
    (hit,) = body["hits"]
    assert hit["title"] == ""
    assert hit["display_title"] == "County lines gangs move cocaine to Dover, someone posted this morning with…"
    titled = _search(client, as_role("analyst"), q="Calais")["hits"][0]
    assert titled["display_title"] == titled["title"] == "Small boats near Calais"
