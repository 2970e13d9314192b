"""Benchmark the embedded index's search features: geo filters, facets, cursor paging, histograms.

Builds a synthetic corpus in a temporary directory and prints latency figures (median and p95
over repeated runs) for each kind of request. Not a test: numbers depend on the machine.

    .venv/bin/python bench/search_features.py --docs 50000 --repeat 20
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from indexer.tantivy_index import TantivyIndex
from osintel.records import Document, Entity, Location, SourceRef

CITIES = {
    "London": (51.5074, -0.1278), "Croydon": (51.3762, -0.0982), "Reading": (51.4543, -0.9781),
    "Liverpool": (53.4084, -2.9916), "Manchester": (53.4808, -2.2426), "Rotterdam": (51.9244, 4.4777),
    "Antwerp": (51.2194, 4.4025), "Marseille": (43.2965, 5.3698), "Paris": (48.8566, 2.3522),
    "Hamburg": (53.5511, 9.9937), "Algeciras": (36.1408, -5.4562), "Lagos": (6.5244, 3.3792),
}
WORDS = (
    "cocaine heroin cannabis county lines port container vessel arrest raid police seized gang "
    "trafficking exploitation cash laundering phone burner wallet bitcoin route lorry border"
).split()
SOURCES = [SourceRef(id=f"src-{i}", name=f"Source {i}", grading=g) for i, g in enumerate(["1BP", "2BP", "3DC", "2CC"])]
START = datetime(2023, 1, 1, tzinfo=timezone.utc)


def make_docs(count: int, seed: int) -> list[Document]:
    rng = random.Random(seed)
    people = [f"person {i}" for i in range(500)]
    docs = []
    for i in range(count):
        city_names = rng.sample(sorted(CITIES), rng.choice([0, 1, 1, 2, 3]))
        # Minute resolution: many documents share a publication time.
        published = START + timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60 // 10) * 10)
        docs.append(
            Document(
                url=f"https://bench.example/{i}",
                source=rng.choice(SOURCES),
                title=" ".join(rng.choices(WORDS, k=6)),
                text=" ".join(rng.choices(WORDS, k=rng.randint(30, 120))),
                published_at=published if rng.random() > 0.05 else None,
                collected_at=published,
                language="en",
                entities=[
                    Entity(text=rng.choice(people), label="PERSON", start=0, end=5, extractor="bench"),
                    Entity(text=f"07700 9{rng.randrange(100000):05d}", label="PHONE", start=10, end=22, extractor="bench"),
                ],
                locations=[
                    Location(name=c, lat=CITIES[c][0] + rng.uniform(-0.2, 0.2),
                             lon=CITIES[c][1] + rng.uniform(-0.2, 0.2), mention=c)
                    for c in city_names
                ],
            )
        )
    return docs


def timed(repeat: int, call: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def cursor_at(index: TantivyIndex, query: str, sort: str, depth: int, page: int) -> str | None:
    cursor = None
    walked = 0
    while walked < depth:
        result = index.search(query, limit=page, sort=sort, cursor=cursor)  # type: ignore[arg-type]
        walked += len(result.hits)
        cursor = result.next_cursor
        if cursor is None:
            break
    return cursor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs = make_docs(args.docs, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        index = TantivyIndex(Path(tmp), writer_heap_bytes=200_000_000, max_page_size=500)
        began = time.perf_counter()
        for start in range(0, len(docs), 5000):
            index.upsert(docs[start : start + 5000])
        elapsed = time.perf_counter() - began
        print(f"indexed {len(docs)} docs in {elapsed:.1f}s ({len(docs) / elapsed:,.0f} docs/s)")
        deep_date = cursor_at(index, "*", "-published", args.docs * 8 // 10, 500)
        deep_rel = cursor_at(index, "cocaine", "relevance", 5000, 500)
        cases: dict[str, Callable[[], object]] = {
            "term, relevance, 20 hits": lambda: index.search("cocaine", limit=20),
            "match-all, -published, 20 hits": lambda: index.search("*", limit=20, sort="-published"),
            "cursor page at 80% depth, -published": lambda: index.search("*", limit=20, sort="-published", cursor=deep_date),
            "cursor page at depth 5000, relevance": lambda: index.search("cocaine", limit=20, cursor=deep_rel),
            'near:"51.51,-0.13,25km"': lambda: index.search('near:"51.51,-0.13,25km"', limit=20),
            'near:... + term': lambda: index.search('cocaine near:"51.51,-0.13,25km"', limit=20),
            'bbox:"54,-3.5,53,-2"': lambda: index.search('bbox:"54,-3.5,53,-2"', limit=20),
            "facets source,grading,entity:PERSON,entity:PHONE": lambda: index.search(
                "*", limit=0, facets=["source", "grading", "entity:PERSON", "entity:PHONE"]
            ),
            "histogram week (all docs)": lambda: index.search("*", limit=0, histogram="week"),
            "histogram day (all docs)": lambda: index.search("*", limit=0, histogram="day"),
        }
        totals = {name: index.search(q, limit=0).total for name, q in (
            ("near", 'near:"51.51,-0.13,25km"'), ("bbox", 'bbox:"54,-3.5,53,-2"'))}
        print(f"matches: near London 25 km = {totals['near']}, bbox Liverpool/Manchester = {totals['bbox']}")
        for name, call in cases.items():
            median, p95 = timed(args.repeat, call)
            print(f"{name:<52} median {median:8.2f} ms   p95 {p95:8.2f} ms")
        index.close()


if __name__ == "__main__":
    main()
