"""Where a search's CPU goes: cProfile of each query shape of ``bench/scale.py``, two ways.

- ``index``: :meth:`TantivyIndex.search` on an index built by ``bench/scale.py --keep``;
- ``http``: ``GET /api/search`` through the real app (:func:`search_api.app.create_app`, the
  analyst key, the API's defaults: copies collapsed) driven in-process over ASGI, with
  FastAPI's thread pool replaced by an inline call so that one profiler sees the whole request
  (routing, dependencies, query compilation, the index, hit mapping, the audit write, the
  response's validation and JSON).

Per shape it prints CPU ms per search (``time.process_time``), then the time spent inside a
few buckets (the tantivy engine's calls, record parsing, snippets, facets, the audit write,
FastAPI/pydantic), and with ``--top N`` the N functions of most own time.
Run: ``.venv/bin/python bench/search_profile.py --data-dir /tmp/scale200k/data [--shape near]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402

from indexer.tantivy_index import TantivyIndex  # noqa: E402

T = TypeVar("T")

#: Buckets of the profile: a label and what a function's ``file:name`` must contain; a bucket's
#: time is the sum of its functions' cumulative times, so no needle names a function that calls
#: another needle of the same bucket (that would count it twice).
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("engine: search", ("'search' of 'tantivy",)),
    ("engine: aggregate", ("'aggregate' of 'tantivy",)),
    ("engine: load stored doc", ("'doc' of 'tantivy",)),
    ("engine: fast fields", ("method 'fast_field_values'",)),
    ("engine: doc_freq", ("method 'doc_freq'",)),
    ("snippets", ("snippet_from_doc", "'create' of 'tantivy", "to_html")),
    ("record JSON -> Document", ("tantivy_index.py:_document",)),
    ("geo resolve (Python)", ("tantivy_geo.py:resolve_geo",)),
    ("query parse/compile", ("query.py:parse_query", "tantivy_query.py:compile")),
    ("hit -> API model", ("search.py:hit_model",)),
    ("audit write", ("audit.py:log_event",)),
    ("API key lookup", ("auth.py:authenticate",)),
)


def _inline_threadpool() -> None:
    """Run FastAPI's sync endpoints and dependencies in the calling thread (one profiler)."""
    import fastapi.routing
    import fastapi.dependencies.utils
    import starlette.concurrency

    async def inline(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)

    for module in (fastapi.routing, fastapi.dependencies.utils, starlette.concurrency):
        module.run_in_threadpool = inline  # type: ignore[attr-defined]


def _bucket_times(stats: pstats.Stats, calls: int) -> dict[str, float]:
    out: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for label, needles in BUCKETS:
        total = 0.0
        for (filename, _, name), (_, _, _, cumulative, _) in raw.items():
            key = f"{Path(filename).name}:{name}" if filename != "~" else name
            if any(needle in key for needle in needles):
                total += cumulative
        out[label] = total * 1000 / calls
    return out


def _report(title: str, profile: cProfile.Profile, calls: int, cpu_s: float, top: int) -> None:
    stats = pstats.Stats(profile)
    print(f"\n### {title}: {cpu_s * 1000 / calls:.1f} CPU ms per search without the profiler "
          f"({calls} searches); inside, profiled (the profiler inflates many small Python calls):")
    for label, ms in _bucket_times(stats, calls).items():
        if ms >= 0.05:
            print(f"  {label:<28} {ms:7.2f} ms")
    if top:
        stats.sort_stats("tottime").print_stats(top)


def profile_index(index: TantivyIndex, shape: scale.Shape, repeat: int, top: int) -> None:
    for _ in range(3):
        index.search(shape.q, limit=20, facets=shape.facets)
    cpu = time.process_time()
    for _ in range(repeat):
        index.search(shape.q, limit=20, facets=shape.facets)
    cpu = time.process_time() - cpu
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for _ in range(repeat):
        index.search(shape.q, limit=20, facets=shape.facets)
    profile.disable()
    _report(f"{shape.name} — index", profile, repeat, cpu, top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data dir built by bench/scale.py --keep")
    parser.add_argument("--shape", action="append", help="only these shapes (by name prefix)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=0, help="print the N functions of most own time")
    parser.add_argument("--way", choices=("index", "http", "both"), default="both")
    args = parser.parse_args()
    shapes = [s for s in scale.SHAPES if not args.shape or any(s.name.startswith(p) for p in args.shape)]
    print(f"search profile of {args.data_dir}; load {os.getloadavg()}")

    if args.way in ("index", "both"):
        index = TantivyIndex(args.data_dir / "index")
        for shape in shapes:
            profile_index(index, shape, args.repeat, args.top)
        index.close()

    if args.way in ("http", "both"):
        from osintel.settings import load_settings
        from search_api.app import create_app

        _inline_threadpool()
        key = scale._api_key(args.data_dir)
        settings = load_settings(env={}, overrides={"data_dir": str(args.data_dir),
                                                    "api.rate_limit_per_second": 0})
        app = create_app(settings)
        loop = asyncio.new_event_loop()

        async def run() -> None:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                             headers={"X-API-Key": key}) as client:

                    async def call(params: dict[str, Any]) -> None:
                        response = await client.get("/api/search", params=params)
                        response.raise_for_status()

                    for shape in shapes:
                        for _ in range(3):
                            await call({"q": shape.q, "limit": 20})
                        profile = cProfile.Profile(time.process_time)
                        params: dict[str, Any] = {"q": shape.q, "limit": 20}
                        if shape.facets:
                            params["facet"] = list(shape.facets)
                        cpu = time.process_time()
                        for _ in range(args.repeat):
                            await call(params)
                        cpu = time.process_time() - cpu
                        profile.enable()
                        for _ in range(args.repeat):
                            await call(params)
                        profile.disable()
                        _report(f"{shape.name} — http", profile, args.repeat, cpu, args.top)

        loop.run_until_complete(run())
        loop.close()
    print(f"\nload after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
