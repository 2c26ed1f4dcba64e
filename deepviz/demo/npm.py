"""Fetching one package tarball from the npm registry with the standard library, verified by its sha512.

The npm registry is reachable the same way from every OS (HTTPS, no npm needed), and each
version's metadata names its tarball and a Subresource-Integrity hash, so what arrives is
checked before a byte of it is used. The registry URL is a parameter so tests can serve a fake
one from a ``file://`` folder or a loopback server.
"""
from __future__ import annotations

import base64
import hashlib
import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from deepviz.demo.unavailable import DemoUnavailable

REGISTRY = "https://registry.npmjs.org"
_TIMEOUT_S = 60
_CHUNK = 1 << 20


class FetchError(DemoUnavailable):
    """The registry could not be reached (``offline``), or sent something other than what its metadata promised."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class Release:
    """One published version: where its tarball is and the sha512 it must have (raw digest bytes)."""

    package: str
    version: str
    tarball: str
    sha512: bytes


def release(package: str, version: str, registry: str | None = None) -> Release:
    """The registry's metadata for ``package`` at ``version`` (``<registry>/<package>`` JSON; default :data:`REGISTRY`,
    read when called so a test can point it elsewhere)."""
    url = f"{(registry or REGISTRY).rstrip('/')}/{package}"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            meta: Any = json.load(response)
    except (OSError, ValueError) as e:  # URLError is an OSError; a truncated body a ValueError
        raise FetchError(f"could not read {url}: {_reason(e)}", offline=isinstance(e, OSError)) from e
    try:
        dist = meta["versions"][version]["dist"]
        algorithm, _, digest = str(dist["integrity"]).partition("-")
        tarball = str(dist["tarball"])
    except (KeyError, TypeError) as e:
        raise FetchError(f"{url} has no version {version} with a tarball and an integrity hash") from e
    if algorithm != "sha512":  # older packages carry only sha1, too weak to trust
        raise FetchError(f"{package} {version} is published with a {algorithm} hash, not sha512; refusing it")
    return Release(package, version, tarball, base64.b64decode(digest))


def download(rel: Release, dest: Path, announce: Callable[[int | None], None]) -> Path:
    """Stream the tarball to ``dest`` (``announce`` gets its size in bytes, if the server says, before
    the body is read) and check its sha512; a mismatch deletes the file and raises :class:`FetchError`."""
    digest = hashlib.sha512()
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(rel.tarball, timeout=_TIMEOUT_S) as response, open(dest, "wb") as out:
            length = response.headers.get("Content-Length")
            announce(int(length) if length and length.isdigit() else None)
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except OSError as e:
        dest.unlink(missing_ok=True)
        raise FetchError(f"could not download {rel.tarball}: {_reason(e)}", offline=True) from e
    if digest.digest() != rel.sha512:
        dest.unlink(missing_ok=True)
        raise FetchError(
            f"{rel.tarball} does not match the sha512 the registry publishes for {rel.package} {rel.version}; "
            "it was deleted — try again later, or use `deepviz demo --images FOLDER`"
        )
    return dest


def members(tarball: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each regular file in the tarball whose name ``wanted`` accepts, in archive order.

    Nothing is written to disk here: callers choose the destination names themselves. A member
    named with ``..`` or an absolute path makes the whole archive refused (a registry tarball has
    none, so one is a sign of tampering); links and devices are skipped.
    """
    try:
        with tarfile.open(tarball, "r|gz") as archive:
            for member in archive:
                _check_name(member.name, tarball)
                if member.isfile() and wanted(member.name):
                    yield member.name, _read(archive.extractfile(member), member.name)
    except (tarfile.TarError, EOFError) as e:
        raise FetchError(f"{tarball} is not a readable .tgz: {e}") from e


def _check_name(name: str, tarball: Path) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or (name[1:2] == ":"):
        raise FetchError(f"{tarball} holds a file named {name!r}, outside the package folder; refusing the archive")


def _read(stream: IO[bytes] | None, name: str) -> bytes:
    if stream is None:
        raise FetchError(f"{name} could not be read from the archive")
    return stream.read()


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError):
        return f"{e.reason} (offline?)"
    return str(e)
