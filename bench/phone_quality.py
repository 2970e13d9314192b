"""Phone extraction on the demo corpus: planted numbers found, and every other number extracted.

Run from the repository root::

    .venv/bin/python bench/phone_quality.py [--seed 2026] [--sample 20] [--stress]

The whole enricher runs over the demo articles (as a source without a declared country, the way
the demo is crawled), so each document's phone region is chosen as in production (places, URL,
language, default). It prints the planted numbers found (recall), the numbers extracted that were
not planted (candidate false positives: dates, prices, ids and postcodes must not be among them)
with a sample to read by eye, and how the regions were chosen. ``--stress`` also runs the phone
extractor alone over every article once per region (GB, FR, ES, DE, NL, IT, US) to show what digit
strings a wrong region would turn into numbers. Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.enricher import Enricher  # noqa: E402
from nlp.extractors import ExtractorOptions, ExtractorSet  # noqa: E402
from demo import build_corpus  # noqa: E402
from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import load_settings  # noqa: E402

BATCH = 32
STRESS_REGIONS = ("GB", "FR", "ES", "DE", "NL", "IT", "US")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _same_number(found: str, planted: str) -> bool:
    """A planted number as written ("020 7946 0123", "+44 (0)20 ...") against an E.164 value."""
    want = _digits(planted)
    if want.startswith("440"):
        want = "44" + want[3:]
    elif want.startswith("0"):
        want = "44" + want[1:]
    return _digits(found) == want


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--stress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    articles = build_corpus(args.seed)
    docs = [
        Document(url="http://demo" + a.path, source=SourceRef(id="demo"), title=a.title, text=a.text)
        for a in articles
    ]
    enricher = Enricher.from_settings(load_settings(env={}))
    enriched: list[Document] = []
    for i in range(0, len(docs), BATCH):
        enriched += enricher.enrich(docs[i : i + BATCH])

    planted_total = found_planted = 0
    extra: list[tuple[str, str, str]] = []
    regions: Counter[str] = Counter()
    for article, doc in zip(articles, enriched):
        phones = [e for e in doc.entities if e.label == "PHONE"]
        planted = article.planted.get("phones", [])
        planted_total += len(planted)
        found_planted += sum(1 for p in planted if any(_same_number(e.normalized or "", p) for e in phones))
        for e in phones:
            if not any(_same_number(e.normalized or "", p) for p in planted):
                extra.append((article.lang, e.text, e.normalized or ""))
        regions[f"{doc.enrichment.get('phone_region', '-')} from {doc.enrichment.get('phone_region_from', '-')}"] += 1

    phones_total = sum(1 for d in enriched for e in d.entities if e.label == "PHONE")
    print(f"documents {len(enriched)}; phones extracted {phones_total}; planted {planted_total}, "
          f"found {found_planted} ({found_planted / max(planted_total, 1):.1%}); not planted {len(extra)}")
    print("phone region chosen:", ", ".join(f"{k}: {n}" for k, n in regions.most_common()))
    if extra:
        print(f"not planted (first {args.sample}):")
        for lang, text, normalized in extra[: args.sample]:
            print(f"  [{lang}] {text!r} -> {normalized}")

    if args.stress:
        print("\nphone extractor alone, every article read with one region:")
        for region in STRESS_REGIONS:
            extract = ExtractorSet(options=ExtractorOptions(phone_default_region=region), names=["phonenumbers"])
            hits = [(a, e) for a in articles for e in extract.extract(a.text)]
            stray = [(a, e) for a, e in hits if not any(_same_number(e.normalized or "", p) for p in a.planted.get("phones", []))]
            sample = ", ".join(f"{e.text!r}->{e.normalized}" for _, e in stray[:5])
            print(f"  {region}: {len(hits)} numbers, {len(stray)} not planted{': ' + sample if sample else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
