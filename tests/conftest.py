"""Session-wide test set-up: nothing may reach a model hub or leave loopback."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: The PostgreSQL server the store contract tests use (Debian's postgresql, trust auth on loopback);
#: ``make test`` sets OSINTEL_TEST_PG_SERVER when it starts a throwaway one (tools/pg_test_server.sh).
PG_SERVER = os.environ.get("OSINTEL_TEST_PG_SERVER") or "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database with a random name for this test run, dropped at its end.

    A server that is not there fails the tests that need it (never a skip): the PostgreSQL store
    is part of what this suite proves.
    """
    import psycopg

    name = f"osintel_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.fail(f"the PostgreSQL store tests need a server at {PG_SERVER} (user postgres, trust auth on"
                    f" loopback; `make test` starts one when none answers: tools/pg_test_server.sh): {exc}",
                    pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{PG_SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A store URL whose tables live in a schema of their own for one test (dropped after it)."""
    import psycopg

    schema = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{pg_database}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    """``[store] url`` for each engine the store contract runs against: "" (SQLite), then PostgreSQL."""
    return "" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))
