"""Choosing one place for each name a document mentions, from the document's own evidence.

Every mention of the same name (case and accents aside) gets the same place ("one sense per
discourse"); a qualified mention ("Athens, Georgia") settles the name for the whole document.

Evidence, in the order it is weighed:

* a qualifier ("City, Region", "City, Country", "City, ST") restricts the candidates outright;
* names that can only be in one country (a country itself, "Tbilisi", "Ontario") vote for that
  country, and names inside one first-level region vote for that region ("Atlanta" for the state
  of Georgia); neighbours of the voted countries get a smaller share, and so do the member
  countries of a continent or macro-region the text names;
* a name's own kind: a country or a continent before a first-level region, a region before a
  populated place of the same name ("Georgia" is a country or a state before it is a town);
* population (log scale): the bigger namesake wins when nothing else decides;
* the source's declared country (``default_country``), a weak prior worth less than one co-mention.

After a first pass the names it resolved vote too (at half weight), and the ambiguous names are
decided again: "Georgia" next to "Atlanta" and "Savannah" becomes the state in both passes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from nlp.gazetteer_data import Place, km
from nlp.gazetteer_index import PlaceIndex
from nlp.geo_mentions import Mention
from osintel.records import Location
from osintel.records import Mention as MentionRecord

COUNTRY_VOTE = 0.5  # one distinct name that can only be in a country
COUNTRY_VOTE_CAP = 1.0
ADMIN1_VOTE = 0.7  # one distinct name inside a first-level region
ADMIN1_VOTE_CAP = 1.4
NEIGHBOUR_SHARE = 0.4  # of a neighbouring country's votes
CONTINENT_VOTE = 0.25  # for each member country of a continent or macro-region named
NEAR_PLACE_KM = 60.0  # two named places this close support each other's reading
AREA_RADIUS_KM = 150.0  # a place this close to a named region's centre counts as inside it
DEFAULT_PRIOR = 0.45  # the source's declared country: less than one co-mention (0.5)
RESOLVED_SHARE = 0.5  # votes of names the first pass resolved
POPULATION_SCALE = 2.0  # log10(population) / this
PORT_POPULATION = 500_000  # a hand-listed port weighs like a city this large
SMALL_PLACE = 15_000  # places below this size are candidates only with support from the text
# A region named like a city of its own country of 100,000+ people holding a sixth or more of the
# region's people is said as the city ("Lagos", "São Paulo"); "Quebec" stays the province.
NAMESAKE_CITY = 100_000
NAMESAKE_SHARE = 0.15
KIND_BONUS = {"country": 0.6, "continent": 0.6, "region": 0.4, "port": 0.3, "city": 0.0}


@dataclass
class _Evidence:
    countries: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    admin1: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    continents: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    areas: list[Place] = field(default_factory=list)  # regions named, for the places near them
    points: list[tuple[str, Place]] = field(default_factory=list)  # (name, place) of the places named

    def add(self, place: Place, weight: float, places: PlaceIndex, key: str = "") -> None:
        if place.kind == "continent":
            for code in places.members(place):
                self.continents[code] += CONTINENT_VOTE * weight
            return
        if place.country_code:
            self.countries[place.country_code] += COUNTRY_VOTE * weight
        if place.country_code and place.admin1 and place.kind in {"city", "region", "port"}:
            self.admin1[(place.country_code, place.admin1)] += ADMIN1_VOTE * weight
        if place.kind == "region" and place.lat is not None and weight >= 1.0:
            self.areas.append(place)
        if place.kind in {"city", "port"} and place.lat is not None:
            self.points.append((key, place))

    def near_place(self, place: Place, key: str) -> bool:
        """Whether another name of the text is a place right next to ``place`` (same country)."""
        if place.lat is None or place.lon is None:
            return False
        return any(
            k != key and p.country_code == place.country_code and p != place
            and km(place.lat, place.lon, p.lat, p.lon) <= NEAR_PLACE_KM  # type: ignore[arg-type]
            for k, p in self.points
        )

    def near_area(self, place: Place) -> bool:
        """Whether a region the text names lies around ``place`` ("Lagos" with "the Algarve")."""
        if place.lat is None or place.lon is None:
            return False
        return any(
            a.country_code == place.country_code and km(place.lat, place.lon, a.lat, a.lon) <= AREA_RADIUS_KM
            for a in self.areas if a.lat is not None and a.lon is not None
        )


@dataclass
class _Group:
    """All mentions of one name."""

    key: str
    mentions: list[Mention]
    candidates: tuple[Place, ...]
    from_ner: bool
    qualified: bool


def resolve(mentions: Sequence[Mention], places: PlaceIndex, *, default_country: str | None) -> list[Location]:
    """One :class:`Location` per place, listing every mention of it in text order."""
    groups = _groups(mentions)
    if not groups:
        return []
    fixed, evidence = _settle(groups, places)
    if _add_small_namesakes(groups, places, evidence):
        fixed, evidence = _settle(groups, places)
    choice: dict[str, Place] = {}
    for _ in range(2):
        extra = _Evidence()
        for g in groups:
            if g.key not in fixed and g.key in choice:
                extra.add(choice[g.key], RESOLVED_SHARE, places, g.key)
        for g in groups:
            if g.key in fixed:
                choice[g.key] = fixed[g.key]
                continue
            own = _Evidence()
            if g.key in choice:
                own.add(choice[g.key], RESOLVED_SHARE, places)
            choice[g.key] = max(
                g.candidates,
                key=lambda c: _score(c, g, places, evidence, extra, own, default_country),
            )
    return _locations(groups, choice, evidence, places)


def _settle(groups: Sequence[_Group], places: PlaceIndex) -> tuple[dict[str, Place], _Evidence]:
    """The names that can be only one place, and the evidence they and one-country names give."""
    fixed: dict[str, Place] = {}
    evidence = _Evidence()
    for g in groups:
        settled = _settled(g.candidates)
        if _small(g) and not g.qualified:
            continue  # a small place is evidence only when a qualifier placed it
        if settled is not None:
            fixed[g.key] = settled
            evidence.add(settled, 1.0, places, g.key)
        elif len({c.country_code for c in g.candidates}) == 1 and g.candidates[0].country_code:
            code = g.candidates[0].country_code
            evidence.countries[code] += COUNTRY_VOTE
            admin1 = {c.admin1 for c in g.candidates}
            if len(admin1) == 1 and g.candidates[0].admin1:  # "Oklahoma": the state or its capital
                evidence.admin1[(code, g.candidates[0].admin1)] += ADMIN1_VOTE
    return fixed, evidence


def _add_small_namesakes(groups: Sequence[_Group], places: PlaceIndex, evidence: _Evidence) -> bool:
    """Let a small town compete with a bigger namesake when the text names the town's own region.

    "a city official in Marlow" in a story about Oklahoma is Marlow, Oklahoma (4,600 people), not
    the English town of 14,000 that alone answers to the name in the main index.
    """
    added = False
    for g in groups:
        if g.qualified or not g.from_ner:
            continue
        namesakes = [
            p for p in places.small_namesakes(g.mentions[0].text)
            if p.admin1 and evidence.admin1.get((p.country_code or "", p.admin1)) and p not in g.candidates
        ]
        if namesakes:
            g.candidates = (*g.candidates, *namesakes)
            added = True
    return added


def _groups(mentions: Sequence[Mention]) -> list[_Group]:
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_key[m.key].append(m)
    out = []
    for key, ms in by_key.items():
        qualified = [m for m in ms if m.qualified]
        if qualified:
            candidates = qualified[0].candidates
        else:
            seen: dict[Place, None] = {}
            for m in ms:
                for c in m.candidates:
                    seen.setdefault(c, None)
            candidates = tuple(seen)
        out.append(_Group(key, ms, candidates, any(m.from_ner for m in ms), bool(qualified)))
    return out


def _small(group: _Group) -> bool:
    return all(c.kind == "city" and c.population < SMALL_PLACE for c in group.candidates)


def _supported(place: Place, group: _Group, evidence: _Evidence, extra: _Evidence) -> bool:
    """Whether the text names the country or region a small place is in (or a place near it)."""
    if group.qualified:
        return True
    code = place.country_code or ""
    if place.admin1 and (evidence.admin1.get((code, place.admin1)) or extra.admin1.get((code, place.admin1))):
        return True
    return evidence.countries.get(code, 0.0) > 0 or evidence.near_area(place) or evidence.near_place(place, group.key)


def _settled(candidates: Sequence[Place]) -> Place | None:
    """The one place a name can be, when it can be only one."""
    return candidates[0] if len(candidates) == 1 else None


def _score(
    place: Place,
    group: _Group,
    places: PlaceIndex,
    evidence: _Evidence,
    extra: _Evidence,
    own: _Evidence,
    default_country: str | None,
) -> tuple[float, int]:
    port = place in places.port_places
    population = max(place.population, PORT_POPULATION) if port else place.population
    score = math.log10(max(population, 0) + 10) / POPULATION_SCALE + (KIND_BONUS["port"] if port else 0.0)
    if place in places.counties:
        score /= 2  # thirty states have a Washington County: the state named decides, not the size
    if place.kind == "region" and any(
        c.kind == "city" and c.country_code == place.country_code and c.population >= NAMESAKE_CITY
        and c.population >= NAMESAKE_SHARE * place.population
        for c in group.candidates
    ):
        score -= 0.5  # "Lagos" is the city before it is Lagos State; "Lagos State" keeps only the state
    else:
        score += KIND_BONUS.get(place.kind, 0.0)
    code = place.country_code
    if code:
        votes = evidence.countries.get(code, 0.0) + extra.countries.get(code, 0.0) - own.countries.get(code, 0.0)
        score += min(votes, COUNTRY_VOTE_CAP)
        near = sum(evidence.countries.get(n, 0.0) for n in places.neighbours.get(code, ()))
        score += NEIGHBOUR_SHARE * min(near, COUNTRY_VOTE_CAP)
        score += min(evidence.continents.get(code, 0.0), COUNTRY_VOTE)
        if place.admin1 and place.kind != "country":
            key = (code, place.admin1)
            region = evidence.admin1.get(key, 0.0) + extra.admin1.get(key, 0.0) - own.admin1.get(key, 0.0)
            if place.kind in {"city", "port"} and evidence.near_area(place):
                region = ADMIN1_VOTE_CAP  # "Lagos marina on the Algarve"
            elif place.kind in {"city", "port"} and (evidence.near_place(place, group.key)
                                                     or extra.near_place(place, group.key)):
                region = max(region, ADMIN1_VOTE)  # "a man from Perth appeared at Dundee Sheriff Court"
            score += min(region, ADMIN1_VOTE_CAP)
        if code == default_country:
            score += DEFAULT_PRIOR
    if (group.key, place) in places.alternates:
        score -= 0.1  # a name known only as an alternate ("Wien") loses ties to a primary one
    if any(place.name == m.text for m in group.mentions):
        score += 0.2
    return score, -(place.geonames_id or 0)


@dataclass
class _Found:
    """One place reported: its mentions across groups, and the best confidence among them."""

    place: Place
    mentions: list[Mention] = field(default_factory=list)
    confidence: float = 0.0


def _locations(
    groups: Sequence[_Group], choice: dict[str, Place], evidence: _Evidence, places: PlaceIndex
) -> list[Location]:
    found: dict[tuple[str, str | None, str], _Found] = {}
    for g in groups:
        best = choice[g.key]
        if _small(g) and not _supported(best, g, evidence, _Evidence()):
            continue  # a town of 5,000 people is reported only when the text names its country or region
        if best.lat is None:
            continue  # a region known only as context ("Home Counties")
        if all(m.context_only for m in g.mentions):
            continue  # "Kent Police": the force's name, not a place reported
        mentions = list(g.mentions)  # once the place is reported, "Kent Police" is a mention of it too
        ambiguous = len({c.country_code for c in g.candidates}) > 1
        supported = (
            g.qualified or best in places.port_places or best.kind == "continent"
            or evidence.countries.get(best.country_code or "", 0.0) > (0.0 if ambiguous else COUNTRY_VOTE)
        )
        confidence = 0.9 if (not ambiguous or supported) else 0.65
        if not g.from_ner:
            confidence -= 0.1
        key = (best.name, best.country_code, best.kind)
        entry = found.setdefault(key, _Found(best))
        entry.mentions.extend(mentions)
        entry.confidence = max(entry.confidence, confidence)
    out = []
    for entry in found.values():
        place = entry.place
        ms = sorted(entry.mentions, key=lambda m: m.start)
        first = ms[0]
        out.append(Location(
            name=place.name, kind=place.kind, country_code=place.country_code, admin1=place.admin1, lat=place.lat,
            lon=place.lon, geonames_id=place.geonames_id, confidence=round(entry.confidence, 2),
            mention=first.text, start=first.start, end=first.end,
            mentions=[MentionRecord(text=m.text, start=m.start, end=m.end) for m in ms],
        ))
    out.sort(key=lambda loc: loc.start or 0)
    return out
