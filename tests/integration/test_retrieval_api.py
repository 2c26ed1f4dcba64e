"""Rank differences of two feature sets and average query expansion through the API, against numpy."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

import deepviz
from deepviz.server.app import create_app
from tests.conftest import ColourExtractor

N = 18


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import make_folder
    from tests.integration.test_eval import CornerExtractor

    base = tmp_path_factory.mktemp("retrieval")
    images = make_folder(base / "images", per_class=6, with_broken=False)
    deepviz.build(images, base / "p.deepviz", models=[ColourExtractor(), CornerExtractor()], progress=False)
    return base / "p.deepviz"


@pytest.fixture(scope="module")
def client(project_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(project_root, embedder=ColourExtractor()), base_url="http://localhost") as c:
        yield c


def reference_order(x: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Ids by float64 similarity, high first, ties by lower id."""
    sims = x.astype(np.float64) @ query.astype(np.float64)
    return np.lexsort((np.arange(len(x)), -sims))


def test_rank_difference_is_one_byte_per_image_from_the_two_rankings(client: TestClient) -> None:
    got = client.get("/api/compare/rank-difference", params={"image": 3, "a": "colour", "b": "corner"})
    assert got.status_code == 200 and got.headers["content-type"] == "application/octet-stream"
    codes = np.frombuffer(got.content, np.uint8)
    assert codes.shape == (N,) and got.headers["X-Count"] == str(N)
    ranks = {}
    for name in ("colour", "corner"):
        body = client.get("/api/rank/3", params={"features": name}).content
        order = np.frombuffer(body[: 4 * N], "<i4")
        others = order[order != 3]
        ranks[name] = np.empty(N)
        ranks[name][others] = np.arange(N - 1)
    keep = np.arange(N) != 3
    ratio = np.log((1 + ranks["colour"][keep]) / (1 + ranks["corner"][keep])) / math.log(N - 1)
    assert codes[3] == 255
    assert codes[keep].tolist() == (127 + np.rint(127 * np.clip(ratio, -1, 1))).astype(int).tolist()
    same = np.frombuffer(client.get("/api/compare/rank-difference", params={"image": 3, "a": "colour", "b": "colour"}).content, np.uint8)
    assert set(np.delete(same, 3).tolist()) == {127}


def test_rank_difference_errors(client: TestClient) -> None:
    bad_set = client.get("/api/compare/rank-difference", params={"image": 3, "a": "colour", "b": "nope"})
    assert bad_set.status_code == 404 and "colour" in bad_set.json()["detail"]
    assert client.get("/api/compare/rank-difference", params={"image": N, "a": "colour", "b": "corner"}).status_code == 404


@pytest.mark.parametrize(("image", "k"), [(0, 1), (5, 4), (11, 17)])
def test_expansion_ranks_the_mean_of_the_query_and_its_top_k(client: TestClient, project_root: Path, image: int, k: int) -> None:
    x = np.asarray(deepviz.open_project(project_root).features("colour"), dtype=np.float64)
    got = client.post("/api/queries/expand", params={"image": image, "k": k, "features": "colour"})
    assert got.status_code == 200, got.text
    body = got.json()
    order = reference_order(x, x[image])
    nearest = order[order != image][:k]
    assert body["neighbours"] == nearest.tolist() and body["image"] == image and body["k"] == k
    mean = (x[image] + x[nearest].sum(axis=0)) / (k + 1)
    expanded = mean / np.linalg.norm(mean)
    ranked = client.get(f"/api/rank/upload/{body['query']}", params={"features": "colour"}).content
    sims = np.frombuffer(ranked[4 * N :], "<f4")
    ids = np.frombuffer(ranked[: 4 * N], "<i4")
    np.testing.assert_allclose(sims, (x @ expanded)[ids], atol=1e-5)
    assert np.all(np.diff(sims) <= 0)
    curve = client.get("/api/ranking/curve", params={"q": f"upload:{body['query']}", "width": 40, "features": "colour"})
    assert curve.status_code == 200 and curve.headers["X-Total"] == str(N)
    assert client.get(f"/api/queries/{body['query']}/thumb").status_code == 200


def test_expansion_errors(client: TestClient) -> None:
    assert client.post("/api/queries/expand", params={"image": N}).status_code == 404
    assert client.post("/api/queries/expand", params={"image": 0, "k": 0}).status_code == 422
    assert client.post("/api/queries/expand", params={"image": 0, "features": "nope"}).status_code == 404
    other = client.post("/api/queries/expand", params={"image": 0, "features": "corner"}).json()["query"]
    assert client.get(f"/api/rank/upload/{other}", params={"features": "colour"}).status_code == 409


def test_rankings_can_leave_near_duplicates_out(client: TestClient, project_root: Path) -> None:
    threshold = 0.999
    x = np.asarray(deepviz.open_project(project_root).features("colour"), dtype=np.float32)
    groups = client.get("/api/duplicates", params={"threshold": threshold, "features": "colour"}).json()["groups"]
    assert groups, "the fixture should have near-duplicates at this threshold"
    hidden = sorted(i for g in groups for i in sorted(g)[1:])
    query = next(i for i in range(N) if i not in hidden)
    params = {"features": "colour", "hide_duplicates": threshold}
    full = client.get(f"/api/rank/{query}", params={"features": "colour"})
    got = client.get(f"/api/rank/{query}", params=params)
    n = N - len(hidden)
    assert got.headers["X-Total"] == str(n)
    order_full = np.frombuffer(full.content[: 4 * N], "<i4")
    order = np.frombuffer(got.content[: 4 * n], "<i4")
    assert order.tolist() == [i for i in order_full.tolist() if i not in hidden]  # the others keep their order
    sims = np.frombuffer(got.content[4 * n :], "<f4")
    np.testing.assert_allclose(sims, (x[order].astype(np.float64) @ x[query]), atol=1e-5)
    curve = client.get("/api/ranking/curve", params={"q": query, "width": 30, **params})
    assert curve.headers["X-Total"] == str(n)
    at = client.get("/api/ranking/at", params={"q": query, "ranks": f"0-{n - 1}", **params}).content
    assert np.frombuffer(at[: 4 * n], "<i4").tolist() == order.tolist()
    of = client.get("/api/ranking/of", params={"q": query, "ids": f"{hidden[0]},{order[2]}", **params}).content
    ranks, of_sims = np.frombuffer(of[:8], "<i4"), np.frombuffer(of[8:], "<f4")
    assert ranks.tolist() == [-1, 2] and np.isnan(of_sims[0]) and of_sims[1] == sims[2]
    from scipy.stats import spearmanr

    other = int(order[1])
    rho = client.get("/api/ranking/spearman", params={"a": query, "b": other, **params}).json()
    order_b = np.frombuffer(client.get(f"/api/rank/{other}", params=params).content[: 4 * n], "<i4")
    rank_a, rank_b = np.empty(N), np.empty(N)
    rank_a[order], rank_b[order_b] = np.arange(n), np.arange(n)
    kept = np.sort(order)
    assert rho["n"] == n and rho["rho"] == pytest.approx(spearmanr(rank_a[kept], rank_b[kept]).statistic, abs=1e-12)
    assert client.get(f"/api/rank/{query}", params={"hide_duplicates": 0.2}).status_code == 422
