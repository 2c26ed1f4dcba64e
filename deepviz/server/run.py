"""`deepviz serve`: run the app with uvicorn on a free port, say where, and open the browser on it."""
from __future__ import annotations

import errno
import os
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path

import uvicorn

from deepviz.cache import cache_root
from deepviz.errors import UsageError
from deepviz.server.app import create_app
from deepviz.server.exposure import interface_addresses, is_loopback
from deepviz.settings import ServeSettings
from deepviz.storage.lock import announce_serving

_ALL_INTERFACES = ("", "0.0.0.0", "::")
_NEARBY_PORTS = 10
_BACKLOG = 2048  # uvicorn's default


def serve(
    project: str | os.PathLike[str],
    settings: ServeSettings | None = None,
    *,
    echo: Callable[[str], object] = print,
) -> None:
    """Serve the app for ``project`` until Ctrl+C. A taken ``port`` is replaced by a free one (0 = any).

    A ``host`` beyond loopback needs ``settings.public``; the addresses others can then use are printed.
    """
    settings = settings or ServeSettings()
    host, port = settings.host, settings.port
    address = _address(host, port)[1]
    check_public(host, address, settings.public)
    app = create_app(project, settings, uploads_dir=cache_root() / "uploads", grids_dir=cache_root() / "grids")
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    if port and bound != port:
        echo(f"Port {port} is taken; using {bound} instead.")
    url = app_url(host, bound)
    if not is_loopback(address):
        for line in reach(address, bound):
            echo(line)
    echo(f"deepviz is serving {project} at {url}  (Ctrl+C to stop)")
    state = app.state.deepviz.snapshot()
    if state is None:  # a first build still running: the page shows its progress, then its map
        echo("Its first build is still running: the page shows how far it has got, and the map once it is laid out.")
    else:
        hint = state.rankings.slow_hint(state.project.default_feature_set)
        if hint:
            echo(hint)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    # Loading the features (and the model for uploads) now makes the first query as fast as the rest.
    threading.Thread(target=app.state.deepviz.warm_up, name="deepviz-warm-up", daemon=True).start()
    if settings.open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), name="deepviz-browser", daemon=True).start()
    with announce_serving(Path(project)):  # a build of this project then says it will be picked up
        server.run(sockets=[sock])


def check_public(host: str, address: str, public: bool) -> None:
    """Refuse to listen beyond this machine (``address``, what ``host`` resolved to) unless ``public``."""
    if public or is_loopback(address):
        return
    where = "every interface" if host in _ALL_INTERFACES else f"{address}, which other machines can reach"
    raise UsageError(
        f"--host {host!r} would listen on {where}, so anyone on those networks could browse these images; "
        "add --public if that is what you want, or leave out --host to keep the server on this machine (127.0.0.1)"
    )


def reach(address: str, port: int) -> list[str]:
    """Lines saying who can reach a server listening on ``address`` (as bound) and ``port``."""
    where = "all interfaces" if address in _ALL_INTERFACES else address
    lines = [f"--public: listening on {where}, port {port}. Anyone on these networks can browse these images:"]
    found = interface_addresses(address)
    for interface, ip in found:
        lines.append(f"  {app_url(ip, port)}" + (f"  ({interface})" if interface else ""))
    if not found:
        lines.append("  (no address of this machine other than loopback was found)")
    return lines


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port``; when that is taken, to one of the next few ports (a URL
    the user can guess) or else to any free port. ``port`` 0 means any free port."""
    family, address = _address(host, port)
    nearby = range(port, min(port + _NEARBY_PORTS, 65536)) if port else range(0)
    for candidate in [*nearby, 0]:
        # proto must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on such sockets, and
        # without it every keep-alive response waited ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        # As uvicorn does: a port left in TIME_WAIT by the previous run can be reused at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, candidate))
        except OSError as err:
            sock.close()
            if err.errno == errno.EADDRINUSE and candidate != 0:
                continue
            raise UsageError(f"cannot listen on {host}:{candidate} ({err.strerror}); choose another --host or --port") from None
        # Listening now, before the URL is printed: a client that follows the printed URL while
        # uvicorn is still starting waits in the backlog instead of being refused.
        sock.listen(_BACKLOG)
        return sock
    raise AssertionError("unreachable: port 0 either binds or raises")


def _address(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    try:
        family, _, _, _, sockaddr = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as err:
        raise UsageError(f"cannot resolve host {host!r} ({err.strerror}); use an address such as 127.0.0.1") from None
    return family, str(sockaddr[0])


def app_url(host: str, port: int) -> str:
    """The URL to open: all-interfaces hosts are shown as this machine's loopback address."""
    shown = "127.0.0.1" if host in _ALL_INTERFACES else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _open_when_started(server: uvicorn.Server, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not server.started and not server.should_exit and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)
