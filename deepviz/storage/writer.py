"""Write a project: stream finished chunks onto the committed images, then the manifest last.

A commit is idempotent. It starts from the ``base_n`` images the current manifest names
(ignoring rows a crashed commit may have appended to any file) and rebuilds every file
from those rows plus the chunks, each file replaced atomically; the manifest, written
last, is what makes the new rows visible.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from deepviz.atomic import atomic_path, content_named, save_npy
from deepviz.core.normalize import l2_normalize
from deepviz.errors import ProjectError
from deepviz.faults import checkpoint
from deepviz.filenames import ESCAPED_CHARACTERS, canonical
from deepviz.storage.chunks import Chunk
from deepviz.storage.project import COLORS, THUMBS_DIR, feature_file
from deepviz.storage.thumbs import bin_path, offsets_path
from deepviz.storage.tiles import PIXELS

FEATURE_DTYPE = np.float16  # halves disk and memory at 1M images; similarities stay within ~1e-3

IMAGE_SCHEMA = pa.schema(
    [("id", pa.int64()), ("path", pa.string()), ("label", pa.string()), ("width", pa.int32()), ("height", pa.int32())]
)
REJECT_SCHEMA = pa.schema([("path", pa.string()), ("reason", pa.string())])
# A path holding one of these raw may have been written before names were escaped: worth
# respelling (a character class in RE2's syntax, for pyarrow).
_UNESCAPED = "[" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ESCAPED_CHARACTERS) + "]"


@dataclass
class ChunkSummary:
    """What a set of chunks adds, gathered without loading any features or thumbnails.

    ``new``      accepted paths in id order; ``rejects`` (path, reason) pairs.
    Paths are stored text (``deepviz.filenames``), as the scan gave them.
    """

    new: list[str] = field(default_factory=list)
    width: list[int] = field(default_factory=list)
    height: list[int] = field(default_factory=list)
    rejects: list[tuple[str, str]] = field(default_factory=list)


def summarize_chunks(chunks: Iterable[Chunk], scan_rejects: Iterable[tuple[str, str]] = ()) -> ChunkSummary:
    """The chunks' outcomes; ``scan_rejects`` (entries the scan could not use) lead the rejects.

    A path is respelled as a scan spells it today (``canonical``), so chunks written before names
    were escaped (a raw undecodable byte, newline or backslash in them) still commit.
    """
    out = ChunkSummary(rejects=list(scan_rejects))
    for c in chunks:
        for raw, ok, reason, w, h in zip(c.paths.tolist(), c.ok.tolist(), c.reasons.tolist(), c.width.tolist(), c.height.tolist()):
            path = canonical(raw)
            if ok:
                out.new.append(path)
                out.width.append(w)
                out.height.append(h)
            else:
                out.rejects.append((path, _printable(reason)))
    return out


def _printable(reason: str) -> str:
    # An OSError's message quotes the file name, whose undecodable bytes are surrogates
    # that Parquet and the terminal refuse; they become \xNN, like in stored paths.
    return reason.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_images_table(root: Path, name: str | None, base_n: int) -> pa.Table:
    """The committed image table ``name`` (first ``base_n`` rows), or an empty one for a new project.

    Paths come back in the spelling a scan gives today (``deepviz.filenames.canonical``), so an
    image stored before names were escaped (a raw backslash or newline in its path) is still
    recognised as the same image, not added again.
    """
    if name is None or base_n == 0:
        return IMAGE_SCHEMA.empty_table()
    table = pq.read_table(root / name).slice(0, base_n).cast(IMAGE_SCHEMA)
    paths = table.column("path")
    if not pc.any(pc.match_substring_regex(paths, _UNESCAPED)).as_py():
        return table  # the usual case: nothing to respell, and no Python loop over a million paths
    respelled = pa.array([canonical(p) for p in paths.to_pylist()], pa.string())
    return table.set_column(table.schema.get_field_index("path"), "path", respelled)


def write_images_table(
    root: Path, old: pa.Table, summary: ChunkSummary, labels: dict[str, str | None]
) -> tuple[pa.Table, str]:
    """Append the new images to ``old`` (ids continue from ``len(old)``); write it content-named; return it and its name."""
    n_old = old.num_rows
    new = pa.table(
        {
            "id": pa.array(np.arange(n_old, n_old + len(summary.new)), pa.int64()),
            "path": pa.array(summary.new, pa.string()),
            "label": pa.array([labels.get(p) for p in summary.new], pa.string()),
            "width": pa.array(summary.width, pa.int32()),
            "height": pa.array(summary.height, pa.int32()),
        },
        schema=IMAGE_SCHEMA,
    )
    table = pa.concat_tables([old, new])
    return table, write_parquet(root, "images", table)


def relabel(table: pa.Table, labels: dict[str, str | None]) -> pa.Table:
    """The table with labels refreshed for paths the scan labelled (a new CSV, new depth)."""
    current = table.column("label").to_pylist()
    paths = table.column("path").to_pylist()
    fresh = [labels.get(p, old) if p in labels else old for p, old in zip(paths, current)]
    return table.set_column(table.schema.get_field_index("label"), "label", pa.array(fresh, pa.string()))


def write_rejects(root: Path, rejects: list[tuple[str, str]]) -> str:
    """Write the (path, reason) list content-named; returns the file's name."""
    table = pa.table(
        {"path": pa.array([p for p, _ in rejects], pa.string()), "reason": pa.array([r for _, r in rejects], pa.string())},
        schema=REJECT_SCHEMA,
    )
    return write_parquet(root, "rejects", table)


def write_parquet(root: Path, stem: str, table: pa.Table) -> str:
    with content_named(root, stem, ".parquet") as (tmp, name):
        pq.write_table(table, tmp)
    return name[0]


def write_feature_set(
    root: Path,
    name: str,
    base_n: int,
    dim: int,
    new_rows: Iterable[np.ndarray],
    n_new: int,
) -> None:
    """features/NAME.npy := its first ``base_n`` rows + ``new_rows`` normalised, as float16.

    ``new_rows`` yields (K, D) raw float blocks in id order, ``n_new`` rows in all.
    """
    target = root / feature_file(name)
    old = np.load(target, mmap_mode="r") if base_n and target.exists() else None
    if old is not None and old.shape[1] != dim:
        raise ProjectError(
            f"feature set {name!r} has {old.shape[1]} dimensions on disk but the extractor gives {dim}; "
            "build a new project for a different model"
        )
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        # Streamed with write(), not through a memory map: on a full disk a write raises ENOSPC,
        # where a store into a sparse memory-mapped page kills the process with SIGBUS.
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(FEATURE_DTYPE)), "fortran_order": False,
                  "shape": (base_n + n_new, dim)}
        np.lib.format.write_array_header_1_0(f, header)
        step = 1 << 15
        for start in range(0, base_n, step):
            f.write(np.ascontiguousarray(old[start : min(start + step, base_n)], FEATURE_DTYPE).tobytes())  # type: ignore[index]
        row = base_n
        for block in new_rows:
            f.write(l2_normalize(block, out_dtype=FEATURE_DTYPE).tobytes())
            row += len(block)
            checkpoint("features-block")
        if row != base_n + n_new:
            raise RuntimeError(f"expected {n_new} new feature rows for {name!r}, got {row - base_n}")


def append_thumbnails(root: Path, size: int, base_n: int, packed: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
    """Append packed thumbnails of ``size`` ((blob, offsets) per chunk) after the first ``base_n`` images.

    The blob grows in place (truncated first to where the committed images end, which
    drops anything a crashed commit left); the offsets, which say where each image is,
    are replaced atomically, so a reader never sees an offset past the committed data.
    """
    folder = root / THUMBS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    off_path = offsets_path(folder, size)
    old = np.load(off_path)[: base_n + 1] if base_n and off_path.exists() else np.zeros(1, np.int64)
    offsets = [old]
    end = int(old[-1])
    with open(bin_path(folder, size), "ab") as f:
        f.truncate(end)
        f.seek(end)
        for blob, offs in packed:
            f.write(blob.tobytes())
            offsets.append(offs[1:] + end)
            end += int(offs[-1])
        f.flush()
        os.fsync(f.fileno())
    with atomic_path(off_path) as tmp:
        with open(tmp, "wb") as fo:
            np.save(fo, np.concatenate(offsets).astype(np.int64))


def write_colors(root: Path, base_n: int, new_blocks: Iterable[np.ndarray]) -> None:
    """colors.npy := its first ``base_n`` rows + ``new_blocks`` ((K, 3) uint8 each, in id order)."""
    target = root / COLORS
    old = np.load(target, mmap_mode="r")[:base_n] if base_n else np.zeros((0, 3), np.uint8)
    blocks = [np.asarray(old, np.uint8), *(np.asarray(b, np.uint8).reshape(-1, 3) for b in new_blocks)]
    save_npy(target, np.concatenate(blocks))


def write_cell_pixels(root: Path, keep: int, n: int, new_blocks: Iterable[np.ndarray], cell_px: int) -> None:
    """tiles/pixels.npy := its first ``keep`` rows + ``new_blocks`` ((K, P, P, 3) uint8 each, ids keep..n-1).

    Streamed block by block with write() (as the features are), so a million images never sit in memory.
    """
    target = root / PIXELS
    old = np.load(target, mmap_mode="r") if keep and target.exists() else None
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
                  "shape": (n, cell_px, cell_px, 3)}
        np.lib.format.write_array_header_1_0(f, header)
        step = 1 << 15
        for start in range(0, keep, step):
            f.write(np.ascontiguousarray(old[start : min(start + step, keep)], np.uint8).tobytes())  # type: ignore[index]
        row = keep
        for block in new_blocks:
            f.write(np.ascontiguousarray(block, np.uint8).tobytes())
            row += len(block)
            checkpoint("tile-pixels-block")
        if row != n:
            raise RuntimeError(f"expected {n - keep} new rows of cell pixels, got {row - keep}")


def write_tile_level(folder: Path, px: int, tiles: Iterable[bytes], n_tiles: int) -> None:
    """``folder``/PX.bin and PX.offsets.npy: the level's ``n_tiles`` PNG tiles, packed as thumbnails are.

    Both files are replaced atomically, the blob first: the offsets of a level never point past its blob.
    """
    offsets = np.zeros(n_tiles + 1, np.int64)
    i = 0
    with atomic_path(bin_path(folder, px)) as tmp, open(tmp, "wb") as f:
        for tile in tiles:
            f.write(tile)
            offsets[i + 1] = offsets[i] + len(tile)
            i += 1
    if i != n_tiles:
        raise RuntimeError(f"expected {n_tiles} tiles of level {px}, got {i}")
    save_npy(offsets_path(folder, px), offsets)
