"""``osintel audit verify|export``: check the oversight record's hash chain, hand it to an inspector."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from osintel import audit
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        report = audit.verify(store)
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), sort_keys=True) + "\n")
    elif report.ok:
        sys.stdout.write(f"ok: {report.events} events, hash chain intact\n")
    else:
        sys.stdout.write(f"TAMPERED: row {report.first_bad_seq}: {report.problem}\n")
    return 0 if report.ok else 1


def _export(args: argparse.Namespace, settings: Settings) -> int:
    output = Path(args.output)
    with open_store(settings) as store:
        count = audit.export(store, output, actor=audit.cli_actor(), purpose=args.purpose)
    if args.json:
        sys.stdout.write(json.dumps({"events": count, "output": str(output)}, sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"{count} events -> {output}\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel audit``."""
    group = sub.add_parser("audit", help="verify or export the oversight (audit) record")
    actions = group.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    p = actions.add_parser("verify", parents=[common], help="check the hash chain; exit 1 if tampered")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_verify)
    p = actions.add_parser("export", parents=[common], help="write the record as JSON lines (logged)")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--purpose", help="why it is exported (recorded)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_export)
