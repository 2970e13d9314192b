"""``osintel demo`` and ``osintel demo-site``: the bundled local demo sources."""

from __future__ import annotations

import argparse
import sys
import threading

from osintel.cli._output import print_json, print_summary, progress
from osintel.service import commands
from osintel.settings import Settings


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    site, summary = commands.run_demo(settings, progress=progress)
    try:
        print_json(summary) if args.json else print_summary(summary)
        sys.stdout.flush()
        if not args.no_serve:
            port = args.port or settings.api.port
            secret = commands.demo_key(settings)
            base = f"http://{settings.api.host}:{port}"
            progress(f"web UI at {base}/ui/ ; sign in with this analyst key (shown once): {secret}")
            progress(f"search API at {base}/api/search?q=firearms with header X-API-Key (Ctrl-C to stop);"
                     " more keys: osintel keys create --role ROLE --name NAME")
            commands.serve(settings, port=port)
    finally:
        site.stop()
    return 0


def _demo_site(args: argparse.Namespace, settings: Settings) -> int:
    site, _ = commands.start_demo_site(settings)
    progress(f"demo site serving at {site.base_url} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    finally:
        site.stop()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel demo`` and ``osintel demo-site``."""
    p = sub.add_parser("demo", parents=[common], help="crawl, enrich and index the bundled demo site, then serve")
    p.add_argument("--no-serve", action="store_true", help="exit after the summary instead of serving the API")
    p.add_argument("--port", type=int, help="API port (default 8000)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_demo, data_dir_use="create")

    p = sub.add_parser("demo-site", parents=[common], help="serve only the bundled demo site until Ctrl-C")
    p.add_argument("--port", type=int, help="site port (default 8765)")
    p.set_defaults(handler=_demo_site, data_dir_use="create",
                   settings_overrides=lambda args: {"demo.site_port": args.port})
