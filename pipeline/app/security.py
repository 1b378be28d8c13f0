"""The app's guard: every request passes it before any route (an ASGI middleware).

1. **Host**: a ``Host`` header other than 127.0.0.1, localhost or ::1 (and the ``--host``
   given with ``--allow-remote``) gets 400: a web page elsewhere cannot reach the app by
   pointing its own name at 127.0.0.1 (DNS rebinding).
2. **Token**: a secret made at each launch is part of the printed URL (``?token=``). Opening
   it sets a cookie (HttpOnly, SameSite=Strict) and redirects to the same page without the
   token; a request with neither gets 401, a wrong token 403.
3. **Changes** (POST, PUT, PATCH, DELETE) need the page's CSRF token in ``X-CSRF-Token``
   and an ``Origin`` (or ``Referer``) of the app itself: 403 otherwise.
4. **Headers** on every response: a strict Content-Security-Policy (the app's own scripts,
   styles and connections only; nothing from elsewhere, no framing), ``nosniff``,
   ``no-referrer``, ``no-store``.
"""

from __future__ import annotations

import hmac
from typing import Any

from .config import AppConfig

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# the reports carry their own, stricter policy (hashes of their inline style and script, in a
# <meta>); a browser applies both, so this one only adds what a header can: no framing
REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "media-src data: 'self'; connect-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def cookie_name(port: int) -> str:
    """One cookie per port: two launches on two ports do not overwrite each other's."""
    return f"attune_{port}"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def host_name(host_header: str) -> str:
    """``[::1]:8000`` -> ``::1``; ``localhost:8000`` -> ``localhost``."""
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1 : h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


class Guard:
    """The ASGI middleware that applies the four rules above."""

    def __init__(self, app: Any, config: AppConfig):
        self.app, self.config = app, config

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, send)
        if scope["type"] != "http":  # no websockets
            return
        from starlette.requests import Request
        from starlette.responses import PlainTextResponse, RedirectResponse

        request = Request(scope)
        port = int((scope.get("server") or ("", 0))[1] or 0)
        refusal = self._refusal(request, port)
        if refusal is not None:
            status, text = refusal
            return await PlainTextResponse(text, status)(scope, receive, self._with_headers(send))
        token = request.query_params.get("token")
        if token is not None:  # the printed link: keep the token in a cookie, take it out of the address
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            from urllib.parse import urlencode

            target = request.url.path + (("?" + urlencode(rest)) if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(cookie_name(port), self.config.token, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, self._with_headers(send))
        return await self.app(scope, receive, self._with_headers(send))

    def _refusal(self, request, port: int):
        """(status, one-line reason) for a request that must not reach the app, or None."""
        c = self.config
        if host_name(request.headers.get("host", "")) not in c.allowed_hosts():
            return 400, "This address is not the attunement app (unexpected Host header)."
        token = request.query_params.get("token")
        if token is not None:
            if not _same(token, c.token):
                return 403, "This link is from an earlier start of the app: use the one attune serve printed."
        else:
            cookie = request.cookies.get(cookie_name(port))
            if cookie is None:
                return 401, "Open the app with the link that attune serve printed (it holds a secret key)."
            if not _same(cookie, c.token):
                return 403, "This page is from an earlier start of the app: use the link attune serve printed."
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("origin") or request.headers.get("referer")
            if not c.origin_ok(origin, port):
                return 403, "Refused: a change must come from the app's own page (cross-origin request)."
            if not _same(request.headers.get("x-csrf-token", ""), c.csrf):
                return 403, "Refused: the page's security key is missing or old; reload the page."
        return None

    @staticmethod
    def _with_headers(send):
        async def wrapped(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", APP_CSP.encode()))
                headers += [(k, v) for k, v in HEADERS if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        return wrapped
