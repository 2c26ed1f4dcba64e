"""Hugging Face ``transformers`` image models by name (DINOv2, CLIP, SigLIP, ViT, ...), for users with internet.

Registry name: ``hf:MODEL[#OPTION,...]`` where MODEL is a Hub id (``facebook/dinov2-small``) or a
local folder written by ``save_pretrained``, and the options choose the feature:

``pool=cls``     the first (class) token of the chosen layer; DINOv2's and ViT's default
``pool=mean``    the mean of the patch tokens (class token left out); spatial mean for CNNs
``pool=pooler``  the model's ``pooler_output`` (CLIP: class token after the last layer norm; SigLIP: its
                 attention-pooling head)
``pool=embed``   the image embedding that shares a space with the text tower (CLIP's projection,
                 SigLIP's head); the default of CLIP-like models, and the one text queries need
``layer=K``      hidden state K (0 = patch embeddings, 1..L = after block k, negative from the end)
                 instead of the last layer's output; ``cls`` and ``mean`` only

Preprocessing is the model's own ``AutoImageProcessor``, applied to the project's centre square,
which the pipeline hands over at the processor's resize size (so a "resize 256, crop 224" model
sees exactly its evaluation transform of that square).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from deepviz.errors import MissingDependency, UsageError, pip_command
from deepviz.features.runtime import check_crops, require, resolve_device

if TYPE_CHECKING:
    import torch

__all__ = ["POOLS", "TEXT_FAMILIES", "HFExtractor", "HFOptions", "hf_extractor", "parse_name"]

POOLS = ("cls", "mean", "pooler", "embed")
# Model types whose checkpoint holds a text tower in the image embedding's space.
TEXT_FAMILIES = frozenset({"clip", "siglip", "siglip2"})
# Model types whose tokens carry no class token in front.
_NO_CLS = frozenset({"siglip", "siglip2"})


@dataclass(frozen=True)
class HFOptions:
    """What one ``hf:`` name selects: the model, the hidden state (None: the last layer's output) and the pooling."""

    model: str
    layer: int | None = None
    pool: str | None = None

    @property
    def name(self) -> str:
        """The registry name that rebuilds this choice (stored in the manifest)."""
        options = [f"layer={self.layer}"] if self.layer is not None else []
        options += [f"pool={self.pool}"] if self.pool is not None else []
        return f"hf:{self.model}" + (f"#{','.join(options)}" if options else "")


def parse_name(model: str, layer: int | None = None, pool: str | None = None) -> HFOptions:
    """``MODEL#layer=K,pool=P`` (the part after ``hf:``) plus keyword options -> HFOptions; bad options say why."""
    model_id, _, spec = model.partition("#")
    if not model_id:
        raise UsageError("hf: needs a model, e.g. hf:facebook/dinov2-small or hf:PATH/TO/SAVED/MODEL")
    for item in filter(None, spec.split(",")):
        key, sep, value = item.partition("=")
        if key == "layer" and sep:
            try:
                layer = int(value)
            except ValueError:
                raise UsageError(f"layer must be an integer (hidden-state index), got {value!r}") from None
        elif key == "pool" and sep:
            pool = value
        else:
            raise UsageError(f"unknown hf option {item!r}; valid: layer=K, pool={'|'.join(POOLS)}")
    if pool is not None and pool not in POOLS:
        raise UsageError(f"unknown pooling {pool!r}; valid: {', '.join(POOLS)}")
    if layer is not None and pool in ("pooler", "embed"):
        raise UsageError(f"pool={pool} exists only after the last layer; with layer={layer} use pool=cls or pool=mean")
    return HFOptions(model_id, layer, pool)


def _transformers() -> ModuleType:
    require("torch", pip_command("torch"))
    try:
        return importlib.import_module("transformers")
    except ImportError as error:
        raise MissingDependency(pip_command("transformers")) from error


def hf_extractor(
    model: str, layer: int | None = None, pool: str | None = None, intra_op_num_threads: int | None = None,
    device: str = "cpu", revision: str | None = None,
) -> HFExtractor:
    """Load ``model`` (the part of the registry name after ``hf:``) with ``from_pretrained`` and its processor.

    A Hub id is downloaded once into Hugging Face's cache (set ``HF_HUB_OFFLINE=1`` to forbid the
    network); a local folder is read as it is. ``revision`` pins a Hub commit or tag.
    """
    options = parse_name(model, layer, pool)
    transformers = _transformers()
    where = {"revision": revision} if revision else {}
    config = transformers.AutoConfig.from_pretrained(options.model, **where)
    net = transformers.AutoModel.from_pretrained(options.model, **where)
    processor = transformers.AutoImageProcessor.from_pretrained(options.model, **where)
    tokenizer = None
    if config.model_type in TEXT_FAMILIES:
        tokenizer = transformers.AutoTokenizer.from_pretrained(options.model, **where)
    return HFExtractor(options, net, processor, tokenizer, intra_op_num_threads, device)


def processor_input_size(processor: Any) -> int:
    """The side of the square the processor resizes to (before any centre crop of its own)."""
    size = getattr(processor, "size", None) or {}
    get = size.get if hasattr(size, "get") else lambda key: getattr(size, key, None)
    for key in ("shortest_edge", "height"):
        value = get(key)
        if value:
            return int(value)
    raise UsageError(f"cannot tell the input size of {type(processor).__name__} (size={size!r})")


class HFExtractor:
    """A transformers model, its image processor and (CLIP-like) tokenizer: (B, S, S, 3) uint8 -> (B, D) float32.

    ``net``, ``processor`` and ``tokenizer`` are what ``from_pretrained`` returns (untyped library objects).

    ``embed_text`` exists (``supports_text``) when the features are the embedding a text tower shares.
    """

    def __init__(
        self, options: HFOptions, net: Any, processor: Any, tokenizer: Any = None,
        intra_op_num_threads: int | None = None, device: str = "cpu",
    ) -> None:
        self.family = str(net.config.model_type)
        pool = options.pool or ("embed" if self.family in TEXT_FAMILIES else "mean" if self.family in _NO_CLS else "cls")
        if pool == "embed" and self.family not in TEXT_FAMILIES:
            raise UsageError(f"pool=embed needs a model with a text tower (CLIP, SigLIP); {self.family} has none: use cls, mean or pooler")
        if pool == "cls" and self.family in _NO_CLS:
            raise UsageError(f"{self.family} has no class token; use pool=mean, pooler or embed")
        self.options = HFOptions(options.model, options.layer, options.pool)
        self.pool = pool
        self.name = self.options.name
        self.device = resolve_device(device)
        self.net = net.eval().to(self.device)
        self.processor = processor
        self.tokenizer = tokenizer
        self.num_threads = intra_op_num_threads
        self.input_size = processor_input_size(processor)
        self.supports_text = pool == "embed" and tokenizer is not None
        # One dummy image tells D for any layer and pooling, without a per-architecture table.
        self.dim = int(self.embed(np.zeros((1, self.input_size, self.input_size, 3), np.uint8)).shape[1])

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 RGB centre squares -> (B, D) float32 features (not normalised)."""
        check_crops(crops, self.input_size)
        pixels = self.processor(images=list(crops), return_tensors="pt")["pixel_values"]
        return self._run(lambda: self._image_features(pixels.to(self.device)))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """(T,) strings -> (T, D) float32 text embeddings in the image features' space (not normalised)."""
        if not self.supports_text:
            raise UsageError(
                f"{self.name} gives image features with no text tower in their space; "
                "text queries need pool=embed on CLIP or SigLIP"
            )
        # SigLIP was trained on text padded to its full length, attending to the padding (its own
        # tokenizer returns no attention mask); CLIP pads to the longest text and masks the padding.
        siglip = self.family in _NO_CLS
        tokens = self.tokenizer(list(texts), padding="max_length" if siglip else True, truncation=True, return_tensors="pt")
        keys = ("input_ids",) if siglip else ("input_ids", "attention_mask")
        tokens = {k: v.to(self.device) for k, v in tokens.items() if k in keys}
        return self._run(lambda: _pooled(self.net.get_text_features(**tokens)))

    def _run(self, call: Callable[[], torch.Tensor]) -> np.ndarray:
        import torch

        # torch's thread count is process-wide; restore it so one extractor does not slow other torch code.
        previous = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(self.num_threads)
        try:
            with torch.inference_mode():
                out: np.ndarray = call().float().cpu().numpy()
        finally:
            torch.set_num_threads(previous)
        return out

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.pool == "embed":
            return _pooled(self.net.get_image_features(pixel_values=pixels))
        tower = self.net.vision_model if self.family in TEXT_FAMILIES else self.net
        out = tower(pixel_values=pixels, output_hidden_states=self.options.layer is not None)
        if self.pool == "pooler":
            if getattr(out, "pooler_output", None) is None:
                raise UsageError(f"{self.family} has no pooler output; use pool=cls or pool=mean")
            pooled: torch.Tensor = out.pooler_output
            return pooled.flatten(1)  # a CNN's is (B, C, 1, 1)
        tokens = out.last_hidden_state if self.options.layer is None else _hidden_state(out.hidden_states, self.options.layer)
        pool = "mean" if tokens.ndim == 4 and self.options.pool is None else self.pool  # a CNN's default: spatial mean
        return _pool_tokens(tokens, pool, has_cls=self.family not in _NO_CLS)


def _pooled(out: Any) -> torch.Tensor:
    """``get_*_features`` return a tensor in transformers 4 and an output whose ``pooler_output`` it is in 5."""
    tensor: torch.Tensor = out if hasattr(out, "ndim") else out.pooler_output
    return tensor


def _hidden_state(states: Sequence[torch.Tensor], layer: int) -> torch.Tensor:
    if not -len(states) <= layer < len(states):
        raise UsageError(f"layer={layer} is out of range: this model has hidden states 0..{len(states) - 1} (or -1..-{len(states)})")
    return states[layer]


def _pool_tokens(tokens: torch.Tensor, pool: str, has_cls: bool) -> torch.Tensor:
    """(B, T, C) tokens or (B, C, H, W) maps -> (B, C)."""
    if tokens.ndim == 4:  # a CNN's feature map
        if pool == "cls":
            raise UsageError("a convolutional model has no class token; use pool=mean or pool=pooler")
        return tokens.mean(dim=(2, 3))
    if pool == "cls":
        return tokens[:, 0]
    return (tokens[:, 1:] if has_cls else tokens).mean(dim=1)
