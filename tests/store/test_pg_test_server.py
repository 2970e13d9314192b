"""``make test`` without a PostgreSQL server: tools/pg_test_server.sh starts a throwaway cluster,
names it to the tests (OSINTEL_TEST_PG_SERVER) and removes it afterwards.

Port 5432 answers on this machine, so the script is run against a free port, where nothing does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "pg_test_server.sh"

PROBE = """
import os, psycopg
with psycopg.connect(os.environ["OSINTEL_TEST_PG_SERVER"] + "/postgres") as conn:
    print(conn.execute("SHOW port").fetchone()[0])
    print(conn.execute("SHOW data_directory").fetchone()[0])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script(port: int, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSINTEL_TEST_PG_PORT": str(port)}
    env.pop("OSINTEL_TEST_PG_SERVER", None)
    return subprocess.run([str(SCRIPT), *command], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_with_no_server_on_the_port_the_script_starts_a_throwaway_cluster_and_removes_it_after() -> None:
    port = _free_port()
    out = _script(port, sys.executable, "-c", PROBE)
    assert out.returncode == 0, out.stderr[-3000:]
    shown_port, data_dir = out.stdout.split()
    assert shown_port == str(port)
    assert "throwaway PostgreSQL cluster" in out.stderr
    assert not Path(data_dir).exists()  # removed with its cluster
    with pytest.raises(psycopg.OperationalError):  # and stopped
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=3).close()


def test_the_script_exits_with_the_status_of_the_command_it_ran() -> None:
    assert _script(_free_port(), "sh", "-c", "exit 3").returncode == 3


NESTED = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
          "tests/store/test_postgres.py::test_a_new_rows_id_comes_back_from_insert"]


def test_the_store_tests_use_the_server_the_script_started() -> None:
    out = _script(_free_port(), *NESTED)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert "1 passed" in out.stdout


def test_the_store_tests_fail_naming_the_server_they_were_given_when_it_does_not_answer() -> None:
    port = _free_port()
    env = {**os.environ, "OSINTEL_TEST_PG_SERVER": f"postgresql://postgres@127.0.0.1:{port}"}
    out = subprocess.run(NESTED, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode != 0
    assert f"need a server at postgresql://postgres@127.0.0.1:{port}" in out.stdout
