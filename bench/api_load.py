"""API load benchmark: ``GET /api/search`` with N concurrent clients over loopback.

Builds a data directory with synthetic documents in the tantivy index (``--generator scale``: the
demo generator's text with synthesised enrichment, :func:`bench.scale_corpus.make_document`; ``index``:
``bench/index.py``'s generator, also stored in the control store), creates an analyst key,
starts the real ``osintel serve --api-workers N`` in a child process (so the clients do not share
its interpreter), then runs ``--clients`` concurrent keep-alive clients for ``--requests``
searches in total, cycling through the issue's query shapes (term, AND, ``method:``, facets,
phrase, ``near:``). For each ``--api-workers`` value it prints requests/s, p50/p95/p99 latency,
CPU ms per search of the server's processes and of this (client) process, and the load average.
Every search writes its audit event (``synchronous=FULL``), as in production; the per-key rate
limit is switched off for the run.

Run: ``.venv/bin/python bench/api_load.py [--docs 5000] [--clients 10] [--requests 1000]
[--api-workers 1,2] [--data-dir DIR [--reuse]]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES: list[dict[str, Any]] = [
    {"q": "cocaine"},
    {"q": "cocaine AND port"},
    {"q": "method:drugs.county_lines"},
    {"q": "", "facet": ["source", "language", "method", "country"]},
    {"q": '"county lines"'},
    {"q": 'near:"51.51,-0.13,50km"'},
]


def _load_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses of the module look themselves up here
    spec.loader.exec_module(module)
    return module


def build(data_dir: Path, n_docs: int, generator: str) -> None:
    """Fill ``data_dir`` with ``n_docs`` documents (the index; the store too for ``index``)."""
    from indexer import open_index
    from osintel.settings import load_settings
    from osintel.store import ControlStore

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    index = open_index(settings)
    if generator == "scale":
        scale = _load_module("scale")
        for batch in scale.batches(n_docs, 1000):
            index.upsert(batch)
    else:
        docs = _load_module("index").make_documents(n_docs)
        with ControlStore(settings.store_path) as store:
            for doc in docs:
                store.add_collected(doc, content_sha256=doc.id)
            store.save_documents(docs)
        for start in range(0, len(docs), 1000):
            index.upsert(docs[start:start + 1000])
    index.close()


def api_key(data_dir: Path) -> str:
    from osintel import apikeys
    from osintel.settings import load_settings
    from osintel.store import ControlStore

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    with ControlStore(settings.store_path) as store:
        return apikeys.create_key(store, role="analyst", name="bench")[1]


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out.extend(_tree(int(child)))
    return out


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


#: Extra parameters for every search (``--param collapse=false``).
EXTRA: dict[str, str] = {}


async def _client(base: str, key: str, jobs: asyncio.Queue[int], latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        while True:
            try:
                n = jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await client.get("/api/search", params={**QUERIES[n % len(QUERIES)], **EXTRA})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")


async def load(base: str, key: str, *, clients: int, requests: int) -> tuple[float, list[float], list[str]]:
    jobs: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        jobs.put_nowait(n)
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(base, key, jobs, latencies, errors) for _ in range(clients)))
    return time.perf_counter() - started, latencies, errors


def _serve(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    return _load_module("scale")._serve(data_dir, ["--api-workers", str(workers)])  # type: ignore[no-any-return]


def run_one(data_dir: Path, key: str, workers: int, args: argparse.Namespace) -> bool:
    server, base = _serve(data_dir, workers)
    try:
        time.sleep(1.0)  # every worker up (the health check reached one of them)
        asyncio.run(load(base, key, clients=args.clients, requests=min(60, args.requests)))  # warm-up
        pids = _tree(server.pid)
        server_cpu, client_cpu = _cpu_seconds(pids), time.process_time()
        load_before = os.getloadavg()[0]
        elapsed, latencies, errors = asyncio.run(load(base, key, clients=args.clients, requests=args.requests))
        server_cpu, client_cpu = _cpu_seconds(pids) - server_cpu, time.process_time() - client_cpu
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    print(f"api-workers={workers}  docs={args.docs}  clients={args.clients}  requests={len(ms)}  "
          f"errors={len(errors)}  {' '.join(args.param)}")
    print(f"  throughput   {len(ms) / elapsed:.1f} requests/s over {elapsed:.1f} s")
    print(f"  latency ms   p50={q[49]:.1f}  p95={q[94]:.1f}  p99={q[98]:.1f}  max={ms[-1]:.1f}")
    print(f"  CPU ms per search: server {server_cpu * 1000 / len(ms):.1f} (all API processes), "
          f"client {client_cpu * 1000 / len(ms):.1f}")
    print(f"  load average before {load_before:.2f}; after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f}", flush=True)
    for error in errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    return not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--api-workers", default="1,2", help="comma-separated: one run per value")
    parser.add_argument("--generator", choices=("scale", "index"), default="scale")
    parser.add_argument("--data-dir", type=Path, help="build here (default: a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="use the index already built in --data-dir")
    parser.add_argument("--param", action="append", default=[], metavar="K=V",
                        help="an extra parameter for every search, e.g. collapse=false")
    args = parser.parse_args()
    EXTRA.update(p.split("=", 1) for p in args.param)

    with tempfile.TemporaryDirectory(prefix="osintel-api-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if not args.reuse:
            t0 = time.perf_counter()
            build(data_dir, args.docs, args.generator)
            print(f"built {args.docs} documents in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        key = api_key(data_dir)
        ok = [run_one(data_dir, key, int(n), args) for n in args.api_workers.split(",")]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
