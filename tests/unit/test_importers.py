"""Feature importers: every format round-trips, rows follow the project's order, bad files explain the fix."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from deepviz.features import importers
from deepviz.features.importers import FeatureFileError, load_features

N, D = 12, 6
PATHS = [f"class{i % 3}/{i:03d}.jpg" for i in range(N)]


@pytest.fixture
def feats() -> np.ndarray:
    """(N, D) float32, row i the features of PATHS[i]; no zero rows."""
    return np.random.default_rng(0).normal(size=(N, D)).astype(np.float32)


@pytest.fixture
def shuffle() -> np.ndarray:
    """(N,) file row -> project index: the file lists images in this scrambled order."""
    return np.random.default_rng(1).permutation(N)


# ----------------------------------------------------------------------------- writers

def write_npz(file: Path, feats: np.ndarray, paths=None, ids=None, name: str = "features") -> Path:
    extra = {} if paths is None else {"paths": np.array(paths)}
    extra |= {} if ids is None else {"ids": np.asarray(ids)}
    np.savez(file, **{name: feats}, **extra)
    return file


def write_h5(file: Path, feats: np.ndarray, paths=None, ids=None) -> Path:
    import h5py

    with h5py.File(file, "w") as f:
        f.create_dataset("features", data=feats)
        if paths is not None:
            f.create_dataset("paths", data=[p.encode() for p in paths])
        if ids is not None:
            f.create_dataset("ids", data=np.asarray(ids))
    return file


def write_pt(file: Path, feats: np.ndarray, paths=None, ids=None) -> Path:
    import torch

    obj: dict = {"features": torch.from_numpy(feats)}
    if paths is not None:
        obj["paths"] = list(paths)
    if ids is not None:
        obj["ids"] = torch.as_tensor(np.asarray(ids))
    torch.save(obj, file)
    return file


def write_safetensors(file: Path, feats: np.ndarray, paths=None, ids=None) -> Path:
    from safetensors.numpy import save_file

    tensors = {"features": np.ascontiguousarray(feats)}
    if ids is not None:
        tensors["ids"] = np.asarray(ids, dtype=np.int64)
    save_file(tensors, str(file), metadata=None if paths is None else {"paths": json.dumps(list(paths))})
    return file


def write_parquet(file: Path, feats: np.ndarray, paths=None, ids=None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"features": pa.array(list(feats), type=pa.list_(pa.float32()))}
    if paths is not None:
        columns["path"] = pa.array(list(paths))
    if ids is not None:
        columns["id"] = pa.array(np.asarray(ids, dtype=np.int64))
    pq.write_table(pa.table(columns), file)
    return file


WRITERS = {
    "npz": write_npz,
    "h5": write_h5,
    "pt": write_pt,
    "safetensors": write_safetensors,
    "parquet": write_parquet,
}


# ----------------------------------------------------------------------------- round trips and order

def test_npy_matrix_in_project_order(tmp_path, feats):
    np.save(tmp_path / "f.npy", feats)
    got = load_features(tmp_path / "f.npy", PATHS)
    assert got.dtype == np.float32 and got.flags.writeable
    np.testing.assert_array_equal(got, feats)


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_matrix_only_round_trips(tmp_path, feats, ext):
    file = WRITERS[ext](tmp_path / f"f.{ext}", feats)
    np.testing.assert_array_equal(load_features(file, PATHS), feats)


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_rows_matched_by_paths(tmp_path, feats, shuffle, ext):
    file = WRITERS[ext](tmp_path / f"f.{ext}", feats[shuffle], paths=[PATHS[i] for i in shuffle])
    np.testing.assert_array_equal(load_features(file, PATHS), feats)


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_rows_matched_by_ids(tmp_path, feats, shuffle, ext):
    file = WRITERS[ext](tmp_path / f"f.{ext}", feats[shuffle], ids=shuffle)
    np.testing.assert_array_equal(load_features(file, PATHS), feats)


def test_paths_are_normalised(tmp_path, feats):
    messy = ["./" + p.replace("/", "\\") for p in PATHS]
    file = write_npz(tmp_path / "f.npz", feats, paths=messy)
    np.testing.assert_array_equal(load_features(file, PATHS), feats)


def test_float64_and_int_inputs_convert(tmp_path, feats):
    np.save(tmp_path / "f.npy", feats.astype(np.float64))
    np.testing.assert_array_equal(load_features(tmp_path / "f.npy", PATHS), feats)
    ints = np.arange(1, N * D + 1).reshape(N, D)
    np.save(tmp_path / "i.npy", ints)
    np.testing.assert_array_equal(load_features(tmp_path / "i.npy", PATHS), ints.astype(np.float32))


def test_reorder_across_many_blocks(tmp_path, monkeypatch, shuffle, feats):
    # Blocks of one row exercise the scatter across block boundaries.
    monkeypatch.setattr(importers, "_BLOCK_VALUES", 1)
    file = write_h5(tmp_path / "f.h5", feats[shuffle].astype(np.float64), ids=shuffle)
    np.testing.assert_array_equal(load_features(file, PATHS), feats)
    pq_file = write_parquet(tmp_path / "f.parquet", feats[shuffle], paths=[PATHS[i] for i in shuffle])
    np.testing.assert_array_equal(load_features(pq_file, PATHS), feats)


def test_npz_key_and_conventional_names(tmp_path, feats):
    other = np.ones((N, 3), np.float32)
    np.savez(tmp_path / "a.npz", emb=feats, other=other)
    np.testing.assert_array_equal(load_features(tmp_path / "a.npz", PATHS, key="emb"), feats)
    np.savez(tmp_path / "b.npz", x=feats, other=other)
    np.testing.assert_array_equal(load_features(tmp_path / "b.npz", PATHS), feats)


def test_h5_nested_dataset_with_sibling_paths(tmp_path, feats, shuffle):
    import h5py

    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("run/emb", data=feats[shuffle])
        f.create_dataset("run/paths", data=[PATHS[i] for i in shuffle], dtype=h5py.string_dtype())
        f.create_dataset("run/other", data=np.ones((N, 2)))
    got = load_features(tmp_path / "f.h5", PATHS, key="run/emb")
    np.testing.assert_array_equal(got, feats)


def test_pt_plain_tensor_and_bfloat16(tmp_path, feats):
    import torch

    torch.save(torch.from_numpy(feats), tmp_path / "f.pt")
    np.testing.assert_array_equal(load_features(tmp_path / "f.pt", PATHS), feats)
    bf = torch.from_numpy(feats).to(torch.bfloat16)
    torch.save({"features": bf}, tmp_path / "bf.pth")
    np.testing.assert_array_equal(load_features(tmp_path / "bf.pth", PATHS), bf.float().numpy())


def test_safetensors_bfloat16(tmp_path, feats):
    import torch
    from safetensors.torch import save_file

    bf = torch.from_numpy(feats).to(torch.bfloat16)
    save_file({"emb": bf}, str(tmp_path / "f.safetensors"))
    np.testing.assert_array_equal(load_features(tmp_path / "f.safetensors", PATHS), bf.float().numpy())


def test_parquet_numeric_columns_with_id(tmp_path, feats, shuffle):
    import pandas as pd

    frame = pd.DataFrame(feats[shuffle], columns=[f"d{j}" for j in range(D)])
    frame.insert(2, "id", shuffle)  # the id column sits among the dimensions and is skipped
    frame["label"] = "cat"  # non-numeric columns are not features
    frame.to_parquet(tmp_path / "f.parquet")
    np.testing.assert_array_equal(load_features(tmp_path / "f.parquet", PATHS), feats)


def test_parquet_fixed_size_list(tmp_path, feats):
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = pa.FixedSizeListArray.from_arrays(pa.array(feats.ravel()), D)
    pq.write_table(pa.table({"embedding": column, "path": PATHS}), tmp_path / "f.parquet")
    np.testing.assert_array_equal(load_features(tmp_path / "f.parquet", PATHS), feats)


def test_extra_rows_are_ignored_with_a_warning(tmp_path, feats):
    extra = np.vstack([feats, np.ones((3, D), np.float32)])
    file = write_npz(tmp_path / "f.npz", extra, paths=PATHS + ["gone/1.jpg", "gone/2.jpg", "gone/3.jpg"])
    with pytest.warns(UserWarning, match="Ignoring 3 rows"):
        got = load_features(file, PATHS)
    np.testing.assert_array_equal(got, feats)


def test_no_warning_when_rows_match(tmp_path, feats):
    file = write_npz(tmp_path / "f.npz", feats, paths=PATHS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = load_features(file, PATHS)
    assert [str(w.message) for w in caught] == []
    np.testing.assert_array_equal(got, feats)


# ----------------------------------------------------------------------------- errors

def raises(*fragments: str):
    """pytest.raises for FeatureFileError whose message contains every fragment (the remedy)."""

    class _Check:
        def __enter__(self):
            self._ctx = pytest.raises(FeatureFileError)
            self._info = self._ctx.__enter__()
            return self._info

        def __exit__(self, *exc):
            suppressed = self._ctx.__exit__(*exc)
            message = str(self._info.value)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in: {message}"
            return suppressed

    return _Check()


def test_error_is_a_value_error():
    assert issubclass(FeatureFileError, ValueError)


def test_unknown_extension_lists_supported(tmp_path):
    (tmp_path / "f.csv").write_text("1,2\n")
    with raises(".csv", ".npy", ".parquet", ".safetensors"):
        load_features(tmp_path / "f.csv", PATHS)


def test_missing_file(tmp_path):
    with raises("does not exist"):
        load_features(tmp_path / "nope.npy", PATHS)


def test_ambiguous_key_lists_candidates(tmp_path, feats):
    np.savez(tmp_path / "f.npz", a=feats, b=feats)
    with raises("'a'", "'b'", "--features-key"):
        load_features(tmp_path / "f.npz", PATHS)


def test_unknown_key_lists_arrays(tmp_path, feats):
    np.savez(tmp_path / "f.npz", a=feats)
    with raises("'zzz'", "'a'", "--features-key"):
        load_features(tmp_path / "f.npz", PATHS, key="zzz")


def test_ambiguous_parquet_list_columns(tmp_path, feats):
    import pyarrow as pa
    import pyarrow.parquet as pq

    lists = pa.array(list(feats), type=pa.list_(pa.float32()))
    pq.write_table(pa.table({"clip": lists, "dino": lists}), tmp_path / "f.parquet")
    with raises("'clip'", "'dino'", "--features-key"):
        load_features(tmp_path / "f.parquet", PATHS)
    np.testing.assert_array_equal(load_features(tmp_path / "f.parquet", PATHS, key="dino"), feats)


@pytest.mark.parametrize("shape", [(N,), (N, D, 2)])
def test_not_2d(tmp_path, shape):
    np.save(tmp_path / "f.npy", np.ones(shape, np.float32))
    with raises("2-D", str(shape)):
        load_features(tmp_path / "f.npy", PATHS)


def test_wrong_row_count_states_rule(tmp_path, feats):
    np.save(tmp_path / "f.npy", feats[:-1])
    with raises(f"{N - 1} rows", f"{N} images", "--list-files", "'paths'", "'ids'"):
        load_features(tmp_path / "f.npy", PATHS)


def test_duplicate_paths(tmp_path, feats):
    dup = PATHS[:-1] + [PATHS[0]]
    with raises("more than once", PATHS[0], "one row per image"):
        load_features(write_npz(tmp_path / "f.npz", feats, paths=dup), PATHS)


def test_duplicate_ids(tmp_path, feats):
    ids = np.arange(N)
    ids[-1] = 0
    with raises("more than once", "one row per image"):
        load_features(write_npz(tmp_path / "f.npz", feats, ids=ids), PATHS)


def test_ids_out_of_range(tmp_path, feats):
    ids = np.arange(N)
    ids[3] = N + 5
    with raises("outside", f"0..{N - 1}", str(N + 5), "positions"):
        load_features(write_npz(tmp_path / "f.npz", feats, ids=ids), PATHS)


def test_non_integer_ids(tmp_path, feats):
    with raises("integer"):
        load_features(write_npz(tmp_path / "f.npz", feats, ids=np.arange(N) + 0.5), PATHS)


def test_missing_paths_listed(tmp_path, feats):
    file = write_npz(tmp_path / "f.npz", feats[2:], paths=PATHS[2:])
    with raises("no row for 2", repr(PATHS[0]), repr(PATHS[1]), "remove those images"):
        load_features(file, PATHS)


def test_missing_ids_listed(tmp_path, feats):
    file = write_npz(tmp_path / "f.npz", feats[1:], ids=np.arange(1, N))
    with raises("no row for 1", repr(PATHS[0])):
        load_features(file, PATHS)


def test_non_finite_reports_count_and_first_path(tmp_path, feats):
    bad = feats.copy()
    bad[4, 1] = np.nan
    bad[7, 0] = np.inf
    np.save(tmp_path / "f.npy", bad)
    with raises("2 images", "NaN or infinite", repr(PATHS[4]), "Recompute"):
        load_features(tmp_path / "f.npy", PATHS)


def test_float64_overflow_is_non_finite(tmp_path, feats):
    big = feats.astype(np.float64)
    big[5, 2] = 1e300
    np.save(tmp_path / "f.npy", big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cast's own overflow warning stays silent
        with raises("1 image has", repr(PATHS[5])):
            load_features(tmp_path / "f.npy", PATHS)


def test_zero_rows_report_count_and_first_path(tmp_path, feats):
    zero = feats.copy()
    zero[[3, 9]] = 0
    np.save(tmp_path / "f.npy", zero)
    with raises("2 images", "all-zero", repr(PATHS[3]), "L2-normalised", "Recompute"):
        load_features(tmp_path / "f.npy", PATHS)


def test_first_offender_is_in_project_order(tmp_path, feats, shuffle):
    zero = feats.copy()
    zero[[2, 8]] = 0
    file = write_npz(tmp_path / "f.npz", zero[shuffle], ids=shuffle)
    with raises(repr(PATHS[2])):
        load_features(file, PATHS)


@pytest.mark.parametrize("dtype", ["U5", "complex64"])
def test_non_numeric_dtype_rejected(tmp_path, dtype):
    np.save(tmp_path / "f.npy", np.ones((N, D), dtype=dtype))
    with raises("not numeric", "float32"):
        load_features(tmp_path / "f.npy", PATHS)


def test_object_arrays_not_unpickled(tmp_path, feats):
    np.savez(tmp_path / "f.npz", features=feats, paths=np.array(PATHS, dtype=object))
    with raises("Python objects", "dtype=str"):
        load_features(tmp_path / "f.npz", PATHS)


def test_pt_with_arbitrary_objects_refused(tmp_path):
    from fractions import Fraction

    import torch

    torch.save({"features": Fraction(1, 3)}, tmp_path / "f.pt")  # any class outside the allow-list
    with raises("torch.save({'features'"):
        load_features(tmp_path / "f.pt", PATHS)


def test_corrupt_files(tmp_path):
    for ext in importers.SUPPORTED_EXTENSIONS:
        (tmp_path / f"bad{ext}").write_bytes(b"not a feature file at all")
        with pytest.raises(FeatureFileError):
            load_features(tmp_path / f"bad{ext}", PATHS)


@pytest.mark.parametrize(
    ("module", "ext", "install"),
    [("h5py", ".h5", "pip install h5py"), ("torch", ".pt", "pip install torch"),
     ("safetensors", ".safetensors", "pip install safetensors")],
)
def test_missing_dependency_says_what_to_install(tmp_path, monkeypatch, module, ext, install):
    import importlib

    real = importlib.import_module

    def fake(name, *args, **kwargs):
        if name == module:
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", fake)
    (tmp_path / f"f{ext}").write_bytes(b"x")
    with raises(install):
        load_features(tmp_path / f"f{ext}", PATHS)


def test_module_documents_the_row_order_rule():
    doc = importers.__doc__ or ""
    assert "--list-files" in doc and "paths" in doc and "ids" in doc
    assert "--list-files" in importers.ROW_ORDER_RULE


# ----------------------------------------------------------------------------- stored (escaped) paths

# The project's paths as a scan stores them: a backslash, a byte that is not UTF-8, a newline
# and a tab escaped (deepviz.filenames), a comma and a quote as they are.
STORED = ["back\\\\slash.jpg", "caf\\xe9.jpg", "new\\x0aline.jpg", "tab\\x09.jpg", 'comma,"quote".jpg', "plain/a.jpg"]


@pytest.mark.parametrize("ext", sorted(WRITERS))
def test_stored_paths_match_in_every_format(tmp_path, ext):
    feats = np.random.default_rng(2).normal(size=(len(STORED), 3)).astype(np.float32)
    order = np.random.default_rng(3).permutation(len(STORED))
    file = WRITERS[ext](tmp_path / f"f.{ext}", feats[order], paths=[STORED[i] for i in order])
    np.testing.assert_array_equal(load_features(file, STORED), feats)


def test_raw_names_with_a_newline_or_tab_are_matched_as_stored(tmp_path):
    """A paths array written from os.listdir holds the names raw; they are escaped as the scan does."""
    import os

    raw = [os.fsdecode(b"caf\xe9.jpg"), "new\nline.jpg", "tab\t.jpg", "back\\slash.jpg"]
    stored = ["back\\\\slash.jpg", "caf\\xe9.jpg", "new\\x0aline.jpg", "tab\\x09.jpg"]
    feats = np.random.default_rng(4).normal(size=(4, 3)).astype(np.float32)
    file = write_pt(tmp_path / "f.pt", feats, paths=raw)
    np.testing.assert_array_equal(load_features(file, stored), feats[[3, 0, 1, 2]])


def test_a_stored_backslash_is_not_taken_for_a_separator(tmp_path):
    """'a\\\\b.jpg' names the file 'a\\b.jpg' in the top folder, not 'b.jpg' in folder 'a'."""
    feats = np.random.default_rng(5).normal(size=(2, 3)).astype(np.float32)
    file = write_npz(tmp_path / "f.npz", feats, paths=["a\\\\b.jpg", "a/b.jpg"])
    np.testing.assert_array_equal(load_features(file, ["a/b.jpg", "a\\\\b.jpg"]), feats[[1, 0]])
