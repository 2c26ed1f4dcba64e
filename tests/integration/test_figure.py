"""`deepviz figure`: the query panel as SVG/PNG/PDF for a paper, with the parts a reader expects."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from deepviz.cli import cli
from deepviz.storage.project import open_project

SVG = "{http://www.w3.org/2000/svg}"


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["figure", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _ids(svg: Path) -> set[str]:
    return {el.get("id", "") for el in ET.parse(svg).getroot().iter()}


def test_svg_holds_every_part_of_the_panel(tiny_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "fig.svg"
    path = open_project(tiny_project).images.at[5, "path"]
    _run(str(tiny_project), "-q", "0", "-q", str(path), "--window", "0:6", "--window", "2:4", "-o", str(out))
    ids = _ids(out)
    for part in ("overlay", "legend", "query-0", "query-1", "curve-0", "curve-1", "window-0", "window-1", "strip-0", "strip-1"):
        assert part in ids, part
    assert "overlay-curve-1" in ids
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    # Text is drawn as paths, so no font has to exist where the figure is opened.
    assert not list(root.iter(f"{SVG}text"))
    # Query images and strips are embedded, not linked to files on this machine.
    hrefs = [el.get("{http://www.w3.org/1999/xlink}href", "") for el in root.iter(f"{SVG}image")]
    assert hrefs and all(h.startswith("data:image/png;base64,") for h in hrefs)


def test_png_has_the_asked_for_width_and_the_same_figure_is_the_same_file(tiny_project: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.svg"
    _run(str(tiny_project), "-q", "3", "--width-in", "4", "--dpi", "150", "-o", str(a))
    with Image.open(a) as im:
        assert im.size[0] == 600
    _run(str(tiny_project), "-q", "3", "-o", str(b))
    first = b.read_bytes()
    _run(str(tiny_project), "-q", "3", "-o", str(b))
    assert b.read_bytes() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-q", "9999"], "the project has images 0..23"),
        (["-q", "no/such.jpg"], "no image with that id or path"),
        (["-q", "1", "--window", "5"], "write it as START:STOP"),
        (["-q", "1", "--window", "30:40"], "holds no rank"),
        (["-q", "1", "-q", "2", "--window", "0:4", "--window", "1:2", "--window", "3:5"], "one window for all, or one per query"),
        (["-q", "1", "--feature-set", "nope"], "nope"),
        ([], "at least one --query"),
    ],
)
def test_bad_requests_say_what_to_do(tiny_project: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["figure", str(tiny_project), *args, "-o", str(tmp_path / "f.svg")])
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_an_unknown_format_is_refused_before_any_work(tiny_project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["figure", str(tiny_project), "-q", "1", "-o", str(tmp_path / "f.gif")])
    assert result.exit_code != 0
    assert re.search(r"\.svg, \.png, \.pdf", result.output)
    assert not (tmp_path / "f.gif").exists()


def test_without_matplotlib_the_message_is_the_pip_command(tiny_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    result = CliRunner().invoke(cli, ["figure", str(tiny_project), "-q", "1", "-o", str(tmp_path / "f.svg")])
    assert result.exit_code != 0
    assert "deepviz[figure]" in result.output


def _client(project: Path) -> Any:
    from fastapi.testclient import TestClient

    from deepviz.server.app import create_app

    return TestClient(create_app(project), base_url="http://localhost")


def test_the_page_gets_the_same_figure_from_the_api(tiny_project: Path, tmp_path: Path) -> None:
    client = _client(tiny_project)
    r = client.get("/api/figure", params={"q": [0, 3], "w": ["0:5", "2:4"], "format": "svg"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["content-disposition"] == 'attachment; filename="tiny-figure.svg"'
    (tmp_path / "api.svg").write_bytes(r.content)
    assert {"curve-0", "curve-1", "window-1", "strip-1", "legend"} <= _ids(tmp_path / "api.svg")
    png = client.get("/api/figure", params={"q": 5, "format": "png", "width_in": 3, "dpi": 100})
    with Image.open(io.BytesIO(png.content)) as im:
        assert im.size[0] == 300


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": 1, "dpi": 5000}, 422, "less than or equal to 300"),
        ({"q": 1, "width_in": 100}, 422, "less than or equal to 12"),
        ({"q": list(range(13))}, 400, "1 to 12 queries"),
        ({"q": 99}, 404, "images 0..23"),
        ({"q": 1, "w": "banana"}, 400, "START:STOP"),
        ({"q": [1, 2], "w": ["0:2", "0:3", "0:4"]}, 400, "one for all, or one per query"),
        ({"q": 1, "fs": "nope"}, 404, "no feature set 'nope'"),
        ({"q": 1, "format": "gif"}, 422, "svg"),
    ],
)
def test_a_bad_figure_request_is_refused_with_what_to_change(tiny_project: Path, params: dict[str, Any], status: int, message: str) -> None:
    r = _client(tiny_project).get("/api/figure", params=params)
    assert r.status_code == status, r.text
    assert message in r.text
