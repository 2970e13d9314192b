"""API keys and UI sessions, stored hashed in the control store.

A key's secret is ``<key_id>.<random token>`` (256 random bits). Only the SHA-256 of the secret
is stored: with that much entropy a plain (fast) hash is enough, since guessing is infeasible
and a slow password hash would only cost every request time. The ``key_id`` prefix finds the row;
the digest is compared in constant time. Revoked keys stay in the table (with ``revoked_at``) so
the oversight record's actors remain resolvable.

UI sessions are random tokens handed out as a cookie; the store keeps only their SHA-256, the
key they were opened with and an expiry. Revoking a key ends its sessions too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from osintel import audit
from osintel.errors import ConfigError, NotFoundError
from osintel.records import utcnow

if TYPE_CHECKING:
    from osintel.store import ControlStore

#: Roles a key may hold (the policy table in ``search_api/policy.py`` gives them meaning).
ROLES: tuple[str, ...] = ("analyst", "supervisor", "auditor", "partner", "admin")
_PREFIX = "ok_"


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never its secret)."""

    key_id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "name": self.name, "role": self.role,
                "created_at": self.created_at, "revoked_at": self.revoked_at}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(store: ControlStore, *, role: str, name: str, actor: str = "cli") -> tuple[str, str]:
    """Create a key for ``role``; returns ``(key_id, secret)``. The secret is shown only now."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise ConfigError("a key needs a name (who or what holds it)")
    key_id = _PREFIX + secrets.token_hex(6)
    secret = f"{key_id}.{secrets.token_urlsafe(32)}"
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO api_keys(key_id, name, role, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
            (key_id, name, role, _digest(secret), utcnow().isoformat()),
        )
        audit.record(tx, actor=actor, action="alteration",
                     detail={"kind": "key.create", "key_id": key_id, "name": name, "role": role})
    return key_id, secret


def _row_key(row: Any) -> ApiKey:
    return ApiKey(row["key_id"], row["name"], row["role"], row["created_at"], row["revoked_at"])


def list_keys(store: ControlStore) -> list[ApiKey]:
    """Every key, newest first, revoked ones included."""
    rows = store.read("SELECT key_id, name, role, created_at, revoked_at FROM api_keys"
                        " ORDER BY created_at DESC, key_id")
    return [_row_key(r) for r in rows]


def revoke_key(store: ControlStore, key_id: str, *, actor: str = "cli") -> ApiKey:
    """Revoke ``key_id`` (and end its UI sessions); raises NotFoundError for an unknown id."""
    with store.transaction() as tx:
        # Locked to COMMIT: of two API servers revoking one key at once, the second waits, then
        # finds it revoked and records nothing (one revocation, one event).
        row = tx.fetch_one("SELECT key_id, name, role, created_at, revoked_at FROM api_keys WHERE key_id = ?"
                           + store.row_lock, (key_id,))
        if row is None:
            raise NotFoundError(f"no API key with id {key_id!r} (see `osintel keys list`)")
        if row["revoked_at"] is None:
            now = utcnow().isoformat()
            tx.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (now, key_id))
            tx.execute("DELETE FROM ui_sessions WHERE key_id = ?", (key_id,))
            audit.record(tx, actor=actor, action="alteration",
                         detail={"kind": "key.revoke", "key_id": key_id, "name": row["name"]})
        row = tx.fetch_one("SELECT key_id, name, role, created_at, revoked_at FROM api_keys WHERE key_id = ?",
                           (key_id,))
    return _row_key(row)


def authenticate(store: ControlStore, secret: str) -> ApiKey | None:
    """The live key whose secret is ``secret``, or None (unknown, wrong or revoked)."""
    key_id, dot, _ = secret.partition(".")
    if not dot or not key_id.startswith(_PREFIX) or len(secret) > 200:
        return None
    rows = store.read("SELECT key_id, name, role, created_at, revoked_at, secret_sha256 FROM api_keys"
                        " WHERE key_id = ?", (key_id,))
    if not rows or rows[0]["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(rows[0]["secret_sha256"], _digest(secret)):
        return None
    return _row_key(rows[0])


# -- UI sessions --------------------------------------------------------------------------------


def create_session(store: ControlStore, key: ApiKey, *, ttl_seconds: int) -> str:
    """Open a UI session for ``key``; returns the random token to set as the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.transaction() as tx:
        # Sweep expired sessions here so the table never grows without bound.
        tx.execute("DELETE FROM ui_sessions WHERE expires_at < ?", (now.isoformat(),))
        tx.execute(
            "INSERT INTO ui_sessions(token_sha256, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (_digest(token), key.key_id, now.isoformat(), (now + timedelta(seconds=ttl_seconds)).isoformat()),
        )
    return token


def session_key(store: ControlStore, token: str) -> ApiKey | None:
    """The live key behind an unexpired session ``token``, or None."""
    if not token or len(token) > 200:
        return None
    rows = store.read(
        "SELECT k.key_id, k.name, k.role, k.created_at, k.revoked_at FROM ui_sessions s"
        " JOIN api_keys k ON k.key_id = s.key_id"
        " WHERE s.token_sha256 = ? AND s.expires_at > ? AND k.revoked_at IS NULL",
        (_digest(token), utcnow().isoformat()),
    )
    return _row_key(rows[0]) if rows else None


def end_session(store: ControlStore, token: str) -> None:
    """Forget the session ``token`` (logging out); unknown tokens are ignored."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM ui_sessions WHERE token_sha256 = ?", (_digest(token),))
