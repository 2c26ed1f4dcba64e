"""The ``.work`` folder of a project: where a build keeps what it has done until it is committed.

Crash safety rests on one number, the manifest's ``generation``. A build that starts from
generation G keeps its chunks in ``.work/gen-{G+1}``; writing the manifest of generation G+1
is the commit. Whatever is left afterwards in ``.work/gen-{k}`` for k <= G+1 is therefore
already committed (or abandoned) and is deleted, first thing, by the next build — so a kill
during or after the commit can never make the next run commit the same chunks twice.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from deepviz.faults import checkpoint
from deepviz.storage.manifest import CONTENT_NAMED, Manifest
from deepviz.storage.tiles import TILES_DIR

WORK_DIR = ".work"
MARKER = "BUILDING"  # a project folder with no manifest but this marker is a first build to resume
_GEN = re.compile(r"gen-(\d+)$")


class Workspace:
    """``.work/gen-{generation}``: the chunks, backfill and layout cache of the commit that makes ``generation``."""

    def __init__(self, project: Path, generation: int) -> None:
        self.project = project
        self.root = project / WORK_DIR
        self.folder = self.root / f"gen-{generation:06d}"

    @classmethod
    def prepare(cls, project: Path, committed: Manifest | None) -> Workspace:
        """Clean up after any earlier run (idempotently) and return the workspace of the next generation."""
        work = cls(project, committed.generation + 1 if committed else 1)
        work.root.mkdir(parents=True, exist_ok=True)
        (work.root / MARKER).write_text("a deepviz build in progress; rerun it to resume\n", encoding="utf-8")
        for entry in work.root.iterdir():
            if entry.is_dir() and entry != work.folder:
                shutil.rmtree(entry)  # committed already (generation <= committed) or left by other settings
        for tmp in project.glob("**/.*.tmp"):
            tmp.unlink()  # a half-written file an interrupted atomic write left behind
        remove_unnamed(project, committed)
        work.folder.mkdir(exist_ok=True)
        return work

    def clear(self, committed: Manifest) -> None:
        """Once ``committed`` is the manifest: delete the whole ``.work`` folder and the files it no longer names."""
        for entry in sorted(self.root.glob("*/**/*"), reverse=True):
            if entry.is_file():
                entry.unlink()
                checkpoint("cleanup")
        shutil.rmtree(self.root, ignore_errors=True)
        remove_unnamed(self.project, committed)


def remove_unnamed(project: Path, committed: Manifest | None) -> None:
    """Delete content-named files (``layout-HASH.npy``, ...) and tile folders that the committed manifest does not name.

    A server may still have an old one open: on POSIX it keeps reading it until it reloads.
    """
    named = set(committed.files.model_dump().values()) if committed else set()
    for stem, suffix in CONTENT_NAMED.items():
        for path in project.glob(f"{stem}-*{suffix}"):
            if path.name not in named:
                path.unlink(missing_ok=True)
    tiles = committed.tiles.folder if committed and committed.tiles else None
    for folder in project.glob(f"{TILES_DIR}/grid-*"):
        if folder.is_dir() and folder.relative_to(project).as_posix() != tiles:
            shutil.rmtree(folder, ignore_errors=True)  # another grid's tiles (named by that grid's file)


def is_build_in_progress(project: Path) -> bool:
    """Whether ``project`` holds the marker of a deepviz build (so it is ours to resume, not the user's)."""
    return (project / WORK_DIR / MARKER).is_file()
