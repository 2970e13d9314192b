"""``osintel deadletters [--requeue] [--json]``: documents the index refused, and putting them back."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from osintel.service import deadletter
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings


def _handler(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        letters = deadletter.list_letters(store, limit=args.limit)
        requeued = deadletter.requeue(store) if args.requeue else 0
    if args.json:
        sys.stdout.write(json.dumps({"letters": [asdict(x) for x in letters], "requeued": requeued}, sort_keys=True) + "\n")
    else:
        for letter in letters:
            sys.stdout.write(f"{letter.created_at}  {letter.doc_id}  [{letter.stage}]  {letter.reason}\n")
        if args.requeue:
            sys.stderr.write(f"requeued {requeued} documents into the outbox\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel deadletters``."""
    parser = sub.add_parser(
        "deadletters", parents=[common], help="documents the search index refused, with the reason",
        description="List dead-lettered documents (newest first); --requeue puts them back in the outbox "
        "after the cause is fixed.",
    )
    parser.add_argument("--limit", type=int, default=100, help="most letters to list (default 100)")
    parser.add_argument("--requeue", action="store_true", help="put every open dead letter back in the outbox")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_handler)
