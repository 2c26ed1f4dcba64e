"""Hub extractors (torchvision, timm, open_clip) driven through small fake packages in sys.modules.

The real packages cannot be installed beside this torch, so the fakes expose the same calls with
tiny networks of the same attribute structure; what is tested is our layer selection, pooling,
normalisation and local-weights logic.
"""
from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from deepviz.errors import MissingDependency  # noqa: E402
from deepviz.features.registry import get_extractor  # noqa: E402
from deepviz.features.runtime import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402

SIZE = 32


class TinyVGG(nn.Module):
    """torchvision VGG's layout: features, avgpool, classifier = Linear ReLU Dropout Linear ReLU Dropout Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(32, 16), nn.ReLU(), nn.Dropout(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(), nn.Linear(12, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TinyResNet(nn.Module):
    """torchvision ResNet's tail: a conv trunk, avgpool to 1x1, fc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.conv1(x)), 1))


class ChannelMeans(nn.Module):
    """(B, 3, H, W) -> (B, 3) channel means: exposes exactly what normalisation the extractor applied."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) * self.scale


def crops(n: int = 3, size: int = SIZE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def as_input(c: np.ndarray, mean: Any = IMAGENET_MEAN, std: Any = IMAGENET_STD) -> torch.Tensor:
    x = (c.astype(np.float32) / 255 - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


@pytest.fixture
def fake_torchvision(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Install torchvision.models.{vgg16, resnet50}; returns the (model, weights=) calls made."""
    calls: list[tuple[str, Any]] = []

    def factory(name: str, cls: type[nn.Module]) -> Any:
        def build(weights: Any = None) -> nn.Module:
            calls.append((name, weights))
            torch.manual_seed(1)
            return cls()

        return build

    package = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    models.vgg16 = factory("vgg16", TinyVGG)  # type: ignore[attr-defined]
    models.resnet50 = factory("resnet50", TinyResNet)  # type: ignore[attr-defined]
    package.models = models  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchvision", package)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    return calls


def reference_vgg() -> TinyVGG:
    torch.manual_seed(1)
    return TinyVGG().eval()


def test_vgg16_defaults_to_fc7_after_the_second_relu(fake_torchvision: list[tuple[str, Any]]) -> None:
    extractor = get_extractor("torchvision:vgg16", input_size=SIZE)
    assert fake_torchvision == [("vgg16", "DEFAULT")]
    assert (extractor.name, extractor.dim, extractor.input_size) == ("torchvision:vgg16", 12, SIZE)

    c = crops()
    net = reference_vgg()
    with torch.no_grad():
        expected = net.classifier[:5](torch.flatten(net.avgpool(net.features(as_input(c))), 1)).numpy()
    got = extractor.embed(c)
    assert got.dtype == np.float32 and got.shape == (3, 12)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert (got >= 0).all()  # after the ReLU, not the raw Linear


def test_layer_in_the_name_or_as_option(fake_torchvision: list[tuple[str, Any]]) -> None:
    by_name = get_extractor("torchvision:vgg16/fc6", input_size=SIZE)
    by_option = get_extractor("torchvision:vgg16", layer="fc6", input_size=SIZE)
    assert by_name.name == by_option.name == "torchvision:vgg16/fc6"
    assert by_name.dim == 16
    c = crops()
    np.testing.assert_array_equal(by_name.embed(c), by_option.embed(c))


def test_convolutional_layers_are_average_pooled(fake_torchvision: list[tuple[str, Any]]) -> None:
    extractor = get_extractor("torchvision:vgg16", layer="features.1", input_size=SIZE)
    c = crops()
    net = reference_vgg()
    with torch.no_grad():
        expected = net.features[:2](as_input(c)).mean(dim=(2, 3)).numpy()
    assert extractor.dim == 8
    np.testing.assert_allclose(extractor.embed(c), expected, rtol=1e-5, atol=1e-6)


def test_resnet_defaults_to_the_pooled_feature(fake_torchvision: list[tuple[str, Any]]) -> None:
    extractor = get_extractor("torchvision:resnet50", input_size=SIZE)
    torch.manual_seed(1)
    net = TinyResNet().eval()
    c = crops()
    with torch.no_grad():
        expected = net.conv1(as_input(c)).mean(dim=(2, 3)).numpy()
    assert (extractor.name, extractor.dim) == ("torchvision:resnet50", 6)
    np.testing.assert_allclose(extractor.embed(c), expected, rtol=1e-5, atol=1e-6)


def test_unknown_layer_and_model_are_explained(fake_torchvision: list[tuple[str, Any]]) -> None:
    with pytest.raises(ValueError, match=r"no layer 'fc9'.*fc7.*classifier\.4"):
        get_extractor("torchvision:vgg16", layer="fc9", input_size=SIZE)
    with pytest.raises(ValueError, match="no model 'vgg99'"):
        get_extractor("torchvision:vgg99")


@pytest.mark.parametrize("wrap", [None, "state_dict"])
def test_local_weights_replace_the_download(
    fake_torchvision: list[tuple[str, Any]], tmp_path: Path, wrap: str | None
) -> None:
    torch.manual_seed(7)
    trained = TinyVGG().eval()
    path = tmp_path / "vgg.pth"
    state = trained.state_dict()
    torch.save({wrap: state} if wrap else state, path)

    extractor = get_extractor("torchvision:vgg16", weights=path, input_size=SIZE)
    assert fake_torchvision == [("vgg16", None)]
    c = crops()
    with torch.no_grad():
        expected = trained.classifier[:5](torch.flatten(trained.avgpool(trained.features(as_input(c))), 1)).numpy()
    np.testing.assert_allclose(extractor.embed(c), expected, rtol=1e-5, atol=1e-6)


@pytest.fixture
def fake_timm(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def create_model(name: str, **kwargs: Any) -> nn.Module:
        calls.append({"name": name, **kwargs})
        net = ChannelMeans()
        net.pretrained_cfg = {"input_size": (3, 48, 48), "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.5, 1.0)}
        return net

    timm = types.ModuleType("timm")
    timm.create_model = create_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "timm", timm)
    return calls


def test_timm_drops_the_classifier_and_uses_the_models_preprocessing(fake_timm: list[dict[str, Any]]) -> None:
    extractor = get_extractor("timm:resnet18")
    assert fake_timm == [{"name": "resnet18", "pretrained": True, "num_classes": 0}]
    assert (extractor.name, extractor.dim, extractor.input_size) == ("timm:resnet18", 3, 48)
    white = np.full((1, 48, 48, 3), 255, np.uint8)
    np.testing.assert_allclose(extractor.embed(white), [[(1 - 0.5) / 0.25, (1 - 0.5) / 0.5, (1 - 0.5) / 1.0]])


def test_timm_local_weights_go_through_the_pretrained_cfg_overlay(
    fake_timm: list[dict[str, Any]], tmp_path: Path
) -> None:
    get_extractor("timm:resnet18", weights=tmp_path / "w.safetensors")
    assert fake_timm[0]["pretrained_cfg_overlay"] == {"file": str(tmp_path / "w.safetensors")}


@pytest.fixture
def fake_open_clip(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    class Clip(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.visual = ChannelMeans()
            self.visual.image_size = (40, 40)
            self.text_projection = nn.Parameter(torch.zeros(2))

        def encode_image(self, x: torch.Tensor) -> torch.Tensor:
            return self.visual(x) * 2

    def create_model(arch: str, pretrained: str) -> nn.Module:
        calls.append((arch, pretrained))
        return Clip()

    open_clip = types.ModuleType("open_clip")
    open_clip.create_model = create_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "open_clip", open_clip)
    return calls


def test_open_clip_uses_the_image_tower(fake_open_clip: list[tuple[str, str]], tmp_path: Path) -> None:
    extractor = get_extractor("open_clip:ViT-B-32/laion2b_s34b_b79k")
    assert fake_open_clip == [("ViT-B-32", "laion2b_s34b_b79k")]
    assert (extractor.name, extractor.dim, extractor.input_size) == ("open_clip:ViT-B-32/laion2b_s34b_b79k", 3, 40)
    black = np.zeros((2, 40, 40, 3), np.uint8)
    clip_mean = np.array([0.48145466, 0.4578275, 0.40821073])
    clip_std = np.array([0.26862954, 0.26130258, 0.27577711])
    np.testing.assert_allclose(extractor.embed(black), np.tile(2 * -clip_mean / clip_std, (2, 1)), rtol=1e-5)

    get_extractor("open_clip:ViT-B-32/laion2b_s34b_b79k", weights=tmp_path / "clip.pt")
    assert fake_open_clip[-1] == ("ViT-B-32", str(tmp_path / "clip.pt"))


def test_open_clip_name_needs_arch_and_pretrained(fake_open_clip: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError, match="ARCH/PRETRAINED"):
        get_extractor("open_clip:ViT-B-32")


@pytest.mark.parametrize(
    ("name", "module", "command"),
    [
        ("torchvision:vgg16", "torchvision", "pip install torchvision"),
        ("timm:resnet18", "timm", "pip install timm"),
        ("open_clip:ViT-B-32/openai", "open_clip", "pip install open_clip_torch"),
    ],
)
def test_missing_hub_package_names_its_pip_command(
    monkeypatch: pytest.MonkeyPatch, name: str, module: str, command: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, f"{module}.models", None)
    with pytest.raises(MissingDependency) as info:
        get_extractor(name)
    assert info.value.command == command
    assert isinstance(info.value, ImportError)
