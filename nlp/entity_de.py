"""German entity fixes after the trained ``ner`` (``osintel_german_fixes``).

osintel's German pipeline (``nlp/models/de``, ``tools/ner/README.md``) learnt from WikiANN:
Wikipedia link texts, where every sentence names something and names carry Wikipedia's
disambiguation. In news it makes three kinds of mistake this component corrects, each from
lexical data rather than hand lists:

* it runs a name on through brackets, quotes and commas ("Hamburg ( dpa )", "Henry Tesch ( CDU )",
  "Frauenvereine “"): WikiANN links are titles such as "Winsen ( Luhe )". An entity ends before
  its first such token;
* it takes a leading title, capitalised function word or lower-case adjective into the name
  ("Bildungsminister Henry Tesch", "Bereits Giacomo della Porta", "deutschen Fernsehen"): such
  words are cut off the front while a name word remains;
* it takes capitalised common nouns for names ("Kauf", "Meer", "Berliner", "Kapazitätsgründen";
  every German noun is capitalised): an entity with no word that could be a name is dropped.

A German common noun is a form in ``nlp/data/german_nouns.txt.gz`` (every inflection of the
Wiktionary nouns that are no name; ``tools/ner/german_lexicon.py``), or a compound ending in one
whose head rarely ends a name in WikiANN de train (``german_name_heads.txt.gz``: "-burg", "-dorf"
do) and that is no known place; a capitalised function word is one of spaCy's German stop words;
a ``-isch`` adjective ("Italienische") is a derivation, which GermEval and analysts alike do not
count as a name. On GermEval-2014 dev (tune half) these fixes move F1 from 0.365 to about 0.50;
on WikiANN, whose silver links include common nouns and disambiguated titles, they cost about two
points (``tools/ner/README.md``).
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

from spacy.lang.de.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from nlp.entity_rules import place_names

NOUNS_FILE = Path(__file__).parent / "data" / "german_nouns.txt.gz"
ADJECTIVAL_FILE = Path(__file__).parent / "data" / "german_adjectival_nouns.txt.gz"
NAME_HEADS_FILE = Path(__file__).parent / "data" / "german_name_heads.txt.gz"
#: A compound is split only this far: a modifier of 3+ letters, a head of 4+ ("Kapazitäts|gründen").
MIN_MODIFIER, MIN_HEAD = 3, 4
COMPONENT = "osintel_german_fixes"
#: Tokens a name in running text never spans: brackets, quotes, commas, sentence marks.
BREAKS = frozenset({"(", ")", "[", "]", ",", ";", ":", "!", "?", '"', "''", "'", "“", "”", "„", "«", "»", "‚", "‘"})
#: Lower-case words inside German (and foreign) names: "Frankfurt am Main", "Giacomo della Porta".
CONNECTIVES = frozenset({
    "am", "an", "auf", "bei", "der", "die", "das", "des", "dem", "den", "für", "im", "in", "und", "von", "vom", "zu",
    "zum", "zur", "ob", "unter", "über", "de", "del", "della", "di", "da", "do", "dos", "du", "la", "le", "van", "von",
    "y", "e", "of", "the", "and", "et", "al", "bin", "ibn",
})
#: Adjectives derived from names ("Italienische", "Europäischen"): derivations, not names.
_DERIVED_ADJECTIVE = re.compile(r"^[A-ZÄÖÜ][a-zäöüß]+isch(?:e|en|er|es|em)?$")


def _read_words(path: Path) -> frozenset[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def german_nouns() -> frozenset[str]:
    """Every form of the German common nouns that are never names (``tools/ner/german_lexicon.py``)."""
    return _read_words(NOUNS_FILE)


@lru_cache(maxsize=1)
def adjectival_nouns() -> frozenset[str]:
    """The forms of German nouns declined as adjectives ("Deutschen", "Grünen")."""
    return _read_words(ADJECTIVAL_FILE)


@lru_cache(maxsize=1)
def name_heads() -> frozenset[str]:
    """Nouns that end names as often as words ("Burg", "Dorf", "Land": Magdeburg, Deutschland)."""
    return _read_words(NAME_HEADS_FILE)


def compound_head(word: str, nouns: frozenset[str]) -> str | None:
    """The longest noun of ``nouns`` that ends ``word`` after a modifier ("Unterwasserortungssystemen"
    -> "Systemen", "Model-Suche" -> "Suche"), or None: German writes compounds as one word."""
    if "-" in word:
        last = word.rsplit("-", 1)[1]
        return last if last in nouns else (compound_head(last, nouns) if last else None)
    if len(word) < MIN_MODIFIER + MIN_HEAD or not word.isalpha():
        return None
    for k in range(MIN_MODIFIER, len(word) - MIN_HEAD + 1):
        head = word[k:].capitalize()
        if head in nouns:
            return head
    return None


@lru_cache(maxsize=65536)  # the same capitalised words recur; the compound search is the costly part
def is_common_word(text: str) -> bool:
    """A capitalised word that is no name on its own: a common noun or a compound ending in one
    that rarely ends a name and is no known place ("Montrouge"), a function word, a derivation."""
    nouns = german_nouns()
    if text in nouns or text.lower() in STOP_WORDS or _DERIVED_ADJECTIVE.match(text):
        return True
    head = compound_head(text, nouns)
    return head is not None and head not in name_heads() and text not in place_names()


def _could_be_name(token: Token, *, in_name: bool = False) -> bool:
    """A word that may carry a name: with a capital letter ("Merkel", "iPhone", "G8"; a number or
    a date alone names nothing), an acronym, or no common word. ``in_name``: beside other
    capitalised words, a derivation ("Dominikanische Republik") or a capitalised function word
    inside the sentence ("Bündnis 90 / Die Grünen") is part of a name."""
    text = token.text
    if not any(ch.isupper() for ch in text):
        return False
    if (text.isupper() and len(text) > 1) or not is_common_word(text):
        return True  # "ROM", "AUS": acronyms
    if not in_name:
        return False
    if text in german_nouns():  # "Deutschen Reich", "Kölner Bucht": the adjective of a name
        return text in adjectival_nouns() or (text.endswith("er") and _before_capital(token))
    return bool(_DERIVED_ADJECTIVE.match(text)) or not token.is_sent_start


def _before_capital(token: Token) -> bool:
    """The next token is a capitalised word."""
    doc = token.doc
    return token.i + 1 < len(doc) and doc[token.i + 1].text[:1].isupper()


def _names_something(doc: Doc, start: int, end: int) -> bool:
    """Some word of ``doc[start:end]`` could carry a name."""
    in_name = end - start > 1
    return any(_could_be_name(t, in_name=in_name) for t in doc[start:end])


def _cut_at_breaks(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """``start, end`` without leading break tokens and ended before the first inner one."""
    while start < end and doc[start].text in BREAKS:
        start += 1
    for k in range(start, end):
        if doc[k].text in BREAKS:
            return (start, end) if _title_qualifier(doc, k, end) else (start, k)
    return start, end


def _title_qualifier(doc: Doc, k: int, end: int) -> bool:
    """``doc[k:end]`` is a closing "( ... )" that ends the text or its line: a title or list
    entry such as "Winsen ( Luhe )", whose bracket is part of the name (86% of the WikiANN de
    train entities with a bracket end their line so); in running text a bracket after a name is a
    party, an age or an agency ("Tesch ( CDU )", "Hamburg ( dpa )")."""
    if doc[k].text != "(" or doc[end - 1].text != ")" or k == end - 1:
        return False
    return end == len(doc) or "\n" in doc[end - 1].whitespace_ or doc[end].is_space


def _strip_front(doc: Doc, start: int, end: int, *, person: bool) -> int:
    """``start`` past leading words that are no part of a name while a name word follows: a
    lower-case adjective ("deutschen"), a capitalised function word opening the sentence
    ("Bereits"; not an article or a short word: "Der Spiegel", "Los Angeles"), and on a person a
    title noun ("Bildungsminister", "Popstar")."""
    while end - start > 1 and any(_could_be_name(doc[k]) for k in range(start + 1, end)):
        token = doc[start]
        if token.is_lower and token.is_alpha and token.lower_ not in CONNECTIVES:
            start += 1
        elif token.is_sent_start and token.lower_ in STOP_WORDS and len(token) > 3:
            start += 1
        elif person and _is_title(token.text):
            start += 1
        else:
            break
    return start


def _is_title(text: str) -> bool:
    """A common noun before a person's name: a title or role ("Bildungsminister", "Fußball-Experte"),
    not an adjective ("Deutsche"); five letters or more, as short given names are often nouns too."""
    return (len(text) >= 5 and text[:1].isupper() and is_common_word(text)
            and not _DERIVED_ADJECTIVE.match(text) and text not in adjectival_nouns())


def _strip_back(doc: Doc, start: int, end: int, *, label: str) -> int:
    """``end`` before trailing words that are no part of a name: connectives and dashes ("Gudme
    und", "Tesch -"); on a place also numbers and dates ("Kolumbien am 19. Juli 2003").
    Organisations keep their numbers ("Hannover 96"); a trailing common noun stays everywhere
    ("Deutsche Bank"; cutting it off persons cost 1.5 points on the WikiANN tuning slice and
    gained nothing on GermEval)."""
    while end - start > 1:
        token = doc[end - 1]
        if token.lower_ in CONNECTIVES or token.text in DANGLING:
            end -= 1
        elif label == "LOC" and (token.text in MONTHS or not any(ch.isalpha() for ch in token.text)) \
                and token.text not in ".)":
            end -= 1
        else:
            break
    return end


#: Trailing tokens that end no name ("Tesch -", "Smith &").
DANGLING = frozenset({"-", "–", "—", "/", "&", "+"})
#: Month names: a date after a place ("Kolumbien am 19. Juli 2003") is no part of it.
MONTHS = frozenset({"Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                    "Oktober", "November", "Dezember"})


def fix_span(doc: Doc, ent: Span) -> Span | None:
    """The corrected entity, or None when it names nothing (see the module docstring)."""
    start, end = ent.start, ent.end
    start, end = _cut_at_breaks(doc, start, end)
    start = _strip_front(doc, start, end, person=ent.label_ == "PER")
    if start < end:
        end = _strip_back(doc, start, end, label=ent.label_)
    if start >= end:
        return None
    if not _names_something(doc, start, end):
        return None
    if (start, end) == (ent.start, ent.end):
        return ent
    return Span(doc, start, end, label=ent.label_, kb_id=ent.kb_id_, span_id=ent.ent_id_)


class GermanFixes:
    """The spaCy component: :func:`fix_span` on every entity."""

    def __call__(self, doc: Doc) -> Doc:
        fixed = [span for ent in doc.ents if (span := fix_span(doc, ent)) is not None]
        doc.set_ents(filter_spans(fixed))
        return doc


@Language.factory(COMPONENT)
def _make_german_fixes(nlp: Language, name: str) -> GermanFixes:
    return GermanFixes()


def add_german_fixes(nlp: Language) -> None:
    """Add :class:`GermanFixes` after ``ner`` and the sentence splitter that follows it (the fixes
    ask whether a word opens a sentence), before the language-neutral fixes of
    :mod:`nlp.entity_rules`, which then see the corrected entities (idempotent)."""
    if COMPONENT in nlp.pipe_names or "ner" not in nlp.pipe_names:
        return
    names = nlp.pipe_names
    after = "sentencizer" if "sentencizer" in names and names.index("sentencizer") > names.index("ner") else "ner"
    nlp.add_pipe(COMPONENT, after=after)
