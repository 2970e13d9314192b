"""The oversight record: hash-chained, append-only even against raw SQL, verifiable, exportable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from osintel.service import procs
from osintel import audit
from osintel.cli import run as main
from osintel.errors import StoreError
from osintel.store import ControlStore


def _fill(store: ControlStore, n: int = 5) -> None:
    for i in range(n):
        audit.log_event(store, actor="key:t", action="consultation", detail={"kind": "search", "q": f"q{i}"},
                        purpose="test")


def test_events_are_chained_and_verify(store: ControlStore) -> None:
    _fill(store)
    events = audit.events(store)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert audit.verify(store).ok


def test_the_database_refuses_update_and_delete_of_the_record(store: ControlStore) -> None:
    _fill(store, 2)
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as tx:
            tx.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    with pytest.raises(StoreError, match="append-only"):
        with store.transaction() as tx:
            tx.execute("DELETE FROM audit_log WHERE seq = 2")
    assert audit.verify(store).ok and len(audit.events(store)) == 2


def test_record_needs_the_changes_transaction(store: ControlStore) -> None:
    with store.transaction() as ended:
        pass
    with pytest.raises(StoreError, match="open write transaction"):
        audit.record(ended, actor="x", action="consultation", detail={})  # its transaction is over
    with pytest.raises(ValueError):
        audit.log_event(store, actor="x", action="gossip", detail={})


def test_an_event_rolls_back_with_the_change_it_records(store: ControlStore) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            audit.record(tx, actor="x", action="alteration", detail={"kind": "doomed"})
            raise RuntimeError("the change failed")
    assert audit.events(store) == []


def _tamper(path: Path, sql: str) -> None:
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.execute(sql)
    raw.commit()
    raw.close()


@pytest.mark.parametrize("sql, bad_seq", [
    ("UPDATE audit_log SET detail = '{\"kind\":\"search\",\"q\":\"innocent\"}' WHERE seq = 3", 3),
    ("UPDATE audit_log SET purpose = NULL WHERE seq = 4", 4),
    ("DELETE FROM audit_log WHERE seq = 2", 2),
])
def test_verify_detects_a_row_edited_behind_the_applications_back(
        settings: Any, store: ControlStore, sql: str, bad_seq: int, capsys: Any) -> None:
    _fill(store)
    _tamper(settings.store_path, sql)
    report = audit.verify(store)
    assert not report.ok and report.first_bad_seq == bad_seq
    assert main(["audit", "verify", "--data-dir", str(settings.data_dir), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_seq"] == bad_seq


def test_verify_detects_a_rewritten_chain_tail(settings: Any, store: ControlStore) -> None:
    # Editing a row and re-hashing it alone still breaks the link from the next row.
    _fill(store)
    events = audit.events(store)
    forged = audit._hash(3, events[2].at, "key:t", "consultation", '{"kind":"search","q":"innocent"}', "test",
                         events[2].prev_hash)
    _tamper(settings.store_path, "UPDATE audit_log SET detail = '{\"kind\":\"search\",\"q\":\"innocent\"}',"
                                 f" hash = '{forged}' WHERE seq = 3")
    report = audit.verify(store)
    assert not report.ok and report.first_bad_seq == 4


def test_cli_verify_and_export_which_is_itself_logged(settings: Any, store: ControlStore, tmp_path: Path,
                                                      capsys: Any) -> None:
    _fill(store, 3)
    assert main(["audit", "verify", "--data-dir", str(settings.data_dir)]) == 0
    out = tmp_path / "inspector" / "audit.jsonl"
    assert main(["audit", "export", "--output", str(out), "--purpose", "ICO inspection",
                 "--data-dir", str(settings.data_dir)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and rows[-1]["action"] == "disclosure"
    assert rows[-1]["detail"]["kind"] == "audit-export" and rows[-1]["purpose"] == "ICO inspection"


def test_crawl_runs_are_collection_events(store: ControlStore) -> None:
    run_id = store.start_run("news", owner=procs.current().to_dict())
    store.finish_run(run_id, status="ok", stats={"items_new": 3, "note": "x"})
    start, finish = audit.events(store)
    assert start.action == finish.action == "collection"
    assert start.detail == {"kind": "crawl.start", "run_id": run_id, "source": "news"}
    assert finish.detail["status"] == "ok" and finish.detail["counts"] == {"items_new": 3}


def test_key_administration_is_recorded(settings: Any, store: ControlStore, capsys: Any) -> None:
    assert main(["keys", "create", "--role", "auditor", "--name", "inspector",
                 "--data-dir", str(settings.data_dir), "--json"]) == 0
    key_id = json.loads(capsys.readouterr().out)["key_id"]
    assert main(["keys", "revoke", key_id, "--data-dir", str(settings.data_dir)]) == 0
    kinds = [e.detail["kind"] for e in audit.events(store)]
    assert kinds == ["key.create", "key.revoke"]


def test_auditor_reads_the_record_through_the_api(client: TestClient, as_role: Any, store: ControlStore) -> None:
    client.get("/api/search", params={"q": "cocaine"}, headers=as_role("analyst"))
    page = client.get("/api/audit", params={"action": "consultation"}, headers=as_role("auditor")).json()
    assert [e["detail"]["kind"] for e in page["events"]] == ["search"]
    assert client.get("/api/audit/verify", headers=as_role("auditor")).json()["ok"] is True
    assert client.get("/api/audit", headers=as_role("analyst")).status_code == 403
