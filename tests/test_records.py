from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from osintel.records import (
    Document,
    Entity,
    Grading,
    SourceRef,
    canonical_url,
    document_id_for_post,
    document_id_for_url,
)

SRC = SourceRef(id="demo-news", name="Demo", grading="2BP")


def test_canonical_url_removes_tracking_fragment_default_port_and_sorts_query() -> None:
    assert (
        canonical_url("HTTP://Example.COM:80/a/b?z=1&utm_source=x&a=2#frag")
        == "http://example.com/a/b?a=2&z=1"
    )
    assert canonical_url("https://example.com") == "https://example.com/"
    assert canonical_url("http://127.0.0.1:8765/x") == "http://127.0.0.1:8765/x"


def test_document_id_is_stable_across_url_spellings() -> None:
    a = Document(url="https://example.com/story?utm_medium=rss", source=SRC)
    b = Document(url="https://EXAMPLE.com/story#comments", source=SRC)
    assert a.id == b.id == document_id_for_url("https://example.com/story")
    assert len(a.id) == 32
    assert document_id_for_post("Mastodon", "123") == document_id_for_post("mastodon", "123")
    assert document_id_for_post("mastodon", "123") != document_id_for_post("reddit", "123")


def test_times_become_aware_utc() -> None:
    paris = timezone(timedelta(hours=1))
    doc = Document(url="https://e.com/", source=SRC, published_at=datetime(2026, 3, 1, 13, 0, tzinfo=paris))
    assert doc.published_at == datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    naive = Document(url="https://e.com/", source=SRC, published_at=datetime(2026, 3, 1, 12, 0))
    assert naive.published_at is not None and naive.published_at.tzinfo == timezone.utc
    assert doc.collected_at.tzinfo == timezone.utc


def test_grading_parses_3x5x2_codes_and_defaults_from_source() -> None:
    assert Grading.parse("1ac").code == "1AC"
    with pytest.raises(ValueError, match="3x5x2"):
        Grading.parse("4ZP")
    doc = Document(url="https://e.com/", source=SRC)
    assert doc.grading is not None and doc.grading.code == "2BP"
    assert Document(url="https://e.com/", source=SRC, grading="3EC").grading.code == "3EC"  # type: ignore[union-attr]


def test_invalid_records_are_rejected_on_construction() -> None:
    with pytest.raises(ValidationError):
        Document(url="  ", source=SRC)
    with pytest.raises(ValidationError):
        Entity(text="x", label="PHONE", start=5, end=2, extractor="t")
    with pytest.raises(ValidationError):
        Document(url="https://e.com/", source=SRC, unknown_field=1)  # type: ignore[call-arg]


def test_json_round_trip_preserves_everything() -> None:
    doc = Document(
        url="https://e.com/a", source=SRC, title="T", text="Call 07700 900123",
        entities=[Entity(text="07700 900123", label="PHONE", start=5, end=17, normalized="+447700900123", extractor="phone")],
    )
    assert Document.from_json(doc.to_json()) == doc


def test_an_untitled_item_is_displayed_by_the_first_words_of_its_text() -> None:
    src = SourceRef(id="social", name="Social", kind="social")
    post = Document(url="https://s.example/1", source=src, title="  ", text="Short   post\nabout a van.")
    assert post.display_title() == "Short post about a van."
    long = Document(url="https://s.example/2", source=src, text=" ".join(f"w{i}," for i in range(30)))
    assert long.display_title() == "w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11…"
    unbroken = Document(url="https://s.example/3", source=src, text="x" * 200)
    assert unbroken.display_title() == "x" * 90 + "…"
    assert Document(url="https://s.example/4", source=src).display_title() == "https://s.example/4"
    assert Document(url="https://s.example/5", source=src, title=" A  title ").display_title() == "A title"


def test_a_document_belongs_to_the_story_of_its_cluster_else_its_own() -> None:
    src = SourceRef(id="news", name="News", kind="feed")
    doc = Document(url="https://n.example/1", source=src)
    assert doc.story_id == doc.id
    assert doc.model_copy(update={"cluster_id": "c" * 32}).story_id == "c" * 32
