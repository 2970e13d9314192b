"""Schemathesis fuzzes every operation of the OpenAPI spec against a real server: no 5xx.

Each operation is called with a key whose role holds its permission (an admin key alone would
be refused by most routes before their handlers ran, which would test only the 403 path).
Examples per operation are bounded so the whole run stays well under a minute. (Schemathesis'
pytest plugin does not run under pytest 9, so the operations' Hypothesis strategies are driven
directly.)
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import schemathesis
from schemathesis.core.result import Err
from hypothesis import HealthCheck, given, settings

from search_api.auth import iter_routes, route_permission
from search_api.policy import POLICY, ROLES

MAX_EXAMPLES = 8


def _role_for(app: Any, method: str, path: str) -> str:
    for route in iter_routes(app):
        if route.path == path and method.upper() in (getattr(route, "methods", None) or ()):
            permission = route_permission(route)
            if permission is not None:
                return next(r for r in ROLES if r in POLICY[permission])
    return "admin"


def test_no_operation_answers_with_a_server_error(live_api: Any) -> None:
    spec = httpx.get(f"{live_api.base_url}/openapi.json", headers={"X-API-Key": live_api.keys["admin"]})
    spec.raise_for_status()
    schema = schemathesis.openapi.from_dict(spec.json())
    failures: list[str] = []
    calls: list[float] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        role = _role_for(live_api.app, operation.method, operation.path)
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case: Any) -> None:
            headers = {**(case.headers or {}), "X-API-Key": live_api.keys[role],
                       "X-Requested-With": "schemathesis"}
            started = time.perf_counter()
            response = case.call(base_url=live_api.base_url, headers=headers, timeout=30)
            calls.append(time.perf_counter() - started)
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {case.formatted_path} as {role}: "
                                f"{response.status_code} {response.text[:300]}")

        check()
    assert operations >= 15 and len(calls) >= operations * 3
    print(f"schemathesis: {operations} operations, {len(calls)} calls, {sum(calls):.1f} s in calls")
    assert not failures, "\n".join(failures[:20])
