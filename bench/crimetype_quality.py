"""Crime-type quality: precision, recall and F1 of ``nlp/crimetypes.py`` on labelled texts.

Run from the repository root::

    .venv/bin/python bench/crimetype_quality.py                    # reporting split, full classifier
    .venv/bin/python bench/crimetype_quality.py --split tune       # the half the scheme was tuned on
    .venv/bin/python bench/crimetype_quality.py --no-semantic      # patterns and methods only
    .venv/bin/python bench/crimetype_quality.py --examples 10      # print misses and false labels
    .venv/bin/python bench/crimetype_quality.py --public FILE.jsonl --public-map dice

Every text goes through the same steps as the enrichment worker: language identification,
sentences (:func:`nlp.methods.split_sentences`), criminal methods (patterns and, unless
``--no-semantic``, sentence embeddings), then :meth:`CrimeTypeClassifier.classify` with the
methods found. Printed: micro precision, recall and F1 over (text, type) pairs and macro F1 over
the types that occur, per type, per language and per group (a group is right when any type of it
is); how many crime-free texts got a label; classification time per text.

**The development set** (``tests/data/crimetypes.jsonl``, one JSON object per line: ``id``,
``lang``, ``split`` = ``tune``/``report``, ``text``, ``crime_types``) was written for this project:
press, police releases, court reports and social posts in English, French, Spanish, German,
Italian, Dutch and Portuguese; a third of it is crime-free text that uses crime words in other
senses ("robbed of a penalty", "killer app", "drug trial", "fire drill", "stole the show").
Labels follow the scheme in ``osintel/config/crimetypes.yaml``: every offence the text reports as
committed, alleged, charged or tried (an acquittal too), at subgroup level; the Home Office
principal-crime rule inside one incident (a fatal stabbing is homicide only; a shooting that
injures is violence with injury; weapons are labelled for possession, carrying, supply, seizure
or shots fired without a victim). Background mentions (previous convictions) are not labelled.
The scheme was tuned on the ``tune`` half only; the ``report`` half measures it.

**A public set** (``--public``): JSON lines with ``text``, ``labels`` (the set's own category
names) and optionally ``lang``, read for evaluation only (never committed, never used to write
patterns). ``--public-map`` names a table in :data:`PUBLIC_MAPS` that maps each category to
scheme ids (any of which counts as right) or to ``None`` (a category outside the scheme: the
text is not scored). Scored at group level and at type level.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlp.crimetypes import CrimeTypeClassifier  # noqa: E402
from nlp.langid import UNDETERMINED, LanguageIdentifier  # noqa: E402
from nlp.methods import MethodTaxonomy, split_sentences  # noqa: E402
from osintel.settings import load_settings  # noqa: E402
from report import header, prf, row  # noqa: E402

DATA = ROOT / "tests" / "data" / "crimetypes.jsonl"
BATCH = 32

_ALL: tuple[str, ...] = (
    "violence.homicide", "violence.with_injury", "violence.without_injury", "violence.stalking_harassment",
    "violence.unlawful_driving", "violence.modern_slavery", "sexual.rape", "sexual.other", "robbery.personal",
    "robbery.business", "theft.burglary", "theft.vehicle", "theft.from_person", "theft.bicycle",
    "theft.shoplifting", "theft.other", "damage.arson", "damage.criminal_damage", "drugs.trafficking",
    "drugs.possession", "weapons.firearms", "weapons.other", "public_order.disorder", "society.money_laundering",
    "society.immigration", "society.other", "fraud.fraud", "fraud.computer_misuse",
)
#: External category -> scheme ids that count as right (None: outside the scheme, not scored;
#: an empty tuple: a crime-free category, where any label is a false positive).
PUBLIC_MAPS: dict[str, dict[str, tuple[str, ...] | None]] = {
    # DICE, Italian crime news of the Gazzetta di Modena (federicarollo/Italian-Crime-News,
    # CC BY-NC-SA 4.0): one newspaper category per article.
    "dice": {
        "furto": ("theft.burglary", "theft.vehicle", "theft.from_person", "theft.bicycle", "theft.shoplifting", "theft.other"),
        "theft": ("theft.burglary", "theft.vehicle", "theft.from_person", "theft.bicycle", "theft.shoplifting", "theft.other"),
        "rapina": ("robbery.personal", "robbery.business"),
        "robbery": ("robbery.personal", "robbery.business"),
        "spaccio": ("drugs.trafficking",),
        "drug dealing": ("drugs.trafficking",),
        "aggressione": ("violence.with_injury", "violence.without_injury"),
        "aggression": ("violence.with_injury", "violence.without_injury"),
        "omicidio": ("violence.homicide",),
        "murder": ("violence.homicide",),
        "violenza sessuale": ("sexual.rape", "sexual.other"),
        "sexual violence": ("sexual.rape", "sexual.other"),
        "truffa": ("fraud.fraud",),
        "scam": ("fraud.fraud",),
        "frode": ("fraud.fraud",),
        "fraud": ("fraud.fraud",),
        "riciclaggio": ("society.money_laundering",),
        "money laundering": ("society.money_laundering",),
        "sequestro di persona": ("violence.without_injury",),
        "kidnapping": ("violence.without_injury",),
        "maltrattamento": ("violence.without_injury", "violence.with_injury"),
        "mistreatment": ("violence.without_injury", "violence.with_injury"),
        "evasione": ("society.other",),
        "evasion": ("society.other",),
        "vendita abusiva": None,  # unlicensed street trading: not a notifiable offence
        "illegal sale": None,
    },
    # HuffPost News Category Dataset (Rishabh Misra, CC BY 4.0): headline + short description with
    # the newspaper's section. CRIME: any crime type is right. Sections that are not about crime
    # map to () (a label there is counted and listed: an upper bound of false positives, since such
    # sections carry some crime stories); general news sections (politics, U.S., world, weird
    # news) are not scored but their labels are listed.
    "huffpost": {
        "crime": _ALL,
        **{name: () for name in (
            "entertainment", "style & beauty", "style", "parenting", "parents", "comedy", "home & living",
            "food & drink", "taste", "wellness", "healthy living", "sports", "environment", "green", "science",
            "education", "college", "women", "culture & arts", "arts & culture", "arts", "tech", "media",
            "black voices", "queer voices", "latino voices", "travel", "weddings", "divorce", "money",
            "business", "religion", "fifty", "good news", "impact",
        )},
        "politics": None, "u.s. news": None, "world news": None, "weird news": None, "worldpost": None,
        "the worldpost": None,
    },
}


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]








class Pipeline:
    """Language, sentences, methods and crime types, as the enricher runs them."""

    def __init__(self, *, semantic: bool) -> None:
        settings = load_settings(env={})
        encoder = None
        if semantic:
            from nlp.embeddings import SentenceEncoder

            encoder = SentenceEncoder(batch_size=settings.nlp.embedding_batch_size)
        self.language = LanguageIdentifier(seed=settings.nlp.langdetect_seed)
        self.methods = MethodTaxonomy.from_file(settings.methods_file, encoder=encoder)
        self.crimetypes = CrimeTypeClassifier.from_file(settings.crimetypes_file, encoder=encoder)
        self.seconds = 0.0

    def run(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[list[Any]]:
        out: list[list[Any]] = []
        for i in range(0, len(texts), BATCH):
            chunk = texts[i : i + BATCH]
            languages = []
            for text, given in zip(chunk, langs[i : i + BATCH]):
                code, _ = self.language.detect(text)
                languages.append(None if code == UNDETERMINED else code)
            sentences = [split_sentences(text) for text in chunk]
            methods = self.methods.match_batch(list(zip(chunk, sentences, languages)))
            started = time.perf_counter()
            out += self.crimetypes.classify(list(zip(chunk, sentences, languages, methods)))
            self.seconds += time.perf_counter() - started
        return out


def score_dev(items: list[dict[str, Any]], predicted: list[list[Any]], *, examples: int, out: Any) -> None:
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    by_lang: dict[str, Counter[str]] = defaultdict(Counter)
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    misses: list[str] = []
    false: list[str] = []
    free = free_hit = 0
    for item, labels in zip(items, predicted):
        gold = set(item["crime_types"])
        pred = {c.id for c in labels}
        if not gold:
            free += 1
            free_hit += bool(pred)
        for t in gold | pred:
            kind = "tp" if t in gold and t in pred else ("fn" if t in gold else "fp")
            by_type[t][kind] += 1
            by_lang[item["lang"]][kind] += 1
        gold_g, pred_g = {t.split(".")[0] for t in gold}, {t.split(".")[0] for t in pred}
        for g in gold_g | pred_g:
            by_group[g]["tp" if g in gold_g and g in pred_g else ("fn" if g in gold_g else "fp")] += 1
        if gold - pred:
            misses.append(f"    {item['id']} [{item['lang']}] missed {sorted(gold - pred)} got {sorted(pred)}: {item['text'][:140]}")
        if pred - gold:
            evidence = "; ".join(f"{c.id} ({c.matched_by}): {c.evidence[:90]}" for c in labels if c.id not in gold)
            false.append(f"    {item['id']} [{item['lang']}] {evidence}")
    total = Counter()
    for counts in by_type.values():
        total.update(counts)
    p, r, f = prf(total["tp"], total["fp"], total["fn"])
    gold_types = [t for t, c in by_type.items() if c["tp"] + c["fn"]]
    macro = sum(prf(by_type[t]["tp"], by_type[t]["fp"], by_type[t]["fn"])[2] for t in gold_types) / max(1, len(gold_types))
    out(f"  texts {len(items)}, crime-free {free}: micro P {p:.3f} R {r:.3f} F1 {f:.3f}; macro F1 {macro:.3f} over {len(gold_types)} types")
    out(f"  crime-free texts with a label: {free_hit}/{free} ({free_hit / max(1, free):.1%})")
    gtotal = Counter()
    for counts in by_group.values():
        gtotal.update(counts)
    gp, gr, gf = prf(gtotal["tp"], gtotal["fp"], gtotal["fn"])
    out(f"  group level: micro P {gp:.3f} R {gr:.3f} F1 {gf:.3f}")
    out("\n" + header("language", 28))
    for lang in sorted(by_lang, key=lambda x: (x != "en", x)):
        c = by_lang[lang]
        out(row(lang, c["tp"], c["fp"], c["fn"], 28))
    out("\n" + header("group", 28))
    for g in sorted(by_group):
        c = by_group[g]
        out(row(g, c["tp"], c["fp"], c["fn"], 28))
    out("\n" + header("crime type", 28))
    for t in sorted(by_type):
        c = by_type[t]
        out(row(t, c["tp"], c["fp"], c["fn"], 28))
    if examples:
        out(f"\n  misses ({len(misses)}):")
        for line in misses[:examples]:
            out(line)
        out(f"  false labels ({len(false)}):")
        for line in false[:examples]:
            out(line)


def score_public(items: list[dict[str, Any]], predicted: list[list[Any]], table: dict[str, Any], out: Any) -> None:
    counts: Counter[str] = Counter()
    group_counts: Counter[str] = Counter()
    per_label: dict[str, Counter[str]] = defaultdict(Counter)
    skipped = 0
    free = free_hit = 0
    listed: list[str] = []
    for item, labels in zip(items, predicted):
        raw = item["labels"] if isinstance(item["labels"], list) else [item["labels"]]
        keys = [str(x).strip().lower() for x in raw]
        if any(k not in table for k in keys):
            skipped += 1
            continue
        mapped = [table[k] for k in keys]
        described = "; ".join(f"{c.id} ({c.matched_by}): {c.evidence[:80]}" for c in labels)
        if any(m is None for m in mapped):
            skipped += 1
            if labels:
                listed.append(f"    [{'/'.join(keys)}, not scored] {described}")
            continue
        if all(m == () for m in mapped):
            free += 1
            free_hit += bool(labels)
            if labels:
                listed.append(f"    [{'/'.join(keys)}, crime-free section] {described}")
            continue
        pred = {c.id for c in labels}
        pred_groups = {t.split(".")[0] for t in pred}
        for name, accepted_ids in zip(raw, mapped):
            hit = bool(pred & set(accepted_ids))
            group_hit = bool(pred_groups & {t.split(".")[0] for t in accepted_ids})
            counts["tp" if hit else "fn"] += 1
            group_counts["tp" if group_hit else "fn"] += 1
            per_label[str(name)]["tp" if hit else "fn"] += 1
        gold_ids = {t for m in mapped for t in m}
        gold_groups = {t.split(".")[0] for t in gold_ids}
        counts["fp"] += len({t.split(".")[0] for t in pred} - gold_groups)
        group_counts["fp"] += len(pred_groups - gold_groups)
        counts["none"] += not pred
    scored = len(items) - skipped - free
    p, r, f = prf(group_counts["tp"], group_counts["fp"], group_counts["fn"])
    out(f"  texts {len(items)}: crime texts scored {scored}, crime-free sections {free}, not scored {skipped}")
    out(f"  crime texts with no label at all: {counts['none']}/{scored}")
    out(f"  texts of crime-free sections with a label: {free_hit}/{free}")
    if listed:
        out("  labels given outside crime sections (inspect: some of these sections do report crimes):")
        for line in listed:
            out(line)
    if not scored:
        return
    out(f"  group level: P {p:.3f} R {r:.3f} F1 {f:.3f} (a predicted group not in the gold is a false positive)")
    r_type = counts["tp"] / max(1, counts["tp"] + counts["fn"])
    out(f"  type level: recall {r_type:.3f} (a mapped category is found when one of its scheme ids is predicted)")
    out("\n  " + f"{'category':<28} {'n':>5} {'found':>6} {'recall':>7}")
    for name, c in sorted(per_label.items(), key=lambda kv: -(kv[1]["tp"] + kv[1]["fn"])):
        n = c["tp"] + c["fn"]
        out(f"  {name:<28} {n:>5} {c['tp']:>6} {c['tp'] / n:>7.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("report", "tune", "all"), default="report")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-semantic", action="store_true", help="patterns and methods only (no encoder)")
    parser.add_argument("--examples", type=int, default=0, help="misses and false labels to print")
    parser.add_argument("--public", type=Path, help="a public labelled set (JSON lines), evaluation only")
    parser.add_argument("--public-map", choices=sorted(PUBLIC_MAPS), default="huffpost")
    parser.add_argument("--public-limit", type=int, default=0, help="score only the first N public items")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    out = print
    pipeline = Pipeline(semantic=not args.no_semantic)
    items = [i for i in load(args.data) if args.split == "all" or i["split"] == args.split]
    predicted = pipeline.run([i["text"] for i in items], [i.get("lang") for i in items])
    mode = "patterns + methods" if args.no_semantic else "patterns + methods + semantic"
    out(f"development set {args.data.name}, split {args.split} ({mode})")
    score_dev(items, predicted, examples=args.examples, out=out)
    out(f"\n  classification time: {1000 * pipeline.seconds / max(1, len(items)):.2f} ms per text "
        f"(crime types only; language and methods excluded)")
    if args.public is not None:
        public = load(args.public)
        if args.public_limit:
            public = public[: args.public_limit]
        pipeline.seconds = 0.0
        predicted = pipeline.run([i["text"] for i in public], [i.get("lang") for i in public])
        out(f"\npublic set {args.public.name} ({len(public)} texts, map {args.public_map})")
        score_public(public, predicted, PUBLIC_MAPS[args.public_map], out)
        out(f"\n  classification time: {1000 * pipeline.seconds / max(1, len(public)):.2f} ms per text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
