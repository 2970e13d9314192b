"""SQLite's dialect rewritten for PostgreSQL: the one place the two engines' SQL differs.

Every owner writes its SQL once, as SQLite reads it (``?`` placeholders, ``INSERT OR IGNORE``,
``json_extract(body, '$.a.b')``, ``INTEGER PRIMARY KEY AUTOINCREMENT``); the PostgreSQL store passes
each statement through :func:`statement` (queries) or :func:`ddl` (migration steps) before running it.
Forking every query per engine would let the two drift apart; one translation keeps them one schema.

What is rewritten, and why it is enough:

* placeholders: ``?`` becomes ``%s`` and a literal ``%`` becomes ``%%`` (psycopg's format);
* ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` becomes an upsert on
  the table's primary key (read from the migrations), setting every other inserted column;
* ``json_extract(column, '$.a.b')`` becomes ``column::jsonb #>> '{a,b}'`` (text, as SQLite returns
  for strings; the bodies are JSON text in both engines);
* ``json_each(column, '$.list') AS x`` becomes ``jsonb_array_elements(column::jsonb -> 'list') AS
  x(value)`` (both yield no row for a missing list), ``json_array_length(column, '$.list')``
  ``jsonb_array_length(…)`` and ``json_group_array(…)`` ``json_agg(…)::text`` (NULL, not ``[]``,
  for no rows: callers read it with ``or "[]"``);
* SQLite's two-argument (scalar) ``MAX(a, b)``/``MIN(a, b)`` become ``GREATEST``/``LEAST``;
* DDL: ``INTEGER PRIMARY KEY AUTOINCREMENT`` becomes an identity column, ``INTEGER`` ``BIGINT``,
  ``BLOB`` ``BYTEA``, and SQLite's ``RAISE(ABORT, …)`` triggers a PL/pgSQL function and trigger;
* the new row's id (SQLite's ``lastrowid``) comes from ``RETURNING`` the table's identity column.

Datetimes are ISO-8601 text in both engines, so comparisons and ordering are the same. Only these
forms are rewritten: other uses of SQLite's JSON functions fail on PostgreSQL with the server's error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from osintel import schema

_STRING = re.compile(r"'(?:[^']|'')*'")
_JSON_EXTRACT = re.compile(r"json_extract\(\s*([\w.]+)\s*,\s*'\$((?:\.\w+)+)'\s*\)")
_JSON_EACH = re.compile(r"json_each\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)\s+AS\s+(\w+)", re.IGNORECASE)
_JSON_LENGTH = re.compile(r"json_array_length\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)")
_JSON_GROUP = re.compile(r"json_group_array\(((?:[^()]|\([^()]*(?:\([^()]*\))?[^()]*\))*)\)")
_SCALAR_MAX = re.compile(r"\b(MAX|MIN)\(([^(),]+),([^()]+)\)", re.IGNORECASE)
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$", re.DOTALL)
_TRIGGER = re.compile(r"CREATE TRIGGER IF NOT EXISTS (\w+) (BEFORE|AFTER) (UPDATE|DELETE|INSERT) ON (\w+)"
                      r" BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END$")


def _split_columns(body: str) -> list[str]:
    """The comma-separated parts of a CREATE TABLE body, commas inside parentheses kept."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Primary keys and identity columns of every table the migrations create."""
    keys: dict[str, tuple[str, ...]] = {}
    identity: dict[str, str] = {}
    for migration in schema.MIGRATIONS:
        for step in migration.steps:
            match = _CREATE_TABLE.match(step) if isinstance(step, str) else None
            if match is None:
                continue
            table, parts = match.group(1), _split_columns(match.group(2))
            for part in parts:
                if part.upper().startswith("PRIMARY KEY"):
                    keys[table] = tuple(c.strip() for c in part[part.index("(") + 1: part.rindex(")")].split(","))
                elif "PRIMARY KEY" in part.upper():
                    keys[table] = (part.split()[0],)
                    if "AUTOINCREMENT" in part.upper():
                        identity[table] = part.split()[0]
    return keys, identity


PRIMARY_KEYS, IDENTITY = _tables()


def _outside_strings(sql: str, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to the parts of ``sql`` outside string literals (``%`` doubled inside them)."""
    out, last = [], 0
    for match in _STRING.finditer(sql):
        out.append(rewrite(sql[last:match.start()]))
        out.append(match.group(0).replace("%", "%%"))
        last = match.end()
    out.append(rewrite(sql[last:]))
    return "".join(out)


def _json_path(match: re.Match[str]) -> str:
    path = match.group(2).strip(".").split(".")
    return f"({match.group(1)}::jsonb #>> '{{{','.join(path)}}}')"


def _greatest(match: re.Match[str]) -> str:
    name = "GREATEST" if match.group(1).upper() == "MAX" else "LEAST"
    return f"{name}({match.group(2)},{match.group(3)})"


def _conflict(kind: str, table: str, columns: str) -> str:
    if kind.upper() == "IGNORE":
        return " ON CONFLICT DO NOTHING"
    key = PRIMARY_KEYS[table]
    updates = [c.strip() for c in columns.split(",") if c.strip() not in key]
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)


@lru_cache(maxsize=1024)
def statement(sql: str) -> str:
    """A query or write in SQLite's dialect, as PostgreSQL (through psycopg) runs it."""
    sql = _JSON_EACH.sub(r"jsonb_array_elements(\1::jsonb -> '\2') AS \3(value)", sql)
    sql = _JSON_LENGTH.sub(r"jsonb_array_length(\1::jsonb -> '\2')", sql)
    sql = _JSON_GROUP.sub(r"json_agg(\1)::text", sql)
    sql = _JSON_EXTRACT.sub(_json_path, sql)
    sql = _SCALAR_MAX.sub(_greatest, sql)
    suffix = ""
    if match := _INSERT_OR.match(sql):
        suffix = _conflict(match.group(1), match.group(2), match.group(3))
        sql = sql[: match.start()] + f"INSERT INTO {match.group(2)}({match.group(3)})" + sql[match.end():]
    sql = _outside_strings(sql, lambda part: part.replace("%", "%%").replace("?", "%s"))
    return sql.rstrip().rstrip(";") + suffix


@lru_cache(maxsize=256)
def returning(sql: str) -> str:
    """``sql`` (an INSERT) returning the new row's identity column, so its id can be read back."""
    match = _INSERT_OR.match(sql) or _INSERT_INTO.match(sql)
    table = "" if match is None else match.group(2 if match.re is _INSERT_OR else 1)
    column = IDENTITY.get(table)
    return statement(sql) + (f" RETURNING {column}" if column else "")


def ddl(step: str) -> list[str]:
    """A migration statement in SQLite's DDL as PostgreSQL statements (usually one), still to be
    passed through :func:`statement` (the transaction does) like any other."""
    if trigger := _TRIGGER.match(step):
        name, when, event, table, message = trigger.groups()
        function = f"{name}_fn"
        return [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS"
            f" $$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE OR REPLACE TRIGGER {name} {when} {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]
    if not step.lstrip().upper().startswith(("CREATE TABLE", "ALTER TABLE")):
        return [step]
    step = re.sub(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                  step)
    step = re.sub(r"\bINTEGER\b", "BIGINT", step)
    return [re.sub(r"\bBLOB\b", "BYTEA", step)]


def add_column(step: schema.AddColumn) -> str:
    """:class:`osintel.schema.AddColumn` as PostgreSQL's idempotent ``ADD COLUMN IF NOT EXISTS``."""
    return ddl(f"ALTER TABLE {step.table} ADD COLUMN IF NOT EXISTS {step.column} {step.declaration}")[0]
