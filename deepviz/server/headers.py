"""Security headers on every response: what the page may load and who may frame or embed it."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeaders", "framed_by"]

# What the built page (deepviz/server/static) and the API docs page need, and nothing more:
# scripts, styles and fetches from this server only (no inline script or style element; styles
# set from JS through el.style are not affected); images from here, from blob: URLs of fetched
# thumbnails and from data: (the page's empty favicon); no plugins, no <base>, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
    "referrer-policy": "no-referrer",  # image paths in URLs must not leak to any link target
    "cross-origin-opener-policy": "same-origin",
    # Another site's <img src=http://127.0.0.1:8765/api/thumbs/...> is blocked by the browser,
    # so it cannot even tell that an image exists from its loading.
    "cross-origin-resource-policy": "same-origin",
}
_ENCODED = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


def framed_by(ancestors: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    """The headers with framing allowed to ``ancestors`` (CSP sources, e.g. the notebook widget's
    ``http://localhost:*``) instead of to nobody; no ancestors: :data:`SECURITY_HEADERS` as they are."""
    if not ancestors:
        return _ENCODED
    csp = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(ancestors))
    headers = {**SECURITY_HEADERS, "content-security-policy": csp}
    del headers["x-frame-options"]  # it cannot name origins; browsers that know CSP ignore it anyway
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response, replacing any the app set; ``frame_ancestors``
    (CSP sources) may frame the app (the notebook widget), where otherwise nothing may."""

    def __init__(self, app: ASGIApp, frame_ancestors: tuple[str, ...] = ()) -> None:
        self.app = app
        self._headers = framed_by(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if bytes(k).lower().decode() not in SECURITY_HEADERS]
                message = {**message, "headers": kept + self._headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
