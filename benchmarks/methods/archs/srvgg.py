"""SRVGGNetCompact (Real-ESRGAN's compact net, e.g. ``realesr-general-x4v3``).

A plain stack of 3x3 convs with PReLU, a pixel shuffle, and a nearest-upsampled input added
as the base. Parameter names (``body.<i>.weight``; PReLU ``body.<i>.weight`` of shape
``(num_feat,)``) match the official checkpoints.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SRVGGNetCompact"]


class SRVGGNetCompact(nn.Module):
    """Compact SR net.

    Args:
        num_in_ch / num_out_ch: image channels (3).
        num_feat: width (64 in x4v3).
        num_conv: hidden convs (32 in x4v3, 16 in the anime video model).
        upscale: output scale (4).
        act_type: ``prelu`` (official), ``relu`` or ``leakyrelu``.

    ``forward``: ``(B, 3, h, w) float32 in [0, 1]`` -> ``(B, 3, h*upscale, w*upscale)``.
    """

    def __init__(self, *, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_conv: int = 32,
                 upscale: int = 4, act_type: str = "prelu") -> None:
        super().__init__()
        if act_type not in ("prelu", "relu", "leakyrelu"):
            raise ValueError(f"act_type must be prelu, relu or leakyrelu, got {act_type!r}")
        self.upscale = upscale

        def act() -> nn.Module:
            if act_type == "prelu":
                return nn.PReLU(num_parameters=num_feat)
            return nn.ReLU(inplace=True) if act_type == "relu" else nn.LeakyReLU(0.1, inplace=True)

        layers: list[nn.Module] = [nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), act()]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), act()]
        layers.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.body = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        out = F.pixel_shuffle(out, self.upscale)
        return out + F.interpolate(x, scale_factor=self.upscale, mode="nearest")
