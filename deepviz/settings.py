"""Settings of each command as data: one model per command carries every field's default, limits and help.

The CLI's options are generated from these models (``deepviz/cli_options.py``), ``deepviz info``
prints the stored build settings from them, the server is configured by :class:`ServeSettings`,
and a test checks that the README documents every option. A value typed twice is a bug
waiting, so the defaults other modules need (thumbnail sizes, pixel limit, default model) live
here and nowhere else.

This module is a leaf: it imports nothing of deepviz but :mod:`deepviz.errors`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deepviz.errors import UsageError

__all__ = [
    "DEFAULT_MAX_DECODE_MB",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MODEL",
    "DEFAULT_THUMB_SIZES",
    "BuildSettings",
    "Cli",
    "FigureSettings",
    "DuplicateSettings",
    "EvalSettings",
    "ExportSettings",
    "GridMethod",
    "ProjectSettings",
    "ServeSettings",
    "validated",
]

DEFAULT_MODEL = "mobilenet_v2"
DEFAULT_THUMB_SIZES: tuple[int, ...] = (32, 64, 128)
# Pillow's own decompression-bomb threshold (PIL.Image.MAX_IMAGE_PIXELS), restated so that
# reading the settings does not import Pillow; tests/unit/test_settings.py checks they agree.
DEFAULT_MAX_PIXELS = 89_478_485
# Memory one image's decode may hold at once. Every image under the pixel limit fits once reduced
# (at most 5 bytes a pixel, for 32-bit greyscale: 427 MB), and photos take the exact path.
DEFAULT_MAX_DECODE_MB = 512
MIN_THUMB, MAX_THUMB = 8, 512

# t-SNE of the whole set up to this many images: at 1M x 1280 it took 13.2 min and 7.3 GB peak
# (PCA 90 s + t-SNE 698 s, 2 shared cores), the sampled route 8.0 min and 4.8 GB with a worse
# map (hidden-label kNN accuracy 0.869 against 0.908): `python bench/bench_layout.py`.
DEFAULT_LAYOUT_SAMPLE = 1_000_000
GridMethod = Literal["auto", "optimal", "kdsplit", "kdsplit-fast", "greedy"]
ThumbSize = Annotated[int, Field(ge=MIN_THUMB, le=MAX_THUMB)]


@dataclass(frozen=True)
class Cli:
    """How a setting is spelled on the command line, where it is not simply ``--field-name``.

    ``flags``         option declarations, e.g. ("-m", "--model") or ("--open/--no-open",)
    ``path``          "file" or "dir": a path that must exist and be of that kind
    ``default_text``  what ``--help`` shows as the default when the field's default is None
    """

    flags: tuple[str, ...] = ()
    path: Literal["file", "dir"] | None = None
    default_text: str | None = None


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_S = TypeVar("_S", bound=_Settings)


class ProjectSettings(_Settings):
    """The build settings that shape a project: stored in its manifest and kept by later builds
    unless given again (an incremental build never silently relabels or re-grids)."""

    aspect: Annotated[float, Field(ge=0.1, le=10, description="Grid width / height.")] = 1.5
    grid_method: Annotated[
        GridMethod,
        Field(
            description="Grid assignment: optimal (exact; auto up to 2,500 images), kdsplit (near-optimal; auto up to "
            "1,000,000: 9 s at 1M), kdsplit-fast (auto above: 1 s at 1M), greedy (the paper's)."
        ),
        Cli(flags=("--grid",)),
    ] = "auto"
    seed: Annotated[int, Field(description="Seed of t-SNE and the grid.")] = 0
    layout_sample: Annotated[
        int,
        Field(
            ge=0,
            description="Above this many images, t-SNE lays out a random sample of this size and places every other "
            "image at the median position of its 5 nearest sampled images (not optimised further); 0 = always the "
            "whole set.",
        ),
    ] = DEFAULT_LAYOUT_SAMPLE
    label_depth: Annotated[
        int | None,
        Field(ge=1, description="Use only the first N folder levels as the label."),
        Cli(default_text="every level"),
    ] = None
    labels_csv: Annotated[
        Path | None,
        Field(description="CSV of path,label overriding folder labels."),
        Cli(flags=("--labels",), path="file", default_text="folder names"),
    ] = None
    max_pixels: Annotated[
        int, Field(ge=1, description="Refuse images with more pixels (the decompression-bomb guard).")
    ] = DEFAULT_MAX_PIXELS


class BuildSettings(ProjectSettings):
    """Everything `deepviz build` (and ``deepviz.build``) can be told, besides the folders."""

    models: Annotated[
        tuple[str, ...],
        Field(
            description="Feature extractor (repeatable); naming one an existing project lacks adds it for every "
            "image. See `deepviz models`."
        ),
        Cli(flags=("-m", "--model"), default_text=f"{DEFAULT_MODEL}, unless --features is given"),
    ] = ()
    features: Annotated[
        Path | None,
        Field(
            description="Precomputed features (.npy .npz .h5 .pt .safetensors .parquet) instead of a model; rows follow "
            "`deepviz build IMAGES --list-files` unless the file has a paths/ids column."
        ),
        Cli(path="file", default_text="none"),
    ] = None
    features_key: Annotated[
        str | None,
        Field(description="Array, dataset or column holding the features, when the file has several."),
        Cli(default_text="the only one"),
    ] = None
    features_name: Annotated[
        str | None, Field(description="Name of the imported feature set."), Cli(default_text="the file's stem")
    ] = None
    thumb_sizes: Annotated[
        tuple[ThumbSize, ...] | None,
        Field(description="Thumbnail sizes in px (repeatable); fixed when a project is created."),
        Cli(flags=("--thumb-size",), default_text=" ".join(map(str, DEFAULT_THUMB_SIZES))),
    ] = None
    workers: Annotated[
        int | None,
        Field(ge=1, description="Decoding threads."),
        Cli(default_text="number of CPUs, at most available memory / --max-decode-mb"),
    ] = None
    max_decode_mb: Annotated[
        int,
        Field(
            ge=16,
            description="Memory one image's decode may take, in MB: a bigger image is reduced right after decoding, "
            "or refused when even its decoded pixels do not fit.",
        ),
    ] = DEFAULT_MAX_DECODE_MB
    batch_size: Annotated[int, Field(ge=1, description="Images per model call.")] = 32
    chunk_size: Annotated[
        int, Field(ge=1, description="Images per committed chunk: an interrupted build loses at most one.")
    ] = 256
    device: Annotated[
        str,
        Field(
            description="Where models run: cpu (ONNX Runtime), or cuda, cuda:N, mps, auto (a GPU if torch sees one) "
            "to run them in torch."
        ),
    ] = "cpu"
    engine: Annotated[
        Literal["local", "ray"],
        Field(description="Where decoding and feature extraction run: this process (local), or Ray Data batch inference "
              "(ray: a local Ray, or the cluster at --ray-address; needs pip install \"deepviz[ray]\")."),
    ] = "local"
    ray_address: Annotated[
        str | None,
        Field(description="Ray cluster to run on with --engine ray (ray://HOST:10001, HOST:6379 or auto)."),
        Cli(default_text="a local Ray started for this build"),
    ] = None
    ray_actors: Annotated[
        int | None,
        Field(ge=1, description="Model actors with --engine ray (each holds every model; one GPU each on a GPU --device)."),
        Cli(default_text="1"),
    ] = None
    follow_symlinks: Annotated[
        bool,
        Field(
            description="Follow symbolic links that lead out of the image folder (not followed otherwise: they are "
            "listed as rejects). Links inside it are always followed; link loops are always rejects."
        ),
    ] = False

    @field_validator("thumb_sizes", mode="before")
    @classmethod
    def _no_sizes_means_default(cls, value: object) -> object:
        # click passes () for a repeatable option that was not given.
        return None if value is not None and not value else value

    def project_settings(self) -> ProjectSettings:
        return ProjectSettings(**{name: getattr(self, name) for name in ProjectSettings.model_fields})


class ServeSettings(_Settings):
    """Everything `deepviz serve` can be told, besides the project folder."""

    host: Annotated[
        str,
        Field(
            min_length=0,
            description="Interface to listen on: 127.0.0.1 keeps it on this machine; any other (0.0.0.0, ::, a LAN "
            "address) needs --public.",
        ),
    ] = "127.0.0.1"
    public: Annotated[
        bool,
        Field(
            description="Allow a --host beyond this machine: anyone on those networks can then browse these images "
            "(the addresses are printed)."
        ),
    ] = False
    allow_hosts: Annotated[
        tuple[str, ...],
        Field(
            description="Also answer requests for this host name (repeatable; NAME or NAME:PORT), e.g. behind a proxy. "
            "Other names are refused, which stops DNS-rebinding pages reading the images."
        ),
        Cli(flags=("--allow-host",), default_text="localhost and the bound address"),
    ] = ()
    port: Annotated[int, Field(ge=0, le=65535, description="Port; a free one is chosen if it is taken.")] = 8765
    open_browser: Annotated[
        bool, Field(description="Open the app in a browser."), Cli(flags=("--open/--no-open",))
    ] = True
    max_upload_bytes: Annotated[
        int, Field(ge=1, description="Largest image file accepted as an uploaded query, in bytes.")
    ] = 20_000_000
    cache_bytes: Annotated[
        int, Field(ge=0, description="Memory kept for recent rankings, in bytes.")
    ] = 256 << 20
    keep_uploads: Annotated[int, Field(ge=1, description="Uploaded queries held in memory.")] = 64
    upload_max_pixels: Annotated[
        int, Field(ge=1, description="Refuse uploaded images with more pixels (the decompression-bomb guard).")
    ] = DEFAULT_MAX_PIXELS
    upload_max_decode_mb: Annotated[
        int,
        Field(
            ge=16,
            description="Memory decoding an uploaded image may take, in MB (one upload is decoded at a time).",
        ),
    ] = 256

    @field_validator("allow_hosts")
    @classmethod
    def _host_names_only(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        # Compared with the Host header, which browsers send lower-cased and without a scheme or path.
        for name in names:
            if not name.strip() or any(c in name for c in "/@ "):
                raise ValueError(f"{name!r} is not a host name; give a name such as myhost or myhost:8765, without http:// or a path")
        return tuple(name.strip().lower() for name in names)


class FigureSettings(_Settings):
    """What `deepviz figure` draws and how large, besides the project and the output file."""

    queries: Annotated[
        tuple[str, ...],
        Field(min_length=1, description="An image to query, by id or by its path in the project (repeatable: one row each)."),
        Cli(flags=("-q", "--query")),
    ] = ()
    windows: Annotated[
        tuple[str, ...],
        Field(description="Brushed rank window START:STOP: one for every query, or one per query in order."),
        Cli(flags=("--window",), default_text="0:8"),
    ] = ()
    feature_set: Annotated[
        str | None, Field(description="Feature set to rank with."), Cli(default_text="the project's default")
    ] = None
    log_ranks: Annotated[
        bool | None,
        Field(description="Rank axis: log gives the head of a big ranking real width."),
        Cli(flags=("--log/--linear",), default_text="log above 10,000 images, as the page"),
    ] = None
    fitted_y: Annotated[
        bool, Field(description="Similarity axis fitted to the curves, or the full [-1, 1]."), Cli(flags=("--fitted-y/--full-y",))
    ] = True
    width_in: Annotated[float, Field(ge=1, le=40, description="Figure width in inches (7 is a two-column page).")] = 7.0
    dpi: Annotated[int, Field(ge=50, le=1200, description="Dots per inch: a PNG is width x dpi pixels wide.")] = 300
    strip: Annotated[int, Field(ge=1, le=16, description="Images drawn per strip (a longer window is sampled evenly).")] = 8


class ExportSettings(_Settings):
    """What `deepviz export` writes into a static site, besides the project and the output folder."""

    queries: Annotated[
        tuple[str, ...],
        Field(description="An image whose ranking is precomputed, by id or by its path in the project (repeatable); "
              "needed when the features are over --browser-limit-mb."),
        Cli(flags=("-q", "--queries"), default_text="none: every image is a query when the browser ranks"),
    ] = ()
    feature_set: Annotated[
        str | None, Field(description="Feature set to rank with in the site."), Cli(default_text="the project's default")
    ] = None
    rankings: Annotated[
        Literal["auto", "browser", "precomputed"],
        Field(description="Where the site's rankings come from: the browser ranks any image from int8 features it "
              "downloads once, or only the --queries' rankings are precomputed; auto picks browser when the "
              "features fit in --browser-limit-mb."),
    ] = "auto"
    browser_limit_mb: Annotated[
        int,
        Field(ge=1, le=2048, description="The most MB of int8 features a site makes the browser download and hold "
              "(N x (D + 4) bytes; 64 MB is ~120k images of 512 dimensions)."),
    ] = 64


class EvalSettings(_Settings):
    """Everything `deepviz eval` can be told, besides the project folder."""

    feature_sets: Annotated[
        tuple[str, ...],
        Field(description="Feature set to evaluate (repeatable: several are compared column by column)."),
        Cli(flags=("--feature-set",), default_text="every feature set of the project"),
    ] = ()
    k: Annotated[int, Field(ge=1, description="Rank cut-off of precision@k (the first k of the N - 1 other images).")] = 10
    as_json: Annotated[bool, Field(description="Print the figures as JSON."), Cli(flags=("--json",))] = False
    csv: Annotated[
        Path | None,
        Field(description="Also write the per-class figures to this CSV file (one row per feature set and class)."),
        Cli(default_text="none"),
    ] = None


class DuplicateSettings(_Settings):
    """Everything `deepviz duplicates` can be told, besides the project folder."""

    threshold: Annotated[
        float,
        Field(ge=-1, le=1, description="Two images are near-duplicates when their features' dot product is at least this."),
    ] = 0.99
    feature_set: Annotated[str | None, Field(description="Feature set compared."), Cli(default_text="the project's default")] = None
    as_json: Annotated[bool, Field(description="Print the groups as JSON."), Cli(flags=("--json",))] = False
    csv: Annotated[
        Path | None,
        Field(description="Also write the pairs to this CSV file (first, second, similarity, and their paths)."),
        Cli(default_text="none"),
    ] = None


def validated(model: type[_S], values: dict[str, object]) -> _S:
    """``model(**values)``, with pydantic's error turned into a UsageError naming each bad field."""
    try:
        return model.model_validate(values)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in err.errors())
        valid = ", ".join(model.model_fields)
        raise UsageError(f"invalid {model.__name__}: {problems} (valid settings: {valid})") from None

