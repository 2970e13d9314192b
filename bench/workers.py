"""Enrichment workers: docs/s of ``osintel enrich`` with 1 and 2 processes on the same outbox.

Run: ``.venv/bin/python bench/workers.py [--docs 786] [--workers 1 2] [--repeat 2]``.

The outbox is the demo corpus (:func:`demo.content.build_corpus`, 393 articles in four languages),
repeated under new URLs up to ``--docs`` so the drain outlasts the model loads. Each run drains a
fresh copy of one prepared store, with alerts off, in its own process (so peak RSS is its own),
through :func:`osintel.service.commands.enrich` exactly as ``osintel enrich --workers N`` does.
Printed per worker count (medians of ``--repeat``): wall seconds of the whole drain, seconds until
the models were loaded (N=1: in this process; N>1: the last child ready), docs/s over the whole
drain and after the loads, CPU seconds per document (this process and its children), peak RSS of
the parent and of each enrichment process, and the load average before each run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def prepare(data_dir: Path, n: int) -> int:
    from demo.content import build_corpus
    from osintel.records import Document, SourceRef
    from osintel.store import ControlStore

    source = SourceRef(id="demo-news", name="Demo News")
    corpus = build_corpus()
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        for i in range(n):
            a = corpus[i % len(corpus)]
            round_ = i // len(corpus)
            doc = Document(url=f"https://demo.example{a.path}?r={round_}", source=source, title=a.title,
                           text=a.text, published_at=a.published_at)
            store.add_collected(doc, content_sha256=hashlib.sha256(f"{round_}:{doc.text}".encode()).hexdigest())
        return store.outbox_counts()["pending"]


def one(data_dir: Path, workers: int) -> dict[str, Any]:
    """Drain ``data_dir`` with ``workers`` processes (in this process); figures as a dict."""
    from osintel.service import commands, enrich_pool
    from osintel.settings import load_settings

    settings = load_settings(env={}, overrides={"data_dir": str(data_dir), "worker.processes": workers,
                                                "alerts.enabled": False})
    loaded: list[float] = []
    cpu_loaded: list[float] = []
    t0 = time.perf_counter()

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        return float(own.ru_utime + own.ru_stime)

    def progress(line: str) -> None:
        if line.startswith("models loaded"):
            loaded.append(time.perf_counter() - t0)
            cpu_loaded.append(cpu())

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = commands.enrich(settings, progress=progress)
    wall = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU spent after the models were loaded: enriching, mapping, writing, acking (and, pooled, the
    # pickling between processes); the loads are paid once per process and left out.
    if isinstance(report, enrich_pool.PoolReport):
        ready, commits = report.ready_seconds, report.commits
        after_load = sum(report.enrich_cpu_seconds.values()) + me.ru_utime + me.ru_stime
        worker_rss = list(report.peak_rss_mb.values())
    else:
        ready, commits = (loaded[0] if loaded else 0.0), report.batches
        after_load = cpu() - (cpu_loaded[0] if cpu_loaded else 0.0)
        worker_rss = [me.ru_maxrss / 1024]
    return {
        "workers": workers, "indexed": report.indexed, "failed": report.failed, "wall_s": wall, "ready_s": ready,
        "docs_per_s": report.indexed / wall, "docs_per_s_after_load": report.indexed / max(1e-9, wall - ready),
        "cpu_ms_per_doc": 1000 * (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) / max(1, report.indexed),
        "parent_cpu_ms_per_doc": 1000 * (me.ru_utime + me.ru_stime) / max(1, report.indexed),
        "cpu_ms_per_doc_after_load": 1000 * after_load / max(1, report.indexed),
        "parent_rss_mb": me.ru_maxrss / 1024,
        "worker_rss_mb": worker_rss,
        "commits": commits,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }


def reference(template: Path, tmp: Path) -> None:
    """Wall seconds of stateless enrichment: one process on everything, two on halves at once."""
    from osintel.store import ControlStore

    with ControlStore(template / "osintel.sqlite3") as store:
        lines = [doc.to_json() for doc in store.iter_documents()]
    files = {"all": lines, "a": lines[: len(lines) // 2], "b": lines[len(lines) // 2 :]}
    for name, part in files.items():
        (tmp / f"{name}.jsonl").write_text("\n".join(part) + "\n")

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "osintel", "enrich", "--input", str(tmp / f"{name}.jsonl"),
                                 "--output", str(tmp / f"{name}.out")], stderr=subprocess.DEVNULL)

    load = os.getloadavg()[0]
    started = time.perf_counter()
    start("all").wait()
    one_s = time.perf_counter() - started
    load2 = os.getloadavg()[0]
    started = time.perf_counter()
    for proc in [start("a"), start("b")]:
        proc.wait()
    two_s = time.perf_counter() - started
    print(f"stateless reference (osintel enrich --input, model loads included): 1 process {one_s:.1f} s"
          f" ({len(lines) / one_s:.1f} docs/s, load {load:.2f}); 2 processes on halves {two_s:.1f} s"
          f" ({len(lines) / two_s:.1f} docs/s, load {load2:.2f}): {one_s / two_s:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=786)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--reference", action="store_true",
                        help="also time the stateless reference: `osintel enrich --input` on the whole outbox in"
                             " one process, then on its two halves in two processes at once (no store, no index)")
    parser.add_argument("--one", nargs=2, metavar=("DATA_DIR", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(Path(args.one[0]), int(args.one[1]))))
        return 0

    with tempfile.TemporaryDirectory(prefix="osintel-bench-workers-") as tmp:
        template = Path(tmp) / "template"
        pending = prepare(template, args.docs)
        print(f"outbox: {pending} documents (demo corpus, repeated); {os.cpu_count()} cores; load"
              f" {os.getloadavg()}", file=sys.stderr)
        if args.reference:
            reference(template, Path(tmp))
        results: dict[int, list[dict[str, Any]]] = {n: [] for n in args.workers}
        for r in range(args.repeat):
            for n in args.workers:
                data_dir = Path(tmp) / f"run-{n}-{r}"
                shutil.copytree(template, data_dir)
                out = subprocess.run([sys.executable, __file__, "--one", str(data_dir), str(n)],
                                     capture_output=True, text=True, check=True)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                results[n].append(row)
                print(f"  run {r + 1}, {n} worker(s): {row['docs_per_s']:.1f} docs/s"
                      f" ({row['docs_per_s_after_load']:.1f} after load), load {row['load_before']:.2f}",
                      file=sys.stderr)
                shutil.rmtree(data_dir)

    def med(n: int, key: str) -> float:
        return float(statistics.median(row[key] for row in results[n]))

    base = med(args.workers[0], "docs_per_s_after_load")
    print(f"{args.docs} documents, medians of {args.repeat} run(s)")
    print("| workers | wall s | models ready s | docs/s (whole drain) | docs/s after load | speed-up after load"
          " | CPU ms/doc (all; of it parent) | CPU ms/doc after load | commits | peak RSS parent MiB | peak RSS per worker MiB"
          " | load before runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.workers:
        rss = " / ".join(f"{max(row['worker_rss_mb'][i] for row in results[n]):.0f}"
                         for i in range(len(results[n][0]["worker_rss_mb"])))
        loads = ", ".join(f"{row['load_before']:.1f}" for row in results[n])
        print(f"| {n} | {med(n, 'wall_s'):.1f} | {med(n, 'ready_s'):.1f} | {med(n, 'docs_per_s'):.1f}"
              f" | {med(n, 'docs_per_s_after_load'):.1f} | {med(n, 'docs_per_s_after_load') / base:.2f}x"
              f" | {med(n, 'cpu_ms_per_doc'):.0f}; {med(n, 'parent_cpu_ms_per_doc'):.0f}"
              f" | {med(n, 'cpu_ms_per_doc_after_load'):.0f}"
              f" | {med(n, 'commits'):.0f} | {med(n, 'parent_rss_mb'):.0f}"
              f" | {rss} | {loads} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
