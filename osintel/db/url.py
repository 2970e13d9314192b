"""Store URLs (``[store] url``): which engine, and how to name one in a message without its secret."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: Schemes of the PostgreSQL store; "" (no URL) is the embedded SQLite file in the data directory.
POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``: safe for logs and error messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable store URL>"
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{netloc}"))


def check(url: str) -> str:
    """``url`` if it names a store engine osintel has; raises ValueError (naming it redacted)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        if "," not in parts.netloc:  # libpq's multi-host form (h1:5432,h2:5432) has no one port
            parts.port  # noqa: B018 -- raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"store URL {redact(url)!r} is malformed: {exc}") from None
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(f"store URL {redact(url)!r} has an unknown scheme {parts.scheme!r}:"
                         " use postgresql://user@host:port/database, or \"\" for the embedded SQLite file")
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError(f"store URL {redact(url)!r} names no host")
    if not parts.path.strip("/"):
        raise ValueError(f"store URL {redact(url)!r} names no database (postgresql://host:port/DATABASE)")
    return url
