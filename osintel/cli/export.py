"""``osintel export``: documents selected by a query, to a file in a partner's format.

Formats come from the exporter registry (:mod:`exports.registry`): ``stix`` (STIX 2.1
bundle), ``misp`` (MISP event JSON), ``misp-feed`` (a MISP feed directory), ``ndjson``, ``csv``.
Documents with handling code C are left out unless ``--include-conditional`` is given with a
``--purpose``. Every export is a "disclosure" event in the audit log, with its recipient.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from osintel.settings import Settings

def export(
    settings: Settings, *, format: str, query: str, output: Path, recipient: str,
    purpose: str | None = None, include_conditional: bool = False, actor: str | None = None,
) -> dict[str, Any]:
    """Run one export as the system's operator; returns the export report as a dict."""
    from indexer import open_index
    from osintel.store import open_store
    from exports.service import ExportRequest, run_export

    request = ExportRequest(
        format=format, query=query, actor=actor or f"cli:{getpass.getuser()}", role="operator",
        recipient=recipient, purpose=purpose, include_conditional=include_conditional,
    )
    store = open_store(settings)
    try:
        index = open_index(settings)
        try:
            return run_export(index, store, settings, request, output).to_dict()
        finally:
            index.close()
    finally:
        store.close()


def _handle(args: argparse.Namespace, settings: Settings) -> int:
    report = export(
        settings, format=args.format, query=args.query, output=Path(args.output),
        recipient=args.recipient, purpose=args.purpose, include_conditional=args.include_conditional,
    )
    if args.json:
        sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"{report['count']} documents → {report['output']} ({report['format']})\n")
    if report["withheld"]:
        print(f"osintel: {report['withheld']} handling-code C documents withheld "
              "(use --include-conditional with --purpose to include them)", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel export``."""
    p = sub.add_parser("export", parents=[common], help="export documents a query selects (STIX, MISP, NDJSON, CSV)")
    # Not argparse choices: the exporter registry is the one list of formats (checked at run time).
    p.add_argument("--format", required=True,
                   help="output format: stix, misp, misp-feed, ndjson, csv (or a registered exporter)")
    p.add_argument("--query", required=True, help="analyst query selecting the documents ('*' for all)")
    p.add_argument("--output", required=True, metavar="PATH",
                   help="file to write (a new or empty directory for misp-feed)")
    p.add_argument("--recipient", required=True, help="who receives the export (recorded in the audit log)")
    p.add_argument("--purpose", help="why it is disclosed (recorded; required with --include-conditional)")
    p.add_argument("--include-conditional", action="store_true",
                   help="include documents whose handling code is C (sharing subject to conditions)")
    p.add_argument("--json", action="store_true", help="print the export report as JSON")
    p.set_defaults(handler=_handle)
