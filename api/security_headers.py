"""Browser security headers on every answer: a content security policy with no inline script
and no framing, no MIME sniffing, no referrer to other sites, nothing dynamic cached, and HSTS
in production."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",  # the fill bars' widths; never a <style> or script
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
STATIC_PREFIXES = ("/static/", "/docs-assets/", "/api-static/")
# The Temporal UI behind the ops proxy brings its own policy (it needs inline script).
OWN_POLICY_PREFIXES = ("/ops/temporal/",)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        static = path.startswith(STATIC_PREFIXES)
        own_policy = path.startswith(OWN_POLICY_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = [] if own_policy else [(b"content-security-policy", CSP.encode())]
                wanted += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if not static:
                    wanted.append((b"cache-control", b"no-store"))
                if self.hsts:
                    wanted.append((b"strict-transport-security", HSTS.encode()))
                headers += [(name, value) for name, value in wanted if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
