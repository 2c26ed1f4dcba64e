"""Who can reach a server bound beyond loopback: this machine's names and the addresses of its interfaces.

Only the standard library: Linux answers exactly (ioctl per interface, /proc for IPv6); elsewhere
the addresses the machine's own name resolves to are the best cheap answer.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path

__all__ = ["interface_addresses", "is_loopback", "machine_names"]

_SIOCGIFADDR = 0x8915  # Linux: an interface's IPv4 address
_IF_INET6 = Path("/proc/net/if_inet6")


def is_loopback(address: str) -> bool:
    """Whether a bound address (as resolved, e.g. '127.0.0.1', '::1') stays on this machine."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return address == "localhost"


def machine_names() -> list[str]:
    """Names other machines may use for this one: its host name, fully qualified name and mDNS name."""
    host = socket.gethostname().lower()
    names = {host, socket.getfqdn().lower(), f"{host.split('.')[0]}.local"}
    return sorted(n for n in names if n and n != "localhost")


def interface_addresses(bound: str) -> list[tuple[str, str]]:
    """(interface, address) pairs on which a server bound to ``bound`` can be reached from elsewhere,
    loopback left out. ``bound`` is an all-interfaces address ('0.0.0.0' or '::') or one address."""
    every = [*_ipv4_addresses(), *_ipv6_addresses()] or _resolved_addresses()
    if bound == "0.0.0.0":
        wanted = [(i, a) for i, a in every if ":" not in a]
    elif bound == "::":  # dual-stack sockets take IPv4 too, which is how Linux sets them up by default
        wanted = every
    else:
        wanted = [(i, a) for i, a in every if a == bound] or [("", bound)]
    return [(i, a) for i, a in wanted if not is_loopback(a)]


def _ipv4_addresses() -> list[tuple[str, str]]:
    try:
        import fcntl

        interfaces = socket.if_nameindex()
    except (ImportError, OSError):
        return []
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in interfaces:
            try:
                packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:  # no IPv4 address on this interface, or not Linux
                continue
            found.append((name, socket.inet_ntoa(packed[20:24])))
    return found


def _ipv6_addresses() -> list[tuple[str, str]]:
    try:
        lines = _IF_INET6.read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) == 6:
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            if not address.is_link_local:  # reachable only with a zone id, not by a plain URL
                found.append((fields[5], str(address)))
    return found


def _resolved_addresses() -> list[tuple[str, str]]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({("", str(info[4][0])) for info in infos})
