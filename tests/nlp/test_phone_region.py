"""The region nationally written phone numbers are read in: source, URL, places, language, default."""

from __future__ import annotations

import pytest

from nlp.phone_region import choose_phone_region, region_of_places, region_of_url
from osintel.records import Document, Location, Mention, SourceRef


def _doc(url: str = "http://127.0.0.1:8000/a", *, country: str | None = None, platform: str | None = None) -> Document:
    return Document(url=url, source=SourceRef(id="s", country=country, platform=platform), text="x")


def _place(country: str, mentions: int = 1, kind: str = "city") -> Location:
    return Location(name=country, kind=kind, country_code=country, mention=country,  # type: ignore[arg-type]
                    mentions=[Mention(text=country, start=i, end=i + 1) for i in range(mentions)])


def test_the_sources_declared_country_wins_over_every_other_clue() -> None:
    doc = _doc("https://www.lemonde.fr/a", country="GB")
    assert choose_phone_region(doc, locations=[_place("FR")], language="pl", default="US") == ("GB", "source")


@pytest.mark.parametrize(
    ("url", "region"),
    [("https://www.bbc.co.uk/news/1", "GB"), ("https://www.lemonde.fr/a", "FR"), ("https://elpais.es/x", "ES"),
     ("https://startup.io/x", None), ("https://t.me/s/channel", None), ("https://news.example.com/a", None),
     ("https://europa.eu/a", None), ("http://127.0.0.1:8765/a", None)],
)
def test_a_country_code_domain_names_its_country_but_generic_ones_do_not(url: str, region: str | None) -> None:
    assert region_of_url(url) == region


def test_the_url_counts_for_web_pages_but_not_for_social_media_posts() -> None:
    assert choose_phone_region(_doc("https://www.lemonde.fr/a"), locations=[], language=None, default="GB") == ("FR", "url")
    post = _doc("https://mastodon.fr/@x/1", platform="mastodon")
    assert choose_phone_region(post, locations=[], language=None, default="GB") == ("GB", "default")


def test_places_decide_only_when_one_country_has_most_mentions() -> None:
    assert region_of_places([_place("FR", 3), _place("GB", 1)]) == "FR"
    assert region_of_places([_place("FR", 1), _place("GB", 1)]) is None
    assert region_of_places([_place("ES", 1), _place("FR", 1, kind="continent")]) == "ES"
    assert choose_phone_region(_doc(), locations=[_place("ES", 2)], language="it", default="GB") == ("ES", "places")


def test_a_language_of_one_country_decides_when_nothing_else_does() -> None:
    assert choose_phone_region(_doc(), locations=[], language="pl", default="GB") == ("PL", "language")
    assert choose_phone_region(_doc(), locations=[], language="fr", default="GB") == ("GB", "default")
