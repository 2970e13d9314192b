"""Who is a person: name lists and the shape of a person's name, for the English entity cues.

* **given names and surnames** (1990 US Census lists, ``tools/ner/person_names.py``): "Mabel
  Pennick" is a person whoever the model thought she was; a one-word ORG that is a common surname
  is a person unless a determiner or a shop's possessive says it is a brand ("the Ring doorbell",
  "Selfridge's was added"); a one-word PERSON that is a known place and nobody's common
  name ("Bexhill") is a place;
* **ranks and forms of address** are not part of a name ("Brigadier General Ann Cole" is "Ann
  Cole"), and a span of ranks alone is no name; titles of nobility stay ("Lord Stanley");
* **the span of a name**: over a quoted nickname to the surname, with a final initial's full
  stop, without a demonym before it;
* **not a person**: a number or a short capitalised code ("KO"), a plural of people or an
  activity ("Paediatricians", "Rambling"), a plural after "the" (a team or a band).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc, Span, Token

GIVEN_NAMES_FILE = Path(__file__).parent / "data" / "given_names.txt"
SURNAMES_FILE = Path(__file__).parent / "data" / "surnames.txt"
_DETERMINERS = frozenset({"a", "an", "the", "one"})


#: Ranks and forms of address that precede a person's name but are not part of it.
RANKS: frozenset[str] = frozenset("""
    Mr Mr. Mrs Mrs. Ms Ms. Miss Dr Dr. Prof Prof. Professor Judge Detective Sergeant Sgt Sgt.
    Constable Inspector Superintendent Commander Commissioner President Minister Senator Governor
    Mayor Rev Rev. Reverend General Gen. Colonel Col. Captain Capt. Lieutenant Lt. Lt Major Maj.
    Brigadier Admiral Marshal Corporal Cpl Chancellor Secretary Councillor Ambassador Sheriff
""".split())
#: Words that open a compound rank ("Air Marshal", "Wing Commander", "Vice Admiral").
_RANK_PREFIXES = frozenset({"Vice", "Rear", "Field", "Air", "Wing", "Squadron", "Group", "Flight", "Lance",
                            "Acting", "Assistant", "Deputy", "Chief", "Staff", "Detective", "Police"})
#: Titles of nobility and sanctity stay part of the name ("Lord Stanley", "Saint Patrick").
_NAME_TITLES = frozenset({"Lord", "Lady", "Sir", "Dame", "King", "Queen", "Prince", "Princess", "Saint",
                          "St", "St.", "Pope", "Emperor", "Empress", "Duke", "Duchess", "Count", "Countess",
                          "Baron", "Baroness", "Earl", "Sultan", "Sheikh", "Tsar"})


@lru_cache(maxsize=2)
def _name_list(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


def given_names() -> frozenset[str]:
    """Common given names, title-cased (``tools/ner/person_names.py``)."""
    return _name_list(GIVEN_NAMES_FILE)


def surnames() -> frozenset[str]:
    """Common surnames, title-cased (``tools/ner/person_names.py``)."""
    return _name_list(SURNAMES_FILE)


#: Nouns after "X's" that belong to a person, not a company ("Pennick's husband", "Hale's career").
_PERSONAL_POSSESSIONS = frozenset("""
    husband wife father mother son daughter brother sister parents family children widow widower
    career life death birth funeral grave body home lawyer solicitor attorney girlfriend boyfriend
    partner own friend friends mentor memoir novel novels poems poetry debut
""".split())


def place_not_person_name(ent: Span, places: frozenset[str] | set[str]) -> bool:
    """A one-word PERSON that is a known place (GeoNames, 5,000 people or more) and neither a
    common given name nor a common surname ("Bexhill", "Alnwick"; not "Harrison", "Chester"):
    a place."""
    text = ent.text
    if len(ent) != 1 or not ent[0].is_title or text in given_names() or text in surnames():
        return False
    return known_place(text, places)


def known_place(text: str, places: frozenset[str] | set[str]) -> bool:
    """``text`` is in ``places`` or is a GeoNames place of 5,000-14,999 people."""
    if text in places:
        return True
    from nlp.gazetteer_data import fold, small_places

    return fold(text) in small_places()


#: Prepositions after which a one-word ORG that is also a surname is more likely a place than a person
#: (the locatives "in", "near", "across" ... are handled before, by ``entity_context.after_locative``).
_PLACE_PREPOSITIONS = frozenset({"of", "to", "from", "into", "at"})


def surname_as_organisation(doc: Doc, ent: Span, places: frozenset[str] | set[str]) -> bool:
    """A one-word ORG that is a common surname and nothing else the text says: a person the
    model did not know ("Hale ran the pub", "Pennick's husband"); a shop's possessive name
    ("Selfridge's was added") stays an organisation."""
    if len(ent) != 1 or not ent[0].is_title or ent.text not in surnames() or ent.text in places:
        return False
    if ent.start > 0 and doc[ent.start - 1].lower_ in _DETERMINERS:
        return False  # "the Ring doorbell", "a Dyson": a brand
    if ent.start > 0 and doc[ent.start - 1].lower_ in _PLACE_PREPOSITIONS:
        return False  # "the streets of Hackney", "crossing to Hackney": a place the model called ORG
    after = doc[ent.end] if ent.end < len(doc) else None
    if after is not None and after.lower_ in {"'s", "’s", "'", "’"}:
        noun = doc[ent.end + 1] if ent.end + 1 < len(doc) else None
        return noun is not None and noun.lower_ in _PERSONAL_POSSESSIONS
    return True


def without_ranks(ent: Span) -> Span | None:
    """``ent`` without leading ranks and forms of address, as a PERSON ("Brigadier General Ann Cole"
    -> "Ann Cole"); the span itself when it has none; None when it is nothing but ranks."""
    doc = ent.doc
    start = last_rank = ent.start
    while start < ent.end and (doc[start].text in RANKS or doc[start].text in _RANK_PREFIXES):
        if doc[start].text in RANKS:
            last_rank = start + 1
        start += 1
    start = last_rank  # "Air Force": a prefix with no rank after it opens a name
    if start == ent.start:
        return ent
    if start == ent.end:
        return None
    rest = doc[start : ent.end]
    if rest[0].text in _NAME_TITLES or not all(t.is_title or initial(t) for t in rest):
        return ent
    if ent.label_ != "PERSON" and not (last_rank - ent.start >= 2 or any(initial(t) for t in rest)):
        return ent  # "General Motors", "Major League Baseball" stay organisations
    return Span(doc, start, ent.end, label="PERSON")


def initial(token: Token) -> bool:
    """"A." or "A" in "Ann A. Cole"."""
    text = token.text.rstrip(".")
    return len(text) == 1 and text.isupper()


def not_a_person(ent: Span) -> bool:
    """A PERSON span no person's name looks like: one with a number in it ("Milepost 4"), or a
    short all-capitals token ("KO", "BTW")."""
    if any(t.like_num and not t.is_alpha for t in ent):
        return True
    return len(ent) == 1 and ent.text.isupper() and len(ent.text) <= 3


#: Words after "the Xs" that make them people of one family, not a team ("the Kray twins").
_KIN_AFTER = frozenset({"twins", "brothers", "sisters", "family", "siblings", "children", "case", "trial"})


def team_not_person(doc: Doc, ent: Span) -> bool:
    """"the Kestrels", "the Harrogate Falcons": a PERSON after "the" whose last word is a plural is a
    team or a band (a person's name takes no article)."""
    if ent.start == 0 or doc[ent.start - 1].text != "the":
        return False
    last = ent[-1].text
    if not (ent[-1].is_title and last.endswith("s") and not last.endswith(("ss", "'s", "us", "is"))):
        return False
    return not (ent.end < len(doc) and doc[ent.end].lower_ in _KIN_AFTER)


_QUOTES = frozenset({'"', "'", "“", "”", "‘", "’"})
_DEMONYM_ENDINGS = ("an", "ian", "er", "ese", "ish")


def person_span(doc: Doc, ent: Span) -> Span:
    """A PERSON's full name: over a quoted nickname to the surname ('John " Tiny " Hale'), with the
    full stop of a final initial ("Harriet M ."), without a demonym before it ("Texan Amy Bell")."""
    start, end = ent.start, ent.end
    if end - start > 1 and doc[end - 1].text in _QUOTES:
        end -= 1  # 'John "' cut inside a nickname
    if end + 3 < len(doc) and doc[end].text in _QUOTES and doc[end + 1].is_title:
        close = next((i for i in range(end + 2, min(len(doc), end + 5)) if doc[i].text == doc[end].text), None)
        if close is not None and close + 1 < len(doc) and doc[close + 1].is_title:
            end = close + 2  # 'John " Tiny " Hale'
    elif end < len(doc) and doc[end].text == "." and len(doc[end - 1].text) == 1 and doc[end - 1].is_upper:
        end += 1
    first = doc[start]
    if (
        end - start >= 3 and first.text.endswith(_DEMONYM_ENDINGS) and first.text not in given_names()
        and first.text not in surnames() and doc[start + 1].text in given_names()
    ):
        start += 1  # "Texan Amy Bell"
    if (start, end) == (ent.start, ent.end):
        return ent
    return Span(doc, start, end, label="PERSON", span_id=ent.ent_id_)


_NOT_PERSON_ENDINGS = ("ians", "ists", "ites", "ing", "isms", "ism")


def common_noun_as_person(ent: Span) -> bool:
    """A one-word PERSON shaped like a plural of people or an activity ("Paediatricians", "Druids",
    "Rambling"), unless it is a common surname ("Manning")."""
    text = ent.text
    return len(ent) == 1 and text.lower().endswith(_NOT_PERSON_ENDINGS) and text not in surnames()
