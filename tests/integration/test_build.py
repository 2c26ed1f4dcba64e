"""Building projects end to end on generated folders: contents, rejects, resume, incremental add."""
from __future__ import annotations

import csv
import errno
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import deepviz
from deepviz.cli import cli
from deepviz.features.registry import register_extractor, unregister_extractor
from tests.conftest import ColourExtractor, make_folder, write_image


@pytest.fixture
def colour_registry() -> Iterator[ColourExtractor]:
    """The fake extractor registered as 'colour', so the CLI can name it."""
    fake = ColourExtractor()
    register_extractor("colour", lambda **options: fake)
    yield fake
    unregister_extractor("colour")


def _build_cli(*args: str) -> object:
    return CliRunner().invoke(cli, ["build", *args, "--quiet"], catch_exceptions=False)


def test_cli_build_makes_a_complete_project(image_folder: Path, tmp_path: Path, colour_registry: ColourExtractor) -> None:
    out = tmp_path / "proj"
    result = _build_cli(str(image_folder), "-o", str(out), "-m", "colour")
    assert result.exit_code == 0, result.output
    assert "18 images (18 new)" in result.output
    assert "red/truncated.jpg" in result.output and "green/not_really.png" in result.output
    p = deepviz.open_project(out)
    assert p.n == 18
    assert list(p.images.columns) == ["id", "path", "label", "width", "height"]
    assert p.images["id"].tolist() == list(range(18))
    assert sorted(set(p.images["label"])) == ["blue", "green", "red"]
    assert set(p.rejects["path"]) == {"red/truncated.jpg", "green/not_really.png"}
    # Features: stored normalised, equal to an independent computation from the crop.
    f = p.features()
    assert f.shape == (18, 12) and f.dtype == np.float16
    np.testing.assert_allclose(np.linalg.norm(f.astype(np.float64), axis=1), 1.0, atol=2e-3)
    crop = deepviz.decode_crop(image_folder / p.images.at[5, "path"], 128).crop
    small = np.asarray(Image.fromarray(crop).resize((16, 16), Image.Resampling.BICUBIC))
    expected = ColourExtractor().embed(small[None])[0]
    np.testing.assert_allclose(f[5], expected / np.linalg.norm(expected), atol=2e-3)
    # Layout and grid: one distinct cell per image inside the grid.
    rows, cols = p.grid_shape
    assert p.layout.shape == (18, 2) and np.isfinite(p.layout).all()
    flat = p.grid[:, 0] * cols + p.grid[:, 1]
    assert len(set(flat.tolist())) == 18 and (p.grid[:, 0] < rows).all() and (p.grid[:, 1] < cols).all()
    # Thumbnails: every image at every size, decodable, right size.
    for size in (32, 64, 128):
        for i in (0, 17):
            assert Image.open(io.BytesIO(p.thumbnail(i, size))).size == (size, size)
    # Original sizes recorded.
    row = p.images[p.images.path == "red/img_3.png"].iloc[0]
    assert (row.width, row.height) == (43, 36)


def test_info_json_lists_rejects_with_reasons(image_folder: Path, tmp_path: Path, colour_registry: ColourExtractor) -> None:
    out = tmp_path / "proj"
    _build_cli(str(image_folder), "-o", str(out), "-m", "colour")
    result = CliRunner().invoke(cli, ["info", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["images"] == 18 and info["labels"] == {"blue": 6, "green": 6, "red": 6}
    reasons = {r["path"]: r["reason"] for r in info["rejects"]}
    assert "Pillow" in reasons["green/not_really.png"] and "decode" in reasons["red/truncated.jpg"]
    assert info["feature_sets"]["colour"]["dim"] == 12
    text = CliRunner().invoke(cli, ["info", str(out)])
    assert "rejects: 2" in text.output and "features colour (default): 12-d float16" in text.output


class Crash(RuntimeError):
    pass


def test_resume_after_crash_does_not_redo_finished_chunks(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=10, with_broken=False)
    out = tmp_path / "proj"
    crashing = ColourExtractor()
    real_embed = crashing.embed

    def embed_then_crash(crops: np.ndarray) -> np.ndarray:
        if crashing.calls >= 2:
            raise Crash("power cut")
        return real_embed(crops)

    crashing.embed = embed_then_crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        deepviz.build(root, out, models=[crashing], chunk_size=8, batch_size=8, progress=False)
    assert not (out / "manifest.json").exists()
    assert len(list((out / ".work").glob("gen-*/chunks/chunk-*.npz"))) == 2

    resumed = ColourExtractor()
    report = deepviz.build(root, out, models=[resumed], chunk_size=8, batch_size=8, progress=False)
    assert report.resumed_files == 16 and resumed.images_seen == 30 - 16
    assert not (out / ".work").exists()

    clean = ColourExtractor()
    deepviz.build(root, tmp_path / "clean", models=[clean], chunk_size=8, batch_size=8, progress=False)
    a, b = deepviz.open_project(out), deepviz.open_project(tmp_path / "clean")
    assert a.images["path"].tolist() == b.images["path"].tolist()
    np.testing.assert_array_equal(a.features(), b.features())
    assert all(a.thumbnail(i, 64) == b.thumbnail(i, 64) for i in range(a.n))


def test_crash_during_commit_is_repaired_by_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    for k in range(3):
        write_image(root / "red" / f"new_{k}.png", (200, 50, 50))
    from deepviz.storage import writer

    def fail(*a: object, **k: object) -> None:
        raise Crash("disk full while writing rejects")

    monkeypatch.setattr(writer, "write_rejects", fail)
    with pytest.raises(Crash):
        deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    # The old manifest still rules: the half-written rows are invisible.
    assert deepviz.open_project(out).n == 12
    monkeypatch.undo()
    again = ColourExtractor()
    report = deepviz.build(root, out, models=[again], progress=False)
    assert again.images_seen == 0 and report.n_new == 3
    p = deepviz.open_project(out)
    assert p.n == 15 and p.features().shape == (15, 12)
    assert Image.open(io.BytesIO(p.thumbnail(14, 32))).size == (32, 32)


def test_incremental_add_processes_only_new_images_and_keeps_ids(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=4)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    before = deepviz.open_project(out)
    old_paths = before.images["path"].tolist()
    old_feats = np.array(before.features())
    old_thumb = before.thumbnail(3, 64)

    write_image(root / "yellow" / "a.png", (230, 230, 20))
    write_image(root / "yellow" / "b.png", (230, 230, 20))
    second = ColourExtractor()
    report = deepviz.build(root, out, models=[second], progress=False)
    # Only the 2 new images and the 2 (still broken) rejects are decoded again.
    assert report.n_new == 2 and second.images_seen == 2
    after = deepviz.open_project(out)
    assert after.n == 14
    assert after.images["path"].tolist()[:12] == old_paths
    assert after.images["path"].tolist()[12:] == ["yellow/a.png", "yellow/b.png"]
    np.testing.assert_array_equal(after.features()[:12], old_feats)
    assert after.thumbnail(3, 64) == old_thumb
    assert len(after.rejects) == 2

    third = ColourExtractor()
    report = deepviz.build(root, out, models=[third], progress=False)
    assert report.n_new == 0 and third.images_seen == 0


def test_build_keeps_the_mean_colour_of_each_crop(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    p = deepviz.open_project(out)
    assert p.colors.shape == (p.n, 3) and p.colors.dtype == np.uint8
    for i in range(p.n):
        # The crop the build decoded (128 px: the largest thumbnail) and the 32 px thumbnail made from it.
        crop = deepviz.decode_crop(root / p.images.at[i, "path"], 128).crop
        np.testing.assert_allclose(p.colors[i], crop.reshape(-1, 3).mean(axis=0), atol=1)
        thumb = np.asarray(Image.open(io.BytesIO(p.thumbnail(i, 32))).convert("RGB"))
        np.testing.assert_allclose(p.colors[i], thumb.reshape(-1, 3).mean(axis=0), atol=4)
    # The generated classes are red, green and blue: their colours say so.
    red = p.colors[(p.images["label"] == "red").to_numpy()]
    assert (red[:, 0] > 150).all() and (red[:, 1:] < 80).all()


def test_a_project_of_an_older_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["schema_version"] = 1
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_image(root / "yellow" / "a.png", (230, 230, 20))
    with pytest.raises(deepviz.ProjectError, match="earlier development version"):
        deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    result = CliRunner().invoke(cli, ["info", str(out)])
    assert result.exit_code == 1 and "earlier development version" in result.output and "Traceback" not in result.output


def test_refuses_to_write_into_a_foreign_folder(image_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(deepviz.ProjectError, match="new output folder"):
        deepviz.build(image_folder, out, models=[ColourExtractor()], progress=False)
    assert (out / "thesis.tex").read_text() == "precious"


def test_cli_errors_are_messages_not_tracebacks(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["info", str(tmp_path)])
    assert result.exit_code == 1 and "not a deepviz project" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "missing"), "--quiet"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_a_bug_is_not_passed_off_as_the_users_error(image_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only DeepvizError is the user's to fix; a KeyError or ValueError from a bug keeps its traceback."""
    from deepviz.pipeline import build as build_module

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("internal")

    monkeypatch.setattr(build_module, "build", broken)
    with pytest.raises(KeyError, match="internal"):
        CliRunner().invoke(cli, ["build", str(image_folder), "--quiet"], catch_exceptions=False)


def test_list_files_prints_row_order(image_folder: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(image_folder), "--list-files"])
    lines = result.output.split()
    assert lines == sorted(lines) and "blue/img_0.jpg" in lines and "notes.txt" not in lines


def test_help_is_instant_and_imports_no_heavy_module() -> None:
    import subprocess
    import sys

    heavy = "('torch', 'onnxruntime', 'openTSNE', 'pyarrow', 'sklearn', 'fastapi')"
    code = (
        "import sys, deepviz.cli; deepviz.cli.cli(['--help'], standalone_mode=False); "
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")


class GreyExtractor(ColourExtractor):
    """A second fake model, so a project can hold two feature sets."""

    name = "grey"
    dim = 4

    def embed(self, crops: np.ndarray) -> np.ndarray:
        return super().embed(crops).reshape(len(crops), 4, 3).mean(axis=2)


def test_two_models_make_two_feature_sets(image_folder: Path, tmp_path: Path) -> None:
    deepviz.build(image_folder, tmp_path / "p", models=[ColourExtractor(), GreyExtractor()], progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert p.feature_sets == ["colour", "grey"] and p.default_feature_set == "colour"
    assert p.features("grey").shape == (18, 4)
    assert p.feature_info("grey").extractor == "grey"


def test_cli_imports_precomputed_features_in_list_files_order(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    files = CliRunner().invoke(cli, ["build", str(root), "--list-files"]).output.split()
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(len(files), 5)).astype(np.float32)
    np.save(tmp_path / "feats.npy", feats)
    result = _build_cli(str(root), "-o", str(tmp_path / "p"), "--features", str(tmp_path / "feats.npy"))
    assert result.exit_code == 0, result.output
    p = deepviz.open_project(tmp_path / "p")
    assert p.feature_sets == ["feats"] and p.feature_info().extractor is None
    row = files.index(p.images.at[4, "path"])
    np.testing.assert_allclose(p.features()[4], feats[row] / np.linalg.norm(feats[row]), atol=2e-3)


def test_cli_feature_file_with_wrong_row_count_is_a_clear_error(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    np.save(tmp_path / "feats.npy", np.ones((4, 5), np.float32))
    result = _build_cli(str(root), "-o", str(tmp_path / "p"), "--features", str(tmp_path / "feats.npy"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--list-files" in result.output and "9" in result.output


def test_bad_feature_file_fails_before_any_image_is_decoded(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    np.save(tmp_path / "feats.npy", np.ones((4, 5), np.float32))
    spy = ColourExtractor()
    with pytest.raises(ValueError, match="list-files"):
        deepviz.build(root, tmp_path / "p", models=[spy], features=tmp_path / "feats.npy", progress=False)
    assert spy.images_seen == 0 and not (tmp_path / "p" / ".work").exists()


def test_adding_images_keeps_the_map_where_it_was(tmp_path: Path) -> None:
    """The new layout continues from the old one, so old images barely move
    (a fresh t-SNE of the same data moves them by ~0.43 of the map's spread here)."""
    root = make_folder(tmp_path / "images", per_class=15, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    before = np.array(deepviz.open_project(out).layout)
    for k in range(3):
        write_image(root / "red" / f"late_{k}.png", (210, 40, 40))
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    after = np.array(deepviz.open_project(out).layout)
    assert after.shape == (48, 2)
    moved = np.abs(after[: len(before)] - before).mean() / before.std()
    assert moved < 0.3


def test_incremental_build_keeps_the_label_settings_of_the_project(tmp_path: Path) -> None:
    root = tmp_path / "images"
    for k in range(4):
        write_image(root / "animals" / "birds" / f"b{k}.png", (20, 20, 200))
        write_image(root / "animals" / "cats" / f"c{k}.png", (200, 20, 20))
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], label_depth=1, progress=False)
    write_image(root / "animals" / "cats" / "late.png", (200, 30, 30))
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    assert set(deepviz.open_project(out).images["label"]) == {"animals"}
    # Asked for explicitly, new label options relabel every image.
    deepviz.build(root, out, models=[ColourExtractor()], label_depth=2, progress=False)
    assert set(deepviz.open_project(out).images["label"]) == {"animals/birds", "animals/cats"}


def test_incremental_build_keeps_the_grid_settings_of_the_project(tmp_path: Path, colour_registry: ColourExtractor) -> None:
    root = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "proj"
    assert _build_cli(str(root), "-o", str(out), "-m", "colour", "--aspect", "3", "--seed", "2").exit_code == 0
    write_image(root / "red" / "late.png", (205, 35, 35))
    # Not given again, the aspect and seed stay the project's (not the defaults): the map keeps its shape.
    assert _build_cli(str(root), "-o", str(out), "-m", "colour").exit_code == 0
    p = deepviz.open_project(out)
    assert p.n == 13 and p.manifest.settings.aspect == 3.0 and p.manifest.settings.seed == 2
    assert p.manifest.layout.seed == 2 and p.grid_shape == deepviz.grid_shape(13, 3.0)
    info = CliRunner().invoke(cli, ["info", str(out)])
    assert "built with: --aspect 3.0 --grid auto --seed 2" in info.output
    # Given again, a setting changes the map even with no new image.
    assert _build_cli(str(root), "-o", str(out), "--aspect", "1").exit_code == 0
    assert deepviz.open_project(out).grid_shape == deepviz.grid_shape(13, 1.0)


def test_python_build_refuses_an_unknown_setting_by_name(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    with pytest.raises(deepviz.DeepvizError, match=r"aspct: Extra inputs.*valid settings: .*aspect"):
        deepviz.build(root, tmp_path / "p", models=[ColourExtractor()], aspct=2, progress=False)
    with pytest.raises(ValueError, match=r"thumb_sizes\.0: Input should be greater than or equal to 8"):
        deepviz.build(root, tmp_path / "p", models=[ColourExtractor()], thumb_sizes=[4], progress=False)
    assert not (tmp_path / "p").exists()


def test_a_model_named_later_is_added_for_every_image(tmp_path: Path, colour_registry: ColourExtractor) -> None:
    root = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    write_image(root / "red" / "late.png", (205, 35, 35))
    grey = GreyExtractor()
    report = deepviz.build(root, out, models=[ColourExtractor(), grey], progress=False)
    assert report.n_new == 1 and grey.images_seen == 13  # 12 existing images backfilled + the new one
    p = deepviz.open_project(out)
    assert p.feature_sets == ["colour", "grey"] and p.features("grey").shape == (13, 4)
    fresh = tmp_path / "fresh"
    deepviz.build(root, fresh, models=[ColourExtractor(), GreyExtractor()], progress=False)
    q = deepviz.open_project(fresh)
    by_path = dict(zip(q.images["path"], np.asarray(q.features("grey"))))
    expected = np.stack([by_path[path] for path in p.images["path"]])
    np.testing.assert_array_equal(np.asarray(p.features("grey")), expected)
    # Naming fewer models later deletes nothing (the others are rebuilt from the registry by name).
    deepviz.build(root, out, models=[GreyExtractor()], progress=False)
    assert deepviz.open_project(out).feature_sets == ["colour", "grey"]


def test_adding_a_model_needs_the_original_files(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    out = tmp_path / "proj"
    deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    (root / "blue" / "img_0.jpg").write_text("overwritten by mistake")
    with pytest.raises(deepviz.ProjectError, match="blue/img_0.jpg"):
        deepviz.build(root, out, models=[ColourExtractor(), GreyExtractor()], progress=False)
    assert deepviz.open_project(out).feature_sets == ["colour"]


def test_cli_device_without_a_gpu_is_a_clear_error(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - the GPU path is checked on a GPU machine
        pytest.skip("this machine has a GPU")
    root = make_folder(tmp_path / "images", per_class=2, with_broken=False)
    result = _build_cli(str(root), "-o", str(tmp_path / "p"), "--device", "cuda")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--device cpu" in result.output


# ----------------------------------------------------------------------------- bad names, links, folders

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="Linux file names are any bytes (macOS and Windows refuse some); symlinks"
)
# Names a user's disk can hold that broke builds: bytes that are not UTF-8 (in a file and in a
# folder), a newline, a tab, a backslash, and a comma and a quote for the CSV of --list-files.
BAD_NAMES = [b"caf\xe9.png", b"new\nline.png", b"tab\there.png", b"back\\slash.png", b'comma,"quote".png',
             b"dir\xff/in.png", b"plain.png"]


def _bad_folder(root: Path) -> dict[str, bytes]:
    """root holding one image under each of BAD_NAMES; {stored path: real name's bytes}."""
    from deepviz.filenames import escape

    for k, name in enumerate(BAD_NAMES):
        path = os.path.join(os.fsencode(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Image.new("RGB", (20 + k, 16), (30 * k, 200 - 20 * k, 90)).save(os.fsdecode(path), format="PNG")
    return {escape(os.fsdecode(name)): name for name in BAD_NAMES}


@linux_only
def test_bad_file_names_are_stored_escaped_listed_imported_and_opened(tmp_path: Path, colour_registry: ColourExtractor) -> None:
    root, out = tmp_path / "images", tmp_path / "proj"
    stored = _bad_folder(root)
    # --list-files: CSV, one line per image, that reads back to exactly the scan order.
    listed = CliRunner().invoke(cli, ["build", str(root), "--list-files"])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.reader(io.StringIO(listed.output)))
    assert rows == [[p] for p in deepviz.scan(root).paths] and sorted(r[0] for r in rows) == sorted(stored)
    assert len(listed.output.splitlines()) == len(BAD_NAMES)
    # A bare feature file whose rows follow that list imports, beside a model.
    feats = np.random.default_rng(0).normal(size=(len(rows), 5)).astype(np.float32)
    np.save(tmp_path / "feats.npy", feats)
    result = _build_cli(str(root), "-o", str(out), "-m", "colour", "--features", str(tmp_path / "feats.npy"))
    assert result.exit_code == 0, result.output
    assert f"{len(BAD_NAMES)} images ({len(BAD_NAMES)} new)" in result.output and "rejected" not in result.output
    p = deepviz.open_project(out)
    assert sorted(p.images["path"]) == sorted(stored)
    assert p.images.set_index("path").at["dir\\xff/in.png", "label"] == "dir\\xff"
    order = [r[0] for r in rows]
    for i, path in enumerate(p.images["path"]):
        real = os.path.join(os.fsencode(root), stored[path])
        assert os.fsencode(p.source_path(i)) == os.path.join(os.fsencode(root.resolve()), stored[path])
        assert p.source_path(i).read_bytes() == Path(os.fsdecode(real)).read_bytes()
        expected = feats[order.index(path)]
        np.testing.assert_allclose(p.features("feats")[i], expected / np.linalg.norm(expected), atol=2e-3)
    # Shown as the stored text: by info (one line each, JSON that parses) and by the API.
    info = json.loads(CliRunner().invoke(cli, ["info", str(out), "--json"]).output)
    assert info["images"] == len(BAD_NAMES)
    from fastapi.testclient import TestClient

    from deepviz.server.app import create_app

    with TestClient(create_app(out), base_url="http://localhost") as client:
        assert [client.get(f"/api/images/{i}").json()["path"] for i in range(p.n)] == p.images["path"].tolist()
    # A rerun adds nothing; a model added later re-reads every image by its real name.
    grey = GreyExtractor()
    report = deepviz.build(root, out, models=[ColourExtractor(), grey], progress=False)
    assert report.n_new == 0 and grey.images_seen == len(BAD_NAMES)
    assert deepviz.open_project(out).images["path"].tolist() == p.images["path"].tolist()


@linux_only
def test_links_and_unreadable_folders_are_rejects_with_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, colour_registry: ColourExtractor
) -> None:
    root, outside, out = tmp_path / "images", tmp_path / "outside", tmp_path / "proj"
    make_folder(root, per_class=2, with_broken=False)
    write_image(outside / "away.png", (10, 10, 10))
    os.symlink(outside / "away.png", root / "away.png")
    os.symlink("loop.png", root / "loop.png")
    os.symlink("..", root / "red" / "up")
    write_image(root / "locked" / "hidden_from_us.png", (1, 2, 3))
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        # The build runs as root here, where chmod 000 does not stop reading: simulate it.
        if os.path.basename(str(path)) == "locked":  # (shutil.rmtree passes file descriptors too)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = _build_cli(str(root), "-o", str(out), "-m", "colour")
    assert result.exit_code == 0 and "Traceback" not in result.output
    reasons = dict(zip(deepviz.open_project(out).rejects["path"], deepviz.open_project(out).rejects["reason"]))
    assert sorted(reasons) == ["away.png", "locked", "loop.png", "red/up"]
    assert "--follow-symlinks" in reasons["away.png"] and "Permission denied" in reasons["locked"]
    assert "symbolic link loop" in reasons["loop.png"] and "symbolic link loop" in reasons["red/up"]
    for path, reason in reasons.items():
        assert f"    {path}: {reason}" in result.output
    assert deepviz.open_project(out).n == 6
    followed = _build_cli(str(root), "-o", str(out), "--follow-symlinks")
    assert followed.exit_code == 0, followed.output
    p = deepviz.open_project(out)
    assert p.n == 7 and "away.png" in set(p.images["path"]) and "away.png" not in set(p.rejects["path"])


@linux_only
def test_work_left_by_a_build_that_could_not_store_a_name_is_committed_on_the_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before names were escaped, a build wrote raw names into its chunks and then died at the
    commit; the rerun must commit those chunks, not fail again or add the images twice."""
    from deepviz.images import scan as scan_module
    from deepviz.storage import writer

    root, out = tmp_path / "images", tmp_path / "proj"
    stored = _bad_folder(root)
    monkeypatch.setattr(scan_module, "escape", lambda name: name)  # the scanner and the commit as they were
    monkeypatch.setattr(writer, "canonical", lambda name: name)
    with pytest.raises(UnicodeEncodeError):
        deepviz.build(root, out, models=[ColourExtractor()], progress=False)
    monkeypatch.undo()
    again = ColourExtractor()
    report = deepviz.build(root, out, models=[again], progress=False)
    assert again.images_seen == 0 and report.n_new == len(BAD_NAMES)
    assert sorted(deepviz.open_project(out).images["path"]) == sorted(stored)


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux file names may hold bytes that are not UTF-8")
def test_an_image_folder_whose_own_name_is_not_utf8_builds_and_grows(tmp_path: Path) -> None:
    root = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9 images"))
    make_folder(root, per_class=3, with_broken=False)
    np.save(tmp_path / "extra.npy", np.ones((9, 3), np.float32) + np.arange(9)[:, None])
    feats = Path(os.fsdecode(bytes(tmp_path) + b"/f\xe9ats.npy"))
    (tmp_path / "extra.npy").rename(feats)
    out = tmp_path / "p.deepviz"
    deepviz.build(root, out, models=[ColourExtractor()], features=feats, progress=False)
    p = deepviz.open_project(out)
    assert "\\xe9" in p.manifest.source_root and p.source_path(0).is_file()
    write_image(root / "red" / "late.png", (205, 35, 35))
    np.save(feats, np.ones((10, 3), np.float32) + np.arange(10)[:, None])  # the imported file is read again
    assert deepviz.build(root, out, models=[ColourExtractor()], progress=False).n_new == 1


def test_a_folder_without_a_decodable_image_is_an_error_saying_what_was_found(tmp_path: Path) -> None:
    root = tmp_path / "images"
    (root / "a").mkdir(parents=True)
    (root / "a" / "broken.jpg").write_bytes(b"\xff\xd8\xff" + bytes(50))
    (root / "notes.txt").write_text("not an image")
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(tmp_path / "p"), "--features", str(tmp_path / "none.npy")])
    assert result.exit_code == 2  # click: the feature file does not exist
    np.save(tmp_path / "f.npy", np.ones((1, 3), np.float32))
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(tmp_path / "p"), "--features", str(tmp_path / "f.npy"), "--quiet"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no images in" in result.output and "0 decodable files among 1 image file(s)" in result.output
    assert "a/broken.jpg" in result.output and not (tmp_path / "p" / "manifest.json").exists()


def test_the_build_report_suggests_serving_the_project(image_folder: Path, tmp_path: Path, colour_registry: ColourExtractor) -> None:
    out = tmp_path / "proj"
    result = _build_cli(str(image_folder), "-o", str(out), "-m", "colour")
    assert f"Next: deepviz serve {out}" in result.output


def test_imported_features_are_laid_out_beside_decoding_into_the_same_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The early t-SNE (started before decoding, on the imported rows) gives the map a sequential
    build gives; a file that then fails to decode is dropped from it, and every image keeps its row."""
    from deepviz.pipeline import build as build_module

    root = make_folder(tmp_path / "images", per_class=4, with_broken=True)
    files = CliRunner().invoke(cli, ["build", str(root), "--list-files"]).output.split()
    feats = np.random.default_rng(0).normal(size=(len(files), 6)).astype(np.float32)
    np.save(tmp_path / "feats.npy", feats)
    early = deepviz.build(root, tmp_path / "early", features=tmp_path / "feats.npy", progress=False)
    monkeypatch.setattr(build_module, "EARLY_LAYOUT", False)
    late = deepviz.build(root, tmp_path / "late", features=tmp_path / "feats.npy", progress=False)
    assert "layout (beside extract)" in early.seconds and "layout (beside extract)" not in late.seconds
    a, b = deepviz.open_project(tmp_path / "early"), deepviz.open_project(tmp_path / "late")
    assert early.rejects and a.n == b.n == len(files) - len(early.rejects)
    assert list(a.images["path"]) == list(b.images["path"]) and a.layout.shape == (a.n, 2)
    # Rejected rows took part in the early t-SNE only, so the maps differ a little; with none they match.
    clean = make_folder(tmp_path / "clean", per_class=4, with_broken=False)
    files = CliRunner().invoke(cli, ["build", str(clean), "--list-files"]).output.split()
    np.save(tmp_path / "clean.npy", feats[: len(files)])
    monkeypatch.setattr(build_module, "EARLY_LAYOUT", True)
    deepviz.build(clean, tmp_path / "c-early", features=tmp_path / "clean.npy", progress=False)
    monkeypatch.setattr(build_module, "EARLY_LAYOUT", False)
    deepviz.build(clean, tmp_path / "c-late", features=tmp_path / "clean.npy", progress=False)
    np.testing.assert_array_equal(deepviz.open_project(tmp_path / "c-early").layout, deepviz.open_project(tmp_path / "c-late").layout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_a_first_builds_decoding_runs_behind_its_layout_until_the_preview_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks queued before the preview is written decode at the lowest priority, the rest at the
    build's; the project is the one a build whose decoding shares the cores evenly makes."""
    import threading

    from deepviz.pipeline import build as build_module
    from deepviz.pipeline import extract

    root = make_folder(tmp_path / "images", per_class=4, with_broken=False)
    files = CliRunner().invoke(cli, ["build", str(root), "--list-files"]).output.split()
    np.save(tmp_path / "feats.npy", np.random.default_rng(0).normal(size=(len(files), 6)).astype(np.float32))
    layouts: list[build_module._EarlyLayout] = []
    decoding = threading.Event()
    nice: list[int] = []
    real_decode, real_layout, real_early = extract.decode_one, build_module._layout, build_module._EarlyLayout

    def decode(path: Path, *args: object) -> object:
        nice.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        decoding.set()
        if len(nice) > 2:  # chunk 1 is queued behind chunk 0; chunk 2 only once chunk 1 is decoded
            assert layouts[0].previewed is not None and layouts[0].previewed.wait(30)
        return real_decode(path, *args)  # type: ignore[arg-type]

    def layout(*args: object) -> np.ndarray:
        assert decoding.wait(30)  # the map is made while images decode behind it
        return real_layout(*args)  # type: ignore[arg-type]

    def early(*args: object, **kwargs: object) -> build_module._EarlyLayout:
        layouts.append(real_early(*args, **kwargs))  # type: ignore[arg-type]
        return layouts[-1]

    monkeypatch.setattr(extract, "decode_one", decode)
    monkeypatch.setattr(build_module, "_layout", layout)
    monkeypatch.setattr(build_module, "_EarlyLayout", early)
    report = deepviz.build(root, tmp_path / "behind", features=tmp_path / "feats.npy", chunk_size=2, workers=1, progress=False)
    assert report.preview_at is not None and len(nice) == len(files) == 12
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert nice == [extract.BEHIND_NICE] * 4 + [caller] * 8
    monkeypatch.setattr(build_module, "PREVIEW_FIRST", False)
    nice.clear()
    deepviz.build(root, tmp_path / "even", features=tmp_path / "feats.npy", chunk_size=2, workers=1, progress=False)
    assert layouts[-1].previewed is None and nice == [caller] * 12
    a, b = deepviz.open_project(tmp_path / "behind"), deepviz.open_project(tmp_path / "even")
    np.testing.assert_array_equal(a.layout, b.layout)
    np.testing.assert_array_equal(a.grid, b.grid)


def test_past_layout_sample_the_map_is_a_sampled_t_sne_and_the_build_says_so(
    tmp_path: Path, colour_registry: ColourExtractor
) -> None:
    root = make_folder(tmp_path / "images", per_class=10, with_broken=False)
    out = tmp_path / "proj"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "-m", "colour", "--layout-sample", "20"])
    assert result.exit_code == 0, result.output
    assert "t-SNE layout of a random sample of 20 of the 30 images" in result.output
    p = deepviz.open_project(out)
    assert p.manifest.settings.layout_sample == 20 and np.isfinite(p.layout).all()
    assert len(np.unique(p.layout, axis=0)) == 30
    # Grown past it, the images already on the map stay exactly where they were.
    before = np.array(p.layout)
    write_image(root / "red" / "late.png", (205, 35, 35))
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
    assert result.exit_code == 0 and "the 30 already on the map stay where they are" in result.output, result.output
    np.testing.assert_array_equal(np.array(deepviz.open_project(out).layout)[:30], before)
