"""A header-normalising HTTP proxy between the Elasticsearch 8/9 client and ``osmem-server``.

The official client sends ``application/vnd.elasticsearch+json; compatible-with=9`` media types,
which osmem-server (an in-memory OpenSearch-compatible engine) refuses (406 for such a
``Content-Type``, an empty ``text/plain`` 200 for such an ``Accept``), and it refuses any response
without ``X-Elastic-Product: Elasticsearch`` (osmem sends it; a real OpenSearch would not). This
proxy rewrites both on loopback (as :class:`indexer.es_compat.OpenSearchNode` does in-process) and
forwards everything else untouched. :meth:`EsProxy.stop` / :meth:`EsProxy.start` simulate a
cluster outage on the same port (open keep-alive connections are cut too).

Loaded by ``tests/indexer/conftest.py`` and ``bench/index.py`` by file path.
"""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from indexer.es_compat import plain_media_type as _plain

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: _plain(v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP and k.lower() != "host"
        }
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            self.send_response(response.status, response.reason)
            skip = _HOP_BY_HOP | {"content-length", "date", "server", "x-elastic-product"}
            for key, value in response.getheaders():
                if key.lower() not in skip:
                    self.send_header(key, value)
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward


class EsProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream_url``; stoppable and restartable on one port."""

    def __init__(self, upstream_url: str) -> None:
        host, _, port = upstream_url.split("://", 1)[-1].rstrip("/").partition(":")
        self.upstream = (host, int(port or 80))
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EsProxy:
        """Start listening (again, on the same port after :meth:`stop`)."""
        self._server = _Server(("127.0.0.1", self.port), self.upstream)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and cut every open connection: the cluster is now unreachable."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with server.lock:
            for conn in list(server.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
