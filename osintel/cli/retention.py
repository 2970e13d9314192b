"""``osintel retention run|due|hold|release``: erase expired items; legal holds (all audited)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from osintel import audit

from osintel.service import retention
from osintel.sources import load_sources
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings


def run_retention(settings: Settings, *, dry_run: bool = False, actor: str | None = None,
                  purpose: str | None = None) -> dict[str, Any]:
    """Erase every expired, unheld document (index, control store, WARC index); returns the report."""
    from indexer import open_index

    sources = load_sources(settings.sources_file)
    with open_store(settings) as store:
        index = open_index(settings)
        try:
            report = retention.run(store, index, sources, default_days=settings.retention.default_days,
                                   actor=actor or audit.cli_actor(), dry_run=dry_run, purpose=purpose)
        finally:
            index.close()
    return report.to_dict()


def _run(args: argparse.Namespace, settings: Settings) -> int:
    report = run_retention(settings, dry_run=args.dry_run, purpose=args.purpose)
    if args.json:
        sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    else:
        verb = "would erase" if report["dry_run"] else "erased"
        sys.stdout.write(f"checked={report['checked']}  due={report['due']}  held={report['held']}  "
                         f"{verb}={report['erased']}\n")
    return 0


def _due(args: argparse.Namespace, settings: Settings) -> int:
    sources = load_sources(settings.sources_file)
    with open_store(settings) as store:
        items, _ = retention.due(store, sources, default_days=settings.retention.default_days)
    if args.json:
        sys.stdout.write(json.dumps(items, sort_keys=True) + "\n")
    else:
        for item in items:
            sys.stdout.write(f"{item['doc_id']}  {item['source']:<24} {item['review_at']}"
                             f"{'  HELD' if item['held'] else ''}\n")
    return 0


def _hold(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        retention.set_hold(store, args.doc_id, actor=audit.cli_actor(), reason=args.reason)
    sys.stdout.write(f"{args.doc_id} held\n")
    return 0


def _release(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        released = retention.release_hold(store, args.doc_id, actor=audit.cli_actor())
    sys.stdout.write(f"{args.doc_id} {'released' if released else 'was not held'}\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel retention``."""
    group = sub.add_parser("retention", help="retention review: erase expired items, legal holds")
    actions = group.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    p = actions.add_parser("run", parents=[common], help="erase expired documents that are not on hold")
    p.add_argument("--dry-run", action="store_true", help="report what would be erased; change nothing")
    p.add_argument("--purpose", help="recorded with each erasure")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_run)
    p = actions.add_parser("due", parents=[common], help="list documents past their review date")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_due)
    p = actions.add_parser("hold", parents=[common], help="put a document under legal hold")
    p.add_argument("doc_id")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=_hold)
    p = actions.add_parser("release", parents=[common], help="lift a legal hold")
    p.add_argument("doc_id")
    p.set_defaults(handler=_release)
