"""Tiny Hugging Face models with random weights, made from their configs and saved like a Hub download.

``save_pretrained`` writes what ``from_pretrained`` reads, so ``hf:FOLDER`` runs the same loading
code as ``hf:facebook/dinov2-small`` does after its download, with no network.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Nothing in the tests may reach the Hub; set before transformers (huggingface_hub) is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIZE = 32  # the processors' input side; 8 px patches give 16 tokens
VOCAB = ["[PAD]", "[UNK]", "a", "photo", "of", "red", "green", "blue", "square", "cat"]
_VISION = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
           "image_size": SIZE, "patch_size": 8}
_TEXT = {"vocab_size": len(VOCAB), "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 64, "max_position_embeddings": 16, "pad_token_id": 0}


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=words, pad_token="[PAD]", unk_token="[UNK]", model_max_length=16)


def save_dinov2(folder: Path) -> Path:
    """DINOv2 with the BitImageProcessor of the real one, scaled down: resize to 36, centre crop 32."""
    import torch
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    Dinov2Model(Dinov2Config(**_VISION)).save_pretrained(folder)
    BitImageProcessor(size={"shortest_edge": 36}, crop_size={"height": SIZE, "width": SIZE}).save_pretrained(folder)
    return folder


def save_clip(folder: Path) -> Path:
    """CLIP with its text tower (a word-level tokenizer over VOCAB) and a 24-d shared embedding."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(1)
    config = CLIPConfig(text_config={**_TEXT, "eos_token_id": 1, "bos_token_id": 1}, vision_config=_VISION, projection_dim=24)
    CLIPModel(config).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE}).save_pretrained(folder)
    _tokenizer().save_pretrained(folder)
    return folder


def save_siglip(folder: Path) -> Path:
    """SigLIP (no class token; attention-pooling head) with its text tower."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    torch.manual_seed(2)
    SiglipModel(SiglipConfig(text_config=_TEXT, vision_config=_VISION)).save_pretrained(folder)
    SiglipImageProcessor(size={"height": SIZE, "width": SIZE}).save_pretrained(folder)
    _tokenizer().save_pretrained(folder)
    return folder


SAVERS = {"dinov2": save_dinov2, "clip": save_clip, "siglip": save_siglip}
