"""The `deepviz` command: build, inspect and serve projects. Heavy imports live inside commands.

Options come from the settings models (``deepviz/settings.py``) through ``cli_options``; a
:class:`~deepviz.errors.DeepvizError` is printed as a message, anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from deepviz.cli_options import given_settings, settings_options
from deepviz.errors import DeepvizError, UsageError
from deepviz.settings import (
    BuildSettings,
    DuplicateSettings,
    EvalSettings,
    ExportSettings,
    FigureSettings,
    ProjectSettings,
    ServeSettings,
    validated,
)

if TYPE_CHECKING:
    from deepviz.images.scan import ScanResult
    from deepviz.pipeline.build import BuildReport


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into click's clean one-line failure."""
    try:
        yield
    except DeepvizError as err:
        raise click.ClickException(str(err)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="deepviz")
def cli() -> None:
    """See what deep image features consider similar.

    \b
    deepviz demo                      build and open the bundled demo set
    deepviz build IMAGES -o PROJECT   an image folder becomes a project
    deepviz info PROJECT              what a project holds
    deepviz eval PROJECT              how well its features retrieve its labels
    """


@cli.command()
@click.argument("images")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project folder to create or update [default: IMAGES.deepviz beside IMAGES].",
)
@settings_options(BuildSettings)
@click.option(
    "--list-files",
    is_flag=True,
    help="Only print the image files found, in the row order a bare feature matrix must follow: one CSV row each "
    "(no header), the path as the project stores it (a backslash, a byte that is not UTF-8 and a control character "
    "escaped as \\\\ and \\xNN).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def build(ctx: click.Context, /, images: str, out: Path | None, list_files: bool, quiet: bool, **_: object) -> None:
    """Turn the image folder IMAGES into a deepviz project (or bring one up to date).

    IMAGES may be in object storage with --engine ray: s3://BUCKET/PREFIX or gs://BUCKET/PREFIX.
    Nested folders give labels. Unreadable images are listed with a reason and skipped.
    Interrupted? Run the same command again: it resumes. Added images? Only they are processed.
    Settings that shape the project (labels, grid, seed) are kept by later runs unless given again.
    """
    from deepviz.images.remote import is_uri, scan_uri
    from deepviz.images.scan import scan
    from deepviz.pipeline.build import build as run_build

    with _user_errors():
        if list_files:
            settings = validated(BuildSettings, given_settings(ctx, BuildSettings))
            _list_files(scan_uri(images) if is_uri(images) else scan(images, follow_symlinks=settings.follow_symlinks))
            return
        if is_uri(images) and out is None:
            raise UsageError(f"{images} is a URI: give the project folder to write with -o PROJECT")
        folder = Path(images)
        out = out or folder.with_name(folder.resolve().name + ".deepviz")
        report = run_build(images if is_uri(images) else folder, out, progress=not quiet, **given_settings(ctx, BuildSettings))
    _print_report(report)


def _list_files(found: ScanResult) -> None:
    """Print the scan's paths as CSV rows on stdout, what it could not use on stderr.

    Stored paths never hold a line break (``deepviz.filenames`` escapes them), so each row is
    one line; the csv module still quotes a path holding a comma or a double quote, so the
    output reads back with any CSV reader to exactly the scan's order.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path in found.paths:
        writer.writerow([path])
    click.echo(out.getvalue(), nl=False)
    for path, reason in found.rejects:
        click.echo(f"skipped {path}: {reason}", err=True)


def _print_report(report: BuildReport) -> None:
    click.echo(
        f"\nProject {report.project}: {report.n_images} images ({report.n_new} new"
        + (f", {report.resumed_files} recovered from an interrupted run" if report.resumed_files else "")
        + ")"
    )
    click.echo(f"  feature sets: {', '.join(report.feature_sets)}")
    g = report.grid
    click.echo(
        f"  grid: {g.rows} x {g.cols} ({g.method}), mean displacement {g.displacement:.2f} cells, "
        f"{100 * g.neighbourhood_preservation_k10:.0f}% of 10-NN kept"
    )
    if report.ran_on:
        click.echo(f"  ray: {report.ran_on}")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in report.seconds.items())
    click.echo(f"  time: {steps} ({report.images_per_second:.1f} new images/s)")
    if report.rejects:
        click.echo(f"  {len(report.rejects)} file(s) rejected:")
        for path, reason in report.rejects:
            click.echo(f"    {path}: {reason}")
    click.echo(f"Next: deepviz serve {report.project}   (or: deepviz info {report.project})")


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (rejects and their reasons included).")
def info(project: Path, as_json: bool) -> None:
    """What PROJECT holds: images, labels, rejects, feature sets, grid, sizes on disk."""
    from deepviz.storage.project import open_project

    with _user_errors():
        summary = open_project(project).summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    click.echo(f"{summary['project']} (schema {summary['schema_version']}), images from {summary['source_root']}")
    click.echo(f"  images: {summary['images']}, {len(summary['labels'])} labels, {summary['unlabelled']} unlabelled")
    for label, count in list(summary["labels"].items())[:20]:
        click.echo(f"    {label}: {count}")
    if len(summary["labels"]) > 20:
        click.echo(f"    ... and {len(summary['labels']) - 20} more labels (--json lists all)")
    click.echo(f"  built with: {_settings_line(summary['settings'])}")
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


def _settings_line(stored: dict[str, Any]) -> str:
    """The project's stored build settings as the options that would give them again."""
    options = {p.name: p for p in build.params if isinstance(p, click.Option)}
    words = []
    for name in ProjectSettings.model_fields:
        value = stored.get(name)
        if value is not None:
            words.append(f"{options[name].opts[-1]} {value}")
    return " ".join(words)


@cli.command(name="eval")
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@settings_options(EvalSettings)
@click.pass_context
def evaluate(ctx: click.Context, /, project: Path, **_: object) -> None:
    """How well each feature set of PROJECT retrieves its labels: every labelled image is a query.

    \b
    AP(q): scikit-learn's average precision of the other images ranked by similarity, positives
    being those with q's label; mAP per class and overall; precision@k. Queries whose class has
    one image are skipped and counted.
    """
    from deepviz.pipeline.evaluate import evaluate_project, label_codes, summary
    from deepviz.storage.project import open_project

    with _user_errors():
        settings = validated(EvalSettings, given_settings(ctx, EvalSettings))
        opened = open_project(project)
        for name in settings.feature_sets:
            opened.feature_info(name)  # an unknown name fails before any work, listing the valid ones
        labels = label_codes(opened)
        names = list(settings.feature_sets) or opened.feature_sets
        results = [summary(opened, name, settings.k, evaluate_project(opened, name, settings.k, labels), labels) for name in names]
        if settings.csv is not None:
            _write_eval_csv(settings.csv, results)
    if settings.as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else {"k": settings.k, "feature_sets": results}, indent=2))
    else:
        _print_eval(results)


def _print_eval(results: list[dict[str, Any]]) -> None:
    first = results[0]
    for r in results:
        click.echo(
            f"{r['feature_set']}: mAP {_fmt(r['map'])}, precision@{r['k']} {_fmt(r['precision_at_k'])} "
            f"over {r['queries']} queries ({r['skipped']} skipped: their class has one image; {r['unlabelled']} unlabelled)"
        )
    names = [r["feature_set"] for r in results]
    heads = [f"mAP {n}" for n in names] + [f"P@{first['k']} {n}" for n in names]
    width = max([5] + [len(c["label"]) for c in first["classes"]])
    click.echo("")
    click.echo(f"{'label':<{width}} {'n':>6} " + " ".join(f"{h:>{max(len(h), 6)}}" for h in heads))
    per_set = [{c["label"]: c for c in r["classes"]} for r in results]
    for c in first["classes"]:
        cells = [per_set[i][c["label"]]["map"] for i in range(len(results))]
        cells += [per_set[i][c["label"]]["precision_at_k"] for i in range(len(results))]
        click.echo(f"{c['label']:<{width}} {c['n']:>6} " + " ".join(f"{_fmt(v):>{max(len(h), 6)}}" for v, h in zip(cells, heads)))


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _write_eval_csv(path: Path, results: list[dict[str, Any]]) -> None:
    """One row per feature set and class, then one per feature set for all classes ("(all)")."""
    from deepviz.atomic import atomic_path

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["feature_set", "label", "n", "map", "precision_at_k", "k"])
    for r in results:
        for c in r["classes"]:
            writer.writerow([r["feature_set"], c["label"], c["n"], c["map"], c["precision_at_k"], r["k"]])
        writer.writerow([r["feature_set"], "(all)", r["queries"], r["map"], r["precision_at_k"], r["k"]])
    with atomic_path(path) as tmp:
        tmp.write_text(out.getvalue(), encoding="utf-8")


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@settings_options(DuplicateSettings)
@click.pass_context
def duplicates(ctx: click.Context, /, project: Path, **_: object) -> None:
    """Near-duplicate images of PROJECT, found exactly: every pair whose features' dot product reaches
    --threshold, joined into groups."""
    from deepviz.core.duplicates import duplicate_groups, near_duplicate_pairs
    from deepviz.storage.project import open_project

    with _user_errors():
        settings = validated(DuplicateSettings, given_settings(ctx, DuplicateSettings))
        opened = open_project(project)
        name = settings.feature_set or opened.default_feature_set
        pairs = near_duplicate_pairs(opened.features(name), settings.threshold)
        groups = duplicate_groups(pairs, opened.n)
        paths = opened.images["path"].astype(str).tolist()
        if settings.csv is not None:
            _write_pairs_csv(settings.csv, pairs, paths)
    if settings.as_json:
        out = {
            "feature_set": name,
            "threshold": settings.threshold,
            "pairs": len(pairs.first),
            "images": sum(len(g) for g in groups),
            "groups": [[{"id": i, "path": paths[i]} for i in g] for g in groups],
        }
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(
        f"{name}: {len(pairs.first)} pair(s) at similarity >= {settings.threshold}, "
        f"{sum(len(g) for g in groups)} images in {len(groups)} group(s)"
    )
    for g in groups:
        click.echo("  " + ", ".join(f"{paths[i]} ({i})" for i in g))


def _write_pairs_csv(path: Path, pairs: Any, paths: list[str]) -> None:
    from deepviz.atomic import atomic_path

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["first", "second", "similarity", "first_path", "second_path"])
    for a, b, s in zip(pairs.first.tolist(), pairs.second.tolist(), pairs.sims.tolist()):
        writer.writerow([a, b, f"{s:.6f}", paths[a], paths[b]])
    with atomic_path(path) as tmp:
        tmp.write_text(out.getvalue(), encoding="utf-8")


@cli.group()
def concept() -> None:
    """Concepts: named sets of images of a project ("faces"), kept in it across rebuilds.

    \b
    deepviz concept add PROJECT NAME --label Flags
    deepviz concept list PROJECT
    deepviz concept rm PROJECT NAME
    """


@concept.command(name="add")
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("name")
@click.option("--ids", "id_list", multiple=True, help="Image ids, comma-separated (repeatable).")
@click.option("--paths", multiple=True, help="Image paths as `deepviz build --list-files` prints them (repeatable).")
@click.option("--label", "labels", multiple=True, help="Every image with this label (repeatable).")
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file of image paths, one CSV row each (as `deepviz build --list-files` prints them).",
)
@click.option("--replace", is_flag=True, help="Replace the concept's images instead of adding to them.")
def concept_add(
    project: Path,
    name: str,
    id_list: tuple[str, ...],
    paths: tuple[str, ...],
    labels: tuple[str, ...],
    from_file: Path | None,
    replace: bool,
) -> None:
    """Create concept NAME in PROJECT, or add images to it."""
    import numpy as np

    from deepviz.errors import UsageError
    from deepviz.storage.concepts import ConceptStore, ids_of_label, ids_of_paths
    from deepviz.storage.project import open_project

    with _user_errors():
        opened = open_project(project)
        parts = [np.array(_parse_ids(id_list), dtype=np.int64)]
        stored = opened.images["path"].astype(str).tolist()
        wanted = list(paths)
        if from_file is not None:
            wanted += [row[0] for row in csv.reader(from_file.read_text(encoding="utf-8").splitlines()) if row]
        if wanted:
            parts.append(ids_of_paths(stored, wanted))
        parts += [ids_of_label(opened.images["label"].tolist(), label) for label in labels]
        ids = np.unique(np.concatenate(parts))
        if not len(ids) and not replace:
            raise UsageError("no images given; name them with --ids, --paths, --label or --from-file")
        source = ", ".join([f"label:{x}" for x in labels] + (["paths"] if wanted else []) + (["ids"] if id_list else []))
        saved = ConceptStore(project, opened.n).save(name, ids.tolist(), source=source, replace=replace)
    click.echo(f"concept {name.strip()!r}: {len(saved.ids)} images")


def _parse_ids(values: tuple[str, ...]) -> list[int]:
    from deepviz.errors import UsageError

    out = []
    for value in values:
        for part in value.replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit():
                raise UsageError(f"--ids takes image ids such as 3,17,42; {part!r} is not one")
            out.append(int(part))
    return out


@concept.command(name="list")
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Every concept with its ids, as JSON.")
def concept_list(project: Path, as_json: bool) -> None:
    """The concepts of PROJECT: name, size and how each was made."""
    from deepviz.storage.concepts import ConceptStore
    from deepviz.storage.project import open_project

    with _user_errors():
        found = ConceptStore(project, open_project(project).n).all()
    if as_json:
        click.echo(json.dumps({name: c.model_dump() for name, c in found.items()}, indent=2))
        return
    if not found:
        click.echo(f"no concepts in {project}; make one with `deepviz concept add {project} NAME --label LABEL`")
    for name, c in found.items():
        click.echo(f"{name}: {len(c.ids)} images" + (f" ({c.source})" if c.source else "") + f", updated {c.updated}")


@concept.command(name="rm")
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("name")
@click.option("--ids", "id_list", multiple=True, help="Remove only these image ids from the concept (comma-separated).")
def concept_rm(project: Path, name: str, id_list: tuple[str, ...]) -> None:
    """Delete concept NAME of PROJECT (or, with --ids, only some of its images)."""
    from deepviz.storage.concepts import ConceptStore
    from deepviz.storage.project import open_project

    with _user_errors():
        store = ConceptStore(project, open_project(project).n)
        if id_list:
            left = store.edit(name, remove=_parse_ids(id_list))
            click.echo(f"concept {name!r}: {len(left.ids)} images")
            return
        store.delete(name)
    click.echo(f"concept {name!r} deleted")


@concept.command(name="rename")
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("name")
@click.argument("new_name")
def concept_rename(project: Path, name: str, new_name: str) -> None:
    """Rename concept NAME of PROJECT to NEW_NAME."""
    from deepviz.storage.concepts import ConceptStore
    from deepviz.storage.project import open_project

    with _user_errors():
        ConceptStore(project, open_project(project).n).rename(name, new_name)
    click.echo(f"concept {name!r} is now {new_name.strip()!r}")


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Figure file: .svg, .png or .pdf.")
@settings_options(FigureSettings)
@click.pass_context
def figure(ctx: click.Context, /, project: Path, out: Path, **_: object) -> None:
    """Draw queries of PROJECT as a figure for a paper: curves with brushed windows, strips, a legend.

    \b
    deepviz figure PROJECT -q 149 -q cats/a.jpg --window 0:64 -o fig.svg
    """
    from deepviz.export.figure import draw_from_settings
    from deepviz.storage.project import open_project

    with _user_errors():
        settings = validated(FigureSettings, given_settings(ctx, FigureSettings))
        written = draw_from_settings(open_project(project), settings, out)
    click.echo(f"Wrote {written}")


@cli.command()
@click.argument("project", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), required=True,
    help="Folder for the site: new, empty, or a previous export (replaced; files added beside it are kept). Any other folder is refused.",
)
@settings_options(ExportSettings)
@click.pass_context
def export(ctx: click.Context, /, project: Path, out: Path, **_: object) -> None:
    """Write PROJECT as a static site that any file server or GitHub Pages serves, without Python.

    \b
    deepviz export PROJECT -o site/
    python -m http.server -d site/
    """
    from deepviz.export.site import describe, export_site
    from deepviz.storage.project import open_project

    with _user_errors():
        settings = validated(ExportSettings, given_settings(ctx, ExportSettings))
        summary = export_site(open_project(project), settings, out)
    for line in describe(summary):
        click.echo(line)


@cli.command()
def models() -> None:
    """List the feature extractors this installation knows, and what a missing one needs."""
    from deepviz.features.registry import available_extractors, missing_packages

    for name in available_extractors():
        missing = missing_packages(name)
        click.echo(name + (f"   (not installed; run: {'; '.join(missing)})" if missing else ""))


@cli.command()
@click.option(
    "--images", type=click.Path(file_okay=False, exists=True, path_type=Path), help="Use this folder instead of fetching the demo set."
)
@click.option(
    "--set",
    "set_name",
    type=click.Choice(["emoji", "stamps"]),
    default="emoji",
    show_default=True,
    help="Demo set to fetch once and cache: emoji (885 Noto emoji in 9 categories, from the npm registry, any OS) "
    "or stamps (~785 Tux Paint stamps, Debian/Ubuntu only: needs apt-get).",
)
@click.option("--rebuild", is_flag=True, help="Build the demo project again from scratch.")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True, help="Serve the app once the project is built.")
@settings_options(ServeSettings, only=("port", "open_browser"))
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def demo(
    ctx: click.Context, /, images: Path | None, set_name: str, rebuild: bool, serve_after: bool, quiet: bool, **_: object
) -> None:
    """Build (once, cached) a demo set — by default 885 Noto emoji in 9 categories — and open the app.

    The images are fetched once (the size is printed first) and kept in the cache; later runs need no network.
    """
    from deepviz import demo as demo_mod

    with _user_errors():
        project, report = demo_mod.ensure_demo_project(
            images=images, set_name=set_name, rebuild=rebuild, progress=not quiet, echo=click.echo
        )
    if report is not None:
        _print_report(report)
    click.echo(f"Demo project ready: {project}")
    if serve_after:
        _serve(project, given_settings(ctx, ServeSettings))


@cli.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@settings_options(ServeSettings)
@click.pass_context
def serve(ctx: click.Context, /, project: Path, **_: object) -> None:
    """Serve the app for PROJECT: the map, queries and their similarity curves."""
    _serve(project, given_settings(ctx, ServeSettings))


def _serve(project: Path, given: dict[str, Any]) -> None:
    from deepviz.server.run import serve as run_serve

    with _user_errors():
        run_serve(project, validated(ServeSettings, given), echo=click.echo)


def main() -> None:
    cli(prog_name="deepviz")


if __name__ == "__main__":  # pragma: no cover
    main()
