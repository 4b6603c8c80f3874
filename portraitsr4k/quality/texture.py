"""The 4KLSDB texture filter: Laplacian-variance band and Sobel flat-patch ratio.

4KLSDB (``reference/paper-headsup-osediff.md`` §2.2) rejects an image when the variance of its
grayscale Laplacian is ``<= 150`` or ``>= 8000``, or when ``>= 50 %`` of the non-overlapping
240x240 patches of its Sobel magnitude have variance ``< 800``.

Speed: the builder scores a *reduced* copy (the detector-sized decode it already has, long side
~1280 px) instead of the 4K frame (44 ms vs 2.4 ms for the Laplacian alone, reference B7), and
scales the 240 px patch with the reduction so a patch still covers the same part of the photo.
Downscaling raises the Laplacian variance of fine texture (neighbouring pixels differ more), so
scores are *not* numerically identical to full-resolution 4KLSDB scores; the thresholds stay
configurable (``conf/stage/default.yaml``) for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["TextureScores", "laplacian_variance", "flat_patch_ratio", "texture_scores"]


@dataclass(frozen=True)
class TextureScores:
    """Texture scores of one image (computed on the analysed copy, see module docstring)."""

    laplacian_var: float
    flat_patch_ratio: float
    patch_px: int
    analysed_long_side: int


def _gray(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{type(rgb).__name__} {getattr(rgb, 'dtype', None)} {getattr(rgb, 'shape', None)}"
        raise TypeError(f"expected an (H, W, 3) uint8 RGB array, got {got}")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian of a (H, W) uint8 grayscale image (float64 response)."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def flat_patch_ratio(gray: np.ndarray, patch_px: int, flat_var: float) -> float:
    """Share in [0, 1] of non-overlapping ``patch_px`` squares whose Sobel-magnitude variance is below
    ``flat_var``. Edge remainders smaller than a patch are ignored (as in 4KLSDB); an image smaller
    than one patch counts as one patch."""
    if patch_px < 1:
        raise ValueError(f"patch_px must be >= 1, got {patch_px}")
    gx = cv2.Sobel(gray, cv2.CV_64F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_64F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy)
    h, w = mag.shape
    ny, nx = h // patch_px, w // patch_px
    if ny == 0 or nx == 0:
        return float(mag.var() < flat_var)
    tiles = mag[: ny * patch_px, : nx * patch_px].reshape(ny, patch_px, nx, patch_px)
    variances = tiles.var(axis=(1, 3))
    return float((variances < flat_var).mean())


def texture_scores(
    rgb: np.ndarray, *, full_long_side: int, patch_px: int = 240, flat_var: float = 800.0
) -> TextureScores:
    """Texture scores of ``rgb`` ((H, W, 3) uint8), a reduced copy of a photo whose long side is
    ``full_long_side`` px; ``patch_px`` is given in full-resolution pixels and scaled down."""
    if full_long_side < 1:
        raise ValueError(f"full_long_side must be >= 1, got {full_long_side}")
    gray = _gray(rgb)
    long_side = max(gray.shape)
    scaled_patch = max(8, round(patch_px * long_side / max(full_long_side, long_side)))
    return TextureScores(
        laplacian_var=laplacian_variance(gray),
        flat_patch_ratio=flat_patch_ratio(gray, scaled_patch, flat_var),
        patch_px=scaled_patch,
        analysed_long_side=long_side,
    )
