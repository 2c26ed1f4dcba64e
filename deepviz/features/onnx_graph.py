"""Write a small convolutional network as an ONNX model from numpy weights, with the ``onnx`` package alone.

The bundled models are short fixed graphs of convolutions, ReLU6, residual adds, a global
average pool and a linear layer; building them here means converting a checkpoint needs no
torch. Batch norm is folded into the convolution before it, since at inference it is a
per-channel affine map: fewer nodes, and the same numbers up to float rounding.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from deepviz.features.checkpoint import CheckpointError

__all__ = ["GraphBuilder", "StateDict", "conv_bn", "fold_batch_norm"]

# Opset 18 / IR 8 is what onnxruntime 1.14 onwards reads; the graph uses no newer operator, so
# an older runtime the user may have keeps working.
ONNX_OPSET = 18
ONNX_IR_VERSION = 8


class StateDict(Mapping[str, np.ndarray]):
    """A checkpoint's arrays that remembers which were read, so unused or missing names are caught.

    The ONNX twin of torch's ``load_state_dict(strict=True)``: a checkpoint of another
    architecture fails here with the names that did not fit, not later as a shape error.
    """

    # Batch-norm bookkeeping that never affects inference.
    IGNORED_SUFFIXES = ("num_batches_tracked",)

    def __init__(self, arrays: Mapping[str, np.ndarray], source: str = "the checkpoint") -> None:
        self._arrays = dict(arrays)
        self._used: set[str] = set()
        self.source = source

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            raise CheckpointError(f"{self.source} has no tensor {key!r}: it is not a checkpoint of this architecture")
        self._used.add(key)
        return self._arrays[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def check_all_used(self) -> None:
        unused = sorted(k for k in self._arrays if k not in self._used and not k.endswith(self.IGNORED_SUFFIXES))
        if unused:
            raise CheckpointError(
                f"{self.source} has {len(unused)} tensors this architecture does not use (e.g. {', '.join(unused[:3])}): "
                "it is not a checkpoint of this architecture"
            )


def fold_batch_norm(
    weight: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight (O, I/g, k, k) without bias, then batch norm -> (weight, bias) of one conv, float32.

    BN(x) = (x - mean) / sqrt(var + eps) * gamma + beta is affine per output channel, so it
    scales each filter and adds a bias. Computed in float64 so folding adds no rounding of its own.
    """
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    folded = weight.astype(np.float64) * scale[:, None, None, None]
    bias = beta.astype(np.float64) - mean.astype(np.float64) * scale
    return folded.astype(np.float32), bias.astype(np.float32)


@dataclass
class GraphBuilder:
    """Appends nodes to a graph with one (batch, C, H, W) float32 input; each method returns its output's name.

    Channel counts are tracked per value, so a weight of the wrong shape fails while building
    with the layer's name instead of inside onnxruntime.
    """

    input_name: str
    input_channels: int
    input_size: int
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.channels[self.input_name] = self.input_channels
        # Shared by every ReLU6: Clip takes its bounds as inputs since opset 11.
        self._zero = self._constant("relu6_min", np.array(0.0, np.float32))
        self._six = self._constant("relu6_max", np.array(6.0, np.float32))
        self._spatial_axes: str | None = None

    def _constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _node(self, op: str, inputs: list[str], channels: int, **attributes: int | list[int]) -> str:
        out = f"{op.lower()}_{len(self.nodes)}"
        node = helper.make_node(op, inputs, [out], name=out)
        node.attribute.extend(helper.make_attribute(key, value) for key, value in attributes.items())
        self.nodes.append(node)
        self.channels[out] = channels
        return out

    def conv(self, x: str, weight: np.ndarray, bias: np.ndarray, stride: int, pads: tuple[int, int, int, int],
             groups: int = 1, name: str = "conv") -> str:
        """2-D convolution; ``pads`` is (top, left, bottom, right) of zeros, as in ONNX."""
        out_channels, in_per_group, kh, kw = weight.shape
        if in_per_group * groups != self.channels[x] or bias.shape != (out_channels,):
            raise CheckpointError(
                f"{name}: weight {weight.shape} does not fit {self.channels[x]} input channels in {groups} group(s)"
            )
        w = self._constant(f"{name}.weight", weight.astype(np.float32))
        b = self._constant(f"{name}.bias", bias.astype(np.float32))
        return self._node("Conv", [x, w, b], out_channels, kernel_shape=[kh, kw], strides=[stride, stride],
                          pads=[pads[0], pads[1], pads[2], pads[3]], group=groups)

    def relu6(self, x: str) -> str:
        return self._node("Clip", [x, self._zero, self._six], self.channels[x])

    def add(self, a: str, b: str) -> str:
        return self._node("Add", [a, b], self.channels[a])

    def global_average_pool(self, x: str) -> str:
        """(B, C, H, W) -> (B, C): the mean over all positions (one ReduceMean, as torch's exporter writes it)."""
        if self._spatial_axes is None:
            self._spatial_axes = self._constant("spatial_axes", np.array([2, 3], np.int64))
        return self._node("ReduceMean", [x, self._spatial_axes], self.channels[x], keepdims=0)

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str = "linear") -> str:
        """(B, I) -> (B, O) with a torch-layout (O, I) weight."""
        if weight.shape[1] != self.channels[x] or bias.shape != (weight.shape[0],):
            raise CheckpointError(f"{name}: weight {weight.shape} does not fit {self.channels[x]} inputs")
        w = self._constant(f"{name}.weight", weight.astype(np.float32))
        b = self._constant(f"{name}.bias", bias.astype(np.float32))
        return self._node("Gemm", [x, w, b], weight.shape[0], transB=1)

    def model(self, outputs: Mapping[str, str], doc: str) -> onnx.ModelProto:
        """The finished model; ``outputs`` maps each public output name to the value it exposes as (batch, C)."""
        renamed = [helper.make_node("Identity", [value], [public], name=public) for public, value in outputs.items()]
        s = self.input_size
        graph = helper.make_graph(
            [*self.nodes, *renamed],
            "deepviz",
            [helper.make_tensor_value_info(self.input_name, TensorProto.FLOAT, ["batch", self.input_channels, s, s])],
            [helper.make_tensor_value_info(p, TensorProto.FLOAT, ["batch", self.channels[v]]) for p, v in outputs.items()],
            self.initializers,
        )
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], ir_version=ONNX_IR_VERSION,
            producer_name="deepviz", doc_string=doc,
        )
        onnx.checker.check_model(model)
        return model


def conv_bn(g: GraphBuilder, state: StateDict, x: str, conv: str, bn: str, eps: float, stride: int = 1,
            groups: int = 1, pads: tuple[int, int, int, int] | None = None, relu6: bool = True) -> str:
    """The common block on ``x``: conv ``<conv>.weight`` (no bias), batch norm ``<bn>.*`` folded in, optional ReLU6.

    ``pads`` defaults to symmetric "same" padding for an odd kernel, (k - 1) // 2 on every side.
    """
    weight, bias = fold_batch_norm(
        state[f"{conv}.weight"], state[f"{bn}.weight"], state[f"{bn}.bias"],
        state[f"{bn}.running_mean"], state[f"{bn}.running_var"], eps,
    )
    if pads is None:
        p = (weight.shape[-1] - 1) // 2
        pads = (p, p, p, p)
    y = g.conv(x, weight, bias, stride, pads, groups, name=conv)
    return g.relu6(y) if relu6 else y
