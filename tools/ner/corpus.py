"""WikiANN sentences (``../shared/dev-data/ner``) -> spaCy ``DocBin`` training corpora.

A record is ``{"tokens", "tags_iob2", "text", "entities", ...}`` (see ``bench/devdata.py``). The
corpus is tokenized with the target pipeline's own tokenizer (``nlp.make_doc(text)``), so training
sees the same tokens as inference; entity boundaries fall on spaces, so every gold span aligns.

Three things can be done to a train split before it becomes a corpus, each chosen per model in
``train.py`` from measurements on the tuning slice (``tools/ner/README.md``):

* ``clean``: remove Wikipedia markup tokens (``'``, ``''``, ``**``, ``|``) and redirect keywords
  (``WEITERLEITUNG``, ``REDIRECCIÓN``, ...) from a sentence, keeping its words and entities;
* ``drop``: leave out the sentences that carry such noise instead;
* ``case``: add an upper-cased or lower-cased copy of a share of the sentences (headlines, chat);
* ``negatives``: add a copy of a share of the full sentences with their entity tokens removed.
  Every WikiANN sentence has an entity, news sentences often have none; the copies show the
  model capitalised common nouns (all German nouns) in sentences that name nothing.
* ``trim``: end every entity at its first bracket, comma, quote or ``!``/``?`` token. WikiANN
  links carry Wikipedia's disambiguation (``Winsen ( Luhe )``, ``Alan Hale , Jr .``), and a
  model that learnt them runs news names on through ``( dpa )`` or ``( CDU )``.

The last ``TUNE_SIZE`` sentences of each train split are held out as the tuning slice; the dev
files are never read here.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# bench/devdata.py imports its sibling bench/report.py. bench/ goes last: its scripts' names
# (alerts.py, index.py) must not shadow the packages of the same name in a process that imports
# this module (the test suite; processes it spawns inherit sys.path).
if str(ROOT / "bench") not in sys.path:
    sys.path.append(str(ROOT / "bench"))

from bench import devdata  # noqa: E402

TUNE_SIZE = 2000
#: Wikipedia's redirect keyword in the WikiANN languages (MediaWiki's localised magic word).
REDIRECT_WORDS = frozenset({"weiterleitung", "redirección", "redireccion", "redirecionamento", "redirect",
                            "#redirect", "redirection", "doorverwijzing", "rinvia"})
#: Tokens that are wiki markup (bold/italic quotes, list bullets, table bars), never words.
MARKUP = frozenset({"'", "''", "'''", "*", "**", "***", "|", "||", "#"})
#: Tokens at which ``trim`` ends an entity: a name in running text never spans them.
SPAN_BREAKS = frozenset({"(", ")", "[", "]", ",", ";", ":", "!", "?", '"', "''", "'", "“", "”", "„",
                         "«", "»"})

Record = dict[str, Any]


def train_split(lang: str) -> tuple[list[Record], list[Record]]:
    """``(train, tune)``: WikiANN ``lang`` train split less its last ``TUNE_SIZE`` sentences, and those."""
    records = devdata.ner_set(f"wikiann_{lang}_train")
    return records[:-TUNE_SIZE], records[-TUNE_SIZE:]


def is_noise(record: Record) -> bool:
    """A redirect line or a sentence carrying wiki markup tokens."""
    tokens = record["tokens"]
    return bool(tokens) and (tokens[0].lower() in REDIRECT_WORDS or any(t in MARKUP for t in tokens))


def is_full_sentence(record: Record) -> bool:
    """A sentence with some context (8+ tokens, ends in ``.``/``!``/``?``, no markup): the part of
    a slice that looks like running news text rather than a title or list item."""
    tokens = record["tokens"]
    return len(tokens) >= 8 and tokens[-1] in {".", "!", "?"} and not is_noise(record)


def from_tags(tokens: Sequence[str], tags: Sequence[str], **extra: Any) -> Record:
    """A record (text, char-offset entities) from tokens and IOB2 tags."""
    text_parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        text_parts.append(tok)
        pos += len(tok) + 1
    text = " ".join(text_parts)
    entities = []
    k = 0
    while k < len(tags):
        if tags[k].startswith("B-") or (tags[k].startswith("I-") and (k == 0 or tags[k - 1] == "O")):
            label = tags[k][2:]
            j = k + 1
            while j < len(tags) and tags[j] == f"I-{label}":
                j += 1
            entities.append({"type": label, "start_token": k, "end_token": j, "start_char": starts[k],
                             "end_char": starts[j - 1] + len(tokens[j - 1]),
                             "text": " ".join(tokens[k:j])})
            k = j
        else:
            k += 1
    return {**extra, "text": text, "tokens": list(tokens), "tags_iob2": list(tags), "entities": entities}


def clean(record: Record) -> Record | None:
    """``record`` without its markup tokens and leading redirect keyword (None if nothing is left)."""
    keep = [k for k, t in enumerate(record["tokens"]) if t not in MARKUP]
    if keep and record["tokens"][keep[0]].lower() in REDIRECT_WORDS:
        keep = keep[1:]
    if not keep:
        return None
    tokens = [record["tokens"][k] for k in keep]
    tags = [record["tags_iob2"][k] for k in keep]
    # A removed token inside an entity may leave an I- tag first: from_tags starts an entity there.
    out = from_tags(tokens, tags, id=record["id"], lang=record.get("lang"))
    return out if out["entities"] else None


def trim(record: Record) -> Record:
    """``record`` with every entity ended before its first :data:`SPAN_BREAKS` token (dropped if
    it starts with one)."""
    tags = list(record["tags_iob2"])
    inside = False
    for k, (token, tag) in enumerate(zip(record["tokens"], tags)):
        if tag.startswith("B-"):
            inside = True
        elif tag == "O":
            inside = False
        if inside and token in SPAN_BREAKS:
            tags[k] = "O"
            j = k + 1
            while j < len(tags) and tags[j].startswith("I-"):
                tags[j] = "O"
                j += 1
            inside = False
    if tags == record["tags_iob2"]:
        return record
    return from_tags(record["tokens"], tags, id=record["id"], lang=record.get("lang"))


def recase(record: Record, how: str) -> Record | None:
    """``record`` upper- or lower-cased; None where a token changes length (ß -> SS)."""
    fn = str.upper if how == "upper" else str.lower
    tokens = [fn(t) for t in record["tokens"]]
    if any(len(a) != len(b) for a, b in zip(tokens, record["tokens"])):
        return None
    return from_tags(tokens, record["tags_iob2"], id=f"{record['id']}-{how}", lang=record.get("lang"))


def without_entities(record: Record) -> Record | None:
    """``record`` with its entity tokens removed: an entity-free sentence (None if under 5 tokens)."""
    keep = [k for k, tag in enumerate(record["tags_iob2"]) if tag == "O"]
    if len(keep) < 5:
        return None
    tokens = [record["tokens"][k] for k in keep]
    return from_tags(tokens, ["O"] * len(tokens), id=f"{record['id']}-noent", lang=record.get("lang"))


def prepare(records: Iterable[Record], *, noise: str = "keep", case: float = 0.0, negatives: float = 0.0,
            trim_spans: bool = False, seed: int = 0) -> list[Record]:
    """The training records: ``noise`` is ``keep``, ``clean``, ``drop`` or ``sentences`` (full
    sentences only); ``case`` the share of
    sentences that also get an upper- or lower-cased copy; ``negatives`` the share of full
    sentences that also get an entity-free copy; ``trim_spans`` applies :func:`trim`."""
    rng = random.Random(seed)
    out: list[Record] = []
    for record in records:
        if trim_spans:
            record = trim(record)
        if noise == "sentences":  # running text only: no titles, lists or fragments
            if is_noise(record) or not is_full_sentence(record):
                continue
            out.append(record)
            continue
        if noise != "keep" and is_noise(record):
            if noise == "drop":
                continue
            cleaned = clean(record)
            if cleaned is None:
                continue
            record = cleaned
        out.append(record)
        if case and rng.random() < case:
            recased = recase(record, rng.choice(("upper", "lower")))
            if recased is not None:
                out.append(recased)
        if negatives and is_full_sentence(record) and rng.random() < negatives:
            stripped = without_entities(record)
            if stripped is not None:
                out.append(stripped)
    return out


def to_docbin(nlp: Any, records: Iterable[Record]) -> Any:
    """A ``DocBin`` of ``records`` tokenized by ``nlp`` with their entities (MISC kept as MISC)."""
    from spacy.tokens import DocBin

    db = DocBin(store_user_data=False)
    misaligned = 0
    for record in records:
        doc = nlp.make_doc(record["text"])
        spans = []
        for e in record["entities"]:
            span = doc.char_span(e["start_char"], e["end_char"], label=e["type"])
            if span is None:
                misaligned += 1
                continue
            spans.append(span)
        doc.ents = spans
        db.add(doc)
    if misaligned:
        print(f"warning: {misaligned} entities did not align with the tokenizer", file=sys.stderr)
    return db
