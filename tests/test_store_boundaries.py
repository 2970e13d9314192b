"""The control store's boundary: who may name which table in SQL, no private access, no import circle.

:data:`OWNERS` is the table -> owner map. A table's owner is the only module whose SQL names it;
every other module calls the owner's functions or the store's named methods. Two tables are
shared on purpose: the lease columns of ``outbox`` and the owner/status columns of ``crawl_runs``
hold :mod:`osintel.service.procs` identities, and the modules that judge whether those processes
are alive (``leases``: who holds leases, releasing a dead worker's; ``recovery``: closing a dead
crawl's run) administer them, in the store's transactions.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from osintel import schema
from osintel.store import ControlStore

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("osintel", "spiders", "nlp", "indexer", "alerts", "exports", "search_api", "demo")

STORE = "osintel/store.py"
OUTBOX = "osintel/outbox.py"  # the store's outbox methods, in a file of their own
LEASES, RECOVERY = "osintel/service/leases.py", "osintel/service/recovery.py"
OWNERS: dict[str, frozenset[str]] = {
    **{t: frozenset({STORE}) for t in ("meta", "seen_urls", "cursors", "content_hashes", "minhash")},
    "documents": frozenset({STORE, OUTBOX}),
    "outbox": frozenset({STORE, OUTBOX, LEASES}),
    "crawl_runs": frozenset({STORE, RECOVERY}),
    "audit_log": frozenset({"osintel/audit.py"}),
    "api_keys": frozenset({"osintel/apikeys.py"}),
    "ui_sessions": frozenset({"osintel/apikeys.py"}),
    "retention_holds": frozenset({"osintel/service/retention.py"}),
    "erased_captures": frozenset({"osintel/service/retention.py"}),
    "sealed_warcs": frozenset({"osintel/service/sealing.py"}),
    "dead_letters": frozenset({"osintel/service/deadletter.py"}),
    **{t: frozenset({"alerts/state.py"}) for t in
       ("alert_rules", "alert_marks", "alert_evaluated", "alert_events", "alert_messages")},
}
#: Creates every table (the migrations); names them all by nature.
SCHEMA_MODULE = "osintel/schema.py"
#: The store's internals; only osintel/store.py may touch them on anything but ``self``.
PRIVATE = {"_tx", "_query", "_db", "_lock", "_conn", "_live"}
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|FROM|JOIN|INTO)\b")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_tables(source: str) -> set[str]:
    """Tables named in the SQL string literals of ``source`` (docstrings are prose, not SQL)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if _SQL.search(node.value):
                names |= {t for t in OWNERS if re.search(rf"\b{t}\b", node.value)}
    return names


def private_access(source: str) -> list[tuple[str, int]]:
    """``(attribute, line)`` for every store-private attribute read on anything but ``self``."""
    return [
        (node.attr, node.lineno) for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]


def _files(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py"))


def test_every_table_of_a_new_store_has_an_owner(tmp_path: Path, store_url: str) -> None:
    with ControlStore(tmp_path / "c.sqlite3", url=store_url) as store:
        tables = {r[0] for r in store.read(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()" if store_url
            else "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    assert tables == set(OWNERS)
    assert set(schema.ERASED_WITH_DOCUMENT) <= set(OWNERS)


_PLANTED = '''
"""SELECT * FROM documents (a docstring is prose)."""
def f(store):
    """UPDATE outbox"""
    store._query("SELECT body FROM documents WHERE id = ?", ("x",))
    self._lock.acquire()
    with store.transaction() as tx:
        tx.execute(f"DELETE FROM alert_events WHERE doc_id = {1}")
    log.info("documents and outbox are words here")
'''


def test_only_a_tables_owner_names_it_in_sql() -> None:
    assert sql_tables(_PLANTED) == {"documents", "alert_events"}  # the checker sees SQL, not prose
    problems = []
    for path in _files(*PACKAGES):
        rel = path.relative_to(ROOT).as_posix()
        if rel == SCHEMA_MODULE:
            continue
        for table in sorted(sql_tables(path.read_text(encoding="utf-8"))):
            if rel not in OWNERS[table]:
                problems.append(f"{rel} names {table} (owned by {', '.join(sorted(OWNERS[table]))})")
    assert not problems, "SQL outside a table's owner:\n" + "\n".join(problems)


def test_nothing_outside_the_store_touches_its_internals() -> None:
    assert private_access(_PLANTED) == [("_query", 5)]  # the checker sees a call on another object, not on self
    problems = [
        f"{path.relative_to(ROOT)}:{line} uses .{attr}"
        for path in _files(*PACKAGES, "tests", "bench", "tools")
        if path.relative_to(ROOT).as_posix() != STORE
        for attr, line in private_access(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "store internals used outside osintel/store.py:\n" + "\n".join(problems)


# -- imports ---------------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_imports(path: Path, *, typing: bool) -> set[str]:
    """First-party ``osintel`` modules ``path`` imports at module level (not inside functions);
    with ``typing``, those under ``if TYPE_CHECKING:`` too (mypy follows them: a circle there is a
    circle of the design, even if it costs nothing at run time)."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.body if typing else node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("osintel"))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("osintel"):
                for alias in node.names:  # ``from osintel import audit`` imports the module osintel.audit
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() else str(node.module))
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                        ast.ClassDef)):
                    visit([n for n in inner if isinstance(n, ast.stmt)] if field != "handlers"
                          else [s for h in inner for s in h.body])

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _graph(*, typing: bool) -> dict[str, set[str]]:
    return {_module_name(p): module_imports(p, typing=typing) - {_module_name(p)} for p in _files("osintel")}


def _kernel(name: str) -> bool:
    return not name.startswith(("osintel.cli", "osintel.service"))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the list of modules around it."""
    found: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt):]
                if min(cycle) == cycle[0] and cycle not in found:
                    found.append(cycle)
            elif nxt in graph:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_no_import_circle_runs_through_the_kernel(tmp_path: Path) -> None:
    # The walker sees typing-only imports (not imports inside functions), the finder sees a circle.
    planted = tmp_path / "m.py"
    planted.write_text("from typing import TYPE_CHECKING\nfrom osintel import audit\nif TYPE_CHECKING:\n"
                       "    from osintel.store import ControlStore\ndef f():\n    import osintel.settings\n")
    assert module_imports(planted, typing=True) == {"osintel.audit", "osintel.store"}
    assert module_imports(planted, typing=False) == {"osintel.audit"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = _graph(typing=True)
    bad = [c for c in cycles(graph) if any(_kernel(m) for m in c)
           or {"osintel.service.retention"} & set(c)]
    assert not bad, "import circles: " + "; ".join(" -> ".join([*c, c[0]]) for c in bad)


def test_the_kernel_imports_nothing_from_the_service_layer_at_module_level() -> None:
    graph = _graph(typing=False)
    bad = sorted(f"{m} imports {i}" for m, deps in graph.items() if _kernel(m)
                 for i in deps if i.startswith("osintel.service"))
    assert not bad, "\n".join(bad)
