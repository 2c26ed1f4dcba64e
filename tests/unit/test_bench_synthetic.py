"""The benchmarks' synthetic projects are real projects: they open, rank and serve thumbnails."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

import deepviz
from bench.synthetic import write_synthetic_project


def test_a_synthetic_project_opens_like_a_built_one(tmp_path: Path) -> None:
    root = write_synthetic_project(tmp_path / "with-thumbs", 300, 16, thumbs=True)
    p = deepviz.open_project(root)
    assert p.n == 300 and p.features().shape == (300, 16) and p.colors.shape == (300, 3)
    assert np.allclose(np.linalg.norm(np.asarray(p.features(), np.float32), axis=1), 1, atol=1e-2)
    assert Image.open(io.BytesIO(p.thumbnail(299, 64))).size == (64, 64)
    bare = deepviz.open_project(write_synthetic_project(tmp_path / "bare", 50, 8))
    assert bare.thumbnail_sizes == (32,) and bare.thumbnail(0, 32) == b""
