"""Emerging methods: a method (or a method in one country) rising above its baseline, and new
phrases appearing next to crime terms.

Counts are distinct stories (near-duplicate clusters, so one syndicated article counts once) per
day of publication (collection when undated), read from the control store. For each method and
each (method, country):

- ``recent`` = stories in the last ``emerging_recent_days`` days (ending on ``end``),
- ``baseline`` = stories in the ``emerging_baseline_days`` before that,
- ``expected`` = (baseline + 0.5) / baseline_days * recent_days (the 0.5 keeps a method never
  seen before from dividing by zero while still letting it alert); the baseline starts no
  earlier than the first day of stored history, and is at least ``emerging_recent_days`` long,
- ``p`` = P(X >= recent) for X ~ Poisson(expected); ``score`` = -log10(p).

A signal fires when recent >= ``emerging_min_count``, recent / expected >= ``emerging_min_ratio``
and score >= ``emerging_min_score``; it says all of those numbers. Nothing fires without a
baseline (less stored history before the recent window than the window itself): a new
installation is not a trend.

New phrases: 2- and 3-word sequences of the evidence sentences of method hits (sentences that
contain crime terms) in the recent window, never seen in the baseline's evidence sentences, in at
least ``phrase_min_stories`` distinct stories.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from alerts.state import AlertStore
from osintel.settings import AlertSettings

_WORD = re.compile(r"[^\W\d_]{2,}")
_STOP = frozenset("""a an and are as at be been by for from had has have he her his i in into is it its
of on or our she that the their them they this to was we were which who will with not but after
before over under than then there these those said says also more most other such can could would
should may might up out about du de la le les et des un une el los las y en del que der die das und
ein eine""".split())


@dataclass(frozen=True)
class Signal:
    """One significant rise (``kind="rise"``) or new phrase (``kind="phrase"``)."""

    kind: str
    key: str
    end: str
    recent: int
    recent_days: int
    method: str | None = None
    country: str | None = None
    phrase: str | None = None
    baseline: int = 0
    baseline_days: int = 0
    baseline_rate: float = 0.0
    expected: float = 0.0
    ratio: float = 0.0
    p_value: float = 1.0
    score: float = 0.0
    threshold: float = 0.0
    examples: tuple[str, ...] = ()

    def title(self) -> str:
        if self.kind == "phrase":
            return f"New phrase with crime terms: \u201c{self.phrase}\u201d"
        where = f" in {self.country}" if self.country else ""
        return f"Emerging method: {self.method}{where}"

    def explanation(self) -> str:
        if self.kind == "phrase":
            return (f"\u201c{self.phrase}\u201d appeared in {self.recent} stories in the {self.recent_days} days to"
                    f" {self.end} and never in the {self.baseline_days} days before (minimum {self.threshold:g}).")
        return (f"{self.recent} stories in the {self.recent_days} days to {self.end} against {self.baseline} in the"
                f" {self.baseline_days} days before ({self.baseline_rate:.2f}/day, {self.expected:.1f} expected):"
                f" {self.ratio:.1f}x, p={self.p_value:.2g}, score {self.score:.1f} >= threshold {self.threshold:g}.")

    def as_detail(self) -> dict[str, Any]:
        return {"title": self.title(), "explanation": self.explanation(), "signal": asdict(self)}


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), summed upwards in log space (accurate in the far tail)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    term = math.exp(k * math.log(mu) - mu - math.lgamma(k + 1))
    total, j = term, k
    while term > total * 1e-16 and j < k + 10_000:
        j += 1
        term *= mu / j
        total += term
    return min(1.0, total)


class History:
    """Stories per day per method and (method, country), and evidence phrases per day."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.stories: dict[tuple[str, str | None], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.phrases: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.days: set[str] = set()
        for row in rows:
            day, story, method = row["day"], row["story"], row["method"]
            if not method or not day:
                continue
            self.days.add(day)
            self.stories[(method, None)][day].add(story)
            for country in row["countries"]:
                self.stories[(method, country)][day].add(story)
            for phrase in phrases_of(row["evidence"] or ""):
                self.phrases[phrase][day].add(story)

    @classmethod
    def load(cls, alerts: AlertStore, first: date, last: date) -> History:
        return cls(alerts.method_rows(first_day=first.isoformat(), last_day=last.isoformat()))


def phrases_of(sentence: str) -> set[str]:
    """2- and 3-word phrases of a sentence that neither start nor end with a stop word."""
    words = [w.casefold() for w in _WORD.findall(sentence)]
    out: set[str] = set()
    for n in (2, 3):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if gram[0] not in _STOP and gram[-1] not in _STOP:
                out.add(" ".join(gram))
    return out


def _count(per_day: dict[str, set[str]], first: date, last: date) -> int:
    lo, hi = first.isoformat(), last.isoformat()
    stories: set[str] = set()
    for day, s in per_day.items():
        if lo <= day <= hi:
            stories |= s
    return len(stories)


def detect(history: History, end: date, cfg: AlertSettings, *, methods: str = "", per_place: bool = True,
           phrases: bool = True) -> list[Signal]:
    """Signals for the recent window ending on ``end`` (inclusive), strongest first."""
    recent_first = end - timedelta(days=cfg.emerging_recent_days - 1)
    base_last = recent_first - timedelta(days=1)
    base_first = recent_first - timedelta(days=cfg.emerging_baseline_days)
    # The baseline starts where the history does: a store that began collecting 20 days ago has a
    # 13-day baseline, not a 56-day one full of zeros (which would make everything "rise").
    in_base = [d for d in history.days if base_first.isoformat() <= d <= base_last.isoformat()]
    if not in_base:
        return []
    base_days = (base_last - max(base_first, date.fromisoformat(min(in_base)))).days + 1
    if base_days < cfg.emerging_recent_days:
        return []
    signals: list[Signal] = []
    for (method, country), per_day in history.stories.items():
        if not method.startswith(methods) or (country is not None and not per_place):
            continue
        recent = _count(per_day, recent_first, end)
        if recent < cfg.emerging_min_count:
            continue
        baseline = _count(per_day, base_first, base_last)
        rate = (baseline + 0.5) / base_days
        expected = rate * cfg.emerging_recent_days
        ratio = recent / expected
        p = poisson_sf(recent, expected)
        score = min(300.0, -math.log10(p)) if p > 0 else 300.0
        if ratio >= cfg.emerging_min_ratio and score >= cfg.emerging_min_score:
            key = f"rise:{method}:{country or '*'}"
            signals.append(Signal("rise", key, end.isoformat(), recent, cfg.emerging_recent_days, method=method,
                                  country=country, baseline=baseline, baseline_days=base_days,
                                  baseline_rate=round(baseline / base_days, 4),
                                  expected=round(expected, 3), ratio=round(ratio, 2), p_value=p,
                                  score=round(score, 2), threshold=cfg.emerging_min_score))
    if phrases:
        signals.extend(_new_phrases(history, recent_first, end, base_last - timedelta(days=base_days - 1),
                                    base_last, cfg))
    signals.sort(key=lambda s: (s.kind != "rise", -s.score, -s.recent, s.key))
    return signals


def _new_phrases(history: History, first: date, end: date, base_first: date, base_last: date,
                 cfg: AlertSettings) -> list[Signal]:
    found: list[tuple[int, str]] = []
    for phrase, per_day in history.phrases.items():
        recent = _count(per_day, first, end)
        if recent >= cfg.phrase_min_stories and _count(per_day, base_first, base_last) == 0:
            found.append((recent, phrase))
    chosen: list[Signal] = []
    for recent, phrase in sorted(found, key=lambda f: (-f[0], -len(f[1].split()), f[1])):
        if any(phrase in c.phrase for c in chosen if c.phrase):
            continue  # "county lines" inside "new county lines route" adds nothing
        chosen.append(Signal("phrase", f"phrase:{phrase}", end.isoformat(), recent, cfg.emerging_recent_days,
                             phrase=phrase, baseline_days=(base_last - base_first).days + 1,
                             threshold=cfg.phrase_min_stories, score=float(recent)))
        if len(chosen) >= cfg.phrase_max_per_run:
            break
    return chosen


def window_start(end: date, cfg: AlertSettings) -> date:
    """The first day :func:`detect` looks at for a window ending on ``end``."""
    return end - timedelta(days=cfg.emerging_recent_days + cfg.emerging_baseline_days - 1)


def backtest(alerts: AlertStore, cfg: AlertSettings, *, first: date, last: date, methods: str = "",
             per_place: bool = True, phrases: bool = True) -> list[Signal]:
    """Signals that would have fired on each day from ``first`` to ``last``, with the same
    once-per-recent-window suppression the live rule applies."""
    history = History.load(alerts, window_start(first, cfg), last)
    fired: dict[str, date] = {}
    out: list[Signal] = []
    day = first
    while day <= last:
        for signal in detect(history, day, cfg, methods=methods, per_place=per_place, phrases=phrases):
            previous = fired.get(signal.key)
            if previous is not None and (day - previous).days < cfg.emerging_recent_days:
                continue
            fired[signal.key] = day
            out.append(signal)
        day += timedelta(days=1)
    return out
