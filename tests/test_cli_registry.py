"""The CLI has one way to add a command: a module in ``osintel.cli`` named in ``COMMANDS``."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import osintel.cli as cli

CLI_DIR = Path(cli.__file__).parent


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, parser)]
    return [leaf for name, child in subs[0].choices.items() for leaf in _leaves(child, (*path, name))]


def test_every_command_module_is_registered_and_only_through_register() -> None:
    modules = {p.stem for p in CLI_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert modules == set(cli.COMMANDS), "a module in osintel/cli/ that COMMANDS does not name (or vice versa)"
    for name in cli.COMMANDS:
        assert callable(importlib.import_module(f"osintel.cli.{name}").register)


def test_every_command_has_a_handler_and_a_known_data_dir_use() -> None:
    leaves = _leaves(cli.build_parser())
    assert len(leaves) >= 30
    for path, parser in leaves:
        defaults = parser._defaults
        assert callable(defaults.get("handler")), f"osintel {' '.join(path)} has no handler"
        use = defaults.get("data_dir_use", "existing")
        assert callable(use) or use in {"existing", "create", "none"}, path


def test_a_read_command_refuses_a_missing_data_dir_and_a_creating_one_does_not(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothing-here"
    assert cli.run(["stats", "--data-dir", str(missing)]) == 2
    assert "no data directory" in capsys.readouterr().err
    assert not missing.exists()
    # `keys create` may start a data directory (the first key of a new deployment)
    assert cli.run(["keys", "create", "--role", "analyst", "--name", "t", "--data-dir", str(missing)]) == 0
    assert (missing).is_dir()
