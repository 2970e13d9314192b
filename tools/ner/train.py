"""Train one of osintel's shipped NER pipelines, reproducibly, with one command.

Run from the repository root (one training at a time; it uses one core)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python tools/ner/train.py de     # -> nlp/models/de
    .venv/bin/python tools/ner/train.py xx --name try1 --no-package \\
        --set components.tok2vec.model.encode.width=128                    # an experiment

Each model is a :class:`Spec` in ``MODELS``: which WikiANN train splits it learns from, what is done
to their noise, and its overrides of ``configs/ner.cfg``. The last 2,000 sentences of each train
split are the tuning slice: spaCy keeps the weights that score best on it, and the figures that
chose the settings were measured on it. The dev files are never read here (``evaluate.py`` reports
on them). Corpora and checkpoints go to ``$OSINTEL_NER_WORK`` (default ``/tmp/osintel-ner``);
the repository gets only the packaged pipeline and ``nlp/models/checksums.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402

MODELS_DIR = ROOT / "nlp" / "models"
WORK = Path(os.environ.get("OSINTEL_NER_WORK", "/tmp/osintel-ner"))
CONFIG = HERE / "configs" / "ner.cfg"
VERSION = "0.1.0"
WIKIANN_LICENSE = "CC BY-SA 3.0 (Wikipedia-derived WikiANN annotations; Pan et al. 2017, Rahimi et al. 2019 splits)"


@dataclass(frozen=True)
class Spec:
    """What one shipped model is trained on and how."""

    lang: str  #: spaCy language of the pipeline (tokenizer); ``xx`` is spaCy's multi-language class
    train: tuple[str, ...]  #: WikiANN languages whose train splits it learns from
    per_lang: int | None = None  #: sentences taken from each train split (None: all but the tuning slice)
    tune_per_lang: int = corpus.TUNE_SIZE  #: sentences of each tuning slice used to pick the weights
    mix: tuple[tuple[str, int], ...] = ()  #: other train splits mixed in: (language, sentences)
    noise: str = "keep"  #: ``keep``, ``clean`` or ``drop`` the redirect / markup sentences
    case: float = 0.0  #: share of sentences that also get an upper- or lower-cased copy
    negatives: float = 0.0  #: share of full sentences that also get an entity-free copy
    trim: bool = False  #: end entities at brackets, commas and quotes (``corpus.trim``)
    overrides: dict[str, object] = field(default_factory=dict)  #: over configs/ner.cfg
    description: str = ""


# The settings below were chosen on the tuning slices; tools/ner/README.md has the figures.
COMMON: dict[str, object] = {
    "components.tok2vec.model.encode.width": 128,
    "components.tok2vec.model.embed.rows": [7000, 1500, 3000, 1500],
    "training.dropout": 0.2,
}
MODELS: dict[str, Spec] = {
    "de": Spec("de", ("de",), overrides=COMMON,
               description="German NER (PER, ORG, LOC) trained on WikiANN de"),
    "es": Spec("es", ("es",), overrides=COMMON,
               description="Spanish NER (PER, ORG, LOC) trained on WikiANN es"),
    "nl": Spec("nl", ("nl",), overrides={**COMMON, "training.max_steps": 4000},
               description="Dutch NER (PER, ORG, LOC) trained on WikiANN nl"),
    "pt": Spec("pt", ("pt",), overrides={**COMMON, "training.max_steps": 4000},
               description="Portuguese NER (PER, ORG, LOC) trained on WikiANN pt"),
    "xx": Spec("xx", ("es", "pt", "fr", "de", "nl", "en"), per_lang=6000, tune_per_lang=500,
               overrides={**COMMON, "training.max_steps": 4000},
               description="Multilingual fallback NER (PER, ORG, LOC) for Latin-script languages without "
                           "their own model (Italian, Catalan, Galician, Romanian, ...), trained on WikiANN "
                           "es, pt, fr, de, nl and en"),
}


def parse_value(text: str) -> object:
    """A ``--set`` value: JSON where it parses (numbers, lists, booleans), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def build_corpora(spec: Spec, out: Path, *, seed: int) -> dict[str, object]:
    """Write ``train.spacy`` and ``tune.spacy`` for ``spec`` under ``out``; return their provenance."""
    import spacy

    nlp = spacy.blank(spec.lang)
    rng = random.Random(seed)
    train: list[corpus.Record] = []
    tune: list[corpus.Record] = []
    sources: set[str] = set()
    for lang in spec.train:
        records, held_out = corpus.train_split(lang)
        sources.update(r["source"] for r in records)
        if spec.per_lang is not None and spec.per_lang < len(records):
            records = rng.sample(records, spec.per_lang)
        train.extend(corpus.prepare(records, noise=spec.noise, case=spec.case, negatives=spec.negatives,
                                    trim_spans=spec.trim, seed=seed))
        tune.extend(held_out[: spec.tune_per_lang])
    for lang, size in spec.mix:  # other languages' sentences only ever train; they tune nothing
        records = corpus.train_split(lang)[0]
        sources.update(r["source"] for r in records)
        train.extend(corpus.prepare(rng.sample(records, size), noise=spec.noise, case=spec.case,
                                    trim_spans=spec.trim, seed=seed))
    rng.shuffle(train)
    out.mkdir(parents=True, exist_ok=True)
    corpus.to_docbin(nlp, train).to_disk(out / "train.spacy")
    corpus.to_docbin(nlp, tune).to_disk(out / "tune.spacy")
    print(f"corpora: {len(train)} training docs, {len(tune)} tuning docs -> {out}", file=sys.stderr)
    return {"train_docs": len(train), "tune_docs": len(tune), "sources": sorted(sources)}


def package(model_dir: Path, target: Path, name: str, spec: Spec, provenance: dict[str, object],
            seed: int) -> None:
    """Copy what ``spacy.load`` needs from ``model_dir`` to ``target`` with a proper ``meta.json``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(model_dir, target)
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    sources = [
        {"name": "WikiANN", "url": f"https://github.com/{src.split('@')[0]}",
         "revision": src.split("@")[1].split(":")[0], "path": src.split(":", 1)[1],
         "license": WIKIANN_LICENSE}
        for src in provenance["sources"]  # type: ignore[union-attr]
    ]
    meta.update({
        "name": f"osintel_{name}_ner", "version": VERSION, "description": spec.description,
        "author": "osintel", "license": "CC BY-SA 3.0", "sources": sources,
        "osintel": {"train_languages": list(spec.train), "mix": [list(m) for m in spec.mix], "noise": spec.noise, "case": spec.case,
                    "negatives": spec.negatives, "trim": spec.trim, "per_lang": spec.per_lang, "seed": seed, "overrides": spec.overrides},
    })
    # performance from spaCy's evaluation is on the tuning slice; say so.
    meta["performance_note"] = "performance: spaCy's scores on the tuning slice (held-out train sentences)"
    (target / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    # The shipped config must not point at this machine's training corpora.
    cfg = (target / "config.cfg").read_text(encoding="utf-8")
    lines = []
    section = ""
    for line in cfg.splitlines():
        if line.startswith("["):
            section = line.strip()
        if section == "[paths]" and (line.startswith("train =") or line.startswith("dev =")):
            line = line.split("=")[0] + "= null"
        lines.append(line)
    (target / "config.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prune_strings(model_dir, target)
    write_checksums()


def prune_strings(model_dir: Path, target: Path, *, sample: int = 1000) -> None:
    """Ship ``vocab/strings.json`` with the entity labels only.

    The hash embeddings never look strings up (features are hashes), so the ~1 MB of training
    strings are dead weight. Kept only if the pruned pipeline predicts exactly what the trained
    one does on ``sample`` sentences of the tuning slices.
    """
    import spacy
    from spacy.tokens import DocBin

    strings = target / "vocab" / "strings.json"
    full = strings.read_text(encoding="utf-8")
    labels = sorted(spacy.load(model_dir).get_pipe("ner").labels)
    strings.write_text(json.dumps(labels), encoding="utf-8")
    trained, pruned = spacy.load(model_dir), spacy.load(target)
    docs = list(DocBin().from_disk(model_dir.parent.parent / "corpus" / "tune.spacy").get_docs(trained.vocab))
    texts = [d.text for d in docs[:sample]]
    same = all([(e.start_char, e.end_char, e.label_) for e in a.ents] == [(e.start_char, e.end_char, e.label_)
                                                                          for e in b.ents]
               for a, b in zip(trained.pipe(texts), pruned.pipe(texts)))
    if not same:
        strings.write_text(full, encoding="utf-8")
        print("strings kept: the pruned pipeline predicted differently", file=sys.stderr)


def write_checksums() -> None:
    """``nlp/models/checksums.json``: SHA-256 of every file of every shipped model."""
    sys.path.insert(0, str(ROOT))
    from nlp.models import CHECKSUMS, available, file_digests

    table = {lang: file_digests(path) for lang, path in sorted(available().items())}
    CHECKSUMS.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--name", help="experiment name (work sub-folder); default: the model name")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise", choices=("keep", "clean", "drop", "sentences"), help="override the spec's noise handling")
    ap.add_argument("--case", type=float, help="override the spec's case-augmentation share")
    ap.add_argument("--negatives", type=float, help="override the spec's share of entity-free copies")
    ap.add_argument("--trim", action=argparse.BooleanOptionalAction, default=None,
                    help="override the spec's trimming of entities at brackets, commas and quotes")
    ap.add_argument("--per-lang", type=int, help="override the spec's sentences per language")
    ap.add_argument("--mix", nargs="*", metavar="LANG:N", help="override the spec's mixed-in languages")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value, e.g. training.dropout=0.3")
    ap.add_argument("--no-package", action="store_true", help="train only; leave nlp/models alone")
    ap.add_argument("--package-only", action="store_true",
                    help="package the finished run in the work folder of --name (same spec and seed) without training")
    args = ap.parse_args(argv)

    spec = MODELS[args.model]
    overrides = dict(spec.overrides)
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = parse_value(value)
    mix = spec.mix if args.mix is None else tuple((m.split(":")[0], int(m.split(":")[1])) for m in args.mix)
    spec = Spec(spec.lang, spec.train, args.per_lang if args.per_lang is not None else spec.per_lang,
                spec.tune_per_lang, mix, args.noise or spec.noise, spec.case if args.case is None else args.case,
                spec.negatives if args.negatives is None else args.negatives,
                spec.trim if args.trim is None else args.trim, overrides, spec.description)
    name = args.name or args.model
    work = WORK / name
    if args.package_only:
        sources = sorted({r["source"] for lang in (*spec.train, *(m[0] for m in spec.mix))
                          for r in corpus.train_split(lang)[0][:1]})
        package(work / "out" / "model-best", MODELS_DIR / args.model, args.model, spec, {"sources": sources},
                args.seed)
        print(f"packaged {MODELS_DIR / args.model} from {work}")
        return 0
    t0 = time.time()
    provenance = build_corpora(spec, work / "corpus", seed=args.seed)

    from spacy.cli.train import train as spacy_train

    config_overrides = {
        "paths.train": str(work / "corpus" / "train.spacy"),
        "paths.dev": str(work / "corpus" / "tune.spacy"),
        "nlp.lang": spec.lang,
        "system.seed": args.seed,
        **overrides,
    }
    spacy_train(CONFIG, work / "out", overrides=config_overrides)
    elapsed = time.time() - t0
    best = work / "out" / "model-best"
    meta = json.loads((best / "meta.json").read_text(encoding="utf-8"))
    perf = meta.get("performance", {})
    record = {"name": name, "model": args.model, "seed": args.seed, "noise": spec.noise, "case": spec.case,
              "negatives": spec.negatives, "trim": spec.trim, "per_lang": spec.per_lang, "mix": spec.mix, "overrides": overrides, "train_docs": provenance["train_docs"],
              "tune_f": perf.get("ents_f"), "tune_p": perf.get("ents_p"), "tune_r": perf.get("ents_r"),
              "seconds": round(elapsed)}
    with (WORK / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    print(json.dumps(record))
    if not args.no_package:
        package(best, MODELS_DIR / args.model, args.model, spec, provenance, args.seed)
        print(f"packaged {MODELS_DIR / args.model} ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
