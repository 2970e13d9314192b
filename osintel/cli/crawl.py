"""``osintel crawl`` and ``osintel sources``: collect now, and what is configured."""

from __future__ import annotations

import argparse
import sys

from osintel.cli._output import print_json, print_rows, progress
from osintel.errors import ConfigError
from osintel.service import commands
from osintel.settings import Settings


def _crawl(args: argparse.Namespace, settings: Settings) -> int:
    if not args.source_ids and not args.all:
        raise ConfigError("name one or more SOURCE_IDs, or pass --all")
    results = commands.crawl(settings, source_ids=args.source_ids, progress=progress)
    rows = [{"source": r.source_id, "run_id": r.run_id, "status": r.status, **commands.crawl_counts(r.stats)}
            for r in results]
    print_json(rows) if args.json else print_rows(rows)
    for r in results:  # one line each on stderr for what was refused or failed
        if r.status == "skipped-expired":
            print(f"osintel: refused to crawl {r.source_id}: {r.error}", file=sys.stderr)
        elif r.status not in commands.GOOD_RUN_STATUSES:
            print(f"osintel: crawl of {r.source_id} {r.status}: {r.error or 'no detail'}", file=sys.stderr)
    return 0 if all(r.status in commands.GOOD_RUN_STATUSES for r in results) else 1


def _sources(args: argparse.Namespace, settings: Settings) -> int:
    rows = commands.sources_overview(settings)
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        last = row["last_run"] or {}
        print(f"{row['id']:<24} {row['kind']:<8} {row['grading']}  last run: "
              f"{last.get('status', 'never')} {last.get('finished_at') or ''} new={last.get('items_new', 0)}")
        for flag in row.get("health", {}).get("flags", []):
            print(f"{'':<24} {flag['severity']}: {flag['code']}: {flag['message']}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel crawl`` and ``osintel sources``."""
    p = sub.add_parser("crawl", parents=[common], help="crawl sources now (in a child process)")
    p.add_argument("source_ids", nargs="*", metavar="SOURCE_ID")
    p.add_argument("--all", action="store_true", help="crawl every enabled source")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_crawl, data_dir_use="create")

    p = sub.add_parser("sources", parents=[common], help="list configured sources and their last run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_sources, data_dir_use="none")
