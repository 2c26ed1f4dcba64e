"""The concepts and metrics API: CRUD, a query's figures for a concept, labels as ground truth (against scikit-learn)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import average_precision_score

import deepviz
from deepviz.server.app import create_app
from deepviz.storage.concepts import ConceptStore
from tests.conftest import ColourExtractor

N = 24


@pytest.fixture(scope="module")
def root(tiny_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("concepts") / "tiny.deepviz"
    shutil.copytree(tiny_project, copy)  # tiny_project is shared and read-only; concepts write
    return copy


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(root, embedder=ColourExtractor()), base_url="http://localhost") as c:
        yield c


def reference_figures(project: deepviz.Project, query: int, members: list[int], k: int) -> tuple[float, float, float]:
    x = np.asarray(project.features(), dtype=np.float64)
    sims = x @ x[query]
    others = np.flatnonzero(np.arange(project.n) != query)
    y = np.isin(others, members)
    ranked = others[np.lexsort((others, -sims[others]))]
    hits = np.count_nonzero(np.isin(ranked[:k], members))
    return average_precision_score(y, sims[others]), hits / k, hits / y.sum()


def test_crud(client: TestClient, root: Path) -> None:
    made = client.put("/api/concepts/reds", json={"ids": [3, 1, 2, 2], "source": "clicks"})
    assert made.status_code == 200 and made.json()["ids"] == [1, 2, 3] and made.json()["source"] == "clicks"
    edited = client.patch("/api/concepts/reds", json={"add": [7], "remove": [1], "rename": "warm"}).json()
    assert edited["name"] == "warm" and edited["ids"] == [2, 3, 7]
    assert [c["name"] for c in client.get("/api/concepts").json()] == ["warm"]
    assert ConceptStore(root, N).get("warm").ids == [2, 3, 7]  # on disk, for the CLI to see
    assert client.delete("/api/concepts/warm").status_code == 204
    assert client.get("/api/concepts").json() == []


def test_crud_errors(client: TestClient) -> None:
    bad = client.put("/api/concepts/x", json={"ids": [N]})
    assert bad.status_code == 400 and f"0..{N - 1}" in bad.json()["detail"]
    assert client.patch("/api/concepts/none", json={"add": [1]}).status_code == 404
    assert client.delete("/api/concepts/none").status_code == 404
    assert client.put("/api/concepts/%20", json={"ids": [1]}).status_code == 400


@pytest.mark.parametrize("query", [0, 5, 20])
def test_metrics_match_sklearn_and_exclude_the_query(client: TestClient, root: Path, query: int) -> None:
    project = deepviz.open_project(root)
    members = [i for i in range(N) if project.images.at[i, "label"] == "red"]
    client.put("/api/concepts/red", json={"ids": members})
    got = client.get("/api/concepts/red/metrics", params={"image": query, "k": 5}).json()
    inside = query in members
    positives = [m for m in members if m != query]
    ap, p, r = reference_figures(project, query, positives, 5)
    assert got["query_is_member"] is inside and got["members"] == len(positives)
    assert got["ap"] == pytest.approx(ap, abs=1e-9)
    assert got["precision_at_k"] == pytest.approx(p) and got["recall_at_k"] == pytest.approx(r)
    order = np.frombuffer(client.get(f"/api/rank/{query}").content[: 4 * N], dtype="<i4")
    assert got["member_ranks"] == sorted(int(np.flatnonzero(order == m)[0]) for m in members)  # ranks in /api/rank's order


def test_metrics_errors(client: TestClient) -> None:
    client.put("/api/concepts/one", json={"ids": [4]})
    alone = client.get("/api/concepts/one/metrics", params={"image": 4}).json()
    assert alone["query_is_member"] and alone["members"] == 0 and alone["ap"] is None
    assert client.get("/api/concepts/one/metrics").status_code == 400
    assert client.get("/api/concepts/nope/metrics", params={"image": 1}).status_code == 404
    assert client.get("/api/concepts/one/metrics", params={"image": N}).status_code == 404
    assert client.get("/api/concepts/one/metrics", params={"image": 1, "features": "x"}).status_code == 404


def test_eval_matches_sklearn_and_the_cli(client: TestClient, root: Path) -> None:
    project = deepviz.open_project(root)
    got = client.get("/api/eval", params={"k": 4}).json()
    labels = np.asarray(project.images["label"])
    aps = []
    for q in range(N):
        members = [i for i in range(N) if labels[i] == labels[q] and i != q]
        aps.append(reference_figures(project, q, members, 4)[0])
    assert got["queries"] == N and got["skipped"] == 0
    assert got["map"] == pytest.approx(np.mean(aps), abs=1e-9)
    for c in got["classes"]:
        assert c["map"] == pytest.approx(np.mean([a for a, lab in zip(aps, labels) if lab == c["label"]]), abs=1e-9)
    best = client.get("/api/eval/class", params={"label": "green", "k": 4, "count": 3}).json()
    greens = sorted(((aps[i], i) for i in range(N) if labels[i] == "green"), key=lambda t: (-t[0], t[1]))
    assert [q["id"] for q in best["best"]] == [i for _, i in greens[:3]]
    assert [q["id"] for q in best["worst"]] == [i for _, i in greens[::-1][:3]]
    assert best["best"][0]["ap"] == pytest.approx(greens[0][0], abs=1e-9)
    assert client.get("/api/eval/class", params={"label": "purple"}).status_code == 404


@pytest.fixture(scope="module")
def two_sets_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from tests.conftest import make_folder
    from tests.integration.test_eval import CornerExtractor

    base = tmp_path_factory.mktemp("compare")
    images = make_folder(base / "images", per_class=6, with_broken=False)
    deepviz.build(images, base / "p.deepviz", models=[ColourExtractor(), CornerExtractor()], progress=False)
    with TestClient(create_app(base / "p.deepviz", embedder=ColourExtractor()), base_url="http://localhost") as c:
        yield c


def test_compare_two_feature_sets_matches_scipy(two_sets_client: TestClient) -> None:
    from scipy.stats import kendalltau, spearmanr

    c = two_sets_client
    got = c.get("/api/compare", params={"image": 3, "a": "colour", "b": "corner", "k": 5}).json()
    n = 18
    sims = {}
    orders = {}
    for name in ("colour", "corner"):
        body = c.get("/api/rank/3", params={"features": name}).content
        order = np.frombuffer(body[: 4 * n], "<i4")
        by_id = np.empty(n, np.float32)
        by_id[order] = np.frombuffer(body[4 * n :], "<f4")
        sims[name] = np.delete(by_id, 3)
        orders[name] = order[order != 3]
    assert got["n"] == n - 1
    assert got["spearman"] == pytest.approx(spearmanr(sims["colour"], sims["corner"]).statistic, abs=1e-9)
    assert got["kendall"] == pytest.approx(kendalltau(sims["colour"], sims["corner"]).statistic, abs=1e-9)
    top_a, top_b = list(orders["colour"][:5]), list(orders["corner"][:5])
    assert got["overlap_at_k"] == pytest.approx(len(set(top_a) & set(top_b)) / 5)
    assert got["gained"] == [i for i in top_b if i not in top_a] and got["lost"] == [i for i in top_a if i not in top_b]
    same = c.get("/api/compare", params={"image": 3, "a": "colour", "b": "colour"}).json()
    assert same["spearman"] == pytest.approx(1.0) and same["overlap_at_k"] == 1.0 and same["gained"] == []
    assert c.get("/api/compare", params={"image": 3, "a": "colour", "b": "nope"}).status_code == 404


def test_ids_must_be_integers_in_range(client: TestClient) -> None:
    assert client.put("/api/concepts/x", json={"ids": [False]}).status_code == 422
    huge = client.put("/api/concepts/x", json={"ids": [2**80, 1]})
    assert huge.status_code == 400 and "out of range" in huge.json()["detail"]
    client.put("/api/concepts/y", json={"ids": [1]})
    assert client.patch("/api/concepts/y", json={"remove": [-(2**70)]}).status_code == 400


def test_duplicates_match_the_brute_force_pairs(client: TestClient, root: Path) -> None:
    x = np.asarray(deepviz.open_project(root).features(), dtype=np.float32)
    close = np.triu((x @ x.T) >= np.float32(0.999), k=1)
    got = client.get("/api/duplicates", params={"threshold": 0.999}).json()
    assert got["pairs"] == int(np.count_nonzero(close)) and got["feature_set"] == "colour"
    assert sorted(i for g in got["groups"] for i in g) == np.flatnonzero(close.any(axis=0) | close.any(axis=1)).tolist()
    assert client.get("/api/duplicates", params={"threshold": 2}).status_code == 422
