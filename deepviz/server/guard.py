"""Who may talk to the server: requests for a host name it was not given (DNS rebinding) and
state-changing requests from another site's page are refused before the app sees them.

A server on 127.0.0.1 is not private by itself: any page the user visits can make the browser
send requests to it, either through a name of its own that it re-points at 127.0.0.1 (then the
Host header carries that name) or by posting a form cross-site (then Origin or Sec-Fetch-Site
names the other site). Both are pure ASGI middleware, so static files and thumbnails are covered.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK_NAMES", "HostCheck", "OriginCheck", "host_names", "split_host"]

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
ALL_INTERFACES = ("", "0.0.0.0", "::")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# "none" is a request the user started (typed URL, bookmark); same-site is another port of this
# machine, i.e. another program's page, so it is refused like cross-site.
_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
_HTTP_DEFAULT_PORT = 80


def url_host(address: str) -> str:
    """An address as it appears in a URL or Host header: lower-case, IPv6 in brackets, and an
    IPv4-mapped IPv6 address (how a dual-stack socket on :: sees IPv4 clients) as plain IPv4."""
    address = address.lower()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ip.ipv4_mapped) if ip.ipv4_mapped else f"[{ip}]"
    return str(ip)


def host_names(host: str, allowed: Iterable[str] = (), machine: Iterable[str] = ()) -> frozenset[str]:
    """The names a request's Host may carry: loopback names, the bound address ``host`` (unless it is
    all interfaces), names the user allowed (``--allow-host``) and ``machine``'s names (``--public``)."""
    names = set(LOOPBACK_NAMES) | {url_host(n) for n in [*allowed, *machine]}
    if host not in ALL_INTERFACES:
        names.add(url_host(host))
    return frozenset(names)


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header -> (lower-case name, IPv6 in brackets; port or None), or None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        name += bracket
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, port_text = value.partition(":")
        port = port_text if colon else None
    if not name or (port is not None and not (port.isdigit() and 0 < int(port) < 65536)):
        return None
    return name, int(port) if port is not None else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class HostCheck:
    """Answers 403 to a request whose Host is not one of ``names`` (see :func:`host_names`).

    A name must come with the port the connection arrived on (browsers always send it unless it
    is 80), so ``localhost:8080`` is another program's origin, not ours. A name given with its own
    port (``NAME:PORT``) matches exactly that, and a ``--allow-host`` name without a port matches
    any port (a proxy in front may use its own). The address the connection arrived at is always
    allowed: an IP literal cannot be rebound.

    ``names``    names on the connection's port (:func:`host_names`)
    ``allowed``  the user's ``--allow-host`` entries: NAME on any port, or NAME:PORT on that port
    """

    def __init__(self, app: ASGIApp, names: Iterable[str], allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.names = frozenset(names)
        self.allowed = frozenset(url_host(n) for n in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            if not self.allows(host, scope.get("server")):
                if scope["type"] == "websocket":  # none are served, but none may open either
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await _refuse(scope, receive, send, self._refusal(host, scope.get("server")))
                return
        await self.app(scope, receive, send)

    def allows(self, host: str | None, server: tuple[str, int | None] | None) -> bool:
        parsed = split_host(host) if host is not None else None
        if parsed is None:
            return False
        name, port = parsed
        if name in self.allowed or (port is not None and f"{name}:{port}" in self.allowed):
            return True
        local = url_host(server[0]) if server and _is_ip(server[0]) else None
        if name not in self.names and name != local:
            return False
        bound_port = server[1] if server else None
        return bound_port is None or (port or _HTTP_DEFAULT_PORT) == bound_port

    def _refusal(self, host: str | None, server: tuple[str, int | None] | None) -> str:
        port = server[1] if server else None
        here = f"http://127.0.0.1:{port}/" if port else "http://127.0.0.1/"
        asked = f"host {host!r}" if host is not None else "no Host header"
        return (
            f"this deepviz server answers only requests for {', '.join(sorted(self.names | self.allowed))} "
            f"on its own port; a request for {asked} was refused, so that no web page can read your images "
            f"by pointing its own name at this machine. Open {here} instead, or restart deepviz serve with "
            "--allow-host NAME to answer that name too"
        )


class OriginCheck:
    """Answers 403, before the body is read, to a state-changing request sent by another site's page.

    Browsers name the page that made a request in ``Origin`` (every POST, even a plain form) and,
    in recent ones, say how it relates to the target in ``Sec-Fetch-Site``. The app's own page
    sends its own origin; a client that is not a browser (curl, scripts, tests) sends neither and
    is let through, as the Host check already confines it to the names above.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in STATE_CHANGING:
            why = cross_origin(_header(scope, b"origin"), _header(scope, b"sec-fetch-site"), _header(scope, b"host"))
            if why is not None:
                detail = (
                    f"{scope['method']} refused: {why}. Only the deepviz page itself may change anything here; "
                    "open the app and use it there (or send the request without an Origin header, as curl does)"
                )
                await _refuse(scope, receive, send, detail)
                return
        await self.app(scope, receive, send)


def cross_origin(origin: str | None, fetch_site: str | None, host: str | None) -> str | None:
    """Why a request is cross-origin, or None if it came from this server's own page (or no browser)."""
    if fetch_site is not None and fetch_site.strip().lower() not in _TRUSTED_FETCH_SITES:
        return f"the browser says it comes from a {fetch_site} page (Sec-Fetch-Site)"
    if origin is None:
        return None
    scheme, sep, netloc = origin.strip().lower().partition("://")
    # The Host check already confined Host to our names, so its own origin is the only one allowed.
    if not sep or scheme not in ("http", "https") or host is None or netloc != host.strip().lower():
        return f"it comes from the page of another origin ({origin})"
    return None


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


async def _refuse(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
    await JSONResponse({"detail": detail}, status_code=403)(scope, receive, send)
