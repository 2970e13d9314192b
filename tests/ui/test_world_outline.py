"""The bundled world outline the map draws on: built from countryinfo, small, valid, licensed."""

from __future__ import annotations

import json

from search_api.ui.build_world import LICENCE, OUTPUT, build, simplify


def test_simplify_drops_points_within_tolerance_and_keeps_corners() -> None:
    line = [(0.0, 0.0), (1.0, 0.05), (2.0, 0.0), (2.0, 3.0), (2.05, 4.0), (2.0, 5.0)]
    assert simplify(line, 0.2) == [(0.0, 0.0), (2.0, 0.0), (2.0, 5.0)]
    assert simplify(line, 0.01) == line


def test_committed_outline_is_valid_and_credits_its_source() -> None:
    world = json.loads(OUTPUT.read_text(encoding="utf-8"))
    assert world["licence"] == LICENCE and "countryinfo" in LICENCE and "MIT" in LICENCE
    countries = {c["id"]: c for c in world["countries"]}
    assert len(countries) > 150 and {"GBR", "FRA", "NLD", "USA", "BRA", "AUS"} <= set(countries)
    for country in countries.values():
        for ring in country["rings"]:
            assert len(ring) >= 4
            assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in ring)
    assert OUTPUT.stat().st_size < 150_000  # sent with every map view


def test_build_reads_the_installed_countryinfo_geometry() -> None:
    built = {c["id"]: c for c in build()["countries"]}
    britain = built["GBR"]
    lons = [lon for ring in britain["rings"] for lon, _ in ring]
    lats = [lat for ring in britain["rings"] for _, lat in ring]
    assert -9 < min(lons) < -5 and 1 < max(lons) < 2.5 and 49 < min(lats) < 50.5 and 58 < max(lats) < 61
