"""Security headers for the web UI's responses.

Crawled content is hostile. The UI inserts it with ``textContent`` only, and this
Content-Security-Policy is the second wall: no inline script, no plug-ins, no ``<base>``
hijacking, no framing, and every fetch stays on this origin (the map draws on a bundled outline,
so no tile server is needed). The JSON API's responses are left alone except for ``nosniff``;
the interactive OpenAPI docs (``/docs``) load their own inline script and are not UI pages.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy every UI response carries. No 'unsafe-inline' anywhere: styles come from app.css
#: and scripts from /ui/static only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

#: Paths outside ``/ui/`` that belong to the UI (they only redirect into it).
UI_EXACT: frozenset[str] = frozenset({"/", "/login", "/ui"})


def is_ui_path(path: str) -> bool:
    """True for the UI's pages, static files and the redirects into them."""
    return path in UI_EXACT or path.startswith("/ui/")


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: adds CSP and friends to UI responses, ``nosniff`` to all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        ui = is_ui_path(path)
        # Pages name the analyst: no shared cache may keep them. Static assets may be cached.
        page = ui and not path.startswith("/ui/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                owned = _OWNED if ui else _NOSNIFF
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in owned]
                headers.append((b"x-content-type-options", b"nosniff"))
                if ui:
                    headers.extend(_UI_HEADERS)
                if page:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


_UI_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_NOSNIFF = frozenset({b"x-content-type-options"})
_OWNED = _NOSNIFF | {name for name, _ in _UI_HEADERS}
