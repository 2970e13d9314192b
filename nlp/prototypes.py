"""Nearest-prototype scoring of sentence embeddings, shared by the semantic layers.

A :class:`PrototypeSet` holds labelled English prototype sentences (grouped by label) and
"background" sentences that belong to no label, embedded once with a
:class:`~nlp.embeddings.SentenceEncoder`. :meth:`PrototypeSet.score` turns a batch of sentence
vectors into each label's best cosine similarity and the best background similarity;
:func:`accepted` applies the usual decision: at least the label's threshold, within ``margin`` of
the best label, and ahead of the best background sentence by ``margin``. This is the recipe of the
method taxonomy's semantic pass (:mod:`nlp.methods`), in a form any classifier can reuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nlp.embeddings import SentenceEncoder


class PrototypeSet:
    """Prototype and background embeddings; labels in the order given."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        prototypes: Mapping[str, Sequence[str]],
        background: Sequence[str] = (),
    ) -> None:
        self.labels = [label for label, sentences in prototypes.items() if sentences]
        sentences: list[str] = []
        starts: list[int] = []
        for label in self.labels:
            starts.append(len(sentences))
            sentences.extend(prototypes[label])
        self._starts = np.asarray(starts, dtype=np.int64)
        self._examples = encoder.encode(sentences) if sentences else np.zeros((0, 0), dtype=np.float32)
        self._background = encoder.encode(list(background)) if background else np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def score(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(best, background)``: per row, each label's best similarity (columns in
        :attr:`labels` order) and the best background similarity (-1 without background)."""
        if not self.labels or len(vectors) == 0:
            return np.full((len(vectors), len(self.labels)), -1.0, dtype=np.float32), np.full(len(vectors), -1.0)
        per_example = vectors @ self._examples.T  # cosine: every vector is unit-norm
        best = np.maximum.reduceat(per_example, self._starts, axis=1)
        if len(self._background):
            background = (vectors @ self._background.T).max(axis=1)
        else:
            background = np.full(len(vectors), -1.0, dtype=np.float32)
        return best, background


def accepted(
    best: np.ndarray, background: float, *, thresholds: Sequence[float], margin: float
) -> list[tuple[int, float]]:
    """Columns of one row of :meth:`PrototypeSet.score` that count as hits, with their similarity.

    A label hits when its similarity reaches its threshold, is within ``margin`` of the best label
    and beats the best background sentence by ``margin``.
    """
    if best.size == 0:
        return []
    top = max(float(best.max()), float(background) + margin)
    return [
        (column, float(sim))
        for column, sim in enumerate(best)
        if sim >= thresholds[column] and sim >= top - margin
    ]
