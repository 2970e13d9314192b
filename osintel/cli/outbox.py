"""``osintel outbox status | release``: who holds outbox leases, and giving them back.

A separate command rather than flags on ``osintel enrich``: releasing is an operator's decision
about another process, needs no NLP models, and ``status`` is safe to run beside ``osintel run``.
Leases of provably dead processes on this host are released by every writing command anyway
(:mod:`osintel.service.recovery`); this is for the rest: a worker on another host, leases recorded before
owners were, or a holder the operator knows is wedged (``--force``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from osintel import audit

from osintel.service import leases
from osintel.errors import ConfigError
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings


def _status(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        data = leases.status(store)
    if args.json:
        sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
        return 0
    counts = data["outbox"]
    print(f"pending={counts['pending']} (leased={data['leased']} available={data['available']})"
          f"  done={counts['done']}  failed={counts['failed']}")
    for h in data["holders"]:
        who = f"process {h['pid']} on {h['host']}" if h["pid"] else "an unrecorded worker"
        print(f"  {h['documents']} leased by {who} ({h['liveness']}) until {h['lease_expires_at']}"
              f"  [owner {h['owner']}]")
    return 0


def _release(args: argparse.Namespace, settings: Settings) -> int:
    if not args.all and not args.owner:
        raise ConfigError("name the holder with --owner PID[@HOST] (see `osintel outbox status`), or pass --all")
    owner = None if args.all else leases.parse_owner(args.owner)
    with open_store(settings) as store:
        released = leases.release(store, owner=owner, force=args.force, actor=audit.cli_actor())
    if args.json:
        sys.stdout.write(json.dumps({"released": released}, sort_keys=True) + "\n")
    else:
        for token, count in released.items():
            print(f"released {count} document(s) held by {token}")
        if not released:
            print("no leases matched: nothing released")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel outbox status`` and ``osintel outbox release``."""
    parser = sub.add_parser("outbox", help="who holds outbox leases (status) and giving them back (release)")
    group = parser.add_subparsers(dest="outbox_command", required=True, metavar="OUTBOX_COMMAND")
    p = group.add_parser("status", parents=[common],
                         help="pending, leased and available documents; each lease holder, alive or dead, and"
                              " when its lease expires")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_status)
    p = group.add_parser("release", parents=[common],
                         help="give leased documents back to the outbox (refused for a live or unverifiable"
                              " holder without --force)")
    p.add_argument("--owner", metavar="PID[@HOST]", help="the holder, as `osintel outbox status` names it")
    p.add_argument("--all", action="store_true", help="every holder")
    p.add_argument("--force", action="store_true",
                   help="release even when the holder is alive or cannot be checked (another host)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_release)
