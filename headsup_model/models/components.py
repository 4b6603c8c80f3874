"""The frozen Stable-Diffusion-2.1-base-shaped parts HeadsUp starts from.

Two ways to get them (one Hydra file each in ``conf/model/``):

- :func:`load_pretrained`: UNet, VAE, CLIP text encoder + tokenizer and DDPM scheduler from a
  local diffusers folder or the HF cache (``stabilityai/stable-diffusion-2-1-base``), always
  ``local_files_only=True``; a missing model raises :class:`MissingBaseModelError` naming what
  to download.
- :func:`build_random`: the same classes built from config with random weights (tiny ones for
  tests and smoke runs, full-size ones for speed measurements).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from headsup_model.models.text import PromptEncoder, tiny_clip_tokenizer

logger = logging.getLogger(__name__)

SD21_BASE = "stabilityai/stable-diffusion-2-1-base"


class MissingBaseModelError(FileNotFoundError):
    """The base diffusion model is not on this machine."""


@dataclass
class SDComponents:
    """Base model parts. ``unet``: ``UNet2DConditionModel`` (4 latent channels in);
    ``vae``: ``AutoencoderKL``; ``scheduler``: ``DDPMScheduler``; ``prompt_encoder``: frozen CLIP."""

    unet: nn.Module
    vae: nn.Module
    scheduler: Any
    prompt_encoder: PromptEncoder
    source: str

    def __post_init__(self) -> None:
        in_ch = int(self.unet.config.in_channels)
        lat = int(self.vae.config.latent_channels)
        if in_ch != lat:
            raise ValueError(f"unet.in_channels ({in_ch}) must equal vae.latent_channels ({lat}) "
                             "for the base model; HeadsUp widens conv_in itself")
        text_dim = int(self.prompt_encoder.text_encoder.config.hidden_size)
        if int(self.unet.config.cross_attention_dim) != text_dim:
            raise ValueError(f"unet.cross_attention_dim ({self.unet.config.cross_attention_dim}) must "
                             f"equal the text encoder hidden size ({text_dim})")


def load_pretrained(*, source: str | Path = SD21_BASE, revision: str | None = None,
                    torch_dtype: str = "float32") -> SDComponents:
    """Load SD-2.1-base parts from ``source`` (a local diffusers folder or an HF repo id already
    in the HF cache). Never touches the network."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    dtype = getattr(torch, torch_dtype)
    kw: dict[str, Any] = {"local_files_only": True, "revision": revision}
    src = str(source)
    if src == SD21_BASE:
        # the weights registry knows its HF-cache snapshot and PORTRAITSR4K_HOME locations
        from portraitsr4k.weights import MissingWeightsError, resolve

        try:
            src = str(resolve("sd21_base"))
        except MissingWeightsError as exc:
            raise MissingBaseModelError(f"base diffusion model {SD21_BASE!r} is not on this machine: {exc}") from exc
    try:
        unet = UNet2DConditionModel.from_pretrained(src, subfolder="unet", torch_dtype=dtype, **kw)
        vae = AutoencoderKL.from_pretrained(src, subfolder="vae", torch_dtype=dtype, **kw)
        text_encoder = CLIPTextModel.from_pretrained(src, subfolder="text_encoder", dtype=dtype, **kw)
        tokenizer = CLIPTokenizer.from_pretrained(src, subfolder="tokenizer", **kw)
        scheduler = DDPMScheduler.from_pretrained(src, subfolder="scheduler", **kw)
    except (OSError, ValueError) as exc:
        raise MissingBaseModelError(
            f"base diffusion model {src!r} is not available offline ({type(exc).__name__}: {exc}). "
            f"Download it on a connected machine with `portraitsr4k-weights fetch sd21_base` or "
            f"`huggingface-cli download {SD21_BASE}` (HF cache), or point model.source at a local "
            "diffusers folder with unet/, vae/, text_encoder/, tokenizer/, scheduler/."
        ) from exc
    logger.info("loaded base model from %s", src)
    for part in (unet, vae, text_encoder):
        part.requires_grad_(False)
    return SDComponents(unet=unet, vae=vae, scheduler=scheduler,
                        prompt_encoder=PromptEncoder(tokenizer=tokenizer, text_encoder=text_encoder),
                        source=src)


def build_random(*, unet: dict[str, Any], vae: dict[str, Any], text_encoder: dict[str, Any],
                 scheduler: dict[str, Any] | None = None, seed: int = 0) -> SDComponents:
    """Build the base parts from config dicts with random weights (seeded, CPU).

    ``unet``/``vae``: keyword arguments of ``UNet2DConditionModel``/``AutoencoderKL``;
    ``text_encoder``: of ``CLIPTextConfig`` (the tokenizer is :func:`tiny_clip_tokenizer` with
    ``max_position_embeddings`` tokens); ``scheduler``: of ``DDPMScheduler`` (SD-2.1 defaults).
    """
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    def plain(d: Any) -> dict[str, Any]:
        out = dict(d)
        for k, v in out.items():
            if isinstance(v, list):
                out[k] = tuple(v)
        return out

    gen_state = torch.random.get_rng_state()
    # diffusers/transformers initialise from the global RNG; seed it for this build only and
    # restore it afterwards so callers' randomness is untouched.
    torch.manual_seed(seed)
    try:
        unet_m = UNet2DConditionModel(**plain(unet))
        vae_m = AutoencoderKL(**plain(vae))
        text_cfg = CLIPTextConfig(**dict(text_encoder))
        tokenizer = tiny_clip_tokenizer(max_length=text_cfg.max_position_embeddings)
        text_cfg.vocab_size = max(text_cfg.vocab_size, len(tokenizer))
        text_m = CLIPTextModel(text_cfg)
    finally:
        torch.random.set_rng_state(gen_state)
    sched = DDPMScheduler(**(dict(scheduler) if scheduler else _SD21_SCHEDULER))
    for part in (unet_m, vae_m, text_m):
        part.requires_grad_(False)
    return SDComponents(unet=unet_m, vae=vae_m, scheduler=sched,
                        prompt_encoder=PromptEncoder(tokenizer=tokenizer, text_encoder=text_m),
                        source=f"random(seed={seed})")


# SD-2.1-base scheduler_config.json values (scaled-linear betas, epsilon prediction).
_SD21_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "clip_sample": False,
    "steps_offset": 1,
}
