from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from spiders.extract import extract_article, parse_date

SITE = Path(__file__).parent / "fixtures" / "site"


def test_extract_article_keeps_story_and_drops_boilerplate() -> None:
    fields = extract_article((SITE / "articles" / "a2.html").read_bytes(), "http://news.example/a2")
    assert fields.title == "Cocaine worth £12m found hidden in banana shipment at Felixstowe"
    assert "150 kilograms of cocaine" in fields.text
    assert "rip-on rip-off" in fields.text
    assert fields.author == "Tom Baker"
    assert fields.published_at == datetime(2025, 3, 5, 8, 30, tzinfo=timezone.utc)
    for boilerplate in ("COMMENT-MARKER", "cookie", "All rights reserved", "Weather", "Most read"):
        assert boilerplate not in fields.text


def test_extract_article_returns_no_text_for_empty_or_garbage_pages() -> None:
    assert extract_article(b"", "http://x/").text == ""
    assert extract_article(b"\x00\xff\xfe\x00garbage", "http://x/").text == ""
    assert extract_article((SITE / "articles" / "empty.html").read_bytes(), "http://x/").text == ""


def test_parse_date_returns_aware_utc() -> None:
    expected = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)
    assert parse_date("Tue, 04 Mar 2025 10:00:00 +0100") == expected
    assert parse_date("2025-03-04T10:00:00+0100") == expected
    assert parse_date("2025-03-04T09:00:00Z") == expected
    assert parse_date("not a date") is None


def test_extract_article_reports_the_language_the_page_declares() -> None:
    from spiders.extract import declared_language

    body = "<p>" + "Die Polizei hat in Hamburg drei Männer festgenommen und Kokain beschlagnahmt. " * 4 + "</p>"
    html = f'<!doctype html><html lang="de-DE"><head><title>Razzia</title></head><body><article>{body}</article></body></html>'
    assert extract_article(html, "https://example.de/a").language == "de-de"
    assert declared_language(b"<html><body>no lang</body></html>") is None
    assert declared_language('<html xml:lang="fr" lang="fr">') == "fr"
