"""The one access-control table: which roles hold which permission.

Every route of the API declares the single permission it needs with
:func:`search_api.auth.require`; this table alone decides which roles hold it. A test
(``tests/api/test_access.py``) enumerates every route of the app and every role against it.

Roles:

- ``analyst``: search, view documents and captures, own alerts, the web UI.
- ``supervisor``: everything an analyst does, plus all alerts, regrading and retention decisions.
- ``auditor``: the oversight record (read-only) and exports of it; the UI; no content search.
- ``partner``: feeds and exports only (restricted by handling code in the export routes).
- ``admin``: API keys and sources (operates the system; does not read intelligence).
"""

from __future__ import annotations

#: Every role a key may hold.
ROLES: tuple[str, ...] = ("analyst", "supervisor", "auditor", "partner", "admin")

_ANALYSTS = frozenset({"analyst", "supervisor"})

#: permission -> the roles that hold it.
POLICY: dict[str, frozenset[str]] = {
    "search": _ANALYSTS,
    "document.view": _ANALYSTS,
    "document.capture": _ANALYSTS,
    "sources.view": _ANALYSTS | {"admin"},
    "sources.admin": frozenset({"admin"}),
    "keys.admin": frozenset({"admin"}),
    "alerts.own": _ANALYSTS,
    "alerts.all": frozenset({"supervisor"}),
    "regrade": frozenset({"supervisor"}),
    "retention": frozenset({"supervisor"}),
    "audit.read": frozenset({"auditor"}),
    "export": _ANALYSTS | {"partner"},
    "taxii": frozenset({"partner", "supervisor"}),
    "ui": _ANALYSTS | {"auditor", "admin"},
    # Any valid key: who-am-I and the OpenAPI spec (the interface, not the intelligence).
    "authenticated": frozenset(ROLES),
}


def allowed(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission``; an unknown permission is never granted."""
    return role in POLICY.get(permission, frozenset())


def _check() -> None:
    for permission, roles in POLICY.items():
        unknown = roles - set(ROLES)
        if unknown:  # pragma: no cover - guards edits to the table itself
            raise RuntimeError(f"policy {permission!r} names unknown roles {sorted(unknown)}")


_check()
