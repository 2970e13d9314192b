"""Alert latency: from a document entering the outbox to the webhook call that reports it.

Runs the pieces of ``osintel run`` that matter, in-process: the enrichment worker thread (real
NLP models, unless ``--stand-in``), the tantivy index, the alert stage's evaluation hook and its
delivery thread, and a webhook receiver on 127.0.0.1. Documents that match a watchlist are added
to the outbox one every ``--interval`` seconds (a crawl trickling in); each one's latency is the
time from its outbox insert to the receiver getting the signed POST that names it.

Prints median / p95 / max over ``--docs`` documents. The worker sleeps ``worker.poll_seconds``
(``--poll``) when the outbox is empty, which bounds the latency from below for a trickle; a crawl
that finishes wakes it at once. Run: ``.venv/bin/python bench/alerts.py [--docs 50] [--poll 5] [--rules 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osintel.service import commands  # noqa: E402
from osintel.records import Document, SourceRef  # noqa: E402
from osintel.settings import load_settings  # noqa: E402
from osintel.store import ControlStore  # noqa: E402
from osintel.service.worker import EnrichmentWorker  # noqa: E402
from alerts.rules import build_rule, save_rule  # noqa: E402

# Documents must be distinct stories: near-identical texts are (rightly) clustered by the NLP
# stage's near-duplicate detection and then alert only once.
SUBJECTS = ("Detectives", "A youth worker", "The county council", "Border Force officers", "A magistrate",
            "Residents", "The local newspaper", "A charity", "Transport police", "A head teacher")
ACTIONS = ("said a county lines network recruited teenagers", "described how runners carried crack cocaine",
           "found a trap house used by a county lines gang", "reported burner phones seized on a train",
           "warned that couriers were moving heroin by coach", "linked a stabbing to a county lines dispute",
           "seized cash and scales after a county lines raid", "heard how a deal line was sold for thousands")
PLACES = ("Exeter", "Leeds", "Norwich", "Swansea", "Hull", "Ipswich", "Carlisle", "Bath", "Lincoln", "Truro",
          "Derby", "Blackpool", "Margate", "Wrexham", "Stoke", "Bangor")
DETAILS = ("after a months-long operation", "during a week of action", "following tip-offs from parents",
           "in a case that took two years", "as part of a regional crackdown", "weeks after an earlier arrest",
           "at a hearing on Tuesday", "in evidence given to the court", "according to the force's figures")


def story(rng: random.Random, n: int) -> tuple[str, str]:
    """A title and a text made of several distinct random sentences."""
    sentences = [f"{rng.choice(SUBJECTS)} in {rng.choice(PLACES)} {rng.choice(ACTIONS)} "
                 f"{rng.choice(DETAILS)}." for _ in range(6)]
    return f"County lines report {n} from {rng.choice(PLACES)}", " ".join(sentences)


class StandIn:
    """No NLP: isolates the alert path from model speed."""

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        return [d.model_copy(update={"language": "en"}) for d in docs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between documents")
    parser.add_argument("--poll", type=float, default=None, help="worker.poll_seconds (default: the setting)")
    parser.add_argument("--stand-in", action="store_true", help="skip NLP (alert path only)")
    parser.add_argument("--rules", type=int, default=1,
                        help="watchlists evaluated after each batch: one that matches, the rest that never do")
    args = parser.parse_args()

    arrived: dict[str, float] = {}
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            now = time.perf_counter()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            for alert in body["alerts"]:
                arrived.setdefault(alert["document"]["id"], now)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if len(arrived) >= args.docs:
                done.set()

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    with tempfile.TemporaryDirectory(prefix="osintel-bench-alerts-") as tmp:
        settings = load_settings(env={}, overrides={
            "data_dir": tmp, "alerts.watchlists_file": "", "alerts.webhook_secret": "bench",
            "alerts.webhook_allowed_hosts": f"127.0.0.1:{server.server_address[1]}",
            "alerts.flood_threshold": 1000, "alerts.rate_limit_per_hour": 100000,
            "alerts.dispatch_poll_seconds": 1.0,
            **({"worker.poll_seconds": args.poll} if args.poll is not None else {}),
        })
        store = ControlStore(settings.store_path)
        index = commands.open_index(settings)
        started = time.perf_counter()
        enricher = StandIn() if args.stand_in else commands.build_enricher(settings, store=store)
        if hasattr(enricher, "warm_up"):
            enricher.warm_up()  # what `osintel run`'s worker does at start, before any crawl
        print(f"enricher ready in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        alerts = commands.build_alerts(settings, store, index)
        assert alerts is not None
        save_rule(alerts.alerts, build_rule({"name": "county lines", "query": '"county lines"',
                                             "delivery": {"sink": "webhook", "target": url}}))
        for n in range(args.rules - 1):  # realistic, never matching: a phone, a name and a method each
            save_rule(alerts.alerts, build_rule({
                "name": f"watch {n}", "query": f'phone:"+4479{n:08d}" OR "suspect{n} name" OR method:drugs.x{n}',
                "delivery": {"sink": "webhook", "target": url}}))
        alerts.start()
        worker = EnrichmentWorker(settings, store, enricher, index, after_batch=alerts.after_batch)
        worker.start()
        entered: dict[str, float] = {}
        source = SourceRef(id="bench", name="bench")
        rng = random.Random(2026)
        try:
            for n in range(args.docs):
                title, text = story(rng, n)
                d = Document(url=f"https://bench.example/{n}", source=source, title=title, text=text)
                entered[d.id] = time.perf_counter()
                store.add_collected(d, content_sha256=d.id)
                time.sleep(args.interval)
            done.wait(timeout=120 + args.docs * 2)
        finally:
            worker.stop()
            alerts.stop()
            index.close()
            store.close()
            server.shutdown()
    in_order = [round((arrived[i] - t) * 1000) for i, t in entered.items() if i in arrived]
    print("latencies in arrival order (ms): " + " ".join(map(str, in_order)), file=sys.stderr)
    latencies = sorted(in_order)
    if not latencies:
        print("no alerts arrived", file=sys.stderr)
        sys.exit(1)
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    mode = "stand-in NLP" if args.stand_in else "real NLP"
    print(f"outbox -> webhook latency ({mode}, {args.rules} rules, worker poll {settings.worker.poll_seconds}s, "
          f"{len(latencies)}/{args.docs} documents alerted, one every {args.interval}s):")
    print(f"  median {statistics.median(latencies):.0f} ms   p95 {p95:.0f} ms   max {latencies[-1]:.0f} ms")


if __name__ == "__main__":
    main()
