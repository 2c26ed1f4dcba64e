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


BUILD_CELL = """from tests.conftest import ColourExtractor, make_folder
import deepviz
images = make_folder(Path("images"), per_class=4)
report = deepviz.build(images, "p.deepviz", models=[ColourExtractor()], chunk_size=4)
print("BUILT", report.n_images)"""


def test_build_in_a_notebook_shows_a_progress_bar_widget(tmp_path: Path) -> None:
    """tqdm.auto draws an ipywidgets bar in a kernel: the executed notebook holds it, filled to the end."""
    nb = notebook(["from pathlib import Path", BUILD_CELL])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    outputs = nb.cells[1].outputs
    assert "BUILT 12" in "".join(o.get("text", "") for o in outputs), outputs
    shown = [o["data"] for o in outputs if WIDGET_VIEW in o.get("data", {})]
    assert shown and "decode + features + thumbnails" in shown[0]["text/plain"], outputs
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    bars = [m["state"] for m in state.values() if m["model_name"] == "FloatProgressModel"]
    assert [(b["value"], b["max"]) for b in bars] == [(14.0, 14.0)]  # 12 images and the 2 files rejected
    texts = [m["state"]["value"] for m in state.values() if m["model_name"] == "HTMLModel"]
    assert any("14/14" in t for t in texts), texts
