"""A notebook executed headless by nbclient, as Jupyter runs it: arrays shown as a widget, a query added
and a brush set from Python, the state read back."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("anywidget")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELLS = [
    """import numpy as np
import deepviz
rng = np.random.default_rng(0)
which = np.arange(40) % 4
features = rng.normal(size=(4, 16))[which] + 0.1 * rng.normal(size=(40, 16))
view = deepviz.show(features=features, labels=[f"class {k}" for k in which], progress=False)
view""",
    """row = view.add_query(5)
view.set_brush(0, 0, 10)
print("QUERIES", [q.ref for q in view.queries], "WINDOWS", view.windows, "N", view.project.n)""",
]


def notebook(cells: list[str]) -> object:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def test_a_notebook_shows_arrays_and_sets_a_query_from_python(tmp_path: Path) -> None:
    nb = notebook(CELLS)
    # The kernel is a new process: it must import this checkout's deepviz.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    shown = nb.cells[0].outputs
    assert any(WIDGET_VIEW in o.get("data", {}) for o in shown), shown
    text = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    assert "QUERIES ['i5'] WINDOWS [(0, 10)] N 40" in text, nb.cells[1].outputs
    # The widget's state is saved in the notebook's metadata, as Jupyter saves it.
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    hashes = [m["state"].get("hash") for m in state.values() if "hash" in m["state"]]
    assert hashes == ["#q=i5:0:0-10&a=0"]
