"""``osintel alerts add|list|remove|test|backtest|history|retry|deliver``: manage and try alert rules.

Thin wrappers over :mod:`alerts` (imported lazily: the kernel imports no stage at
module level). ``--json`` output is stable; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from osintel import audit
from osintel.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    """Add ``osintel alerts ...`` to the parser."""
    alerts = sub.add_parser("alerts", help="watchlists and emerging-method alerts")
    cmds = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")

    p = cmds.add_parser("add", parents=[common], help="add a watchlist (stored query) or emerging-method rule")
    p.add_argument("name")
    p.add_argument("--query", default="", help="analyst query (watchlists)")
    p.add_argument("--kind", choices=["watchlist", "emerging"], default="watchlist")
    p.add_argument("--id", dest="rule_id", help="rule id (default: generated)")
    p.add_argument("--source", action="append", default=[], help="only this source (repeatable)")
    p.add_argument("--language", action="append", default=[], help="only this language (repeatable)")
    p.add_argument("--min-relevance", type=float, default=0.0)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="URL")
    target.add_argument("--email", metavar="ADDRESS")
    target.add_argument("--file", metavar="NAME", help="JSON-lines file under <data_dir>/alerts/")
    p.add_argument("--digest-minutes", type=int, default=0, help="one digest per this many minutes (0: immediate)")
    p.add_argument("--rate-limit", type=int, help="messages per hour (default alerts.rate_limit_per_hour)")
    p.add_argument("--methods", default="", help="emerging rules: method id prefix, e.g. drugs.")
    p.add_argument("--no-places", action="store_true", help="emerging rules: not per (method, country)")
    p.add_argument("--no-phrases", action="store_true", help="emerging rules: no new-phrase alerts")
    p.add_argument("--owner", default="cli", help="owner name recorded with the rule")
    p.add_argument("--disabled", action="store_true", help="store it disabled (backtest first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_add, data_dir_use="create")

    p = cmds.add_parser("list", parents=[common], help="list alert rules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)

    p = cmds.add_parser("remove", parents=[common], help="remove a rule (its history stays)")
    p.add_argument("rule_id")
    p.set_defaults(handler=_remove)

    p = cmds.add_parser("test", parents=[common],
                        help="show what a rule matches now; --send delivers a test message through its sink")
    p.add_argument("rule_id")
    p.add_argument("--send", action="store_true")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--purpose", help="why; written to the oversight record with the documents shown")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_test)

    p = cmds.add_parser("backtest", parents=[common], help="what a rule would have fired on over the stored history")
    p.add_argument("rule_id", nargs="?", help="a stored rule (or use --query / --emerging)")
    p.add_argument("--query", help="backtest this watchlist query without storing it")
    p.add_argument("--emerging", action="store_true", help="backtest emerging-method detection (current settings)")
    p.add_argument("--methods", default="", help="with --emerging: method id prefix")
    p.add_argument("--days", type=int, help="look back this many days (emerging default 90; watchlists: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_backtest)

    p = cmds.add_parser("retry", parents=[common], help="re-queue a dead-lettered message (receiver fixed)")
    p.add_argument("message_id", type=int)
    p.set_defaults(handler=_retry)

    p = cmds.add_parser("deliver", parents=[common], help="send due alert messages now (one attempt each)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_deliver)

    p = cmds.add_parser("history", parents=[common], help="recent alerts and dead-lettered messages")
    p.add_argument("rule_id", nargs="?")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_history)


def _emit(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _alerts(settings: Settings) -> Any:
    from alerts.state import AlertStore
    from osintel.store import open_store

    return AlertStore(open_store(settings))


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from osintel.errors import AlertError
    from alerts.rules import build_rule, check_delivery, save_rule

    sink, target = next((s, t) for s, t in (("webhook", args.webhook), ("email", args.email), ("file", args.file)) if t)
    data: dict[str, Any] = {
        "name": args.name, "kind": args.kind, "query": args.query, "enabled": not args.disabled,
        "scope": {"sources": args.source, "languages": args.language, "min_relevance": args.min_relevance},
        "delivery": {"sink": sink, "target": target, "digest_minutes": args.digest_minutes,
                     "rate_limit_per_hour": args.rate_limit},
        "methods": args.methods, "per_place": not args.no_places, "phrases": not args.no_phrases,
        "owner_name": args.owner,
    }
    if args.rule_id:
        data["id"] = args.rule_id
    try:
        rule = build_rule(data)
        check_delivery(rule.delivery, settings)  # what delivery would refuse, refused now
    except AlertError as exc:
        print(f"osintel: alert rule refused: {exc}", file=sys.stderr)
        return 2
    alerts = _alerts(settings)
    try:
        save_rule(alerts, rule)
    finally:
        alerts.store.close()
    _emit(rule.model_dump(mode="json")) if args.json else print(rule.id)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    alerts = _alerts(settings)
    try:
        rows = alerts.rules()
    finally:
        alerts.store.close()
    items = [{"id": r.id, "name": r.name, "kind": r.kind, "enabled": r.enabled, "owner": r.owner_name,
              "created_at": r.created_at, **r.spec} for r in rows]
    if args.json:
        _emit(items)
        return 0
    for item in items:
        what = item.get("query") or f"methods:{item.get('methods') or '*'}"
        state = "" if item["enabled"] else " (disabled)"
        print(f"{item['id']}\t{item['kind']}\t{item['name']}{state}\t{what}\t-> {item['delivery']['sink']}:"
              f"{item['delivery']['target']}")
    return 0


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    alerts = _alerts(settings)
    try:
        alerts.remove_rule(args.rule_id)
    finally:
        alerts.store.close()
    print(f"removed {args.rule_id}", file=sys.stderr)
    return 0


def _rule(alerts: Any, rule_id: str) -> Any:
    from osintel.errors import NotFoundError
    from alerts.rules import from_row

    row = alerts.get_rule(rule_id)
    if row is None:
        raise NotFoundError(f"no alert rule {rule_id!r}")
    return from_row(row)


def _test(args: argparse.Namespace, settings: Settings) -> int:
    from osintel.service.commands import open_index
    from osintel.errors import DeliveryError
    from osintel.records import utcnow
    from alerts.backtest import backtest_emerging
    from alerts.dispatch import Dispatcher, build_message
    from alerts.evaluate import event_detail

    alerts = _alerts(settings)
    try:
        rule = _rule(alerts, args.rule_id)
        now = utcnow()
        if rule.kind == "watchlist":
            index = open_index(settings)
            try:
                hits = index.search(rule.node(), limit=args.limit, sort="-published").hits
            finally:
                index.close()
            found = [{"id": 0, "kind": "test", "created_at": now.isoformat(), "detail": event_detail(rule, h.document)}
                     for h in hits]
        else:
            result = backtest_emerging(alerts, settings.alerts, rule, days=1)
            found = [{"id": 0, "kind": "test", "created_at": now.isoformat(), "detail": s} for s in result["signals"]]
        out: dict[str, Any] = {"rule": rule.id, "matches": [f["detail"] for f in found], "sent": None}
        # The matches are documents shown to a person: a consultation, logged as the API logs one.
        audit.log_event(alerts.store, actor=audit.cli_actor(), action="consultation", purpose=args.purpose, detail={
            "kind": "alert.test", "interface": "cli", "rule_id": rule.id, "q": rule.query or None,
            "returned": [m.get("document", {}).get("id") for m in out["matches"] if m.get("document")],
        })
        if args.send:
            message = build_message(rule, found, digest=True, now=now)
            message["test"] = True
            dispatcher = Dispatcher(alerts, settings.alerts, settings.data_dir)
            try:
                dispatcher.sink(rule.delivery.sink).send(rule.delivery.target, {**message, "id": 0})
                out["sent"] = True
            except DeliveryError as exc:
                out["sent"] = False
                out["error"] = str(exc)
            finally:
                dispatcher.close()
    finally:
        alerts.store.close()
    if args.json:
        _emit(out)
    else:
        for match in out["matches"]:
            print(match.get("document", {}).get("title") or match.get("title"))
        if args.send:
            print(f"test message {'sent' if out['sent'] else 'FAILED: ' + out.get('error', '')}", file=sys.stderr)
    return 0 if out["sent"] is not False else 1


def _backtest(args: argparse.Namespace, settings: Settings) -> int:
    from osintel.service.commands import open_index
    from alerts.backtest import backtest_emerging, backtest_watchlist
    from alerts.rules import build_rule

    alerts = _alerts(settings)
    try:
        if args.emerging:
            rule = build_rule({"name": "backtest", "kind": "emerging", "methods": args.methods,
                               "delivery": {"sink": "file", "target": "backtest.jsonl"}})
        elif args.query:
            rule = build_rule({"name": "backtest", "query": args.query,
                               "delivery": {"sink": "file", "target": "backtest.jsonl"}})
        elif args.rule_id:
            rule = _rule(alerts, args.rule_id)
        else:
            print("osintel: alerts backtest needs a RULE_ID, --query or --emerging", file=sys.stderr)
            return 2
        if rule.kind == "emerging":
            result = backtest_emerging(alerts, settings.alerts, rule, days=args.days or 90)
        else:
            index = open_index(settings)
            try:
                result = backtest_watchlist(index, rule, days=args.days)
            finally:
                index.close()
    finally:
        alerts.store.close()
    if args.json:
        _emit(result)
        return 0
    if rule.kind == "emerging":
        print(f"{result['alerts']} emerging-method alert(s) from {result['first_day']} to {result['last_day']}")
        for s in result["signals"]:
            print(f"{s['signal']['end']}  {s['title']}: {s['explanation']}")
    else:
        print(f"{result['alerts']} alert(s), {result['duplicates']} duplicate(s) suppressed,"
              f" {result['matched']} match(es){' (truncated)' if result['truncated'] else ''}")
        for day, n in result["by_day"].items():
            print(f"{day}  {n}")
    return 0


def _history(args: argparse.Namespace, settings: Settings) -> int:
    alerts = _alerts(settings)
    try:
        events = alerts.history(rule_ids=[args.rule_id] if args.rule_id else None, limit=args.limit)
        dead = [m for m in alerts.messages(state="dead", limit=args.limit)
                if not args.rule_id or m.rule_id == args.rule_id]
    finally:
        alerts.store.close()
    if args.json:
        _emit({"events": events, "dead_letters": [{"id": m.id, "rule_id": m.rule_id, "sink": m.sink,
                                                   "target": m.target, "attempts": m.attempts,
                                                   "last_error": m.last_error} for m in dead]})
        return 0
    for e in events:
        title = e["detail"].get("document", {}).get("title") or e["detail"].get("title", "")
        print(f"{e['created_at']}\t{e['rule_id']}\t{e['status']}\t{title}")
    for m in dead:
        print(f"dead-letter message {m.id} ({m.rule_id} -> {m.sink}:{m.target}) after {m.attempts}: {m.last_error}")
    return 0


def _retry(args: argparse.Namespace, settings: Settings) -> int:
    from osintel.records import utcnow

    alerts = _alerts(settings)
    try:
        alerts.retry_dead(args.message_id, utcnow())
    finally:
        alerts.store.close()
    print(f"message {args.message_id} re-queued; `osintel alerts deliver` or `osintel run` sends it", file=sys.stderr)
    return 0


def _deliver(args: argparse.Namespace, settings: Settings) -> int:
    from alerts.dispatch import Dispatcher

    alerts = _alerts(settings)
    dispatcher = Dispatcher(alerts, settings.alerts, settings.data_dir)
    try:
        report = dispatcher.run()
    finally:
        dispatcher.close()
        alerts.store.close()
    counts = {"composed": report.composed, "sent": report.sent, "retried": report.retried, "dead": report.dead}
    _emit(counts) if args.json else print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0 if not report.retried and not report.dead else 1
