"""Import directions from DESIGN.md, enforced by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("osintel", "spiders", "nlp", "indexer", "alerts", "exports", "search_api", "demo")

#: For each package: the first-party packages it may import (module level or lazily).
ALLOWED: dict[str, set[str]] = {
    "osintel": {"osintel"},
    "spiders": {"osintel", "spiders"},
    "nlp": {"osintel", "nlp"},
    "indexer": {"osintel", "indexer"},
    "alerts": {"osintel", "indexer", "alerts"},
    "exports": {"osintel", "indexer", "exports"},
    "search_api": {"osintel", "indexer", "alerts", "exports", "search_api"},
    # the bundled demo sources are a stand-alone web site: they share nothing with the stages
    "demo": {"demo"},
}
#: Third-party libraries a package must never import.
WEB = {"fastapi", "starlette", "uvicorn", "jinja2"}
FORBIDDEN_LIBS: dict[str, set[str]] = {
    "nlp": {"scrapy", "twisted"},
    "indexer": {"scrapy", "spacy", "twisted"},
    # exploitation stages run in the worker and the CLI: no web framework (search_api serves them)
    "alerts": {"scrapy", "spacy", "twisted"} | WEB,
    "exports": {"scrapy", "spacy", "twisted"} | WEB,
}
#: The kernel wires stages together in these modules, only inside functions (lazily).
KERNEL_WIRING = {
    path.relative_to(ROOT).as_posix()
    for sub in ("cli", "service") for path in (ROOT / "osintel" / sub).glob("*.py")
}


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(top-level module name, imported at module level?, line) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # typing-only imports cost nothing at run time
            if isinstance(child, ast.Import):
                found.extend((alias.name.split(".")[0], top, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], top, child.lineno))
            visit(child, inner)

    visit(tree, True)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", STAGES)
def test_package_imports_only_what_design_allows(package: str) -> None:
    problems = []
    for path in _modules(package):
        rel = path.relative_to(ROOT).as_posix()
        for name, top, line in _imports(path):
            if name in STAGES and name not in ALLOWED[package]:
                if package == "osintel" and rel in KERNEL_WIRING and not top:
                    continue
                problems.append(f"{rel}:{line} imports {name}")
            if name in FORBIDDEN_LIBS.get(package, set()):
                problems.append(f"{rel}:{line} imports library {name}")
    assert not problems, "forbidden imports:\n" + "\n".join(problems)


def test_kernel_never_imports_a_stage_at_module_level() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {name} at module level"
        for path in _modules("osintel")
        for name, top, line in _imports(path)
        if top and name in STAGES and name != "osintel"
    ]
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom nlp.enricher import Enricher\ndef f():\n    import scrapy\n")
    assert ("nlp", True, 2) in _imports(bad)
    assert ("scrapy", False, 4) in _imports(bad)


def _full_imports(path: Path) -> list[tuple[str, int]]:
    """Every absolute import's full dotted module name in ``path``, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


@pytest.mark.parametrize("package", ["search_api", "alerts", "exports"])
def test_exploitation_stages_use_only_the_indexers_public_interface(package: str) -> None:
    """``indexer/__init__.py`` is the indexer's public interface; its modules are its own business."""
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(package)
        for name, line in _full_imports(path)
        if name.startswith("indexer.")
    ]
    assert not problems, "import these from `indexer` (add them to its public interface if needed):\n" + "\n".join(problems)


def test_nlp_and_indexer_know_nothing_of_each_other() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for a, b in (("nlp", "indexer"), ("indexer", "nlp"))
        for path in _modules(a)
        for name, line in _full_imports(path)
        if name.split(".")[0] == b
    ]
    assert not problems, "\n".join(problems)
