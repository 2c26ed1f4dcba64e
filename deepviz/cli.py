"""The `deepviz` command: build, inspect and (soon) serve projects. Heavy imports live inside commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

# Errors a user can fix; each carries a message that says how. Anything else is a bug and keeps its traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, NotADirectoryError, ImportError, KeyError)


def _fail(err: BaseException) -> click.ClickException:
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    if isinstance(err, ImportError):
        # MissingDependency's text is the exact install command.
        message = f"a package this needs is not installed; run: {message}"
    return click.ClickException(str(message))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deepviz")
def cli() -> None:
    """See what deep image features consider similar.

    \b
    deepviz demo                      build and open the bundled demo set
    deepviz build IMAGES -o PROJECT   an image folder becomes a project
    deepviz info PROJECT              what a project holds
    """


@cli.command()
@click.argument("images", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder to create or update [default: IMAGES.deepviz beside IMAGES].",
)
@click.option(
    "-m",
    "--model",
    "models",
    multiple=True,
    help=(
        "Feature extractor (repeatable) [default: mobilenet_v2]; naming one an existing project lacks adds it "
        "for every image. See `deepviz models`."
    ),
)
@click.option(
    "--features",
    "features",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=(
        "Precomputed features (.npy .npz .h5 .pt .safetensors .parquet) instead of a model; rows follow "
        "`deepviz build IMAGES --list-files` unless the file has a paths/ids column."
    ),
)
@click.option("--features-key", help="Array, dataset or column holding the features, when the file has several.")
@click.option("--features-name", help="Name of the imported feature set [default: the file's stem].")
@click.option(
    "--labels",
    "labels_csv",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CSV of path,label overriding folder labels.",
)
@click.option("--label-depth", type=click.IntRange(min=1), help="Use only the first N folder levels as the label.")
@click.option(
    "--thumb-size",
    "thumb_sizes",
    type=click.IntRange(8, 512),
    multiple=True,
    help="Thumbnail sizes in px (repeatable) [default: 32 64 128].",
)
@click.option("--aspect", type=click.FloatRange(0.1, 10), default=1.5, show_default=True, help="Grid width / height.")
@click.option(
    "--grid",
    "grid_method",
    type=click.Choice(["auto", "optimal", "kdsplit", "kdsplit-fast", "greedy"]),
    default="auto",
    show_default=True,
    help=(
        "Grid assignment: optimal (exact; auto below 2,500 images), kdsplit (near-optimal, fast at 1M; "
        "auto above), kdsplit-fast, greedy (the paper's)."
    ),
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of t-SNE and the grid.")
@click.option("--workers", type=click.IntRange(min=1), help="Decoding threads [default: number of CPUs].")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True, help="Images per model call.")
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    default=None,
    help="Refuse images with more pixels (decompression-bomb guard) [default: Pillow's, ~89M].",
)
@click.option("--list-files", is_flag=True, help="Only print the image files found, in the row order a bare feature matrix must follow.")
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="Where models run: cpu (ONNX Runtime), or cuda, cuda:N, mps, auto (a GPU if torch sees one) to run them in torch.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def build(
    images: Path,
    out: Path | None,
    models: tuple[str, ...],
    features: Path | None,
    features_key: str | None,
    features_name: str | None,
    labels_csv: Path | None,
    label_depth: int | None,
    thumb_sizes: tuple[int, ...],
    aspect: float,
    grid_method: str,
    seed: int,
    workers: int | None,
    batch_size: int,
    max_pixels: int | None,
    list_files: bool,
    device: str,
    quiet: bool,
) -> None:
    """Turn the image folder IMAGES into a deepviz project (or bring one up to date).

    Nested folders give labels. Unreadable images are listed with a reason and skipped.
    Interrupted? Run the same command again: it resumes. Added images? Only they are processed.
    """
    from deepviz.images.decode import DEFAULT_MAX_PIXELS
    from deepviz.images.scan import scan
    from deepviz.pipeline.build import build as run_build

    if list_files:
        try:
            for path in scan(images).paths:
                click.echo(path)
        except _USER_ERRORS as err:
            raise _fail(err) from None
        return
    out = out or images.with_name(images.resolve().name + ".deepviz")
    try:
        report = run_build(
            images,
            out,
            models=list(models) or None,
            features=features,
            features_key=features_key,
            features_name=features_name,
            labels_csv=labels_csv,
            label_depth=label_depth,
            thumb_sizes=list(thumb_sizes) or None,
            aspect=aspect,
            grid_method=grid_method,
            seed=seed,
            workers=workers,
            batch_size=batch_size,
            max_pixels=max_pixels or DEFAULT_MAX_PIXELS,
            extractor_options={"device": device} if device != "cpu" else None,
            progress=not quiet,
        )
    except _USER_ERRORS as err:
        raise _fail(err) from None
    _print_report(report)


def _print_report(report: Any) -> None:
    click.echo(
        f"\nProject {report.project}: {report.n_images} images ({report.n_new} new"
        + (f", {report.resumed_files} recovered from an interrupted run" if report.resumed_files else "")
        + ")"
    )
    click.echo(f"  feature sets: {', '.join(report.feature_sets)}")
    g = report.grid
    click.echo(
        f"  grid: {g['rows']} x {g['cols']} ({g['method']}), mean displacement {g['displacement']:.2f} cells, "
        f"{100 * g['neighbourhood_preservation_k10']:.0f}% of 10-NN kept"
    )
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    click.echo(f"  time: {steps} ({report.images_per_second:.1f} new images/s)")
    if report.rejects:
        click.echo(f"  {len(report.rejects)} file(s) rejected:")
        for path, reason in report.rejects:
            click.echo(f"    {path}: {reason}")
    click.echo(f"Next: deepviz info {report.project}")


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (rejects and their reasons included).")
def info(project: Path, as_json: bool) -> None:
    """What PROJECT holds: images, labels, rejects, feature sets, grid, sizes on disk."""
    from deepviz.storage.project import open_project

    try:
        summary = open_project(project).summary()
    except _USER_ERRORS as err:
        raise _fail(err) from None
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{summary['project']} (schema {summary['schema_version']}), images from {summary['source_root']}")
    click.echo(f"  images: {summary['images']}, {len(summary['labels'])} labels, {summary['unlabelled']} unlabelled")
    for label, count in list(summary["labels"].items())[:20]:
        click.echo(f"    {label}: {count}")
    if len(summary["labels"]) > 20:
        click.echo(f"    ... and {len(summary['labels']) - 20} more labels (--json lists all)")
    for name, spec in summary["feature_sets"].items():
        origin = f"model {spec['extractor']}" if spec.get("extractor") else f"imported from {spec.get('source')}"
        star = " (default)" if name == summary["default_feature_set"] else ""
        click.echo(f"  features {name}{star}: {spec['dim']}-d {spec['dtype']}, {origin}")
    g = summary["grid"]
    click.echo(
        f"  grid: {g['rows']} x {g['cols']} ({g['method']}), displacement {g['displacement']:.2f}, "
        f"10-NN kept {100 * g['neighbourhood_preservation_k10']:.0f}%"
    )
    click.echo(f"  thumbnails: {summary['thumbnails']['sizes']} px; {summary['bytes_on_disk'] / 1e6:.1f} MB on disk")
    click.echo(f"  rejects: {len(summary['rejects'])}")
    for r in summary["rejects"]:
        click.echo(f"    {r['path']}: {r['reason']}")


@cli.command()
def models() -> None:
    """List the feature extractors this installation knows."""
    from deepviz.features.registry import available_extractors

    for name in available_extractors():
        click.echo(name)


@cli.command()
@click.option(
    "--images", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Use this folder instead of fetching the demo set."
)
@click.option("--rebuild", is_flag=True, help="Build the demo project again from scratch.")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True, help="Serve the app once the project is built.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port of the app; a free one is chosen if it is taken."
)
@click.option("--open/--no-open", "open_browser", default=True, show_default=True, help="Open the app in a browser.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def demo(images: Path | None, rebuild: bool, serve_after: bool, port: int, open_browser: bool, quiet: bool) -> None:
    """Build (once, cached) the bundled demo set — ~785 Tux Paint stamps in 16 categories — and open the app."""
    from deepviz import demo as demo_mod

    try:
        project, report = demo_mod.ensure_demo_project(images=images, rebuild=rebuild, progress=not quiet, echo=click.echo)
    except (*_USER_ERRORS, demo_mod.DemoUnavailable) as err:
        raise _fail(err) from None
    if report is not None:
        _print_report(report)
    click.echo(f"Demo project ready: {project}")
    if serve_after:
        _serve(project, "127.0.0.1", port, open_browser)


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (127.0.0.1 keeps it on this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port; a free one is chosen if it is taken.")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True, help="Open the app in a browser.")
def serve(project: Path, host: str, port: int, open_browser: bool) -> None:
    """Serve the app for PROJECT: the map, queries and their similarity curves."""
    _serve(project, host, port, open_browser)


def _serve(project: Path, host: str, port: int, open_browser: bool) -> None:
    from deepviz.server.run import serve as run_serve

    try:
        run_serve(project, host=host, port=port, open_browser=open_browser, echo=click.echo)
    except _USER_ERRORS as err:
        raise _fail(err) from None


def main() -> None:
    cli(prog_name="deepviz")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
