"""``osintel serve`` (the search API) and ``osintel run`` (the whole service)."""

from __future__ import annotations

import argparse
import sys

from osintel.cli._output import progress
from osintel.cli.enrich import workers_override
from osintel.errors import AlreadyRunningError
from osintel.service import commands
from osintel.settings import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    commands.serve(settings, port=args.port)
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        commands.run_service(settings, port=args.port, api=not args.no_api, exit_after=args.exit_after,
                             progress=progress)
    except AlreadyRunningError as exc:
        print(f"osintel: refusing to start: {exc}", file=sys.stderr)
        return 2
    return 0


def _api_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-workers", type=int, metavar="N",
                   help="API processes sharing the port (default 1; setting api.workers)")
    p.set_defaults(settings_overrides=lambda args: {"api.workers": args.api_workers})


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel serve`` and ``osintel run``; both log at INFO by default (a service log)."""
    p = sub.add_parser("serve", parents=[common], help="serve the search API")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    _api_workers(p)
    p.set_defaults(handler=_serve, service=True)

    p = sub.add_parser("run", parents=[common],
                       help="run the service: scheduled crawls, the enrichment worker and the API")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--no-api", action="store_true", help="run the scheduler and worker without the API")
    _api_workers(p)
    p.add_argument("--workers", type=int, metavar="N",
                   help="enrichment processes (default: setting worker.processes; 0 = one per core; 1 = a thread"
                        " of this process)")
    p.add_argument("--exit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)  # tests
    p.set_defaults(handler=_run, data_dir_use="create", service=True,
                   settings_overrides=lambda args: {"api.workers": args.api_workers, **workers_override(args)})
