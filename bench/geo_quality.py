"""Geocoding quality on the demo corpus, measured against the places planted in each article.

Run from the repository root::

    .venv/bin/python bench/geo_quality.py [--seed 2026] [--top 30]

For each language it prints planted-place recall (a planted name counts as found when it equals,
case-insensitively, the mention or the name of one of the document's locations), the number of
locations whose mention is not a planted place (candidate false positives: agencies and courts
also name real places, so inspect them), and the most frequent such mentions. Figures only; no
assertions. It also prints the gazetteer's own time per article, the locations by kind and how
many mentions each lists.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.enricher import Enricher  # noqa: E402
from demo import build_corpus  # noqa: E402
from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import load_settings  # noqa: E402

BATCH = 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    t0 = time.perf_counter()
    enricher = Enricher.from_settings(load_settings(env={}))
    locate = enricher.gazetteer.locate
    locate_time = [0.0]

    def timed_locate(*a, **kw):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return locate(*a, **kw)
        finally:
            locate_time[0] += time.perf_counter() - t

    enricher.gazetteer.locate = timed_locate  # type: ignore[method-assign]
    articles = build_corpus(args.seed)
    docs = [
        Document(url="http://demo" + a.path, source=SourceRef(id="demo"), title=a.title, text=a.text)
        for a in articles
    ]
    enriched: list[Document] = []
    for i in range(0, len(docs), BATCH):
        enriched.extend(enricher.enrich(docs[i : i + BATCH]))
    elapsed = time.perf_counter() - t0

    found: dict[str, int] = Counter()
    planted_total: dict[str, int] = Counter()
    unplanted: dict[str, int] = Counter()
    unplanted_top: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    per_doc: dict[str, list[int]] = defaultdict(list)
    n_docs: dict[str, int] = Counter()
    for article, doc in zip(articles, enriched):
        lang = article.lang
        n_docs[lang] += 1
        planted = {p.lower() for p in article.planted.get("places", [])}
        seen = {loc.mention.lower() for loc in doc.locations} | {loc.name.lower() for loc in doc.locations}
        planted_total[lang] += len(planted)
        found[lang] += len(planted & seen)
        extra = [loc for loc in doc.locations if loc.mention.lower() not in planted and loc.name.lower() not in planted]
        per_doc[lang].append(len(extra))
        unplanted[lang] += len(extra)
        for loc in extra:
            unplanted_top[lang][(loc.mention, loc.name, loc.country_code or "-")] += 1

    print(f"{len(articles)} articles enriched in {elapsed:.1f}s (seed {args.seed}); "
          f"gazetteer {1000 * locate_time[0] / max(len(articles), 1):.2f} ms/article")
    kinds = Counter(loc.kind or "-" for doc in enriched for loc in doc.locations)
    mentions = sum(len(loc.mentions) for doc in enriched for loc in doc.locations)
    n_locs = sum(kinds.values())
    print(f"locations {n_locs} ({', '.join(f'{k} {v}' for k, v in kinds.most_common())}); "
          f"mentions {mentions} ({mentions / max(n_locs, 1):.2f} per location)")
    print(f"{'lang':<5} {'docs':>5} {'planted':>8} {'found':>6} {'recall':>7} {'unplanted':>10} {'median/doc':>11}")
    for lang in sorted(n_docs):
        recall = found[lang] / planted_total[lang] if planted_total[lang] else float("nan")
        print(
            f"{lang:<5} {n_docs[lang]:>5} {planted_total[lang]:>8} {found[lang]:>6} {recall:>7.3f}"
            f" {unplanted[lang]:>10} {statistics.median(per_doc[lang]):>11.1f}"
        )
    total_p, total_f = sum(planted_total.values()), sum(found.values())
    print(f"{'all':<5} {len(articles):>5} {total_p:>8} {total_f:>6} {total_f / max(total_p, 1):>7.3f} {sum(unplanted.values()):>10}")
    for lang in sorted(n_docs):
        print(f"\n[{lang}] top {args.top} unplanted locations (mention -> name, country: count)")
        for (mention, name, cc), count in unplanted_top[lang].most_common(args.top):
            print(f"  {mention!r:<32} -> {name}, {cc}: {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
