"""Text queries: a CLIP-like feature set embeds words with its text tower, through the upload path, ranked exactly."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import deepviz
from deepviz.server import create_app
from deepviz.settings import ServeSettings
from tests.conftest import make_folder
from tests.integration.test_api import local_client, parse_ranking


@pytest.fixture(scope="module")
def clip_project(hf_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """9 images embedded by the tiny CLIP twice: its shared embedding (text queries) and its class token (none)."""
    root = tmp_path_factory.mktemp("text")
    images = make_folder(root / "images", per_class=3, with_broken=False)
    clip = hf_models["clip"]
    deepviz.build(images, root / "p", models=[f"hf:{clip}", f"hf:{clip}#pool=cls"], progress=False)
    return root / "p"


@pytest.fixture
def client(clip_project: Path, tmp_path: Path) -> Iterator[TestClient]:
    with local_client(create_app(clip_project, ServeSettings(), uploads_dir=tmp_path / "uploads")) as c:
        yield c


def _text_embedding(folder: Path, text: str) -> np.ndarray:
    """The unit text embedding, straight from transformers (no deepviz code)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(folder).eval()
    tokens = AutoTokenizer.from_pretrained(folder)([text], padding=True, return_tensors="pt")
    with torch.no_grad():
        v = model.text_projection(model.text_model(**tokens).pooler_output)[0].numpy().astype(np.float64)
    return v / np.linalg.norm(v)


def test_only_the_shared_embedding_offers_text(client: TestClient, hf_models: dict[str, Path]) -> None:
    info = client.get("/api/project").json()
    clip = f"hf:{hf_models['clip']}"
    assert info["feature_sets"] == [clip, f"{clip}#pool=cls"] and info["text_feature_sets"] == [clip]


def test_a_text_query_ranks_every_image_by_its_text_embedding(client: TestClient, clip_project: Path, hf_models: dict[str, Path]) -> None:
    r = client.post("/api/queries/text", json={"text": "a red square"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["query"].startswith("u") and answer["feature_set"] == f"hf:{hf_models['clip']}"
    project = deepviz.open_project(clip_project)
    expected = np.asarray(project.features(), np.float64) @ _text_embedding(hf_models["clip"], "a red square")
    ranking = client.get(f"/api/rank/upload/{answer['query']}")
    ids, sims = parse_ranking(ranking.content, project.n)
    np.testing.assert_allclose(sims, expected[ids], atol=2e-3)
    assert (np.diff(sims) <= 0).all() and sorted(ids.tolist()) == list(range(project.n))
    # Its thumbnail is the text, drawn; the same text is the same query.
    thumb = Image.open(io.BytesIO(client.get(f"/api/queries/{answer['query']}/thumb").content))
    assert thumb.size == (128, 128) and np.asarray(thumb).std() > 5
    assert client.post("/api/queries/text", json={"text": "a red square"}).json()["query"] == answer["query"]
    other = client.post("/api/queries/text", json={"text": "blue cat"}).json()["query"]
    assert other != answer["query"]


def test_a_text_query_in_a_saved_url_outlives_a_restart(clip_project: Path, tmp_path: Path) -> None:
    settings = ServeSettings()
    with local_client(create_app(clip_project, settings, uploads_dir=tmp_path / "u")) as first:
        key = first.post("/api/queries/text", json={"text": "green photo"}).json()["query"]
        before = first.get(f"/api/rank/upload/{key}").content
    with local_client(create_app(clip_project, settings, uploads_dir=tmp_path / "u")) as second:
        assert second.get(f"/api/rank/upload/{key}").content == before


def test_text_where_there_is_no_text_tower_or_no_text_says_why(client: TestClient, hf_models: dict[str, Path]) -> None:
    r = client.post("/api/queries/text", params={"features": f"hf:{hf_models['clip']}#pool=cls"}, json={"text": "a cat"})
    assert r.status_code == 409 and "no text tower" in r.json()["detail"] and "hf:openai/clip" in r.json()["detail"]
    assert client.post("/api/queries/text", json={"text": ""}).status_code == 422
    assert client.post("/api/queries/text", params={"features": "nope"}, json={"text": "a"}).status_code == 404
    lone = client.post("/api/queries/text", content=b'{"text": "a \\ud800"}', headers={"Content-Type": "application/json"})
    assert lone.status_code == 422 and "valid string" in lone.json()["detail"]  # pydantic refuses a lone surrogate
