"""Gradient-discontinuity score: extra edge energy an SR output has where the HR has none.

Blending pipelines paste a restored face back into a general SR output; a hard-edged paste
leaves a step along the paste boundary that the HR does not have. On the seam ring
(``benchmarks.regions``) this metric averages the excess luma gradient magnitude

    seam_grad = mean_{ring} max(0, |grad Y_sr| - |grad Y_hr|)

in grey levels per pixel (0..255 luma, Sobel 3x3 normalised by 8 so a one-level ramp per pixel
gives 1). Lower is better; 0 means no edges beyond the HR's.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair
from benchmarks.metrics.pixel import to_luma

__all__ = ["SeamGradient", "gradient_magnitude"]


def gradient_magnitude(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` -> ``(H, W) float64`` Sobel magnitude of BT.601 luma on 0..255."""
    y = to_luma(rgb.astype(np.float64) / 255.0, "ycbcr") * 255.0
    gx = cv2.Sobel(y, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
    gy = cv2.Sobel(y, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE) / 8.0
    return np.hypot(gx, gy)


class SeamGradient(Metric):
    """Excess gradient magnitude of SR over HR inside a mask (the seam ring); lower is better."""

    supports_mask = True

    def __init__(self, *, name: str = "seam_grad", regions: tuple[str, ...] | list[str] = ("seam",),
                 device: str = "cpu") -> None:
        super().__init__(name=name, kind="fr", lower_better=True, score_range=(0.0, None),
                         regions=regions, device=device)

    def config(self) -> dict[str, Any]:
        return {"luma": "bt601", "gradient": "sobel3/8", "reduce": "mean relu(|g_sr|-|g_hr|)"}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        """``sr``/``hr`` ``(H, W, 3) uint8``; ``mask`` ``(H, W) bool`` (all pixels when ``None``)."""
        check_pair(sr, hr, mask)
        excess = np.maximum(gradient_magnitude(sr) - gradient_magnitude(hr), 0.0)
        vals = excess[mask] if mask is not None else excess
        if vals.size == 0:
            raise ValueError(f"{self.name}: empty mask")
        return float(vals.mean(dtype=np.float64))
