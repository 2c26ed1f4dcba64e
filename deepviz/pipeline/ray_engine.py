"""The build's decode and feature extraction as Ray Data batch inference, for clusters and GPUs.

Ray Data runs decoding as tasks and each model as a pool of actors (on GPUs when asked), streaming
between them; the driver receives the results in file order, ``chunk_size`` rows at a time, and
turns each into the same :class:`~deepviz.storage.chunks.Chunk` the local engine makes. The chunks
are committed by the driver through the same store, so a Ray build resumes like a local one and
its project is the local build's, bit for bit where the model runs on the same kind of device.

Images are read by the workers from the paths the driver scanned: on a cluster the image folder
must be at the same path on every node (a shared filesystem), or in object storage given by URI
(``s3://``, ``gs://``: ``deepviz.images.remote``), which every worker reads through pyarrow.
"""
from __future__ import annotations

import os
import socket
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.errors import DeepvizError, MissingDependency, UsageError, pip_command
from deepviz.features.base import Extractor
from deepviz.filenames import unescape
from deepviz.images.decode import DecodeLimits, pixel_limit
from deepviz.images.remote import is_uri, open_uri, read_bytes
from deepviz.pipeline.extract import decode_one, embed_all, rejected
from deepviz.storage.chunks import Chunk
from deepviz.storage.thumbs import pack

ExtractorRecipes = list[Callable[[], Extractor]]


@dataclass
class RayPlan:
    """How to run on Ray: the cluster (``address`` None starts a local Ray for this build), the number of
    model ``actors``, the GPUs each takes (0: CPU actors), and whether Ray draws its progress bars."""

    address: str | None = None
    actors: int = 1
    gpus_per_actor: float = 0.0
    progress: bool = True
    where: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """Where each step ran, e.g. ``decode on node-a (885 images); embed on node-a cpu (885 images)``."""
        parts = [f"{step} on {place} ({count} images)" for (step, place), count in sorted(_split(self.where).items())]
        return "; ".join(parts) or "nothing ran on Ray"


def _split(where: Counter[str]) -> dict[tuple[str, str], int]:
    return {tuple(key.split(" ", 1)): count for key, count in where.items()}  # type: ignore[misc]


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or the exact install command when it is missing."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the part used; it needs pyarrow and pandas)
    except ImportError:
        raise MissingDependency(pip_command("ray")) from None
    return ray


def ray_extract_chunks(
    root: Path | str,
    paths: Sequence[str],
    recipes: ExtractorRecipes,
    extractors: Sequence[Extractor],
    plan: RayPlan,
    *,
    thumb_sizes: tuple[int, ...],
    crop_size: int,
    chunk_size: int,
    batch_size: int,
    limits: DecodeLimits,
) -> Iterator[Chunk]:
    """Yield one Chunk per ``chunk_size`` files of ``paths``, in order, computed on Ray.

    ``root`` is the image folder, or its URI (a str) when the images are in object storage.
    ``recipes`` build the models inside each actor (a loaded model is not sent over the wire);
    ``extractors`` are the driver's own copies, read only for their names, input sizes and widths.
    """
    if not paths:
        return
    ray = import_ray()
    started = _connect(ray, plan)
    try:
        _check_room(ray, plan)
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # chunks must follow the scan's order
        context.enable_progress_bars = plan.progress
        input_sizes = sorted({e.input_size for e in extractors})
        decode = _Decode(str(root), crop_size, input_sizes, thumb_sizes, limits)
        ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=max(1, len(paths) // max(1, batch_size)))
        # Each decode may hold up to the decode budget: telling Ray so schedules decodes by memory too, and
        # (resources differing from the model actors') keeps decoding in tasks of its own, on every CPU,
        # instead of fused into the model actors.
        budget = (limits.max_decode_mb or 512) << 20
        ds = ds.map_batches(decode, batch_size=batch_size, batch_format="numpy", memory=budget)
        embed_args = {"recipes": recipes, "batch_size": batch_size, "crop_columns": [_crop(s) for s in input_sizes]}
        ds = ds.map_batches(
            _Embed,
            fn_constructor_kwargs=embed_args,
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=plan.actors),
            num_gpus=plan.gpus_per_actor or None,
        )
        for batch in ds.iter_batches(batch_size=chunk_size, batch_format="numpy", prefetch_batches=1):
            plan.where.update(batch["decoded_on"].tolist())
            plan.where.update(batch["embedded_on"].tolist())
            yield _chunk(batch, [e.name for e in extractors], thumb_sizes)
    finally:
        if started:
            ray.shutdown()


def _connect(ray: Any, plan: RayPlan) -> bool:
    """Join the cluster at ``plan.address``, or start a local Ray; True when this build started it."""
    if ray.is_initialized():
        return False
    common = {"include_dashboard": False, "logging_level": "WARNING", "log_to_driver": plan.progress}
    if plan.address:
        _reachable(plan.address)
        try:
            ray.init(address=plan.address, **common)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UsageError(f"--ray-address {plan.address}: could not join the Ray cluster ({err}); "
                             "check the address (ray://HOST:10001 or HOST:6379) and that `ray status` works there") from None
        return True
    # A local Ray's workers run this same Python: give them the driver's import path, so models
    # and extractors defined outside an installed package (a script, a notebook) are found.
    env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        ray.init(runtime_env={"env_vars": env}, **common)
    except Exception as err:  # Ray raises a bare Exception when its processes do not come up in time
        raise RayUnavailable(
            f"could not start a local Ray ({err}); on a busy machine run the same command again (finished chunks are "
            "kept), or build with --engine local"
        ) from None
    return True


class RayUnavailable(DeepvizError, RuntimeError):
    """Ray could not be started or joined; the message says what to try."""


def _check_room(ray: Any, plan: RayPlan) -> None:
    """CPU model actors each hold a CPU for the whole run: with as many actors as the cluster has CPUs,
    no decode task could ever be scheduled and the build would wait forever. Say so instead."""
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if plan.gpus_per_actor == 0 and plan.actors >= cpus:
        fix = f"use --ray-actors {cpus - 1} or fewer" if cpus > 1 else "use --engine local on a single CPU"
        raise UsageError(
            f"--ray-actors {plan.actors}: each CPU model actor holds one of the cluster's {cpus} CPUs for the whole "
            f"build, leaving none to decode images; {fix} (or GPUs with --device cuda)"
        )


def _reachable(address: str) -> None:
    """Fail at once on a cluster address nothing answers at (Ray itself retries for minutes)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=5):
            return
    except (OSError, ValueError) as err:
        raise UsageError(
            f"--ray-address {address}: could not join the Ray cluster (nothing answers there: {err}); check the address "
            "(ray://HOST:10001 for Ray Client, HOST:6379 for the head node) and that `ray status` works there"
        ) from None


def _crop(size: int) -> str:
    return f"crop{size}"


class _Decode:
    """Ray task body: decode a batch of files into crops, thumbnails and mean colours (one pass per file)."""

    def __init__(self, root: str, crop_size: int, input_sizes: list[int], thumb_sizes: tuple[int, ...], limits: DecodeLimits) -> None:
        self.root, self.crop_size, self.input_sizes, self.thumb_sizes, self.limits = root, crop_size, input_sizes, thumb_sizes, limits
        self.remote: tuple[Any, str] | None = None  # (filesystem, folder in it), opened in the worker on first use

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        paths = [str(p) for p in batch["path"]]
        with pixel_limit(self.limits.max_pixels):
            decoded = [self._one(p) for p in paths]
        out: dict[str, np.ndarray] = {
            "path": np.array(paths, dtype=str),
            "ok": np.array([d.crops is not None for d in decoded], dtype=bool),
            "reason": np.array([d.reason for d in decoded], dtype=str),
            "width": np.array([d.width for d in decoded], dtype=np.int32),
            "height": np.array([d.height for d in decoded], dtype=np.int32),
            "color": np.array([d.color if d.color is not None else np.zeros(3, np.uint8) for d in decoded], dtype=np.uint8).reshape(-1, 3),
            "decoded_on": np.array([f"decode {socket.gethostname()}"] * len(paths), dtype=str),
        }
        for size in self.input_sizes:
            blank = np.zeros((size, size, 3), np.uint8)
            out[_crop(size)] = np.stack([d.crops[size] if d.crops is not None else blank for d in decoded])
        for i, size in enumerate(self.thumb_sizes):
            out[f"thumb{size}"] = np.array([d.thumbs[i] if d.thumbs is not None else b"" for d in decoded], dtype=object)
        return out


    def _one(self, path: str) -> Any:
        sizes = set(self.input_sizes)
        if not is_uri(self.root):
            return decode_one(Path(self.root) / unescape(path), self.crop_size, sizes, self.thumb_sizes, self.limits)
        if self.remote is None:
            self.remote = open_uri(self.root)
        try:
            data = read_bytes(*self.remote, path)
        except OSError as err:
            return rejected(f"cannot be read ({err})")
        return decode_one(data, self.crop_size, sizes, self.thumb_sizes, self.limits)


class _Embed:
    """Ray actor: holds the models (built once, in the actor) and embeds the decoded rows of each batch."""

    def __init__(self, recipes: ExtractorRecipes, batch_size: int, crop_columns: list[str]) -> None:
        self.extractors = [make() for make in recipes]
        self.batch_size = batch_size
        self.crop_columns = crop_columns
        devices = sorted({str(getattr(e, "device", "cpu")) for e in self.extractors})
        self.place = f"embed {socket.gethostname()} {'/'.join(devices)}"

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = batch["ok"]
        for extractor in self.extractors:
            crops = list(batch[_crop(extractor.input_size)][ok])
            features = np.zeros((len(ok), extractor.dim), dtype=np.float32)
            features[ok] = embed_all(extractor, crops, self.batch_size)
            batch[f"features:{extractor.name}"] = features
        for column in self.crop_columns:  # the crops are not needed past this point: do not ship them back
            del batch[column]
        batch["embedded_on"] = np.array([self.place] * len(ok), dtype=str)
        return batch


def _chunk(batch: dict[str, np.ndarray], names: list[str], thumb_sizes: tuple[int, ...]) -> Chunk:
    ok = np.asarray(batch["ok"], dtype=bool)
    return Chunk(
        paths=np.asarray(batch["path"], dtype=str),
        ok=ok,
        reasons=np.asarray(batch["reason"], dtype=str),
        width=np.asarray(batch["width"], dtype=np.int32),
        height=np.asarray(batch["height"], dtype=np.int32),
        features={name: np.asarray(batch[f"features:{name}"][ok], dtype=np.float32) for name in names},
        thumbs={size: pack([bytes(b) for b in batch[f"thumb{size}"][ok]]) for size in thumb_sizes},
        colors=np.asarray(batch["color"][ok], dtype=np.uint8).reshape(-1, 3),
    )
