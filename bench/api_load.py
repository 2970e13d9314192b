"""API load benchmark: ``GET /api/search`` with N concurrent clients over loopback.

Builds a data directory with synthetic documents (``bench/index.py``'s generator) in the control
store and the tantivy index, creates an analyst key, starts the real app under uvicorn in a child
process (so the clients do not share its interpreter), then runs ``--clients`` concurrent
keep-alive clients for ``--requests`` searches in total, cycling through typical analyst queries
with facets. Prints requests/s and p50/p95/p99 latency. Every search writes its audit event
(``synchronous=FULL``), as in production; the per-key rate limit is switched off for the run.

Run: ``.venv/bin/python bench/api_load.py [--docs 5000] [--clients 10] [--requests 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import socket
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
    {"q": '"county lines"', "method": "drugs.*"},
    {"q": "firearms", "country": "GB", "published_from": "2023-03-01", "published_to": "2023-12-31"},
    {"q": "port container", "near": "51.92,4.48,50km"},
    {"q": "fraud", "sort": "-published", "histogram": "month"},
    {"q": "", "facet": ["source", "country", "method"], "limit": 50},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(data_dir: Path, n_docs: int) -> str:
    """Fill ``data_dir`` with ``n_docs`` documents (store + index); returns an analyst key."""
    from indexer import open_index
    from osintel import apikeys
    from osintel.settings import load_settings
    from osintel.store import ControlStore

    spec = importlib.util.spec_from_file_location("bench_index", ROOT / "bench" / "index.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docs = module.make_documents(n_docs)
    settings = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    with ControlStore(settings.store_path) as store:
        for doc in docs:
            store.add_collected(doc, content_sha256=doc.id)
        store.save_documents(docs)
        index = open_index(settings)
        for start in range(0, len(docs), 1000):
            index.upsert(docs[start:start + 1000])
        index.close()
        _, secret = apikeys.create_key(store, role="analyst", name="bench")
    return secret


async def _client(base: str, key: str, jobs: asyncio.Queue[int], latencies: list[float], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        while True:
            try:
                n = jobs.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await client.get("/api/search", params=QUERIES[n % len(QUERIES)])
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="osintel-api-load-") as tmp:
        data_dir = Path(tmp) / "data"
        t0 = time.perf_counter()
        key = build(data_dir, args.docs)
        print(f"built {args.docs} documents in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        port = _free_port()
        env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_API_RATE_LIMIT_PER_SECOND": "0"}
        server = subprocess.Popen(
            [sys.executable, "-m", "osintel", "serve", "--port", str(port)], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the API server did not start")
            asyncio.run(load(base, key, clients=args.clients, requests=min(50, args.requests)))  # warm-up
            elapsed, latencies, errors = asyncio.run(load(base, key, clients=args.clients, requests=args.requests))
        finally:
            server.terminate()
            server.wait(timeout=20)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    q = statistics.quantiles(ms, n=100)
    print(f"/api/search  docs={args.docs}  clients={args.clients}  requests={len(ms)}  errors={len(errors)}")
    print(f"throughput   {len(ms) / elapsed:.1f} requests/s over {elapsed:.1f} s")
    print(f"latency ms   p50={q[49]:.1f}  p95={q[94]:.1f}  p99={q[98]:.1f}  max={ms[-1]:.1f}")
    for error in errors[:5]:
        print(f"error: {error}", file=sys.stderr)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
