"""``osintel keys create|list|revoke``: API keys for the search API (stored hashed, audited)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from osintel import apikeys, audit
from osintel.store import open_store

if TYPE_CHECKING:
    from osintel.settings import Settings


def _create(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        key_id, secret = apikeys.create_key(store, role=args.role, name=args.name, actor=audit.cli_actor())
    if args.json:
        sys.stdout.write(json.dumps({"key_id": key_id, "role": args.role, "name": args.name,
                                     "secret": secret}, sort_keys=True) + "\n")
    else:
        sys.stdout.write(secret + "\n")
        print(f"osintel: created {args.role} key {key_id} for {args.name!r}; the secret above is shown only"
              " once (send it as the X-API-Key header)", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        keys = apikeys.list_keys(store)
    if args.json:
        sys.stdout.write(json.dumps([k.to_dict() for k in keys], sort_keys=True) + "\n")
    else:
        for key in keys:
            state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
            sys.stdout.write(f"{key.key_id}  {key.role:<10}  {state:<40}  {key.name}\n")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        key = apikeys.revoke_key(store, args.key_id, actor=audit.cli_actor())
    if args.json:
        sys.stdout.write(json.dumps(key.to_dict(), sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"{key.key_id} revoked at {key.revoked_at}\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel keys``."""
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = actions.add_parser("create", parents=[common], help="create a key and print its secret once")
    p.add_argument("--role", required=True, choices=apikeys.ROLES)
    p.add_argument("--name", required=True, help="who or what holds the key")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_create, data_dir_use="create")
    p = actions.add_parser("list", parents=[common], help="list keys (never their secrets)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)
    p = actions.add_parser("revoke", parents=[common], help="revoke a key and end its UI sessions")
    p.add_argument("key_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_revoke)
