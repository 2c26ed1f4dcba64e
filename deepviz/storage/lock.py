"""One build at a time per project: an advisory file lock, with the holder's PID for the message."""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from deepviz.errors import DeepvizError

LOCK = ".lock"
HOLDER = ".lock.holder"


class ProjectBusy(DeepvizError, RuntimeError):
    """Another process is building this project."""


@contextmanager
def build_lock(project: Path) -> Iterator[None]:
    """Hold the project's build lock for the block, or raise ProjectBusy naming who holds it.

    The lock is the operating system's (flock / LockFileEx through ``filelock``), so a killed
    holder releases it at once; the holder file only tells the next user who it was.
    """
    project.mkdir(parents=True, exist_ok=True)
    lock = FileLock(project / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ProjectBusy(f"{project} is being built by {_holder(project)}; wait for it to finish, then run again") from None
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        (project / HOLDER).write_text(json.dumps(info), encoding="utf-8")
        yield
    finally:
        (project / HOLDER).unlink(missing_ok=True)
        lock.release()


def _holder(project: Path) -> str:
    try:
        info = json.loads((project / HOLDER).read_text(encoding="utf-8"))
        return f"process {info['pid']} on {info['host']} (since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


SERVING = ".serving-"  # + PID: a `deepviz serve` of this project, so a build can say it will be picked up


@contextmanager
def announce_serving(project: Path) -> Iterator[None]:
    """Mark ``project`` as served by this process for the block (silently skipped on a read-only project)."""
    mark = project / f"{SERVING}{os.getpid()}"
    try:
        mark.write_text(socket.gethostname(), encoding="utf-8")
    except OSError:
        yield
        return
    try:
        yield
    finally:
        mark.unlink(missing_ok=True)


def servers(project: Path) -> list[int]:
    """PIDs of the live `deepviz serve` processes of ``project`` on this machine (stale marks are removed)."""
    alive = []
    for mark in project.glob(f"{SERVING}*"):
        pid = mark.name.removeprefix(SERVING)
        if not pid.isdigit() or mark.read_text(encoding="utf-8", errors="replace") != socket.gethostname():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            mark.unlink(missing_ok=True)  # a server that was killed: its mark is stale
            continue
        except PermissionError:
            pass  # alive, another user's
        alive.append(int(pid))
    return sorted(alive)
