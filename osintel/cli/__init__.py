"""The ``osintel`` command line: parses arguments, calls :mod:`osintel.service.commands`, prints.

Data goes to stdout (``--json`` output is stable), logs and progress to stderr. Errors from the
library become a one-line message and a non-zero exit code: 2 for bad configuration or input,
1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from osintel.service import commands, enrich_stream
import importlib
from osintel.errors import (
    AlreadyRunningError,
    ConfigError,
    IndexBackendError,
    NotFoundError,
    OsintelError,
    QueryError,
    StoreError,
    UsageError,
)
from osintel.settings import Settings, load_settings

#: Command-group modules, registered in this order (``osintel --help`` lists them so).
MODULES: tuple[str, ...] = ("osintel.cli.export", "osintel.cli.alerts", "osintel.cli.keys", "osintel.cli.audit",
                             "osintel.cli.retention", "osintel.cli.reindex", "osintel.cli.deadletters",
                             "osintel.cli.outbox")


def register_all(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Let every module in :data:`MODULES` add its commands to the parser."""
    for name in MODULES:
        importlib.import_module(name).register(sub, common)

log = logging.getLogger("osintel")


def _progress(message: str) -> None:
    print(f"[osintel] {message}", file=sys.stderr, flush=True)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default ./data; env OSINTEL_DATA_DIR)")
    common.add_argument("--config", help="a TOML config file layered over the defaults (env OSINTEL_CONFIG)")
    common.add_argument("--sources", help="sources YAML file (default osintel/config/sources.yaml)")
    common.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default WARNING; INFO for run and serve)")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="logs at INFO and full tracebacks on errors (details a one-line error leaves out)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="osintel", description="OSINT collection and NLP framework")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", parents=[common], help="crawl, enrich and index the bundled demo site, then serve")
    p.add_argument("--no-serve", action="store_true", help="exit after the summary instead of serving the API")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("demo-site", parents=[common], help="serve only the bundled demo site until Ctrl-C")
    p.add_argument("--port", type=int, help="site port (default 8765)")

    p = sub.add_parser("crawl", parents=[common], help="crawl sources now (in a child process)")
    p.add_argument("source_ids", nargs="*", metavar="SOURCE_ID")
    p.add_argument("--all", action="store_true", help="crawl every enabled source")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("enrich", parents=[common],
                       help="drain the outbox: enrich and index pending documents; or, with --input,"
                            " enrich JSON lines statelessly")
    p.add_argument("--input", metavar="IN.jsonl",
                   help="enrich Documents read as JSON lines (at least id and text; '-' for stdin)"
                        " without a data directory, store or index")
    p.add_argument("--output", metavar="OUT.jsonl",
                   help="where --input writes the enriched JSON lines, in input order (default '-': stdout)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("reprocess", parents=[common],
                       help="re-enrich the documents a query selects (after a model or taxonomy change)")
    p.add_argument("query")
    p.add_argument("--limit", type=int, help="at most this many documents (default: every match)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sources", parents=[common], help="list configured sources and their last run")
    p.add_argument("--json", action="store_true")

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

    p = sub.add_parser("stats", parents=[common], help="counts over the collected documents")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("capture", parents=[common],
                       help="capture pages now (WARC evidence), then enrich and index them")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("--grading", default="2CP", help="3x5x2 grading of the captures (default 2CP)")
    p.add_argument("--json", action="store_true", help="print the resulting documents as JSON lines")

    p = sub.add_parser("warc", help="WARC evidence tools")
    warc = p.add_subparsers(dest="warc_command", required=True, metavar="WARC_COMMAND")
    p = warc.add_parser("verify", parents=[common],
                        help="re-hash every WARC record and document capture; exit 1 on a mismatch")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", parents=[common], help="serve the search API")
    p.add_argument("--port", type=int, help="API port (default 8000)")

    p = sub.add_parser("run", parents=[common],
                       help="run the service: scheduled crawls, the enrichment worker and the API")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--no-api", action="store_true", help="run the scheduler and worker without the API")
    p.add_argument("--exit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)  # tests
    register_all(sub, common)
    return parser


#: Commands that may start a new data directory. Every other command (but ``sources``, which lists
#: the configuration) reads or changes what an
#: earlier one collected, and refuses a data directory that does not exist rather than create an
#: empty one and report nothing (``stats --data-dir typo``).
_CREATES_DATA_DIR = frozenset({"demo", "demo-site", "crawl", "capture", "run", "keys create", "alerts add"})
#: Commands that work without a data directory and do not create one.
_NO_DATA_DIR = frozenset({"sources"})

#: Loggers of libraries that log a full traceback per retry (an unreachable cluster gives
#: ~120 lines): only their errors are shown, unless ``--verbose``.
_CHATTY_LOGGERS = ("elastic_transport", "elasticsearch", "urllib3", "scrapy", "twisted", "httpx", "asyncio")


def _command_name(args: argparse.Namespace) -> str:
    action = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {action}" if action else args.command


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "sources_file": args.sources,
        "log_level": args.log_level or ("INFO" if getattr(args, "verbose", False) else None),
    }
    if args.command == "demo-site":
        overrides["demo.site_port"] = args.port
    settings = load_settings(config_file=args.config, overrides=overrides)
    if not settings.log_level:  # the default: quiet for one-off commands, a service log for services
        settings = settings.with_overrides(log_level="INFO" if args.command in ("run", "serve") else "WARNING")
    return settings


def _check_data_dir(args: argparse.Namespace, settings: Settings) -> None:
    name = _command_name(args)
    if name in _CREATES_DATA_DIR | _NO_DATA_DIR or (args.command == "enrich" and (args.input or args.output)):
        return
    if not settings.data_dir.is_dir():
        raise UsageError(f"no data directory at {settings.data_dir}: nothing has been collected there"
                         " (check --data-dir or OSINTEL_DATA_DIR, or collect first with `osintel crawl`"
                         " or `osintel demo`)")


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, default=str, indent=None)
    sys.stdout.write("\n")


def _print_summary(summary: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"documents: {summary['documents']} (enriched {summary['enriched']})"
              f" in {summary.get('seconds', '?')}s\n")
    for key, title in (("by_source", "by source"), ("by_language", "by language"),
                       ("entities_by_label", "entities by label"), ("methods", "methods (top 10)"),
                       ("locations_by_country", "locations by country (top 10)"),
                       ("crime_types", "crime types (top 10)")):
        items = list(summary.get(key, {}).items())[:10]
        out.write(f"{title}: " + ", ".join(f"{k}={v}" for k, v in items) + "\n")
    out.write(f"documents with geocoded locations: {summary.get('documents_with_locations', 0)}\n")
    out.write(f"outbox: {summary.get('outbox')}\n")
    for holder in summary.get("outbox_leases", []):
        out.write(f"  leased: {holder['documents']} by {holder['owner']} ({holder['liveness']})"
                  f" until {holder['lease_expires_at']}\n")
    for query, res in summary.get("queries", {}).items():
        out.write(f"search {query!r}: {res['total']} hits; top: {res['top'][:1]}\n")


#: How the one-line error names each kind of failure (the class name means nothing to a user).
_ERROR_PREFIX: tuple[tuple[type[OsintelError], str, int], ...] = (
    (QueryError, "bad query: ", 2),
    (ConfigError, "configuration error: ", 2),
    (UsageError, "", 2),
    (NotFoundError, "", 1),
    (StoreError, "store: ", 1),
    (IndexBackendError, "search index: ", 1),
    (OsintelError, "", 1),
)


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


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code.

    Every failure ends in one line on stderr, ``osintel: <what failed and what to do>``; the
    traceback and library logs behind it are shown only with ``--verbose``.
    """
    args = build_parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"osintel: configuration error: {exc}", file=sys.stderr)
        return 2
    root = logging.getLogger()
    existing = list(root.handlers)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr, format=log_format)
    if not verbose:
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.ERROR, root.level))
        for handler in root.handlers:
            if handler not in existing:  # only the handler made here: others keep their records whole
                handler.setFormatter(_OneLineFormatter(log_format))
    try:
        _check_data_dir(args, settings)
        return _dispatch(args, settings)
    except OsintelError as exc:
        prefix, code = next((p, c) for cls, p, c in _ERROR_PREFIX if isinstance(exc, cls))
        if verbose:
            traceback.print_exc()
        print(f"osintel: {prefix}{exc}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("osintel: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected library failure: still one line
        if verbose:
            traceback.print_exc()
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(f"osintel: {_command_name(args)} failed: {type(exc).__name__}{': ' + detail if detail else ''}"
              f"{'' if verbose else ' (run again with --verbose for the details)'}", file=sys.stderr)
        return 1


class _OneLineFormatter(logging.Formatter):
    """A log line with its exception as ``(Type: message)`` instead of a traceback (``--verbose`` has it)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        exc = saved[0][1] if saved[0] else None
        return f"{line} ({type(exc).__name__}: {exc})" if exc is not None else line


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    handler = getattr(args, "handler", None)
    if handler is not None:  # a command group from osintel.cli
        return int(handler(args, settings))
    cmd = args.command
    if cmd == "demo":
        site, summary = commands.run_demo(settings, progress=_progress)
        try:
            _print_json(summary) if args.json else _print_summary(summary)
            sys.stdout.flush()
            if not args.no_serve:
                port = args.port or settings.api.port
                secret = commands.demo_key(settings)
                base = f"http://{settings.api.host}:{port}"
                _progress(f"web UI at {base}/ui/ ; sign in with this analyst key (shown once): {secret}")
                _progress(f"search API at {base}/api/search?q=firearms with header X-API-Key (Ctrl-C to stop);"
                          " more keys: osintel keys create --role ROLE --name NAME")
                commands.serve(settings, port=port)
        finally:
            site.stop()
        return 0
    if cmd == "demo-site":
        site, _ = commands.start_demo_site(settings)
        _progress(f"demo site serving at {site.base_url} (Ctrl-C to stop)")
        try:
            import threading

            threading.Event().wait()
        finally:
            site.stop()
        return 0
    if cmd == "crawl":
        if not args.source_ids and not args.all:
            raise ConfigError("name one or more SOURCE_IDs, or pass --all")
        results = commands.crawl(settings, source_ids=args.source_ids, progress=_progress)
        rows = [{"source": r.source_id, "run_id": r.run_id, "status": r.status, **commands._crawl_counts(r.stats)}
                for r in results]
        if args.json:
            _print_json(rows)
        else:
            for row in rows:
                print("  ".join(f"{k}={v}" for k, v in row.items()))
        for r in results:  # one line each on stderr for what was refused or failed
            if r.status == "skipped-expired":
                print(f"osintel: refused to crawl {r.source_id}: {r.error}", file=sys.stderr)
            elif r.status not in commands.GOOD_RUN_STATUSES:
                print(f"osintel: crawl of {r.source_id} {r.status}: {r.error or 'no detail'}", file=sys.stderr)
        return 0 if all(r.status in commands.GOOD_RUN_STATUSES for r in results) else 1
    if cmd == "enrich" and (args.input or args.output):
        return _enrich_stream(args, settings)
    if cmd == "reprocess":
        return _reprocess(args, settings)
    if cmd == "enrich":
        report = commands.enrich(settings, progress=_progress)
        data = {"indexed": report.indexed, "failed": report.failed, "batches": report.batches,
                "enrich_seconds": round(report.enrich_seconds, 2), "index_seconds": round(report.index_seconds, 2),
                "leased": report.leased, "stuck": report.stuck}
        _print_json(data) if args.json else print("  ".join(f"{k}={v}" for k, v in data.items()))
        return 0 if report.failed == 0 and report.stuck == 0 else 1
    if cmd == "sources":
        rows = commands.sources_overview(settings)
        if args.json:
            _print_json(rows)
        else:
            for row in rows:
                last = row["last_run"] or {}
                print(f"{row['id']:<24} {row['kind']:<8} {row['grading']}  last run: "
                      f"{last.get('status', 'never')} {last.get('finished_at') or ''} new={last.get('items_new', 0)}")
                for flag in row.get("health", {}).get("flags", []):
                    print(f"{'':<24} {flag['severity']}: {flag['code']}: {flag['message']}")
        return 0
    if cmd == "search":
        sort = {"newest": "-published", "oldest": "published"}.get(args.sort, args.sort)
        result = commands.search(settings, args.query, limit=args.limit, offset=args.offset, sort=sort,
                                 collapse=not args.all_copies, purpose=args.purpose)
        if args.json:
            _print_json(result)
        else:
            _print_hits(result)
        return 0
    if cmd == "stats":
        data = commands.stats(settings)
        if args.json:
            _print_json(data)
        else:
            _print_summary(data)
        return 0
    if cmd == "capture":
        return _capture(args, settings)
    if cmd == "warc":
        return _warc_verify(args, settings)
    if cmd == "serve":
        commands.serve(settings, port=args.port)
        return 0
    if cmd == "run":
        try:
            commands.run_service(settings, port=args.port, api=not args.no_api, exit_after=args.exit_after,
                                 progress=_progress)
        except AlreadyRunningError as exc:
            print(f"osintel: refusing to start: {exc}", file=sys.stderr)
            return 2
        return 0
    raise ConfigError(f"unknown command {cmd!r}")  # pragma: no cover - argparse rejects it first


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
            report = enrich_stream.enrich_jsonl(settings, source, sink, progress=_progress, problem=problem)
        finally:
            if sink is not sys.stdout:
                sink.close()
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    summary = {"read": report.read, "written": report.written, "invalid": report.invalid,
               "failed": report.failed, "seconds": round(report.seconds, 2)}
    _progress("  ".join(f"{k}={v}" for k, v in summary.items()))
    return 0 if report.invalid == 0 and report.failed == 0 else 1


def _open_input(path: str) -> Any:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise ConfigError(f"cannot read --input {path}: {exc.strerror}") from None


def _reprocess(args: argparse.Namespace, settings: Settings) -> int:
    report = commands.reprocess(settings, args.query, limit=args.limit, progress=_progress)
    if args.json:
        _print_json(report)
    else:
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


def _capture(args: argparse.Namespace, settings: Settings) -> int:
    report = commands.capture(settings, args.urls, grading=args.grading, progress=_progress)
    docs = {d.id: d for d in report.documents}
    failed = False
    for outcome in report.outcomes:
        doc = docs.get(outcome.doc_id or "")
        if outcome.status != "captured" or doc is None:
            failed = True
            print(f"osintel: could not capture {outcome.url}: {outcome.reason or 'no document'}", file=sys.stderr)
        elif args.json:
            sys.stdout.write(doc.to_json() + "\n")
        else:
            cap = doc.capture
            print(f"{doc.id}  {cap.http_status if cap else '-'}  sha256={cap.sha256 if cap else '-'}"
                  f"  {cap.warc_file if cap else '-'}  {outcome.url}")
    return 1 if failed else 0


def _warc_verify(args: argparse.Namespace, settings: Settings) -> int:
    report = commands.verify_evidence(settings, progress=_progress)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"{'OK' if report.ok else 'MISMATCH'}: {report.files} file(s), {report.records} record(s),"
              f" {report.digests_checked} digest(s), {report.documents_checked} document capture(s),"
              f" {len(report.mismatches)} problem(s)")
        for m in report.mismatches:
            print(f"  {m.kind}: file={m.file} record={m.record_id} doc={m.doc_id}"
                  f" expected={m.expected} actual={m.actual} {m.detail}".rstrip())
        for name in report.writable_files:
            print(f"  warning: {name} is writable (evidence files should be read-only)")
        for item in report.interrupted_files:
            print(f"  note: {item['file']} was sealed after run {item['run_id']} was interrupted: the first"
                  f" {item['complete_bytes']} of {item['size']} bytes are complete records (checked); the"
                  f" unfinished last record is kept as found")
    return 0 if report.ok else 1


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`osintel search ... | head`): not an error of ours.
        sys.stderr.close()
        code = 0
    sys.exit(code)
