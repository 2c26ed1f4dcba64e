"""deepviz in a notebook: ``show`` a project (or arrays) as a widget whose state Python reads and sets."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepviz.arrays import from_arrays
from deepviz.errors import MissingDependency, UsageError, pip_command
from deepviz.storage.project import Project, open_project

if TYPE_CHECKING:
    from deepviz.notebook.widget import DeepvizWidget

__all__ = ["show"]


def show(project: str | os.PathLike[str] | Project | None = None, *, height: int = 640, **arrays: Any) -> DeepvizWidget:
    """The app for ``project`` in the notebook, as a widget (display it, or end a cell with it).

    Given ``images=``, ``features=``, ``labels=`` (and other ``deepviz.from_arrays`` arguments)
    instead of a project, builds them into a temporary project first. Needs ``anywidget``
    (``pip install anywidget``); the app is served by this kernel on 127.0.0.1, so the notebook's
    browser must run on the kernel's machine (Jupyter or VS Code locally).
    """
    try:
        from deepviz.notebook.served import serve_in_kernel
        from deepviz.notebook.widget import DeepvizWidget
    except ImportError as err:
        if not any(name in str(err) for name in ("anywidget", "traitlets", "ipywidgets")):
            raise
        raise MissingDependency(pip_command("anywidget")) from err
    if project is None:
        if not arrays:
            raise UsageError("give a project folder, or images=/features= arrays to build one")
        out = arrays.pop("out", None) or Path(tempfile.mkdtemp(prefix="deepviz-")) / "arrays.deepviz"
        from_arrays(out=out, **arrays)
        project = out
    elif arrays:
        raise UsageError(f"give a project or arrays, not both (got {', '.join(arrays)} with a project)")
    opened = project if isinstance(project, Project) else open_project(Path(project))
    return DeepvizWidget(opened, serve_in_kernel(opened), height=height)
