"""The HeadsUp generator: OSEDiff's one-step latent SR + reference-face and face-mask inputs.

``x̂ = clamp(D(ẑ_H / s), -1, 1)``, ``ẑ_H = (z_L − √(1−ᾱ_t)·ε̂) / √ᾱ_t`` at ``t = 999``,
``ε̂ = UNet([z_L | z_ref | m], t, c)``, ``z_L = s·E_lora(x_LQ)`` (``s`` = VAE scaling factor).

With ``use_reference=False`` it is plain OSEDiff (4-channel ``conv_in``).

Choices the papers leave open, and what we chose:
- ``z_L`` is the VAE posterior *mean* (OSEDiff samples the posterior). The SD VAE posterior
  std is tiny, and the mean keeps inference deterministic and training exactly resumable.
- Reference placement: see :mod:`headsup_model.models.unet_input`.
- Prompt: fixed prompt by default (see :mod:`headsup_model.models.text`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from headsup_model.models.components import SDComponents
from headsup_model.models.lora import add_lora, unet_targets, vae_encoder_targets
from headsup_model.models.unet_input import MASK_CHANNELS, REFERENCE_CHANNELS, headsup_unet_input, widen_conv_in

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadsUpConfig:
    """What defines the trained part of a HeadsUp model (saved next to its weights)."""

    lora_rank: int = 4
    use_reference: bool = True
    timestep: int = 999

    def __post_init__(self) -> None:
        if not isinstance(self.lora_rank, int) or self.lora_rank < 1:
            raise ValueError(f"lora_rank: expected an int >= 1, got {self.lora_rank!r}")
        if not isinstance(self.timestep, int) or not 0 <= self.timestep < 1000:
            raise ValueError(f"timestep: expected an int in [0, 1000), got {self.timestep!r}")


@dataclass
class HeadsUpOutput:
    """``image``: ``(B, 3, H, W)`` float32 in ``[-1, 1]``; ``latent``: ``(B, 4, H/8, W/8)`` (ẑ_H, scaled)."""

    image: torch.Tensor
    latent: torch.Tensor


class HeadsUpModel(nn.Module):
    """One-step SR generator. Only LoRA weights, the (widened) ``conv_in`` are trainable.

    Args:
        components: base parts (UNet, VAE, scheduler, prompt encoder); the UNet and VAE are
            modified in place (LoRA, widened ``conv_in``), so pass fresh ones.
        config: rank, reference inputs on/off, timestep.
        lora_seed: seed of the LoRA ``A`` initialisation (``B`` starts at zero).
    """

    def __init__(self, *, components: SDComponents, config: HeadsUpConfig = HeadsUpConfig(),
                 lora_seed: int = 0) -> None:
        super().__init__()
        self.config = config
        self.unet = components.unet
        self.vae = components.vae
        self.scheduler = components.scheduler
        self.base_source = components.source
        self.unet.requires_grad_(False)
        self.vae.requires_grad_(False)
        if config.use_reference:
            widen_conv_in(self.unet, REFERENCE_CHANNELS + MASK_CHANNELS)
        self.vae_lora_targets = vae_encoder_targets(self.vae)
        self.unet_lora_targets = unet_targets(self.unet)
        add_lora(self.vae, self.vae_lora_targets, rank=config.lora_rank, seed=lora_seed)
        add_lora(self.unet, self.unet_lora_targets, rank=config.lora_rank, seed=lora_seed + 1)
        # OSEDiff trains conv_in in full (on top of its LoRA); peft wraps it, the base layer stays.
        for p in self._conv_in_base().parameters():
            p.requires_grad_(True)
        alphas = components.scheduler.alphas_cumprod.to(torch.float32)
        self.register_buffer("alphas_cumprod", alphas, persistent=False)
        self.scaling_factor = float(self.vae.config.scaling_factor)
        logger.info("HeadsUp model: %d VAE-encoder and %d UNet LoRA targets, %.2fM trainable parameters",
                    len(self.vae_lora_targets), len(self.unet_lora_targets), self.num_trainable() / 1e6)

    def _conv_in_base(self) -> nn.Conv2d:
        conv_in = self.unet.conv_in
        return conv_in.base_layer if hasattr(conv_in, "base_layer") else conv_in

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Every trainable tensor by its module-path name (what a checkpoint holds)."""
        return {n: p.detach() for n, p in self.named_parameters() if p.requires_grad}

    # --- the three steps --------------------------------------------------------------------
    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in ``[-1, 1]`` (H, W multiples of 8) → scaled latent ``(B, 4, H/8, W/8)``."""
        return self.vae.encode(image).latent_dist.mode() * self.scaling_factor

    def denoise(self, z_lq: torch.Tensor, prompt_embeds: torch.Tensor, z_ref: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """One UNet step at ``config.timestep`` on ``(B, 4, h, w)`` latents → ẑ_H ``(B, 4, h, w)``.

        ``z_ref``/``mask`` (``(B, 4|1, h, w)``) are ignored-as-zeros when None and must be None
        for a model built with ``use_reference=False``.
        """
        if self.config.use_reference:
            unet_in = headsup_unet_input(z_lq, z_ref, mask)
        elif z_ref is not None or mask is not None:
            raise ValueError("this model was built with use_reference=False: pass z_ref=None, mask=None")
        else:
            unet_in = z_lq
        b = z_lq.shape[0]
        t = torch.full((b,), self.config.timestep, device=z_lq.device, dtype=torch.long)
        eps = self.unet(unet_in, t, encoder_hidden_states=prompt_embeds.to(z_lq.dtype)).sample
        alpha_bar = self.alphas_cumprod[self.config.timestep].to(device=z_lq.device)
        return (z_lq - (1 - alpha_bar).sqrt() * eps.to(z_lq.dtype)) / alpha_bar.sqrt()

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """Scaled latent ``(B, 4, h, w)`` → image ``(B, 3, 8h, 8w)`` clamped to ``[-1, 1]`` (frozen decoder)."""
        return self.vae.decode(latent / self.scaling_factor).sample.clamp(-1, 1)

    def reference_latent(self, reference_canvas: torch.Tensor, mask_latent: torch.Tensor,
                         present: torch.Tensor | None = None) -> torch.Tensor:
        """Reference canvas ``(B, 3, H, W)`` in ``[-1, 1]`` (0 outside the face) → masked latent.

        ``present``: ``(B,)`` bool; rows with False (dropped/absent reference) become zeros.
        """
        z = self.encode(reference_canvas) * mask_latent
        if present is not None:
            z = z * present.to(z.dtype).view(-1, 1, 1, 1)
        return z

    def forward(self, lq: torch.Tensor, prompt_embeds: torch.Tensor, *, reference_canvas: torch.Tensor | None = None,
                face_mask: torch.Tensor | None = None, reference_present: torch.Tensor | None = None) -> HeadsUpOutput:
        """Full one-step SR at the input size.

        Args:
            lq: ``(B, 3, H, W)`` float in ``[-1, 1]``, already resized to the output size
                (H, W multiples of 8).
            prompt_embeds: ``(B, L, D)`` text embeddings.
            reference_canvas: ``(B, 3, H, W)`` in ``[-1, 1]``, the reference face warped onto the
                target face (0 elsewhere), or None.
            face_mask: ``(B, 1, H, W)`` in ``[0, 1]`` at image resolution, or None.
            reference_present: ``(B,)`` bool, False where the reference is dropped or absent.
        """
        if lq.ndim != 4 or lq.shape[1] != 3 or lq.shape[-1] % 8 or lq.shape[-2] % 8:
            raise ValueError(f"lq: expected (B, 3, H, W) with H, W multiples of 8, got {tuple(lq.shape)}")
        z_lq = self.encode(lq)
        z_ref = mask_lat = None
        if self.config.use_reference:
            if face_mask is not None:
                mask_lat = nn.functional.interpolate(face_mask.to(z_lq.dtype), size=z_lq.shape[-2:], mode="area")
            if reference_canvas is not None:
                if mask_lat is None:
                    raise ValueError("reference_canvas given without face_mask: the mask says where the face is")
                z_ref = self.reference_latent(reference_canvas.to(lq.dtype), mask_lat, reference_present)
        latent = self.denoise(z_lq, prompt_embeds, z_ref, mask_lat)
        return HeadsUpOutput(image=self.decode(latent), latent=latent)
