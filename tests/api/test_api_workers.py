"""``--api-workers N``: several real API processes on one port sharing the store, the index and
the rate limits; a killed worker is replaced, and one that keeps dying stops the service loudly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from indexer import open_index
from osintel import apikeys
from osintel.errors import ApiWorkerError
from osintel.records import Document, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore
from search_api.workers import ApiWorkers

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _docs() -> list[Document]:
    source = SourceRef(id="s1", name="Source 1", kind="feed")
    return [Document(id=f"d{i}", url=f"http://example.test/{i}", canonical_url=f"http://example.test/{i}",
                     source=source, title=f"Report {i}", text=f"cocaine shipment number {i} seized at the port")
            for i in range(6)]


def _data_dir(tmp_path: Path, **overrides: object) -> tuple[Settings, dict[str, str]]:
    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path / "data"), **overrides})
    docs = _docs()
    with ControlStore(settings.store_path) as store:
        for doc in docs:
            store.add_collected(doc, content_sha256=doc.id)
        store.save_documents(docs)
        keys = {name: apikeys.create_key(store, role="analyst", name=name)[1] for name in ("a", "b")}
        keys["supervisor"] = apikeys.create_key(store, role="supervisor", name="sup")[1]
    index = open_index(settings)
    index.upsert(docs)
    index.close()
    return settings, keys


def _wait_up(base: str, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc is None or proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API did not come up")


class _Lines:
    """The server's stderr, collected by a thread, waited on line by line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text: str, *, after: int = 0, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                left = deadline - time.monotonic()
                assert left > 0, f"no log line with {text!r}:\n{''.join(self.lines[-30:])}"
                self._cond.wait(left)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], _Lines, str, dict[str, str]]]:
    settings, keys = _data_dir(tmp_path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSINTEL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "osintel", "serve", "--data-dir", str(settings.data_dir), "--port", str(port),
         "--api-workers", "2"], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = _Lines(proc)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc)
        yield proc, lines, base, keys
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def _worker_pid(lines: _Lines, number: int, *, after: int = 0) -> int:
    line = lines.wait_for(f"api worker {number} started (pid ", after=after)
    return int(line.split("(pid ")[1].split(")")[0])


def test_api_workers_through_the_cli_serve_searches_and_a_killed_worker_is_replaced(
        served: tuple[subprocess.Popen[str], _Lines, str, dict[str, str]]) -> None:
    proc, lines, base, keys = served
    headers = {"X-API-Key": keys["a"]}
    pids = [_worker_pid(lines, 0), _worker_pid(lines, 1)]
    assert len(set(pids)) == 2 and proc.pid not in pids
    response = httpx.get(f"{base}/api/search", params={"q": "cocaine", "collapse": "false"}, headers=headers)
    assert response.status_code == 200 and response.json()["total"] == 6
    mark = len(lines.lines)
    os.kill(pids[0], signal.SIGKILL)
    lines.wait_for(f"api worker 0 (pid {pids[0]}) died with exit code -9; restarting it", after=mark)
    new_pid = _worker_pid(lines, 0, after=mark)
    assert new_pid not in pids
    seen = set()
    for _ in range(40):  # separate connections: the survivor and the replacement both answer
        with httpx.Client(headers=headers) as client:
            response = client.get(f"{base}/api/search", params={"q": "shipment"})
            assert response.status_code == 200 and response.json()["total"] == 6
            seen.add(response.headers["X-API-Worker"])
        if seen == {"0", "1"}:
            break
    assert proc.poll() is None and seen == {"0", "1"}


def test_the_rate_limit_holds_across_two_api_worker_processes(tmp_path: Path) -> None:
    # burst 6, refilled once an hour: a key gets 6 requests in all, whichever process answers.
    settings, keys = _data_dir(tmp_path, **{"api.rate_limit_burst": 6, "api.rate_limit_per_second": 1 / 3600,
                                            "api.workers": 2})
    pool = ApiWorkers(settings, workers=2, host="127.0.0.1", port=0)
    pool.start()
    clients: dict[str, httpx.Client] = {}
    spare: list[httpx.Client] = []
    try:
        base = f"http://127.0.0.1:{pool.port}"
        _wait_up(base)
        for _ in range(60):  # one keep-alive connection to each process, found with key "a"
            client = httpx.Client(base_url=base, headers={"X-API-Key": keys["a"]})
            worker = client.get("/api/search", params={"q": "port"}).headers["X-API-Worker"]
            (spare.append(client) if worker in clients else clients.__setitem__(worker, client))
            if len(clients) == 2:
                break
        assert set(clients) == {"0", "1"}
        answers = [clients[str(n % 2)].get("/api/search", params={"q": "port"}, headers={"X-API-Key": keys["b"]})
                   for n in range(12)]
        codes = [(a.headers["X-API-Worker"], a.status_code) for a in answers]
        assert [c for _, c in codes] == [200] * 6 + [429] * 6, codes  # in-process limits would allow 12
        assert {w for w, c in codes if c == 200} == {"0", "1"}
        assert int(answers[-1].headers["Retry-After"]) > 60
    finally:
        for client in [*clients.values(), *spare]:
            client.close()
        pool.stop()


def test_a_worker_that_keeps_dying_stops_the_pool_with_an_error(tmp_path: Path) -> None:
    settings, _ = _data_dir(tmp_path)
    pool = ApiWorkers(settings, workers=2, host="127.0.0.1", port=0, restart_limit=1)
    pool.start()
    try:
        first = pool.pids[0]
        assert first is not None
        os.kill(first, signal.SIGKILL)
        while pool.check() == 0:  # noticed and replaced (restart 1 of 1 allowed)
            time.sleep(0.1)
        second = pool.pids[0]
        assert second is not None and second != first
        os.kill(second, signal.SIGKILL)
        with pytest.raises(ApiWorkerError, match="giving up"):
            while True:
                pool.check()
                time.sleep(0.1)
        assert all(not _alive(pid) for pid in pool.pids if pid is not None)  # the survivor was stopped too
    finally:
        pool.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_run_with_api_workers_serves_and_a_regrade_reaches_the_index_through_the_enrichment_worker(
        tmp_path: Path) -> None:
    settings, keys = _data_dir(tmp_path)
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSINTEL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "osintel", "run", "--data-dir", str(settings.data_dir), "--port", str(port),
         "--sources", str(sources), "--api-workers", "2", "--exit-after", "600"], cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "OSINTEL_WORKER_POLL_SECONDS": "0.5"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = _Lines(proc)
    base = f"http://127.0.0.1:{port}"
    sup = {"X-API-Key": keys["supervisor"]}

    def search() -> dict[str, str | None]:
        response = httpx.get(f"{base}/api/search", params={"q": "cocaine", "collapse": "false"}, headers=sup)
        assert response.status_code == 200
        return {hit["id"]: hit["grading"] for hit in response.json()["hits"]}

    def wait(predicate: object, what: str) -> None:
        deadline = time.monotonic() + 300
        while not predicate():  # type: ignore[operator]
            assert proc.poll() is None, "".join(lines.lines[-30:])
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.3)

    try:
        _wait_up(base, proc)
        wait(lambda: httpx.get(f"{base}/health").json()["outbox"]["pending"] == 0, "the first drain")
        assert len(search()) == 6
        response = httpx.post(f"{base}/api/documents/d3/grading", headers=sup,
                              json={"grading": "1AP", "reason": "confirmed by a second source"})
        assert response.status_code == 200, response.text  # not 503: the API processes hold no writer
        wait(lambda: search().get("d3") == "1AP", "the regrade to reach the index")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0


def test_api_workers_exit_when_their_supervisor_is_killed(
        served: tuple[subprocess.Popen[str], _Lines, str, dict[str, str]]) -> None:
    proc, lines, _, _ = served
    pids = [_worker_pid(lines, 0), _worker_pid(lines, 1)]
    proc.kill()  # kill -9: no chance to stop them itself
    proc.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in pids):  # they notice the parent is gone (checked every second)
        assert time.monotonic() < deadline, "API workers outlived their supervisor"
        time.sleep(0.2)
