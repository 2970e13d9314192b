"""Public development data written by others (``../shared/dev-data``): loaders and scorers.

Used by ``bench/public_quality.py`` (which ``bench/nlp_quality.py`` calls too) and by the NER
training tools. Nothing here is copied into the project: the files are read from the shared
folder (``OSINTEL_DEV_DATA`` overrides where it is). See that folder's README for the formats
and licences.

NER scoring is CoNLL style: an entity counts when its character span and its type both match
exactly; micro precision/recall/F1 over PER, ORG and LOC. osintel's labels map as PERSON → PER,
ORG → ORG, GPE/LOC/FAC → LOC (NORP, MONEY and domain labels are not scored). WNUT-17's types map
as person → PER, location → LOC, corporation and group → ORG (product and creative-work are not
scored).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report import prf

ROOT = Path(__file__).resolve().parent.parent
DEV_DATA = Path(os.environ.get("OSINTEL_DEV_DATA") or ROOT.parent / "shared" / "dev-data")
SCORED = ("PER", "ORG", "LOC")
RADIUS_KM = 161.0  # 100 miles, the usual geocoding threshold

#: osintel / spaCy OntoNotes labels -> scored type (None: not scored).
OSINTEL_LABELS: dict[str, str] = {"PERSON": "PER", "PER": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC",
                                  "FAC": "LOC"}
#: Gold types of the data sets -> scored type.
GOLD_LABELS: dict[str, str] = {
    "PER": "PER", "ORG": "ORG", "LOC": "LOC",
    "person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG",
}

Span = tuple[int, int, str]


def path(name: str) -> Path:
    """The dev-data file ``name`` (``ner/wikigold_en.jsonl.gz``, ``geo/geovirus.jsonl``)."""
    found = DEV_DATA / name
    if not found.exists():
        raise SystemExit(f"{found} does not exist: set OSINTEL_DEV_DATA to the shared dev-data folder")
    return found


def read_jsonl(name: str) -> Iterator[dict[str, Any]]:
    """Records of a dev-data JSON-lines file (gzip or plain)."""
    p = path(name)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for line in fh:
            if line.strip():
                yield json.loads(line)


def ner_set(name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Sentences of ``ner/<name>.jsonl.gz`` (e.g. ``wikigold_en``, ``wikiann_de_dev``)."""
    out = []
    for record in read_jsonl(f"ner/{name}.jsonl.gz"):
        out.append(record)
        if limit is not None and len(out) >= limit:
            break
    return out


#: Which half of a set to use: ``"tune"`` (even-numbered documents), ``"report"`` (odd-numbered),
#: or None for all. Documents are numbered in file order by their ``doc`` (NER sets, so a
#: WikiGold article stays whole) or ``doc_id`` (GeoVirus); a record without one is its own
#: document. Rules and settings are chosen on the tune half; the report half is never looked at
#: while tuning, and the figure quoted for it is the held-out one.
HALVES = ("tune", "report")


def half(records: Sequence[dict[str, Any]], which: str | None) -> list[dict[str, Any]]:
    """``records`` whose document falls in half ``which`` (see :data:`HALVES`); all if None."""
    if which is None:
        return list(records)
    if which not in HALVES:
        raise ValueError(f"half must be one of {HALVES}, not {which!r}")
    numbers: dict[Any, int] = {}
    out = []
    for i, record in enumerate(records):
        key = record.get("doc", record.get("doc_id", ("#", i)))
        number = numbers.setdefault(key, len(numbers))
        if number % 2 == (0 if which == "tune" else 1):
            out.append(record)
    return out


def gold_spans(record: dict[str, Any]) -> list[Span]:
    """Scored gold entities of a sentence as ``(start_char, end_char, type)``."""
    spans = []
    for e in record["entities"]:
        label = GOLD_LABELS.get(e["type"])
        if label:
            spans.append((e["start_char"], e["end_char"], label))
    return spans


def predicted_spans(entities: Iterable[Any]) -> list[Span]:
    """Scored spans of osintel :class:`~osintel.records.Entity` objects (or spaCy ``Span``)."""
    spans = []
    for e in entities:
        label = getattr(e, "label", None)
        if not isinstance(label, str):
            label = e.label_  # a spaCy Span
            start, end = e.start_char, e.end_char
        else:
            start, end = e.start, e.end
        mapped = OSINTEL_LABELS.get(label)
        if mapped:
            spans.append((start, end, mapped))
    return spans


@dataclass
class NERScore:
    """Exact-span micro counts, overall and per type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    by_type: dict[str, list[int]] = field(default_factory=lambda: {t: [0, 0, 0] for t in SCORED})
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)

    def add(self, text: str, gold: Sequence[Span], pred: Sequence[Span]) -> None:
        g, p = set(gold), set(pred)
        for t in SCORED:
            gt = {s for s in g if s[2] == t}
            pt = {s for s in p if s[2] == t}
            hit = len(gt & pt)
            self.by_type[t][0] += hit
            self.by_type[t][1] += len(pt) - hit
            self.by_type[t][2] += len(gt) - hit
        hit = len(g & p)
        self.tp += hit
        self.fp += len(p) - hit
        self.fn += len(g) - hit
        for s, e, t in sorted(g - p):
            self.misses.append(f"{t} {text[s:e]!r} in {clip(text)!r}")
        for s, e, t in sorted(p - g):
            self.false_positives.append(f"{t} {text[s:e]!r} in {clip(text)!r}")

    prf = staticmethod(prf)

    @property
    def f1(self) -> float:
        return self.prf(self.tp, self.fp, self.fn)[2]

    def summary(self) -> str:
        p, r, f = self.prf(self.tp, self.fp, self.fn)
        per = " ".join(f"{t} {self.prf(*self.by_type[t])[2]:.3f}" for t in SCORED)
        return f"P {p:.3f} R {r:.3f} F1 {f:.3f}  ({per})"


def score_ner(records: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span]]) -> NERScore:
    """Exact-span scores of ``predictions`` (one list of spans per record)."""
    score = NERScore()
    for record, pred in zip(records, predictions):
        score.add(record["text"], gold_spans(record), pred)
    return score


def clip(text: str, n: int = 100) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --- geocoding ---------------------------------------------------------------------------------


def geovirus() -> list[dict[str, Any]]:
    """GeoVirus articles; each toponym has corrected ``start``/``end`` offsets into ``text``."""
    out = []
    for record in read_jsonl("geo/geovirus.jsonl"):
        toponyms = []
        for t in record["toponyms"]:
            start = t.get("start_corrected", t["start"])
            end = t.get("end_corrected", t["end"])
            if start is None or end is None:
                continue
            toponyms.append({**t, "start": int(start), "end": int(end)})
        out.append({**record, "toponyms": toponyms})
    return out


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class GeoScore:
    """Every gold mention counts: found (a predicted mention overlaps it) and placed within 161 km."""

    mentions: int = 0
    found: int = 0
    within: int = 0
    predicted: int = 0
    predicted_right: int = 0
    errors_km: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def add(self, text: str, gold: Sequence[dict[str, Any]],
            pred: Sequence[tuple[int, int, float | None, float | None, str]]) -> None:
        """``pred``: ``(start, end, lat, lon, name)`` for every predicted mention."""
        used: set[int] = set()
        for g in gold:
            self.mentions += 1
            hit = next((k for k, (s, e, *_rest) in enumerate(pred) if k not in used and s < g["end"] and g["start"] < e),
                       None)
            if hit is None:
                self.misses.append(f"{g['phrase']!r} in {clip(text[max(0, g['start'] - 50): g['end'] + 50])!r}")
                continue
            used.add(hit)
            self.found += 1
            _, _, lat, lon, name = pred[hit]
            if lat is None or lon is None:
                self.wrong.append(f"{g['phrase']!r} -> {name} (no point)")
                continue
            d = km(float(g["lat"]), float(g["lon"]), lat, lon)
            self.errors_km.append(d)
            if d <= RADIUS_KM:
                self.within += 1
            else:
                self.wrong.append(f"{g['phrase']!r} -> {name} ({lat:.2f},{lon:.2f}), {d:.0f} km off")
        self.predicted += len(pred)
        self.predicted_right += sum(1 for k in used if k in used)

    def summary(self) -> str:
        errors = sorted(self.errors_km)
        median = errors[len(errors) // 2] if errors else float("nan")
        return (f"within {RADIUS_KM:.0f} km {self.within / max(self.mentions, 1):.3f} of {self.mentions} mentions; "
                f"found {self.found / max(self.mentions, 1):.3f}; predicted mentions {self.predicted}; "
                f"median error {median:.0f} km")
