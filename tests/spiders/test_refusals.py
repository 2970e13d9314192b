"""Refused content and refused crawls are never a healthy-looking run with exit 0.

``osintel crawl`` (a real process) against the fixture site: an XXE feed, a 404 feed, a feed whose
article is over the size cap, one whose article is a decompression bomb, a source where one of two
feeds is gone, and a source whose authorisation has expired. Health flags are read from
``osintel sources --json`` and from ``GET /api/sources`` of the real app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from osintel import apikeys
from osintel.settings import load_settings
from osintel.store import ControlStore
from search_api.app import create_app

OSINTEL = [sys.executable, "-m", "osintel"]
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><link>{base}/refused/a/xxe.html</link></item></channel></rss>"""


def _feed(site: Any, path: str, links: list[str]) -> str:
    items = "".join(f"<item><title>x</title><link>{site.base}{link}</link></item>" for link in links)
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    site.routes[path] = lambda h: h._send(200, body, "application/rss+xml")
    return site.base + path


@pytest.fixture(scope="module")
def crawled(site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    xxe = XXE.replace(b"{base}", site.base.encode())
    site.routes["/refused/xxe.xml"] = lambda h: h._send(200, xxe, "application/rss+xml")
    config = {"allow_private_hosts": [site.host_port], "sources": [
        {"id": "xxe", "kind": "feed", "urls": [site.base + "/refused/xxe.xml"]},
        {"id": "gone", "kind": "feed", "urls": [site.base + "/refused/missing.xml"]},
        {"id": "oversize", "kind": "feed", "urls": [_feed(site, "/refused/big.xml", ["/big.html"])]},
        {"id": "bomb", "kind": "feed", "urls": [_feed(site, "/refused/bomb.xml", ["/bomb"])]},
        {"id": "half", "kind": "feed", "urls": [site.base + "/feeds/news.rss", site.base + "/refused/gone.xml"]},
        {"id": "lapsed", "kind": "feed", "urls": [site.base + "/feeds/news.atom"],
         "authorisation_expires": "2020-01-31"},
    ]}
    tmp = tmp_path_factory.mktemp("refusals")
    sources = tmp / "sources.yaml"
    sources.write_text(yaml.safe_dump(config))
    env = {**os.environ, "OSINTEL_DATA_DIR": str(tmp / "data"), "OSINTEL_SOURCES_FILE": str(sources),
           "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_CRAWL_RETRY_TIMES": "0",
           "OSINTEL_CRAWL_MAX_RESPONSE_BYTES": str(1024 * 1024)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(OSINTEL + list(args), env=env, capture_output=True, text=True, timeout=300)

    crawl = cli("crawl", "xxe", "gone", "oversize", "bomb", "half", "--json")
    rows = json.loads(cli("sources", "--json").stdout)
    return {"cli": cli, "env": env, "crawl": crawl, "sources": {r["id"]: r for r in rows}}


def _flags(row: dict[str, Any]) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in row["health"]["flags"]}


def test_a_crawl_that_collected_nothing_because_everything_was_refused_exits_non_zero(crawled: dict[str, Any]) -> None:
    crawl = crawled["crawl"]
    assert crawl.returncode == 1
    status = {r["source"]: r["status"] for r in json.loads(crawl.stdout)}
    assert status == {"xxe": "failed", "gone": "failed", "oversize": "failed", "bomb": "failed", "half": "ok"}
    lines = [line for line in crawl.stderr.splitlines() if line.startswith("osintel: ")]
    assert len(lines) == 4  # one per failed source
    assert any(line.startswith("osintel: crawl of xxe failed: nothing collected: last run rejected 1 feed(s)"
                               " declaring XML entities") for line in lines)
    assert any(line.startswith("osintel: crawl of gone failed: nothing collected: last run: source URL(s)"
                               " answered HTTP 404 (1)") for line in lines)


@pytest.mark.parametrize(("source_id", "code"), [
    ("xxe", "rejected-content"), ("oversize", "rejected-content"), ("bomb", "rejected-content"),
    ("gone", "http-error"),
])
def test_refused_content_and_http_errors_are_health_errors_in_osintel_sources(
    crawled: dict[str, Any], source_id: str, code: str
) -> None:
    row = crawled["sources"][source_id]
    assert row["last_run"]["status"] == "failed"
    flags = _flags(row)
    assert flags[code] == "error" and flags["failing"] == "error"
    assert row["health"]["status"] == "error"


def test_a_source_that_collected_despite_one_gone_feed_is_ok_with_an_http_error_warning(
    crawled: dict[str, Any]
) -> None:
    row = crawled["sources"]["half"]
    assert row["last_run"]["status"] == "ok" and row["last_run"]["items_new"] > 0
    flags = _flags(row)
    assert flags["http-error"] == "warning" and set(flags.values()) == {"warning"}
    assert "failing" not in flags
    again = crawled["cli"]("crawl", "half")  # everything seen now: still collected, still exit 0
    assert again.returncode == 0, again.stderr[-2000:]


def test_get_api_sources_carries_the_same_flags(crawled: dict[str, Any]) -> None:
    settings = load_settings(env=crawled["env"])
    with ControlStore(settings.store_path) as store:
        _, secret = apikeys.create_key(store, role="admin", name="refusals-test")
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/sources", headers={"X-API-Key": secret})
    assert response.status_code == 200
    api = {r["id"]: _flags(r) for r in response.json()}
    cli = {r["id"]: _flags(r) for r in json.loads(crawled["cli"]("sources", "--json").stdout)}
    assert api == cli
    assert api["xxe"]["rejected-content"] == "error" and api["gone"]["http-error"] == "error"


def test_an_expired_authorisation_is_a_refusal_with_exit_1_and_one_line_saying_why(crawled: dict[str, Any]) -> None:
    refused = crawled["cli"]("crawl", "lapsed")
    assert refused.returncode == 1
    [line] = [ln for ln in refused.stderr.splitlines() if ln.startswith("osintel: ")]
    assert line == "osintel: refused to crawl lapsed: authorisation expired on 2020-01-31"
    # Beside a source that may be crawled: that one is crawled, the exit still says a crawl was refused.
    mixed = crawled["cli"]("crawl", "lapsed", "half", "--json")
    assert mixed.returncode == 1
    assert {r["source"]: r["status"] for r in json.loads(mixed.stdout)} == {"lapsed": "skipped-expired", "half": "ok"}
