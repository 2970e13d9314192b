"""Command groups that live in their own modules (one feature, one module), registered here.

Each module in :data:`MODULES` defines ``register(sub, common)``: it adds its sub-parsers to the
``osintel`` parser's sub-parser action ``sub`` (passing ``parents=[common]`` for the shared
``--data-dir``/``--config`` options) and sets ``handler=fn`` on each with ``set_defaults``, where
``fn(args, settings) -> int`` returns the exit code. Like :mod:`osintel.commands`, these modules
wire stages together, so every stage import inside them is lazy (inside a function).
"""

from __future__ import annotations

import argparse
import importlib

#: Command-group modules, registered in this order (``osintel --help`` lists them so).
MODULES: tuple[str, ...] = ("osintel.cmd.export", "osintel.cmd.alerts", "osintel.cmd.keys", "osintel.cmd.audit",
                             "osintel.cmd.retention", "osintel.cmd.reindex", "osintel.cmd.deadletters",
                             "osintel.cmd.outbox")


def register_all(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Let every module in :data:`MODULES` add its commands to the parser."""
    for name in MODULES:
        importlib.import_module(name).register(sub, common)
