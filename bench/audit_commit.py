"""Audit writes and key lookups from concurrent threads: group commit vs a transaction each.

``--threads`` threads each log ``--events`` search events into a fresh control store
(``synchronous=FULL``, as in production), while as many threads look an API key up every 2 ms. Two ways:

- ``before``: every event in its own ``BEGIN IMMEDIATE … COMMIT`` and key lookups on the
  writer's connection under its lock (the store before issue 14);
- ``each``: every event in its own transaction, lookups on the read connections;
- ``group``: :func:`osintel.audit.log_event`, the group commit (events queued while a commit
  is in progress share the next one).

Printed: audit events/s, commits (mean events per commit), key lookups/s meanwhile, and the
p50/p95 wall time of one ``log_event`` call and of one lookup. Not a test: nothing is asserted.

Run: ``.venv/bin/python bench/audit_commit.py [--threads 10] [--events 100]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from osintel import apikeys, audit  # noqa: E402
from osintel.store import ControlStore  # noqa: E402


def _q(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] * 1000 if len(values) > 1 else 0.0


def run(mode: str, threads: int, events: int, directory: Path) -> None:
    store = ControlStore(directory / f"{mode}.sqlite3")
    if mode == "before":
        store._reads = None  # reads back on the writer's connection and lock, as before
    _, secret = apikeys.create_key(store, role="analyst", name="bench")
    writes: list[float] = []
    lookups: list[float] = []
    done = threading.Event()

    def writer(t: int) -> None:
        for i in range(events):
            started = time.perf_counter()
            detail = {"kind": "search", "q": f"t{t} e{i}", "returned": [f"doc-{k}" for k in range(20)]}
            if mode == "group":
                audit.log_event(store, actor="key:bench", action="consultation", detail=detail)
            else:
                with store.transaction() as tx:
                    audit.record(tx, actor="key:bench", action="consultation", detail=detail)
            writes.append(time.perf_counter() - started)

    def reader() -> None:
        while not done.is_set():
            started = time.perf_counter()
            assert apikeys.authenticate(store, secret) is not None
            lookups.append(time.perf_counter() - started)
            time.sleep(0.002)  # an API request's lookup, not a spinning loop that holds the GIL

    readers = [threading.Thread(target=reader) for _ in range(threads)]
    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for thread in readers + workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    for thread in readers:
        thread.join()
    total = threads * events
    groups = audit.group_commit(store).group_sizes if mode == "group" else [1] * total
    assert audit.verify(store).ok
    store.close()
    print(f"{mode:6} {total / elapsed:8.0f} events/s  commits {len(groups):5d} (mean {total / len(groups):5.1f}"
          f" events each)  log p50/p95 {_q(writes, 50):6.1f}/{_q(writes, 95):6.1f} ms   "
          f"key lookups {len(lookups) / elapsed:8.0f}/s p50/p95 {_q(lookups, 50):5.2f}/{_q(lookups, 95):5.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    print(f"threads={args.threads} events per thread={args.events} load={os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="osintel-audit-bench-", dir=ROOT) as tmp:
        for mode in ("before", "each", "group"):
            run(mode, args.threads, args.events, Path(tmp))
    print(f"load after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
