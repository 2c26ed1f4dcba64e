"""The torch-free checkpoint reader: same arrays as torch.load, both file formats, hostile pickles refused."""
from __future__ import annotations

import importlib.util
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from deepviz.features import checkpoint
from deepviz.features.checkpoint import CheckpointError, read_state_dict

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="writes files with torch.save")


CALLS: list[tuple[object, ...]] = []


def run(*args: object) -> None:
    """A global a hostile pickle might name (a stand-in for os.system); records that it was called."""
    CALLS.append(args)


class Hostile:
    """Pickles as a call of ``tests.unit.test_checkpoint.run``."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (run, ("echo owned",))


def zip_checkpoint(path: Path, payload: object) -> Path:
    """A zip-format checkpoint whose data.pkl is ``payload`` pickled as is."""
    return zip_with_pickle(path, pickle.dumps(payload, protocol=2))


def zip_with_pickle(path: Path, data: bytes) -> Path:
    """A zip-format checkpoint whose data.pkl holds ``data``."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data)
        archive.writestr("archive/byteorder", "little")
    return path


def legacy_checkpoint(path: Path, payload: object) -> Path:
    """A legacy-format checkpoint (magic, protocol, system info, object, storage keys) holding ``payload``."""
    out = io.BytesIO()
    for part in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, payload, []):
        pickle.dump(part, out, protocol=2)
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("write", [zip_checkpoint, legacy_checkpoint], ids=["zip", "legacy"])
def test_a_pickle_naming_another_global_is_refused_before_it_runs(write: object, tmp_path: Path) -> None:
    CALLS.clear()
    path = write(tmp_path / "evil.pth", {"weight": Hostile()})  # type: ignore[operator]
    with pytest.raises(CheckpointError, match=r"asks for tests\.unit\.test_checkpoint\.run.*not loaded"):
        read_state_dict(path)
    assert CALLS == []


def test_a_pickle_of_os_system_is_refused(tmp_path: Path) -> None:
    # GLOBAL 'os system', then a call: what a malicious .pth contains.
    path = zip_with_pickle(tmp_path / "evil.pth", b"cos\nsystem\n(S'echo owned'\ntR.")
    with pytest.raises(CheckpointError, match="os.system"):
        read_state_dict(path)


def test_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(CheckpointError, match="neither a zip nor a legacy torch checkpoint"):
        read_state_dict(tmp_path / "text.pth")
    with pytest.raises(CheckpointError, match="not a state dict"):
        read_state_dict(zip_checkpoint(tmp_path / "list.pth", [1, 2, 3]))
    with pytest.raises(CheckpointError, match="is not a tensor"):
        read_state_dict(zip_checkpoint(tmp_path / "ints.pth", {"a": 1}))


def test_a_damaged_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    cut = pickle.dumps({"a": 1}, protocol=2)[:-4]
    with pytest.raises(CheckpointError, match="damaged"):
        read_state_dict(zip_with_pickle(tmp_path / "cut.pth", cut))
    legacy = legacy_checkpoint(tmp_path / "legacy.pth", {})
    legacy.write_bytes(legacy.read_bytes()[:-3])
    with pytest.raises(CheckpointError, match="damaged"):
        read_state_dict(legacy)


def test_a_view_enlarged_after_its_check_is_still_refused(tmp_path: Path) -> None:
    """A BUILD opcode after the tensor's rebuild grows it to 1000 x 1000 over a 4-element storage."""
    data = (
        b"(dp0\nS'w'\nctorch._utils\n_rebuild_tensor_v2\n"
        b"((S'storage'\nctorch\nFloatStorage\nS'0'\nS'cpu'\nI4\ntQp1\n"  # persistent id -> storage, memo 1
        b"I0\n(I2\nI2\nt(I2\nI1\ntI00\ntR"  # _rebuild_tensor_v2(storage, 0, (2, 2), (2, 1), False)
        b"(g1\nI0\n(I1000\nI1000\nt(I1000\nI1\nttb"  # BUILD: new fields
        b"s."
    )
    path = zip_with_pickle(tmp_path / "grown.pth", data)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("archive/data/0", np.arange(4, dtype="<f4").tobytes())
    with pytest.raises(CheckpointError, match="past the end"):
        read_state_dict(path)


def test_a_view_past_its_storage_is_refused() -> None:
    # as_strided would read whatever memory follows: the reader must check the extent itself.
    kind = checkpoint._StorageType("FloatStorage", np.dtype("<f4"))
    ref = checkpoint._TensorRef(checkpoint._StorageRef(kind, "0"), offset=2, shape=(3, 2), strides=(2, 1))
    with pytest.raises(CheckpointError, match="past the end"):
        checkpoint._realise(ref, {"0": np.zeros(7, np.float32)})
    np.testing.assert_array_equal(checkpoint._realise(ref, {"0": np.arange(8, dtype=np.float32)}), [[2, 3], [4, 5], [6, 7]])


@needs_torch
@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_same_arrays_as_torch_load(zipped: bool, tmp_path: Path) -> None:
    import torch

    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    state = {
        "transposed": base.permute(2, 0, 1),  # non-contiguous strides, as in the EfficientNet checkpoint
        "offset_view": torch.arange(10, dtype=torch.int64)[3:7],
        "half": torch.linspace(-1, 1, 5, dtype=torch.float16),
        "bfloat16": torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16),
        "flags": torch.tensor([True, False]),
        "bytes": torch.tensor([0, 255], dtype=torch.uint8),
        "scalar": torch.tensor(7, dtype=torch.int64),
        "empty": torch.zeros(0, 3),
    }
    path = tmp_path / "state.pth"
    torch.save(state, path, _use_new_zipfile_serialization=zipped)
    arrays = read_state_dict(path)
    assert list(arrays) == list(state)
    for key, tensor in state.items():
        expected = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
        assert arrays[key].dtype == expected.dtype and arrays[key].shape == expected.shape, key
        np.testing.assert_array_equal(arrays[key], expected)
        assert arrays[key].flags.c_contiguous


@needs_torch
@pytest.mark.parametrize("model", ["mobilenet", "efficientnet"])
def test_bundled_checkpoints_read_like_torch_load(model: str) -> None:
    import torch

    from deepviz.features import efficientnet, mobilenet
    from deepviz.features.weights import checkpoint_path

    path = checkpoint_path((mobilenet if model == "mobilenet" else efficientnet).WEIGHTS)
    expected = torch.load(path, map_location="cpu", weights_only=True)
    arrays = read_state_dict(path)
    assert list(arrays) == list(expected)
    for key, tensor in expected.items():
        np.testing.assert_array_equal(arrays[key], tensor.numpy(), err_msg=key)
