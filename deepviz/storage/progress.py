"""How far a running build has got, written by the build and read by a server of the same project.

The file lives in the build's ``.work`` folder, which the commit deletes, and it is believed only
while the build that wrote it is alive (the lock's holder PID): a killed build is never shown as
still building, and nothing here can make a half-built project look finished (only the manifest does).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from deepviz.storage.lock import HOLDER
from deepviz.storage.manifest import MANIFEST
from deepviz.storage.workspace import WORK_DIR

PROGRESS = "PROGRESS.json"
# A build writes its progress at most this often (seconds): every chunk would be hundreds of renames.
WRITE_EVERY = 0.5


class BuildProgress(BaseModel):
    """One stage of a running build: ``done`` of ``total`` items (images, or 0 of 0 for a stage without steps)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    done: int = 0
    total: int = 0
    pid: int = 0
    # A first build's map before its thumbnails (pipeline/preview.py): a project folder under .work, once written.
    preview: str = ""


class ProgressWriter:
    """Writes ``BuildProgress`` atomically into ``project/.work``, at most every ``WRITE_EVERY`` seconds
    within a stage (a new stage is always written)."""

    def __init__(self, project: Path) -> None:
        self.path = project / WORK_DIR / PROGRESS
        self._stage = ""
        self._written = 0.0
        self._last = BuildProgress(stage="")
        self._preview = ""
        self._lock = threading.Lock()  # the build's thread and its layout thread both report

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._written < WRITE_EVERY and done < total:
            return
        self._stage, self._written = stage, now
        self._write(BuildProgress(stage=stage, done=done, total=total, pid=os.getpid()))

    def preview(self, folder: Path) -> None:
        """From now on, name ``folder`` (inside ``.work``) as the build's preview, and say so at once."""
        self._preview = folder.relative_to(self.path.parent).as_posix()
        self._write(self._last)

    def _write(self, record: BuildProgress) -> None:
        with self._lock:
            self._last = record
            if not self.path.parent.is_dir():
                return  # before the workspace exists (a scan, a feature file being checked): nothing to serve yet
            record = record.model_copy(update={"preview": self._preview, "pid": os.getpid()})
            # Renamed into place (a reader sees the old record or the new one) but not synced: a record
            # lost in a crash is of no use anyway, and a sync per chunk would slow the build.
            tmp = self.path.with_name(f".{PROGRESS}.tmp")
            tmp.write_text(record.model_dump_json(), encoding="utf-8")
            os.replace(tmp, self.path)


def read_progress(project: Path) -> BuildProgress | None:
    """The progress of the build running on ``project`` now, or None when no live build holds it."""
    try:
        record = BuildProgress.model_validate_json((project / WORK_DIR / PROGRESS).read_text(encoding="utf-8"))
        holder = json.loads((project / HOLDER).read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None
    if not isinstance(holder, dict) or holder.get("pid") != record.pid or holder.get("host") != socket.gethostname():
        return None  # written by an earlier build, or by another machine's, which we cannot ask
    return record if _alive(record.pid) else None


def preview_folder(project: Path, progress: BuildProgress) -> Path | None:
    """The live build's preview project folder, when it has written one (and it is inside ``.work``)."""
    if not progress.preview:
        return None
    work = (project / WORK_DIR).resolve()
    folder = (work / progress.preview).resolve()
    return folder if folder.is_relative_to(work) and (folder / MANIFEST).is_file() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
