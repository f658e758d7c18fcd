"""Security headers and request limits for every response, as one pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) because it must never buffer a response: audio
files stream through untouched, Range requests keep their 206, only the headers of
``http.response.start`` change. Headers a route set itself win (the comment pages send
their own stricter ``Referrer-Policy``).

Limits are checked before the application reads anything:
- a request target (path and query) longer than ``max_target_bytes`` is answered 400;
- a body whose Content-Length is over the path's limit is answered 413 without being read;
- a chunked body is counted as the application reads it, and reading past the limit raises
  ``BodyTooLarge`` (an HTTP 413 the application's own error handler turns into its page or
  JSON), so nothing over the limit reaches a handler or the disk.
The server discards what the client still sends after such an answer.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
OTHER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Swagger UI comes from this CDN and styles itself inline; the docs page shows no user input.
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_FAVICON_HOST = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

Refuse = Callable[[Request, int, str], Response]  # the application's own error page or JSON


def policy_text(directives: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def script_hashes(html: str) -> list[str]:
    """CSP hash sources for the page's inline scripts, so they run without 'unsafe-inline'."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in _INLINE_SCRIPT.findall(html)]


def docs_policy(html: str) -> str:
    """The policy of the Swagger UI page: its CDN, its one inline script by hash, its inline styles."""
    return policy_text({**PAGE_POLICY,
                        "script-src": " ".join(["'self'", DOCS_CDN, *script_hashes(html)]),
                        "style-src": f"'self' {DOCS_CDN} 'unsafe-inline'",
                        "img-src": f"'self' data: {DOCS_FAVICON_HOST}"})


def megabytes(size: int) -> str:
    """« 1 », « 1 000 », « 0,5 »: a size in French for messages."""
    value = size / 1_000_000
    return f"{value:,.0f}".replace(",", " ") if value >= 1 else f"{value:.1f}".replace(".", ",")


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a chunked body passes its limit."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    message: str

    @classmethod
    def of(cls, max_bytes: int) -> BodyLimit:
        return cls(max_bytes, f"Requête trop volumineuse : {megabytes(max_bytes)} Mo au plus.")


@dataclass(frozen=True)
class Limits:
    """What a request may weigh: a small default for forms and JSON, more for the listed paths."""

    default: BodyLimit = field(default_factory=lambda: BodyLimit.of(1_000_000))
    by_path: Mapping[str, BodyLimit] = field(default_factory=dict)
    max_target_bytes: int = 8192

    def body(self, path: str) -> BodyLimit:
        return self.by_path.get(path, self.default)


class SecurityMiddleware:
    """Adds the security headers to every response and enforces ``Limits`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits, refuse: Refuse, policies: Mapping[str, str] | None = None):
        self.app = app
        self.limits = limits
        self.refuse = refuse
        self.headers = _raw_headers(policy_text(PAGE_POLICY))
        self.headers_by_path = {path: _raw_headers(policy) for path, policy in (policies or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        send_with_headers = self._sender(scope, send)

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if target > self.limits.max_target_bytes:
            longest = f"{self.limits.max_target_bytes:,}".replace(",", " ")
            message = f"Adresse trop longue : {longest} caractères au plus. Raccourcissez la recherche."
            await self._refuse(scope, receive, send_tracked, 400, message)
            return
        limit = self.limits.body(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await self._refuse(scope, receive, send_tracked, 413, limit.message)
            return
        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise BodyTooLarge(limit.message)
            return message

        try:
            await self.app(scope, receive_counted, send_tracked)
        except BodyTooLarge as error:
            if started:
                raise
            await self._refuse(scope, receive, send_tracked, 413, error.detail)

    def _sender(self, scope: Scope, send: Send) -> Send:
        added = self.headers_by_path.get(scope["path"], self.headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                headers.extend((name, value) for name, value in added if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        await self.refuse(Request(scope, receive), status, message)(scope, receive, send)


def _raw_headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-security-policy", policy.encode()),
            *((name.lower().encode(), value.encode()) for name, value in OTHER_HEADERS.items())]


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
