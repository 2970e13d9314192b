"""``osintel search`` (audited, like every search) and ``osintel stats``."""

from __future__ import annotations

import argparse
from typing import Any

from osintel.cli._output import print_json, print_summary
from osintel.service import commands
from osintel.settings import Settings


def _print_hits(result: dict[str, Any]) -> None:
    total, stories = result["total"], result["stories"]
    if stories is None:
        print(f"{total} match{'es' if total != 1 else ''}")
    else:
        about = "" if result["stories_exact"] else "about "
        print(f"{total} match{'es' if total != 1 else ''}, {about}{stories} stor{'ies' if stories != 1 else 'y'}"
              + (" (copies collapsed: --all-copies lists each)" if stories != total else ""))
    for hit in result["hits"]:
        methods = ",".join(m["id"] for m in hit["methods"])
        copies = f"  [{hit['copies']} copies: cluster:{hit['cluster_id'] or hit['id']}]" if hit["copies"] > 1 else ""
        print(f"{hit['score']:7.2f}  rel {hit['relevance']:.2f}  {hit['id'][:12]}  [{hit['language']}] "
              f"{hit['display_title']}  {methods}{copies}")


def _search(args: argparse.Namespace, settings: Settings) -> int:
    sort = {"newest": "-published", "oldest": "published"}.get(args.sort, args.sort)
    result = commands.search(settings, args.query, limit=args.limit, offset=args.offset, sort=sort,
                             collapse=not args.all_copies, purpose=args.purpose)
    print_json(result) if args.json else _print_hits(result)
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    data = commands.stats(settings)
    print_json(data) if args.json else print_summary(data)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel search`` and ``osintel stats``."""
    p = sub.add_parser("search", parents=[common], help="search the index with the analyst query language")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--sort", choices=["best_match", "relevance_score", "newest", "oldest", "-published", "published",
                                      "relevance"],
                   default="best_match", help="best_match: full-text score (old name: relevance); "
                   "relevance_score: assessed relevance, highest first; newest (= -published) or oldest first")
    p.add_argument("--all-copies", action="store_true",
                   help="list every near-duplicate copy (default: one line per story, with its copies counted)")
    p.add_argument("--purpose", help="why you are searching; written to the oversight record with your login name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_search)

    p = sub.add_parser("stats", parents=[common], help="counts over the collected documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_stats)
