"""--engine ray: a real local Ray (2 CPUs) builds the same project as the local engine, and resumes after a kill."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import deepviz
from deepviz.errors import MissingDependency
from deepviz.faults import ENV
from tests.conftest import ColourExtractor, make_folder
from tests.integration.test_crash import DRIVER, ROOT, _contents

pytest.importorskip("ray", reason="--engine ray needs the ray extra (scripts/install.sh installs it)")

BUILD = ["-m", "colour", "--chunk-size", "5", "--batch-size", "4", "--quiet"]


def _cli(images: Path, out: Path, *extra: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if kill_at:
        env[ENV] = kill_at
    args = ["build", str(images), "-o", str(out), *BUILD, *extra]
    return subprocess.run([sys.executable, "-c", DRIVER.format(root=str(ROOT)), *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("ray") / "images", per_class=8, with_broken=True)


@pytest.fixture(scope="module")
def local(images: Path) -> Path:
    out = images.parent / "local.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False, chunk_size=5, batch_size=4)
    return out


def test_a_ray_build_is_the_local_build(images: Path, local: Path, tmp_path: Path) -> None:
    """Ids, labels, rejects, features, thumbnails, colours, layout and grid: all identical."""
    out = tmp_path / "ray.deepviz"
    report = deepviz.build(images, out, models=[ColourExtractor()], progress=False, chunk_size=5, batch_size=4, engine="ray")
    assert _contents(out, images) == _contents(local, images)
    assert len(report.rejects) == 2
    n = report.n_images + len(report.rejects)
    assert "decode on " in report.ran_on and f"({n} images)" in report.ran_on and "embed on " in report.ran_on


def test_images_by_uri_build_the_local_project(images: Path, local: Path, tmp_path: Path) -> None:
    """The same folder as a file:// URI, listed and read through pyarrow's filesystem as s3:// and gs:// are:
    the same project, but for the source it records."""
    out = tmp_path / "uri.deepviz"
    uri = f"file://{images.resolve()}"
    deepviz.build(uri, out, models=[ColourExtractor()], progress=False, chunk_size=5, batch_size=4, engine="ray")
    assert deepviz.open_project(out).manifest.source_root == uri
    remote, same = _contents(out, images), _contents(local, images)
    assert remote["manifest"].pop("source_root") == "file://BASE" and same["manifest"].pop("source_root") == "BASE"  # type: ignore[attr-defined]
    assert remote == same


def test_an_interrupted_ray_build_resumes_without_recomputing(images: Path, local: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray.deepviz"
    killed = _cli(images, out, "--engine", "ray", kill_at="chunk#3")
    assert killed.returncode != 0
    chunks = sorted((out / ".work").rglob("chunk-*.npz"))
    assert len(chunks) == 3, chunks  # killed just after the third chunk was committed
    rerun = _cli(images, out, "--engine", "ray")
    assert rerun.returncode == 0, rerun.stderr
    assert "15 recovered from an interrupted run" in rerun.stdout
    assert "ray: decode on " in rerun.stdout
    assert _contents(out, images) == _contents(local, images)


def test_without_ray_the_message_is_the_install_command(images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependency, match=r"deepviz\[ray\]"):
        deepviz.build(images, tmp_path / "p.deepviz", models=[ColourExtractor()], progress=False, engine="ray")
    # Nothing was committed: the folder holds no project.
    assert not (tmp_path / "p.deepviz" / "manifest.json").exists()


def test_as_many_cpu_actors_as_cpus_is_refused_instead_of_waiting_forever(images: Path, tmp_path: Path) -> None:
    """Two CPU actors on the 2-CPU local Ray would leave no CPU for decoding: a message, not a hang."""
    result = _cli(images, tmp_path / "p.deepviz", "--engine", "ray", "--ray-actors", str(os.cpu_count() or 2))
    assert result.returncode != 0
    assert "leaving none to decode images" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_cluster_that_cannot_be_reached_says_so(images: Path, tmp_path: Path) -> None:
    result = _cli(images, tmp_path / "p.deepviz", "--engine", "ray", "--ray-address", "127.0.0.1:1")
    assert result.returncode != 0
    assert "could not join the Ray cluster" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
