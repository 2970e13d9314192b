"""Alert sinks: where alert messages go. Registered in :data:`SINKS`, built-ins included.

A sink gets one message (a single alert or a digest, see :mod:`search_api.alerts.dispatch`) and
delivers it or raises :class:`~osintel.errors.DeliveryError` (``permanent=True`` when retrying
cannot help). Every value that came from a crawled page is hostile: the e-mail HTML escapes it;
JSON encodes it.

- ``webhook``: POST of the JSON message, signed ``X-Osintel-Signature: sha256=<hex>`` =
  HMAC-SHA256(``alerts.webhook_secret``, ``<timestamp>.<body>``) with ``X-Osintel-Timestamp``
  (receivers should refuse stale timestamps). Loopback/private targets are refused unless listed
  in ``alerts.webhook_allowed_hosts``; redirects are not followed.
- ``email``: SMTP (``smtplib``), multipart plain text + HTML.
- ``file``: one JSON line per message, appended to ``<data_dir>/alerts/<target>``.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import smtplib
import socket
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from osintel.errors import DeliveryError
from osintel.settings import AlertSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Osintel-Signature"
TIMESTAMP_HEADER = "X-Osintel-Timestamp"
DELIVERY_HEADER = "X-Osintel-Delivery"


class Sink(Protocol):
    """Delivers one message to ``target`` or raises :class:`DeliveryError`."""

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


class WebhookSink:
    """POST signed JSON to an http(s) URL."""

    def __init__(self, settings: AlertSettings, data_dir: Path) -> None:
        self.secret = settings.webhook_secret
        self.timeout = settings.webhook_timeout_seconds
        self.allowed = {h.strip().lower() for h in settings.webhook_allowed_hosts.split(",") if h.strip()}
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False)

    def send(self, target: str, message: dict[str, Any]) -> None:
        if not self.secret:
            raise DeliveryError("alerts.webhook_secret is not set (OSINTEL_ALERTS_WEBHOOK_SECRET); "
                                "refusing to send unsigned webhooks", permanent=True)
        self._check_destination(target)
        body = json.dumps(message, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                   "User-Agent": "osintel-alerts/1",
                   # The message id: a receiver de-duplicates on it (a crash may re-send once).
                   DELIVERY_HEADER: str(message.get("id", ""))}
        try:
            response = self._client.post(target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {target}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429)
            raise DeliveryError(f"webhook {target} answered HTTP {response.status_code}", permanent=permanent)

    def _check_destination(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(f"webhook target {url!r} is not an http(s) URL", permanent=True)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if f"{parts.hostname.lower()}:{port}" in self.allowed:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise DeliveryError(f"webhook host {parts.hostname!r} does not resolve: {exc}") from exc
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            if not ip.is_global:
                raise DeliveryError(f"webhook target {parts.hostname}:{port} resolves to non-public address"
                                    f" {ip}; list it in alerts.webhook_allowed_hosts to allow it",
                                    permanent=True)

    def close(self) -> None:
        self._client.close()


class EmailSink:
    """Send a multipart (plain + HTML) e-mail through the configured SMTP server."""

    def __init__(self, settings: AlertSettings, data_dir: Path) -> None:
        self.settings = settings

    def send(self, target: str, message: dict[str, Any]) -> None:
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

    def send(self, target: str, message: dict[str, Any]) -> None:
        path = (self.directory / target).resolve()
        if path.parent != self.directory.resolve():
            raise DeliveryError(f"file target {target!r} escapes {self.directory}", permanent=True)
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
