"""Where one ``GET /api/search`` spends its CPU: stage by stage, then under cProfile.

On a data directory built by ``bench/api_load.py --data-dir DIR`` (an index and a key), runs the
stages of the search route one after another in this thread, for each of the load benchmark's
query shapes, and reports CPU ms per request (``time.process_time``) of:

- ``auth``: the API-key lookup (a store read) and the rate-limit take;
- ``parse``: query text and filters compiled into the AST;
- ``engine``: :meth:`Index.search` (tantivy search, stored documents loaded, snippets, collapse,
  facets when asked);
- ``hits``: index hits to the API's models (``hit_model``, snippet sanitising);
- ``audit``: :func:`osintel.audit.log_event` (one durable commit: ``synchronous=FULL``);
- ``json``: the response model built and serialised.

Then the same requests end to end through uvicorn in a child process (one client, sequential):
the server's CPU per request as served (``osintel serve``), and again from a server whose index
answers each distinct search from a cache after the first time, so its CPU is everything but
the engine: HTTP parsing, routing, dependency injection, the thread-pool hand-off, auth, audit,
models and JSON. Last, cProfile of the stages (top functions).

Run: ``.venv/bin/python bench/api_profile.py --data-dir DIR [--repeat 50]``.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import open_index  # noqa: E402
from osintel import apikeys, audit  # noqa: E402
from osintel.settings import load_settings  # noqa: E402
from osintel.store import ControlStore  # noqa: E402
from search_api.filters import Filters, compile_search  # noqa: E402
from search_api.ratelimit import RateLimiter  # noqa: E402
from search_api.routes.search import HistogramBucket, SearchResponse, check_facets, hit_model  # noqa: E402


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_api_load", ROOT / "bench" / "api_load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one(store: ControlStore, index: Any, limiter: RateLimiter, key: str, params: dict[str, Any],
        region: str, clock: dict[str, float]) -> None:
    def lap(stage: str, started: float) -> float:
        now = time.process_time()
        clock[stage] += now - started
        return now

    t = time.process_time()
    principal = apikeys.authenticate(store, key)
    assert principal is not None
    limiter.take(principal.key_id)
    t = lap("auth", t)
    filters = Filters()
    node = compile_search(params.get("q", ""), filters, phone_region=region)
    facets = check_facets(list(params.get("facet", [])))
    t = lap("parse", t)
    result = index.search(node, limit=20, sort="best_match", facets=facets, facet_size=20, cursor=None,
                          histogram=None, collapse=True)
    t = lap("engine", t)
    hits = [hit_model(h) for h in result.hits]
    t = lap("hits", t)
    audit.log_event(store, actor=f"key:{principal.key_id}", action="consultation", purpose=None, detail={
        "kind": "search", "q": params.get("q", ""), "filters": filters.as_dict(), "sort": "best_match",
        "collapse": True, "cursor": None, "total": result.total, "returned": [h.id for h in hits]})
    t = lap("audit", t)
    SearchResponse(total=result.total, stories=result.stories, stories_exact=result.stories_exact, collapsed=True,
                   sort="best_match", limit=20, hits=hits, facets=result.facets,
                   histogram=[HistogramBucket(start=s, count=n) for s, n in result.histogram],
                   next_cursor=result.next_cursor, filters=filters.as_dict()).model_dump_json()
    lap("json", t)


def serve_cached(data_dir: Path, port: int) -> None:
    """The app under uvicorn with an index that repeats its first answer to each distinct search."""
    import uvicorn

    from search_api.app import create_app

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir), "api.rate_limit_per_second": 0})
    index = open_index(settings)
    cache: dict[str, Any] = {}
    real = index.search

    def cached(node: Any, **options: Any) -> Any:
        key = repr(node) + repr(sorted(options.items()))
        if key not in cache:
            cache[key] = real(node, **options)
        return cache[key]

    index.search = cached  # type: ignore[method-assign]
    uvicorn.run(create_app(settings, index=index), host="127.0.0.1", port=port, log_level="warning")


def _server_cpu_ms(bench: Any, server: Any, base: str, key: str, repeat: int) -> float:
    time.sleep(1.0)
    pids = bench._tree(server.pid)
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
        for params in bench.QUERIES:
            client.get("/api/search", params=params)
        before = bench._cpu_seconds(pids)
        n = 0
        for _ in range(repeat):
            for params in bench.QUERIES:
                assert client.get("/api/search", params=params).status_code == 200
                n += 1
        return float((bench._cpu_seconds(pids) - before) * 1000 / n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--serve-cached", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.serve_cached:
        serve_cached(args.data_dir, args.serve_cached)
        return 0
    bench = _load_bench()
    settings = load_settings(env={}, overrides={"data_dir": str(args.data_dir)})
    key = bench.api_key(args.data_dir)
    store = ControlStore(settings.store_path)
    index = open_index(settings)
    limiter = RateLimiter(rate=1e9, burst=10**9, path=args.data_dir / "profile-ratelimit.bin")
    region = settings.nlp.phone_default_region
    stages = ("auth", "parse", "engine", "hits", "audit", "json")
    for params in bench.QUERIES:  # warm-up
        one(store, index, limiter, key, params, region, defaultdict(float))
    per_shape: dict[str, dict[str, float]] = {}
    for params in bench.QUERIES:
        clock: dict[str, float] = defaultdict(float)
        for _ in range(args.repeat):
            one(store, index, limiter, key, params, region, clock)
        per_shape[params.get("q") or "facets only"] = {s: clock[s] * 1000 / args.repeat for s in stages}
    print(f"{'shape':32} " + " ".join(f"{s:>7}" for s in stages) + "   total  (CPU ms per request)")
    for name, row in per_shape.items():
        print(f"{name[:32]:32} " + " ".join(f"{row[s]:7.2f}" for s in stages) + f" {sum(row.values()):7.2f}")
    mean = {s: sum(r[s] for r in per_shape.values()) / len(per_shape) for s in stages}
    print(f"{'mean of the shapes':32} " + " ".join(f"{mean[s]:7.2f}" for s in stages) + f" {sum(mean.values()):7.2f}")

    # End to end, one client: the server's CPU per request, as served and with the engine cached.
    server, base = bench._serve(args.data_dir, 1)
    try:
        served_ms = _server_cpu_ms(bench, server, base, key, args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    port = bench._free_port()
    server = subprocess.Popen([sys.executable, __file__, "--data-dir", str(args.data_dir), "--serve-cached",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the cached-engine server did not start"
                time.sleep(0.2)
        cached_ms = _server_cpu_ms(bench, server, base, key, args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    api_side = sum(mean[s] for s in stages if s != "engine")
    print(f"end to end (uvicorn, 1 process, 1 client), server CPU ms per search: as served {served_ms:.2f}; "
          f"engine answers cached {cached_ms:.2f} (of which auth+parse+hits+audit+json {api_side:.2f}, "
          f"HTTP and framework {cached_ms - api_side:.2f}); engine in the server {served_ms - cached_ms:.2f}")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(max(1, args.repeat // 5)):
        for params in bench.QUERIES:
            one(store, index, limiter, key, params, region, defaultdict(float))
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    print("\n".join(out.getvalue().splitlines()[:45]))
    index.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
