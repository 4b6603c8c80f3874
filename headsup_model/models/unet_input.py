"""HeadsUp's widened UNet input: ``[z_LQ (4) | z_reference (4) | face mask (1)]``.

The paper concatenates the LQ latent, the reference-face latent and the face mask at the
denoiser input. The new ``conv_in`` input kernels are zero-initialised, so a freshly widened
UNet computes exactly what the 4-channel one did (HeadsUp starts as plain OSEDiff).

Reference placement (the paper leaves it open; our choice): the same-person reference face is
aligned to the FFHQ template from its own landmarks and warped *into the LQ frame onto the
target face* (the inverse of the target face's alignment), so the reference's eyes, nose and
mouth sit on top of the target's. A conv-concat input can only use information that is
spatially near, which a resized whole-canvas reference would not give. Outside the face the
reference canvas is 0 (mid-grey in ``[-1, 1]``), and its latent is multiplied by the mask.
A dropped or absent reference is an all-zero latent.
"""

from __future__ import annotations

import torch
from torch import nn

REFERENCE_CHANNELS = 4
MASK_CHANNELS = 1


def widen_conv_in(unet: nn.Module, extra_channels: int = REFERENCE_CHANNELS + MASK_CHANNELS) -> None:
    """Replace ``unet.conv_in`` (``C → N``) by a ``C + extra_channels → N`` conv whose first ``C``
    input kernels are the old ones and whose new kernels are zeros; updates ``unet.config``."""
    old = unet.conv_in
    if not isinstance(old, nn.Conv2d):
        raise TypeError(f"unet.conv_in: expected nn.Conv2d (widen before adding LoRA), got {type(old).__name__}")
    if extra_channels < 1:
        raise ValueError(f"extra_channels: expected >= 1, got {extra_channels}")
    new = nn.Conv2d(old.in_channels + extra_channels, old.out_channels, kernel_size=old.kernel_size,
                    stride=old.stride, padding=old.padding, bias=old.bias is not None,
                    dtype=old.weight.dtype, device=old.weight.device)
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, : old.in_channels] = old.weight
        if old.bias is not None:
            new.bias.copy_(old.bias)
    new.weight.requires_grad_(old.weight.requires_grad)
    unet.conv_in = new
    unet.register_to_config(in_channels=new.in_channels)


def pad_input_channels(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Zero-pad a conv kernel ``(N, C, k, k)`` to ``(N, in_channels, k, k)`` (loading a 4-channel
    OSEDiff ``conv_in`` or its LoRA ``A`` into a widened UNet)."""
    if weight.ndim != 4 or weight.shape[1] > in_channels:
        raise ValueError(f"weight: expected (N, C<= {in_channels}, k, k), got {tuple(weight.shape)}")
    out = weight.new_zeros((weight.shape[0], in_channels, *weight.shape[2:]))
    out[:, : weight.shape[1]] = weight
    return out


def headsup_unet_input(z_lq: torch.Tensor, z_ref: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor:
    """Stack the UNet input.

    Args:
        z_lq: ``(B, 4, h, w)`` scaled LQ latent.
        z_ref: ``(B, 4, h, w)`` scaled reference latent (already masked), or None (zeros).
        mask: ``(B, 1, h, w)`` face mask in ``[0, 1]`` at latent resolution, or None (zeros).
    Returns:
        ``(B, 9, h, w)`` in the dtype of ``z_lq``.
    """
    b, _, h, w = z_lq.shape
    if z_ref is None:
        z_ref = z_lq.new_zeros((b, REFERENCE_CHANNELS, h, w))
    if mask is None:
        mask = z_lq.new_zeros((b, MASK_CHANNELS, h, w))
    if z_ref.shape != (b, REFERENCE_CHANNELS, h, w):
        raise ValueError(f"z_ref: expected {(b, REFERENCE_CHANNELS, h, w)}, got {tuple(z_ref.shape)}")
    if mask.shape != (b, MASK_CHANNELS, h, w):
        raise ValueError(f"mask: expected {(b, MASK_CHANNELS, h, w)}, got {tuple(mask.shape)}")
    return torch.cat([z_lq, z_ref.to(z_lq.dtype), mask.to(z_lq.dtype)], dim=1)
