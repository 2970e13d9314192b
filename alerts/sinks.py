"""Alert sinks: where alert messages go. Registered in :data:`SINKS`, built-ins included.

A sink gets one message (a single alert or a digest, see :mod:`alerts.dispatch`) and
delivers it or raises :class:`~osintel.errors.DeliveryError` (``permanent=True`` when retrying
cannot help). Every value that came from a crawled page is hostile: the e-mail HTML escapes it;
JSON encodes it.

- ``webhook``: POST of the JSON message, signed ``X-Osintel-Signature: sha256=<hex>`` =
  HMAC-SHA256(``alerts.webhook_secret``, ``<timestamp>.<body>``) with ``X-Osintel-Timestamp``
  (receivers should refuse stale timestamps). Loopback/private targets are refused unless listed
  in ``alerts.webhook_allowed_hosts`` (:mod:`osintel.netguard`, the crawler's SSRF policy);
  redirects are not followed.
- ``email``: SMTP (``smtplib``), multipart plain text + HTML.
- ``file``: one JSON line per message, appended to ``<data_dir>/alerts/<target>``.

Every sink's ``check(target)`` says whether a target can ever be delivered to, raising a
permanent :class:`~osintel.errors.DeliveryError` with the reason. ``send`` runs it before each
delivery and :func:`check_target` runs it when a rule is created, so the two never disagree.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import re
import smtplib
import time
from collections.abc import Callable
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from osintel.errors import BlockedAddressError, ConfigError, DeliveryError
from osintel.netguard import AddressPolicy
from osintel.settings import AlertSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Osintel-Signature"
TIMESTAMP_HEADER = "X-Osintel-Timestamp"
DELIVERY_HEADER = "X-Osintel-Delivery"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Sink(Protocol):
    """Delivers one message to ``target`` or raises :class:`DeliveryError`.

    ``check(target)`` raises a permanent :class:`DeliveryError` when ``target`` can never be
    delivered to (malformed, refused); ``send`` calls it first.
    """

    def check(self, target: str) -> None: ...

    def send(self, target: str, message: dict[str, Any]) -> None: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a webhook body: ``sha256=<hex>``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, max_age: float = 300.0,
           now: float | None = None) -> bool:
    """What a receiver does: constant-time check of the signature and the timestamp's age."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= max_age and hmac.compare_digest(sign(secret, timestamp, body), signature)


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _dns_name(name: str) -> bool:
    """True for a syntactically valid DNS host name (IDNA allowed; at least two labels)."""
    try:
        ascii_name = name.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_name.split(".")
    return (len(ascii_name) <= 253 and len(labels) >= 2 and all(_HOST_LABEL.match(label) for label in labels)
            and not labels[-1].isdigit())


def _host_kind(host: str) -> str:
    """``ip`` for an IP literal, ``name`` for a DNS name (``localhost`` included), else ``bad``."""
    try:
        ipaddress.ip_address(host)
        return "ip"
    except ValueError:
        pass
    return "name" if host == "localhost" or _dns_name(host) else "bad"


class WebhookSink:
    """POST signed JSON to an http(s) URL."""

    def __init__(self, settings: AlertSettings, data_dir: Path) -> None:
        self.secret = settings.webhook_secret
        self.timeout = settings.webhook_timeout_seconds
        allowed = [h for h in settings.webhook_allowed_hosts.split(",") if h.strip()]
        try:
            self.policy = AddressPolicy(allowed, dns_timeout=self.timeout)
        except BlockedAddressError as exc:
            raise ConfigError(f"alerts.webhook_allowed_hosts: {exc}") from None
        self._client: httpx.Client | None = None

    def check(self, target: str) -> None:
        """Refuse a target that is not an http(s) URL with a valid host and port, or whose host
        is (or resolves to) a loopback/private/reserved address not in the allow-list."""
        def refuse(reason: str) -> DeliveryError:
            return DeliveryError(f"webhook target {target!r} {reason}", permanent=True)

        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
            raise refuse("contains spaces or control characters")
        parts = urlsplit(target)
        if parts.scheme.lower() not in ("http", "https"):
            raise refuse("is not an http:// or https:// URL")
        host = (parts.hostname or "").rstrip(".")
        if not host or _host_kind(host) == "bad":
            raise refuse("has no valid host name")
        try:
            port = parts.port if parts.port is not None else (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise refuse("has an invalid port") from None
        if not 0 < port < 65536:
            raise refuse("has an invalid port")
        # The host the HTTP client will connect to must be the one judged here.
        if httpx.URL(target).host.rstrip(".").lower() != host.lower():
            raise refuse("is ambiguous (its host reads differently to the HTTP client)")
        netloc = f"[{host}]" if ":" in host else host
        try:
            self.policy.check(f"{parts.scheme.lower()}://{netloc}:{port}/")
        except BlockedAddressError as exc:
            raise refuse(f"is refused: {exc}; list its host:port in alerts.webhook_allowed_hosts to allow it"
                         ) from None

    def send(self, target: str, message: dict[str, Any]) -> None:
        if not self.secret:
            raise DeliveryError("alerts.webhook_secret is not set (OSINTEL_ALERTS_WEBHOOK_SECRET); "
                                "refusing to send unsigned webhooks", permanent=True)
        self.check(target)
        body = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                   "User-Agent": "osintel-alerts/1",
                   # The message id: a receiver de-duplicates on it (a crash may re-send once).
                   DELIVERY_HEADER: str(message.get("id", ""))}
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False)
        try:
            response = self._client.post(target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {target}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429)
            raise DeliveryError(f"webhook {target} answered HTTP {response.status_code}", permanent=permanent)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class EmailSink:
    """Send a multipart (plain + HTML) e-mail through the configured SMTP server."""

    def __init__(self, settings: AlertSettings, data_dir: Path) -> None:
        self.settings = settings

    def check(self, target: str) -> None:
        """Refuse anything but one plain ``local@domain.tld`` address, parsed as the message's
        ``To`` header will be (no display name, no list, no line breaks, a DNS domain)."""
        try:
            address = Address(addr_spec=target)
        except (ValueError, IndexError, HeaderParseError) as exc:
            raise DeliveryError(f"{target!r} is not an e-mail address: {exc}", permanent=True) from None
        if address.addr_spec != target or not address.username or not _dns_name(address.domain):
            raise DeliveryError(f"{target!r} is not an e-mail address of the form name@domain.tld",
                                permanent=True)

    def send(self, target: str, message: dict[str, Any]) -> None:
        self.check(target)
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.smtp_from
        mail["To"] = target
        mail["Subject"] = subject(message)
        mail.set_content(render_text(message))
        mail.add_alternative(render_html(message), subtype="html")
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused recipient {target}: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.smtp_host}:{s.smtp_port}: {type(exc).__name__}: {exc}") from exc


class FileSink:
    """Append the message as one JSON line to ``<data_dir>/alerts/<target>``."""

    def __init__(self, settings: AlertSettings, data_dir: Path) -> None:
        self.directory = data_dir / "alerts"

    def check(self, target: str) -> None:
        """Refuse a name that is not a plain file name or whose path leaves the alerts directory
        (a separator, ``..``, or a symbolic link pointing elsewhere)."""
        if not _FILE_NAME.match(target) or ".." in target:
            raise DeliveryError(f"file target {target!r} is not a plain file name (letters, digits, . _ -)"
                                f" kept under {self.directory}", permanent=True)
        if (self.directory / target).resolve().parent != self.directory.resolve():
            raise DeliveryError(f"file target {target!r} escapes {self.directory}", permanent=True)

    def send(self, target: str, message: dict[str, Any]) -> None:
        self.check(target)
        path = (self.directory / target).resolve()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(message, sort_keys=True, default=str) + "\n")
        except OSError as exc:
            raise DeliveryError(f"cannot append to {path}: {exc}") from exc


#: Sink name -> factory(settings.alerts, data_dir). Add a sink by registering it here.
SINKS: dict[str, Callable[[AlertSettings, Path], Sink]] = {
    "webhook": WebhookSink,
    "email": EmailSink,
    "file": FileSink,
}


def check_target(sink: str, target: str, settings: AlertSettings, data_dir: Path) -> None:
    """Raise :class:`DeliveryError` (permanent) with the reason when ``sink`` can never deliver to
    ``target``: the very check the sink makes before each delivery, run when a rule is created."""
    factory = SINKS.get(sink)
    if factory is None:
        raise DeliveryError(f"unknown alert sink {sink!r}; known: {', '.join(SINKS)}", permanent=True)
    instance = factory(settings, data_dir)
    try:
        instance.check(target)
    finally:
        close = getattr(instance, "close", None)
        if close is not None:
            close()


# --- rendering (e-mail) -------------------------------------------------------------------


def subject(message: dict[str, Any]) -> str:
    rule = message["rule"]["name"].replace("\n", " ").replace("\r", " ")[:120]
    n = message["count"]
    return f"[osintel] {rule}: {n} new alert{'s' if n != 1 else ''}{' (digest)' if message['digest'] else ''}"


def _summary(alert: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(title, link, detail lines) of one alert of any kind."""
    if "document" in alert:
        d = alert["document"]
        lines = [f"source {d['source']}, published {d.get('published_at') or 'unknown'}",
                 f"methods: {', '.join(d['methods']) or '-'}; places: {', '.join(d['places']) or '-'}"]
        if d.get("excerpt"):
            lines.append(d["excerpt"][:300])
        return d.get("title") or d["id"], d.get("url") or "", lines
    return alert.get("title", "alert"), "", [alert.get("explanation", "")]


def render_text(message: dict[str, Any]) -> str:
    """Plain-text body of an alert message."""
    out = [subject(message), ""]
    for alert in message["alerts"]:
        title, link, lines = _summary(alert)
        out.append(f"* {title}")
        if link:
            out.append(f"  {link}")
        out.extend(f"  {line}" for line in lines if line)
        out.append("")
    return "\n".join(out)


def render_html(message: dict[str, Any]) -> str:
    """HTML body; every crawled value is escaped and links are only ever http(s)."""
    esc = html.escape
    items = []
    for alert in message["alerts"]:
        title, link, lines = _summary(alert)
        safe_link = link if urlsplit(link).scheme in ("http", "https") else ""
        head = (f'<a href="{esc(safe_link, quote=True)}">{esc(title)}</a>' if safe_link else esc(title))
        body = "".join(f"<br><small>{esc(line)}</small>" for line in lines if line)
        items.append(f"<li>{head}{body}</li>")
    return (f"<!doctype html><html><body><h2>{esc(subject(message))}</h2>"
            f"<ul>{''.join(items)}</ul></body></html>")
