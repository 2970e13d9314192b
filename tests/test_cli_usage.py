"""The command line as a new user meets it (issue 12): paths, one-line errors, the oversight record.

Every test runs the real ``osintel`` in a subprocess, from a working directory outside the
repository, the way a user types it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import osintel
from demo import DemoSite, demo_sources_config
from osintel.settings import CONFIG_DIR, load_settings

#: The directory this test imported the packages from (a checkout, a worktree).
REPO = Path(osintel.__file__).resolve().parent.parent
OSINTEL = [sys.executable, "-m", "osintel"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSINTEL_")}
    # The child imports osintel from wherever this test imported it (a checkout, a worktree).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return {**env, **extra}


def _run(args: list[str], cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(OSINTEL + args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env(**env))


def _repo_snapshot() -> set[str]:
    return {p.name for p in REPO.iterdir()}


# --- 1. relative paths are the caller's -----------------------------------------------------------

def test_relative_data_dir_and_sources_resolve_against_the_callers_directory(tmp_path: Path) -> None:
    before = _repo_snapshot()
    work = tmp_path / "analyst"
    work.mkdir()
    with DemoSite(port=0) as site:
        config = demo_sources_config(site.base_url)
        config["sources"] = [s for s in config["sources"] if s["id"] == "demo-courts"]
        (work / "sources.yaml").write_text(yaml.safe_dump(config))
        done = _run(["crawl", "demo-courts", "--sources", "./sources.yaml", "--data-dir", "d3", "--json"], work)
    assert done.returncode == 0, done.stderr[-2000:]
    (row,) = json.loads(done.stdout)
    assert row["status"] == "ok" and row["items/new"] > 0
    assert (work / "d3" / "osintel.sqlite3").is_file()  # the store is where the user said
    assert list((work / "d3" / "warc").glob("*.warc.gz"))  # and so is the evidence
    assert _repo_snapshot() == before  # nothing written into the source tree
    # The default ./data is the caller's ./data too.
    stats = _run(["stats", "--json"], work, OSINTEL_DATA_DIR="d3")
    assert stats.returncode == 0 and json.loads(stats.stdout)["documents"] == row["items/new"]


def test_a_missing_sources_file_is_an_error_not_the_bundled_one(tmp_path: Path) -> None:
    done = _run(["crawl", "--all", "--sources", "./sources.yaml", "--data-dir", "d"], tmp_path)
    assert done.returncode == 2
    assert str(tmp_path / "sources.yaml") in done.stderr
    assert not (tmp_path / "d").exists()


def test_paths_in_a_config_file_are_relative_to_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "osintel.toml").write_text('data_dir = "store"\nsources_file = "my-sources.yaml"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(config_file="conf/osintel.toml", env={})
    assert settings.data_dir == conf / "store"
    assert settings.sources_file == conf / "my-sources.yaml"
    # Environment and command line: the caller's working directory.
    settings = load_settings(env={"OSINTEL_DATA_DIR": "here"}, overrides={"sources_file": "s.yaml"})
    assert settings.data_dir == tmp_path / "here" and settings.sources_file == tmp_path / "s.yaml"
    # The bundled defaults: ./data is the caller's, the taxonomies are the bundled ones.
    settings = load_settings(env={})
    assert settings.data_dir == tmp_path / "data"
    assert settings.methods_file == CONFIG_DIR / "methods.yaml"


# --- 11. one line, what failed and what to do ---------------------------------------------------

def test_reading_commands_never_create_a_data_dir(tmp_path: Path) -> None:
    listed = _run(["sources", "--json", "--data-dir", "typo"], tmp_path)  # the configuration, before any crawl
    assert listed.returncode == 0 and {row["last_run"] for row in json.loads(listed.stdout)} == {None}
    assert not (tmp_path / "typo").exists()
    for args in (["stats"], ["search", "x"], ["audit", "verify"], ["alerts", "list"],
                 ["retention", "hold", "deadbeef", "--reason", "r"], ["warc", "verify"]):
        done = _run([*args, "--data-dir", "typo"], tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(f"osintel: no data directory at {tmp_path / 'typo'}"), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "typo").exists(), args


def test_bad_input_is_one_line_without_a_class_name_or_traceback(tmp_path: Path) -> None:
    done = _run(["capture", "not-a-url", "--data-dir", "d"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "osintel: cannot capture 'not-a-url': not an http(s) URL; give the whole address, e.g. https://example.org/page"]
    assert _run(["keys", "create", "--role", "analyst", "--name", "a", "--data-dir", "d"], tmp_path).returncode == 0
    done = _run(["retention", "hold", "deadbeef", "--reason", "r", "--data-dir", "d"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "osintel: no document with id 'deadbeef'"


def test_an_unreachable_cluster_is_one_line_and_verbose_shows_the_details(tmp_path: Path) -> None:
    assert _run(["keys", "create", "--role", "analyst", "--name", "a", "--data-dir", "d"], tmp_path).returncode == 0
    cluster = "http://127.0.0.1:9"  # the discard port: refused
    for args in (["search", "cocaine"], ["reindex", "--to", "elasticsearch"]):
        done = _run([*args, "--data-dir", "d"], tmp_path, OSINTEL_INDEX="elasticsearch", OSINTEL_ES_URL=cluster)
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("osintel: ") and "http://127.0.0.1:9 (connection refused)" in lines[0]
        assert "OSINTEL_ES_URL" in lines[0]  # what to do
    verbose = _run(["reindex", "--to", "elasticsearch", "--data-dir", "d", "--verbose"], tmp_path,
                   OSINTEL_INDEX="elasticsearch", OSINTEL_ES_URL=cluster)
    assert "Traceback" in verbose.stderr and verbose.returncode == 1


def test_a_refused_capture_says_why_and_what_to_do_without_crawler_logs(tmp_path: Path) -> None:
    with DemoSite(port=0) as site:
        done = _run(["capture", f"{site.base_url}/", "--data-dir", "d"], tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    refusal = [ln for ln in lines if ln.startswith("osintel: could not capture")]
    assert len(refusal) == 1 and "SSRF guard" in refusal[0] and "allow_private_hosts" in refusal[0]
    assert not any("scrapy" in ln.lower() for ln in lines), lines  # no crawler log at the default level
    assert len(lines) <= 4, lines


# --- 6. every consultation is in the oversight record -------------------------------------------

def test_cli_searches_are_in_the_oversight_record_with_who_and_why(tmp_path: Path) -> None:
    assert _run(["keys", "create", "--role", "analyst", "--name", "a", "--data-dir", "d"], tmp_path).returncode == 0
    done = _run(["search", "cocaine AND method:drugs.*", "--purpose", "op HARBOUR tasking 12",
                 "--data-dir", "d"], tmp_path)
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(tmp_path / "d" / "osintel.sqlite3")
    try:
        rows = db.execute("SELECT actor, action, purpose, detail FROM audit_log WHERE action = 'consultation'").fetchall()
    finally:
        db.close()
    assert len(rows) == 1
    actor, _, purpose, detail = rows[0]
    assert actor.startswith("cli:") and purpose == "op HARBOUR tasking 12"
    detail = json.loads(detail)
    assert detail["kind"] == "search" and detail["interface"] == "cli"
    assert detail["q"] == "cocaine AND method:drugs.*" and detail["returned"] == []
    assert _run(["audit", "verify", "--data-dir", "d"], tmp_path).returncode == 0
