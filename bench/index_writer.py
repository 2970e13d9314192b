"""The one index writer against raw tantivy-py, on the same enriched documents and batches.

Three ways to index the same documents into the embedded index, batch by batch:

- ``upsert``: :meth:`TantivyIndex.upsert` (maps each document, deletes by id, adds, commits);
- ``write``: :meth:`TantivyIndex.write` of batches :func:`indexer.prepare_batch` mapped beforehand
  (what the single writer does when enrichment workers map documents in parallel);
- ``raw``: a bare tantivy-py writer on the same schema adding the same mapped documents and
  committing per batch (no delete by id: the lower bound).

Documents come from a data directory's control store (run ``osintel demo --no-serve`` first), copied
``--copies`` times under new ids. Run::

    .venv/bin/python bench/index_writer.py --data-dir ./data [--copies 5] [--batch 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tantivy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.tantivy_index import TantivyIndex  # noqa: E402
from indexer.tantivy_schema import TEXT_ANALYZER, build_schema, prepare, text_analyzer  # noqa: E402
from osintel.store import ControlStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with ControlStore(Path(args.data_dir) / "osintel.sqlite3") as store:
        base = list(store.iter_documents())
    if not base:
        sys.exit(f"no documents in {args.data_dir}: run `osintel demo --no-serve --data-dir {args.data_dir}` first")
    docs = [d.model_copy(update={"id": f"{k}-{d.id}"}) for k in range(args.copies) for d in base]
    b = args.batch
    batches = [prepare(docs[i : i + b]) for i in range(0, len(docs), b)]
    rates: dict[str, list[float]] = {"upsert": [], "write": [], "raw": []}
    print(f"{len(docs)} documents, batch {b}, load before {os.getloadavg()[0]:.2f}")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            index = TantivyIndex(Path(tmp) / "upsert")
            started = time.perf_counter()
            for i in range(0, len(docs), b):
                index.upsert(docs[i : i + b])
            rates["upsert"].append(len(docs) / (time.perf_counter() - started))
            index.close()
            index = TantivyIndex(Path(tmp) / "write")
            started = time.perf_counter()
            for batch in batches:
                index.write(batch)
            rates["write"].append(len(docs) / (time.perf_counter() - started))
            index.close()
            raw_dir = Path(tmp) / "raw"
            raw_dir.mkdir()
            raw = tantivy.Index(build_schema(), str(raw_dir))
            raw.register_tokenizer(TEXT_ANALYZER, text_analyzer())
            writer = raw.writer()
            started = time.perf_counter()
            for batch in batches:
                for mapped in batch.payload:
                    writer.add_document(mapped)  # type: ignore[arg-type]  # payload holds tantivy documents
                writer.commit()
            rates["raw"].append(len(docs) / (time.perf_counter() - started))
            writer.wait_merging_threads()
    raw_median = statistics.median(rates["raw"])
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:7s} {median:8,.0f} docs/s (median of {len(values)})  ratio to raw {median / raw_median:.2f}")
    print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
