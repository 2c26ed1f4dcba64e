"""The HTTP API in-process (FastAPI's TestClient): every endpoint, its binary formats and its 4xx answers."""
from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

import deepviz
from deepviz.core.similarity import has_fast_kernel
from deepviz.server.app import create_app
from deepviz.server.ranking import Rankings
from deepviz.server.run import app_url, bind
from deepviz.settings import ServeSettings
from tests.conftest import ColourExtractor, make_folder

N = 24  # tiny_project: 3 colour classes x 8 images


def local_client(app: FastAPI) -> TestClient:
    """A client that asks for localhost, as a browser on this machine does: the server refuses
    other Host names (TestClient's default 'testserver' among them; see test_private.py)."""
    return TestClient(app, base_url="http://localhost")


@pytest.fixture(scope="module")
def project(tiny_project: Path) -> deepviz.Project:
    return deepviz.open_project(tiny_project)


@pytest.fixture(scope="module")
def client(tiny_project: Path) -> Iterator[TestClient]:
    with local_client(create_app(tiny_project, ServeSettings(max_upload_bytes=200_000), embedder=ColourExtractor())) as c:
        yield c


@pytest.fixture(scope="module")
def no_embedder_client(tiny_project: Path) -> Iterator[TestClient]:
    """No embedder injected: the manifest's extractor 'colour' is not in the registry."""
    with local_client(create_app(tiny_project)) as c:
        yield c


@pytest.fixture(scope="module")
def imported_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("imported")
    images = make_folder(base / "images", per_class=3, with_broken=False)
    paths = deepviz.scan(images).paths
    rows = np.random.default_rng(0).standard_normal((len(paths), 6)).astype(np.float32)
    np.save(base / "feats.npy", rows)
    out = base / "imported.deepviz"
    deepviz.build(images, out, features=base / "feats.npy", progress=False)
    return out


def image_bytes(project: deepviz.Project, image_id: int) -> bytes:
    return project.source_path(image_id).read_bytes()


def parse_ranking(body: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    assert len(body) == 8 * count
    return np.frombuffer(body[: 4 * count], dtype="<i4"), np.frombuffer(body[4 * count :], dtype="<f4")


def reference(project: deepviz.Project, query: np.ndarray) -> np.ndarray:
    """(N,) float64 similarities by id, computed independently of the server."""
    return np.asarray(project.features(), dtype=np.float64) @ np.asarray(query, dtype=np.float64)


def upload(c: TestClient, data: bytes, name: str = "query.png", **params: str) -> object:
    return c.post("/api/queries/upload", files={"file": (name, data, "application/octet-stream")}, params=params)


# --- project, grid, labels, images, thumbnails ---------------------------------------------


def test_project_info(client: TestClient, project: deepviz.Project) -> None:
    r = client.get("/api/project")
    assert r.status_code == 200
    info = r.json()
    rows, cols = project.grid_shape
    assert info["name"] == "tiny"
    assert info["n"] == N
    assert info["grid"] == {"rows": rows, "cols": cols}
    assert info["thumbnail_sizes"] == [32, 64, 128]
    assert info["feature_sets"] == ["colour"] and info["default_feature_set"] == "colour"
    assert info["feature_dims"] == {"colour": 12}
    assert info["labels"] == ["blue", "green", "red"]
    assert info["can_embed"] is True
    assert info["text_feature_sets"] == []  # a colour statistic has no text tower
    assert isinstance(info["revision"], str) and info["revision"]


def test_can_embed_is_false_without_a_loadable_extractor(no_embedder_client: TestClient) -> None:
    assert no_embedder_client.get("/api/project").json()["can_embed"] is False


def test_grid_is_little_endian_int32_pairs_in_id_order(client: TestClient, project: deepviz.Project) -> None:
    r = client.get("/api/grid")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    grid = np.frombuffer(r.content, dtype="<i4").reshape(-1, 2)
    np.testing.assert_array_equal(grid, project.grid)
    assert len({tuple(cell) for cell in grid.tolist()}) == N


def test_labels_index_the_project_label_list(client: TestClient, project: deepviz.Project) -> None:
    names = client.get("/api/project").json()["labels"]
    r = client.get("/api/labels")
    codes = np.frombuffer(r.content, dtype="<i4")
    assert r.headers["x-count"] == str(N) and len(codes) == N
    assert [names[c] for c in codes] == project.images["label"].tolist()


def test_colors_are_each_images_mean_rgb_in_id_order(client: TestClient, project: deepviz.Project) -> None:
    r = client.get("/api/colors")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert r.headers["x-count"] == str(N) and len(r.content) == 3 * N
    colors = np.frombuffer(r.content, dtype=np.uint8).reshape(N, 3)
    np.testing.assert_array_equal(colors, project.colors)
    for image_id in (0, 9, N - 1):
        thumb = np.asarray(Image.open(io.BytesIO(project.thumbnail(image_id, 32))).convert("RGB"))
        np.testing.assert_allclose(colors[image_id], thumb.reshape(-1, 3).mean(axis=0), atol=4)


def test_a_project_of_an_older_schema_is_refused_with_what_to_do(tiny_project: Path, tmp_path: Path) -> None:
    import json
    import shutil

    old = tmp_path / "old.deepviz"
    shutil.copytree(tiny_project, old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["schema_version"] = 1
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(deepviz.ProjectError, match="earlier development version.*deepviz build"):
        create_app(old)


def test_image_info(client: TestClient, project: deepviz.Project) -> None:
    for image_id in (0, 13, N - 1):
        info = client.get(f"/api/images/{image_id}").json()
        row = project.images.iloc[image_id]
        assert info == {
            "id": image_id, "path": row["path"], "label": row["label"], "width": int(row["width"]), "height": int(row["height"]),
        }


@pytest.mark.parametrize("bad", ["-1", str(N), "99999999999"])
def test_bad_image_id_is_404_with_the_valid_range(client: TestClient, bad: str) -> None:
    r = client.get(f"/api/images/{bad}")
    assert r.status_code == 404
    assert f"0..{N - 1}" in r.json()["detail"]


def test_non_numeric_id_is_422_with_a_single_message(client: TestClient) -> None:
    r = client.get("/api/images/abc")
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "image_id" in detail and "'abc'" in detail


def test_thumbnail_bytes_and_caching(client: TestClient, project: deepviz.Project) -> None:
    r = client.get("/api/thumbs/64/5")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == project.thumbnails.get(5, 64)
    assert Image.open(io.BytesIO(r.content)).size == (64, 64)
    assert r.headers["cache-control"] == "no-cache"
    revision = client.get("/api/project").json()["revision"]
    cached = client.get("/api/thumbs/64/5", params={"v": revision})
    assert "immutable" in cached.headers["cache-control"] and "max-age=31536000" in cached.headers["cache-control"]
    again = client.get("/api/thumbs/64/5", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_thumbnail_of_unknown_size_lists_the_sizes(client: TestClient) -> None:
    r = client.get("/api/thumbs/48/0")
    assert r.status_code == 404
    assert "[32, 64, 128]" in r.json()["detail"]


def test_thumbnail_of_bad_id_is_404(client: TestClient) -> None:
    assert client.get(f"/api/thumbs/32/{N}").status_code == 404
    assert client.get("/api/thumbs/32/-3").status_code == 404


def split_batch(body: bytes) -> list[bytes]:
    """The K JPEGs of a /api/thumbs/{size}/batch body, decoded from its documented layout."""
    count = int(np.frombuffer(body[:4], dtype="<u4")[0])
    offsets = np.frombuffer(body[4 : 4 * (count + 2)], dtype="<u4").astype(np.int64)
    jpegs = body[4 * (count + 2) :]
    assert offsets[0] == 0 and offsets[-1] == len(jpegs) and np.all(np.diff(offsets) >= 0)
    return [jpegs[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


@pytest.mark.parametrize("size", [32, 128])
def test_thumbnail_batch_equals_the_single_thumbnails_in_the_order_asked(client: TestClient, size: int) -> None:
    ids = [17, 3, 3, 0, N - 1, 9, 10, 11, 3]
    r = client.get(f"/api/thumbs/{size}/batch", params={"ids": ",".join(map(str, ids))})
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    assert r.headers["x-count"] == str(len(ids))
    got = split_batch(r.content)
    assert got == [client.get(f"/api/thumbs/{size}/{i}").content for i in ids]
    assert len(set(got)) > 1  # distinct images, not one repeated


def test_thumbnail_batch_ranges_expand_in_order(client: TestClient, project: deepviz.Project) -> None:
    r = client.get("/api/thumbs/64/batch", params={"ids": "20-23,2,5-5,0-1"})
    assert r.headers["x-count"] == "8"
    assert split_batch(r.content) == [project.thumbnails.get(i, 64) for i in (20, 21, 22, 23, 2, 5, 0, 1)]


def test_thumbnail_batch_caching_follows_the_revision(client: TestClient) -> None:
    revision = client.get("/api/project").json()["revision"]
    cached = client.get("/api/thumbs/32/batch", params={"ids": "1,2", "v": revision})
    assert "immutable" in cached.headers["cache-control"]
    assert client.get("/api/thumbs/32/batch", params={"ids": "1,2", "v": "old"}).headers["cache-control"] == "no-cache"


def test_thumbnail_batch_of_the_most_ids_allowed(client: TestClient) -> None:
    ids = ",".join(str(i % N) for i in range(1024))
    got = split_batch(client.get("/api/thumbs/32/batch", params={"ids": ids}).content)
    assert len(got) == 1024 and got[N] == got[0]


@pytest.mark.parametrize(
    ("size", "ids", "status", "says"),
    [
        (32, f"1,{N},2", 404, f"0..{N - 1}"),
        (48, "1,2", 404, "[32, 64, 128]"),
        (32, "1,,2", 400, "ids=7,3,10-12"),
        (32, "", 400, "ids=7,3,10-12"),
        (32, "1,-3", 400, "'-3'"),
        (32, "a,b", 400, "'a'"),
        (32, "1, 2", 400, "' 2'"),
        (32, "9-4", 400, "4-9"),
        (32, ",".join(["1"] * 1025), 400, "at most 1024"),
        (32, "0-999999999999", 400, "at most 1024"),
    ],
)
def test_bad_thumbnail_batch_is_4xx_with_a_message(client: TestClient, size: int, ids: str, status: int, says: str) -> None:
    r = client.get(f"/api/thumbs/{size}/batch", params={"ids": ids})
    assert r.status_code == status
    detail = r.json()["detail"]
    assert isinstance(detail, str) and says in detail


def test_thumbnail_batch_without_ids_is_422(client: TestClient) -> None:
    r = client.get("/api/thumbs/32/batch")
    assert r.status_code == 422 and "ids" in r.json()["detail"]


# --- rankings ------------------------------------------------------------------------------


def test_every_ranking_equals_an_independent_computation(client: TestClient, project: deepviz.Project) -> None:
    feats = np.asarray(project.features())
    for query in range(N):
        r = client.get(f"/api/rank/{query}", params={"features": "colour"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
        assert r.headers["x-count"] == str(N)
        order, sims = parse_ranking(r.content, N)
        expected = reference(project, feats[query])
        assert sorted(order.tolist()) == list(range(N))
        np.testing.assert_allclose(sims, expected[order], atol=1e-6)
        # Sorted high to low, and consistent with the exact order up to float32 rounding.
        assert np.all(np.diff(sims) <= 0)
        np.testing.assert_allclose(expected[order], np.sort(expected)[::-1], atol=1e-6)
        same = sims[1:] == sims[:-1]
        assert np.all(order[1:][same] > order[:-1][same])


def test_an_image_ranks_its_own_class_first(client: TestClient, project: deepviz.Project) -> None:
    labels = project.images["label"].tolist()
    order, _ = parse_ranking(client.get("/api/rank/0").content, N)
    assert {labels[i] for i in order[:8]} == {labels[0]}


def test_rank_window(client: TestClient) -> None:
    full_order, full_sims = parse_ranking(client.get("/api/rank/3").content, N)
    r = client.get("/api/rank/3", params={"start": 5, "stop": 12})
    assert (r.headers["x-count"], r.headers["x-total"], r.headers["x-start"]) == ("7", str(N), "5")
    order, sims = parse_ranking(r.content, 7)
    np.testing.assert_array_equal(order, full_order[5:12])
    np.testing.assert_array_equal(sims, full_sims[5:12])


@pytest.mark.parametrize("window", [{"start": 10, "stop": 5}, {"stop": N + 1}, {"start": -1}, {"start": N + 1}])
def test_bad_rank_window_is_400(client: TestClient, window: dict[str, int]) -> None:
    r = client.get("/api/rank/3", params=window)
    assert r.status_code == 400
    assert f"<= {N}" in r.json()["detail"]


def test_rank_of_bad_id_or_feature_set(client: TestClient) -> None:
    r = client.get(f"/api/rank/{N}")
    assert r.status_code == 404 and "out of range" in r.json()["detail"]
    r = client.get("/api/rank/0", params={"features": "vgg"})
    assert r.status_code == 404 and "'colour'" in r.json()["detail"]


def test_rankings_cache_is_bounded_and_float16_path_agrees(project: deepviz.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    one = N * 12  # ids, similarities and the rank of each id
    served = Rankings(project, cache_bytes=2 * one)  # the float16 kernel when numba is there
    fast, served_dtype = has_fast_kernel(), served.matrix("colour").dtype
    monkeypatch.setattr("deepviz.server.ranking.has_fast_kernel", lambda: False)
    monkeypatch.setattr("deepviz.core.similarity.has_fast_kernel", lambda: False)
    copied = Rankings(project, cache_bytes=2 * one)
    mapped = Rankings(project, cache_bytes=ServeSettings().cache_bytes, ram_copy_bytes=0)
    for image_id in range(5):
        a = copied.for_image("colour", image_id)
        b = mapped.for_image("colour", image_id)
        np.testing.assert_array_equal(a.order, b.order)
        np.testing.assert_array_equal(a.sims, b.sims)
        c = served.for_image("colour", image_id)
        np.testing.assert_allclose(c.sims, a.sims, rtol=0, atol=1e-6)
        apart = np.diff(a.sims, prepend=2.0, append=-2.0)  # ranks whose neighbours are clearly apart
        clear = (-apart[:-1] > 1e-6) & (-apart[1:] > 1e-6)
        np.testing.assert_array_equal(c.order[clear], a.order[clear])
    assert copied.cached == 2 and copied.cached_bytes == 2 * one
    assert mapped.matrix("colour").dtype == np.float16 and copied.matrix("colour").dtype == np.float32
    assert served_dtype == (np.float16 if fast else np.float32)


# --- queries by upload -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def distinct_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 images whose four quadrants have random colours, so every image's ColourExtractor
    features are far from the others' (the tiny project's differ by less than float16 rounding)."""
    base = tmp_path_factory.mktemp("distinct")
    rng = np.random.default_rng(7)
    for k in range(16):
        quadrants = rng.integers(0, 256, (2, 2, 3), dtype=np.uint8)
        pixels = np.kron(quadrants, np.ones((24, 24, 1), np.uint8))  # 48 x 48, one colour per quadrant
        path = base / "images" / f"group{k % 2}" / f"q{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path)
    out = base / "distinct.deepviz"
    deepviz.build(base / "images", out, models=[ColourExtractor()], progress=False)
    return out


def test_uploading_a_project_image_ranks_it_first(distinct_project: Path) -> None:
    project = deepviz.open_project(distinct_project)
    with local_client(create_app(distinct_project, embedder=ColourExtractor())) as c:
        for image_id in range(project.n):
            r = upload(c, image_bytes(project, image_id), name=str(project.images.at[image_id, "path"]))
            assert r.status_code == 200, r.text
            ranked = c.get(f"/api/rank/upload/{r.json()['query']}", params={"features": "colour"})
            order, sims = parse_ranking(ranked.content, project.n)
            assert order[0] == image_id
            assert sims[0] == pytest.approx(1.0, abs=2e-3)  # the stored row is float16
            assert sims[1] < 0.999


@pytest.mark.parametrize("image_id", [0, 9, 17])
def test_uploading_a_tiny_project_image_matches_its_stored_row(
    client: TestClient, project: deepviz.Project, image_id: int
) -> None:
    r = upload(client, image_bytes(project, image_id), name=project.images.at[image_id, "path"])
    assert r.status_code == 200, r.text
    body = r.json()
    row = project.images.iloc[image_id]
    assert (body["width"], body["height"]) == (row["width"], row["height"])
    assert body["query"].startswith("u") and body["feature_set"] == "colour"
    ranked = client.get(f"/api/rank/upload/{body['query']}", params={"features": "colour"})
    assert ranked.status_code == 200 and ranked.headers["x-count"] == str(N)
    order, sims = parse_ranking(ranked.content, N)
    # Same-class images here differ by less than float16 rounding, so only the similarity is pinned.
    assert sims[list(order).index(image_id)] == pytest.approx(1.0, abs=2e-3)
    labels = project.images["label"].tolist()
    assert labels[order[0]] == labels[image_id]


def test_upload_ranking_equals_an_independent_computation(client: TestClient, project: deepviz.Project) -> None:
    img = Image.new("RGB", (50, 30), (200, 120, 40))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    body = upload(client, buf.getvalue()).json()
    order, sims = parse_ranking(client.get(f"/api/rank/upload/{body['query']}").content, N)
    # The same crop and extractor by hand: the build's decode, then a float64 normalisation.
    extractor = ColourExtractor()
    crop = deepviz.decode_crop(io.BytesIO(buf.getvalue()), 128).crop
    small = np.asarray(Image.fromarray(crop).resize((16, 16), Image.Resampling.BICUBIC))
    raw = extractor.embed(small[None])[0].astype(np.float64)
    expected = reference(project, raw / np.linalg.norm(raw))
    np.testing.assert_allclose(sims, expected[order], atol=1e-6)
    np.testing.assert_allclose(expected[order], np.sort(expected)[::-1], atol=1e-6)


def test_upload_thumbnail_is_the_128px_crop(client: TestClient, project: deepviz.Project) -> None:
    key = upload(client, image_bytes(project, 2)).json()["query"]
    r = client.get(f"/api/queries/{key}/thumb")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (128, 128)


def test_unknown_upload_query_is_404(client: TestClient) -> None:
    for path in ("/api/rank/upload/u1", "/api/queries/u1/thumb"):
        r = client.get(path)
        assert r.status_code == 404 and "upload the image again" in r.json()["detail"]


def test_upload_ranked_in_unknown_feature_set_is_404(client: TestClient, project: deepviz.Project) -> None:
    key = upload(client, image_bytes(project, 1)).json()["query"]
    r = client.get(f"/api/rank/upload/{key}", params={"features": "nope"})
    assert r.status_code == 404 and "'colour'" in r.json()["detail"]


def test_old_uploads_are_forgotten(tiny_project: Path, project: deepviz.Project) -> None:
    with local_client(create_app(tiny_project, ServeSettings(keep_uploads=1), embedder=ColourExtractor())) as c:
        first = upload(c, image_bytes(project, 0)).json()["query"]
        second = upload(c, image_bytes(project, 1)).json()["query"]
        assert first != second
        assert c.get(f"/api/rank/upload/{second}").status_code == 200
        assert c.get(f"/api/rank/upload/{first}").status_code == 404


def test_non_image_upload_is_415_with_the_reason(client: TestClient) -> None:
    r = upload(client, b"this is text, not an image", name="notes.txt")
    assert r.status_code == 415
    detail = r.json()["detail"]
    assert "notes.txt" in detail and "not a format Pillow can decode" in detail


def test_truncated_image_upload_is_415(client: TestClient, project: deepviz.Project) -> None:
    jpeg = next(i for i in range(N) if str(project.images.at[i, "path"]).endswith(".jpg"))
    r = upload(client, image_bytes(project, jpeg)[:300])
    assert r.status_code == 415


def test_missing_file_field_is_422(client: TestClient) -> None:
    r = client.post("/api/queries/upload", data={"other": "x"})
    assert r.status_code == 422 and "file" in r.json()["detail"]


def test_oversized_upload_is_413(tiny_project: Path, project: deepviz.Project) -> None:
    with local_client(create_app(tiny_project, ServeSettings(max_upload_bytes=500), embedder=ColourExtractor())) as c:
        small_over = upload(c, image_bytes(project, 0) + bytes(600))  # counted by the endpoint
        assert small_over.status_code == 413 and "500 bytes limit" in small_over.json()["detail"]
        huge = upload(c, bytes(100_000))  # refused from Content-Length before the body is read
        assert huge.status_code == 413 and "smaller image" in huge.json()["detail"]
    for answer in (small_over, huge):  # the limit and the flag that raises it, with a value
        assert answer.json()["detail"].endswith("deepviz serve PROJECT --max-upload-bytes 50000000")


def test_upload_without_a_loadable_extractor_is_503(no_embedder_client: TestClient, project: deepviz.Project) -> None:
    r = upload(no_embedder_client, image_bytes(project, 0))
    assert r.status_code == 503
    assert "'colour'" in r.json()["detail"] and "cannot be loaded here" in r.json()["detail"]


def test_imported_features_cannot_embed_uploads(imported_project: Path) -> None:
    with local_client(create_app(imported_project)) as c:
        assert c.get("/api/project").json()["can_embed"] is False
        project = deepviz.open_project(imported_project)
        r = upload(c, image_bytes(project, 0))
        assert r.status_code == 409
        assert r.json()["detail"] == (
            "this project's features were imported from a file, so new images cannot be embedded; "
            "build with --model to query by upload"
        )
        # Ranking by id still works for imported features.
        order, _ = parse_ranking(c.get("/api/rank/4").content, project.n)
        assert order[0] == 4


# --- the rest: OpenAPI, unknown paths, front end, serving ----------------------------------------


def test_openapi_lists_every_endpoint(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert set(spec["paths"]) >= {
        "/api/project", "/api/grid", "/api/labels", "/api/images/{image_id}", "/api/thumbs/{size}/{image_id}",
        "/api/thumbs/{size}/batch", "/api/rank/{image_id}", "/api/rank/upload/{query}", "/api/queries/upload", "/api/queries/{query}/thumb",
    }
    assert {"ProjectInfo", "ImageInfo", "UploadedQuery", "ErrorDetail"} <= set(spec["components"]["schemas"])


def test_unknown_api_path_is_404_json(client: TestClient) -> None:
    r = client.get("/api/nothing/here")
    assert r.status_code == 404 and "/api/docs" in r.json()["detail"]


def test_front_end_not_built_page(tiny_project: Path, tmp_path: Path) -> None:
    with local_client(create_app(tiny_project, static_dir=tmp_path / "empty")) as c:
        r = c.get("/")
        assert r.status_code == 200 and "npm ci" in r.text and "npm run build" in r.text


def test_built_front_end_is_served_and_does_not_shadow_the_api(tiny_project: Path, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    with local_client(create_app(tiny_project, static_dir=tmp_path)) as c:
        assert "<title>app</title>" in c.get("/").text
        assert c.get("/assets/app.js").text == "console.log(1)"
        assert c.get("/api/project").json()["n"] == N


def test_a_taken_port_is_replaced_by_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        sock = bind("127.0.0.1", port)
        try:
            assert sock.getsockname()[1] not in (port, 0)
        finally:
            sock.close()
    assert app_url("0.0.0.0", 8765) == "http://127.0.0.1:8765/"
    assert app_url("::1", 80) == "http://[::1]:80/"


def test_bad_host_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="cannot resolve host"):
        bind("no-such-host.invalid", 0)


def test_an_embedder_of_the_wrong_dimension_is_refused(tiny_project: Path) -> None:
    wrong = ColourExtractor()
    wrong.dim = 5
    with pytest.raises(ValueError, match="gives 5 dimensions"):
        create_app(tiny_project, embedder=wrong)


def test_committed_openapi_matches_the_server(tiny_project) -> None:
    """web/openapi.json (from which the TypeScript types are generated) has not drifted from the API."""
    import json
    from pathlib import Path

    from deepviz.server.app import create_app, openapi_schema

    committed = json.loads((Path(__file__).resolve().parents[2] / "web" / "openapi.json").read_text())
    assert committed == openapi_schema(), "run `cd web && npm run gen:types` and commit the result"
    assert create_app(tiny_project).openapi() == openapi_schema()


def test_upload_queries_survive_a_restart_when_files_are_kept(tiny_project: Path, project: deepviz.Project, tmp_path: Path) -> None:
    """A URL saved with an upload query still works after `deepviz serve` restarts."""
    data = image_bytes(project, 3)
    with local_client(create_app(tiny_project, embedder=ColourExtractor(), uploads_dir=tmp_path)) as c:
        key = upload(c, data).json()["query"]
        assert upload(c, data).json()["query"] == key  # the same image is the same query
        before = c.get(f"/api/rank/upload/{key}").content
    with local_client(create_app(tiny_project, embedder=ColourExtractor(), uploads_dir=tmp_path)) as c:
        assert c.get(f"/api/rank/upload/{key}").content == before
        assert c.get(f"/api/queries/{key}/thumb").status_code == 200
        r = c.get("/api/rank/upload/u0123456789abcdef0123")
        assert r.status_code == 404 and "upload the image again" in r.json()["detail"]
    with local_client(create_app(tiny_project, embedder=ColourExtractor())) as c:  # files not kept
        assert c.get(f"/api/rank/upload/{key}").status_code == 404


def test_an_upload_name_is_the_file_name_only_printable_and_bounded() -> None:
    from deepviz.server.uploads import NAME_CHARS, upload_name

    assert upload_name("a/b\\c\x00d\n.png") == "cd.png"
    assert upload_name(None) == "" and len(upload_name("x" * 500)) == NAME_CHARS


def test_an_upload_keeps_the_name_of_its_file_across_a_restart(tiny_project: Path, project: deepviz.Project, tmp_path: Path) -> None:
    """The page names an upload's row by its file after a reload: the server keeps the name (no folders)."""
    data = image_bytes(project, 5)
    with local_client(create_app(tiny_project, embedder=ColourExtractor(), uploads_dir=tmp_path)) as c:
        answer = upload(c, data, name="C:\\Users\\me\\holiday photo.png").json()
        assert answer["name"] == "holiday photo.png"
        key = answer["query"]
        info = c.get(f"/api/queries/{key}/info").json()
        assert info == {**answer, "name": "holiday photo.png"}
    with local_client(create_app(tiny_project, embedder=ColourExtractor(), uploads_dir=tmp_path)) as c:  # restarted
        info = c.get(f"/api/queries/{key}/info").json()
        assert info["name"] == "holiday photo.png" and info["query"] == key and info["width"] == answer["width"]
        r = c.get("/api/queries/u0123456789abcdef0123/info")
        assert r.status_code == 404 and "upload the image again" in r.json()["detail"]


def test_serve_names_the_fast_extra_only_when_a_big_set_is_slow(project: deepviz.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    rankings = Rankings(project, cache_bytes=ServeSettings().cache_bytes, ram_copy_bytes=0)
    monkeypatch.setattr("deepviz.server.ranking.SLOW_VALUES", 1)  # the tiny set counts as big
    monkeypatch.setattr("deepviz.server.ranking.has_fast_kernel", lambda: True)
    assert rankings.slow_hint("colour") is None
    monkeypatch.setattr("deepviz.server.ranking.has_fast_kernel", lambda: False)
    hint = rankings.slow_hint("colour")
    assert hint and "pip install 'deepviz[fast]'" in hint and f"{N:,} x " in hint
    roomy = Rankings(project, cache_bytes=ServeSettings().cache_bytes)  # a float32 copy fits: fast enough
    assert roomy.slow_hint("colour") is None
