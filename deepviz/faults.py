"""A test hook: kill this process at a named point of a build, to prove that every interruption resumes.

The crash tests run ``deepviz build`` with ``DEEPVIZ_TEST_KILL_AT=NAME`` (or ``NAME#K`` for
the K-th time the point is passed) and check that the rerun gives the same project as an
uninterrupted build. Unset, ``checkpoint`` is a dictionary lookup and nothing else.
"""
from __future__ import annotations

import os
import signal

ENV = "DEEPVIZ_TEST_KILL_AT"
_passed: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """Die at once, as ``kill -9`` would, if the environment names this point (and this pass of it)."""
    target = os.environ.get(ENV)
    if not target:
        return
    point, _, nth = target.partition("#")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(nth or 1):
        # SIGKILL: no finally blocks, no atexit, no flushing — the harshest interruption there is.
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
