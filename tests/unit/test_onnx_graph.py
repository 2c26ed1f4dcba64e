"""The ONNX graph builder: folded batch norm and each block match a numpy reference; bad checkpoints fail early."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from deepviz.features.checkpoint import CheckpointError  # noqa: E402
from deepviz.features.onnx_graph import GraphBuilder, StateDict, conv_bn  # noqa: E402

EPS = 1e-3


def reference_conv(x: np.ndarray, w: np.ndarray, stride: int, pads: tuple[int, int, int, int], groups: int) -> np.ndarray:
    """(B, C, H, W) -> (B, O, H', W') cross-correlation, zero padding (top, left, bottom, right), float64."""
    top, left, bottom, right = pads
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    out_c, in_per_group, k, _ = w.shape
    h = (x.shape[2] - k) // stride + 1
    wd = (x.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], out_c, h, wd))
    per_group = out_c // groups
    for o in range(out_c):
        g = o // per_group
        xs = x[:, g * in_per_group : (g + 1) * in_per_group]
        for i in range(k):
            for j in range(k):
                patch = xs[:, :, i : i + stride * h : stride, j : j + stride * wd : stride]
                out[:, o] += np.einsum("bchw,c->bhw", patch, w[o, :, i, j])
    return out


def reference_bn(x: np.ndarray, state: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    shape = (1, -1, 1, 1)
    mean, var = state[f"{prefix}.running_mean"].reshape(shape), state[f"{prefix}.running_var"].reshape(shape)
    gamma, beta = state[f"{prefix}.weight"].reshape(shape), state[f"{prefix}.bias"].reshape(shape)
    return (x - mean) / np.sqrt(var + EPS) * gamma + beta


def random_state(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A 3 -> 4 (3x3, stride 2) -> depthwise 4 (3x3) -> linear 4 -> 5 network's weights, with batch norms."""
    state = {"a.weight": rng.normal(size=(4, 3, 3, 3)), "d.weight": rng.normal(size=(4, 1, 3, 3)),
             "fc.weight": rng.normal(size=(5, 4)), "fc.bias": rng.normal(size=5), "an.num_batches_tracked": np.array(3)}
    for bn in ("an", "dn"):
        state |= {f"{bn}.weight": rng.normal(size=4), f"{bn}.bias": rng.normal(size=4),
                  f"{bn}.running_mean": rng.normal(size=4), f"{bn}.running_var": rng.uniform(0.1, 2, size=4)}
    return {k: v.astype(np.float32) for k, v in state.items()}


def test_blocks_match_a_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    state = random_state(rng)
    checked = StateDict(state)
    g = GraphBuilder("x", 3, 8)
    a = conv_bn(g, checked, "x", "a", "an", EPS, stride=2, pads=(0, 0, 1, 1))  # TF "SAME" for stride 2
    d = conv_bn(g, checked, a, "d", "dn", EPS, groups=4, relu6=False)
    pooled = g.global_average_pool(g.add(a, d))
    logits = g.linear(pooled, checked["fc.weight"], checked["fc.bias"], name="fc")
    checked.check_all_used()  # num_batches_tracked is the one key allowed to go unused
    model = g.model({"features": pooled, "logits": logits}, "test")

    x = rng.normal(size=(2, 3, 8, 8)).astype(np.float32) * 3
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    features, out = session.run(["features", "logits"], {"x": x})

    ra = np.clip(reference_bn(reference_conv(x, state["a.weight"], 2, (0, 0, 1, 1), 1), state, "an"), 0, 6)
    rd = reference_bn(reference_conv(ra, state["d.weight"], 1, (1, 1, 1, 1), 4), state, "dn")
    expected = (ra + rd).mean(axis=(2, 3))
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, expected @ state["fc.weight"].T + state["fc.bias"], rtol=1e-5, atol=1e-5)
    assert (ra == 0).any() and (ra == 6).any()  # both bounds of ReLU6 were exercised


def test_a_checkpoint_of_another_architecture_fails_with_names() -> None:
    state = random_state(np.random.default_rng(1))
    g = GraphBuilder("x", 3, 8)
    with pytest.raises(CheckpointError, match="has no tensor 'b.weight'"):
        conv_bn(g, StateDict(state, "other.pth"), "x", "b", "an", EPS)
    checked = StateDict(state, "other.pth")
    conv_bn(g, checked, "x", "a", "an", EPS)
    with pytest.raises(CheckpointError, match=r"other.pth has 7 tensors this architecture does not use \(e.g. d.weight"):
        checked.check_all_used()


def test_a_weight_of_the_wrong_shape_fails_while_building() -> None:
    state = random_state(np.random.default_rng(2))
    g = GraphBuilder("x", 3, 8)
    with pytest.raises(CheckpointError, match=r"d: weight \(4, 1, 3, 3\) does not fit 3 input channels"):
        conv_bn(g, StateDict(state), "x", "d", "dn", EPS)
