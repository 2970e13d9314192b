"""Language identification with a seeded ``langdetect``.

``langdetect`` is probabilistic and gives different answers between calls unless
``DetectorFactory.seed`` is set, so the identifier sets it once at construction. Text that carries
no language (empty, emoji, bare URLs, a couple of characters) is reported as ``("und", 0.0)``; the
identifier never raises on content.
"""

from __future__ import annotations

import logging
import re
import threading
from importlib import metadata

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

log = logging.getLogger(__name__)

#: ISO 639 code used when no language can be determined.
UNDETERMINED = "und"

# Letters in any script; digits, punctuation, emoji and whitespace are not evidence of a language.
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|[@#]\w+", re.I)
# langdetect's initialisation (profile loading) is not thread-safe.
_INIT_LOCK = threading.Lock()


class LanguageIdentifier:
    """Identify the language of a text as ``(ISO 639-1 code, confidence)``.

    ``min_letters`` is the number of letters (after removing URLs, e-mails and handles) below which
    the text is too short to judge. ``max_chars`` bounds the work on very long documents.
    """

    def __init__(self, *, seed: int = 0, min_letters: int = 12, max_chars: int = 1500) -> None:
        self.seed = seed
        self.min_letters = min_letters
        self.max_chars = max_chars
        with _INIT_LOCK:
            DetectorFactory.seed = seed
            # Force profile loading now, not in the first enrich() call.
            try:
                detect_langs("warm up the language profiles")
            except LangDetectException:  # pragma: no cover - defensive
                pass

    @property
    def version(self) -> str:
        """Version of the underlying library, for ``Document.enrichment``."""
        try:
            return metadata.version("langdetect")
        except metadata.PackageNotFoundError:  # pragma: no cover
            return "unknown"

    def detect(self, text: str | None) -> tuple[str, float]:
        """Return ``(code, confidence)``; ``("und", 0.0)`` when the text carries no language."""
        if not text:
            return UNDETERMINED, 0.0
        sample = _NOISE_RE.sub(" ", text[: self.max_chars])
        if len(_LETTER_RE.findall(sample)) < self.min_letters:
            return UNDETERMINED, 0.0
        # Re-seed on every call: another component may have changed the global seed.
        DetectorFactory.seed = self.seed
        try:
            candidates = detect_langs(sample)
        except LangDetectException as exc:
            log.debug("langdetect gave up: %s", exc)
            return UNDETERMINED, 0.0
        if not candidates:
            return UNDETERMINED, 0.0
        best = candidates[0]
        code = str(best.lang)
        # langdetect reports zh-cn / zh-tw; keep the primary subtag like the other codes.
        code = code.split("-")[0]
        return code, round(min(max(float(best.prob), 0.0), 1.0), 4)
