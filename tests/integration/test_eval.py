"""`deepviz eval`: labels as ground truth, checked against scikit-learn query by query."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import average_precision_score

import deepviz
from deepviz.cli import cli
from tests.conftest import ColourExtractor, make_folder, write_image


class CornerExtractor(ColourExtractor):
    """A second feature set: only the top-left quadrant's colour, so it ranks differently."""

    name = "corner"
    dim = 3

    def embed(self, crops: np.ndarray) -> np.ndarray:
        return super().embed(crops)[:, :3] + np.linspace(0, 0.01, 3, dtype=np.float32)


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("eval")
    images = make_folder(base / "images", per_class=5, with_broken=False)
    (images / "lonely").mkdir()
    (images / "red" / "img_0.jpg").rename(images / "lonely" / "only.jpg")  # a class of one image: skipped
    out = base / "p.deepviz"
    deepviz.build(images, out, models=[ColourExtractor(), CornerExtractor()], progress=False)
    return out


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def expected(project: deepviz.Project, feature_set: str, k: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per label, every query's AP (scikit-learn) and precision@k, computed directly from the features."""
    x = np.asarray(project.features(feature_set), dtype=np.float32)
    labels = np.asarray(project.images["label"])
    sims = x @ x.T
    aps: dict[str, list[float]] = {}
    precisions: dict[str, list[float]] = {}
    for q in range(project.n):
        others = np.flatnonzero(np.arange(project.n) != q)
        y = labels[others] == labels[q]
        if not y.any():
            continue
        aps.setdefault(labels[q], []).append(average_precision_score(y, sims[q, others]))
        ranked = others[np.lexsort((others, -sims[q, others]))]
        precisions.setdefault(labels[q], []).append(np.mean(labels[ranked[:k]] == labels[q]))
    return aps, precisions


def test_json_matches_sklearn_for_each_feature_set(two_sets: Path) -> None:
    project = deepviz.open_project(two_sets)
    out = json.loads(run(str(two_sets), "--k", "3", "--json"))
    assert out["k"] == 3 and [s["feature_set"] for s in out["feature_sets"]] == ["colour", "corner"]
    for result in out["feature_sets"]:
        aps, precisions = expected(project, result["feature_set"], 3)
        assert result["queries"] == 14 and result["skipped"] == 1 and result["unlabelled"] == 0
        assert result["map"] == pytest.approx(np.mean([a for v in aps.values() for a in v]), abs=1e-12)
        assert result["precision_at_k"] == pytest.approx(np.mean([p for v in precisions.values() for p in v]), abs=1e-12)
        assert [c["label"] for c in result["classes"]] == ["blue", "green", "red"]
        for c in result["classes"]:
            assert c["n"] == len(aps[c["label"]])
            assert c["map"] == pytest.approx(np.mean(aps[c["label"]]), abs=1e-12)
            assert c["precision_at_k"] == pytest.approx(np.mean(precisions[c["label"]]), abs=1e-12)
    colour, corner = out["feature_sets"]
    assert colour["map"] != corner["map"]  # two different rankings, not one set printed twice


def test_one_feature_set_is_one_object(two_sets: Path) -> None:
    out = json.loads(run(str(two_sets), "--feature-set", "corner", "--json"))
    assert set(out) == {"feature_set", "k", "queries", "skipped", "unlabelled", "map", "precision_at_k", "classes"}
    assert out["feature_set"] == "corner" and out["k"] == 10


def test_table_and_csv(two_sets: Path, tmp_path: Path) -> None:
    text = run(str(two_sets), "--csv", str(tmp_path / "eval.csv"))
    assert "mAP colour" in text and "mAP corner" in text and "1 skipped" in text
    assert any(line.startswith("green") for line in text.splitlines())
    rows = list(csv.DictReader((tmp_path / "eval.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["feature_set"], r["label"]) for r in rows] == [
        ("colour", "blue"), ("colour", "green"), ("colour", "red"), ("colour", "(all)"),
        ("corner", "blue"), ("corner", "green"), ("corner", "red"), ("corner", "(all)"),
    ]  # fmt: skip
    summary = json.loads(run(str(two_sets), "--json"))
    assert float(rows[3]["map"]) == pytest.approx(summary["feature_sets"][0]["map"])


def test_bad_input_says_what_to_do(two_sets: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", str(two_sets), "--feature-set", "nope"])
    assert result.exit_code != 0 and "no feature set 'nope'" in result.output and "colour" in result.output
    unlabelled = tmp_path / "flat"
    for i, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        write_image(unlabelled / f"{i}.png", colour)
    deepviz.build(unlabelled, tmp_path / "flat.deepviz", models=[ColourExtractor()], progress=False)
    result = CliRunner().invoke(cli, ["eval", str(tmp_path / "flat.deepviz")])
    assert result.exit_code != 0 and "has no labels" in result.output and "--labels" in result.output


def test_duplicates_cli(tmp_path: Path) -> None:
    images = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    deepviz.build(images, tmp_path / "p.deepviz", models=[ColourExtractor()], progress=False)
    project = deepviz.open_project(tmp_path / "p.deepviz")
    paths = project.images["path"].tolist()
    result = CliRunner().invoke(
        cli, ["duplicates", str(tmp_path / "p.deepviz"), "--threshold", "0.9999", "--json", "--csv", str(tmp_path / "d.csv")]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    x = np.asarray(project.features(), dtype=np.float32)
    close = np.triu((x @ x.T) >= np.float32(0.9999), k=1)
    assert out["feature_set"] == "colour" and out["pairs"] == int(np.count_nonzero(close)) > 0
    grouped = sorted(item["id"] for g in out["groups"] for item in g)
    assert grouped == np.flatnonzero(close.any(axis=0) | close.any(axis=1)).tolist()
    assert all(item["path"] == paths[item["id"]] for g in out["groups"] for item in g)
    rows = list(csv.DictReader((tmp_path / "d.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rows) == out["pairs"] and {rows[0]["first_path"], rows[0]["second_path"]} <= set(paths)
    text = CliRunner().invoke(cli, ["duplicates", str(tmp_path / "p.deepviz"), "--threshold", "0.9999"]).output
    assert "group(s)" in text and out["groups"][0][0]["path"] in text
