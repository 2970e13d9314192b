"""Ingest benchmark on the demo corpus: crawl+extract, enrichment, indexing, and bare spaCy.

Prints documents/second for each stage and, side by side, words/second of our enrichment and of
a bare ``nlp.pipe`` over the same texts with the same model, so the cost of everything we add
around spaCy is visible. Run: ``.venv/bin/python bench/ingest.py [--repeat 3]``.
Medians over ``--repeat`` runs (crawl is run once: a second crawl is incremental and fetches nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osintel.service import commands  # noqa: E402
from osintel.settings import load_settings  # noqa: E402
from osintel.store import ControlStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="osintel-bench-") as tmp:
        settings = load_settings(env={}, overrides={"data_dir": tmp, "demo.site_port": 0})
        site, sources = commands.start_demo_site(settings)
        try:
            started = time.perf_counter()
            commands.crawl(settings, sources=sources)
            crawl_s = time.perf_counter() - started
        finally:
            site.stop()
        with ControlStore(settings.store_path) as store:
            docs = list(store.iter_documents())
        n = len(docs)
        words = sum(len(d.text.split()) for d in docs)

        started = time.perf_counter()
        enricher = commands.build_enricher(settings)
        build_s = time.perf_counter() - started
        batch = settings.nlp.batch_size
        enrich_runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            enriched = [e for i in range(0, n, batch) for e in enricher.enrich(docs[i : i + batch])]
            enrich_runs.append(time.perf_counter() - started)

        index_runs = []
        for r in range(args.repeat):
            from indexer.tantivy_index import TantivyIndex

            index = TantivyIndex(Path(tmp) / f"index-{r}")
            started = time.perf_counter()
            for i in range(0, n, batch):
                index.upsert(enriched[i : i + batch])
            index_runs.append(time.perf_counter() - started)
            index.close()

        import spacy

        from nlp.entities import resolve_model

        nlp = spacy.load(resolve_model(settings.nlp.spacy_model_en))
        english = [d.text for d in enriched if d.language == "en"]  # as detected by the enricher
        english_words = sum(len(t.split()) for t in english)
        spacy_runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            for _doc in nlp.pipe(english, batch_size=batch):
                pass
            spacy_runs.append(time.perf_counter() - started)

    enrich_s = statistics.median(enrich_runs)
    index_s = statistics.median(index_runs)
    spacy_s = statistics.median(spacy_runs)
    print(f"demo corpus: {n} documents, {words} words ({len(english)} English, {english_words} words); "
          f"{os.cpu_count()} CPUs; medians of {args.repeat} runs")
    print(f"{'stage':<34}{'seconds':>10}{'docs/s':>10}{'words/s':>12}")
    print(f"{'crawl + extract (1 run)':<34}{crawl_s:>10.2f}{n / crawl_s:>10.1f}{words / crawl_s:>12.0f}")
    print(f"{'enricher build (model loads)':<34}{build_s:>10.2f}")
    print(f"{'enrichment (all stages)':<34}{enrich_s:>10.2f}{n / enrich_s:>10.1f}{words / enrich_s:>12.0f}")
    print(f"{'bare spaCy nlp.pipe (English)':<34}{spacy_s:>10.2f}{len(english) / spacy_s:>10.1f}"
          f"{english_words / spacy_s:>12.0f}")
    print(f"{'indexing (tantivy, batch commits)':<34}{index_s:>10.2f}{n / index_s:>10.1f}{words / index_s:>12.0f}")


if __name__ == "__main__":
    main()
