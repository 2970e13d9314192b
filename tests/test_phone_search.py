"""Nationally written phone numbers, through the real CLI: crawl → enrich → ``osintel search phone:``.

Two pages on a loopback server, each from a source that declares its country: a British one
that writes "07700 900123" (the README's own example, an Ofcom drama number) and a French one
that writes "06 12 34 56 78". Each number is read in its source's country, so every way an
analyst may type it finds the page, and the dates, prices, case numbers and postcodes beside
it do not become phone numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

OSINTEL = [sys.executable, "-m", "osintel"]
PAGES = {
    "/hull.html": """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Dealer line seized in Hull | East Riding Echo</title></head><body><article>
<h1>Dealer line seized in Hull</h1>
<p>Officers from Humberside Police said the county lines network advertised heroin and crack
cocaine by text message from 07700 900123 to hundreds of buyers every morning.</p>
<p>The 23-year-old was charged on 12/03/2025 under case reference 2025/118734 and remanded in
custody. Cash totalling £14,250 was found at the flat in Hull, HU1 2AA.</p>
</article></body></html>""",
    "/marseille.html": """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Un point de deal démantelé à Marseille | La Gazette du Sud</title></head><body><article>
<h1>Un point de deal démantelé à Marseille</h1>
<p>Les enquêteurs de la police judiciaire de Marseille ont démantelé un réseau qui prenait les
commandes de cocaïne au 06 12 34 56 78, a indiqué le parquet le 14/02/2025.</p>
<p>Les suspects, âgés de 19 à 31 ans, seront jugés le 3 juin. Les policiers ont saisi 12 500
euros en liquide dans un appartement du 13001, dossier numéro 2025 004 118.</p>
</article></body></html>""",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        page = PAGES.get(self.path)
        body = (page or "not found").encode("utf-8")
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _source(source_id: str, url: str, country: str) -> str:
    return (f"- id: {source_id}\n  name: {source_id}\n  kind: web\n  urls: ['{url}']\n  country: {country}\n"
            "  grading: 2BP\n  purpose: test\n  legal_basis: test\n  options: {depth: 0}\n")


@pytest.fixture(scope="module")
def workspace(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("phones")
    sources = root / "sources.yaml"
    sources.write_text(
        f"allow_private_hosts: ['{server}']\nsources:\n"
        + _source("echo", f"http://{server}/hull.html", "GB")
        + _source("gazette", f"http://{server}/marseille.html", "FR")
    )
    data_dir = root / "data"
    for step in (["crawl", "echo", "gazette"], ["enrich"]):
        done = _osintel(step, data_dir, sources)
        assert done.returncode == 0, done.stderr[-3000:]
    return data_dir, sources


def _osintel(args: list[str], data_dir: Path, sources: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_CRAWL_RETRY_TIMES": "0"}
    return subprocess.run([*OSINTEL, *args, "--data-dir", str(data_dir), "--sources", str(sources),
                           "--log-level", "WARNING"], capture_output=True, text=True, env=env, timeout=300)


def _search(workspace: tuple[Path, Path], query: str) -> list[dict[str, Any]]:
    done = _osintel(["search", query, "--json"], *workspace)
    assert done.returncode == 0, done.stderr[-2000:]
    hits: list[dict[str, Any]] = json.loads(done.stdout)["hits"]
    return hits


@pytest.mark.parametrize(
    "query", ['phone:"07700 900123"', "phone:07700900123", "phone:+447700900123", 'phone:"+44 7700 900123"'])
def test_a_uk_number_written_nationally_is_found_however_the_analyst_types_it(
        workspace: tuple[Path, Path], query: str) -> None:
    assert [hit["source"]["id"] for hit in _search(workspace, query)] == ["echo"]


@pytest.mark.parametrize("query", ["phone:+33612345678", 'phone:"+33 6 12 34 56 78"'])
def test_a_french_sources_national_number_is_read_as_french(workspace: tuple[Path, Path], query: str) -> None:
    assert [hit["source"]["id"] for hit in _search(workspace, query)] == ["gazette"]


def test_each_page_has_exactly_its_one_phone_and_records_where_the_region_came_from(
        workspace: tuple[Path, Path]) -> None:
    hits = {hit["source"]["id"]: hit for hit in _search(workspace, "*")}
    phones = {sid: [e["normalized"] for e in hit["entities"] if e["label"] == "PHONE"] for sid, hit in hits.items()}
    # Dates, prices, case numbers and postcodes beside the numbers are not phones.
    assert phones == {"echo": ["+447700900123"], "gazette": ["+33612345678"]}
    regions = {sid: (hit["enrichment"]["phone_region"], hit["enrichment"]["phone_region_from"])
               for sid, hit in hits.items()}
    assert regions == {"echo": ("GB", "source"), "gazette": ("FR", "source")}
