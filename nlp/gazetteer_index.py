"""The gazetteer's name index: every name of every place, built once per process.

Keys are :func:`~nlp.gazetteer_data.fold` forms (lower case, accents dropped), so "Cote d'Ivoire"
and "Côte d'Ivoire" meet. Abbreviations that are words in lower case ("US", "UK", "DRC", "NSW")
live in a separate case-sensitive table. Qualifiers (what may follow "City, ") are the regions,
countries and the AP-style and postal abbreviations of US, Canadian and Australian regions.
"""

from __future__ import annotations

import logging
from collections import Counter
from nlp import geonames
from nlp.gazetteer_data import (
    AP_ABBREVIATIONS,
    POSTAL_ABBREVIATIONS,
    STANDALONE_ABBREVIATIONS,
    Place,
    admin1_regions,
    admin2_regions,
    countries,
    fold,
    macroregions,
    small_place,
    small_places,
    us_counties,
)
from nlp.geo_lexicon import ALL_COMMON_WORDS, ALT_NAME_RE, COUNTRY_ALIASES, GB_REGIONS, PORTS, STOPLIST
from nlp.regions import load_regions

log = logging.getLogger(__name__)

SHORT_NAME_POPULATION = 100_000  # a three-letter city this big is a place when the model tags it
HAND_REGION_POPULATION = 1_000_000  # a hand-listed region (no count of its places) weighs like this


class PlaceIndex:
    """Names -> places, plus what disambiguation needs to know about countries and regions."""

    def __init__(self, *, min_population: int, alternate_min_population: int = 100000) -> None:
        self.index: dict[str, list[Place]] = {}
        self.cased: dict[str, list[Place]] = {}
        self.alternates: set[tuple[str, Place]] = set()
        self.qualifiers: dict[str, list[Place]] = {}
        self.abbreviations: dict[str, Place] = {}
        self.port_places: set[Place] = set()
        self.counties: set[Place] = set()
        # Cities of three letters ("Van", "Ulm"): too like words to scan for, places when the
        # model tags them as one.
        self.short: dict[str, list[Place]] = {}  # second-level regions: their state matters more than their size
        self.neighbours: dict[str, frozenset[str]] = {}
        self.continent_members: dict[Place, frozenset[str]] = {}
        self.country_places: dict[str, Place] = {}
        self.regions_by_admin1: dict[tuple[str, str], Place] = {}
        self._small_rows: dict[str, str] | None = None  # read on the first look-up
        self._small_cache: dict[str, tuple[Place, ...]] = {}
        self._add_cities(min_population, alternate_min_population)
        region_names = self._add_regions()
        self._add_countries(region_names)
        self._add_ports()
        self._add_macroregions()
        self._add_abbreviations()
        log.info("gazetteer built: %d names", len(self.index))

    # --- building ---------------------------------------------------------------------------

    def add(self, name: str, place: Place, *, alternate: bool = False) -> None:
        key = fold(name)
        if len(key) < 4 and place.kind not in {"country", "continent"}:
            if place.kind == "city" and place.population >= SHORT_NAME_POPULATION and not alternate:
                self.short.setdefault(key, []).append(place)
            return
        if alternate and key in self.index:
            return  # an alternate name never shadows a primary one
        entries = self.index.setdefault(key, [])
        if place not in entries:
            entries.append(place)
            if alternate:
                self.alternates.add((key, place))

    def _add_cities(self, min_population: int, alternate_min_population: int) -> None:
        for city in geonames.cities(min_population).values():
            place = Place(
                name=city["name"], kind="city", country_code=city["countrycode"], admin1=city.get("admin1code") or None,
                lat=float(city["latitude"]), lon=float(city["longitude"]), geonames_id=int(city["geonameid"]),
                population=int(city.get("population") or 0),
            )
            self.add(city["name"], place)
            if place.population >= alternate_min_population:
                for alt in city.get("alternatenames") or ():
                    if _good_alternate(alt, city["name"], place.population):
                        self.add(alt, place, alternate=True)

    def _add_regions(self) -> set[tuple[str, str]]:
        """Hand-listed regions first (their centroids win), then the generated first-level ones."""
        seen: set[tuple[str, str]] = set()
        # A hand-listed region takes the population of the generated one it matches, if any.
        populations: dict[tuple[str, str], int] = {}
        for region in admin1_regions():
            for key in [(region.country_code, fold(n)) for n in (region.name, *region.names)]:
                populations[key] = region.population
            if region.admin1:
                populations[(region.country_code, "#" + region.admin1)] = region.population
        # A hand row takes its admin1's population only when it is that whole admin1: "West
        # Midlands" and "Midlands" share England's code and are not 56 million people each.
        shared = Counter((row.country_code, row.admin1) for row in load_regions() if row.admin1)
        for row in load_regions():
            population = populations.get((row.country_code, fold(row.name))) or (
                populations.get((row.country_code, "#" + row.admin1))
                if row.admin1 and shared[(row.country_code, row.admin1)] == 1 else None
            )
            place = Place(row.name, "region", row.country_code, row.admin1, row.lat, row.lon, None,
                          population or HAND_REGION_POPULATION)
            self.qualifiers.setdefault(fold(row.name), []).append(place)
            seen.add((fold(row.name), row.country_code))
            if row.admin1 and (row.country_code, row.admin1) not in self.regions_by_admin1:
                self.regions_by_admin1[(row.country_code, row.admin1)] = place
            if not row.qualifier_only:
                self.add(row.name, place)
        for region in admin1_regions():
            names = (region.name, *region.names)
            if any((fold(n), region.country_code) in seen for n in names):
                continue
            place = Place(region.name if not region.names else _display_name(region.name, region.names), "region",
                          region.country_code, region.admin1, region.lat, region.lon, None, region.population)
            if region.admin1:
                self.regions_by_admin1.setdefault((region.country_code, region.admin1), place)
            for n in names:
                self.qualifiers.setdefault(fold(n), []).append(place)
                self.add(n, place)
                seen.add((fold(n), region.country_code))
        for province in admin2_regions():  # "Bohol": a province, where no first-level region is so called
            if (fold(province.name), province.country_code) not in seen:
                self.add(province.name, province)
                seen.add((fold(province.name), province.country_code or ""))
        for county in us_counties():  # "Scott County": always said with "County", never a city
            self.add(county.name, county)
            self.counties.add(county)
        for gb_region in GB_REGIONS:  # context only: no coordinates are emitted for them
            if (fold(gb_region), "GB") not in seen:
                self.add(gb_region, Place(gb_region, "region", "GB", None, None, None, None, 0))
        return seen

    def _add_countries(self, region_names: set[tuple[str, str]]) -> None:
        rows = countries()
        for code, row in rows.items():
            self.country_places[code] = row.place
            self.neighbours[code] = row.neighbours
            for name in (row.place.name, *row.names):
                self.add(name, row.place)
            for abbr in row.abbreviations:
                self.cased.setdefault(abbr, []).append(row.place)
        for alias, code in COUNTRY_ALIASES.items():
            if code in rows and (fold(alias), code) not in region_names:  # "England" is a region of GB
                if alias.isupper() or "." in alias:
                    cased = self.cased.setdefault(alias, [])
                    if rows[code].place not in cased:
                        cased.append(rows[code].place)
                else:
                    self.add(alias, rows[code].place)

    def _add_ports(self) -> None:
        for name, (code, lat, lon, aliases) in PORTS.items():
            known = [p for p in self.index.get(fold(name), []) if p.country_code == code and p.kind == "city"]
            port = known[0] if known else Place(name, "port", code, None, lat, lon, None, 0)
            self.port_places.add(port)
            for key in (name, *aliases):
                entries = self.index.setdefault(fold(key), [])
                if port not in entries:
                    entries.insert(0, port)

    def _add_macroregions(self) -> None:
        for row in macroregions():
            self.continent_members[row.place] = row.members
            for name in (row.place.name, *row.names):
                self.add(name, row.place)
                if not name.startswith("the "):
                    self.add("the " + name, row.place)  # "the Balkans" said whole

    def _add_abbreviations(self) -> None:
        by_name: dict[tuple[str, str], Place] = {}
        for places in self.qualifiers.values():
            for p in places:
                if p.country_code:
                    by_name.setdefault((fold(p.name), p.country_code), p)
        for region in admin1_regions():
            if region.country_code == "US" and region.iso and region.admin1:
                place = self.regions_by_admin1.get(("US", region.admin1))
                if place is not None:
                    self.abbreviations[region.iso.split("-", 1)[1]] = place
        for table in (AP_ABBREVIATIONS, POSTAL_ABBREVIATIONS):
            for abbr, (code, name) in table.items():
                place = by_name.get((fold(name), code))
                if place is not None:
                    self.abbreviations[abbr] = place
        for abbr in STANDALONE_ABBREVIATIONS:
            if abbr in self.abbreviations:
                self.cased.setdefault(abbr, []).append(self.abbreviations[abbr])

    # --- queries ----------------------------------------------------------------------------

    def small(self, name: str) -> tuple[Place, ...]:
        """Places of 1,000-14,999 people called ``name`` (none when a bigger place is)."""
        key = fold(name)
        if key in self.index or len(key) < 4:
            return ()
        if key not in self._small_cache:
            if self._small_rows is None:
                self._small_rows = small_places()
            rows = self._small_rows.get(key)
            self._small_cache[key] = tuple(small_place(row) for row in rows.split("\n")) if rows else ()
        return self._small_cache[key]

    def small_namesakes(self, name: str) -> tuple[Place, ...]:
        """Places of 1,000-14,999 people called ``name``, even when a bigger place is too."""
        key = fold(name)
        if self._small_rows is None:
            self._small_rows = small_places()
        rows = self._small_rows.get(key)
        return tuple(small_place(row) for row in rows.split("\n")) if rows else ()

    def region_of(self, place: Place) -> Place | None:
        """The first-level region a city lies in, when the index knows it."""
        if place.country_code is None or place.admin1 is None:
            return None
        return self.regions_by_admin1.get((place.country_code, place.admin1))

    def members(self, place: Place) -> frozenset[str]:
        return self.continent_members.get(place, frozenset())


def _display_name(name: str, names: tuple[str, ...]) -> str:
    """An English name for a region when the ISO name is a local form ("Anhui Sheng" -> "Anhui").

    The last listed name is an English exonym or the bare name without its type word.
    """
    for n in reversed(names):
        if n.isascii():
            return n
    return name


def _good_alternate(alt: str, name: str, population: int) -> bool:
    """Whether an alternate name is worth indexing.

    Short alternates ("Drug" for Durg, "Bush", "Gold") are mostly transliteration noise that
    collides with words; only cities of a million or more keep theirs ("Wien", "Prag").
    """
    key = alt.lower()
    if not ALT_NAME_RE.match(alt) or key == name.lower():
        return False
    if len(key) < 5 and population < 1_000_000:
        return False
    return key not in ALL_COMMON_WORDS and key not in STOPLIST
