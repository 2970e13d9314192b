"""Near-duplicate detection: syndicated or copied stories are clustered so counts and alerts are
not inflated.

How two documents are judged to be the same story
-------------------------------------------------

1. **Candidates** come from MinHash LSH (``datasketch``) over 5-word shingles of the normalised
   text (NFKC, case-folded, words only; the title is ignored, so a new headline changes nothing).
   128 permutations, LSH threshold 0.5 Jaccard.
2. **Text check**: the Jaccard similarity estimated from the two signatures is at least 0.5.
3. **Fact check**: the *facts* of the two texts agree. A fact is any token containing a digit
   (ages, amounts, dates, phone numbers, plates, wallets, IBANs); syndicated copies repeat them,
   while different stories written from the same template or press-office phrasing do not. The
   smaller fact set must be at least 80 % contained in the larger one (so a copy with a dropped
   paragraph, or with boilerplate added, still agrees). When either text has fewer than 3 facts
   there is nothing to compare, and the text check alone decides at the stricter 0.8.

These parameters were tuned on the bundled demo corpus (393 articles in four languages, built
from shared templates, i.e. many different stories on the same topics: up to 0.76 Jaccard
between two *different* stories; none may cluster) and on syndicated variants of its articles
(new headline line, agency boilerplate, a paragraph added or removed, small house-style edits,
and all of these at once). See ``tests/nlp/test_dedup.py``.

Clusters
--------

The earliest document *seen* is the canonical one and is never re-pointed: a later near-duplicate
gets ``duplicate_of`` and ``cluster_id`` set to the canonical id. Every assessed document gets a
``cluster_id`` (its own id when it is the first of its story), so distinct stories are counted by
distinct ``cluster_id`` and a document already indexed never needs rewriting when a copy arrives.
A document joins the cluster of its most similar earlier document, so a copy of a copy joins the
original's cluster. Texts shorter than ``min_words`` are not assessed (both fields stay None).
A document id seen before keeps its first assignment (re-enrichment and retries are idempotent).

Persistence
-----------

Without a ``backing`` the index is in memory: it deduplicates within what this process has seen.
With a ``backing`` (the control store, passed in by the caller that owns it; this module does not
import it) each new fingerprint is saved as the batch is assigned, and :meth:`refresh` loads
fingerprints saved since the last call, by this process or another. Call it once at start-up;
:meth:`assign` calls it before each batch. Several processes sharing one backing (the enrichment
pool, :mod:`osintel.service.enrich_pool`) pass a ``guard`` (a cross-process lock) held from that
refresh to the save, so they assign one batch at a time in one order: the first *assigned* copy
of a story is its canonical document, and concurrent copies never open two clusters.

Memory: per document, the signature (128 x uint32 = 512 bytes), its facts (4 bytes each) and the
LSH band keys with Python's per-object overhead: measured (tracemalloc, 5,000 demo-length
articles) at about 6 KB per document, i.e. ~600 MB per 100,000 documents held, ~6 GB per million.
Loading takes one pass over the ``minhash`` table at start-up.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from datasketch import MinHash, MinHashLSH

from osintel.records import Document
from osintel.store import MinHashRow

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
_SCHEME = "affine32"


@dataclass(frozen=True)
class DedupOptions:
    """Parameters of :class:`NearDuplicateIndex` (see the module docstring for the evidence)."""

    shingle_words: int = 5
    num_perm: int = 128
    seed: int = 1
    lsh_threshold: float = 0.5
    min_jaccard: float = 0.5
    min_fact_containment: float = 0.8
    min_facts: int = 3
    text_only_jaccard: float = 0.8
    min_words: int = 12
    max_facts: int = 512

    @property
    def version(self) -> str:
        """Recorded in ``Document.enrichment["dedup"]`` and beside every saved fingerprint."""
        return (f"minhash-{_SCHEME}-w{self.shingle_words}-p{self.num_perm}-s{self.seed}"
                f"-j{self.min_jaccard}-f{self.min_fact_containment}")


@dataclass(frozen=True)
class Fingerprint:
    """What is kept (and persisted) per document: enough to match later copies, no text."""

    doc_id: str
    cluster_id: str
    signature: bytes
    facts: bytes
    scheme: str


class FingerprintBacking(Protocol):
    """Durable storage of fingerprints; :class:`osintel.store.ControlStore` provides it."""

    def minhash_since(self, seq: int, *, limit: int = 5000) -> Sequence[MinHashRow]:
        """Rows saved after ``seq``, in ``seq`` order."""
        ...

    def add_minhash(self, rows: Sequence[Fingerprint]) -> None:
        """Save rows; a doc id already saved keeps its first row."""
        ...


@dataclass(frozen=True)
class Assignment:
    """The outcome for one document: the two ``Document`` fields to set."""

    duplicate_of: str | None
    cluster_id: str | None

    def as_update(self) -> dict[str, str | None]:
        return {"duplicate_of": self.duplicate_of, "cluster_id": self.cluster_id}


def normalised_words(text: str) -> list[str]:
    """Case-folded NFKC words (letters and digits), the unit of shingling."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(words: Sequence[str], size: int) -> set[bytes]:
    """Overlapping ``size``-word shingles (the whole text when it is shorter)."""
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def facts(words: Iterable[str], *, limit: int = 512) -> np.ndarray:
    """Sorted unique CRC-32 hashes of the tokens that contain a digit."""
    hashes = {zlib.crc32(w.encode("utf-8")) for w in words if any(c.isdigit() for c in w)}
    return np.array(sorted(hashes)[:limit], dtype=np.uint32)


class NearDuplicateIndex:
    """Assigns ``duplicate_of`` / ``cluster_id`` to documents, remembering what it has seen."""

    def __init__(self, options: DedupOptions | None = None, *, backing: FingerprintBacking | None = None,
                 guard: AbstractContextManager[object] | None = None) -> None:
        self.options = options or DedupOptions()
        self.backing = backing
        # Held from refresh to save in assign(): processes sharing a backing (the enrichment pool)
        # then assign one after another, so two copies of a story enriched at the same moment in two
        # processes still join one cluster.
        self._guard: AbstractContextManager[object] = guard if guard is not None else nullcontext()
        opts = self.options
        self._lsh = MinHashLSH(threshold=opts.lsh_threshold, num_perm=opts.num_perm)
        self._permutations = MinHash(num_perm=opts.num_perm, seed=opts.seed, scheme=_SCHEME).permutations
        self._signatures: dict[str, np.ndarray] = {}
        self._facts: dict[str, np.ndarray] = {}
        self._cluster: dict[str, str] = {}
        self._high_water = 0
        self._lock = threading.Lock()
        self.stats: dict[str, int] = {"dedup/loaded": 0, "dedup/skipped_rows": 0, "dedup/duplicates": 0}

    @property
    def version(self) -> str:
        return self.options.version

    def __len__(self) -> int:
        return len(self._cluster)

    # -- persistence ---------------------------------------------------------------------------

    def refresh(self) -> int:
        """Load fingerprints saved to the backing since the last call; returns how many."""
        if self.backing is None:
            return 0
        loaded = 0
        with self._lock:
            while True:
                rows = self.backing.minhash_since(self._high_water)
                if not rows:
                    break
                for row in rows:
                    self._high_water = max(self._high_water, int(row.seq))
                    if row.doc_id in self._cluster:
                        continue
                    if row.scheme != self.version:
                        self.stats["dedup/skipped_rows"] += 1
                        continue
                    signature = np.frombuffer(row.signature, dtype=np.uint32)
                    self._remember(row.doc_id, row.cluster_id, signature, np.frombuffer(row.facts, dtype=np.uint32))
                    loaded += 1
        if loaded:
            self.stats["dedup/loaded"] += loaded
            log.info("near-duplicate index: loaded %d fingerprint(s), %d held", loaded, len(self._cluster))
        if self.stats["dedup/skipped_rows"]:
            log.warning("near-duplicate index: %d saved fingerprint(s) made with other parameters were"
                        " ignored", self.stats["dedup/skipped_rows"])
        return loaded

    # -- assignment ----------------------------------------------------------------------------

    def assign(self, docs: Sequence[Document]) -> list[Assignment]:
        """Decide each document's cluster, in order (earlier documents of the batch come first),
        remember the new ones and save their fingerprints to the backing."""
        with self._guard:
            return self._assign(docs)

    def _assign(self, docs: Sequence[Document]) -> list[Assignment]:
        self.refresh()
        out: list[Assignment] = []
        new: list[Fingerprint] = []
        with self._lock:
            for doc in docs:
                known = self._cluster.get(doc.id)
                if known is not None:
                    out.append(Assignment(None if known == doc.id else known, known))
                    continue
                words = normalised_words(doc.text)
                if len(words) < self.options.min_words:
                    out.append(Assignment(None, None))
                    continue
                signature = self._signature(words)
                doc_facts = facts(words, limit=self.options.max_facts)
                canonical = self._best_match(signature, doc_facts)
                cluster = canonical or doc.id
                self._remember(doc.id, cluster, signature, doc_facts)
                new.append(Fingerprint(doc.id, cluster, signature.tobytes(), doc_facts.tobytes(), self.version))
                if canonical:
                    self.stats["dedup/duplicates"] += 1
                out.append(Assignment(canonical, cluster))
        if new and self.backing is not None:
            self.backing.add_minhash(new)
        return out

    def _signature(self, words: Sequence[str]) -> np.ndarray:
        mh = MinHash(num_perm=self.options.num_perm, seed=self.options.seed, scheme=_SCHEME,
                     permutations=self._permutations)
        mh.update_batch(list(shingles(words, self.options.shingle_words)))
        return np.asarray(mh.hashvalues, dtype=np.uint32)

    def _minhash(self, signature: np.ndarray) -> MinHash:
        return MinHash(seed=self.options.seed, hashvalues=signature, permutations=self._permutations, scheme=_SCHEME)

    def _remember(self, doc_id: str, cluster: str, signature: np.ndarray, doc_facts: np.ndarray) -> None:
        if len(signature) != self.options.num_perm:
            self.stats["dedup/skipped_rows"] += 1
            return
        self._lsh.insert(doc_id, self._minhash(signature), check_duplication=False)
        self._signatures[doc_id] = signature
        self._facts[doc_id] = doc_facts
        self._cluster[doc_id] = cluster

    def _best_match(self, signature: np.ndarray, doc_facts: np.ndarray) -> str | None:
        """The cluster of the most similar earlier document that passes both checks."""
        opts = self.options
        best: tuple[float, str] | None = None  # (-jaccard, id): most similar, ties to the smaller id
        for other in self._lsh.query(self._minhash(signature)):
            jaccard = float(np.mean(self._signatures[other] == signature))
            if jaccard < opts.min_jaccard:
                continue
            other_facts = self._facts[other]
            if min(len(doc_facts), len(other_facts)) < opts.min_facts:
                agrees = jaccard >= opts.text_only_jaccard
            else:
                shared = len(np.intersect1d(doc_facts, other_facts, assume_unique=True))
                agrees = shared / min(len(doc_facts), len(other_facts)) >= opts.min_fact_containment
            if agrees and (best is None or (-jaccard, other) < best):
                best = (-jaccard, other)
        return self._cluster[best[1]] if best else None
