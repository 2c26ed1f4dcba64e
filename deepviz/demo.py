"""The demo set: Debian's Tux Paint stamps (GPL-2, ~785 labelled PNGs), fetched once and cached.

The images come from a package registry, not a web host: ``apt-get download
tuxpaint-stamps-default`` and ``dpkg-deb -x`` (no root, nothing installed). Only the
PNG stamps are kept (not the mirrored copies, sounds or descriptions); their category
folders (``animals/birds``) become labels. The licence text is copied beside them.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from deepviz.cache import cache_root
from deepviz.errors import DeepvizError
from deepviz.pipeline.build import BuildReport, build

PACKAGE = "tuxpaint-stamps-default"
_STAMPS = Path("usr/share/tuxpaint/stamps")
_COPYRIGHT = Path(f"usr/share/doc/{PACKAGE}/copyright")
LABEL_DEPTH = 2  # 'animals/birds' rather than 'animals' or 'symbols/money/us/coins'


class DemoUnavailable(DeepvizError, RuntimeError):
    """The demo images could not be fetched here; the message says how to proceed."""


def demo_images(echo: Callable[[str], None] = print) -> Path:
    """Folder of demo PNGs, fetching them on first use."""
    target = cache_root() / "demo" / "tuxpaint-stamps"
    if (target / ".complete").exists():
        return target
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise DemoUnavailable(
                f"the demo images come from Debian's {PACKAGE} package and `{tool}` is not available here; "
                "run `deepviz demo --images FOLDER` with any folder of images instead"
            )
    echo(f"Fetching the demo images ({PACKAGE}, ~160 MB, once)...")
    with tempfile.TemporaryDirectory() as tmp:
        _run(["apt-get", "download", PACKAGE], cwd=tmp)
        debs = list(Path(tmp).glob("*.deb"))
        if not debs:
            raise DemoUnavailable(f"`apt-get download {PACKAGE}` produced no package; try `apt-get update` first")
        _run(["dpkg-deb", "-x", str(debs[0]), str(Path(tmp) / "x")], cwd=tmp)
        _copy_stamps(Path(tmp) / "x", target)
    return target


def _run(cmd: list[str], cwd: str) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DemoUnavailable(
            f"`{' '.join(cmd)}` failed: {result.stderr.strip()[-300:]}; "
            "on Debian/Ubuntu run `apt-get update` first, or use `deepviz demo --images FOLDER`"
        )


def _copy_stamps(extracted: Path, target: Path) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    source = extracted / _STAMPS
    for png in source.rglob("*.png"):
        if png.stem.endswith("_mirror"):
            continue
        dest = staging / png.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, dest)
    shutil.copyfile(extracted / _COPYRIGHT, staging / "LICENSE-tuxpaint-stamps.txt")
    (staging / ".complete").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def ensure_demo_project(
    images: Path | None = None, *, rebuild: bool = False, progress: bool = True, echo: Callable[[str], None] = print
) -> tuple[Path, BuildReport | None]:
    """Path of the built demo project, building it on first use (later calls are instant),
    and the build's report (None when the cached project was reused)."""
    source = images or demo_images(echo)
    project = cache_root() / "demo" / ("custom.deepviz" if images else "tuxpaint.deepviz")
    if rebuild:
        shutil.rmtree(project, ignore_errors=True)
    if not (project / "manifest.json").exists() or rebuild or images:
        echo(f"Building the demo project in {project} ...")
        # The stamps' labels are their first folder level; a user's folder keeps every level.
        if images:
            return project, build(source, project, progress=progress)
        return project, build(source, project, progress=progress, label_depth=LABEL_DEPTH)
    return project, None
