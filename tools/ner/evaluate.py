"""Score a trained NER pipeline with the project's scorer (``bench/devdata.py``).

Run from the repository root::

    .venv/bin/python tools/ner/evaluate.py de                    # nlp/models/de on its sets
    .venv/bin/python tools/ner/evaluate.py xx --sets wikiann_es_dev wikiann_fr_dev
    .venv/bin/python tools/ner/evaluate.py /tmp/osintel-ner/try1/out/model-best --model de --tune-only

Sets: ``tune:<lang>`` is the tuning slice (the last 2,000 sentences of that WikiANN train split),
``tune-full:<lang>`` its sentences that look like running text (``corpus.is_full_sentence``),
``tune-noent:<lang>`` those with their entity tokens cut out (every prediction there is a false
positive);
any other name is a dev-data file (``wikiann_de_dev``, ``germeval2014_de_dev``). Scoring: exact
character span and type, micro P/R/F1 over PER/ORG/LOC, on the pipeline's own tokenization of the
sentence text. Also prints load time and words per second (one thread, ``nlp.pipe``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402
from bench import devdata  # noqa: E402

#: What each model is reported on by default (the dev files only produce final figures).
DEFAULT_SETS: dict[str, list[str]] = {
    "de": ["tune:de", "tune-full:de", "tune-noent:de", "wikiann_de_dev", "germeval2014_de_dev"],
    "es": ["tune:es", "tune-full:es", "wikiann_es_dev"],
    "nl": ["tune:nl", "tune-full:nl", "wikiann_nl_dev"],
    "pt": ["tune:pt", "tune-full:pt", "wikiann_pt_dev"],
    "xx": [*(f"tune:{lang}" for lang in ("es", "pt", "fr", "de", "nl", "en")),
           *(f"wikiann_{lang}_dev" for lang in ("es", "pt", "fr", "de", "nl", "en")), "germeval2014_de_dev"],
}


def load_set(name: str) -> list[dict]:
    if ":" in name:
        kind, lang = name.split(":", 1)
        tune = corpus.train_split(lang)[1]
        if kind == "tune-noent":  # full sentences with their entities cut out: every prediction is wrong
            return [n for r in tune if corpus.is_full_sentence(r) and (n := corpus.without_entities(r))]
        return [r for r in tune if corpus.is_full_sentence(r)] if kind == "tune-full" else tune
    return devdata.ner_set(name)


def score(nlp, records: list[dict]) -> tuple[devdata.NERScore, float]:
    """Scores of ``nlp`` on ``records`` and its speed in words per second."""
    texts = [r["text"] for r in records]
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=256))
    elapsed = time.perf_counter() - t0
    words = sum(len(d) for d in docs)
    preds = [devdata.predicted_spans(d.ents) for d in docs]
    return devdata.score_ner(records, preds), words / elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a shipped model's language (de, xx, ...) or a pipeline directory")
    ap.add_argument("--model", dest="kind", help="which model's default sets (for a directory)")
    ap.add_argument("--sets", nargs="+", help="sets to score (default: the model's)")
    ap.add_argument("--tune-only", action="store_true", help="only the tuning-slice sets")
    ap.add_argument("--examples", type=int, default=0, help="print this many misses and false positives")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import spacy

    from nlp.models import model_path

    path = Path(args.model) if ("/" in args.model or Path(args.model).is_dir()) else model_path(args.model)
    if path is None:
        raise SystemExit(f"no shipped model {args.model!r}")
    kind = args.kind or (args.model if args.model in DEFAULT_SETS else None)
    sets = args.sets or DEFAULT_SETS.get(kind or "", [])
    if args.tune_only:
        sets = [s for s in sets if s.startswith("tune")]
    t0 = time.perf_counter()
    nlp = spacy.load(path)
    load = time.perf_counter() - t0
    print(f"{path}: {nlp.meta.get('name')} {nlp.meta.get('version')}, loaded in {load:.2f}s")
    for name in sets:
        records = load_set(name)
        result, wps = score(nlp, records)
        extra = f"  false positives per 100 sentences {100 * result.fp / len(records):.1f}" if "noent" in name else ""
        print(f"  {name:<22} n={len(records):<6} {result.summary()}  {wps:,.0f} words/s{extra}")
        for line in result.misses[: args.examples]:
            print(f"      miss {line}")
        for line in result.false_positives[: args.examples]:
            print(f"      fp   {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
