"""``osintel enrich`` (drain the outbox, or enrich JSON lines statelessly) and ``osintel reprocess``."""

from __future__ import annotations

import argparse
import sys
from typing import IO

from osintel.cli._output import print_json, progress
from osintel.errors import ConfigError
from osintel.service import commands, enrich_pool, enrich_stream
from osintel.settings import Settings


def _enrich(args: argparse.Namespace, settings: Settings) -> int:
    if args.input or args.output:
        return _enrich_stream(args, settings)
    report = commands.enrich(settings, progress=progress)
    data: dict[str, object] = {"indexed": report.indexed, "failed": report.failed, "batches": report.batches,
            "enrich_seconds": round(report.enrich_seconds, 2), "index_seconds": round(report.index_seconds, 2),
            "leased": report.leased, "stuck": report.stuck}
    if isinstance(report, enrich_pool.PoolReport):
        data.update(processes=report.processes, restarts=report.restarts, commits=report.commits,
                    peak_rss_mb=report.peak_rss_mb)
    print_json(data) if args.json else print("  ".join(f"{k}={v}" for k, v in data.items()))
    return 0 if report.failed == 0 and report.stuck == 0 else 1


def _enrich_stream(args: argparse.Namespace, settings: Settings) -> int:
    if not args.input:
        raise ConfigError("--output needs --input")

    def problem(line: int, reason: str) -> None:
        print(f"osintel: {args.input}:{line}: {reason}", file=sys.stderr, flush=True)

    source = sys.stdin.buffer if args.input == "-" else _open_input(args.input)
    try:
        output = args.output or "-"
        sink = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        try:
            report = enrich_stream.enrich_jsonl(settings, source, sink, progress=progress, problem=problem)
        finally:
            if sink is not sys.stdout:
                sink.close()
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    summary = {"read": report.read, "written": report.written, "invalid": report.invalid,
               "failed": report.failed, "seconds": round(report.seconds, 2)}
    progress("  ".join(f"{k}={v}" for k, v in summary.items()))
    return 0 if report.invalid == 0 and report.failed == 0 else 1


def _open_input(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise ConfigError(f"cannot read --input {path}: {exc.strerror}") from None


def _reprocess(args: argparse.Namespace, settings: Settings) -> int:
    report = commands.reprocess(settings, args.query, limit=args.limit, progress=progress)
    if args.json:
        print_json(report)
        return 0 if report["failed"] == 0 else 1
    print(f"matched={report['matched']}  reprocessed={report['reprocessed']}  changed={report['changed']}"
          f"  failed={report['failed']}  missing={report['missing']}")
    for name, counts in report["version_changes"].items():
        for change, n in counts.items():
            print(f"  {name}: {change}: {n} document(s)")
    for doc in report["documents"][:20]:
        added = ",".join(doc.get("methods_added", [])) or "-"
        removed = ",".join(doc.get("methods_removed", [])) or "-"
        print(f"  {doc['id'][:12]}  +{added}  -{removed}  {doc['title'][:60]}")
    if len(report["documents"]) > 20:
        print(f"  ... and {len(report['documents']) - 20} more (use --json)")
    return 0 if report["failed"] == 0 else 1


def workers_override(args: argparse.Namespace) -> dict[str, object]:
    """``--workers N`` is the setting ``worker.processes`` (None: leave it to the lower layers)."""
    if args.workers is not None and args.workers < 0:
        raise ConfigError("--workers must be 0 (one per core) or more")
    return {"worker.processes": args.workers}


def _data_dir_use(args: argparse.Namespace) -> str:
    """``--input``/``--output`` work without a data directory; draining the outbox needs one."""
    return "none" if args.input or args.output else "existing"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel enrich`` and ``osintel reprocess``."""
    p = sub.add_parser("enrich", parents=[common],
                       help="drain the outbox: enrich and index pending documents; or, with --input,"
                            " enrich JSON lines statelessly")
    p.add_argument("--input", metavar="IN.jsonl",
                   help="enrich Documents read as JSON lines (at least id and text; '-' for stdin)"
                        " without a data directory, store or index")
    p.add_argument("--output", metavar="OUT.jsonl",
                   help="where --input writes the enriched JSON lines, in input order (default '-': stdout)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="enrichment processes draining the outbox (default: setting worker.processes; 0 = one"
                        " per core; 1 = in this process)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_enrich, data_dir_use=_data_dir_use, settings_overrides=workers_override)

    p = sub.add_parser("reprocess", parents=[common],
                       help="re-enrich the documents a query selects (after a model or taxonomy change)")
    p.add_argument("query")
    p.add_argument("--limit", type=int, help="at most this many documents (default: every match)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_reprocess)
