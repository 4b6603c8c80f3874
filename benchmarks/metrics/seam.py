"""Gradient-discontinuity score: extra edge energy an SR output has where the HR has none.

Blending pipelines paste a restored face back into a general SR output; a hard-edged paste
leaves a step along the paste boundary that the HR does not have. On the seam ring
(``benchmarks.regions``) this metric averages the excess luma gradient magnitude

    seam_grad = mean_{ring} max(0, |grad Y_sr| - |grad Y_hr|)

in grey levels per pixel (0..255 luma, Sobel 3x3 normalised by 8 so a one-level ramp per pixel
gives 1). Lower is better; 0 means no edges beyond the HR's.

With a mask, only tiles that hold masked pixels are filtered (each with a one-pixel halo from
the image, so every gradient equals the whole-image one): a seam ring covers a small part of
its bounding box, and the tiles run on the metric threads (``benchmarks.metrics.parallel``),
their sums added in tile order.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair
from benchmarks.metrics.parallel import ordered_map, resolve_threads
from benchmarks.metrics.pixel import luma255

__all__ = ["SeamGradient", "gradient_magnitude"]

_TILE = (64, 256)  # rows, columns of the masked tiles


def gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` -> ``(H, W) float64`` Sobel magnitude of BT.601 luma on 0..255.

    Borders replicate the edge pixels. The luma is the float64 nearest the exact value.
    """
    y = luma255(rgb, "ycbcr", rounded=False)
    gx = cv2.Sobel(y, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
    gy = cv2.Sobel(y, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
    return np.hypot(gx, gy)


class SeamGradient(Metric):
    """Excess gradient magnitude of SR over HR inside a mask (the seam ring); lower is better."""

    supports_mask = True

    def __init__(self, *, name: str = "seam_grad", regions: tuple[str, ...] | list[str] = ("seam",),
                 device: str = "cpu", threads: int | None = None) -> None:
        super().__init__(name=name, kind="fr", lower_better=True, score_range=(0.0, None),
                         regions=regions, device=device)
        self.threads = None if threads is None else resolve_threads(threads)

    def config(self) -> dict[str, Any]:
        return {"luma": "bt601", "gradient": "sobel3/8", "reduce": "mean relu(|g_sr|-|g_hr|)"}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        """``sr``/``hr`` ``(H, W, 3) uint8``; ``mask`` ``(H, W) bool`` (all pixels when ``None``)."""
        check_pair(sr, hr, mask)
        h, w = sr.shape[:2]
        if mask is None:
            mask = np.ones((h, w), bool)
        rows, cols = _TILE
        tiles = [(r0, c0) for r0 in range(0, h, rows) for c0 in range(0, w, cols)]

        def tile_sum(tile: tuple[int, int]) -> tuple[float, int]:
            r0, c0 = tile
            r1, c1 = min(h, r0 + rows), min(w, c0 + cols)
            m = mask[r0:r1, c0:c1]
            if not m.any():
                return 0.0, 0
            # One pixel of halo from the image where it exists; at the image border the
            # replicated edge equals the whole image's, so each gradient is the same.
            a0, a1, b0, b1 = max(0, r0 - 1), min(h, r1 + 1), max(0, c0 - 1), min(w, c1 + 1)
            g_sr = gradient_magnitude(sr[a0:a1, b0:b1])
            g_hr = gradient_magnitude(hr[a0:a1, b0:b1])
            excess = np.subtract(g_sr, g_hr, out=g_sr)[r0 - a0:r1 - a0, c0 - b0:c1 - b0]
            vals = np.maximum(excess[m], 0.0)
            return float(vals.sum()), int(vals.size)

        total, count = 0.0, 0
        for tile_total, n in ordered_map(tile_sum, tiles, resolve_threads(self.threads)):
            total += tile_total  # in tile order: the value does not depend on the thread count
            count += n
        if count == 0:
            raise ValueError(f"{self.name}: empty mask")
        return total / count
