"""Colour correction of the SR output towards the (upscaled) LQ input.

One-step diffusion SR can shift global colour; OSEDiff corrects it with AdaIN (default) or a
wavelet fix (keep the SR high frequencies, take the LQ low frequencies). Both are written
here from their definitions.

Images: ``(B, 3, H, W)`` float, any range (statistics are range-agnostic).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def adain_color_fix(sr: torch.Tensor, reference: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Match per-channel mean and std of ``sr`` to ``reference`` (same shape)."""
    if sr.shape != reference.shape:
        raise ValueError(f"sr {tuple(sr.shape)} and reference {tuple(reference.shape)} must match")
    s_mean, s_std = sr.mean(dim=(2, 3), keepdim=True), sr.std(dim=(2, 3), keepdim=True)
    r_mean, r_std = reference.mean(dim=(2, 3), keepdim=True), reference.std(dim=(2, 3), keepdim=True)
    return (sr - s_mean) / (s_std + eps) * r_std + r_mean


def _blur(x: torch.Tensor, dilation: int) -> torch.Tensor:
    """Dilated 3×3 binomial ('à trous') blur per channel with replicate padding."""
    k = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=x.dtype, device=x.device) / 16
    k = k.expand(x.shape[1], 1, 3, 3)
    pad = F.pad(x, (dilation,) * 4, mode="replicate")
    return F.conv2d(pad, k, dilation=dilation, groups=x.shape[1])


def wavelet_decompose(x: torch.Tensor, levels: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``x`` into (high frequencies, low frequencies) with an à-trous wavelet of ``levels``."""
    low = x
    high = torch.zeros_like(x)
    for i in range(levels):
        blurred = _blur(low, 2**i)
        high = high + (low - blurred)
        low = blurred
    return high, low


def wavelet_color_fix(sr: torch.Tensor, reference: torch.Tensor, levels: int = 5) -> torch.Tensor:
    """High frequencies of ``sr`` + low frequencies of ``reference`` (same shape)."""
    if sr.shape != reference.shape:
        raise ValueError(f"sr {tuple(sr.shape)} and reference {tuple(reference.shape)} must match")
    high, _ = wavelet_decompose(sr, levels)
    _, low = wavelet_decompose(reference, levels)
    return high + low


def color_fix(sr: torch.Tensor, reference: torch.Tensor, method: str) -> torch.Tensor:
    """Dispatch on ``method`` in ``{"adain", "wavelet", "none"}``."""
    if method == "adain":
        return adain_color_fix(sr, reference)
    if method == "wavelet":
        return wavelet_color_fix(sr, reference)
    if method == "none":
        return sr
    raise ValueError(f"color fix method: expected 'adain', 'wavelet' or 'none', got {method!r}")
