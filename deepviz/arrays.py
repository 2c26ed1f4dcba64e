"""A project from what a researcher holds in memory: image arrays or paths, a feature matrix, labels.

``from_arrays`` does not write a project itself. It lays its inputs out as an image folder, a
feature file and a labels CSV in ``OUT/arrays/`` and runs the ordinary build on them, so the
project is made by the one writer, with the same crash safety and resume. The folder stays:
a later build of the project re-reads its imported features and labels from there.
"""
from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from deepviz.errors import ProjectError, UsageError
from deepviz.features.base import Extractor
from deepviz.filenames import escape
from deepviz.images.scan import looks_like_image
from deepviz.pipeline.build import ARRAYS_DIR, BuildReport, build
from deepviz.storage.manifest import MANIFEST

__all__ = ["PLACEHOLDER_SIZE", "from_arrays", "placeholder_colors"]

PLACEHOLDER_SIZE = 128  # side of the tile drawn for an image when only features are given
_MAX_SHOWN = 5
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"})  # how many offending rows a message names

ImageInput = str | os.PathLike[str] | np.ndarray | Image.Image


def from_arrays(
    images: Sequence[ImageInput] | np.ndarray | None = None,
    features: np.ndarray | Mapping[str, np.ndarray] | None = None,
    labels: Sequence[object] | np.ndarray | None = None,
    *,
    out: str | os.PathLike[str],
    models: Sequence[str | Extractor] | None = None,
    progress: bool = True,
    **settings: object,
) -> BuildReport:
    """Build a new project in ``out`` from arrays and paths instead of an image folder.

    - ``images``: N images: a (N, H, W) or (N, H, W, C) uint8 array, or a sequence of image file
      paths, (H, W[, C]) uint8 arrays (C = 1, 3 or 4) or PIL images. Optional when
      ``features`` is given: each image is then a tile in a colour that reflects its
      features (their first three principal components), with its row number on it.
    - ``features``: (N, D) numeric features (row i for image i), or {name: (N, D)} for several
      feature sets (the first leads the map). Omitted: ``models`` embed the images
      (default model: mobilenet_v2).
    - ``labels``: N labels (strings or numbers; None for none), shown and coloured in the app.
    - ``settings``: as for ``deepviz.build`` (``thumb_sizes``, ``seed``, ``aspect``, ...).

    Image i becomes id i. Rerunning the same call after an interruption resumes the build.
    """
    root = Path(out)
    feature_sets = _feature_sets(features)
    n = _count(images, feature_sets, labels)
    if images is None and models:
        raise UsageError("models need images to embed: pass images=..., or drop models= and give only features")
    _refuse_existing(root)
    source = root / ARRAYS_DIR
    folder = source / "images"
    folder.mkdir(parents=True, exist_ok=True)
    names = _stage_images(images, n, folder) if images is not None else _placeholders(next(iter(feature_sets.values())), folder)
    files = {name: _save_features(source / f"features-{k}.npy", x) for k, (name, x) in enumerate(feature_sets.items())}
    labels_csv = _write_labels(source / "labels.csv", names, labels) if labels is not None else None
    # One build per feature set: the first makes the project, each later one adds its set.
    runs: list[dict[str, object]] = [{"features": file, "features_name": name} for name, file in files.items()] or [{}]
    reports = [
        build(folder, root, models=models if k == 0 else None, progress=progress, labels_csv=labels_csv,
              follow_symlinks=True, **run, **settings)
        for k, run in enumerate(runs)
    ]
    return reports[0] if len(reports) == 1 else _merged(reports)


def _merged(reports: list[BuildReport]) -> BuildReport:
    """The first build's report (it made the project), naming every feature set and timing every step."""
    first, last = reports[0], reports[-1]
    seconds: dict[str, float] = {}
    for report in reports:
        for step, s in report.seconds.items():
            seconds[step] = seconds.get(step, 0.0) + s
    return replace(first, feature_sets=last.feature_sets, grid=last.grid, seconds=seconds)


def _feature_sets(features: np.ndarray | Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """{name: (N, D) float32}, each checked: numeric, two-dimensional, finite, no all-zero row."""
    if features is None:
        return {}
    given = dict(features) if isinstance(features, Mapping) else {"features": features}
    if not given:
        raise UsageError("features is an empty mapping; give {name: (N, D) array} or one (N, D) array")
    checked = {}
    for name, x in given.items():
        if not isinstance(name, str) or not name:
            raise UsageError(f"feature set names must be non-empty strings, got {name!r}")
        checked[name] = _checked_features(name, x)
    counts = {name: len(x) for name, x in checked.items()}
    if len(set(counts.values())) > 1:
        raise UsageError(f"the feature sets have different numbers of rows ({counts}); give one row per image in each")
    return checked


def _checked_features(name: str, x: object) -> np.ndarray:
    array = _as_array(x)
    if array.dtype.kind not in "iuf":
        raise UsageError(f"features {name!r} have dtype {array.dtype}; give numbers, e.g. x.astype(np.float32)")
    if array.ndim != 2 or array.shape[1] == 0:
        raise UsageError(
            f"features {name!r} have shape {array.shape}; give a (N, D) matrix, one row per image "
            "(flatten spatial maps first, e.g. x.reshape(len(x), -1))"
        )
    values = array.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        raise UsageError(
            f"features {name!r} have NaN or infinite values in {len(bad)} row(s) (first rows: {_rows(bad)}); "
            "fix or drop those images and their rows"
        )
    zero = np.flatnonzero(~values.any(axis=1))
    if len(zero):
        raise UsageError(
            f"features {name!r} have {len(zero)} all-zero row(s) (first rows: {_rows(zero)}), which have no direction "
            "to compare; drop those images and their rows"
        )
    return values


def _as_array(x: object) -> np.ndarray:
    """numpy, or anything with ``.numpy()`` (a CPU torch tensor), or ``__array__``, as an ndarray."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def _rows(index: np.ndarray) -> str:
    return ", ".join(str(int(i)) for i in index[:_MAX_SHOWN])


def _count(images: object, feature_sets: Mapping[str, np.ndarray], labels: object) -> int:
    """N, the same for every input given; a clear message when they disagree or nothing is given."""
    if images is None and not feature_sets:
        raise UsageError("give images=..., features=..., or both")
    counts: dict[str, int] = {}
    if images is not None:
        if isinstance(images, (str, os.PathLike)):
            raise UsageError(f"images is one path ({images}); for a folder use deepviz.build, here give a list of paths")
        counts["images"] = len(images)  # type: ignore[arg-type]
    for name, x in feature_sets.items():
        counts[f"features {name!r}" if len(feature_sets) > 1 else "features"] = len(x)
    if labels is not None:
        counts["labels"] = len(labels)  # type: ignore[arg-type]
    if len(set(counts.values())) > 1:
        said = ", ".join(f"{k}: {v}" for k, v in counts.items())
        raise UsageError(f"the inputs have different lengths ({said}); give one entry per image in each")
    n = next(iter(counts.values()))
    if n == 0:
        raise UsageError("no images: the inputs are empty")
    return n


def _refuse_existing(root: Path) -> None:
    """from_arrays makes a new project; rerunning it on its own unfinished one resumes it."""
    if (root / MANIFEST).exists():
        raise ProjectError(
            f"{root} is already a deepviz project; from_arrays builds a new one: choose a new folder "
            "(or delete this one)"
        )
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} is a file; choose a folder for the project")
    if root.is_dir() and not (root / ARRAYS_DIR).is_dir() and any(root.iterdir()):
        raise ProjectError(f"{root} exists and is not empty; choose a new folder so nothing in it is overwritten")


def _width(n: int) -> int:
    """Digits in the file names, so that sorted names are in row order (scan sorts)."""
    return max(6, len(str(n - 1)))


def _stage_images(images: Sequence[ImageInput] | np.ndarray, n: int, folder: Path) -> list[str]:
    """Put image i in ``folder`` as ``{i}.png`` (arrays) or ``{i}-NAME`` (a link to a path); return the names."""
    width = _width(n)
    if isinstance(images, np.ndarray):
        _check_stack(images)
    names = []
    for i, image in enumerate(images):
        if isinstance(image, (str, os.PathLike)):
            names.append(_link(Path(image), folder, f"{i:0{width}d}-{Path(image).name}", i))
        else:
            names.append(_write_png(_pixels(image, i), folder / f"{i:0{width}d}.png"))
    _remove_others(folder, set(names))
    return names


def _check_stack(images: np.ndarray) -> None:
    if images.dtype != np.uint8:
        raise UsageError(
            f"images have dtype {images.dtype}; give uint8 pixels 0-255 "
            "(from floats in [0, 1]: (x * 255).round().astype(np.uint8))"
        )
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3, 4)):
        raise UsageError(
            f"images have shape {images.shape}; give (N, H, W) greyscale or (N, H, W, C) with C = 1, 3 or 4 "
            "(channels last: from (N, C, H, W) use x.transpose(0, 2, 3, 1))"
        )


def _pixels(image: object, i: int) -> Image.Image:
    """Image ``i`` as a PIL image, from a uint8 array or a PIL image; anything else says what to give."""
    if isinstance(image, Image.Image):
        return image
    array = _as_array(image)
    if array.dtype != np.uint8:
        raise UsageError(
            f"image {i} has dtype {array.dtype}; give uint8 pixels 0-255 "
            "(from floats in [0, 1]: (x * 255).round().astype(np.uint8))"
        )
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))) or 0 in array.shape:
        raise UsageError(
            f"image {i} has shape {array.shape}; give (H, W) greyscale or (H, W, C) with C = 1, 3 or 4, channels last"
        )
    return Image.fromarray(array)


def _write_png(image: Image.Image, path: Path) -> str:
    if image.mode not in _PNG_MODES:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    # Fast compression: the build decodes each file once, and the thumbnails are what is kept.
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG", compress_level=1)
    os.replace(tmp, path)
    return path.name


def _link(target: Path, folder: Path, name: str, i: int) -> str:
    """A symbolic link to the user's file (a copy where links are not allowed, as on Windows without rights)."""
    if not target.is_file():
        raise UsageError(f"image {i}: {target} is not a file; give existing image files")
    if not looks_like_image(target):
        raise UsageError(f"image {i}: {target} is not an image deepviz can read (JPEG, PNG, WebP, GIF, BMP, TIFF)")
    link = folder / name
    if link.is_symlink() or link.exists():
        link.unlink()
    try:
        link.symlink_to(target.resolve())
    except OSError:
        shutil.copyfile(target, link)
    return name


def _remove_others(folder: Path, keep: set[str]) -> None:
    """Files of an earlier, different call into the same unfinished project would become extra images."""
    for entry in folder.iterdir():
        if entry.name not in keep:
            entry.unlink()


def _placeholders(features: np.ndarray, folder: Path) -> list[str]:
    """One tile per row when there are no images: coloured by the features' principal components, numbered."""
    colors = placeholder_colors(features)
    width = _width(len(features))
    font = ImageFont.load_default(size=PLACEHOLDER_SIZE // 5)
    names = []
    for i, color in enumerate(colors):
        tile = Image.new("RGB", (PLACEHOLDER_SIZE, PLACEHOLDER_SIZE), tuple(int(c) for c in color))
        ink = (0, 0, 0) if float(color.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) > 128 else (255, 255, 255)
        ImageDraw.Draw(tile).text((PLACEHOLDER_SIZE // 2, PLACEHOLDER_SIZE // 2), str(i), fill=ink, font=font, anchor="mm")
        names.append(_write_png(tile, folder / f"{i:0{width}d}.png"))
    _remove_others(folder, set(names))
    return names


def placeholder_colors(features: np.ndarray, sample: int = 20000) -> np.ndarray:
    """(N, D) features -> (N, 3) uint8 colours: the first three principal components of the L2-normalised
    rows, each stretched over 40..215 between its 2nd and 98th percentile, so similar features look alike."""
    x = features / np.linalg.norm(features, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    fit = x[rng.choice(len(x), sample, replace=False)] if len(x) > sample else x
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    axes = np.zeros((x.shape[1], 3), np.float32)
    axes[:, : min(3, len(vt))] = vt[:3].T
    pcs = (x - mean) @ axes
    low, high = np.percentile(pcs, 2, axis=0), np.percentile(pcs, 98, axis=0)
    scaled = np.clip((pcs - low) / np.where(high > low, high - low, 1.0), 0.0, 1.0)
    colors: np.ndarray = np.round(40 + 175 * scaled).astype(np.uint8)
    return colors


def _save_features(path: Path, x: np.ndarray) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, x)
    os.replace(tmp, path)
    return path


def _write_labels(path: Path, names: Iterable[str], labels: Iterable[Any]) -> Path:
    """A ``path,label`` CSV, the build's own labels format; a None label leaves the image unlabelled."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["path", "label"])
        for name, label in zip(names, labels):
            if label is not None:
                rows.writerow([escape(name), _label_text(label)])  # the CSV names images by their stored path
    os.replace(tmp, path)
    return path


def _label_text(label: Any) -> str:
    if isinstance(label, np.generic):
        label = label.item()
    return str(label)
