"""A real fixture site on 127.0.0.1 for the spider tests (stdlib HTTP server in a thread).

``site`` serves ``fixtures/site/`` with ``{{BASE}}`` / ``{{INTERNAL}}`` replaced by the live
addresses, plus a few dynamic paths (redirects to internal addresses, a gzip bomb, an oversize
page, a slow feed). ``internal`` is a second server on another loopback port that the crawler
must never reach. Both record every request path.

``make_cli`` runs ``osintel crawl`` through the real command line in a subprocess (its own data
directory, sources file and ``XDG_STATE_HOME``), for tests of what a user or operator sees.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from osintel.settings import Settings, load_settings
from osintel.sources import SourceConfig, parse_sources
from osintel.store import ControlStore

SITE_DIR = Path(__file__).parent / "fixtures" / "site"
BOMB_INFLATED = 20 * 1024 * 1024  # 20 MiB of zeros, ~20 KiB compressed
BIG_BYTES = 2 * 1024 * 1024
MAX_RESPONSE_BYTES = 1024 * 1024

_TYPES = {".html": "text/html; charset=utf-8", ".rss": "application/rss+xml",
          ".atom": "application/atom+xml", ".xml": "application/xml", ".txt": "text/plain"}


@dataclass
class Server:
    httpd: ThreadingHTTPServer
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    base: str = ""
    internal_base: str = ""
    #: Extra dynamic paths test modules register: ``routes[path] = fn(handler)``.
    routes: dict[str, Callable[[Any], None]] = field(default_factory=dict)
    #: The same for every path under a prefix: ``prefixes[prefix] = fn(handler)``.
    prefixes: dict[str, Callable[[Any], None]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        with self.lock:
            return list(self.requests)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


def _handler(server_ref: dict[str, Server]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            srv = server_ref["server"]
            with srv.lock:
                srv.requests.append(self.path)
            path = self.path.split("?", 1)[0]
            if path in srv.routes:
                srv.routes[path](self)
                return
            prefix = next((p for p in srv.prefixes if path.startswith(p)), None)
            if prefix is not None:
                srv.prefixes[prefix](self)
                return
            if srv.base == "":  # the internal server: anything reaching it is a failure
                self._send(200, b"<html><body><p>INTERNAL SECRET</p></body></html>")
                return
            if path == "/redirect-internal":
                self._send(302, b"", headers={"Location": f"{srv.internal_base}/redirected-secret"})
            elif path == "/redirect-10":
                self._send(302, b"", headers={"Location": "http://10.0.0.1/secret"})
            elif path == "/bomb":
                body = gzip.compress(b"\0" * BOMB_INFLATED, compresslevel=9)
                self._send(200, body, headers={"Content-Encoding": "gzip"})
            elif path == "/big.html":
                self._send(200, b"<html><body><p>" + b"x" * BIG_BYTES + b"</p></body></html>")
            elif path == "/slow-feed":
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not srv.stop.is_set():
                    time.sleep(0.05)
                self._send(200, b"<rss/>", "application/rss+xml")
            else:
                file = (SITE_DIR / path.lstrip("/")).resolve()
                if SITE_DIR.resolve() not in file.parents or not file.is_file():
                    self._send(404, b"<html><body>not found</body></html>")
                    return
                body = file.read_bytes()
                body = body.replace(b"{{BASE}}", srv.base.encode()).replace(
                    b"{{INTERNAL}}", srv.internal_base.encode())
                self._send(200, body, _TYPES.get(file.suffix, "application/octet-stream"))

    return Handler


def _start() -> Server:
    ref: dict[str, Server] = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    server = Server(httpd)
    ref["server"] = server
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[Server, Server]]:
    site, internal = _start(), _start()
    site.base = f"http://{site.host_port}"
    site.internal_base = f"http://{internal.host_port}"
    yield site, internal
    for s in (site, internal):
        s.stop.set()
        s.httpd.shutdown()
        s.httpd.server_close()


@pytest.fixture(scope="session")
def site(servers: tuple[Server, Server]) -> Server:
    return servers[0]


@pytest.fixture(scope="session")
def internal(servers: tuple[Server, Server]) -> Server:
    return servers[1]


def _make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: fast, no retries, a 1 MiB response cap, data under ``data_dir``."""
    values = {
        "data_dir": str(data_dir),
        "log_level": "INFO",
        "crawl.autothrottle": False,
        "crawl.download_delay": 0.0,
        "crawl.download_timeout": 5,
        "crawl.retry_times": 0,
        "crawl.max_response_bytes": MAX_RESPONSE_BYTES,
        "crawl.process_timeout": 60,
    }
    values.update(overrides)
    return load_settings(env={}, overrides=values)


def _make_sources(site: Server, sources: list[dict[str, Any]]) -> SourceConfig:
    return parse_sources({"allow_private_hosts": [site.host_port], "sources": sources})


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    """``make_settings(data_dir, **dotted_overrides)``: fast test settings."""
    return _make_settings


@pytest.fixture(scope="session")
def make_sources() -> Callable[[Server, list[dict[str, Any]]], SourceConfig]:
    """``make_sources(site, [source, ...])``: a sources config allow-listing the fixture site."""
    return _make_sources


REPO_ROOT = Path(__file__).resolve().parents[2]

#: Test settings for a CLI crawl, as environment variables (the CLI's own precedence applies).
CLI_ENV = {
    "OSINTEL_LOG_LEVEL": "INFO",
    "OSINTEL_CRAWL_AUTOTHROTTLE": "false",
    "OSINTEL_CRAWL_DOWNLOAD_DELAY": "0",
    "OSINTEL_CRAWL_DOWNLOAD_TIMEOUT": "5",
    "OSINTEL_CRAWL_RETRY_TIMES": "0",
    "OSINTEL_CRAWL_MAX_RESPONSE_BYTES": str(MAX_RESPONSE_BYTES),
    "OSINTEL_CRAWL_PROCESS_TIMEOUT": "120",
}


@dataclass
class Cli:
    """``osintel crawl`` through the real command line, on one data directory and sources file."""

    data_dir: Path
    sources_file: Path
    state_dir: Path  # XDG_STATE_HOME of the crawl processes
    env: dict[str, str]

    def command(self, *source_ids: str) -> list[str]:
        return [sys.executable, "-m", "osintel", "crawl", *source_ids, "--json",
                "--data-dir", str(self.data_dir), "--sources", str(self.sources_file)]

    def run(self, *source_ids: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*source_ids), env=self.env, cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=timeout, check=False)

    def start(self, *source_ids: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*source_ids), env=self.env, cwd=REPO_ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def runs(self) -> list[dict[str, Any]]:
        """Every crawl run recorded in the store, oldest first."""
        with self.store() as store:
            return sorted(store.runs(limit=1000), key=lambda r: r["id"])

    def store(self) -> ControlStore:
        return ControlStore(load_settings(env={}, overrides={"data_dir": str(self.data_dir)}).store_path)


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[..., Cli]:
    """``make_cli(site, [source, ...], **env)``: a :class:`Cli` whose sources allow-list ``site``.

    ``env`` adds environment variables (``OSINTEL_CRAWL_MAX_PAGES="10"``) over :data:`CLI_ENV`.
    """
    def make(site: Server, sources: list[dict[str, Any]], **env: str) -> Cli:
        data_dir, state_dir = tmp_path / "data", tmp_path / "state"
        state_dir.mkdir(exist_ok=True)
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(yaml.safe_dump({"allow_private_hosts": [site.host_port], "sources": sources}))
        full = {**os.environ, **CLI_ENV, **env, "XDG_STATE_HOME": str(state_dir),
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
        return Cli(data_dir, sources_file, state_dir, full)

    return make


def crawl_rows(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    """``osintel crawl --json`` output by source id."""
    return {row["source"]: row for row in json.loads(proc.stdout)}


def crawl_children(parent: int) -> list[int]:
    """PIDs of ``parent``'s children running ``spiders.child`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spiders.child" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
