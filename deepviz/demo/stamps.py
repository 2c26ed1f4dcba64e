"""The Debian demo set: Tux Paint stamps (GPL-2, ~785 labelled PNGs), where apt exists.

The images come from Debian's archive: ``apt-get download tuxpaint-stamps-default`` and
``dpkg-deb -x`` (no root, nothing installed). Only the PNG stamps are kept (not the mirrored
copies, sounds or descriptions); their category folders (``animals/birds``) become labels.
The licence text is copied beside them.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from deepviz.demo.unavailable import DemoUnavailable

PACKAGE = "tuxpaint-stamps-default"
_STAMPS = Path("usr/share/tuxpaint/stamps")
_COPYRIGHT = Path(f"usr/share/doc/{PACKAGE}/copyright")
LABEL_DEPTH = 2  # 'animals/birds' rather than 'animals' or 'symbols/money/us/coins'


def fetch(target: Path, echo: Callable[[str], None] = print) -> Path:
    """Download the Debian package and copy its stamps into ``target``."""
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise DemoUnavailable(
                f"the stamps demo set comes from Debian's {PACKAGE} package and `{tool}` is not available here; "
                "run `deepviz demo` (the emoji set, any OS) or `deepviz demo --images FOLDER` instead"
            )
    echo(f"Fetching the demo images once: Debian package {PACKAGE} (~160 MB) with apt-get download ...")
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
