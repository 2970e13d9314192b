"""Bulk partial failures against a real loopback HTTP server answering ``_bulk`` item by item.

The server speaks just enough of the Elasticsearch bulk API to return a scripted status per
document id (201, 409, 429, 400), so the client, ``helpers.streaming_bulk`` and our retry and
classification code all run for real.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from indexer.elastic import ElasticIndex, ElasticOptions
from osintel.service import deadletter
from osintel.errors import IndexBackendError, PartialIndexError
from osintel.service.pipeline import drain_outbox
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

SRC = SourceRef(id="s1", name="S1")
_ERRORS = {
    400: {"type": "mapper_parsing_exception", "reason": "failed to parse field [published] of type [date]"},
    409: {"type": "version_conflict_engine_exception", "reason": "current version is higher"},
    429: {"type": "es_rejected_execution_exception", "reason": "rejected execution: queue capacity 200"},
}


class BulkServer:
    """``POST /_bulk`` answered per item from ``script[id]`` (a list consumed per attempt; the
    last status repeats; default 201). Records every request's ids and every accepted id."""

    def __init__(self) -> None:
        self.script: dict[str, list[int]] = {}
        self.requests: list[list[str]] = []
        self.actions: list[dict[str, Any]] = []
        self.accepted: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                items, ids = [], []
                i = 0
                while i < len(lines):
                    op, meta = next(iter(lines[i].items()))
                    outer.actions.append(meta)
                    i += 1 if op == "delete" else 2
                    doc_id = meta["_id"]
                    ids.append(doc_id)
                    statuses = outer.script.setdefault(doc_id, [201])
                    status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                    item: dict[str, Any] = {"_index": "t-documents-v1", "_id": doc_id, "status": status}
                    if status in _ERRORS:
                        item["error"] = _ERRORS[status]
                    else:
                        outer.accepted.append(doc_id)
                        item["result"] = "created"
                    if status == 409:
                        outer.accepted.append(doc_id)
                    items.append({op: item})
                outer.requests.append(ids)
                payload = json.dumps({"took": 1, "errors": True, "items": items}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_PUT = do_POST  # the client sends bulk requests as PUT

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[BulkServer]:
    srv = BulkServer()
    yield srv
    srv.close()


@pytest.fixture()
def index(server: BulkServer) -> Iterator[ElasticIndex]:
    options = ElasticOptions(urls=(server.url,), index_prefix="t", bulk_max_retries=2, bulk_initial_backoff=0.01)
    idx = ElasticIndex(options, create=False)
    yield idx
    idx.close()


def _docs(n: int) -> list[Document]:
    return [Document(url=f"https://e.com/{i}", source=SRC, text=f"cocaine seizure {i}") for i in range(n)]


def _script(server: BulkServer, docs: Sequence[Document]) -> dict[str, str]:
    """0: 201, 1: 409, 2: 429 then 201, 3: 400, 4: 429 for good."""
    roles = ["created", "conflict", "transient", "rejected", "throttled"]
    for doc, statuses in zip(docs, [[201], [409], [429, 201], [400], [429]]):
        server.script[doc.id] = list(statuses)
    return {role: doc.id for role, doc in zip(roles, docs)}


def test_mixed_bulk_response_acks_201_and_409_rejects_400_and_hands_back_persistent_429(
    server: BulkServer, index: ElasticIndex
) -> None:
    docs = _docs(5)
    ids = _script(server, docs)
    with pytest.raises(PartialIndexError) as caught:
        index.upsert(docs)
    assert set(caught.value.rejected) == {ids["rejected"]}
    assert "mapper_parsing_exception" in caught.value.rejected[ids["rejected"]]
    assert set(caught.value.retryable) == {ids["throttled"]}
    assert "429" in caught.value.retryable[ids["throttled"]]
    # The first request carried everything; only the 429 items were sent again, with backoff.
    assert sorted(server.requests[0]) == sorted(d.id for d in docs)
    assert all(set(r) <= {ids["transient"], ids["throttled"]} for r in server.requests[1:])
    assert ids["transient"] in server.accepted
    # Deterministic ids (the document ids) and versioned writes: a retry can never duplicate.
    assert {a["_id"] for a in server.actions} == {d.id for d in docs}
    assert all(a["version_type"] == "external_gte" for a in server.actions)


def test_fully_acknowledged_bulk_returns_normally(server: BulkServer, index: ElasticIndex) -> None:
    docs = _docs(3)
    index.upsert(docs)
    assert sorted(server.accepted) == sorted(d.id for d in docs)
    assert len(server.requests) == 1


def test_drain_acks_only_acknowledged_documents_and_dead_letters_rejected_ones(
    server: BulkServer, index: ElasticIndex, tmp_path: Path
) -> None:
    class Tagger:
        def enrich(self, docs: Sequence[Document]) -> list[Document]:
            return [d.model_copy(update={"language": "en", "enrichment": {"t": "1"}}) for d in docs]

    with ControlStore(tmp_path / "c.sqlite3") as store:
        docs = _docs(5)
        for doc in docs:
            store.add_collected(doc, content_sha256=doc.id)
        ids = _script(server, docs)

        with pytest.raises(PartialIndexError):
            drain_outbox(store, Tagger(), index, batch_size=10)
        assert store.outbox_counts() == {"pending": 1, "done": 3, "failed": 1}
        (letter,) = deadletter.list_letters(store)
        assert letter.doc_id == ids["rejected"] and letter.stage == "index"
        assert "mapper_parsing_exception" in letter.reason
        # Acknowledged documents were stored enriched; the throttled one is pending, no attempt lost.
        created = store.get_document(ids["created"])
        assert created is not None and created.language == "en"
        row = store.read("SELECT attempts, last_error FROM outbox o WHERE doc_id = ?", (ids["throttled"],))[0]
        assert row["attempts"] == 0 and "429" in row["last_error"]

        server.script[ids["throttled"]] = [201]
        report = drain_outbox(store, Tagger(), index, batch_size=10)
        assert report.indexed == 1
        assert store.outbox_counts() == {"pending": 0, "done": 4, "failed": 1}
        # Every acknowledged document was accepted by the engine exactly once.
        assert sorted(server.accepted) == sorted(ids[r] for r in ("created", "conflict", "transient", "throttled"))


def test_unreachable_cluster_is_an_index_backend_error_not_a_partial_one(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = ElasticOptions(urls=(f"http://127.0.0.1:{port}",), bulk_max_retries=1, bulk_initial_backoff=0.01)
    with ElasticIndex(options, create=False) as idx:
        with pytest.raises(IndexBackendError, match="unreachable") as caught:
            idx.upsert(_docs(2))
    assert not isinstance(caught.value, PartialIndexError)
