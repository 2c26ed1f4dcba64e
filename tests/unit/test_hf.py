"""hf: models per family (DINOv2, CLIP with its text tower, SigLIP), tiny and random, loaded by the registry
name from a save_pretrained folder: the same from_pretrained path a Hub id takes after its download."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deepviz.errors import MissingDependency, UsageError
from deepviz.features.hf import HFExtractor, parse_name
from deepviz.features.registry import available_extractors, get_extractor, missing_packages

torch = pytest.importorskip("torch")


def _crops(n: int, size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _reference(folder: Path, crops: np.ndarray) -> tuple[Any, Any]:
    """The model and its processor's pixels, straight from transformers (no deepviz code)."""
    from transformers import AutoImageProcessor, AutoModel

    model = AutoModel.from_pretrained(folder).eval()
    pixels = AutoImageProcessor.from_pretrained(folder)(images=list(crops), return_tensors="pt")["pixel_values"]
    return model, pixels


def _close(actual: np.ndarray, expected: Any) -> None:
    np.testing.assert_allclose(actual, expected.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_dinov2_pools_the_class_token_by_default_and_any_layer_on_request(hf_models: dict[str, Path]) -> None:
    folder = hf_models["dinov2"]
    extractor = get_extractor(f"hf:{folder}")
    assert isinstance(extractor, HFExtractor) and extractor.name == f"hf:{folder}"
    # The processor resizes to 36 and crops 32: the pipeline hands over 36 px squares.
    assert extractor.input_size == 36 and extractor.dim == 32 and not extractor.supports_text
    crops = _crops(3, 36)
    model, pixels = _reference(folder, crops)
    with torch.no_grad():
        out = model(pixel_values=pixels, output_hidden_states=True)
    assert pixels.shape == (3, 3, 32, 32)
    _close(extractor.embed(crops), out.last_hidden_state[:, 0])
    _close(get_extractor(f"hf:{folder}#pool=mean").embed(crops), out.last_hidden_state[:, 1:].mean(dim=1))
    _close(get_extractor(f"hf:{folder}#pool=pooler").embed(crops), out.pooler_output)
    layer1 = get_extractor(f"hf:{folder}", layer=1, pool="mean")
    assert layer1.name == f"hf:{folder}#layer=1,pool=mean"  # the manifest rebuilds the same choice
    _close(layer1.embed(crops), out.hidden_states[1][:, 1:].mean(dim=1))
    _close(get_extractor(layer1.name).embed(crops), out.hidden_states[1][:, 1:].mean(dim=1))


def test_clip_embeds_images_and_text_in_one_space(hf_models: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    folder = hf_models["clip"]
    extractor = get_extractor(f"hf:{folder}")
    assert isinstance(extractor, HFExtractor) and extractor.pool == "embed" and extractor.supports_text
    assert extractor.input_size == 32 and extractor.dim == 24  # the projection, not the 32-d tower
    crops = _crops(2, 32)
    model, pixels = _reference(folder, crops)
    texts = ["a photo of a red square", "blue cat"]
    tokens = AutoTokenizer.from_pretrained(folder)(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        _close(extractor.embed(crops), model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output))
        text = model.text_projection(model.text_model(**tokens).pooler_output)
    _close(extractor.embed_text(texts), text)
    assert extractor.embed_text(["blue cat"]).shape == (1, 24)
    # The vision tower's own features are not in the text's space: no text queries for them.
    cls = get_extractor(f"hf:{folder}#pool=cls")
    assert cls.dim == 32 and not cls.supports_text
    with pytest.raises(UsageError, match="text queries need pool=embed"):
        cls.embed_text(["a cat"])


def test_siglip_has_no_class_token_and_pads_text_to_its_full_length(hf_models: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    folder = hf_models["siglip"]
    extractor = get_extractor(f"hf:{folder}")
    assert extractor.supports_text and extractor.dim == 32
    crops = _crops(2, 32, seed=3)
    model, pixels = _reference(folder, crops)
    tokens = AutoTokenizer.from_pretrained(folder)(["a red square"], padding="max_length", return_tensors="pt")
    assert tokens["input_ids"].shape == (1, 16)
    with torch.no_grad():
        _close(extractor.embed(crops), model.vision_model(pixel_values=pixels).pooler_output)
        _close(extractor.embed_text(["a red square"]), model.text_model(input_ids=tokens["input_ids"]).pooler_output)
        mean = model.vision_model(pixel_values=pixels).last_hidden_state.mean(dim=1)
    _close(get_extractor(f"hf:{folder}#pool=mean").embed(crops), mean)  # every token: none is a class token
    with pytest.raises(UsageError, match="no class token"):
        get_extractor(f"hf:{folder}#pool=cls")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("hf:m#pool=max", "unknown pooling 'max'; valid: cls, mean, pooler, embed"),
        ("hf:m#size=3", "unknown hf option 'size=3'"),
        ("hf:m#layer=last", "layer must be an integer"),
        ("hf:m#layer=2,pool=embed", "pool=embed exists only after the last layer"),
        ("hf:#pool=cls", "hf: needs a model"),
    ],
)
def test_bad_options_say_what_is_valid(name: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_extractor(name)


def test_options_that_do_not_fit_the_model_are_refused(hf_models: dict[str, Path]) -> None:
    with pytest.raises(UsageError, match="pool=embed needs a model with a text tower"):
        get_extractor(f"hf:{hf_models['dinov2']}#pool=embed")


def test_a_layer_out_of_range_names_the_valid_ones(hf_models: dict[str, Path]) -> None:
    with pytest.raises(UsageError, match=r"layer=9 is out of range: this model has hidden states 0\.\.2"):
        get_extractor(f"hf:{hf_models['dinov2']}#layer=9")


def test_the_names_are_listed_and_a_missing_transformers_names_its_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"hf:facebook/dinov2-small", "hf:openai/clip-vit-base-patch32", "hf:google/siglip-base-patch16-224"} <= set(
        available_extractors()
    )
    assert parse_name("facebook/dinov2-small#pool=mean").name == "hf:facebook/dinov2-small#pool=mean"
    assert missing_packages("hf:facebook/dinov2-small") == []  # the tests' install has torch and transformers
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependency, match="pip install transformers"):
        get_extractor("hf:facebook/dinov2-small")


def test_gpu_path_gives_the_cpu_features(hf_models: dict[str, Path]) -> None:
    if not torch.cuda.is_available():
        pytest.skip(f"no CUDA GPU visible to torch {torch.__version__}: the hf models' GPU path was not run here")
    crops = _crops(4, 32)  # pragma: no cover - runs on a GPU machine
    for family in ("clip", "siglip"):  # pragma: no cover
        cpu = get_extractor(f"hf:{hf_models[family]}")
        gpu = get_extractor(f"hf:{hf_models[family]}", device="cuda")
        np.testing.assert_allclose(gpu.embed(crops), cpu.embed(crops), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(gpu.embed_text(["a red cat"]), cpu.embed_text(["a red cat"]), rtol=1e-3, atol=1e-4)


def test_a_convolutional_model_pools_its_feature_map(tmp_path: Path) -> None:
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetModel

    torch.manual_seed(3)
    ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1])).save_pretrained(tmp_path)
    ConvNextImageProcessor(size={"shortest_edge": 32}).save_pretrained(tmp_path)
    extractor = get_extractor(f"hf:{tmp_path}")  # no class token: the spatial mean by default
    crops = _crops(2, 32, seed=4)
    model, pixels = _reference(tmp_path, crops)
    with torch.no_grad():
        out = model(pixel_values=pixels)
    assert extractor.dim == 16 and out.last_hidden_state.ndim == 4
    _close(extractor.embed(crops), out.last_hidden_state.mean(dim=(2, 3)))
    _close(get_extractor(f"hf:{tmp_path}#pool=pooler").embed(crops), out.pooler_output.flatten(1))
    with pytest.raises(UsageError, match="no class token"):
        get_extractor(f"hf:{tmp_path}#pool=cls")
