"""Tiled inference of a fully convolutional SR network on large images.

Each ``tile x tile`` LQ tile is run with ``pad`` pixels of real context on every side (less at
the image border) and only the tile's own part of the output is kept. When ``pad`` covers the
network's receptive-field radius the result equals untiled inference up to float rounding;
for deep nets (RRDBNet's receptive field is larger than any practical pad) tiles differ from
untiled inference by a small amount concentrated at tile borders, as in Real-ESRGAN's CLI.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["tiled_forward"]


@torch.no_grad()
def tiled_forward(net: nn.Module, x: torch.Tensor, *, scale: int, tile: int, pad: int) -> torch.Tensor:
    """Run ``net`` on ``x`` ``(B, C, h, w)`` in tiles; returns ``(B, C_out, h*scale, w*scale)``.

    ``tile <= 0`` runs untiled. ``tile`` and ``pad`` are in LQ pixels.
    """
    if tile <= 0 or (x.shape[-2] <= tile and x.shape[-1] <= tile):
        return net(x)
    if pad < 0:
        raise ValueError(f"tile pad must be >= 0, got {pad}")
    b, _, h, w = x.shape
    if h == 0 or w == 0:
        raise ValueError(f"empty input of shape {tuple(x.shape)}")
    out = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            py0, px0 = max(0, y0 - pad), max(0, x0 - pad)
            py1, px1 = min(h, y1 + pad), min(w, x1 + pad)
            res = net(x[..., py0:py1, px0:px1])
            if out is None:
                out = res.new_empty((b, res.shape[1], h * scale, w * scale))
            oy, ox = (y0 - py0) * scale, (x0 - px0) * scale
            out[..., y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                res[..., oy:oy + (y1 - y0) * scale, ox:ox + (x1 - x0) * scale]
    return out
