"""Variational score distillation (VSD) with a LoRA regulariser UNet, OSEDiff's exact form.

Generator term (all teacher passes without gradients), on the predicted latent ẑ:
    t ~ U[20, 980), ε ~ N(0, I), z_t = √ᾱ_t ẑ + √(1−ᾱ_t) ε
    x0_update = x0(UNet+LoRA_reg(z_t, t, c⁺))
    x0_fix    = x0(UNet(z_t, t, c⁻) + 7.5·(UNet(z_t, t, c⁺) − UNet(z_t, t, c⁻)))   (frozen SD)
    w = mean|ẑ − x0_fix|  (per sample),  grad = (x0_update − x0_fix) / w
    L_VSD = MSE(ẑ, stopgrad(ẑ − grad))
Regulariser term (its own AdamW): ε-prediction MSE of UNet+LoRA_reg on
``add_noise(stopgrad(ẑ), ε, t ~ U[0, 1000))`` with the positive prompt.

Memory (our choice, same numbers): the frozen teacher is the regulariser's UNet with its LoRA
adapter *disabled*, instead of a second full copy as in OSEDiff.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from headsup_model.models.lora import add_lora, unet_targets

ADAPTER = "vsd_regulariser"


class VSDLoss(nn.Module):
    """Args: ``unet``: a fresh 4-channel base UNet (gets its own LoRA; base weights frozen);
    ``alphas_cumprod``: ``(1000,)`` from the DDPM scheduler; ``cfg_scale`` 7.5; ``t_range`` [20, 980)."""

    def __init__(self, *, unet: nn.Module, alphas_cumprod: torch.Tensor, lora_rank: int = 4,
                 cfg_scale: float = 7.5, t_range: tuple[int, int] = (20, 980), lora_seed: int = 0) -> None:
        super().__init__()
        lo, hi = t_range
        if not 0 <= lo < hi <= len(alphas_cumprod):
            raise ValueError(f"t_range: expected 0 <= lo < hi <= {len(alphas_cumprod)}, got {t_range}")
        self.unet = unet.requires_grad_(False)
        add_lora(self.unet, unet_targets(self.unet), rank=lora_rank, adapter_name=ADAPTER, seed=lora_seed)
        self.register_buffer("alphas_cumprod", alphas_cumprod.detach().float().clone(), persistent=False)
        self.cfg_scale, self.t_range = float(cfg_scale), (int(lo), int(hi))

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.unet.parameters() if p.requires_grad]

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in self.unet.named_parameters() if p.requires_grad}

    def _noisy(self, z: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod.to(z.device)[t].view(-1, 1, 1, 1).to(z.dtype)
        return a.sqrt() * z + (1 - a).sqrt() * noise

    def _x0(self, eps: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod.to(z_t.device)[t].view(-1, 1, 1, 1).to(z_t.dtype)
        return (z_t - (1 - a).sqrt() * eps) / a.sqrt()

    def generator_loss(self, z_hat: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                       generator: torch.Generator) -> torch.Tensor:
        """``z_hat``: ``(B, 4, h, w)`` predicted latent (with grad); prompts ``(B, L, D)``."""
        b = z_hat.shape[0]
        t = torch.randint(self.t_range[0], self.t_range[1], (b,), generator=generator).to(z_hat.device)
        noise = torch.randn(z_hat.shape, generator=generator).to(z_hat.device, z_hat.dtype)
        with torch.no_grad():
            z_t = self._noisy(z_hat.detach(), t, noise)
            x0_update = self._x0(self.unet(z_t, t, encoder_hidden_states=positive).sample, z_t, t)
            self.unet.disable_adapters()
            try:
                eps = self.unet(torch.cat([z_t, z_t]), torch.cat([t, t]),
                                encoder_hidden_states=torch.cat([negative, positive])).sample
            finally:
                self.unet.enable_adapters()
            eps_neg, eps_pos = eps.chunk(2)
            x0_fix = self._x0(eps_neg + self.cfg_scale * (eps_pos - eps_neg), z_t, t)
            weight = (z_hat.detach() - x0_fix).abs().mean(dim=(1, 2, 3), keepdim=True)
            grad = torch.nan_to_num((x0_update - x0_fix) / weight)
        return F.mse_loss(z_hat.float(), (z_hat.detach() - grad).float())

    def regulariser_loss(self, z_hat: torch.Tensor, positive: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """ε-prediction loss training the regulariser's LoRA on the generator's (detached) latents."""
        z = z_hat.detach()
        b = z.shape[0]
        t = torch.randint(0, len(self.alphas_cumprod), (b,), generator=generator).to(z.device)
        noise = torch.randn(z.shape, generator=generator).to(z.device, z.dtype)
        pred = self.unet(self._noisy(z, t, noise), t, encoder_hidden_states=positive.detach()).sample
        return F.mse_loss(pred.float(), noise.float())
