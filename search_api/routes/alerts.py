"""Alert rules and their history: analysts manage their own (``alerts.own``); supervisors see and
manage everyone's (``alerts.all``). Creating and removing a rule is an audited alteration: a
watchlist on a person or a phone number is targeted monitoring, and oversight must see it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from osintel import audit
from alerts.state import AlertStore
from osintel.errors import AlertError
from alerts.rules import (
    Delivery,
    Rule,
    Scope,
    build_rule,
    check_delivery,
    from_row,
    save_rule,
    visible_to,
)
from search_api.auth import Principal, require
from search_api.deps import SettingsDep
from search_api.policy import allowed

router = APIRouter(tags=["alerts"])

Owner = Annotated[Principal, Depends(require("alerts.own"))]
RuleId = Annotated[str, Path(max_length=100)]


def get_alerts(request: Request) -> AlertStore:
    """One :class:`AlertStore` per app (it creates its tables once)."""
    alerts = getattr(request.app.state, "alert_store", None)
    if alerts is None or alerts.store is not request.app.state.store:
        alerts = request.app.state.alert_store = AlertStore(request.app.state.store)
    return alerts


AlertsDep = Annotated[AlertStore, Depends(get_alerts)]


class AlertIn(BaseModel):
    """A new rule (the owner is the caller)."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["watchlist", "emerging"] = "watchlist"
    query: str = Field(default="", max_length=2000)
    scope: Scope = Field(default_factory=Scope)
    delivery: Delivery
    enabled: bool = True
    methods: str = Field(default="", max_length=100)
    per_place: bool = True
    phrases: bool = True


class AlertOut(AlertIn):
    id: str
    owner_id: str | None
    owner_name: str | None


class AlertEvent(BaseModel):
    id: int
    rule_id: str
    doc_id: str
    status: str
    kind: str
    created_at: str
    detail: dict[str, Any]


def _out(rule: Rule) -> AlertOut:
    return AlertOut(**rule.model_dump())


def _see_all(principal: Principal) -> bool:
    return allowed(principal.role, "alerts.all")


def _visible(alerts: AlertStore, principal: Principal, rule_id: str) -> Rule:
    row = alerts.get_rule(rule_id)
    rule = from_row(row) if row is not None else None
    if rule is None or not visible_to(rule, principal.key_id, see_all=_see_all(principal)):
        raise HTTPException(404, detail={"code": "not_found", "message": f"no alert rule {rule_id!r}"})
    return rule


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(principal: Owner, alerts: AlertsDep) -> list[AlertOut]:
    """The caller's rules (a supervisor's call lists every rule)."""
    owner = None if _see_all(principal) else principal.key_id
    return [_out(from_row(r)) for r in alerts.rules(owner_id=owner)]


@router.post("/alerts", response_model=AlertOut, status_code=201)
def create_alert(body: AlertIn, principal: Owner, alerts: AlertsDep, settings: SettingsDep) -> AlertOut:
    """Store a rule owned by the caller; it alerts on documents indexed from now on. A delivery
    target its sink would refuse (a private webhook address, a malformed e-mail address, a file
    name outside the alerts directory) is a 400 with the reason."""
    try:
        rule = build_rule({**body.model_dump(), "owner_id": principal.key_id, "owner_name": principal.name})
        check_delivery(rule.delivery, settings)
    except AlertError as exc:
        raise HTTPException(400, detail={"code": "bad_alert", "message": str(exc)}) from None
    save_rule(alerts, rule)
    audit.log_event(alerts.store, actor=principal.actor, action="alteration",
                    detail={"kind": "alert_rule.create", "rule_id": rule.id, "rule_kind": rule.kind,
                            "query": rule.query, "sink": rule.delivery.sink, "target": rule.delivery.target})
    return _out(rule)


@router.get("/alerts/history", response_model=list[AlertEvent])
def alert_history(principal: Owner, alerts: AlertsDep,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertEvent]:
    """Recent alerts of the caller's rules (all rules for a supervisor), newest first."""
    ids = None if _see_all(principal) else [r.id for r in alerts.rules(owner_id=principal.key_id)]
    return [AlertEvent(**e) for e in alerts.history(rule_ids=ids, limit=limit)]


@router.get("/alerts/{rule_id}", response_model=AlertOut)
def get_alert(rule_id: RuleId, principal: Owner, alerts: AlertsDep) -> AlertOut:
    return _out(_visible(alerts, principal, rule_id))


@router.get("/alerts/{rule_id}/history", response_model=list[AlertEvent])
def rule_history(rule_id: RuleId, principal: Owner, alerts: AlertsDep,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertEvent]:
    """Recent alerts of one rule, newest first."""
    rule = _visible(alerts, principal, rule_id)
    return [AlertEvent(**e) for e in alerts.history(rule_ids=[rule.id], limit=limit)]


@router.delete("/alerts/{rule_id}", status_code=204)
def delete_alert(rule_id: RuleId, principal: Owner, alerts: AlertsDep) -> None:
    """Remove a rule; its history stays."""
    rule = _visible(alerts, principal, rule_id)
    alerts.remove_rule(rule.id)
    audit.log_event(alerts.store, actor=principal.actor, action="alteration",
                    detail={"kind": "alert_rule.delete", "rule_id": rule.id})
