"""``osintel reindex --to elasticsearch|embedded``: rebuild a search index from the store of record.

The work is :func:`osintel.service.reindex.reindex`; this module parses and prints.
"""

from __future__ import annotations

import argparse
import json
import sys

from osintel.service.reindex import TARGETS, reindex
from osintel.settings import Settings


def _handler(args: argparse.Namespace, settings: Settings) -> int:
    def say(message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    summary = reindex(
        settings, to=args.to, batch_size=args.batch_size, restart=args.restart, delete_old=args.delete_old,
        progress=None if args.quiet else say,
    )
    if args.json:
        sys.stdout.write(json.dumps(summary, sort_keys=True) + "\n")
    else:
        sys.stdout.write(
            f"reindexed {summary['written']} of {summary['documents']} documents into {summary['index']}"
            f" ({summary['rejected']} rejected) in {summary['seconds']}s\n"
        )
    return 1 if summary["rejected"] else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel reindex``."""
    parser = sub.add_parser(
        "reindex", parents=[common], help="rebuild a search index from the store of record (resumable)",
        description="Rebuild a search index from the store of record, resumably (progress on stderr).",
    )
    parser.add_argument("--to", required=True, choices=TARGETS, help="the index to fill")
    parser.add_argument("--batch-size", type=int, default=500, help="documents per bulk write (default 500)")
    parser.add_argument("--restart", action="store_true", help="ignore the checkpoint of an interrupted run")
    parser.add_argument("--delete-old", action="store_true", help="drop the index the aliases pointed to before")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_handler)
