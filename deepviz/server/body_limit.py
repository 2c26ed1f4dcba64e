"""A hard limit on request bodies, counted as the bytes arrive, so an over-long upload (chunked ones,
which declare no length, included) is answered 413 without anything beyond the limit being kept."""
from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]


class _TooLarge(Exception):
    """Raised from the receive channel to stop the app reading (and spooling) any further."""


class BodyLimit:
    """Answers 413 with ``message`` as soon as a request body passes ``max_bytes``.

    A declared Content-Length over the limit is refused before anything is read. Otherwise each
    chunk is counted on the ASGI receive channel; the chunk that passes the limit raises there,
    inside the app's form parser, so the parser never writes it to its temporary file. Whatever
    the app then answers (its parser error) is replaced by the 413, and the connection is closed
    rather than drained, since a client still sending is most likely sending more of the same.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, message: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        counted = _Counted(receive, self.max_bytes)
        answered = False

        async def send_unless_over(message: Message) -> None:
            nonlocal answered
            if not counted.over:
                await send(message)
            elif message["type"] == "http.response.start" and not answered:
                answered = True
                await self._too_large(scope, receive, send)

        try:
            await self.app(scope, counted.receive, send_unless_over)
        except _TooLarge:
            if not answered:
                answered = True
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": self.message}, status_code=413, headers={"connection": "close"})
        await response(scope, receive, send)


class _Counted:
    """A receive channel that counts body bytes and raises once they pass ``limit``."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.seen = 0
        self.over = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.over = True
                raise _TooLarge
        return message
