"""Overlapping-tile application of a spatial function, for 4K inference in bounded memory.

:func:`tiled_apply` runs ``fn`` on overlapping tiles of ``x`` and blends the outputs with
per-tile weights normalised by their sum, so any *pointwise* ``fn`` gives exactly the untiled
result, and a function with a finite receptive field differs only near tile borders.
The same routine serves the latent UNet (Gaussian weights, OSEDiff: tile 96, overlap 32
latents) and the VAE encoder/decoder (``scale`` 1/8 and 8; OSEDiff's tiled VAE uses encoder
tiles of 1024 px and decoder tiles of 224 latents). When one tile covers the input, ``fn`` is
called once on the whole input.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from tqdm.auto import tqdm


def tile_starts(size: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering ``[0, size)`` with at least ``overlap``
    shared pixels between neighbours; the last tile ends exactly at ``size``. Starts are
    multiples of ``align`` (8 for the VAE encoder, so every tile maps onto whole latents) when
    ``size`` and ``tile`` are."""
    if tile <= 0 or overlap < 0 or overlap >= tile:
        raise ValueError(f"expected tile > overlap >= 0, got tile={tile}, overlap={overlap}")
    if size <= tile:
        return [0]
    stride = tile - overlap
    if align < 1 or stride < 2 * align - 1:
        raise ValueError(f"align: expected 1 <= align and tile - overlap >= 2*align - 1, got align={align}, "
                         f"tile={tile}, overlap={overlap}")
    n = math.ceil((size - tile) / stride) + 1
    # spread the tiles evenly so every overlap is >= the requested one (flooring to `align`
    # only moves inner tiles left, which keeps the overlap with the right neighbour >= stride gap)
    starts = [(i * (size - tile) // (n - 1)) // align * align for i in range(n - 1)] + [size - tile]
    while any(b - a > stride for a, b in zip(starts, starts[1:])):
        n += 1
        starts = [(i * (size - tile) // (n - 1)) // align * align for i in range(n - 1)] + [size - tile]
    return starts


def gaussian_weights(height: int, width: int, *, sigma_frac: float = 0.3, device=None,
                     dtype=torch.float32) -> torch.Tensor:
    """``(1, 1, height, width)`` Gaussian bump, std = ``sigma_frac`` of each side (peak 1).

    Positive everywhere, so every output pixel gets a non-zero total weight."""
    def bump(n: int) -> torch.Tensor:
        x = torch.arange(n, device=device, dtype=torch.float64) - (n - 1) / 2
        return torch.exp(-0.5 * (x / (sigma_frac * n)) ** 2)

    return (bump(height)[:, None] * bump(width)[None, :]).to(dtype)[None, None]


def tiled_apply(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, tile: int, overlap: int,
                scale: float = 1.0, out_channels: int | None = None, progress: bool = False,
                desc: str = "tiles", align: int = 1) -> torch.Tensor:
    """Apply ``fn`` to overlapping ``tile × tile`` windows of ``x`` and blend.

    Args:
        fn: maps ``(B, C, t, t)`` (or smaller at the border) to ``(B, C', t·scale, t·scale)``.
        x: ``(B, C, H, W)``.
        tile, overlap: window side and minimum overlap, in pixels of ``x``.
        scale: output/input size ratio (1/8 for the VAE encoder, 8 for the decoder).
        out_channels: ``C'``; found from the first tile when None.
        align: tile starts are multiples of this (8 when ``scale`` is 1/8).
    Returns:
        ``(B, C', H·scale, W·scale)`` in the dtype of ``fn``'s output.
    """
    b, _, h, w = x.shape
    if h <= tile and w <= tile:
        return fn(x)
    ys, xs = tile_starts(h, tile, overlap, align), tile_starts(w, tile, overlap, align)
    out = norm = None
    bar = tqdm(total=len(ys) * len(xs), desc=desc, disable=not progress, leave=False)
    for y0 in ys:
        for x0 in xs:
            patch = x[:, :, y0:y0 + tile, x0:x0 + tile]
            res = fn(patch)
            oh, ow = res.shape[-2:]
            oy, ox = round(y0 * scale), round(x0 * scale)
            if out is None:
                c = out_channels or res.shape[1]
                out = res.new_zeros((b, c, round(h * scale), round(w * scale)), dtype=torch.float32)
                norm = res.new_zeros((1, 1, out.shape[-2], out.shape[-1]), dtype=torch.float32)
            wgt = gaussian_weights(oh, ow, device=res.device)
            out[:, :, oy:oy + oh, ox:ox + ow] += res.float() * wgt
            norm[:, :, oy:oy + oh, ox:ox + ow] += wgt
            bar.update(1)
    bar.close()
    return (out / norm).to(res.dtype)
