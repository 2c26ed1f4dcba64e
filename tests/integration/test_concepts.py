"""Concepts: made from the CLI, kept by rebuilds, never lost to a concurrent writer."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import deepviz
from deepviz.cli import cli
from deepviz.errors import ProjectError, UnknownName, UsageError
from deepviz.storage.concepts import CONCEPTS, ConceptStore
from deepviz.storage.lock import build_lock
from tests.conftest import ColourExtractor, make_folder, write_image


@pytest.fixture
def project(tmp_path: Path) -> Path:
    images = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "p.deepviz"
    deepviz.build(images, out, models=[ColourExtractor()], progress=False)
    return out


def run(*args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, ["concept", *args])
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def listed(project: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = json.loads(run("list", str(project), "--json"))
    return out


def test_add_from_label_ids_paths_and_file(project: Path, tmp_path: Path) -> None:
    p = deepviz.open_project(project)
    reds = [i for i in range(p.n) if p.images.at[i, "label"] == "red"]
    assert "4 images" in run("add", str(project), "reds", "--label", "red")
    run("add", str(project), "picked", "--ids", "0,2", "--ids", "5")
    paths = [str(p.images.at[i, "path"]) for i in (1, 7)]
    run("add", str(project), "picked", "--paths", paths[0])
    (tmp_path / "list.csv").write_text(f"{paths[1]}\n", encoding="utf-8")
    run("add", str(project), "picked", "--from-file", str(tmp_path / "list.csv"))
    found = listed(project)
    assert found["reds"]["ids"] == reds and found["reds"]["source"] == "label:red"
    assert found["picked"]["ids"] == [0, 1, 2, 5, 7]  # each add extends the concept
    run("add", str(project), "picked", "--ids", "3", "--replace")
    assert listed(project)["picked"]["ids"] == [3]
    assert "reds: 4 images (label:red)" in run("list", str(project))


def test_rename_edit_and_remove(project: Path) -> None:
    run("add", str(project), "a", "--ids", "1,2,3")
    run("rename", str(project), "a", "b")
    assert list(listed(project)) == ["b"]
    assert "2 images" in run("rm", str(project), "b", "--ids", "2")
    assert listed(project)["b"]["ids"] == [1, 3]
    run("rm", str(project), "b")
    assert listed(project) == {}


def test_bad_input_says_what_to_do(project: Path) -> None:
    assert "ids 0..11" in run("add", str(project), "x", "--ids", "12", ok=False)
    assert "is not one" in run("add", str(project), "x", "--ids", "1;2", ok=False)
    assert "'red'" in run("add", str(project), "x", "--label", "purple", ok=False)
    assert "--list-files" in run("add", str(project), "x", "--paths", "nope.jpg", ok=False)
    assert "no images given" in run("add", str(project), "x", ok=False)
    assert "not a concept name" in run("add", str(project), "  ", "--ids", "1", ok=False)
    assert "no concept 'x'" in run("rm", str(project), "x", ok=False)
    run("add", str(project), "y", "--ids", "1")
    run("add", str(project), "z", "--ids", "1")
    assert "already a concept 'z'" in run("rename", str(project), "y", "z", ok=False)
    assert listed(project)["y"]["ids"] == [1]  # a refused change changes nothing


def test_a_damaged_file_is_refused_and_kept(project: Path) -> None:
    (project / CONCEPTS).write_text("{not json", encoding="utf-8")
    store = ConceptStore(project, 12)
    with pytest.raises(ProjectError, match="damaged.*left as it is"):
        store.save("a", [1])
    assert (project / CONCEPTS).read_text(encoding="utf-8") == "{not json"


def _add_many(root: str, worker: int) -> None:
    store = ConceptStore(root, 12)
    for k in range(5):
        store.save(f"w{worker}-{k}", [worker, k])
        store.edit("shared", add=[worker])


def test_concurrent_writers_keep_every_change(project: Path) -> None:
    ConceptStore(project, 12).save("shared", [])
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_add_many, args=(str(project), w)) for w in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    found = ConceptStore(project, 12).all()
    assert set(found) == {"shared"} | {f"w{w}-{k}" for w in range(6) for k in range(5)}
    assert found["shared"].ids == list(range(6))  # six read-modify-writes of one concept, none lost


def test_a_build_keeps_concepts_and_does_not_block_them(project: Path, tmp_path: Path) -> None:
    store = ConceptStore(project, 12)
    store.save("blues", [8, 9])
    with build_lock(project):  # a build running now: concepts are still editable
        store.edit("blues", add=[10])
    write_image(tmp_path / "images" / "red" / "new.png", (200, 10, 10))  # an incremental build adds an image
    report = deepviz.build(tmp_path / "images", project, models=[ColourExtractor()], progress=False)
    assert report.n_new == 1
    assert ConceptStore(project, 13).get("blues").ids == [8, 9, 10]
    deepviz.build(tmp_path / "images", project, models=[ColourExtractor()], progress=False)  # nothing new
    assert ConceptStore(project, 13).get("blues").ids == [8, 9, 10]


def test_writes_during_a_build_are_kept(project: Path, tmp_path: Path) -> None:
    """A build and a stream of concept edits at once: the build commits and every edit is there."""
    for i in range(6):
        write_image(tmp_path / "images" / "green" / f"more_{i}.png", (10, 200, 10))
    done = threading.Event()
    errors: list[BaseException] = []

    def edit() -> None:
        store = ConceptStore(project, 12)
        k = 0
        while not done.is_set() or k < 20:
            try:
                store.save(f"c{k}", [k % 12])
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)
                return
            k += 1

    writer = threading.Thread(target=edit)
    writer.start()
    deepviz.build(tmp_path / "images", project, models=[ColourExtractor()], progress=False)
    done.set()
    writer.join()
    assert not errors
    found = ConceptStore(project, 18).all()
    assert all(f"c{k}" in found for k in range(20))


def test_store_api_errors(project: Path) -> None:
    store = ConceptStore(project, 12)
    with pytest.raises(UnknownName):
        store.get("nothing")
    with pytest.raises(UsageError):
        store.save("x", [-1])


def test_a_demo_rebuild_keeps_concepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import deepviz.demo as demo

    images = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    monkeypatch.setattr(demo, "demo_images", lambda *a, **k: images)
    monkeypatch.setattr(demo, "cache_root", lambda: tmp_path / "cache")
    monkeypatch.setattr(demo, "build", lambda src, out, **kw: deepviz.build(src, out, models=[ColourExtractor()], **kw))
    project, _ = demo.ensure_demo_project(set_name="emoji", progress=False, echo=lambda _: None)
    ConceptStore(project, 6).save("mine", [1, 4])
    demo.ensure_demo_project(set_name="emoji", rebuild=True, progress=False, echo=lambda _: None)
    assert ConceptStore(project, 6).get("mine").ids == [1, 4]
    assert not list((tmp_path / "cache" / "demo").glob("*.concepts.json"))  # the copy kept aside is moved back
