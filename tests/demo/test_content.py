from __future__ import annotations

import time
from collections import Counter

import base58
import bech32
import phonenumbers
import pytest
from Crypto.Hash import keccak
from schwifty import IBAN

from demo import METHOD_IDS, build_corpus
from demo.content import EPOCH


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(2026)


def _eip55_ok(address: str) -> bool:
    raw = address[2:]
    digest = keccak.new(digest_bits=256, data=raw.lower().encode()).hexdigest()
    return all((c.upper() if int(digest[i], 16) >= 8 else c.lower()) == c
               for i, c in enumerate(raw) if c.isalpha())


def test_corpus_is_deterministic_for_a_seed_and_differs_across_seeds(corpus):
    again = build_corpus(2026)
    assert [(a.path, a.paragraphs, a.planted) for a in again] == [(a.path, a.paragraphs, a.planted) for a in corpus]
    other = build_corpus(7)
    assert [a.paragraphs for a in other] != [a.paragraphs for a in corpus]


def test_corpus_builds_quickly():
    start = time.perf_counter()
    build_corpus(99)
    assert time.perf_counter() - start < 2.0


def test_corpus_has_enough_articles_feeds_and_languages(corpus):
    assert len(corpus) >= 380
    assert len({a.path for a in corpus}) == len(corpus)
    assert sum(1 for a in corpus if a.feed) >= 300
    assert sum(1 for a in corpus if a.feed is None) >= 60
    langs = Counter(a.lang for a in corpus if a.lang != "en")
    assert sum(langs.values()) >= 45 and set(langs) == {"fr", "es", "de"}
    international = [a for a in corpus if a.feed == "international"]
    assert len(international) >= 45 and {a.lang for a in international} == {"fr", "es", "de"}


def test_articles_are_dated_before_the_fixed_epoch_and_archive_is_older(corpus):
    assert all(a.published_at.tzinfo is not None and a.published_at < EPOCH for a in corpus)
    newest_archive = max(a.published_at for a in corpus if a.feed is None)
    oldest_feed = min(a.published_at for a in corpus if a.feed)
    assert newest_archive < oldest_feed


def test_article_length_is_realistic(corpus):
    for article in corpus:
        minimum = 200 if article.lang == "de" else 250  # German compounds make fewer, longer words
        assert minimum <= article.word_count <= 600, (article.path, article.word_count)


def test_articles_in_the_same_topic_are_not_near_identical(corpus):
    en = [a for a in corpus if a.lang == "en"]
    bodies = {"\n".join(a.paragraphs[:4]) for a in en}
    assert len(bodies) == len(en)


def test_every_article_declares_known_methods(corpus):
    for article in corpus:
        assert article.planted["methods"], article.path
        assert set(article.planted["methods"]) <= METHOD_IDS
    covered = {m for a in corpus for m in a.planted["methods"]}
    assert len(covered) >= 28


def test_planted_identifiers_are_valid_and_present_in_the_text(corpus):
    seen = Counter()
    for article in corpus:
        text = article.text
        for key, values in article.planted.items():
            if key == "methods":
                continue
            for value in values:
                assert value in text, (article.path, key, value)
                seen[key] += 1
        for phone in article.planted["phones"]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "GB")), phone
        for email in article.planted["emails"]:
            assert email.rsplit("@", 1)[1] in {"example.com", "example.org", "example.net"}
        for iban in article.planted["ibans"]:
            IBAN(iban)  # raises on a bad checksum or bank code
        for address in article.planted["btc"]:
            if address.startswith("bc1"):
                assert bech32.decode("bc", address)[0] == 0
            else:
                assert base58.b58decode_check(address)[0] == 0
        for address in article.planted["eth"]:
            assert _eip55_ok(address) and address != address.lower(), address
        for plate in article.planted["plates"]:
            assert len(plate) == 8 and plate[:2].isalpha() and plate[2:4].isdigit() and plate[5:].isalpha()
            assert not set(plate[:2]) & set("IQZ") and not set(plate[5:]) & set("IQ")
    for key in ("phones", "emails", "btc", "eth", "ibans", "plates", "places", "people", "orgs"):
        assert seen[key] >= 20, (key, seen[key])


def test_eip55_check_rejects_a_wrong_checksum():
    bad = "0x" + "aBcDeF" * 6 + "abcd"
    assert not _eip55_ok(bad) or bad == bad.lower()


def test_comments_are_not_part_of_the_article_text(corpus):
    for article in corpus[:50]:
        assert 2 <= len(article.comments) <= 5
        for comment in article.comments:
            assert comment.text not in article.text


def test_every_drama_range_yields_valid_numbers():
    import random

    from demo import identifiers

    rng = random.Random(0)
    for _ in range(2000):
        number = identifiers.uk_phone(rng)
        assert phonenumbers.is_valid_number(phonenumbers.parse(number, "GB")), number
