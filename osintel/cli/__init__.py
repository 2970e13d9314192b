"""The ``osintel`` command line: one module per command group, each registered the same way.

Every module named in :data:`COMMANDS` defines ``register(sub, common)``: it adds its sub-parsers
to the ``osintel`` parser's sub-parser action ``sub`` (with ``parents=[common]`` for the shared
``--data-dir``/``--config``/``--verbose`` options) and sets, with ``set_defaults``:

- ``handler``: ``fn(args, settings) -> int``, the exit code;
- ``data_dir_use`` (optional): ``"existing"`` (the default: refuse a data directory that does not
  exist rather than create an empty one and report nothing), ``"create"`` (the command may start
  a new one), ``"none"`` (works without one), or a function of ``args`` returning one of those;
- ``service`` (optional): ``True`` for long-running services, which log at INFO by default;
- ``settings_overrides`` (optional): a function of ``args`` returning setting overrides.

Data goes to stdout (``--json`` output is stable), logs and progress to stderr. Errors from the
library become a one-line message and a non-zero exit code: 2 for bad configuration or input,
1 for anything else. The command modules wire stages together, so every stage import inside them
is lazy (through :mod:`osintel.service`, or inside a function).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from osintel.service import commands, enrich_stream
import importlib
from osintel.errors import (
    AlreadyRunningError,
    ConfigError,
    IndexBackendError,
    NotFoundError,
    OsintelError,
    QueryError,
    StoreError,
    UsageError,
)
from osintel.settings import Settings, load_settings

#: The command-group modules under ``osintel.cli``, registered in this order (``osintel --help``
#: lists them so). A new command is a new module here; nothing else changes.
COMMANDS: tuple[str, ...] = (
    "demo", "crawl", "enrich", "search", "capture", "serve",
    "export", "alerts", "keys", "audit", "retention", "reindex", "deadletters", "outbox",
)

#: The ``data_dir_use`` values a command may declare.
_DATA_DIR_USES = frozenset({"existing", "create", "none"})

log = logging.getLogger("osintel")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default ./data; env OSINTEL_DATA_DIR)")
    common.add_argument("--config", help="a TOML config file layered over the defaults (env OSINTEL_CONFIG)")
    common.add_argument("--sources", help="sources YAML file (default osintel/config/sources.yaml)")
    common.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default WARNING; INFO for run and serve)")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="logs at INFO and full tracebacks on errors (details a one-line error leaves out)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="osintel", description="OSINT collection and NLP framework")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name in COMMANDS:
        importlib.import_module(f"osintel.cli.{name}").register(sub, common)
    return parser


#: Loggers of libraries that log a full traceback per retry (an unreachable cluster gives
#: ~120 lines): only their errors are shown, unless ``--verbose``.
_CHATTY_LOGGERS = ("elastic_transport", "elasticsearch", "urllib3", "scrapy", "twisted", "httpx", "asyncio")


def _command_name(args: argparse.Namespace) -> str:
    action = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {action}" if action else args.command


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "sources_file": args.sources,
        "log_level": args.log_level or ("INFO" if getattr(args, "verbose", False) else None),
    }
    command_overrides = getattr(args, "settings_overrides", None)
    if command_overrides is not None:
        overrides.update(command_overrides(args))
    settings = load_settings(config_file=args.config, overrides=overrides)
    if not settings.log_level:  # the default: quiet for one-off commands, a service log for services
        settings = settings.with_overrides(log_level="INFO" if getattr(args, "service", False) else "WARNING")
    return settings


def _check_data_dir(args: argparse.Namespace, settings: Settings) -> None:
    use = getattr(args, "data_dir_use", "existing")
    use = use(args) if callable(use) else use
    if use not in _DATA_DIR_USES:  # pragma: no cover - a command module declared something else
        raise ValueError(f"command {_command_name(args)!r} declares data_dir_use={use!r}")
    if use == "existing" and not settings.data_dir.is_dir():
        raise UsageError(f"no data directory at {settings.data_dir}: nothing has been collected there"
                         " (check --data-dir or OSINTEL_DATA_DIR, or collect first with `osintel crawl`"
                         " or `osintel demo`)")


#: How the one-line error names each kind of failure (the class name means nothing to a user).
_ERROR_PREFIX: tuple[tuple[type[OsintelError], str, int], ...] = (
    (QueryError, "bad query: ", 2),
    (ConfigError, "configuration error: ", 2),
    (UsageError, "", 2),
    (NotFoundError, "", 1),
    (StoreError, "store: ", 1),
    (IndexBackendError, "search index: ", 1),
    (OsintelError, "", 1),
)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code.

    Every failure ends in one line on stderr, ``osintel: <what failed and what to do>``; the
    traceback and library logs behind it are shown only with ``--verbose``.
    """
    args = build_parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"osintel: configuration error: {exc}", file=sys.stderr)
        return 2
    root = logging.getLogger()
    existing = list(root.handlers)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr, format=log_format)
    if not verbose:
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.ERROR, root.level))
        for handler in root.handlers:
            if handler not in existing:  # only the handler made here: others keep their records whole
                handler.setFormatter(_OneLineFormatter(log_format))
    try:
        _check_data_dir(args, settings)
        return int(args.handler(args, settings))
    except OsintelError as exc:
        prefix, code = next((p, c) for cls, p, c in _ERROR_PREFIX if isinstance(exc, cls))
        if verbose:
            traceback.print_exc()
        print(f"osintel: {prefix}{exc}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("osintel: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected library failure: still one line
        if verbose:
            traceback.print_exc()
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(f"osintel: {_command_name(args)} failed: {type(exc).__name__}{': ' + detail if detail else ''}"
              f"{'' if verbose else ' (run again with --verbose for the details)'}", file=sys.stderr)
        return 1


class _OneLineFormatter(logging.Formatter):
    """A log line with its exception as ``(Type: message)`` instead of a traceback (``--verbose`` has it)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        exc = saved[0][1] if saved[0] else None
        return f"{line} ({type(exc).__name__}: {exc})" if exc is not None else line


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`osintel search ... | head`): not an error of ours.
        sys.stderr.close()
        code = 0
    sys.exit(code)
