"""``osintel reindex --to embedded``: rebuilds the index from the store, resumes after a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.tantivy_index import TantivyIndex
from osintel.service import procs
from osintel.service.reindex import reindex
from osintel.records import Document, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore

OWNER = procs.current().token  # the process leases, acks and releases in its name

SRC = SourceRef(id="s1", name="S1")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path), "index.writer_heap_bytes": 20_000_000})
    with ControlStore(settings.store_path) as store:
        docs = [Document(url=f"https://e.com/{i}", source=SRC, text=f"heroin shipment {i}") for i in range(25)]
        for doc in docs:
            store.add_collected(doc, content_sha256=doc.id)
        items = store.lease(25, owner=OWNER)
        # 20 enriched (acked), 5 still waiting in the outbox: only enriched ones are indexed.
        store.ack([i.seq for i in items[:20]], [i.document.model_copy(update={"language": "en"}) for i in items[:20]],
                  owner=OWNER)
        store.release([i.seq for i in items[20:]], "not yet", owner=OWNER)
    return settings


class Crash(Exception):
    pass


def test_reindex_fills_the_embedded_index_with_every_enriched_document(settings: Settings) -> None:
    lines: list[str] = []
    summary = reindex(settings, to="embedded", batch_size=8, progress=lines.append)
    assert summary["documents"] == 20 and summary["written"] == 20 and summary["rejected"] == 0
    assert lines[-1].startswith("reindex: 20/20 (100%)")
    with TantivyIndex(settings.index_dir) as index:
        assert index.count() == 20
        assert all(h.document.language == "en" for h in index.search("heroin", limit=50).hits)


def test_interrupted_reindex_resumes_after_its_checkpoint(settings: Settings) -> None:
    def crash_after_first_batch(message: str) -> None:
        if message.startswith("reindex: 8/"):
            raise Crash

    with pytest.raises(Crash):
        reindex(settings, to="embedded", batch_size=8, progress=crash_after_first_batch)
    lines: list[str] = []
    summary = reindex(settings, to="embedded", batch_size=8, progress=lines.append)
    assert lines[0].startswith("reindex: resuming") and "after 8 documents" in lines[0]
    assert summary["written"] == 12  # only what the first run had not done
    with TantivyIndex(settings.index_dir) as index:
        assert index.count() == 20
    # Finished: the checkpoint is cleared, so the next run starts from the beginning again.
    assert reindex(settings, to="embedded", batch_size=8)["written"] == 20


def test_reindex_command_prints_json_on_stdout_and_progress_on_stderr(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "osintel", "reindex", "--to", "embedded", "--json", "--data-dir", str(settings.data_dir)],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=120,
        env={"PATH": "/usr/bin:/bin", "OSINTEL_INDEX_WRITER_HEAP_BYTES": "20000000"},
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["written"] == 20 and summary["target"] == "embedded"
    assert "reindex: 20/20 (100%)" in done.stderr
