"""Prompt embedding for the one-step SR UNet: a fixed prompt (default) or tags from a tagger.

OSEDiff conditions its UNet on CLIP text embeddings of image tags (RAM on the HQ target in
training, DAPE on the LQ input at test time). The RAM/DAPE weights cannot be fetched here, so
the default is a *fixed prompt* (paper leaves the HeadsUp prompt source open; we chose the
fixed prompt as default and keep a tagger hook). A tagger is any object with
``tags(image) -> str`` (``image``: ``(3, H, W) float32 in [0, 1]``); :class:`ImageClassifierTagger`
loads a user-supplied multi-label image classifier from a local transformers folder.
"""

from __future__ import annotations

import logging
import string
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

logger = logging.getLogger(__name__)

DEFAULT_PROMPT = "a high quality portrait photo, sharp face, detailed skin and hair"
# OSEDiff's negative prompt (used only inside the VSD classifier-free guidance).
DEFAULT_NEGATIVE_PROMPT = (
    "painting, oil painting, illustration, drawing, art, sketch, cartoon, CG Style, 3D render, "
    "unreal engine, blurring, dirty, messy, worst quality, low quality, frames, watermark, "
    "signature, jpeg artifacts, deformed, lowres, over-smooth"
)


class Tagger(Protocol):
    """Anything that turns an image into a comma-separated tag string."""

    def tags(self, image: torch.Tensor) -> str:
        """``image``: ``(3, H, W) float32 in [0, 1]`` → tags such as ``"woman, smile, hat"``."""
        ...


class ImageClassifierTagger:
    """Tags from a local multi-label transformers image classifier (e.g. a RAM-style tagger
    exported as ``AutoModelForImageClassification``). Loaded with ``local_files_only=True``.

    Args:
        model_path: folder with ``config.json``, weights and the image-processor config.
        threshold: sigmoid score above which a label becomes a tag.
        max_tags: keep at most this many tags (highest scores first).
    """

    def __init__(self, *, model_path: str | Path, threshold: float = 0.68, max_tags: int = 20) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold: expected a value in (0, 1), got {threshold}")
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"tagger model folder {path} does not exist; put a transformers image classifier "
                "there (config.json + weights + preprocessor_config.json) or use prompt.tagger=null"
            )
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForImageClassification.from_pretrained(path, local_files_only=True).eval()
        self.threshold = threshold
        self.max_tags = max_tags

    @torch.no_grad()
    def tags(self, image: torch.Tensor) -> str:
        pixels = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        inputs = self.processor(images=pixels, return_tensors="pt")
        scores = torch.sigmoid(self.model(**inputs).logits[0])
        order = scores.argsort(descending=True)[: self.max_tags]
        labels = self.model.config.id2label
        return ", ".join(labels[int(i)] for i in order if scores[i] > self.threshold)


def tiny_clip_tokenizer(max_length: int = 77):
    """A character-level CLIP tokenizer built offline (tests and tiny configs only).

    Vocabulary: the two CLIP special tokens plus ASCII letters, digits and punctuation, each
    with and without the ``</w>`` word-end marker; no merges. Real models load the SD-2.1
    tokenizer from disk instead.
    """
    from transformers import CLIPTokenizer

    symbols = string.ascii_lowercase + string.digits + string.punctuation
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in symbols:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


class PromptEncoder(nn.Module):
    """CLIP tokenizer + text encoder → prompt embeddings ``(B, L, D) float32`` (frozen).

    Args:
        tokenizer: a ``CLIPTokenizer`` (padding to ``model_max_length``).
        text_encoder: a ``CLIPTextModel``; its last hidden state is the embedding (as SD 2.1).
    """

    def __init__(self, *, tokenizer, text_encoder: nn.Module) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.text_encoder = text_encoder.requires_grad_(False).eval()

    @property
    def max_length(self) -> int:
        return int(self.tokenizer.model_max_length)

    @torch.no_grad()
    def forward(self, prompts: list[str]) -> torch.Tensor:
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise TypeError(f"prompts: expected a list of str, got {type(prompts).__name__}")
        ids = self.tokenizer(prompts, padding="max_length", max_length=self.max_length,
                             truncation=True, return_tensors="pt").input_ids
        device = next(self.text_encoder.parameters()).device
        return self.text_encoder(ids.to(device))[0].float()


def build_prompt(tagger: Tagger | None, image: torch.Tensor | None, user_prompt: str) -> str:
    """OSEDiff's prompt layout ``"{tags}, {user_prompt},"`` when a tagger is set, else ``user_prompt``."""
    if tagger is None or image is None:
        return user_prompt
    return f"{tagger.tags(image)}, {user_prompt},"
