"""Index benchmark: documents/second into each backend, and search latency for analyst queries.

For the same synthetic documents in the same run it measures:

- ``tantivy``: :class:`~indexer.tantivy_index.TantivyIndex.upsert` in batches;
- ``elasticsearch``: :class:`~indexer.elastic.ElasticIndex.upsert` (streaming_bulk, per-item
  checks, versioned writes, refresh=wait_for per batch), next to a bare ``helpers.bulk`` loop
  of the same documents into a second index with the same mapping and one refresh at the end;
  the ratio says what our bookkeeping costs;
- p50/p95 latency of five typical analyst queries on each backend (after one warm-up each).

The cluster is osmem-server on 127.0.0.1 (in memory, behind the test proxy) unless ``--es-url``
names a real one. Run: ``.venv/bin/python bench/index.py [--docs 100000] [--repeat 30]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.base import Index  # noqa: E402
from osintel.records import Document, Entity, Location, MethodHit, SourceRef  # noqa: E402

BATCH = 500
QUERIES = [
    "cocaine",
    '"county lines" AND method:drugs.*',
    'phone:"07700 900123"',
    "country:GB AND published:[2024-01-01 TO 2024-12-31] firearms",
    'near:"51.51,-0.13,50km" NOT category:fraud',
]
_WORDS = ("police seized cocaine heroin firearms cash vessel port container border lorry arrest "
          "raid gang network county lines money laundering fraud victims smuggling boat route "
          "warehouse shipment suspects court charged investigation officers market dealer").split()
_PLACES = [("London", "GB", 51.51, -0.13), ("Liverpool", "GB", 53.41, -2.98), ("Rotterdam", "NL", 51.92, 4.48),
           ("Marseille", "FR", 43.30, 5.37), ("Calais", "FR", 50.95, 1.86), ("Antwerp", "BE", 51.22, 4.40)]
_METHODS = [("drugs.county_lines", "drugs"), ("drugs.maritime_smuggling", "drugs"), ("firearms.conversion", "firearms"),
            ("fraud.romance", "fraud"), ("oic.small_boat", "oic")]


def make_documents(n: int, seed: int = 7) -> list[Document]:
    """``n`` reproducible news-like documents with entities, methods and geocoded places."""
    rng = random.Random(seed)
    sources = [SourceRef(id=f"src-{i}", name=f"Source {i}", kind="feed") for i in range(12)]
    start = datetime(2023, 1, 1, tzinfo=timezone.utc)
    docs = []
    for i in range(n):
        words = rng.choices(_WORDS, k=rng.randint(40, 160))
        text = " ".join(words)
        place = rng.choice(_PLACES)
        mid, cat = rng.choice(_METHODS)
        phone = "07700 900123" if i % 997 == 0 else f"07700 9{rng.randint(10000, 99999)}"
        docs.append(Document(
            url=f"https://bench.example/{i}", source=rng.choice(sources),
            title=" ".join(rng.choices(_WORDS, k=6)), text=text + f" call {phone} in {place[0]}",
            published_at=start + timedelta(hours=rng.randint(0, 24 * 700)), collected_at=start,
            language="en", relevance=round(rng.random(), 3),
            entities=[Entity(text=phone, label="PHONE", start=0, end=len(phone), extractor="bench"),
                      Entity(text=place[0], label="GPE", start=0, end=len(place[0]), extractor="bench")],
            methods=[MethodHit(id=mid, label=mid, category=cat, confidence=0.8, evidence=text[:60], matched_by="pattern")],
            locations=[Location(name=place[0], country_code=place[1], lat=place[2], lon=place[3], mention=place[0])],
        ))
    return docs


def index_rate(index: Index, docs: list[Document]) -> float:
    started = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        index.upsert(docs[i : i + BATCH])
    return len(docs) / (time.perf_counter() - started)


def bare_bulk_rate(client: Any, name: str, docs: list[Document]) -> float:
    """The floor: plain helpers.bulk of the same sources, one refresh at the end."""
    from elasticsearch import helpers

    from indexer.es_mapping import index_body, to_source

    client.indices.create(index=name, **index_body())
    started = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        actions = ({"_index": name, "_id": d.id, "_source": to_source(d)} for d in docs[i : i + BATCH])
        helpers.bulk(client, actions, chunk_size=BATCH)
    client.indices.refresh(index=name)
    rate = len(docs) / (time.perf_counter() - started)
    client.indices.delete(index=name)
    return rate


def latencies(index: Index, repeat: int) -> dict[str, tuple[float, float, int]]:
    out = {}
    for query in QUERIES:
        index.search(query, limit=20, facets=["source", "method"])  # warm-up
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = index.search(query, limit=20, facets=["source", "method"])
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[query] = (statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], result.total)
    return out


def _proxy(upstream: str) -> Any:
    path = Path(__file__).resolve().parent.parent / "tests" / "indexer" / "esproxy.py"
    spec = importlib.util.spec_from_file_location("esproxy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EsProxy(upstream).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--es-url", default="", help="a real cluster instead of osmem-server")
    args = parser.parse_args()

    from indexer.elastic import ElasticIndex, ElasticOptions
    from indexer.tantivy_index import TantivyIndex

    docs = make_documents(args.docs)
    print(f"documents: {len(docs)}, batch {BATCH}, search repeats {args.repeat}")
    server = None
    url = args.es_url
    if not url:
        from osmem_server import OsmemServer

        server = OsmemServer.start(japanese=False)
        proxy = _proxy(server.url)
        url = proxy.url
        print("cluster: osmem-server (in memory) behind the header proxy on 127.0.0.1")
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory(prefix="osintel-bench-") as tmp:
            tantivy = TantivyIndex(Path(tmp) / "index")
            t_rate = index_rate(tantivy, docs)
            es = ElasticIndex(ElasticOptions(urls=(url,), index_prefix=prefix, request_timeout=120.0))
            e_rate = index_rate(es, docs)
            bare = bare_bulk_rate(es.client, f"{prefix}-bare", docs)
            print(f"\nindexing (docs/s): tantivy {t_rate:,.0f} | elasticsearch {e_rate:,.0f} | "
                  f"bare helpers.bulk {bare:,.0f} | ours/bare {e_rate / bare:.2f}")
            print(f"\nsearch latency, limit 20 + source/method facets (ms): p50 / p95 [hits]")
            t_lat, e_lat = latencies(tantivy, args.repeat), latencies(es, args.repeat)
            for query in QUERIES:
                (tp50, tp95, tn), (ep50, ep95, en) = t_lat[query], e_lat[query]
                print(f"  {query:<58} tantivy {tp50:6.1f} / {tp95:6.1f} [{tn}]   es {ep50:6.1f} / {ep95:6.1f} [{en}]")
            tantivy.close()
            es.client.options(ignore_status=404).indices.delete(index=f"{prefix}-documents-v*")
            es.close()
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
