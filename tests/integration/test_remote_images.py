"""Images by URI (s3://, gs://, file://) through pyarrow's filesystems: scanned and decoded exactly like the same
local folder, and every way it can fail said plainly. file:// is the URI pyarrow resolves without a network."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import deepviz
from deepviz.cli import cli
from deepviz.errors import UsageError
from deepviz.images.decode import DecodeLimits
from deepviz.images.remote import RemoteUnreadable, is_uri, scan_uri
from deepviz.images.scan import scan
from deepviz.pipeline.ray_engine import _Decode
from tests.conftest import ColourExtractor, make_folder, write_image


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_folder(tmp_path_factory.mktemp("remote") / "images", per_class=3, with_broken=True)
    write_image(root / "red" / "deep" / "no_suffix", (200, 0, 0), fmt="PNG")  # an image known by its bytes only
    write_image(root / ".hidden" / "skipped.png", (0, 0, 0))
    write_image(root / "blue" / ".skipped.png", (0, 0, 0))
    return root


def test_a_uri_is_told_from_a_path() -> None:
    assert is_uri("s3://bucket/prefix") and is_uri("gs://b/p") and is_uri("file:///tmp/x")
    assert not is_uri("photos/2024") and not is_uri(Path("s3:/bucket")) and not is_uri("C:\\photos")


def test_the_uri_scan_is_the_local_scan(images: Path, tmp_path: Path) -> None:
    """Same files, order, folder labels (at any depth) and CSV labels; hidden entries skipped the same way."""
    csv = tmp_path / "labels.csv"
    csv.write_text("path,label\nred/img_0.jpg,crimson\n")
    uri = f"file://{images.resolve()}/"
    for options in ({}, {"label_depth": 1}, {"labels_csv": csv}):
        local, remote = scan(images, **options), scan_uri(uri, **options)  # type: ignore[arg-type]
        assert (remote.paths, remote.labels) == (local.paths, local.labels), options
        assert remote.uri == uri.rstrip("/") and remote.rejects == []
    assert "red/deep/no_suffix" in local.paths and not any("skipped" in p for p in local.paths)


def test_the_decode_task_reads_a_uri_as_it_reads_the_folder(images: Path) -> None:
    """Ray's decode task body, run here: crops, thumbnails, sizes and reject reasons are byte for byte the same."""
    paths = scan(images).paths + ["red/gone.png"]
    batch = {"path": np.array(paths, dtype=str)}
    args = (16, [16], (32,), DecodeLimits())
    local = _Decode(str(images), *args)(dict(batch))
    remote = _Decode(f"file://{images.resolve()}", *args)(dict(batch))
    for key in ("path", "ok", "width", "height", "color", "crop16"):
        assert np.array_equal(local[key], remote[key]), key
    assert local["thumb32"].tolist() == remote["thumb32"].tolist()
    reasons = dict(zip(paths, remote["reason"].tolist()))
    assert {p: r for p, r in reasons.items() if r and p != "red/gone.png"} == {
        p: r for p, r in zip(paths, local["reason"].tolist()) if r and p != "red/gone.png"
    }
    assert reasons["red/truncated.jpg"] and reasons["green/not_really.png"]
    assert reasons["red/gone.png"].startswith("cannot be read (")  # a file gone between the scan and the read


def test_a_uri_without_the_ray_engine_says_to_add_it(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.deepviz"
    with pytest.raises(UsageError, match="read by the Ray engine; add --engine ray"):
        deepviz.build(f"file://{images.resolve()}", out, models=[ColourExtractor()], progress=False)
    assert not (out / "manifest.json").exists() and not (out / ".work").exists()  # refused before any work was done


def test_the_cli_takes_a_uri_and_wants_an_out_folder_for_it(images: Path) -> None:
    uri = f"file://{images.resolve()}"
    listed = CliRunner().invoke(cli, ["build", uri, "--list-files"])
    assert listed.exit_code == 0 and listed.output.splitlines() == scan(images).paths
    refused = CliRunner().invoke(cli, ["build", uri, "-m", "colour"])
    assert refused.exit_code != 0 and "give the project folder to write with -o PROJECT" in refused.output


def test_an_unknown_scheme_says_which_uris_work() -> None:
    with pytest.raises(RemoteUnreadable, match=r"cannot open the images at foo://x/y .*s3://BUCKET/PREFIX"):
        scan_uri("foo://x/y")


def test_a_bucket_that_cannot_be_listed_says_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real S3 client against an endpoint nothing answers at (no network needed): the failure pyarrow
    reports for a missing bucket, wrong credentials or no route, turned into what to check."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "none")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "none")
    uri = "s3://deepviz-missing/images?endpoint_override=127.0.0.1:1&scheme=http&region=us-east-1"
    with pytest.raises(RemoteUnreadable, match=r"cannot list the images at s3://deepviz-missing.*AWS_ACCESS_KEY_ID"):
        scan_uri(uri)
