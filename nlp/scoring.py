"""Relevance scoring: how much a document matters to an analyst of serious and organised crime.

The score is in ``[0, 1)``. Evidence adds up on a raw scale and saturates::

    raw   = sum(method confidences) * METHOD_WEIGHT + sum over entity labels of
            LABEL_WEIGHTS[label] * min(distinct values, LABEL_CAP)
    base  = 1 - exp(-raw)
    score = base * GRADING_FACTOR[source grade]      (1 reliable > 2 untested > 3 unreliable)

The explanation maps each component to its share of the score: ``method:<id>`` and
``entities:<LABEL>`` split ``base`` in proportion to their raw contribution, and ``grading`` is
the (zero or negative) adjustment for source reliability, so the values sum to the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from osintel.records import Entity, Grading, MethodHit

METHOD_WEIGHT = 1.0
#: Selectors an analyst can act on weigh more than names.
LABEL_WEIGHTS: dict[str, float] = {
    "PHONE": 0.25,
    "BTC_ADDRESS": 0.35,
    "ETH_ADDRESS": 0.35,
    "XMR_ADDRESS": 0.35,
    "IBAN": 0.35,
    "VEHICLE_PLATE": 0.3,
    "IMO": 0.3,
    "EMAIL": 0.1,
    "HANDLE": 0.08,
    "IP_ADDRESS": 0.08,
    "DOMAIN": 0.04,
    "URL": 0.02,
    "PERSON": 0.03,
    "ORG": 0.02,
}
LABEL_CAP = 3
GRADING_FACTOR: dict[int, float] = {1: 1.0, 2: 0.85, 3: 0.6}


@dataclass
class RelevanceScorer:
    """Computes ``(score, explanation)``; weights are attributes so a deployment can tune them."""

    method_weight: float = METHOD_WEIGHT
    label_weights: dict[str, float] = field(default_factory=lambda: dict(LABEL_WEIGHTS))
    label_cap: int = LABEL_CAP
    grading_factor: dict[int, float] = field(default_factory=lambda: dict(GRADING_FACTOR))

    def score(
        self, *, methods: Sequence[MethodHit], entities: Sequence[Entity], grading: Grading | None
    ) -> tuple[float, dict[str, float]]:
        """Relevance in ``[0, 1)`` and its explanation ``{component: contribution}``."""
        raw: dict[str, float] = {}
        for hit in methods:
            raw[f"method:{hit.id}"] = hit.confidence * self.method_weight
        values: dict[str, set[str]] = {}
        for entity in entities:
            if entity.label in self.label_weights:
                values.setdefault(entity.label, set()).add((entity.normalized or entity.text).lower())
        for label, distinct in sorted(values.items()):
            raw[f"entities:{label}"] = self.label_weights[label] * min(len(distinct), self.label_cap)
        total = sum(raw.values())
        if total <= 0:
            return 0.0, {}
        base = 1.0 - math.exp(-total)
        factor = self.grading_factor.get(grading.source if grading else 2, 1.0)
        score = base * factor
        explanation = {name: round(base * value / total, 4) for name, value in raw.items()}
        explanation["grading"] = round(score - base, 4)
        return round(score, 4), explanation
