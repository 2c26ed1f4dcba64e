"""A build with an hf: model by name: the pipeline hands the processor its squares, and the project stores them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import deepviz
from deepviz.images.decode import resize_square
from tests.conftest import make_folder


def test_build_with_an_hf_model_stores_its_features(hf_models: dict[str, Path], tmp_path: Path) -> None:
    images = make_folder(tmp_path / "images", per_class=3, with_broken=False)
    name = f"hf:{hf_models['dinov2']}#pool=mean"
    report = deepviz.build(images, tmp_path / "p", models=[name], progress=False)
    p = deepviz.open_project(tmp_path / "p")
    assert report.feature_sets == [name] and p.feature_info(name).dim == 32 and p.n == 9
    extractor = deepviz.get_extractor(name)
    decode_at = p.manifest.thumbnails.decode_size
    crop = resize_square(deepviz.decode_crop(images / p.images.at[4, "path"], decode_at).crop, extractor.input_size)
    expected = extractor.embed(crop[None])[0]
    np.testing.assert_allclose(p.features(name)[4].astype(np.float32), expected / np.linalg.norm(expected), atol=2e-3)
