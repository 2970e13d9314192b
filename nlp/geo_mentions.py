"""Finding place mentions in a text: every one of them, with the names that qualify them.

Sources of mentions, in order of trust: spaCy GPE/LOC/FAC spans; abbreviations written in
capitals or with dots ("US", "U.K.", "DRC", "NSW"); datelines ("RICHMOND, Va. —"); and a scan for
capitalised gazetteer names that spaCy did not tag, filtered by context (a common word opening a
sentence, a German noun, a name after a lower-case determiner, a person's name or title). A name
accepted anywhere in the document is then a mention at every other place it is written ("one
sense per discourse"), unless that occurrence is part of a person's name or a longer proper name.

"City, Region" and "City, Country" restrict the city to that region or country, with the region
written out ("Athens, Georgia"), in AP style ("Rochester, N.Y.", "London, Ont.") or as a postal
code ("Perth, WA", "Austin, TX").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS

from nlp.gazetteer_data import Place, fold, strip_the
from nlp.gazetteer_index import PlaceIndex
from nlp.geo_lexicon import (
    AGE_AFTER_RE,
    ALL_COMMON_WORDS,
    COMMON_WORDS,
    CONNECTORS,
    DETERMINERS,
    MAX_NAME_WORDS,
    ORG_AFTER_RE,
    PERSON_TITLES,
    QUALIFIER_GAP_RE,
    SENTENCE_START_RE,
    STOPLIST,
    STREET_AFTER_RE,
    WORD_RE,
)
from osintel.records import Entity

# "Hubei province", "Kano State": a generic word spaCy keeps inside the span.
_GENERIC_SUFFIX_RE = re.compile(
    r"\s+(?:province|Province|state|State|region|Region|prefecture|Prefecture|oblast|Oblast|governorate|"
    r"Governorate|district|District|county|city|islands?|Islands?)$"
)
_REGION_WORD_RE = re.compile(r"(?i)\s(?:province|state|region|prefecture|oblast|governorate|county)$")
_POSSESSIVE_RE = re.compile(r"['’]s?$")
# "the village of X", "the towns of X and Y", "the city of X": what follows is a settlement.
_SETTLEMENT_RE = re.compile(
    r"\b(?:villages?|towns?|cities|city|communit(?:y|ies)|hamlets?|municipalit(?:y|ies)|suburbs?) of (?:the )?(?=[A-Z])"
)
_CAPITALISED_RUN_RE = re.compile(
    r"[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*(?:\s(?:(?:de|del|la|le|du|di|da|do|los|las|el|am|an|der|sur|upon|on)\s)?"
    r"[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*){0,4}"
)
_ELIDED_RE = re.compile(r"\b([A-Z][a-z]+) and ([A-Z][a-z]+) ([A-Z][a-z]+)\b")
_LIST_GAP_RE = re.compile(r"(?:,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)(?=[A-Z])")
# "New York state", "Ohio governor", "the state of Washington": the words that make a name the region.
_STATE_AFTER_RE = re.compile(r"\s+(?:state|State|province|Province|governor|Governor|legislature|Legislature)\b")
_STATE_BEFORE_RE = re.compile(r"\b(?:[Ss]tate|[Pp]rovince) of (?:the )?$")
# "the Kivu region", "Kivu Province", "Kivu state police": the word after a name that makes it a region.
_REGION_CUE_RE = re.compile(
    r"\s+(?:region|Region|province|Province|state|State|department|Department|governorate|Governorate|"
    r"prefecture|Prefecture|oblast|Oblast)\b"
)
# "RICHMOND, Va. (AP) —": a dateline city in capitals at the start of a line.
_DATELINE_RE = re.compile(r"(?m)^[ \t]*([A-Z][A-Z'’.-]+(?: [A-Z][A-Z'’.-]+){0,3})(?=,[ \t]|[ \t]*(?:\([A-Za-z]+\)[ \t]*)?[—–-])")
BIG_CITY = 100_000  # a city this big is a place even after "the" or glued to another capitalised word


@dataclass(frozen=True)
class Mention:
    """A place mention before disambiguation: where it is and which places it may be."""

    text: str
    start: int
    end: int
    candidates: tuple[Place, ...]
    from_ner: bool
    context_only: bool = False  # "Kent Police": an organisation's name, context but no place reported
    qualified: bool = False  # restricted by a qualifier ("Athens, Georgia") or a dateline

    @property
    def key(self) -> str:
        return fold(self.text)


class MentionFinder:
    """Finds and qualifies the place mentions of one text against a :class:`PlaceIndex`."""

    def __init__(self, places: PlaceIndex) -> None:
        self.places = places
        names = sorted(places.cased, key=len, reverse=True)
        self._cased_re = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w])")
        abbrs = sorted(places.abbreviations, key=len, reverse=True)
        self._abbr_re = re.compile("(?:" + "|".join(re.escape(a) for a in abbrs) + r")(?![\w])")

    def find(self, text: str, ner_entities: Sequence[Entity], lang: str) -> list[Mention]:
        """Every place mention of ``text``, qualified, in text order."""
        mentions: list[Mention] = []
        blocked: list[tuple[int, int]] = []
        for ent in ner_entities:
            if ent.label in {"GPE", "LOC", "FAC"} or (ent.label == "PERSON" and self._area_name(ent.text)):
                found = self._ner_mention(text, ent)
                if found is not None:
                    mentions.append(found)
            elif (ent.label == "PERSON" and len(ent.text.split()) > 1) or ent.label == "NORP":
                # "Jackson Smith" hides the place "Jackson"; a one-word PERSON is too often a
                # small-model error on a town name ("Norwich") to block anything. NORP is not a
                # place ("the Meridian cartel") unless the text says it is a region.
                found = self._mislabelled_region(text, ent)
                if found is not None:
                    mentions.append(found)
                else:
                    blocked.append((ent.start, ent.end))
        surnames = _surnames(text, ner_entities)
        mentions = [m for m in mentions if m.text not in surnames]
        for m in (*self._settlements(text), *self._elided(text)):
            if not _overlaps(m.start, m.end, [(o.start, o.end) for o in mentions]):
                mentions.append(m)
                blocked = [(s, e) for s, e in blocked if not (s < m.end and m.start < e)]
        taken = [(m.start, m.end) for m in mentions] + blocked
        for m in self._datelines(text):
            if not _overlaps(m.start, m.end, taken):
                mentions.append(m)
                taken.append((m.start, m.end))
        for m in self._cased(text):
            if not _overlaps(m.start, m.end, taken) and not _shouting(text, m.start, m.end):
                mentions.append(m)
                taken.append((m.start, m.end))
        # First-level regions the model's own place mentions lie in: "the Longview woman" in a
        # story that names Texas is the Texas town, where "the Meridian gang" alone is not a place.
        named_regions = {(c.country_code, c.admin1) for m in mentions if m.from_ner for c in m.candidates if c.admin1}
        for start, end in self._scan(text):
            if _overlaps(start, end, taken):
                if not self._longer_name(text, start, end, mentions, blocked):
                    continue
                mentions = [m for m in mentions if not (start <= m.start and m.end <= end)]
                name = text[start:end]
                mentions.append(Mention(name, start, end, tuple(self.places.index[fold(name)]), True))
                taken = [(m.start, m.end) for m in mentions] + blocked
                continue
            name = text[start:end]
            candidates = self.places.index[fold(name)]
            if name not in surnames and (
                (
                    self._allowed(name, candidates, False)
                    and not self._inside_proper_name(text, start, end, candidates)
                    and not self._not_a_place_here(text, start, end, candidates, lang, named_regions)
                )
                or self._qualified_here(text, end, candidates)
            ):
                mentions.append(Mention(name, start, end, tuple(candidates), False))
                taken.append((start, end))
        mentions = self._every_occurrence(text, mentions, blocked, surnames)
        mentions.sort(key=lambda m: m.start)
        mentions = self._apply_qualifiers(text, mentions)
        mentions = [self._region_said(text, m) for m in mentions]
        return [
            replace(m, context_only=True) if ORG_AFTER_RE.match(text, m.end) and not m.qualified else m
            for m in mentions
            if not STREET_AFTER_RE.match(text, m.end)
        ]

    # --- sources ----------------------------------------------------------------------------

    def _area_name(self, name: str) -> bool:
        """A country, continent or region name spaCy took for a person ("Sierra Leone")."""
        return any(c.kind in {"country", "continent"} for c in self.places.index.get(fold(strip_the(name)), ()))

    def _settlements(self, text: str) -> Iterable[Mention]:
        """Names the text calls settlements: "the village of X", "the towns of X, Y and Z".

        Whatever the model tagged them (a village is often an ORG or a PERSON to it), they are
        places, small ones included: a small place is still reported only when the text names
        its country or region.
        """
        for cue in _SETTLEMENT_RE.finditer(text):
            pos = cue.end()
            for _ in range(6):
                words = _CAPITALISED_RUN_RE.match(text, pos)
                if words is None:
                    break
                found = self._settlement_at(text, pos, words.end())
                if found is None:
                    break
                yield found
                more = _LIST_GAP_RE.match(text, found.end)
                if more is None:
                    break
                pos = more.end()

    def _elided(self, text: str) -> Iterable[Mention]:
        """"North and South Korea", "Central and Eastern Europe": the first word names a place
        of its own ("North Korea") when both it and the second read with the shared last word."""
        for m in _ELIDED_RE.finditer(text):
            first, second, shared = m.group(1), m.group(2), m.group(3)
            whole = self.places.index.get(fold(f"{first} {shared}"))
            if whole and fold(f"{second} {shared}") in self.places.index:
                if all(c.kind in {"country", "region", "continent"} for c in whole):
                    yield Mention(first, m.start(1), m.end(1), tuple(whole), True)

    def _settlement_at(self, text: str, start: int, end: int) -> Mention | None:
        """The longest known place name at ``start`` within the capitalised run ending at ``end``."""
        ends = [m.end() for m in re.finditer(r"(?=\s|$)", text[start:end])]
        for stop in sorted({start + e for e in ends if e > 0}, reverse=True):
            name = text[start:stop]
            key = fold(name)
            candidates = self.places.index.get(key) or self.places.small(name) or self.places.short.get(key)
            if candidates and key not in STOPLIST and key not in ALL_COMMON_WORDS:
                return Mention(name, start, stop, tuple(candidates), True)
        return None

    def _mislabelled_region(self, text: str, ent: Entity) -> Mention | None:
        """A region or country that the model tagged as a person or a group, told by the text.

        "the Kivu region" and "Four Kivu state police" say so outright; "Kivu, Congo" places it
        in its country; a two-word "person" whose name is only ever a region or country
        ("North Kivu") is the region: people are not called that.
        """
        name = strip_the(ent.text)
        start = ent.start + max(ent.text.find(name), 0)
        candidates = self.places.index.get(fold(name), [])
        areas = [c for c in candidates if c.kind in {"region", "country", "continent"} and c.lat is not None]
        if not areas:
            return None
        if _REGION_CUE_RE.match(text, ent.end):
            return Mention(name, start, start + len(name), tuple(c for c in areas if c.kind == "region") or tuple(areas), True)
        only_areas = len(areas) == len(candidates) and ent.label == "PERSON"
        if only_areas or self._qualified_here(text, ent.end, candidates):
            return Mention(name, start, start + len(name), tuple(candidates), True)
        return None

    def _ner_mention(self, text: str, ent: Entity) -> Mention | None:
        raw = ent.text.split(",")[0].rstrip()  # "Richmond, Va." tagged whole: the qualifier is read later
        name = _POSSESSIVE_RE.sub("", strip_the(raw)).strip() if raw.endswith(("'s", "’s", "'", "’")) else strip_the(raw)
        bare = _GENERIC_SUFFIX_RE.sub("", name)
        for form in (name, bare):
            candidates = self.places.index.get(fold(form)) or self.places.cased.get(form)
            if not candidates and form.istitle():
                candidates = self.places.short.get(fold(form))  # "the city of Van"
            if candidates and form != name and _REGION_WORD_RE.search(name):
                candidates = [c for c in candidates if c.kind == "region"] or candidates  # "Lagos State"
            if candidates and self._allowed(form, candidates, True):
                offset = ent.text.find(form)
                start = ent.start + max(offset, 0)
                return Mention(form, start, start + len(form), tuple(candidates), True)
        small = self.places.small(name)
        if small and name[:1].isupper():
            offset = ent.text.find(name)
            start = ent.start + max(offset, 0)
            return Mention(name, start, start + len(name), small, True)
        return None

    def _cased(self, text: str) -> Iterable[Mention]:
        for m in self._cased_re.finditer(text):
            yield Mention(m.group(0), m.start(), m.end(), tuple(self.places.cased[m.group(0)]), False)

    def _datelines(self, text: str) -> Iterable[Mention]:
        for m in _DATELINE_RE.finditer(text):
            name = m.group(1).rstrip(".")
            candidates = self.places.index.get(fold(name))
            if candidates:
                yield Mention(text[m.start(1) : m.start(1) + len(name)], m.start(1), m.start(1) + len(name),
                              tuple(candidates), True)

    def _scan(self, text: str) -> Iterable[tuple[int, int]]:
        """Capitalised word sequences that are gazetteer names (longest match first)."""
        words = list(WORD_RE.finditer(text))
        index = self.places.index
        i = 0
        while i < len(words):
            word = words[i]
            if not word.group(0)[0].isupper():
                i += 1
                continue
            matched = 0
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                last = words[i + n - 1]
                if n > 1 and not _capitalised(last.group(0)):
                    continue
                gaps_ok = all(
                    text[words[k].end() : words[k + 1].start()] in (" ", "-")
                    and (words[k + 1].group(0)[0].isupper() or words[k + 1].group(0) in CONNECTORS or k + 1 == i + n - 1)
                    for k in range(i, i + n - 1)
                )
                if not gaps_ok:
                    continue
                if fold(text[word.start() : last.end()]) in index:
                    yield word.start(), last.end()
                    matched = n
                    break
            i += matched or 1

    def _qualified_here(self, text: str, end: int, candidates: Sequence[Place]) -> bool:
        """A stop-listed name is a place when a region or country qualifies it ("Austin, TX")."""
        found = self._qualifier_at(text, end)
        return found is not None and any(self._within(c, q) for q in found[2] for c in candidates)

    def _longer_name(
        self, text: str, start: int, end: int, mentions: Sequence[Mention], blocked: Sequence[tuple[int, int]]
    ) -> bool:
        """A country, region or continent name that spans shorter spaCy mentions wins over them:
        "Democratic Republic of the Congo" tagged as "Congo", "Guinea-Bissau" as "Guinea"."""
        if _overlaps(start, end, blocked):
            return False
        inner = [m for m in mentions if m.start < end and start < m.end]
        if not inner or any(m.start < start or m.end > end or (m.start, m.end) == (start, end) for m in inner):
            return False
        return any(c.kind in {"country", "region", "continent"} for c in self.places.index[fold(text[start:end])])

    def _every_occurrence(
        self, text: str, mentions: list[Mention], blocked: list[tuple[int, int]], surnames: set[str]
    ) -> list[Mention]:
        """A name accepted once is a mention wherever else it is written (one sense per discourse)."""
        out = list(mentions)
        taken = [(m.start, m.end) for m in mentions] + blocked
        seen: set[str] = set()
        for m in mentions:
            if m.text in seen or m.text in surnames:
                continue
            seen.add(m.text)
            for occ in re.finditer(rf"(?<![\w.]){re.escape(m.text)}(?![\w])", text):
                s, e = occ.start(), occ.end()
                if _overlaps(s, e, taken) or self._glued(text, s, e, m.candidates):
                    continue
                out.append(Mention(m.text, s, e, m.candidates, False, m.context_only))
                taken.append((s, e))
        return out

    def _glued(self, text: str, start: int, end: int, candidates: Sequence[Place]) -> bool:
        """Part of a longer capitalised name here ("Washington Post", "New Jersey" for Jersey)."""
        after = re.match(r"[ -]([^\W\d_]+)", text[end : end + 40])
        if _glued_before(text, start):
            return True
        return after is not None and after.group(1)[0].isupper() and not any(
            c.kind in {"country", "continent"} for c in candidates
        )

    # --- filters ----------------------------------------------------------------------------

    def _allowed(self, mention: str, candidates: Sequence[Place], from_ner: bool) -> bool:
        key = mention.lower()
        if key in STOPLIST and not from_ner:
            return False
        if len(mention) < 4 and not any(c.kind in {"country", "continent"} for c in candidates):
            return mention in self.places.cased or (from_ner and fold(mention) in self.places.short)
        if mention.isupper() and len(mention) > 4:  # shouted headline words
            return False
        return True

    def _inside_proper_name(self, text: str, start: int, end: int, candidates: Sequence[Place]) -> bool:
        """True when a small place name is glued to other capitalised words ("Northern Meridian").

        Countries, regions, continents, hand-listed ports and cities of 100,000+ still count
        ("Birmingham Crown Court"), except that a name known only as an alternate never follows
        another capitalised word ("Puerto Bolívar" is not Ciudad Bolívar).
        """
        after = re.match(r"[ -]([^\W\d_]+)", text[end : end + 40])
        glued_before = _glued_before(text, start)
        glued_after = after is not None and after.group(1)[0].isupper()
        key = fold(text[start:end])
        if any(
            (c.kind in {"country", "continent"} or c in self.places.port_places or (c.kind == "city" and c.population >= 100000))
            and not (glued_before and (key, c) in self.places.alternates)
            for c in candidates
        ):
            return False
        if not glued_before and any(c.kind == "region" and c.lat is not None for c in candidates):
            return False  # "Queensland Police" names the state; "Puerto Bolívar" is not Bolívar
        return glued_before or glued_after

    def _not_a_place_here(
        self, text: str, start: int, end: int, candidates: Sequence[Place], lang: str,
        named_regions: Collection[tuple[str | None, str | None]] = (),
    ) -> bool:
        """Context that makes a capitalised gazetteer name something else (scan matches only)."""
        name = text[start:end]
        key = name.lower()
        prefix = text[max(0, start - 60) : start]
        previous = re.search(r"([^\W\d_]+)\.? $", prefix)
        if previous and previous.group(1) in PERSON_TITLES:
            return True  # "Detective Sergeant Jordan Haverlock"
        if AGE_AFTER_RE.match(text, end):
            return True  # "Jordan Pilbeam, 44, of Leeds"
        if all(
            c.kind in {"country", "continent"} or c in self.places.port_places or (c.kind == "region" and c.lat is not None)
            for c in candidates
        ):
            return False  # "the Netherlands", "the Azores", "the Algarve", "the Balkans"
        if (
            previous and previous.group(1) in DETERMINERS and prefix.endswith(previous.group(1) + " ")
            and not any(c.kind == "city" and c.population >= BIG_CITY for c in candidates)
            and not any((c.country_code, c.admin1) in named_regions for c in candidates if c.admin1)
        ):
            return True  # "the Meridian cartel", "im Boden", "de la Concepción"; not "the Benghazi hospital"
        if " " in name or "-" in name:
            return False
        if lang == "de" and key in COMMON_WORDS["de"]:
            return True  # German capitalises nouns: "Namen" is a word before it is Namur
        if SENTENCE_START_RE.search(prefix[-4:] if start >= 4 else text[:start]):
            if key in ALL_COMMON_WORDS:
                return True  # "Much of the evidence"
            big = any(c.population >= 100000 or c.kind != "city" for c in candidates)
            if not big and re.search(rf"(?<![^\W\d_]){re.escape(key)}(?![^\W\d_])", text) is not None:
                return True  # the same word appears in lower case elsewhere in the text
        return False

    # --- "City, Region" and "City, Country" -------------------------------------------------

    def _qualifier_at(self, text: str, pos: int) -> tuple[int, int, list[Place]] | None:
        """The region or country named right after ``pos`` when a comma separates them."""
        gap = QUALIFIER_GAP_RE.match(text, pos)
        if gap is None:
            return None
        abbr = self._abbr_re.match(text, gap.end())
        if abbr is not None:
            return abbr.start(), abbr.end(), [self.places.abbreviations[abbr.group(0)]]
        words: list[re.Match[str]] = []
        for word in WORD_RE.finditer(text, gap.end(), min(len(text), gap.end() + 60)):
            if words and text[words[-1].end() : word.start()] not in (" ", "-"):
                break
            words.append(word)
            if len(words) == MAX_NAME_WORDS:
                break
        if not words or words[0].start() != gap.end() or not words[0].group(0)[0].isupper():
            return None
        for n in range(len(words), 0, -1):
            start, end = words[0].start(), words[n - 1].end()
            key = fold(text[start:end])
            places = [p for p in self.places.qualifiers.get(key, ()) if p.lat is not None]
            places += [p for p in self.places.index.get(key, ()) if p.kind == "country"]
            places += [p for p in self.places.cased.get(text[start:end], ()) if p.kind == "country"]
            if places:
                return start, end, places
        return None

    def _region_said(self, text: str, m: Mention) -> Mention:
        """"New York state", "the state of Washington", "the Ohio governor": the region itself,
        even where its name alone is left to a city or kept for qualifiers (as "Washington" is)."""
        if m.qualified or not (
            _STATE_AFTER_RE.match(text, m.end) or _STATE_BEFORE_RE.search(text, max(0, m.start - 20), m.start)
        ):
            return m
        regions = [c for c in m.candidates if c.kind == "region" and c.lat is not None]
        regions += [p for p in self.places.qualifiers.get(m.key, ()) if p.kind == "region" and p.lat is not None]
        if not regions:
            return m
        return replace(m, candidates=tuple(dict.fromkeys(regions)), qualified=True)

    @staticmethod
    def _within(place: Place, qualifier: Place) -> bool:
        if place.kind in {"country", "continent"} or place.country_code != qualifier.country_code:
            return False
        if qualifier.kind == "country" or not qualifier.admin1 or not place.admin1:
            return place.kind != "region" or qualifier.kind == "country"
        return place.admin1 == qualifier.admin1

    def _apply_qualifiers(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """Restrict "Athens, Georgia" to the Athens in Georgia, and Georgia to the US state.

        The first reading of the qualifier (a region before a country) that holds one of the
        place's candidates wins; when none does, both names are left to the usual scoring.
        """
        out = list(mentions)
        for i, m in enumerate(list(out)):
            found = self._qualifier_at(text, m.end)
            if found is None:
                continue
            q_start, q_end, readings = found
            readings.sort(key=lambda p: p.kind == "country")
            for reading in readings:
                if any(c.kind == "region" and c.country_code == reading.country_code for c in m.candidates):
                    break  # a list of regions ("Rio Grande do Sul, Tocantins and ..."), not "City, Region"
                inside = [c for c in m.candidates if self._within(c, reading)]
                if not inside:
                    continue
                if reading.kind == "region" and reading.lat is not None and len(inside) > 1:
                    inside.sort(key=lambda c: _distance(c, reading))
                    inside = inside[:1]
                out[i] = replace(m, candidates=tuple(inside), qualified=True)
                k = next((k for k, o in enumerate(out) if o.start < q_end and q_start < o.end and k != i), None)
                if k is not None:
                    out[k] = replace(out[k], candidates=(reading,), qualified=True)
                else:
                    out.append(Mention(text[q_start:q_end], q_start, q_end, (reading,), False, qualified=True))
                break
        out.sort(key=lambda m: m.start)
        return out


def _distance(place: Place, other: Place) -> float:
    from nlp.gazetteer_data import km

    if place.lat is None or place.lon is None or other.lat is None or other.lon is None:
        return 1e9
    return km(place.lat, place.lon, other.lat, other.lon)


def _glued_before(text: str, start: int) -> bool:
    """Whether a capitalised word runs into the name at ``start`` ("Northern Meridian").

    A function word that only has its capital because it opens the sentence ("Four Kivu
    police...", "In Kivu, ...") does not: it is not part of a longer name. A determiner does
    ("The Meridian gang").
    """
    window = max(0, start - 40)
    before = re.search(r"([^\W\d_]+)[ -]$", text[window:start])
    if before is None or not before.group(1)[0].isupper():
        return False
    if re.search(r"[.!?]\s*$", text[max(0, start - 3) : start]) is not None:
        return False
    word_start = window + before.start(1)
    opens_sentence = SENTENCE_START_RE.search(text[max(0, word_start - 5) : word_start]) is not None
    word = before.group(1).lower()
    return not (opens_sentence and word in EN_STOP_WORDS and word not in DETERMINERS)  # "The Meridian" stays glued


def _capitalised(word: str) -> bool:
    """"Ivory" and "d'Ivoire" (an elided article before a capital) both end a name."""
    return word[0].isupper() or (word[:2].lower() in {"d'", "d’", "l'", "l’"} and word[2:3].isupper())


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def _shouting(text: str, start: int, end: int) -> bool:
    """An abbreviation inside a run of capitals ("WE TOLD US") is a word, not a country."""
    before = re.search(r"([^\W\d_]+)\W*$", text[max(0, start - 30) : start])
    after = re.match(r"\W*([^\W\d_]+)", text[end : end + 30])
    return any(m is not None and m.group(1).isupper() and len(m.group(1)) > 2 for m in (before, after))


def _surnames(text: str, ner_entities: Sequence[Entity]) -> set[str]:
    """Last names of the people in the text: a place name that is someone's surname is the
    person throughout the document ("Jamal Wexford, 40, ..." then "Wexford had played")."""
    people = Counter(e.text.split()[-1] for e in ner_entities if e.label == "PERSON" and len(e.text.split()) > 1)
    aged = {m.group(1) for m in re.finditer(r"\b[A-Z][a-z]+ ([A-Z][^\W\d_]+)(?=,? \(?\d{1,3}\)?[,)])", text)}
    places = Counter(e.text for e in ner_entities if e.label in {"GPE", "LOC"})
    # A name spaCy tags as a place more often than inside a person's name is the place
    # ("Malakal" six times, "SOS Children's Village Malakal" mistaken for a person twice), unless
    # someone of that name is given an age ("Demi Wexford, 46").
    return aged | {name for name, n in people.items() if places.get(name, 0) <= n}
