"""``osintel capture`` (evidence now) and ``osintel warc verify`` (re-hash the evidence)."""

from __future__ import annotations

import argparse
import sys

from osintel.cli._output import print_json, progress
from osintel.service import commands
from osintel.settings import Settings


def _capture(args: argparse.Namespace, settings: Settings) -> int:
    report = commands.capture(settings, args.urls, grading=args.grading, progress=progress)
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
    report = commands.verify_evidence(settings, progress=progress)
    if args.json:
        print_json(report.to_dict())
        return 0 if report.ok else 1
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel capture`` and ``osintel warc verify``."""
    p = sub.add_parser("capture", parents=[common],
                       help="capture pages now (WARC evidence), then enrich and index them")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("--grading", default="2CP", help="3x5x2 grading of the captures (default 2CP)")
    p.add_argument("--json", action="store_true", help="print the resulting documents as JSON lines")
    p.set_defaults(handler=_capture, data_dir_use="create")

    p = sub.add_parser("warc", help="WARC evidence tools")
    warc = p.add_subparsers(dest="warc_command", required=True, metavar="WARC_COMMAND")
    p = warc.add_parser("verify", parents=[common],
                        help="re-hash every WARC record and document capture; exit 1 on a mismatch")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_warc_verify)
