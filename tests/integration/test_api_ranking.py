"""The small ranking endpoints the page uses instead of a whole ranking: each equals the matching
part of the full ranking (GET /api/rank/{id}), computed by the server's exact path."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.stats import spearmanr

from bench.synthetic import write_synthetic_project
from deepviz.core.envelope import position_to_x
from deepviz.server.app import create_app

N = 5000


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = write_synthetic_project(tmp_path_factory.mktemp("ranking") / "p.deepviz", N, 16)
    with TestClient(create_app(root), base_url="http://localhost") as c:
        yield c


def full(c: TestClient, image_id: int) -> tuple[np.ndarray, np.ndarray]:
    body = c.get(f"/api/rank/{image_id}").content
    return np.frombuffer(body[: 4 * N], "<i4"), np.frombuffer(body[4 * N :], "<f4")


def picked(body: bytes) -> tuple[np.ndarray, np.ndarray]:
    k = len(body) // 8
    return np.frombuffer(body[: 4 * k], "<i4"), np.frombuffer(body[4 * k :], "<f4")


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("width", [97, 640])
def test_curve_is_the_min_and_max_of_each_pixel_column_of_the_full_curve(client: TestClient, width: int, log: bool) -> None:
    _, sims = full(client, 11)
    r = client.get("/api/ranking/curve", params={"q": 11, "width": width, "log": log})
    assert r.status_code == 200 and r.headers["x-total"] == str(N)
    k = int(r.headers["x-count"])
    assert len(r.content) == 8 * k <= 8 * 4 * width  # a few KB, not the 40 KB of the whole ranking
    x, ys = np.frombuffer(r.content[: 4 * k], "<f4"), np.frombuffer(r.content[4 * k :], "<f4")
    assert ys[0] == sims.max() and ys[-1] == sims.min()
    # Past the head (ranks a pixel or more apart, one point each), pixel column [c, c + 1) of the
    # chart holds the ranks that start in it, by the page's own axis.
    head = int(np.sum(x != np.floor(x) + 0.5)) if not log else int(np.argmax(np.r_[x[1:] == x[:-1], True]))
    starts = np.array([position_to_x(r, width, N, log) for r in range(N)])
    columns = 0
    for col in np.unique(np.floor(x[head:])):
        inside = sims[head:][(starts[head:] >= col) & (starts[head:] < col + 1)]
        drawn = ys[head:][np.floor(x[head:]) == col]
        if len(drawn) == 2 and len(inside) > 1:
            assert drawn[0] == inside.max() and drawn[1] == inside.min()
            columns += 1
    assert columns >= 10  # columns of several ranks were checked
    assert np.all(np.diff(ys) <= 0)  # drawn left to right, a sorted curve never rises


def test_at_equals_slices_of_the_full_ranking(client: TestClient) -> None:
    ids, sims = full(client, 3)
    got_ids, got_sims = picked(client.get("/api/ranking/at", params={"q": 3, "ranks": "0-63,2500,4999"}).content)
    want = np.r_[np.arange(64), 2500, 4999]
    np.testing.assert_array_equal(got_ids, ids[want])
    np.testing.assert_array_equal(got_sims, sims[want])
    window = client.get("/api/rank/3", params={"start": 100, "stop": 164}).content
    np.testing.assert_array_equal(np.frombuffer(window[:256], "<i4"), ids[100:164])


def test_of_gives_each_ids_rank_and_similarity(client: TestClient) -> None:
    ids, sims = full(client, 8)
    asked = [8, 0, 4999, 1234]
    ranks, got_sims = picked(client.get("/api/ranking/of", params={"q": 8, "ids": "8,0,4999,1234"}).content)
    np.testing.assert_array_equal(ids[ranks], asked)
    np.testing.assert_array_equal(got_sims, sims[ranks])
    assert ranks[0] == 0


def test_spearman_matches_scipy_on_the_full_rankings(client: TestClient) -> None:
    ids_a, _ = full(client, 1)
    ids_b, _ = full(client, 2)
    rank_a, rank_b = np.argsort(ids_a), np.argsort(ids_b)
    r = client.get("/api/ranking/spearman", params={"a": 1, "b": 2}).json()
    assert r["n"] == N
    assert r["rho"] == pytest.approx(spearmanr(rank_a, rank_b).statistic, abs=1e-12)
    assert client.get("/api/ranking/spearman", params={"a": 5, "b": 5}).json()["rho"] == 1


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("curve", {"q": "x1", "width": 10}, 400, "send an image id"),
        ("curve", {"q": "²", "width": 10}, 400, "send an image id"),  # a digit to str.isdigit, not to int()
        ("curve", {"q": N, "width": 10}, 404, "out of range"),
        ("curve", {"q": 1, "width": 0}, 422, ""),
        ("at", {"q": 1, "ranks": str(N)}, 404, "out of range"),
        ("at", {"q": 1, "ranks": "5-2"}, 400, "backwards"),
        ("of", {"q": 1, "ids": "a"}, 400, "ids"),
        ("of", {"q": "upload:u9", "ids": "1"}, 404, "upload the image again"),
    ],
)
def test_bad_requests_say_what_to_send(client: TestClient, path: str, params: dict[str, object], status: int, says: str) -> None:
    r = client.get(f"/api/ranking/{path}", params=params)
    assert r.status_code == status and says in str(r.json()["detail"])
