"""German common nouns that are never names, from Wiktionary via the ``german-nouns`` package.

The German pipeline (``nlp/models/de``) learnt from WikiANN, where every sentence names
something, so in news it takes capitalised common nouns for names ("Kauf", "Meer", "Berliner").
:mod:`nlp.entity_de` drops or trims such words; this tool writes the lexicon it uses,
``nlp/data/german_nouns.txt.gz``: every inflected form of every Wiktionary (de) noun entry that is
a plain ``Substantiv``, less every form of an entry that is also a name (``Nachname``, ``Vorname``,
``Eigenname``, ``Toponym``, ``Straßenname``) or an abbreviation, so "Müller", "Bild" or "Mainz"
(a noun and a name) stay possible names; and less the words that the WikiANN de train split
(the sentences the model trains on, not its tuning slice) uses to open a person's name at least
as often as outside names: foreign given names that are also German nouns ("Brett", "Dan", "Bobby").

The package (CC BY-SA 4.0, data from de.wiktionary.org) is needed only to regenerate the file::

    .venv/bin/pip install --no-deps german-nouns==1.2.5
    .venv/bin/python tools/ner/german_lexicon.py
"""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import sys
from collections.abc import Iterable, Iterator
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "nlp" / "data" / "german_nouns.txt.gz"
#: The forms of nouns declined as adjectives ("Deutschen", "Grünen"): beside a name word they are
#: the adjective of a name ("Deutschen Reich", "Die Grünen").
OUT_ADJECTIVAL = ROOT / "nlp" / "data" / "german_adjectival_nouns.txt.gz"
ADJECTIVAL = "adjektivische Deklination"
#: Compound heads that end names ("Burg", "Dorf"): in WikiANN de train at least this share of the
#: compounds ending in them are inside a name (a compound ending in any other noun is a noun).
OUT_NAME_HEADS = ROOT / "nlp" / "data" / "german_name_heads.txt.gz"
MIN_HEAD_NAME_SHARE = 0.3
MIN_HEAD_NAMES = 3  # and in at least this many names
#: A form of both a noun and a name ("Medien": the media, and the ancient region) is still a
#: common noun when WikiANN de train has it outside names this often and inside at most this share.
MIN_OUTSIDE, MAX_NAME_SHARE = 3, 0.1
#: Wiktionary part-of-speech tags that make an entry a possible name.
NAME_TAGS = frozenset({"Nachname", "Vorname", "Eigenname", "Toponym", "Straßenname", "Abkürzung"})
#: Columns that are not word forms.
NOT_FORMS = frozenset({"lemma", "pos"})
MIN_NAME_USES = 2  # a word used as a name this often, and at least as often as outside names, is a name


def wikiann_usage() -> tuple[Counter[str], Counter[str]]:
    """How often each token of the WikiANN de train split (less its tuning slice) is inside and
    outside a name."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus

    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for record in corpus.train_split("de")[0]:
        for token, tag in zip(record["tokens"], record["tags_iob2"]):
            (outside if tag == "O" else inside)[token] += 1
    return inside, outside


def wikiann_names() -> set[str]:
    """Words the WikiANN de train split (less its tuning slice) uses as the first of several words
    of a person's name at least as often as outside names (and twice or more): given names, which
    :mod:`nlp.entity_de` must not cut off as a title or drop."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus

    named: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for record in corpus.train_split("de")[0]:
        tokens = record["tokens"]
        for token, tag in zip(tokens, record["tags_iob2"]):
            if tag == "O":
                outside[token] += 1
        for entity in record["entities"]:
            if entity["type"] == "PER" and entity["end_token"] - entity["start_token"] > 1:
                named[tokens[entity["start_token"]]] += 1
    return {w for w, n in named.items() if n >= MIN_NAME_USES and n >= outside[w]}


def rows() -> Iterator[dict[str, str]]:
    """The rows of the package's ``nouns.csv``."""
    source = importlib.resources.files("german_nouns") / "nouns.csv"
    with source.open(encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def forms(row: dict[str, str]) -> set[str]:
    """The single-word, capitalised forms of one entry (lemma and every inflection)."""
    values = [row.get("lemma") or ""] + [v for k, v in row.items() if k not in NOT_FORMS and not k.startswith("genus")]
    return {v.strip() for v in values if v and " " not in v.strip() and v[:1].isupper() and v.strip().isalpha()}


def common_nouns(entries: Iterable[dict[str, str]],
                 usage: tuple[Counter[str], Counter[str]]) -> tuple[list[str], list[str]]:
    """Forms of plain noun entries that no name entry shares (or that WikiANN de train almost
    never has inside a name: ``usage`` is :func:`wikiann_usage`), and those of them declined as
    adjectives, sorted."""
    nouns: set[str] = set()
    adjectival: set[str] = set()
    names: set[str] = set()
    for row in entries:
        tags = {t.strip() for t in (row.get("pos") or "").split(",")}
        if "Substantiv" not in tags:
            continue
        (names if tags & NAME_TAGS else nouns).update(forms(row))
        if ADJECTIVAL in tags:
            adjectival.update(forms(row))
    inside, outside = usage
    names = {w for w in names if not (outside[w] >= MIN_OUTSIDE and inside[w] <= MAX_NAME_SHARE * (inside[w] + outside[w]))}
    return sorted(nouns - names), sorted(adjectival - names)


def name_heads(nouns: frozenset[str]) -> list[str]:
    """Heads of the WikiANN de train split's compounds (``nlp.entity_de.compound_head``) that are
    inside a name in at least ``MIN_HEAD_NAME_SHARE`` of their uses."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import corpus

    from nlp.entity_de import compound_head

    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for record in corpus.train_split("de")[0]:
        for token, tag in zip(record["tokens"], record["tags_iob2"]):
            if token[:1].isupper() and token not in nouns and (head := compound_head(token, nouns)):
                (outside if tag == "O" else inside)[head] += 1
    return sorted(h for h, n in inside.items() if n >= MIN_HEAD_NAMES and n >= MIN_HEAD_NAME_SHARE * (n + outside[h]))


def write(path: Path, words: Iterable[str], what: str) -> None:
    """``words`` one a line, gzipped, under a header that names the source and licence."""
    words = list(words)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# {what}, from de.wiktionary.org via the german-nouns package 1.2.5, CC BY-SA 4.0.\n"
              "# Generated by tools/ner/german_lexicon.py; do not edit.\n")
    # mtime=0: the same input gives the same bytes (the file does not churn in git).
    with gzip.GzipFile(path, "wb", mtime=0) as fh:
        fh.write((header + "\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} forms -> {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)


def main() -> int:
    nouns, adjectival = common_nouns(rows(), wikiann_usage())
    given_names = wikiann_names()
    write(OUT, (w for w in nouns if w not in given_names), "German common nouns (every form) that are no name")
    write(OUT_ADJECTIVAL, (w for w in adjectival if w not in given_names), "German nouns declined as adjectives")
    kept = frozenset(w for w in nouns if w not in given_names)
    write(OUT_NAME_HEADS, name_heads(kept), "Compound heads that end names in WikiANN de train; nouns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
