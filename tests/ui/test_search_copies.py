"""Search page in a real headless chromium: copies of one story show as one hit with an "N copies"
link that lists them, "all copies" lists each, the sort says "best match" or "relevance score",
and an untitled post is shown by the first words of its text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from osintel.records import Document, SourceRef

LiveServer = Any  # tests/ui/conftest.py: the running app, its URL, keys and documents
Ready = Callable[[Page], None]
POST = "Gang jailed in Liverpool for the county lines drugs line, cocaine seized, good riddance says my neighbour."


@pytest.fixture
def copies(live_server: LiveServer) -> Iterator[list[Document]]:
    """Two copies of the county-lines story (another paper, and a newer untitled repost)."""
    county = live_server.doc("County lines")
    paper = SourceRef(id="local-paper", name="Local paper", kind="feed", grading="2BP")
    social = SourceRef(id="mastodon-uk", name="Mastodon", kind="social", platform="mastodon")
    made = [
        Document(url="https://paper.example/county", source=paper, title="County lines gang jailed (Local paper)",
                 text=county.text + " Reporting by our staff.", published_at=datetime(2024, 3, 11, tzinfo=timezone.utc),
                 language="en", relevance=0.85),
        Document(url="https://social.example/@n/9", source=social, title="", text=POST,
                 published_at=datetime(2024, 3, 12, tzinfo=timezone.utc), language="en", relevance=0.4),
    ]
    made = [d.model_copy(update={"cluster_id": county.id, "duplicate_of": county.id}) for d in made]
    live_server.index.upsert(made)
    yield made
    live_server.index.delete([d.id for d in made])


def test_copies_of_a_story_show_as_one_hit_with_a_link_that_lists_them(
    wait_ready: Ready, analyst_page: Page, copies: list[Document]
) -> None:
    page = analyst_page
    page.goto("/ui/?q=cocaine&sort=-published")
    wait_ready(page)
    hits = page.locator("#results > .hit")
    expect(hits).to_have_count(2)
    expect(page.locator("#summary")).to_have_text("4 matches, 2 stories")
    story = hits.filter(has=page.locator(".copies-toggle"))
    expect(story).to_have_count(1)
    # The newest copy stands for the story: an untitled post, shown by its first words.
    expect(story.locator(".hit-title").first).to_have_text(
        "Gang jailed in Liverpool for the county lines drugs line, cocaine seized…")
    toggle = story.locator(".copies-toggle")
    expect(toggle).to_have_text("3 copies")
    toggle.click()
    listed = story.locator(".copies .copy")
    expect(listed).to_have_count(3)
    expect(story.locator(".copies .badge-source")).to_have_text(["mastodon-uk", "local-paper", "bbc-news"])
    expect(toggle).to_have_text("hide copies")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(story.locator(".copies")).to_have_count(0)
    expect(toggle).to_have_text("3 copies")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_all_copies_lists_each_copy_and_is_kept_in_the_address(
    wait_ready: Ready, analyst_page: Page, copies: list[Document]
) -> None:
    page = analyst_page
    page.goto("/ui/?q=cocaine")
    wait_ready(page)
    expect(page.locator("#results > .hit")).to_have_count(2)
    page.check("#all-copies")
    expect(page.locator("#results > .hit")).to_have_count(4)
    expect(page.locator("#summary")).to_have_text("4 matches")
    expect(page.locator(".copies-toggle")).to_have_count(0)
    assert re.search(r"[?&]all=1", page.url)
    page.reload()
    wait_ready(page)
    expect(page.locator("#all-copies")).to_be_checked()
    expect(page.locator("#results > .hit")).to_have_count(4)


def test_sort_says_best_match_or_relevance_score_and_old_links_still_work(
    wait_ready: Ready, analyst_page: Page
) -> None:
    page = analyst_page
    page.goto("/ui/?sort=relevance")  # a bookmark from before the sorts were renamed
    wait_ready(page)
    expect(page.locator("#sort")).to_have_value("best_match")
    labels = page.locator("#sort option").all_text_contents()
    assert labels == ["best match", "relevance score", "newest first", "oldest first"]
    page.select_option("#sort", "relevance_score")
    expect(page.locator("#results .badge-relevance")).to_have_text(
        ["relevance 0.90", "relevance 0.75", "relevance 0.60"])
    assert "sort=relevance_score" in page.url
