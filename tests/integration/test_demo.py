"""The demo: the stamp copier keeps only real stamps and the licence; the cache is reused; the CLI builds a set."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from deepviz import demo
from deepviz.demo import stamps as stamp_set


def test_copy_stamps_keeps_pngs_and_licence_and_drops_mirrors_and_sounds(tmp_path: Path) -> None:
    extracted = tmp_path / "x"
    stamps = extracted / "usr/share/tuxpaint/stamps"
    (stamps / "animals/birds").mkdir(parents=True)
    Image.new("RGBA", (8, 8)).save(stamps / "animals/birds/owl.png")
    Image.new("RGBA", (8, 8)).save(stamps / "animals/birds/owl_mirror.png")
    (stamps / "animals/birds/owl.ogg").write_bytes(b"OggS")
    (stamps / "animals/birds/owl.txt").write_text("An owl.")
    doc = extracted / "usr/share/doc/tuxpaint-stamps-default"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("License: GPL-2")
    target = tmp_path / "cache" / "tuxpaint-stamps"
    stamp_set._copy_stamps(extracted, target)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [".complete", "LICENSE-tuxpaint-stamps.txt", "animals/birds/owl.png"]


def test_stamps_without_apt_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    monkeypatch.setattr(stamp_set.shutil, "which", lambda tool: None)
    with pytest.raises(demo.DemoUnavailable, match="--images"):
        demo.demo_images("stamps", echo=lambda s: None)


def test_cached_stamps_are_not_fetched_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    target = tmp_path / "demo" / "tuxpaint-stamps"
    target.mkdir(parents=True)
    (target / ".complete").write_text("ok")

    def no_fetch(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetched again")

    monkeypatch.setattr(stamp_set, "_run", no_fetch)
    assert demo.demo_images("stamps", echo=lambda s: None) == target


@pytest.mark.slow
def test_demo_cli_on_a_folder_builds_with_the_real_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import deepviz
    from deepviz.cli import cli
    from tests.conftest import make_folder

    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path / "cache"))
    images = make_folder(tmp_path / "images", per_class=3)
    result = CliRunner().invoke(cli, ["demo", "--images", str(images), "--no-serve", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "9 images (9 new)" in result.output and "2 file(s) rejected" in result.output
    p = deepviz.open_project(tmp_path / "cache" / "demo" / "custom.deepviz")
    assert p.n == 9 and p.feature_info().extractor == "mobilenet_v2" and p.features().shape == (9, 1280)


def test_an_unknown_set_lists_the_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    with pytest.raises(demo.DemoUnavailable, match="emoji, stamps"):
        demo.demo_images("faces", echo=lambda s: None)


def test_demo_cli_offline_with_nothing_cached_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from deepviz.cli import cli
    from deepviz.demo import npm

    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    monkeypatch.setattr(npm, "REGISTRY", "http://127.0.0.1:9")  # nothing listens there: as if offline
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--quiet"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "npm registry" in result.output and "--images FOLDER" in result.output


@pytest.mark.slow
def test_demo_cli_fetches_the_real_emoji_set_and_builds_a_subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one test that reaches the real npm registry (CI can): the pinned package, verified, a few per category."""
    from click.testing import CliRunner

    import deepviz
    from deepviz.cli import cli
    from deepviz.demo import emoji

    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    monkeypatch.setattr(emoji, "PER_CATEGORY", 3)
    result = CliRunner().invoke(cli, ["demo", "--no-serve", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"npm package {emoji.PACKAGE} {emoji.VERSION}" in result.output
    folder = tmp_path / "demo" / emoji.folder_name()
    assert (folder / "LICENSE-emoji-data.txt").read_text().startswith("The MIT License")
    p = deepviz.open_project(tmp_path / "demo" / "emoji.deepviz")
    assert p.n == 27  # 9 categories, 3 each
    labels = p.summary()["labels"]
    assert len(labels) == 9 and set(labels.values()) == {3} and "Smileys & Emotion" in labels
