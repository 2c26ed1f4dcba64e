"""Runtime shared by the bundled ImageNet extractors: dependency checks, ONNX conversion and cache, runners, base class."""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from deepviz.atomic import atomic_path
from deepviz.cache import cache_root
from deepviz.errors import MissingDependency, UsageError, pip_command
from deepviz.features.checkpoint import read_state_dict
from deepviz.features.weights import WeightsSource, checkpoint_path, sha256_of

if TYPE_CHECKING:
    import onnx
    import onnxruntime
    import torch

    from deepviz.features.onnx_graph import GraphBuilder, StateDict

Backend = Literal["onnx", "torch"]
BACKENDS: tuple[str, ...] = ("onnx", "torch")

# torchvision's ImageNet normalisation, which its checkpoints (MobileNetV2's among them) were trained with.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# Bump when the written graph changes (names, opset, architecture, how it is made), so stale
# cache files are never picked up: the version is part of the file name. 2: written by
# deepviz's own graph builder with batch norm folded, instead of exported by torch.
ONNX_FORMAT_VERSION = 2
ONNX_INPUT = "images"
ONNX_OUTPUTS = ("features", "logits")


def pooled_classifier_outputs(
    g: GraphBuilder, state: StateDict, x: str, classifier: str, doc: str
) -> onnx.ModelProto:
    """The ending every bundled model shares: global average pool -> ``features``, the linear
    layer ``classifier`` on them -> ``logits`` (the outputs ONNX_OUTPUTS names), as a model."""
    pooled = g.global_average_pool(x)
    logits = g.linear(pooled, state[f"{classifier}.weight"], state[f"{classifier}.bias"], name=classifier)
    return g.model(dict(zip(ONNX_OUTPUTS, (pooled, logits))), doc)


def require(module: str, pip_command: str) -> None:
    """Raise MissingDependency(pip_command) when ``module`` cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise MissingDependency(pip_command)


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder for converted models: ``override``, else the ``models`` folder of the deepviz cache."""
    return Path(override) if override is not None else cache_root() / "models"


def save_atomically(model: onnx.ModelProto, target: Path) -> Path:
    """Write ``model`` to ``target`` through a temporary file in the same folder and a rename, so a
    crash or a concurrent run never leaves a half-written model that a later run would trust."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(model.SerializeToString())
    return target


def check_crops(crops: np.ndarray, input_size: int) -> None:
    """Refuse anything but (B, S, S, 3) uint8 RGB crops of the model's input size."""
    if crops.ndim != 4 or crops.shape[1:] != (input_size, input_size, 3):
        raise ValueError(f"expected crops of shape (B, {input_size}, {input_size}, 3), got {crops.shape}")
    if crops.dtype != np.uint8:
        raise ValueError(f"expected uint8 crops, got {crops.dtype}")


def to_nchw(crops: np.ndarray, input_size: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(B, S, S, 3) uint8 RGB -> (B, 3, S, S) float32, scaled to [0, 1] then standardised per channel."""
    check_crops(crops, input_size)
    x = (crops.astype(np.float32) / 255.0 - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class OnnxRunner:
    """An onnxruntime session over a cached model file; (B, 3, S, S) -> {output name: array}."""

    def __init__(self, path: Path, intra_op_num_threads: int | None = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # None lets onnxruntime use every core (0 is its own word for that).
        options.intra_op_num_threads = 0 if intra_op_num_threads is None else intra_op_num_threads
        # One thread between operators too: the pipeline overlaps image decoding with inference,
        # so extra threads here would only fight the decoder for the same cores.
        options.inter_op_num_threads = 1
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def run(self, x: np.ndarray, outputs: tuple[str, ...]) -> list[np.ndarray]:
        result: list[np.ndarray] = self.session.run(list(outputs), {ONNX_INPUT: x})
        return result


def resolve_device(device: str) -> str:
    """'cpu', 'cuda', 'cuda:N', 'mps' or 'auto' (a GPU if torch sees one) -> a device torch can use,
    or ValueError saying why the one asked for cannot be."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(
            f"--device {device} needs a CUDA build of torch and a GPU, and this torch ({torch.__version__}) sees none; "
            "use --device cpu"
        )
    if device == "mps" and not torch.backends.mps.is_available():
        raise UsageError("--device mps needs Apple's Metal backend, which this torch does not have; use --device cpu")
    return device


class TorchRunner:
    """A torch module in eval mode on a device: uint8 crops in, tuple of arrays out, under a chosen
    thread count. ``call`` picks what to run on the (B, 3, S, S) input (default: the module)."""

    def __init__(
        self,
        net: torch.nn.Module,
        num_threads: int | None = 1,
        device: str = "cpu",
        call: Callable[[torch.Tensor], Any] | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.net = net.eval().to(self.device)
        self.num_threads = num_threads
        self._call = call or self.net

    def run_images(self, crops: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, ...]:
        """(B, S, S, 3) uint8 crops -> outputs, standardised like ``to_nchw`` but on the device:
        a GPU then receives a quarter of the bytes and does the arithmetic itself (measured on an
        H200, preprocessing on the host was what held the GPU back)."""
        import torch

        m = torch.as_tensor(mean, device=self.device).view(1, 3, 1, 1)
        s = torch.as_tensor(std, device=self.device).view(1, 3, 1, 1)
        # torch's thread count is process-wide; restore it so one extractor does not change
        # the speed of unrelated torch code in the same process.
        previous = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
                x = (x.permute(0, 3, 1, 2).float().div_(255.0) - m) / s
                out = self._call(x)
        finally:
            torch.set_num_threads(previous)
        outputs = out if isinstance(out, tuple) else (out,)
        return tuple(o.float().cpu().numpy() for o in outputs)


def cached_onnx(name: str, build: Callable[[], onnx.ModelProto], cache: str | os.PathLike[str] | None) -> Path:
    """The cached ONNX file for ``name``, writing ``build()`` there only when it is missing.

    Once the file exists, onnxruntime alone runs it: no checkpoint, no onnx, no torch.
    """
    target = cache_dir(cache) / f"{name}.v{ONNX_FORMAT_VERSION}.onnx"
    if target.is_file():
        return target
    require("onnx", pip_command("onnx"))
    return save_atomically(build(), target)


def load_net(make: Callable[[], torch.nn.Module], weights: str | os.PathLike[str] | WeightsSource) -> torch.nn.Module:
    """``make()`` in eval mode with the state dict at ``weights`` strictly loaded.

    Checks for torch first, so that a missing torch raises MissingDependency with its pip command;
    ``make`` is only called afterwards, so it may import torch. The file is read by torch.load,
    not by deepviz's own reader, so the torch path stays an independent check of the ONNX one.
    """
    require("torch", pip_command("torch"))  # before fetching weights torch could not use
    import torch

    net = make()
    path = checkpoint_path(weights) if isinstance(weights, WeightsSource) else weights
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval()


class BundledImageNetModel:
    """A bundled ImageNet network: (B, S, S, 3) uint8 RGB -> (B, D) float32 pooled features, or logits.

    ``backend="onnx"`` (default) writes the network once into the cache folder as ONNX, straight
    from the checkpoint (no torch), and runs it with onnxruntime; ``backend="torch"`` runs the torch
    model (needs torch). ``intra_op_num_threads`` is the thread count of either backend.
    ``weights`` is a checkpoint file to use instead of the pinned one (same architecture).
    Subclasses set the class attributes, ``onnx_model`` and ``build_net``.
    """

    name: str
    dim: int
    input_size: int
    # The pinned checkpoint; the first 8 hex digits of its sha256 name the ONNX cache file,
    # ``<name>-<sha8>.v<N>.onnx`` (torchvision's own file naming, so the tags read the same).
    weights_source: ClassVar[WeightsSource]
    # Per-channel normalisation of [0, 1] RGB that the checkpoint was trained with.
    mean: ClassVar[np.ndarray] = IMAGENET_MEAN
    std: ClassVar[np.ndarray] = IMAGENET_STD

    @classmethod
    def onnx_model(cls, state: StateDict) -> onnx.ModelProto:
        """The network as ONNX: ``images`` (B, 3, S, S) standardised RGB -> ``features``, ``logits``."""
        raise NotImplementedError

    @classmethod
    def build_net(cls, weights: Path) -> torch.nn.Module:
        """The torch network, eval mode, the checkpoint at ``weights``: (B, 3, S, S) -> (features, logits)."""
        raise NotImplementedError

    def __init__(
        self,
        backend: Backend | None = None,
        intra_op_num_threads: int | None = 1,
        cache: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        weights: str | os.PathLike[str] | None = None,
    ) -> None:
        # ONNX Runtime's CPU build is the fastest here; a GPU is driven through torch.
        backend = backend or ("onnx" if device == "cpu" else "torch")
        if backend == "onnx" and device != "cpu":
            raise UsageError(f"the onnx backend runs on the CPU; use backend='torch' for device {device!r}")
        if backend not in BACKENDS:
            raise UsageError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        self.backend = backend
        self._intra_threads = intra_op_num_threads
        self.weights = Path(weights) if weights is not None else None
        if self.weights is not None and not self.weights.is_file():
            raise UsageError(f"weights file {str(self.weights)!r} does not exist")
        self.onnx_path: Path | None = None
        if backend == "onnx":
            require("onnxruntime", pip_command("onnxruntime"))
            tag = (sha256_of(self.weights) if self.weights is not None else self.weights_source.sha256)[:8]
            self.onnx_path = cached_onnx(f"{self.name}-{tag}", self._convert, cache)
            self._onnx = OnnxRunner(self.onnx_path, intra_op_num_threads)
        else:
            require("torch", pip_command("torch"))
            self._torch = TorchRunner(self.build_net(self.checkpoint()), intra_op_num_threads, device)

    @property
    def concurrent_batches(self) -> int:
        """How many ``embed`` calls the pipeline may run at once (features/base.py): one per core on
        ONNX Runtime, whose session runs concurrently from several threads, each batch on one core
        (``intra_op_num_threads`` 1); one for torch, whose thread setting is process-wide."""
        return (os.cpu_count() or 1) if self.backend == "onnx" and self._intra_threads == 1 else 1

    def checkpoint(self) -> Path:
        """The checkpoint file: the one given as ``weights``, else the pinned one (fetched once if need be)."""
        return self.weights if self.weights is not None else checkpoint_path(self.weights_source)

    def _convert(self) -> onnx.ModelProto:
        # onnx takes about half a second to import; only a first run, with no cached file, needs it.
        from deepviz.features.onnx_graph import StateDict

        path = self.checkpoint()
        state = StateDict(read_state_dict(path), source=str(path))
        model = self.onnx_model(state)
        state.check_all_used()
        return model

    def _run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.backend == "onnx":
            features, logits = self._onnx.run(to_nchw(crops, self.input_size, self.mean, self.std), ONNX_OUTPUTS)
        else:
            check_crops(crops, self.input_size)
            features, logits = self._torch.run_images(crops, self.mean, self.std)
        return features.astype(np.float32, copy=False), logits.astype(np.float32, copy=False)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB -> (B, D) float32, globally average-pooled after the last ReLU6."""
        return self._run(crops)[0]

    def logits(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB -> (B, 1000) float32 ImageNet class scores (before softmax)."""
        return self._run(crops)[1]
