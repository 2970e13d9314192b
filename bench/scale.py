"""Search at scale: index N realistic documents, then time each query shape three ways.

Documents: ``bench/scale_corpus.py`` (the demo generator's text with enrichment synthesised
from what the generator planted, 40 sources, two years of dates, 4% near-duplicate copies).

Indexing: every batch is indexed by :class:`~indexer.tantivy_index.TantivyIndex` (mapping,
normalisation, delete-by-id, commit) and, for the raw reference, by a bare tantivy-py writer on
a second directory with the same schema and batch (documents mapped untimed beforehand: the
reference is tantivy's own cost for the same field values). Search, per query shape, p50/p95 of:

- ``index``: :meth:`TantivyIndex.search` (limit 20; the Index API's defaults, no collapse);
  ``index cold``: the same with the index's per-version cache emptied before each search (what
  a query costs the first time after a commit); ``collapsed cold``: the same collapsed (the
  HTTP API's default), cache emptied (``http`` repeats one query, so it is warm);
- ``http``: ``GET /api/search`` on a real ``osintel serve`` (uvicorn) on 127.0.0.1 with an
  analyst key, the API's defaults (copies collapsed), and again with ``collapse=false``;
- ``raw``: the same query built with tantivy-py's own parser and constructors on the same
  directory, ``search(limit 20, count)`` plus loading the 20 stored documents. tantivy has no
  geo query: ``raw`` for near/bbox is the bounding box as range queries on the per-location
  lat/lon fast fields; ``raw cells`` is the term set of the cells our cover used.

With ``--clients N``: N concurrent keep-alive HTTP clients send ``--client-requests`` searches
in total, cycling through the shapes (API defaults; with ``--cold-clients`` each query made
distinct by ``AND NOT source:absent-N``, same hits, so no cache answers it), after the
single-client timings; prints
requests/s, p50/p95 overall and per shape, and the server's CPU ms per request (its processes'
user+system time over the run, children included).

Also: peak RSS of this process and of the server, index size against the raw text, load.
Run: ``.venv/bin/python bench/scale.py [--docs 1000000] [--data-dir DIR] [--repeat 30] [--clients 10]``;
``--reuse --keep --data-dir DIR`` searches an index built before; ``--serve-args "--api-workers 2"``
passes options to ``osintel serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tantivy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.base import GeoBox, GeoDistance  # noqa: E402
from indexer.query_geo import bounding_ranges  # noqa: E402
from indexer.tantivy_cache import VersionCache  # noqa: E402
from indexer.tantivy_geo import cover  # noqa: E402
from indexer.tantivy_index import TantivyIndex  # noqa: E402
from indexer.tantivy_schema import (  # noqa: E402
    GEO_CELL,
    GEO_SLOTS,
    TEXT_ANALYZER,
    build_schema,
    geo_slot_fields,
    text_analyzer,
    to_tantivy,
)
from osintel.records import Document  # noqa: E402
from scale_corpus import batches  # noqa: E402  (api_load.py uses scale.batches too)

HEAP = 100_000_000
FACETS = ("source", "language", "method", "country")
NEAR = GeoDistance(51.51, -0.13, 50.0)
BOX = GeoBox(52.0, -1.0, 51.0, 0.5)


@dataclass(frozen=True)
class Shape:
    """One query shape: the analyst query, facets, and its raw tantivy form."""

    name: str
    q: str
    facets: tuple[str, ...] = ()
    parse: str | None = None  # tantivy's own query syntax, on title and text
    term: tuple[str, str] | None = None  # field, value
    geo: GeoDistance | GeoBox | None = None


SHAPES = (
    Shape("term", "cocaine", parse="cocaine"),
    Shape("AND", "cocaine AND port", parse="cocaine AND port"),
    Shape("method:", "method:drugs.county_lines", term=("method", "drugs.county_lines")),
    Shape("facets", "", facets=FACETS),
    Shape("phrase", '"county lines"', parse='"county lines"'),
    Shape("near 50 km", 'near:"51.51,-0.13,50km"', geo=NEAR),
    Shape("bbox", 'bbox:"52.0,-1.0,51.0,0.5"', geo=BOX),
)


# --- building ----------------------------------------------------------------------------


@dataclass
class Built:
    docs: int = 0
    text_bytes: int = 0
    generate_s: float = 0.0
    ours_s: float = 0.0
    raw_s: float = 0.0
    index_bytes: int = 0
    raw_index_bytes: int = 0
    peak_rss_mb: float = 0.0


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _raw_index(path: Path) -> tantivy.Index:
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(build_schema(), path=str(path))
    index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
    return index


def build(index_dir: Path, raw_dir: Path, n: int, batch: int) -> Built:
    built = Built()
    ours = TantivyIndex(index_dir, writer_heap_bytes=HEAP)
    raw = _raw_index(raw_dir)
    threads = max(1, min(os.cpu_count() or 1, 8, HEAP // 15_000_000))  # as TantivyIndex does
    raw_writer = raw.writer(HEAP, threads)
    started = time.perf_counter()
    for docs in _timed_batches(n, batch, built):
        t0 = time.perf_counter()
        ours.upsert(docs)
        built.ours_s += time.perf_counter() - t0
        prepared = [to_tantivy(doc) for doc in docs]  # untimed: the raw reference gets mapped values
        t0 = time.perf_counter()
        for doc in prepared:
            raw_writer.add_document(doc)
        raw_writer.commit()
        built.raw_s += time.perf_counter() - t0
        built.docs += len(docs)
        built.text_bytes += sum(len(d.title.encode()) + len(d.text.encode()) for d in docs)
        if built.docs % (batch * 50) == 0 or built.docs == n:
            elapsed = time.perf_counter() - started
            print(f"  {built.docs:>9,} docs  {elapsed:7.0f} s  ours {built.docs / built.ours_s:6,.0f}/s  "
                  f"raw {built.docs / built.raw_s:6,.0f}/s  load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    ours.close()
    raw_writer.wait_merging_threads()
    built.index_bytes, built.raw_index_bytes = _du(index_dir), _du(raw_dir)
    built.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return built


def _timed_batches(n: int, size: int, built: Built) -> Iterator[list[Document]]:
    it = batches(n, size)
    while True:
        t0 = time.perf_counter()
        docs = next(it, None)
        built.generate_s += time.perf_counter() - t0
        if docs is None:
            return
        yield docs


# --- timing ------------------------------------------------------------------------------


@dataclass
class Timing:
    p50: float
    p95: float
    hits: int
    cpu_ms: float = 0.0  # CPU per search of the process doing the work (steadier than wall time under load)


@dataclass
class Row:
    shape: Shape
    cells: dict[str, Timing] = field(default_factory=dict)


def _measure(run: Callable[[], int], repeat: int, cpu: Callable[[], float] = time.process_time) -> Timing:
    for _ in range(3):
        hits = run()
    times = []
    cpu0 = cpu()
    for _ in range(repeat):
        t0 = time.perf_counter()
        hits = run()
        times.append((time.perf_counter() - t0) * 1000)
    cpu_ms = (cpu() - cpu0) * 1000 / repeat
    times.sort()
    return Timing(statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], hits, cpu_ms)


def _raw_query(index: tantivy.Index, searcher: tantivy.Searcher, shape: Shape) -> dict[str, tantivy.Query]:
    schema = index.schema
    must = tantivy.Occur.Must
    should = tantivy.Occur.Should
    if shape.parse is not None:
        return {"raw": index.parse_query(shape.parse, ["title", "text"])}
    if shape.term is not None:
        return {"raw": tantivy.Query.term_query(schema, *shape.term)}
    if shape.geo is None:
        return {"raw": tantivy.Query.all_query()}
    boxes = []
    for south, north, west, east in bounding_ranges(shape.geo):
        for slot in range(GEO_SLOTS):
            lat, lon = geo_slot_fields(slot)
            boxes.append(tantivy.Query.boolean_query([
                (must, tantivy.Query.range_query(schema, lat, tantivy.FieldType.Float, south, north, True, True)),
                (must, tantivy.Query.range_query(schema, lon, tantivy.FieldType.Float, west, east, True, True)),
            ]))
    cells = sorted(cover(searcher, shape.geo).cells)
    return {
        "raw": tantivy.Query.boolean_query([(should, q) for q in boxes]),
        "raw cells": tantivy.Query.term_set_query(schema, GEO_CELL, cells),
    }


def time_raw(index_dir: Path, shape: Shape, repeat: int) -> dict[str, Timing]:
    index = tantivy.Index.open(str(index_dir))
    index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
    searcher = index.searcher()
    out = {}
    for name, query in _raw_query(index, searcher, shape).items():

        def run(query: tantivy.Query = query) -> int:
            result = searcher.search(query, 20, count=True)
            for _, address in result.hits:
                searcher.doc(address)
            if shape.facets:
                searcher.aggregate(query, {f: {"terms": {"field": f, "size": 20}} for f in shape.facets})
            return int(getattr(result, "count", 0) or 0)

        out[name] = _measure(run, repeat)
    return out


def time_index(index: TantivyIndex, shape: Shape, repeat: int, *, cold: bool = False) -> Timing:
    """``cold``: the per-version cache (facet/story counts, resolved geo filters) emptied before
    each search, as for a query first asked since the last commit."""

    def run() -> int:
        if cold:
            index.cache = VersionCache()
        return index.search(shape.q, limit=20, facets=shape.facets).total

    return _measure(run, repeat)


def time_index_collapsed(index: TantivyIndex, shape: Shape, repeat: int, *, cold: bool) -> Timing:
    """The Index API with the HTTP API's defaults (copies collapsed)."""

    def run() -> int:
        if cold:
            index.cache = VersionCache()
        return index.search(shape.q, limit=20, facets=shape.facets, collapse=True).total

    return _measure(run, repeat)


def time_http(client: httpx.Client, shape: Shape, repeat: int, server_pid: int, **extra: str) -> Timing:
    params: dict[str, Any] = {"q": shape.q, "limit": 20, **extra}
    if shape.facets:
        params["facet"] = list(shape.facets)

    def run() -> int:
        response = client.get("/api/search", params=params)
        response.raise_for_status()
        return int(response.json()["total"])

    pids = _tree(server_pid)
    return _measure(run, repeat, cpu=lambda: _cpu_s(pids))


# --- the server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api_key(data_dir: Path) -> str:
    from osintel import apikeys
    from osintel.settings import load_settings
    from osintel.store import ControlStore

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    with ControlStore(settings.store_path) as store:
        _, secret = apikeys.create_key(store, role="analyst", name="scale bench")
    return secret


def _serve(data_dir: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """``osintel serve`` on a free port with ``extra`` arguments, once it answers ``/health``
    (its output is discarded: an unread pipe would stall a server that logs every request)."""
    port = _free_port()
    env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_API_RATE_LIMIT_PER_SECOND": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    server = subprocess.Popen([sys.executable, "-m", "osintel", "serve", "--port", str(port), *extra], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the API server did not start")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (API worker processes)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            out.extend(_tree(int(child)))
    return out


def _cpu_s(pids: list[int]) -> float:
    """User+system CPU seconds of ``pids`` (their own, not of children already reaped)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    clients: int
    requests: int
    elapsed_s: float
    server_cpu_s: float
    latencies: dict[str, list[float]]  # per shape, ms
    errors: list[str]
    cold: bool = False


def _uncached(q: str, n: int) -> str:
    """``q`` made distinct by a clause that matches nothing to exclude (a source that does not
    exist), so that no cache of a previous request answers it; the hits stay the same."""
    clause = f"NOT source:absent-{n}"
    return clause if not q else f"({q}) AND {clause}"


async def _load(
    base: str, key: str, *, clients: int, requests: int, cold: bool = False
) -> tuple[float, dict[str, list[float]], list[str]]:
    jobs: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        jobs.put_nowait(n)
    latencies: dict[str, list[float]] = {shape.name: [] for shape in SHAPES}
    errors: list[str] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=120) as http:
            while True:
                try:
                    n = jobs.get_nowait()
                except asyncio.QueueEmpty:
                    return
                shape = SHAPES[n % len(SHAPES)]
                params: dict[str, Any] = {"q": _uncached(shape.q, n) if cold else shape.q, "limit": 20}
                if shape.facets:
                    params["facet"] = list(shape.facets)
                t0 = time.perf_counter()
                response = await http.get("/api/search", params=params)
                latencies[shape.name].append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, errors


def run_clients(base: str, key: str, server_pid: int, *, clients: int, requests: int, cold: bool) -> Load:
    asyncio.run(_load(base, key, clients=clients, requests=min(requests, 5 * len(SHAPES))))  # warm-up
    pids = _tree(server_pid)
    cpu0 = _cpu_s(pids)
    elapsed, latencies, errors = asyncio.run(_load(base, key, clients=clients, requests=requests, cold=cold))
    return Load(clients, requests, elapsed, _cpu_s(pids) - cpu0, latencies, errors, cold)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    if not ordered:
        return 0.0, 0.0
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def print_load(load: Load) -> None:
    every = [ms for values in load.latencies.values() for ms in values]
    p50, p95 = _percentiles(every)
    kind = "each made distinct (no cache answers it)" if load.cold else "API defaults"
    print(f"\n{load.clients} concurrent clients, {load.requests} searches cycling through the shapes ({kind}): "
          f"{load.requests / load.elapsed_s:.1f} requests/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
          f"server CPU {load.server_cpu_s * 1000 / load.requests:.1f} ms per request; errors {len(load.errors)}")
    for name, values in load.latencies.items():
        s50, s95 = _percentiles(values)
        print(f"  {name:<18} p50 {s50:7.1f}  p95 {s95:7.1f}  ({len(values)})")
    for error in load.errors[:5]:
        print(f"  error: {error}")


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) RSS of a process, MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# --- main --------------------------------------------------------------------------------


def _fmt(t: Timing | None) -> str:
    return "—" if t is None else f"{t.p50:7.1f} / {t.p95:7.1f}"


def _cpu(t: Timing | None) -> str:
    return "—" if t is None else f"{t.cpu_ms:7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="documents per upsert/commit")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query and way")
    parser.add_argument("--data-dir", type=Path, help="where to build (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="search the index already built in --data-dir")
    parser.add_argument("--keep", action="store_true", help="keep the data directory afterwards")
    parser.add_argument("--clients", type=int, default=0, help="then N concurrent HTTP clients, mixed shapes")
    parser.add_argument("--client-requests", type=int, default=1000, help="searches in total for --clients")
    parser.add_argument("--only-clients", action="store_true", help="skip the single-client timings")
    parser.add_argument("--cold-clients", action="store_true",
                        help="make each client search distinct (AND NOT source:absent-N), so no cache answers it")
    parser.add_argument("--serve-args", default="", help="extra options for `osintel serve`, e.g. '--api-workers 2'")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="osintel-scale-")) / "data"
    index_dir, raw_dir = data_dir / "index", data_dir.parent / f"{data_dir.name}-raw-index"
    print(f"scale: {args.docs:,} documents in {data_dir}; load {os.getloadavg()}; {os.cpu_count()} cores",
          file=sys.stderr)
    built = None
    try:
        if not args.reuse:
            for path in (data_dir, raw_dir):
                shutil.rmtree(path, ignore_errors=True)
            built = build(index_dir, raw_dir, args.docs, args.batch)
            shutil.rmtree(raw_dir, ignore_errors=True)
        key = _api_key(data_dir)
        load_before = os.getloadavg()
        rows = [Row(shape) for shape in SHAPES]
        if not args.only_clients:
            index = TantivyIndex(index_dir)
            for row in rows:
                row.cells["index"] = time_index(index, row.shape, args.repeat)
                row.cells["index cold"] = time_index(index, row.shape, args.repeat, cold=True)
                row.cells["collapsed cold"] = time_index_collapsed(index, row.shape, args.repeat, cold=True)
                row.cells.update(time_raw(index_dir, row.shape, args.repeat))
            index.close()
        server, base = _serve(data_dir, shlex.split(args.serve_args))
        load = None
        try:
            if not args.only_clients:
                with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as client:
                    for row in rows:
                        row.cells["http"] = time_http(client, row.shape, args.repeat, server.pid)
                        row.cells["http collapse=false"] = time_http(client, row.shape, args.repeat, server.pid,
                                                                     collapse="false")
            if args.clients:
                load = run_clients(base, key, server.pid, clients=args.clients, requests=args.client_requests,
                                   cold=args.cold_clients)
            server_rss = max((_rss_mb(pid) for pid in _tree(server.pid)), key=lambda rss: rss[1])
        finally:
            server.terminate()
            server.wait(timeout=30)
        load_after = os.getloadavg()
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir.parent, ignore_errors=True)

    print(f"\n## scale: {args.docs:,} documents, batch {args.batch}, {args.repeat} timed runs per cell")
    print(f"load average (1/5/15 min) before searching {load_before}, after {load_after}")
    if built is not None:
        print(f"\nindexing: ours {built.docs / built.ours_s:,.0f} docs/s, raw tantivy-py {built.docs / built.raw_s:,.0f}"
              f" docs/s (ratio {built.raw_s / built.ours_s:.2f}); generating the documents took {built.generate_s:,.0f} s")
        print(f"index size {built.index_bytes / 1e6:,.0f} MB (raw tantivy-py's {built.raw_index_bytes / 1e6:,.0f} MB) "
              f"for {built.text_bytes / 1e6:,.0f} MB of title+text ({built.index_bytes / built.text_bytes:.2f}x)")
        print(f"peak RSS of the building process {built.peak_rss_mb:,.0f} MB")
    print(f"API server RSS {server_rss[0]:,.0f} MB (peak {server_rss[1]:,.0f} MB; the largest of its processes)")
    if not args.only_clients:
        ways = ["index", "index cold", "collapsed cold", "http", "http collapse=false", "raw", "raw cells"]
        print("\nms, p50 / p95        " + "".join(f"{w:>22}" for w in ways) + "    hits")
        for row in rows:
            cells = "".join(f"{_fmt(row.cells.get(w)):>22}" for w in ways)
            print(f"{row.shape.name:<20} {cells}    {row.cells['index'].hits:,}")
        print("\nCPU ms per search  " + "".join(f"{w:>22}" for w in ways) + "    (http: the server's processes)")
        for row in rows:
            cells = "".join(f"{_cpu(row.cells.get(w)):>22}" for w in ways)
            print(f"{row.shape.name:<20} {cells}")
    if load is not None:
        print_load(load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
