"""Delivery targets are checked when a rule is created, by the check delivery itself makes.

Through the real CLI (``osintel alerts add`` in a child process): a refused target is one line
on stderr and exit 2, and nothing is stored. Then the same targets, stored behind the CLI's back,
are dead-lettered at delivery with the very reason creation gave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.tantivy_index import TantivyIndex
from osintel.service.pipeline import drain_outbox
from osintel.store import ControlStore
from alerts.rules import build_rule, save_rule
from alerts.service import AlertService

from .conftest import StandInNLP, collect, doc, make_settings

OSINTEL = [sys.executable, "-m", "osintel"]

REFUSED = [
    pytest.param("--webhook", "http://127.0.0.1:9/hook", "internal address 127.0.0.1", id="loopback"),
    pytest.param("--webhook", "http://localhost:9/hook", "internal address", id="localhost"),
    pytest.param("--webhook", "http://10.20.30.40/hook", "internal address 10.20.30.40", id="private"),
    pytest.param("--webhook", "http://[::ffff:127.0.0.1]/hook", "internal address", id="ipv4-mapped-loopback"),
    pytest.param("--webhook", "ftp://example.com/hook", "http:// or https://", id="scheme"),
    pytest.param("--webhook", "http://example.com:99999/hook", "invalid port", id="port"),
    pytest.param("--webhook", "http://exa_mple..com/hook", "no valid host name", id="host"),
    pytest.param("--email", "a,b@example.com", "is not an e-mail address", id="email-list"),
    pytest.param("--email", "analyst@example", "is not an e-mail address", id="email-no-tld"),
    pytest.param("--email", "Ann <ann@example.org>", "is not an e-mail address", id="email-display-name"),
    pytest.param("--file", "../escape.jsonl", "plain file name", id="file-dotdot"),
    pytest.param("--file", "sub/dir.jsonl", "plain file name", id="file-separator"),
    pytest.param("--file", "leak.jsonl", "escapes", id="file-symlink-out"),
]


def _config(tmp_path: Path, allowed: str = "") -> Path:
    data_dir = tmp_path / "data"
    # A symbolic link inside the alerts directory that points out of it.
    (data_dir / "alerts").mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.jsonl"
    link = data_dir / "alerts" / "leak.jsonl"
    if not link.is_symlink():
        link.symlink_to(outside)
    config = tmp_path / "osintel.toml"
    config.write_text(f'data_dir = "{data_dir}"\n[alerts]\nwatchlists_file = ""\nwebhook_secret = "k"\n'
                      f'webhook_allowed_hosts = "{allowed}"\n')
    return config


def _osintel(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OSINTEL, *args, "--config", str(config), "--log-level", "WARNING"],
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)


@pytest.mark.parametrize(("option", "target", "reason"), REFUSED)
def test_alerts_add_refuses_a_target_delivery_would_refuse_in_one_line_with_exit_2(
        tmp_path: Path, option: str, target: str, reason: str) -> None:
    config = _config(tmp_path)
    done = _osintel(config, "alerts", "add", "watch", "--query", '"county lines"', option, target)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("osintel: alert rule refused:") and reason in lines[0], lines
    listed = _osintel(config, "alerts", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []  # nothing was stored


def test_alerts_add_accepts_an_allow_listed_receiver_a_mailbox_and_a_file_but_not_a_reserved_address(tmp_path: Path, receiver) -> None:
    config = _config(tmp_path, allowed=receiver.url.split("/")[2])
    for option, target in (("--webhook", receiver.url), ("--email", "duty.analyst@police.example.org"),
                           ("--file", "watch.jsonl"), ("--webhook", "https://192.0.2.1/not-checked-by-dns")):
        done = _osintel(config, "alerts", "add", "watch", "--query", "cocaine", option, target)
        if target.startswith("https://192.0.2.1"):
            # TEST-NET-1 is reserved, so it is refused like any other non-public address.
            assert done.returncode == 2 and "internal address 192.0.2.1" in done.stderr
        else:
            assert done.returncode == 0, done.stderr
    listed = _osintel(config, "alerts", "list", "--json")
    assert sorted(r["delivery"]["sink"] for r in json.loads(listed.stdout)) == ["email", "file", "webhook"]


@pytest.mark.parametrize(("option", "target", "reason"), [p for p in REFUSED if p.id in {
    "loopback", "private", "ipv4-mapped-loopback", "port", "email-list", "file-symlink-out"}])
def test_a_target_stored_without_the_check_is_dead_lettered_for_the_same_reason(
        tmp_path: Path, index: TantivyIndex, option: str, target: str, reason: str) -> None:
    config = _config(tmp_path)
    refused = _osintel(config, "alerts", "add", "watch", "--query", '"county lines"', option, target)
    creation_reason = refused.stderr.strip().split("delivery.target: ", 1)[1]
    settings = make_settings(tmp_path)
    with ControlStore(settings.store_path) as store:
        service = AlertService(settings, store, index)
        sink = option.removeprefix("--")
        save_rule(service.alerts, build_rule({"name": "watch", "query": '"county lines"',
                                              "delivery": {"sink": sink, "target": target}}))
        collect(store, [doc(1, "a county lines gang moved drugs")])
        drain_outbox(store, StandInNLP(), index, batch_size=2, after_batch=service.after_batch)
        service.dispatch()
        dead = service.alerts.messages(state="dead")
        service.dispatcher.close()
    assert len(dead) == 1 and dead[0].last_error == creation_reason
    assert not (tmp_path / "outside.jsonl").exists()  # the symbolic link was not followed
