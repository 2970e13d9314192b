"""What the words around an English name say it is, and span shapes the model gets wrong.

The small English model labels a rare name by its letters and a few neighbours, so an unknown
surname becomes ORG, a village PERSON, a band GPE. The sentence often says outright what the name
is, in the registers osintel reads (news, encyclopaedic and official text alike):

* **a definition or apposition**: "Kelmarsh is a village in ...", "Brandwell, a haulage firm
  based in ...", "Rookfield was an English boxer": the head noun of the description decides the
  type (a place, an organisation, a person) or that the name is a work, an event or a product and
  not a name osintel keeps;
* **a classifier noun before it**: "the band X", "the firm X", "the village of X", "the album X";
* **the last word of the name**: "X Reservoir", "X Dock", "X Stadium" is a place or facility
  whatever the model said; "X Awards", "X Day", "X Cup" is an event, not an organisation;
* **titles and ranks** are not part of a person's name ("Brigadier General Ann Cole" is the
  person "Ann Cole"), and a span of titles alone is no name;
* **a town before an organisation** is part of its name ("Leeds" + "Rhinos" is one ORG), and so
  are an ordinal ("47th Signal Brigade") and a club abbreviation ("Montrose FC");
* **lists and connectives**: a name listed with places is a place ("between Alnwick and
  Morpeth"); "Kingston upon Hull" is one place; "the Institute" and "Train No. 41" are no names.

Who is a person (name lists, ranks, the span of a name) is :mod:`nlp.entity_names`.

Word lists are written from general knowledge of English, never from an evaluation set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from spacy.tokens import Doc, Span

from nlp.entity_context import after_locative
from nlp.entity_names import (
    common_noun_as_person,
    given_names,
    initial,
    surnames,
    known_place,
    not_a_person,
    person_span,
    place_not_person_name,
    surname_as_organisation,
    team_not_person,
    without_ranks,
)

#: Label given to works, events, products, peoples and languages: outside osintel's kept labels.
DROP = "MISC"

#: Head nouns of a description, by what they make the name they describe.
PLACE_NOUNS: frozenset[str] = frozenset("""
    village town city hamlet commune municipality suburb borough county district province region
    parish country capital state territory township settlement neighbourhood neighborhood locality
    departement département canton prefecture oblast island islands archipelago peninsula
""".split())
NATURE_NOUNS: frozenset[str] = frozenset("""
    river lake mountain mountains hill hills valley cave caves forest bay beach reservoir pond creek
    brook stream glacier volcano desert plateau waterfall canal strait coast
""".split())
FACILITY_NOUNS: frozenset[str] = frozenset("""
    park station halt stadium arena building skyscraper tower bridge dock docks harbour
    harbor airport airfield mall gym gymnasium facility hospital prison church cathedral castle
    museum street road avenue square monument venue racecourse circuit estate
""".split())
ORG_NOUNS: frozenset[str] = frozenset("""
    band group company corporation firm manufacturer maker retailer chain label club team party
    organisation organization agency newspaper magazine publisher airline bank charity foundation
    association society university college school institute orchestra ensemble duo trio quartet
    league federation union network broadcaster brand subsidiary developer operator supermarket
    hypermarket conglomerate cartel gang syndicate consortium ministry department council committee
    regiment battalion squadron division brigade militia army navy trust force forces corps service
    services authority commission
""".split())
PERSON_NOUNS: frozenset[str] = frozenset("""
    singer songwriter politician actor actress writer author player footballer boxer musician
    guitarist bassist drummer pianist violinist painter poet composer novelist journalist scientist
    physicist chemist mathematician biologist lawyer barrister solicitor judge soldier officer priest
    bishop cardinal monk nun businessman businesswoman entrepreneur engineer architect artist
    sculptor photographer producer rapper pitcher catcher goalkeeper striker midfielder defender
    cricketer golfer cyclist athlete swimmer wrestler jockey skier sprinter philosopher historian
    economist psychiatrist psychologist physician surgeon nurse teacher professor chef model dancer
    comedian presenter explorer inventor activist campaigner diplomat statesman
    criminal gangster smuggler trafficker fraudster murderer businessperson director screenwriter
    commentator broadcaster-journalist dealer courier
""".split())
WORK_NOUNS: frozenset[str] = frozenset("""
    album song single film movie novel book series game story play opera poem serial episode show
    programme program sitcom documentary musical painting sculpture holiday festival award prize
    tournament competition championship language dialect anniversary aircraft fighter bomber car
    ship vessel law act treaty war battle religion minority tribe people dynasty software font
""".split())
_DEFINITION_VERBS = frozenset({"is", "was", "are", "were"})
_DETERMINERS = frozenset({"a", "an", "the", "one"})
#: Words that end the noun phrase of a description ("a village *in* Kent").
_PHRASE_END = frozenset("""
    of in on at from for with by near that which who whose where located based founded situated
    formed owned run built known whom to between
""".split())

#: Classifier nouns right before a name: "the band X", "the firm X".
_ORG_BEFORE = frozenset({"band", "firm", "company", "label", "club", "newspaper", "magazine", "airline",
                         "retailer", "manufacturer", "group", "outfit", "broadcaster", "charity", "cartel",
                         "gang"})
_WORK_BEFORE = frozenset({"album", "song", "single", "film", "movie", "novel", "book", "serial", "game",
                          "opera", "poem", "sitcom", "documentary", "painting", "episode", "ep"})
#: "the village of X": a settlement word, then "of".
_PLACE_BEFORE_OF = frozenset({"village", "town", "city", "hamlet", "commune", "municipality", "county",
                              "parish", "province", "borough", "district", "island", "suburb", "port"})

#: Last words that make a name a place or facility, whatever the model said.
PLACE_HEADS: frozenset[str] = frozenset("""
    Park Dock Docks Pond Reservoir Creek Brook Cave Caves Corner Stadium Arena Gym
    Falls Fields Front Valley Forest Lake Lakes Mountain Hill Hills Beach Bridge Formation Mills Mill
    Junction Avenue Square Wharf Pier Marina
""".split())
#: Of those, ones that are also common surnames: a PERSON keeps them unless the name is longer.
_SURNAME_HEADS = frozenset({"Park", "Lake", "Hill", "Hills", "Brook", "Bridge", "Mill", "Mills", "Fields",
                            "Forest", "Corner", "Beach", "Valley", "Front"})
#: Last words that make an ORG-labelled name an event, award, law or holiday.
EVENT_HEADS: frozenset[str] = frozenset("""
    Awards Award Prize Prizes Day Cup Cups Classic Challenge Championships Championship Olympics
    Festival Laws Treaty Masters Trophy Games Prix
""".split())

def described_as(doc: Doc, ent: Span, *, window: int = 7) -> str | None:
    """What a definition or apposition right after ``ent`` calls it: ``"place"``, ``"nature"``,
    ``"facility"``, ``"org"``, ``"person"``, ``"work"``, or None.

    "X is a village in ...", "X was an English boxer", "X, a haulage firm based in ...": the
    description's head is the last listed noun before the phrase ends (so "a park developer" is a
    developer, not a park).
    """
    i = ent.end
    if i < len(doc) and doc[i].text == ",":
        i += 1
        comma = True
    elif i < len(doc) and doc[i].lower_ in _DEFINITION_VERBS:
        i += 1
        comma = False
    else:
        return None
    if i >= len(doc) or doc[i].lower_ not in _DETERMINERS:
        return None
    if comma and doc[i].lower_ == "the":
        return None  # "Leeds, the city's ...": too often a list or a possessive
    kind = None
    for token in doc[i + 1 : min(len(doc), i + 1 + window)]:
        low = token.lower_
        if low in _PHRASE_END or (token.is_punct and low not in {"-"}):
            break
        found = _noun_kind(low)
        if found is not None:
            kind = found
    return kind


def _noun_kind(low: str) -> str | None:
    if low in PERSON_NOUNS:
        return "person"
    if low in ORG_NOUNS:
        return "org"
    if low in PLACE_NOUNS:
        return "place"
    if low in NATURE_NOUNS:
        return "nature"
    if low in FACILITY_NOUNS:
        return "facility"
    if low in WORK_NOUNS:
        return "work"
    return None


def classified_before(doc: Doc, ent: Span) -> str | None:
    """What a classifier noun right before ``ent`` calls it: "the band X" (org), "the album X"
    (work), "the village of X" (place), and the age-then-home formula of court reports ("Name,
    28, of X": place); None without one."""
    if ent.start == 0:
        return None
    before = doc[ent.start - 1]
    if before.lower_ in _ORG_BEFORE and before.is_lower:
        return "org"
    if before.lower_ in _WORK_BEFORE and before.is_lower:
        return "work"
    if before.lower_ == "of" and ent.start >= 2:
        noun = doc[ent.start - 2]
        if noun.lower_ in _PLACE_BEFORE_OF and noun.is_lower:
            return "place"
        if noun.text == "," and ent.start >= 3 and doc[ent.start - 3].like_num:
            return "place"  # the court-report formula "Jane Doe, 28, of Townsville"
    return None


def kind_label(kind: str, *, place_label: str = "GPE") -> str:
    """The label of a kind of thing in the English (OntoNotes) scheme; :data:`DROP` for works."""
    return {"place": place_label, "nature": "LOC", "facility": "FAC", "org": "ORG", "person": "PERSON"}.get(
        kind, DROP)


def head_label(ent: Span) -> str | None:
    """A place or facility by its last word ("Ashcombe Reservoir", "Harbour Stadium"), or an event
    by its last word ("Remembrance Day", "Music Awards"); None when the last word says nothing."""
    last = ent[-1].text
    label = ent.label_
    if last in PLACE_HEADS and len(ent) > 1 and ent[0].is_title:
        if label == "PERSON" and last in _SURNAME_HEADS and len(ent) < 3:
            return None  # "Damon Hill", "Ji-sung Park"
        if label in {"PERSON", "ORG", "NORP"}:
            return "FAC" if last not in {"Valley", "Forest", "Lake", "Lakes", "Mountain", "Hill", "Hills",
                                         "Creek", "Brook", "Pond", "Falls", "Formation"} else "LOC"
    if last in EVENT_HEADS and len(ent) > 1 and ent[0].text[:1].isupper() and label != "PERSON":
        return DROP  # "Remembrance Day", "Folk Festival"; "Doris Day" is a person
    if label in {"PERSON", "GPE", "NORP"} and len(ent) > 1 and ent[-1].is_title and last.lower() in ORG_NOUNS and not (
        label == "GPE" and last == "Union"  # "Soviet Union"
    ):
        return "ORG"  # "Kelso Rugby Club", "Arden Foundation"
    if label == "PERSON" and len(ent) > 1 and ent[-1].is_title and last.lower() in _BUILDINGS:
        return "FAC"  # "Carlton Tower", "Hartley Hotel"
    return None


#: Last words of a building's name that are not also common surnames.
_BUILDINGS = frozenset({"tower", "hotel", "base", "market", "airport", "station", "stadium", "arena", "prison",
                        "hospital", "museum", "cathedral", "castle", "mall", "centre", "center", "building"})


#: Nouns that, capitalised after "the", refer back to a body named earlier ("the Institute").
_BACK_REFERENCES = frozenset("""
    institute laboratory symposium railroad railway museum association society party army league
    council committee court government ministry department agency company group club union
    board commission authority trust foundation university college school hospital
""".split())


def back_reference(doc: Doc, ent: Span) -> bool:
    """A one-word ORG that is a capitalised common noun after a determiner or possessive ("the
    Institute cut its grant", "its Laboratory"): a reference to a body, not its name."""
    if len(ent) != 1 or ent.start == 0 or ent.text.isupper():
        return False
    before = doc[ent.start - 1].lower_
    return before in {"the", "its", "his", "her", "their", "this", "that"} and ent[0].lower_ in _BACK_REFERENCES


def coordinated_places(doc: Doc, ents: Sequence[Span], *, place_label: str) -> list[Span]:
    """A one-word PERSON listed with places ("between Alnwick and Morpeth", "Hexham, Prudhoe and
    Ryton") is a place too, unless the text treats it as a person."""
    from nlp.entity_context import person_context

    places = {e.start: e for e in ents if e.label_ in {"GPE", "LOC"}}
    ends = {e.end: e for e in ents if e.label_ in {"GPE", "LOC"}}
    out = []
    for ent in ents:
        if ent.label_ == "PERSON" and len(ent) == 1:
            before = doc[ent.start - 1].lower_ if ent.start > 0 else ""
            after = doc[ent.end].lower_ if ent.end < len(doc) else ""
            listed = (before in {"and", "or", ","} and ent.start - 1 in ends) or (
                after in {"and", "or", ","} and ent.end + 1 in places)
            if listed and not person_context(doc, ent):
                ent = Span(doc, ent.start, ent.end, label=place_label)
        out.append(ent)
    return out


#: Lower-case particles inside a person's name ("Ludwig van Beethoven", "Germaine de Staël").
_NAME_PARTICLES = frozenset({"de", "da", "di", "du", "van", "von", "der", "den", "le", "la", "del", "bin", "al"})


def named_like_a_person(ent: Span, places: frozenset[str] | set[str]) -> bool:
    """A two- to four-word name that opens with a common given name and has nothing of an
    organisation or a place in it ("Mabel Pennick", "Walter J. Crane"), whatever the model said."""
    if not 2 <= len(ent) <= 4 or ent[0].text not in given_names() or ent.text in places or ent[0].text in places:
        return False
    for token in ent[1:]:
        if token.lower_ in _NAME_PARTICLES and token.is_lower:
            continue
        if not (token.is_title or initial(token)) or _noun_kind(token.lower_) is not None:
            return False
        if token.text in PLACE_HEADS or token.text in EVENT_HEADS:
            return False
    return ent[-1].is_title


def merge_town_into_team(doc: Doc, ents: Sequence[Span]) -> list[Span]:
    """A place right before an organisation or facility is part of its name: "Leeds" + "Rhinos"
    is the ORG "Leeds Rhinos", "Cary" + "Towne Center" the FAC "Cary Towne Center"."""
    out: list[Span] = []
    for ent in sorted(ents, key=lambda e: e.start):
        prev = out[-1] if out else None
        if (
            prev is not None and prev.end == ent.start and prev.label_ == "GPE"
            and ent.label_ in {"ORG", "FAC"} and ent[0].is_title and not doc[prev.end - 1].is_punct
        ):
            out[-1] = Span(doc, prev.start, ent.end, label=ent.label_, span_id=ent.ent_id_)
            continue
        out.append(ent)
    return out


_ORDINAL_WORDS = frozenset("""
    First Second Third Fourth Fifth Sixth Seventh Eighth Ninth Tenth Eleventh Twelfth Thirteenth
    Fourteenth Fifteenth Sixteenth Seventeenth Eighteenth Nineteenth Twentieth
""".split())
#: Abbreviations after a town that make it a club ("Montrose FC", "Kelso RFC").
CLUB_SUFFIXES = frozenset({"FC", "AFC", "CF", "SC", "AC", "HC", "RFC", "RUFC", "CC", "BK", "IF", "FK", "SK"})


#: Words that continue an organisation's name when the model stopped short of them.
_ORG_TAILS = frozenset({"hospital", "school", "college", "university", "institute", "foundation", "trust", "club",
                        "society", "association", "council", "company", "corporation", "group", "bank", "press",
                        "police", "constabulary", "court", "library", "museum", "orchestra", "band", "party"})


def widened_organisation(doc: Doc, ent: Span, places: frozenset[str] | set[str], taken: set[int]) -> Span:
    """An ORG with the words before or after it that belong to its name: an ordinal ("47th Signal
    Brigade", "Ninth Army"), its town ("Montrose" + "Rovers"), a capitalised "The" inside a
    sentence ("in The Angling Times"), a club abbreviation ("Montrose" + "FC")."""
    start, end = ent.start, ent.end
    if start > 0 and start - 1 not in taken:
        before = doc[start - 1]
        ordinal = before.text in _ORDINAL_WORDS or (
            before.text[:1].isdigit() and before.text[-2:] in {"st", "nd", "rd", "th"} and before.text[:-2].isdigit())
        if ordinal or (before.is_title and before.text in places and not before.is_sent_start):
            start -= 1
        if start > 0 and start - 1 not in taken and doc[start - 1].text == "The" and not doc[start - 1].is_sent_start:
            start -= 1
    if end < len(doc) and end not in taken and doc[end].text in CLUB_SUFFIXES:
        end += 1
    while end < len(doc) and end not in taken and doc[end].is_title and doc[end].lower_ in _ORG_TAILS:
        end += 1  # "Ashcombe University" + "Hospital"
    if (start, end) == (ent.start, ent.end):
        return ent
    return Span(doc, start, end, label="ORG", span_id=ent.ent_id_)


def numbered_thing(ent: Span) -> bool:
    """"Train No. 41", "Coach # 7": a numbered vehicle or item, not an organisation."""
    words = [t.text for t in ent]
    for i, word in enumerate(words):
        rest = words[i + 1 : i + 3]
        if word in {"#", "No.", "No"} and rest and (rest[0][:1].isdigit() or rest[:1] == ["."] and rest[1:2]
                                                      and rest[1][:1].isdigit()):
            return True
    return False


_MODEL_CODE = re.compile(r"^[A-Z]{1,4}-\d{1,4}[A-Za-z]?$")


def product_code(ent: Span) -> bool:
    """"SU-27 Flanker", "AK-47": a model designation opens the name of a product."""
    return bool(_MODEL_CODE.match(ent[0].text))


_PLACE_JOINS = frozenset({"upon", "on", "am", "an", "der", "sur", "en", "in"})


def joined_places(doc: Doc, ents: Sequence[Span], places: frozenset[str] | set[str], *, place_label: str) -> list[Span]:
    """A place name the model split at a connective ("Kingston" "upon" "Hull", "Frankfurt am
    Main") is one place when the whole is a known place; "Harwell , Oxfordshire" labelled ORG or
    PERSON is two places."""
    out: list[Span] = []
    for ent in sorted(ents, key=lambda e: e.start):
        for n in (3, 2):
            end = ent.end + n
            if end <= len(doc) and all(t.lower_ in _PLACE_JOINS for t in doc[ent.end : end - 1]):
                whole = doc[ent.start : end]
                if doc[end - 1].is_title and whole.text in places:
                    ent = Span(doc, ent.start, end, label=place_label)
                    break
        if ent.label_ in {"ORG", "PERSON", "FAC"} and len(ent) == 3 and ent[1].text == ",":
            left, right = ent[0:1], ent[2:3]
            if known_place(left.text, places) and right.text in places:
                out += [Span(doc, left.start, left.end, label=place_label),
                        Span(doc, right.start, right.end, label=place_label)]
                continue
        out.append(ent)
    return out


#: Plural last words of place names ("Niagara Falls", "Colorado Springs"), not of teams.
_PLURAL_PLACE_WORDS = frozenset({"Falls", "Fields", "Mills", "Docks", "Lakes", "Islands", "Hills", "Gardens",
                                 "Heights", "Springs", "Keys", "Plains", "Rapids", "Isles", "Downs", "Sands",
                                 "Narrows", "Woods", "Meadows", "Rocks", "Cliffs", "Glades", "Highlands", "Lowlands",
                                 "Mountains", "Alps", "States", "Emirates", "Territories", "Provinces", "Lands"})


def town_team(ent: Span, places: frozenset[str] | set[str]) -> bool:
    """"Leeds Rhinos", "Harrogate Kestrels": a town's name and a plural is a team, whatever
    label the model gave it."""
    last = ent[-1].text
    if len(ent) < 2 or not ent[-1].is_title or not last.endswith("s") or last.endswith("ss"):
        return False
    if last in _PLURAL_PLACE_WORDS or ent.text in places or last in surnames() or ent[0].text in given_names():
        return False  # "Jackson Roberts" is a person
    return any(ent[:n].text in places and n < len(ent) for n in (1, 2))


def apply(
    doc: Doc, ents: Sequence[Span], *, place_label: str = "GPE", keep: str = "",
    places: frozenset[str] | set[str] = frozenset(),
) -> list[Span]:
    """``ents`` corrected by the cues above; entities whose ``ent_id_`` is ``keep`` (listed
    organisations) are left alone. Works, events and products come back labelled :data:`DROP`."""
    out: list[Span] = []
    ents = joined_places(doc, merge_town_into_team(doc, ents), places, place_label=place_label)
    ents = coordinated_places(doc, ents, place_label=place_label)
    taken = {i for e in ents if e.label_ not in {"ORDINAL", "CARDINAL"} for i in range(e.start, e.end)}
    for ent in ents:
        if keep and ent.ent_id_ == keep:
            out.append(ent)
            continue
        fixed = _one(doc, ent, place_label, places)
        if fixed is not None and fixed.label_ == "PERSON":
            fixed = person_span(doc, fixed)
        if fixed is not None and fixed.label_ == "ORG":
            wider = widened_organisation(doc, fixed, places, taken)
            taken.update(range(wider.start, wider.end))
            fixed = wider
        if fixed is not None:
            out.append(fixed)
    return out


def _one(doc: Doc, ent: Span, place_label: str, places: frozenset[str] | set[str]) -> Span | None:
    label = ent.label_
    if label not in {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"}:
        return ent
    if label in {"PERSON", "ORG"}:
        trimmed = without_ranks(ent)
        if trimmed is None:
            return None  # "Brigadier General" alone
        ent, label = trimmed, trimmed.label_
    if label == "PERSON" and (not_a_person(ent) or common_noun_as_person(ent)):
        return None
    if label == "ORG" and (back_reference(doc, ent) or numbered_thing(ent)):
        return None
    if label in {"ORG", "PERSON", "GPE"} and product_code(ent):
        return None
    if label == "PERSON" and team_not_person(doc, ent):
        return Span(doc, ent.start, ent.end, label="ORG", span_id=ent.ent_id_)
    kind = described_as(doc, ent) or classified_before(doc, ent)
    if kind is not None:
        new = kind_label(kind, place_label=place_label)
        if new == label or (new == place_label and label in {"GPE", "LOC"}):
            return ent
        return Span(doc, ent.start, ent.end, label=new, span_id=ent.ent_id_)
    if label in {"GPE", "FAC", "PERSON", "LOC"} and town_team(ent, places):
        return Span(doc, ent.start, ent.end, label="ORG", span_id=ent.ent_id_)
    head = head_label(ent)
    if head is not None and head != label:
        return Span(doc, ent.start, ent.end, label=head, span_id=ent.ent_id_)
    if after_locative(doc, ent):
        return ent  # "near Hackney", "across Channel", "near Le Portel": name lists make no person there
    if label != "PERSON" and named_like_a_person(ent, places):
        return Span(doc, ent.start, ent.end, label="PERSON")
    if label == "ORG" and surname_as_organisation(doc, ent, places):
        return Span(doc, ent.start, ent.end, label="PERSON")
    return ent
