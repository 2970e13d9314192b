"""osintel as a wheel installs it (issue 13): no checkout and no editable install behind it.

A wheel is built from a copy of this checkout and installed with ``--no-deps`` into a fresh venv.
The dependencies come from the venv running the tests, through a plain path line in a ``.pth`` file:
such a line only appends to ``sys.path`` and does not run the ``.pth`` files it points at, so the
editable install's finder for osintel stays off. Nothing leaves loopback: no index, no build
isolation, no dependency resolution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

#: The checkout this test belongs to: the wheel is built from (a copy of) it.
CHECKOUT = Path(__file__).resolve().parent.parent
#: Every package the distribution must ship, by import name.
PACKAGES = ("osintel", "osintel.cli", "osintel.service", "spiders", "nlp", "indexer", "alerts",
            "exports", "search_api", "demo")
TOP_LEVEL = {name.split(".")[0] for name in PACKAGES}
#: Never copied: what a build or a run leaves in a checkout, so none of it can reach the wheel.
IGNORED_ANYWHERE = ("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
IGNORED_AT_TOP = {".git", ".venv", "build", "dist", "data"}
#: pip offline: only what the command line names, no index, no self-version check against PyPI.
PIP_OFFLINE = ("--no-index", "--disable-pip-version-check")


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd[:4]} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python at the checkout or its settings."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("OSINTEL_")}
    return {**env, "PYTHONNOUSERSITE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


def _copy_checkout(dest: Path) -> Path:
    # setuptools builds in the source tree (build/, *.egg-info): a copy keeps the checkout clean and
    # keeps a stale build/ from an older tree out of the wheel.
    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set(shutil.ignore_patterns(*IGNORED_ANYWHERE)(directory, names))
        if Path(directory) == CHECKOUT:
            ignored |= IGNORED_AT_TOP & set(names)
        return ignored

    return Path(shutil.copytree(CHECKOUT, dest, ignore=ignore))


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The source copy and the wheel built from it."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = _copy_checkout(tmp / "source")
    out = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", *PIP_OFFLINE,
          "-w", str(out), str(source)], cwd=tmp, env=_clean_env(), timeout=600)
    (wheel,) = out.glob("osintel-*.whl")
    return {"source": source, "wheel": wheel}


@pytest.fixture(scope="module")
def installed(build: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh venv with only the wheel installed; the test venv's site-packages appended by path."""
    tmp = tmp_path_factory.mktemp("fresh")
    venv = tmp / "venv"
    env = _clean_env()
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp, env=env, timeout=120)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", *PIP_OFFLINE,
          str(build["wheel"])], cwd=tmp, env=env, timeout=600)
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp, env=env, timeout=60).stdout.strip())
    ours = sysconfig.get_paths()
    deps = dict.fromkeys([ours["purelib"], ours["platlib"]])  # one line each, in order, no repeats
    (purelib / "osintel_test_dependencies.pth").write_text("".join(f"{p}\n" for p in deps), encoding="utf-8")
    elsewhere = tmp / "analyst"  # an unrelated working directory, as a user's
    elsewhere.mkdir()
    return {"venv": venv, "python": python, "purelib": purelib, "cwd": elsewhere}


def test_the_wheel_carries_every_package_and_the_bundled_config_but_no_tests(build: dict[str, Path]) -> None:
    with zipfile.ZipFile(build["wheel"]) as wheel:
        names = set(wheel.namelist())
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == TOP_LEVEL  # no tests/, bench/, tools/ or anything else beside the packages
    for package in PACKAGES:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    defaults = ("osintel.toml", "sources.yaml", "methods.yaml", "crimetypes.yaml", "watchlists.yaml")
    assert {f"osintel/config/{name}" for name in defaults} <= names
    source = build["source"]
    config = {p.name for p in (source / "osintel" / "config").iterdir() if p.is_file()}
    assert {f"osintel/config/{name}" for name in config} <= names  # and whatever joins them later
    subpackages = {p.parent.relative_to(source).as_posix() for top_dir in TOP_LEVEL
                   for p in (source / top_dir).rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in subpackages} <= names
    # every data file the NLP stage reads at run time (name lists, German nouns, common words)
    data = {p.relative_to(source).as_posix() for p in (source / "nlp" / "data").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}
    assert data <= names, sorted(data - names)
    assert not any(name.startswith("tests/") or "/tests/" in name for name in names)


def test_the_fresh_venv_imports_osintel_from_the_wheel_not_the_checkout(installed: dict[str, Path]) -> None:
    probe = (
        "import importlib.util, json, sys\n"
        "import osintel.settings\n"
        f"names = {list(PACKAGES)!r}\n"
        "print(json.dumps({\n"
        "    'origins': {n: importlib.util.find_spec(n).origin for n in names},\n"
        "    'config_dir': str(osintel.settings.CONFIG_DIR),\n"
        "    'editable': sorted(m for m in sys.modules if m.startswith('__editable__')),\n"
        "}))\n"
    )
    found = json.loads(_run([str(installed["python"]), "-c", probe], cwd=installed["cwd"], env=_clean_env(),
                            timeout=120).stdout)
    purelib = installed["purelib"].resolve()
    for name, origin in found["origins"].items():
        assert Path(origin).resolve().is_relative_to(purelib), f"{name} imported from {origin}"
    assert Path(found["config_dir"]) == purelib / "osintel" / "config"
    assert found["editable"] == []  # the editable install's finder never ran


def test_the_installed_demo_collects_indexes_and_searches_from_an_unrelated_folder(
    installed: dict[str, Path], tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    cwd = installed["cwd"]
    done = _run([str(installed["venv"] / "bin" / "osintel"), "demo", "--no-serve", "--json",
                 "--data-dir", str(data_dir)],
                cwd=cwd, env=_clean_env(OSINTEL_DEMO_SITE_PORT="0"), timeout=900)
    summary = json.loads(done.stdout)
    assert summary["documents"] > 0 and summary["enriched"] == summary["documents"]
    assert summary["outbox"]["pending"] == 0 and summary["outbox"]["failed"] == 0  # every one indexed
    runs = summary["crawl"]
    assert runs and {run["status"] for run in runs.values()} <= {"ok", "page-limit"}
    assert sum(run["items/new"] for run in runs.values()) > 0
    # the taxonomies come from the installed package's osintel/config
    assert summary["methods"] and summary["crime_types"]
    assert summary["queries"]
    for query, result in summary["queries"].items():
        assert result["total"] > 0 and result["top"], query
    assert (data_dir / "osintel.sqlite3").is_file() and any((data_dir / "index").iterdir())
    assert list(cwd.iterdir()) == []  # nothing written where the user happened to be
