"""The gazetteer's place tables and the name index built from them.

Sources, all offline:

* GeoNames cities of 15,000+ people (``nlp.geonames``, shared with the entity rules), with
  alternate names for cities of 100,000+;
* ``nlp/data/countries.tsv``: every GeoNames country with its short, official and former names
  ("People's Republic of China", "Ivory Coast", "Burma") and case-sensitive abbreviations ("US",
  "DRC"); neighbours and continent;
* ``nlp/data/admin1.tsv``: ISO 3166-2 first-level subdivisions of every country linked to their
  GeoNames admin1 code; ``nlp/data/regions.tsv``: hand-listed regions, counties and islands;
* ``nlp/data/macroregions.tsv``: continents and macro-regions ("West Africa", "the Balkans");
* ``nlp/data/us_counties.tsv``: US counties and parishes ("Scott County"), regions in their state;
* ``nlp/data/admin2.tsv``: big second-level regions elsewhere (Philippine provinces, French
  departments), regions in their first-level one, for names no first-level region answers to;
* the hand list of ports in :mod:`nlp.geo`;
* ``nlp/data/small_places.tsv``: GeoNames places of 1,000-14,999 people, candidates only for a
  name spaCy tags as a place that nothing bigger answers to, and kept only when the text supports
  them (their country or region is named, or a qualifier says so).

The generated tables come from ``tools/geo/build_places.py`` (installed packages only).
Coordinate conventions: a country is at the area centroid of its largest landmass (countryinfo's
outline; its whole-degree ``latlng``, then its capital, when it has no outline); a generated first-level region at the mean position of the GeoNames places of 500+
people inside it (the centre of its settled area); a hand-listed region at its hand centroid
(those win where both list a region); a continent at the GeoNames continent point; a
macro-region at the area-weighted mean of its member countries' centroids.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

#: AP-style abbreviations of US states, Canadian provinces and Australian states: a qualifier
#: after a city ("Richmond, Va.", "London, Ont.", "Hobart, Tas."), never a place alone.
AP_ABBREVIATIONS: dict[str, tuple[str, str]] = {
    "Ala.": ("US", "Alabama"), "Ariz.": ("US", "Arizona"), "Ark.": ("US", "Arkansas"),
    "Calif.": ("US", "California"), "Cal.": ("US", "California"), "Colo.": ("US", "Colorado"),
    "Conn.": ("US", "Connecticut"), "Del.": ("US", "Delaware"), "Fla.": ("US", "Florida"),
    "Ga.": ("US", "Georgia"), "Ill.": ("US", "Illinois"), "Ind.": ("US", "Indiana"),
    "Kan.": ("US", "Kansas"), "Kans.": ("US", "Kansas"), "Ky.": ("US", "Kentucky"), "La.": ("US", "Louisiana"),
    "Md.": ("US", "Maryland"), "Mass.": ("US", "Massachusetts"), "Mich.": ("US", "Michigan"),
    "Minn.": ("US", "Minnesota"), "Miss.": ("US", "Mississippi"), "Mo.": ("US", "Missouri"),
    "Mont.": ("US", "Montana"), "Neb.": ("US", "Nebraska"), "Nebr.": ("US", "Nebraska"), "Nev.": ("US", "Nevada"),
    "N.H.": ("US", "New Hampshire"), "N.J.": ("US", "New Jersey"), "N.M.": ("US", "New Mexico"),
    "N.Y.": ("US", "New York"), "N.C.": ("US", "North Carolina"), "N.D.": ("US", "North Dakota"),
    "Okla.": ("US", "Oklahoma"), "Ore.": ("US", "Oregon"), "Pa.": ("US", "Pennsylvania"),
    "R.I.": ("US", "Rhode Island"), "S.C.": ("US", "South Carolina"), "S.D.": ("US", "South Dakota"),
    "Tenn.": ("US", "Tennessee"), "Tex.": ("US", "Texas"), "Vt.": ("US", "Vermont"), "Va.": ("US", "Virginia"),
    "Wash.": ("US", "Washington"), "W.Va.": ("US", "West Virginia"), "W. Va.": ("US", "West Virginia"),
    "Wis.": ("US", "Wisconsin"), "Wyo.": ("US", "Wyoming"), "D.C.": ("US", "District of Columbia"),
    "Ont.": ("CA", "Ontario"), "Que.": ("CA", "Quebec"), "B.C.": ("CA", "British Columbia"),
    "Alta.": ("CA", "Alberta"), "Man.": ("CA", "Manitoba"), "Sask.": ("CA", "Saskatchewan"),
    "N.S.": ("CA", "Nova Scotia"), "N.B.": ("CA", "New Brunswick"), "Nfld.": ("CA", "Newfoundland and Labrador"),
    "P.E.I.": ("CA", "Prince Edward Island"), "Vic.": ("AU", "Victoria"), "Tas.": ("AU", "Tasmania"),
    "Qld.": ("AU", "Queensland"), "N.S.W.": ("AU", "New South Wales"),
}
#: Postal abbreviations of Canadian provinces and Australian states (US ones are the state codes).
POSTAL_ABBREVIATIONS: dict[str, tuple[str, str]] = {
    "ON": ("CA", "Ontario"), "QC": ("CA", "Quebec"), "BC": ("CA", "British Columbia"), "AB": ("CA", "Alberta"),
    "MB": ("CA", "Manitoba"), "SK": ("CA", "Saskatchewan"), "NS": ("CA", "Nova Scotia"),
    "NB": ("CA", "New Brunswick"), "NL": ("CA", "Newfoundland and Labrador"), "PE": ("CA", "Prince Edward Island"),
    "NSW": ("AU", "New South Wales"), "QLD": ("AU", "Queensland"), "Qld": ("AU", "Queensland"),
    "VIC": ("AU", "Victoria"), "Vic": ("AU", "Victoria"), "TAS": ("AU", "Tasmania"), "Tas": ("AU", "Tasmania"),
    "WA": ("AU", "Western Australia"), "SA": ("AU", "South Australia"), "NT": ("AU", "Northern Territory"),
    "ACT": ("AU", "Australian Capital Territory"),
}
#: Region abbreviations that are places on their own, not only after a city ("police in NSW").
STANDALONE_ABBREVIATIONS = frozenset({"NSW", "N.S.W.", "Qld", "QLD"})


@dataclass(frozen=True)
class Place:
    """A gazetteer entry. ``population`` of a region is that of the places in it."""

    name: str
    kind: str  # "city", "port", "region", "country" or "continent"
    country_code: str | None
    admin1: str | None
    lat: float | None
    lon: float | None
    geonames_id: int | None
    population: int


@dataclass
class CountryRow:
    place: Place
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    continent: str
    neighbours: frozenset[str]


@dataclass
class RegionRow:
    name: str
    country_code: str
    admin1: str | None
    lat: float
    lon: float
    population: int
    names: tuple[str, ...] = ()
    qualifier_only: bool = False
    iso: str | None = None


@dataclass
class MacroRow:
    place: Place
    names: tuple[str, ...]
    members: frozenset[str] = field(default_factory=frozenset)


def _rows(name: str) -> list[list[str]]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split("\t"))
    return out


def _split(cell: str, sep: str = "|") -> tuple[str, ...]:
    return tuple(x for x in cell.split(sep) if x) if cell else ()


@lru_cache(maxsize=1)
def countries() -> dict[str, CountryRow]:
    """Countries keyed by ISO code, from ``nlp/data/countries.tsv``."""
    out = {}
    for cols in _rows("countries.tsv"):
        code, name, lat, lon, pop, _area, continent, neighbours, names, abbrevs = (cols + [""] * 10)[:10]
        place = Place(name, "country", code, None, float(lat), float(lon), None, int(pop or 0))
        out[code] = CountryRow(place, _split(names), _split(abbrevs), continent, frozenset(_split(neighbours, ",")))
    return out


@lru_cache(maxsize=1)
def admin1_regions() -> tuple[RegionRow, ...]:
    """First-level regions of every country, from ``nlp/data/admin1.tsv``."""
    out = []
    for cols in _rows("admin1.tsv"):
        name, cc, admin1, iso, lat, lon, pop, _type, names = (cols + [""] * 9)[:9]
        out.append(RegionRow(name, cc, admin1 or None, float(lat), float(lon), int(pop or 0), _split(names), iso=iso))
    return tuple(out)


@lru_cache(maxsize=1)
def admin2_regions() -> tuple[Place, ...]:
    """Big second-level regions outside the US (provinces, departments, districts of 500,000+
    people in their places), from ``nlp/data/admin2.tsv``: regions inside their first-level one."""
    return tuple(
        Place(name, "region", cc, admin1 or None, float(lat), float(lon), None, int(pop or 0))
        for name, cc, admin1, lat, lon, pop in (cols[:6] for cols in _rows("admin2.tsv"))
    )


@lru_cache(maxsize=1)
def us_counties() -> tuple[Place, ...]:
    """US counties and parishes ("Scott County"), from ``nlp/data/us_counties.tsv``: regions inside
    their state, at the mean position of their GeoNames places of 500+ people."""
    return tuple(
        Place(name, "region", "US", state, float(lat), float(lon), None, int(pop or 0))
        for name, state, lat, lon, pop in (cols[:5] for cols in _rows("us_counties.tsv"))
    )


@lru_cache(maxsize=1)
def macroregions() -> tuple[MacroRow, ...]:
    """Continents and macro-regions, from ``nlp/data/macroregions.tsv``."""
    out = []
    for cols in _rows("macroregions.tsv"):
        name, _kind, lat, lon, names, members = (cols + [""] * 6)[:6]
        place = Place(name, "continent", None, None, float(lat), float(lon), None, 1_000_000_000)
        out.append(MacroRow(place, _split(names), frozenset(_split(members, ","))))
    return tuple(out)


@lru_cache(maxsize=1)
def small_places() -> dict[str, str]:
    """GeoNames places of 1,000-14,999 people by folded name: their raw table rows, one a line
    (parsed on use: they are looked up only for names nothing bigger answers to; a string per
    name keeps the 110,000 rows to about a third of the memory tuples of rows take)."""
    out: dict[str, str] = {}
    plain_fold = fold.__wrapped__  # not through the cache: 110,000 names would evict the useful ones
    for line in (DATA / "small_places.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key = plain_fold(line.split("\t", 1)[0])
            out[key] = out[key] + "\n" + line if key in out else line
    return out


def small_place(row: str) -> Place:
    name, cc, admin1, lat, lon, pop, geonameid = row.split("\t")
    return Place(name, "city", cc, admin1 or None, float(lat), float(lon), int(geonameid), int(pop))


# Letters that Unicode does not decompose into a base letter and a mark: news written in ASCII
# spells "Puławy" as "Pulawy", "Tromsø" as "Tromso", "Doğubayazıt" as "Dogubayazit".
_UNDECOMPOSED = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H",
    "ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
})


@lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Lower case without accents, a hyphen as a space: the key for names written with or
    without them ("Al-Minya" and "Al Minya", "Kvemo-Kartli" and "Kvemo Kartli")."""
    s = unicodedata.normalize("NFKD", s.translate(_UNDECOMPOSED))
    return "".join(ch for ch in s if not unicodedata.combining(ch)).lower().replace("’", "'").replace("-", " ")


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


_THE_RE = re.compile(r"^(?:the|The)\s+")


def strip_the(name: str) -> str:
    return _THE_RE.sub("", name)
