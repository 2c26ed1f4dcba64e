r"""Read precomputed features from a user's file and line their rows up with the project's images.

Row order (user-facing; the same text is ``ROW_ORDER_RULE``):

* If the file carries identifiers, rows are matched by them.  ``paths`` (a ``path`` column in
  Parquet) holds each row's image as a path relative to the image folder, spelled as the
  project stores it and ``--list-files`` prints it (a backslash written ``\\``, a byte that
  is not UTF-8 and a control character ``\xNN``: see ``deepviz.filenames``).  A leading "./"
  is dropped, a raw name holding a newline or a tab is escaped as the scan escapes it, and an
  image no path names exactly is looked up with "\" read as "/" (Windows separators).
  ``ids`` (or ``id``) holds integers indexing into the project's image list.  If both are
  present, ``paths`` wins.  Rows for images that are not in the project are ignored with a
  warning; images with no row are an error.
* If the file holds only a matrix, row i must be the features of the project's i-th image,
  in the project's order (stored relative paths sorted; ``deepviz build IMAGES --list-files``
  prints it, one CSV row each), and the row count must equal the number of images exactly.

Formats: ``.npy``, ``.npz``, ``.h5``/``.hdf5``, ``.pt``/``.pth``, ``.safetensors``,
``.parquet``.  Values are checked (finite, no all-zero rows) but not normalised.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.errors import DeepvizError
from deepviz.filenames import canonical

__all__ = ["FeatureFileError", "ROW_ORDER_RULE", "SUPPORTED_EXTENSIONS", "load_features"]

ROW_ORDER_RULE = (
    "Rows are matched to images by a 'paths' array (relative paths such as 'cats/001.jpg', "
    "spelled as --list-files prints them) "
    "or an 'ids' array (integer positions in the project's image list) when the file has one; "
    "otherwise the file must hold exactly one row per image, in the project's order "
    "(sorted relative paths; `deepviz build IMAGES --list-files` prints it)."
)

# Names that identify rows rather than hold features, in order of preference.
_PATH_NAMES = ("paths", "path")
_ID_NAMES = ("ids", "id")
# Names taken as the features when a file holds several 2-D arrays and no key was given.
_FEATURE_NAMES = ("features", "feats", "embeddings", "embedding", "x")
# About 64 MiB of float32 per block, so converting and reordering never holds a second
# full-size copy of a 1M x 512 matrix.
_BLOCK_VALUES = 1 << 24
_SHOW = 5  # how many offending paths or keys a message lists


class FeatureFileError(DeepvizError, ValueError):
    """A feature file that cannot be used as it is; the message says what to change."""


@dataclass(frozen=True)
class _Found:
    """What a reader found in a feature file, before its rows are aligned with the project.

    ``where``   the array and file, for messages ("'features' in feats.npz").
    ``shape``   shape of the feature array, checked to be (R, D) later.
    ``blocks``  callable yielding consecutive (b, D) row blocks of the features, any numeric dtype.
    ``paths``   (R,) relative image path of each row, or None.
    ``ids``     (R,) integer position in the project's list of each row, or None.
    ``loaded``  the whole matrix when the reader had to load it into memory anyway (.npz), so a
                float32 file already in project order is returned without a second copy.
    """

    where: str
    shape: tuple[int, ...]
    blocks: Callable[[], Iterator[np.ndarray]]
    paths: Sequence[str] | None = None
    ids: np.ndarray | None = None
    loaded: np.ndarray | None = None


# ----------------------------------------------------------------------------- entry point


def load_features(
    path: str | os.PathLike[str], paths: Sequence[str], *, key: str | None = None
) -> np.ndarray:
    """Read a feature file and return (N, D) float32 features, row i for ``paths[i]``, not normalised.

    ``paths`` are the project's images as stored relative paths (``deepviz.filenames``), in the project's row order.
    ``key`` names the feature array when the file holds several (``--features-key``); it is
    ignored for files that hold a single array.  See ``ROW_ORDER_RULE`` for how rows are matched.
    Raises ``FeatureFileError`` with the remedy when the file cannot be used.
    """
    file = Path(path)
    ext = file.suffix.lower()
    reader = _READERS.get(ext)
    if reader is None:
        raise FeatureFileError(
            f"Cannot read features from {file.name!r}: unknown extension {ext or '(none)'!r}. "
            f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}. Convert the features to one of "
            "these, e.g. numpy.save('features.npy', matrix)."
        )
    if not file.is_file():
        raise FeatureFileError(f"Feature file {str(file)!r} does not exist or is not a file.")
    with ExitStack() as stack:
        found = reader(file, key, stack)
        n_rows = _check_shape(found)
        rows = _row_index(found, n_rows, paths)
        features = _reuse_loaded(found, rows)
        if features is None:
            features = _gather(found, rows, len(paths))
    _check_values(features, paths, found.where)
    return features


# ----------------------------------------------------------------------------- readers


def _read_npy(file: Path, key: str | None, stack: ExitStack) -> _Found:
    # Memory-mapped so a large matrix is streamed in blocks rather than loaded twice.
    try:
        matrix = np.load(file, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise FeatureFileError(
            f"Could not read {file.name!r} as a .npy array ({_numpy_reason(error)}). Save the features "
            "with numpy.save('features.npy', matrix) using a numeric dtype."
        ) from error
    where = repr(file.name)
    _check_numeric(matrix.dtype, where)
    return _Found(where, matrix.shape, _sliced(matrix))


def _read_npz(file: Path, key: str | None, stack: ExitStack) -> _Found:
    try:
        archive = stack.enter_context(np.load(file, allow_pickle=False))
    except (ValueError, OSError, EOFError) as error:
        raise FeatureFileError(
            f"Could not read {file.name!r} as a .npz archive ({_numpy_reason(error)}). Save it with "
            "numpy.savez('features.npz', features=matrix, paths=numpy.array(paths))."
        ) from error

    def array(name: str) -> np.ndarray:
        try:
            return np.asarray(archive[name])
        except ValueError as error:  # object arrays need pickle, which we never enable
            raise FeatureFileError(
                f"Array {name!r} in {file.name!r} holds Python objects, which are not loaded "
                "for safety. Store paths as a string array (numpy.array(paths, dtype=str)) "
                "and features as a numeric matrix."
            ) from error

    names = list(archive.files)
    shapes = {n: _npz_shape(archive, n) for n in names if n not in _PATH_NAMES + _ID_NAMES}
    name = _pick_features(shapes, key, file.name)
    matrix = array(name)
    where = f"{name!r} in {file.name!r}"
    _check_numeric(matrix.dtype, where)
    path_name = _first_present(_PATH_NAMES, names)
    id_name = _first_present(_ID_NAMES, names)
    return _Found(
        where,
        matrix.shape,
        _sliced(matrix),
        paths=_as_paths(array(path_name), path_name, where) if path_name else None,
        ids=array(id_name) if id_name else None,
        loaded=matrix,
    )


def _npz_shape(archive: Any, name: str) -> tuple[int, ...]:
    # Reads only the member's header, so choosing among arrays does not load them all.
    with archive.zip.open(f"{name}.npy") as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, _ = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, _ = np.lib.format.read_array_header_2_0(member)
        else:  # rare format versions: fall back to loading the member
            return tuple(archive[name].shape)
    return tuple(shape)


def _read_h5(file: Path, key: str | None, stack: ExitStack) -> _Found:
    h5py = _require("h5py", "h5py", ".h5")
    try:
        handle = stack.enter_context(h5py.File(file, "r"))
    except OSError as error:
        raise FeatureFileError(
            f"Could not open {file.name!r} as HDF5 ({error}). Write it with h5py: "
            "f.create_dataset('features', data=matrix)."
        ) from error
    datasets: dict[str, Any] = {}

    def collect(name: str, obj: Any) -> None:  # must return None, or h5py stops visiting
        if isinstance(obj, h5py.Dataset):
            datasets[name] = obj

    handle.visititems(collect)
    shapes = {n: d.shape for n, d in datasets.items() if n.rsplit("/", 1)[-1] not in _PATH_NAMES + _ID_NAMES}
    name = _pick_features(shapes, key, file.name)
    matrix = datasets[name]
    where = f"{name!r} in {file.name!r}"
    _check_numeric(matrix.dtype, where)
    # Identifiers sit beside the features (same group), else at the top of the file.
    group = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    path_name = _first_present([group + n for n in _PATH_NAMES] + list(_PATH_NAMES), datasets)
    id_name = _first_present([group + n for n in _ID_NAMES] + list(_ID_NAMES), datasets)
    return _Found(
        where,
        matrix.shape,
        _sliced(matrix),
        paths=_h5_strings(datasets[path_name], where) if path_name else None,
        ids=datasets[id_name][()] if id_name else None,
    )


def _h5_strings(dataset: Any, where: str) -> list[str]:
    if dataset.dtype.kind not in "SOU":
        raise FeatureFileError(
            f"The paths dataset next to {where} has dtype {dataset.dtype}, not strings. "
            "Store relative paths as strings: f.create_dataset('paths', data=paths)."
        )
    try:
        return _as_paths(dataset.asstr()[()], "paths", where)
    except UnicodeDecodeError as error:
        raise FeatureFileError(
            f"The paths next to {where} are not valid UTF-8 ({error}). Store them as UTF-8 strings, as "
            "`deepviz build IMAGES --list-files` prints them (a byte that is not UTF-8 is written \\xNN)."
        ) from error


def _read_torch(file: Path, key: str | None, stack: ExitStack) -> _Found:
    torch = _require("torch", "torch", ".pt")
    import pickle

    try:
        # mmap keeps tensors on disk until a block is converted; legacy (non-zip) files
        # cannot be mapped, so they are loaded normally.
        try:
            obj = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:
            obj = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise FeatureFileError(
            f"Could not load {file.name!r} safely ({_first_sentence(error)}). Only tensors, "
            "lists, strings and dicts are loaded (torch.load weights_only=True); save the "
            "features with torch.save({'features': tensor, 'paths': list_of_relative_paths}, path)."
        ) from error
    except (RuntimeError, OSError, EOFError) as error:
        raise FeatureFileError(f"Could not read {file.name!r} with torch.load ({error}).") from error

    if isinstance(obj, torch.Tensor):
        where = repr(file.name)
        _check_torch_numeric(obj, where)
        return _Found(where, tuple(obj.shape), _sliced_torch(torch, obj))
    if not isinstance(obj, Mapping):
        raise FeatureFileError(
            f"{file.name!r} holds a {type(obj).__name__}; expected a tensor or a dict like "
            "{'features': tensor, 'paths': [...]} or {'features': tensor, 'ids': tensor}."
        )
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    shapes = {n: tuple(t.shape) for n, t in tensors.items() if n not in _PATH_NAMES + _ID_NAMES}
    name = _pick_features(shapes, key, file.name)
    matrix = tensors[name]
    where = f"{name!r} in {file.name!r}"
    _check_torch_numeric(matrix, where)
    path_name = _first_present(_PATH_NAMES, obj)
    id_name = _first_present(_ID_NAMES, obj)
    ids = obj[id_name] if id_name else None
    return _Found(
        where,
        tuple(matrix.shape),
        _sliced_torch(torch, matrix),
        paths=_as_paths(obj[path_name], path_name, where) if path_name else None,
        ids=ids.numpy() if isinstance(ids, torch.Tensor) else ids,
    )


def _check_torch_numeric(tensor: Any, where: str) -> None:
    if tensor.is_complex():
        raise FeatureFileError(
            f"Features {where} are complex ({tensor.dtype}), which is not a usable feature "
            "dtype. Store them as a float32 (or other real numeric) tensor."
        )


def _sliced_torch(torch: Any, tensor: Any) -> Callable[[], Iterator[np.ndarray]]:
    # bfloat16 has no numpy dtype, so every block is converted by torch first.
    def read(a: int, b: int) -> np.ndarray:
        return np.asarray(tensor[a:b].to(torch.float32).numpy())

    return _blocks_of(read, tensor.shape)


def _read_safetensors(file: Path, key: str | None, stack: ExitStack) -> _Found:
    safetensors = _require("safetensors", "safetensors", ".safetensors")
    try:
        handle = stack.enter_context(safetensors.safe_open(str(file), framework="np"))
    except (safetensors.SafetensorError, OSError) as error:
        raise FeatureFileError(
            f"Could not open {file.name!r} as safetensors ({error}). Write it with "
            "safetensors.numpy.save_file({'features': matrix}, path)."
        ) from error
    names = list(handle.keys())
    shapes = {n: tuple(handle.get_slice(n).get_shape()) for n in names if n not in _ID_NAMES}
    name = _pick_features(shapes, key, file.name)
    where = f"{name!r} in {file.name!r}"
    view = handle.get_slice(name)
    if view.get_dtype() == "BF16":
        # numpy has no bfloat16; torch reads those bytes.
        torch = _require("torch", "torch", "bfloat16 .safetensors")
        tensor_handle = stack.enter_context(safetensors.safe_open(str(file), framework="pt"))
        tensor_view = tensor_handle.get_slice(name)

        def read(a: int, b: int) -> np.ndarray:
            return np.asarray(tensor_view[a:b].to(torch.float32).numpy())

    else:
        dtype = np.dtype(_SAFETENSORS_DTYPES.get(view.get_dtype(), "O"))
        _check_numeric(dtype, where, shown=view.get_dtype())

        def read(a: int, b: int) -> np.ndarray:
            return np.asarray(view[a:b])

    id_name = _first_present(_ID_NAMES, names)
    return _Found(
        where,
        shapes[name],
        _blocks_of(read, shapes[name]),
        paths=_safetensors_paths(handle.metadata(), where),
        ids=handle.get_tensor(id_name) if id_name else None,
    )


_SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BOOL": "bool",
    "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
    "U8": "uint8", "U16": "uint16", "U32": "uint32", "U64": "uint64",
}


def _safetensors_paths(metadata: Mapping[str, str] | None, where: str) -> list[str] | None:
    # Tensors cannot hold strings, so paths travel in the header's metadata as a JSON list.
    if not metadata or "paths" not in metadata:
        return None
    try:
        paths = json.loads(metadata["paths"])
    except json.JSONDecodeError as error:
        raise FeatureFileError(
            f"The 'paths' metadata of {where} is not valid JSON ({error}). Save it as "
            "metadata={'paths': json.dumps(list_of_relative_paths)}."
        ) from error
    return _as_paths(paths, "paths metadata", where)


def _read_parquet(file: Path, key: str | None, stack: ExitStack) -> _Found:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(file)
    except (pa.ArrowException, OSError) as error:
        raise FeatureFileError(f"Could not read {file.name!r} as Parquet ({error}).") from error
    stack.callback(parquet.close)
    schema = parquet.schema_arrow
    n_rows = parquet.metadata.num_rows
    path_name = _first_present(_PATH_NAMES, schema.names)
    id_name = _first_present(_ID_NAMES, schema.names)
    columns = _parquet_feature_columns(schema, key, file.name, {path_name, id_name})
    where = (
        f"column {columns[0]!r} of {file.name!r}" if len(columns) == 1
        else f"{len(columns)} numeric columns of {file.name!r}"
    )

    dim = _parquet_width(schema, columns, parquet)

    def blocks() -> Iterator[np.ndarray]:
        for batch in parquet.iter_batches(batch_size=_rows_per_block(dim), columns=columns):
            yield _parquet_block(batch, where)

    ids = None
    paths = None
    if path_name is not None:
        paths = _as_paths(_parquet_column(parquet, path_name, file.name).to_pylist(), path_name, where)
    elif id_name is not None:
        ids = _parquet_column(parquet, id_name, file.name).to_numpy()
    return _Found(where, (n_rows, dim), blocks, paths=paths, ids=ids)


def _parquet_feature_columns(schema: Any, key: str | None, name: str, identifiers: set[str | None]) -> list[str]:
    """Pick one list column of floats, or else all numeric columns other than the identifiers."""
    import pyarrow as pa

    def numeric(t: Any) -> bool:
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

    lists = [f.name for f in schema if _is_arrow_list(f.type)]
    if key is not None:
        if key not in schema.names:
            raise FeatureFileError(
                f"{name!r} has no column {key!r} (from --features-key). Columns: {_listed(schema.names)}."
            )
        if not (key in lists or numeric(schema.field(key).type)):
            raise FeatureFileError(
                f"Column {key!r} of {name!r} holds {schema.field(key).type}, not numbers. "
                "Name a list column of floats with --features-key."
            )
        return [key]
    preferred = [n for n in ("features", "embedding", "embeddings") if n in lists]
    if preferred:
        return preferred[:1]
    if len(lists) == 1:
        return lists
    if len(lists) > 1:
        raise FeatureFileError(
            f"{name!r} has several list columns that could be the features: {_listed(lists)}. "
            "Choose one with --features-key NAME."
        )
    # pandas may store a non-default index as a numeric column; it is not a feature.
    index = re.compile(r"__index_level_\d+__")
    columns = [
        f.name for f in schema
        if f.name not in identifiers and not index.fullmatch(f.name)
        and numeric(f.type)
    ]
    if not columns:
        raise FeatureFileError(
            f"{name!r} has no feature columns. Store either one list column named 'features' "
            "(or 'embedding') of equal-length float lists, or one numeric column per dimension, "
            "next to a 'path' or 'id' column."
        )
    return columns


def _parquet_width(schema: Any, columns: list[str], parquet: Any) -> int:
    import pyarrow as pa

    kind = schema.field(columns[0]).type
    if len(columns) > 1 or not _is_arrow_list(kind):
        return len(columns)
    if pa.types.is_fixed_size_list(kind):
        return int(kind.list_size)  # a single numeric column: one-dimensional features
    # Variable-length lists: the first row gives the width; every block is checked against it.
    first = next(parquet.iter_batches(batch_size=1, columns=columns), None)
    if first is None or len(first) == 0 or not first.column(0).is_valid()[0].as_py():
        return 0
    return len(first.column(0)[0])


def _parquet_block(batch: Any, where: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if batch.num_columns > 1 or not _is_arrow_list(batch.column(0).type):
        columns = [batch.column(i) for i in range(batch.num_columns)]
        return np.column_stack([c.to_numpy(zero_copy_only=False) for c in columns])
    column = batch.column(0)
    value_type = column.type.value_type
    if not (pa.types.is_floating(value_type) or pa.types.is_integer(value_type)):
        raise FeatureFileError(f"The lists in {where} hold {value_type}, not numbers; store floats.")
    if column.null_count:
        raise FeatureFileError(
            f"{column.null_count} rows of {where} have no features (null). Drop those rows "
            "or fill them in."
        )
    lengths = pc.list_value_length(column).to_numpy()
    if len(lengths) and lengths.min() != lengths.max():
        raise FeatureFileError(
            f"The lists in {where} have different lengths ({lengths.min()} to {lengths.max()}); "
            "every row needs the same number of features."
        )
    values = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(values).reshape(len(column), -1)


def _is_arrow_list(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind))


def _parquet_column(parquet: Any, name: str, file_name: str) -> Any:
    column = parquet.read(columns=[name]).column(name)
    if column.null_count:
        raise FeatureFileError(
            f"Column {name!r} of {file_name!r} has {column.null_count} empty (null) values; "
            "every row needs its image's path or id."
        )
    return column


_READERS: dict[str, Callable[[Path, str | None, ExitStack], _Found]] = {
    ".npy": _read_npy,
    ".npz": _read_npz,
    ".h5": _read_h5,
    ".hdf5": _read_h5,
    ".pt": _read_torch,
    ".pth": _read_torch,
    ".safetensors": _read_safetensors,
    ".parquet": _read_parquet,
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_READERS)


# ----------------------------------------------------------------------------- shared checks


def _require(module: str, package: str, what: str) -> Any:
    """Import an optional dependency, or say exactly what to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise FeatureFileError(
            f"Reading {what} feature files needs {package}: pip install {package}"
            + (' (or pip install "deepviz[import]")' if package in ("h5py", "safetensors") else "")
        ) from error


def _pick_features(shapes: Mapping[str, tuple[int, ...]], key: str | None, file_name: str) -> str:
    """Choose which array holds the features: ``key``, the only 2-D array, or a conventional name."""
    if key is not None:
        if key not in shapes:
            raise FeatureFileError(
                f"{file_name!r} has no array {key!r} (from --features-key). "
                f"Arrays: {_listed(shapes) or '(none)'}."
            )
        return key
    matrices = [n for n, s in shapes.items() if len(s) == 2]
    if len(matrices) == 1:
        return matrices[0]
    named = [n for n in _FEATURE_NAMES if n in shapes]
    if len(named) == 1:
        return named[0]
    if len(matrices) > 1 or len(named) > 1:
        candidates = matrices or named
        raise FeatureFileError(
            f"{file_name!r} holds several arrays that could be the features: "
            f"{_listed(candidates)}. Choose one with --features-key NAME."
        )
    if len(shapes) == 1:
        return next(iter(shapes))  # not 2-D: the shape check says so
    described = ", ".join(f"{n} {tuple(s)}" for n, s in list(shapes.items())[:_SHOW])
    raise FeatureFileError(
        f"{file_name!r} has no 2-D feature array (found: {described or 'nothing'}). Store the "
        "features as an (images, dimensions) matrix named 'features', or name it with --features-key."
    )


def _check_numeric(dtype: np.dtype, where: str, shown: str | None = None) -> None:
    # Integers and booleans convert to float32 exactly enough; strings and objects cannot.
    if dtype.kind not in "fiub":
        raise FeatureFileError(
            f"Features {where} have dtype {shown or dtype}, which is not numeric. Store them as a "
            "float32 (or other numeric) matrix."
        )


def _check_shape(found: _Found) -> int:
    if len(found.shape) != 2:
        hint = " (a single vector? reshape it to (1, D))" if len(found.shape) == 1 else ""
        raise FeatureFileError(
            f"Features {found.where} have shape {tuple(found.shape)}; expected a 2-D (images, "
            f"dimensions) matrix{hint}. Flatten or reshape the features to one row per image."
        )
    if found.shape[1] == 0:
        raise FeatureFileError(f"Features {found.where} have zero dimensions (shape {tuple(found.shape)}).")
    return int(found.shape[0])


def _as_paths(values: Any, name: str, where: str) -> list[str]:
    items = values.tolist() if isinstance(values, np.ndarray) else values
    items = list(items) if isinstance(items, tuple) else items
    if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
        raise FeatureFileError(
            f"The {name!r} stored with {where} must be a 1-D list of strings (relative image paths)."
        )
    return items


def _first_sentence(error: BaseException) -> str:
    # Library messages can go on to suggest unsafe loading, which is advice we do not give.
    return str(error).split(". ")[0].splitlines()[0].rstrip(".")


def _numpy_reason(error: BaseException) -> str:
    if "pickle" in str(error) or "Python objects" in str(error):
        return "not a numeric array; pickled Python objects are never loaded"
    return _first_sentence(error)


def _first_present(names: Sequence[str], container: Any) -> str | None:
    return next((n for n in names if n in container), None)


def _listed(names: Any) -> str:
    names = [str(n) for n in names]
    more = f" and {len(names) - _SHOW} more" if len(names) > _SHOW else ""
    return ", ".join(repr(n) for n in names[:_SHOW]) + more


# ----------------------------------------------------------------------------- alignment


def _stored(path: str) -> str:
    """A path from the file in the project's spelling: stored text is itself, a raw name is escaped."""
    while path.startswith("./"):
        path = path[2:]
    return canonical(path)


def _slashed(path: str) -> str:
    """A Windows-style path as the project would spell it ('.\\a\\b.jpg' -> 'a/b.jpg')."""
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _row_index(found: _Found, n_rows: int, paths: Sequence[str]) -> np.ndarray | None:
    """(N,) int64 file row of each project image, or None when the file is already in project order."""
    if found.paths is not None:
        rows = _rows_by_paths(found.paths, n_rows, paths, found.where)
    elif found.ids is not None:
        rows = _rows_by_ids(found.ids, n_rows, paths, found.where)
    elif n_rows != len(paths):
        raise FeatureFileError(
            f"Features {found.where} have {n_rows} rows but the project has {len(paths)} images. "
            f"{ROW_ORDER_RULE}"
        )
    else:
        return None
    in_order = n_rows == len(paths) and bool(np.array_equal(rows, np.arange(len(paths))))
    return None if in_order else rows


def _rows_by_paths(file_paths: Sequence[str], n_rows: int, paths: Sequence[str], where: str) -> np.ndarray:
    if len(file_paths) != n_rows:
        raise FeatureFileError(
            f"Features {where} have {n_rows} rows but {len(file_paths)} paths; store one path per row."
        )
    row_of: dict[str, int] = {}
    slashed: dict[str, int] = {}  # tried only for an image no path names exactly
    duplicates: list[str] = []
    for row, p in enumerate(file_paths):
        key = _stored(p)
        if key in row_of:
            duplicates.append(key)
        row_of[key] = row
        slashed.setdefault(_slashed(p), row)
    if duplicates:
        raise FeatureFileError(
            f"{len(duplicates)} paths appear more than once in {where}, e.g. {_listed(duplicates)}. "
            "Keep one row per image."
        )
    rows = np.fromiter((row_of.get(p, slashed.get(p, -1)) for p in paths), dtype=np.int64, count=len(paths))
    missing = [p for p, r in zip(paths, rows) if r < 0]
    if missing:
        example = f" The file's paths look like {file_paths[0]!r}." if file_paths else ""
        raise FeatureFileError(
            f"Features {where} have no row for {len(missing)} of the project's {len(paths)} images, "
            f"e.g. {_listed(missing)}.{example} Paths are matched exactly, relative to the image "
            "folder with '/' separators, as `deepviz build IMAGES --list-files` prints them. Add the "
            "missing rows, or remove those images. "
            f"{ROW_ORDER_RULE}"
        )
    _warn_extra(n_rows - len(paths), where)
    return rows


def _rows_by_ids(ids: Any, n_rows: int, paths: Sequence[str], where: str) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or len(ids) != n_rows:
        raise FeatureFileError(
            f"The ids stored with {where} must be a 1-D integer array with one entry per row "
            f"(got dtype {ids.dtype}, shape {ids.shape}, for {n_rows} rows). {ROW_ORDER_RULE}"
        )
    outside = (ids < 0) | (ids >= len(paths))
    if outside.any():
        raise FeatureFileError(
            f"{int(outside.sum())} ids stored with {where} are outside 0..{len(paths) - 1} "
            f"(e.g. {int(ids[outside][0])}); ids are positions in the project's image list. "
            f"{ROW_ORDER_RULE}"
        )
    counts = np.bincount(ids, minlength=len(paths))
    if (counts > 1).any():
        repeated = np.flatnonzero(counts > 1)
        raise FeatureFileError(
            f"{len(repeated)} ids appear more than once in {where}, e.g. {_listed(repeated[:_SHOW].tolist())}. "
            "Keep one row per image."
        )
    rows = np.full(len(paths), -1, dtype=np.int64)
    rows[ids] = np.arange(n_rows)
    missing = np.flatnonzero(rows < 0)
    if len(missing):
        raise FeatureFileError(
            f"Features {where} have no row for {len(missing)} of the project's {len(paths)} images, "
            f"e.g. {_listed(paths[i] for i in missing[:_SHOW])}. Add rows for them, or remove those "
            f"images. {ROW_ORDER_RULE}"
        )
    return rows


def _warn_extra(extra: int, where: str) -> None:
    if extra > 0:
        warnings.warn(
            f"Ignoring {extra} rows of {where} for images that are not in the project.",
            UserWarning,
            stacklevel=5,  # points at load_features's caller
        )


# ----------------------------------------------------------------------------- reading values


def _rows_per_block(dim: int) -> int:
    return max(1, _BLOCK_VALUES // max(dim, 1))


def _blocks_of(read: Callable[[int, int], np.ndarray], shape: Sequence[int]) -> Callable[[], Iterator[np.ndarray]]:
    """Turn a row-range reader into consecutive blocks of about ``_BLOCK_VALUES`` values."""

    def blocks() -> Iterator[np.ndarray]:
        n = int(shape[0]) if len(shape) else 0
        step = _rows_per_block(int(shape[1]) if len(shape) > 1 else 1)
        for start in range(0, n, step):
            yield read(start, min(start + step, n))

    return blocks


def _sliced(matrix: Any) -> Callable[[], Iterator[np.ndarray]]:
    """Blocks of anything sliceable by rows into numpy (ndarray, memmap, h5py dataset)."""
    return _blocks_of(lambda a, b: np.asarray(matrix[a:b]), matrix.shape)


def _reuse_loaded(found: _Found, rows: np.ndarray | None) -> np.ndarray | None:
    """The reader's in-memory matrix itself when it is float32 and already in project order."""
    loaded = found.loaded
    if rows is None and loaded is not None and loaded.dtype == np.float32 and loaded.flags.writeable:
        return np.ascontiguousarray(loaded)
    return None


def _gather(found: _Found, rows: np.ndarray | None, n_out: int) -> np.ndarray:
    """(n_out, D) float32: output row i is file row ``rows[i]`` (or row i when ``rows`` is None).

    Blocks are read in file order and scattered into one preallocated array, so memory stays
    at one float32 copy plus one block whatever the file's dtype or row order.
    """
    dim = int(found.shape[1])
    out = np.empty((n_out, dim), dtype=np.float32)
    # File rows wanted, ascending, and the output row each one fills.
    order = np.argsort(rows, kind="stable") if rows is not None else None
    wanted = rows[order] if rows is not None else None
    start = 0
    # float64 values beyond float32's range become inf here and are reported by _check_values.
    with np.errstate(over="ignore", invalid="ignore"):
        for block in found.blocks():
            if block.ndim != 2 or block.shape[1] != dim:
                raise FeatureFileError(
                    f"Rows of {found.where} do not all have {dim} values; every row needs the same width."
                )
            stop = start + len(block)
            if order is None or wanted is None:
                out[start:stop] = block
            else:
                lo, hi = np.searchsorted(wanted, [start, stop])
                out[order[lo:hi]] = block[wanted[lo:hi] - start]
            start = stop
    return out


def _check_values(features: np.ndarray, paths: Sequence[str], where: str) -> None:
    """Reject NaN/inf and all-zero rows, naming how many and the first image affected."""
    bad: list[np.ndarray] = []
    zero: list[np.ndarray] = []
    step = _rows_per_block(features.shape[1])
    for start in range(0, len(features), step):
        block = features[start : start + step]
        bad.append(start + np.flatnonzero(~np.isfinite(block).all(axis=1)))
        zero.append(start + np.flatnonzero(~block.any(axis=1)))
    bad_rows = np.concatenate(bad) if bad else np.empty(0, np.int64)
    zero_rows = np.concatenate(zero) if zero else np.empty(0, np.int64)
    if len(bad_rows):
        raise FeatureFileError(
            f"{_images(len(bad_rows))} NaN or infinite features in {where}, first "
            f"{paths[bad_rows[0]]!r} (values beyond float32's range of about 3.4e38 count as "
            "infinite). Recompute the features for those images, or remove the images."
        )
    if len(zero_rows):
        raise FeatureFileError(
            f"{_images(len(zero_rows))} all-zero features in {where}, first "
            f"{paths[zero_rows[0]]!r}; an all-zero vector cannot be L2-normalised. Recompute "
            "the features for those images, or remove the images."
        )


def _images(n: int) -> str:
    """'1 image has' / '3 images have'."""
    return f"{n} image has" if n == 1 else f"{n} images have"
