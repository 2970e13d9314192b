"""Alert-stage fixtures: a real HTTP receiver and a real SMTP server on 127.0.0.1, a data
directory with a control store and a tantivy index, and a stand-in enricher (the NLP stage is
not under test here: the alert stage's contract is)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from indexer.tantivy_index import TantivyIndex
from osintel.records import Document, Location, MethodHit, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore

SECRET = "test-signing-key"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: records every POST; answers ``statuses`` in turn (then 200)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    always: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received({k: v for k, v in self.headers.items()}, body))
                status = state.always or (state.statuses.pop(0) if state.statuses else 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            state.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[int, _Mailbox]]:
    import socket

    with socket.socket() as probe:  # aiosmtpd connects to its own port to check it is up: no port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


def make_settings(tmp_path: Path, receiver_url: str = "", smtp_port: int = 25, **alerts: Any) -> Settings:
    host = receiver_url.split("/")[2] if receiver_url else ""
    overrides: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "alerts.watchlists_file": "",
        "alerts.webhook_secret": SECRET,
        "alerts.webhook_allowed_hosts": host,
        "alerts.smtp_port": smtp_port,
        "alerts.retry_backoff_seconds": 0.01,
        "alerts.webhook_timeout_seconds": 5.0,
    }
    overrides.update({f"alerts.{k}": v for k, v in alerts.items()})
    return load_settings(env={}, overrides=overrides)


SRC = SourceRef(id="news", name="News")


def doc(n: int | str, text: str, *, published: datetime | None = None, story: str | None = None,
        methods: Sequence[str] = (), countries: Sequence[str] = (), title: str | None = None) -> Document:
    """A collected document; ``methods``/``countries``/``story`` are what the stand-in NLP adds."""
    extra = {"methods": list(methods), "countries": list(countries), "story": story}
    return Document(url=f"https://news.example/{n}", source=SRC, title=title or f"story {n}", text=text,
                    published_at=published or datetime.now(timezone.utc), extra=extra)


class StandInNLP:
    """Sets language, methods, places and the near-duplicate story the way the NLP stage would."""

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        return [enriched(d) for d in docs]


def enriched(d: Document) -> Document:
    methods = [MethodHit(id=m, label=m, category=m.split(".")[0], confidence=0.9,
                         evidence=d.text[:200], matched_by="pattern") for m in d.extra.get("methods", [])]
    places = [Location(name=c, country_code=c, mention=c) for c in d.extra.get("countries", [])]
    story = d.extra.get("story")
    return d.model_copy(update={"language": "en", "methods": methods, "locations": places,
                                "cluster_id": story or d.id,
                                "duplicate_of": story if story and story != d.id else None})


def collect(store: ControlStore, docs: Sequence[Document]) -> None:
    for d in docs:
        assert store.add_collected(d, content_sha256=d.id + d.text)


@pytest.fixture()
def index(tmp_path: Path) -> Iterator[TantivyIndex]:
    idx = TantivyIndex(tmp_path / "data" / "index")
    yield idx
    idx.close()
