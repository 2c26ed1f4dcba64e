"""Read a PyTorch state-dict checkpoint (``.pth``) into numpy arrays, without torch and without running its code.

Two on-disk formats exist, and the bundled checkpoints use the older one:

- the zip format (torch >= 1.6): ``<root>/data.pkl`` plus one raw file per storage, ``<root>/data/<key>``;
- the legacy format: five pickles in a row (magic number, protocol version, system info, the
  object, the list of storage keys), then each storage as an int64 element count and its bytes.

In both, the object pickle refers to storages by persistent id and rebuilds tensors through
``torch._utils._rebuild_tensor_v2``. A pickle can call any importable function, so the
unpickler below resolves only the handful of names a state dict needs and refuses the rest.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from deepviz.errors import UsageError

__all__ = ["CheckpointError", "read_state_dict"]

# The number torch writes first in a legacy file, to tell it from an arbitrary pickle.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch storage class name -> element type as stored on disk (little-endian).
_STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # numpy has no bfloat16: read as bits, widened to float32 below
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class CheckpointError(UsageError):
    """The file is not a state dict this reader accepts; the message says what was found."""


# slots: pickle's BUILD opcode could otherwise rewrite a validated object's __dict__.
@dataclass(frozen=True, slots=True)
class _StorageType:
    """Stands for ``torch.<name>Storage`` in the pickle; deliberately not callable."""

    name: str
    dtype: np.dtype[Any]


@dataclass(frozen=True, slots=True)
class _StorageRef:
    """A persistent id resolved to (storage type, key); the bytes are attached after unpickling."""

    kind: _StorageType
    key: str


@dataclass(frozen=True, slots=True)
class _TensorRef:
    """What ``_rebuild_tensor_v2`` returns here: a view description, realised once the bytes are read."""

    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(storage: object, offset: object, shape: object, strides: object, *_rest: object) -> _TensorRef:
    # The remaining arguments (requires_grad, backward hooks, metadata) do not affect the values.
    # Checked in _realise, after unpickling, since a later BUILD opcode can still change fields.
    return _TensorRef(storage, offset, shape, strides)  # type: ignore[arg-type]


def _is_int_tuple(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, int) and v >= 0 for v in value)


def _check_view(ref: _TensorRef, size: int) -> None:
    """CheckpointError unless ``ref`` is a well-formed view inside a storage of ``size`` elements."""
    valid = (
        isinstance(ref.offset, int) and ref.offset >= 0 and _is_int_tuple(ref.shape) and _is_int_tuple(ref.strides)
        and len(ref.shape) == len(ref.strides)
    )
    if not valid:
        raise CheckpointError("a tensor in the checkpoint has a malformed shape, strides or offset")
    # as_strided does no bounds check: an out-of-range view would read arbitrary memory.
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides))
    if 0 not in ref.shape and last >= size:
        raise CheckpointError("a tensor in the checkpoint reaches past the end of its storage")


def _allowed(module: str, name: str) -> object:
    """The object standing for ``module.name``, or CheckpointError for anything a state dict never holds."""
    if (module, name) == ("collections", "OrderedDict"):
        return OrderedDict
    if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
        return _rebuild_tensor
    if module == "torch" and name in _STORAGE_DTYPES:
        return _StorageType(name, np.dtype(_STORAGE_DTYPES[name]))
    raise CheckpointError(
        f"the checkpoint's pickle asks for {module}.{name}, which a plain state dict never does, so it was not "
        "loaded (it could run code); use a file of tensors saved with torch.save(model.state_dict(), path)"
    )


class _Unpickler(pickle.Unpickler):
    """Resolves globals through ``_allowed`` and storage persistent ids to ``_StorageRef``."""

    def find_class(self, module: str, name: str) -> Any:
        return _allowed(module, name)

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', type, key, location, numel[, view metadata]) in both formats.
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise CheckpointError(f"unexpected persistent id in the checkpoint: {pid!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise CheckpointError("the checkpoint uses storage views (torch < 0.4); re-save it with a newer torch")
        return _StorageRef(pid[1], str(pid[2]))


def _unpickle(file: IO[bytes]) -> Any:
    """One pickle from ``file``; a malformed one is a CheckpointError, whatever the pickle module raised."""
    try:
        return _Unpickler(file).load()
    except CheckpointError:
        raise
    # What the pickle machinery raises for truncated or nonsensical opcodes and arguments.
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError, IndexError, KeyError) as error:
        raise CheckpointError(f"the checkpoint is damaged or not a torch file ({type(error).__name__}: {error})") from error


def _realise(ref: _TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    """The tensor's values as a new C-contiguous array, after checking its view stays inside the storage."""
    flat = storages.get(ref.storage.key)
    if flat is None:
        raise CheckpointError(f"the checkpoint lacks the data of storage {ref.storage.key!r}")
    _check_view(ref, len(flat))
    if 0 in ref.shape:
        values = np.zeros(ref.shape, flat.dtype)
    else:
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset :], ref.shape, tuple(s * item for s in ref.strides), writeable=False
        )
        values = np.array(view, order="C")
    if ref.storage.kind.name == "BFloat16Storage":
        # bfloat16 is the top half of a float32.
        return (values.astype(np.uint32) << 16).view(np.float32)
    return values.astype(values.dtype.newbyteorder("="), copy=False)


def _to_arrays(obj: object, storages: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise CheckpointError(f"the checkpoint holds a {type(obj).__name__}, not a state dict (a mapping of names to tensors)")
    out: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not (isinstance(key, str) and isinstance(value, _TensorRef) and isinstance(value.storage, _StorageRef)):
            raise CheckpointError(f"the checkpoint entry {key!r:.60} is not a tensor; expected a plain state dict")
        out[key] = _realise(value, storages)
    return out


def _storage_refs(obj: object) -> dict[str, _StorageType]:
    refs: dict[str, _StorageType] = {}
    if isinstance(obj, dict):
        for value in obj.values():
            if isinstance(value, _TensorRef) and isinstance(value.storage, _StorageRef):
                refs[value.storage.key] = value.storage.kind
    return refs


def _read_zip(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise CheckpointError(f"{path.name} is a zip but not a torch checkpoint (no single <name>/data.pkl)")
        root = pickles[0].rsplit("/", 1)[0]
        names = set(archive.namelist())
        if f"{root}/byteorder" in names and archive.read(f"{root}/byteorder").strip() != b"little":
            raise CheckpointError(f"{path.name} was saved on a big-endian machine, which this reader does not handle")
        obj = _unpickle(io.BytesIO(archive.read(pickles[0])))
        storages: dict[str, np.ndarray] = {}
        for key, kind in _storage_refs(obj).items():
            member = f"{root}/data/{key}"
            if member not in names:
                raise CheckpointError(f"{path.name} lacks {member}")
            raw = archive.read(member)
            storages[key] = np.frombuffer(raw, kind.dtype, count=len(raw) // kind.dtype.itemsize)
    return _to_arrays(obj, storages)


def _read_legacy(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        try:
            magic = _unpickle(f)
        except CheckpointError as error:
            raise CheckpointError(f"{path.name} is neither a zip nor a legacy torch checkpoint") from error
        if magic != _LEGACY_MAGIC:
            raise CheckpointError(f"{path.name} is neither a zip nor a legacy torch checkpoint (wrong magic number)")
        _unpickle(f)  # protocol version
        info = _unpickle(f)
        if isinstance(info, dict) and info.get("little_endian") is False:
            raise CheckpointError(f"{path.name} was saved on a big-endian machine, which this reader does not handle")
        obj = _unpickle(f)
        keys = _unpickle(f)
        kinds = _storage_refs(obj)
        storages = {str(key): _read_storage(f, kinds, str(key), path) for key in keys}
    return _to_arrays(obj, storages)


def _read_storage(f: IO[bytes], kinds: dict[str, _StorageType], key: str, path: Path) -> np.ndarray:
    """One legacy storage: int64 element count, then the elements; skipped if no tensor uses it."""
    header = f.read(8)
    if len(header) != 8:
        raise CheckpointError(f"{path.name} is truncated")
    (count,) = struct.unpack("<q", header)
    kind = kinds.get(key)
    if kind is None:
        raise CheckpointError(f"{path.name} stores data no tensor refers to ({key!r}); expected a plain state dict")
    raw = f.read(count * kind.dtype.itemsize)
    if len(raw) != count * kind.dtype.itemsize:
        raise CheckpointError(f"{path.name} is truncated")
    return np.frombuffer(raw, kind.dtype)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The tensors of a ``torch.save(model.state_dict(), path)`` file, by name, as numpy arrays.

    Either checkpoint format; no torch needed. Raises CheckpointError for anything but a plain
    mapping of names to tensors, including any pickle that names a function outside the allow-list.
    """
    file = Path(path)
    reader: Callable[[Path], dict[str, np.ndarray]] = _read_zip if zipfile.is_zipfile(file) else _read_legacy
    return reader(file)
