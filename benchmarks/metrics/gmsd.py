"""GMSD (gradient magnitude similarity deviation, Xue et al. 2014) equal to pyiqa's ``gmsd``, fast.

pyiqa's ``gmsd`` (``pyiqa/archs/gmsd_arch.py``, default options) on ``(1, 3, H, W)`` float32 in
[0, 1]:

1. luma ``Y = round(255 * (0.299 R + 0.587 G + 0.114 B))`` (``to_y_channel(x, 255)``: YIQ's Y,
   computed in float32, rounded half to even);
2. 2x2 average pooling with stride 2 (an odd last row/column is dropped);
3. Prewitt gradients ``[[1, 0, -1]] * 3 / 3`` and its transpose, zero padding of 1;
   ``g = sqrt(Ix^2 + Iy^2 + 1e-12)``;
4. ``GMS = (2 g1 g2 + T) / (g1^2 + g2^2 + T)`` with ``T = 170`` (on the 0..255 scale);
5. the score is the standard deviation of the GMS map with Bessel's correction (``torch.std``).

Here steps 1-3 are exact: ``Y`` is an integer, computed with the same float32 operations as
pyiqa (so pixels whose exact luma ends in .5 round the same way; the test checks every such
colour), and the pooled means (multiples of 0.25) and the Prewitt sums are exact in float32 /
float64. Steps 3-5 run in float64 where pyiqa uses float32, with ``1 - GMS`` computed directly
(no cancellation near 1). The image is processed in bands of rows that fit in the CPU cache, and
the deviation is merged over bands from per-band two-pass moments; no torch is involved.

Masks: GMSD is a deviation over the whole map, not a mean, so restricting it to a ring of
pixels would define a different statistic that no published GMSD number uses. The metric
therefore does not honour masks (``supports_mask = False``): the runner gives it
``where(mask, sr, hr)``, whose value is pyiqa's GMSD of that pasted image.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair

__all__ = ["GMSD", "pyiqa_luma255", "pooled_luma", "gms_map", "gms_deficit"]

_YIQ_Y = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@functools.lru_cache(maxsize=1)
def _luma_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel float32 terms ``float32(float32(v / 255) * weight)`` for v in 0..255.

    pyiqa computes ``((R/255 * 0.299 + G/255 * 0.587) + B/255 * 0.114) * 255`` with every
    operation rounded to float32 (checked for all 2^24 colours against ``to_y_channel``); each
    product depends on one channel value only, so 256-entry tables hold them exactly.
    """
    levels = np.arange(256, dtype=np.float32) / np.float32(255.0)
    r, g, b = (np.ascontiguousarray((levels * _YIQ_Y[c]).reshape(256, 1)) for c in range(3))
    return r, g, b


def pyiqa_luma255(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3) uint8`` -> ``(H, W) float32`` integer-valued luma in 0..255, bit-equal to
    ``pyiqa.utils.color_util.to_y_channel(x, 255)`` on ``x = rgb / 255`` in float32."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.shape} {rgb.dtype}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {got}")
    r_lut, g_lut, b_lut = _luma_tables()
    r, g, b = cv2.split(rgb)
    # cv2.LUT copies table entries; the two float32 additions and the product run in numpy in
    # pyiqa's order (numpy never fuses them into an FMA), so ties at .5 round as in pyiqa.
    y = cv2.LUT(r, r_lut)
    y += cv2.LUT(g, g_lut)
    y += cv2.LUT(b, b_lut)
    y *= np.float32(255.0)
    return np.rint(y, out=y)  # round half to even, like torch.round


_CHUNK_ROWS = 128  # image rows per band: ~1 MB float32 intermediates at 4K width
_SUM3 = np.ones(3, dtype=np.float32)
_DIFF3 = np.array([1.0, 0.0, -1.0], dtype=np.float32)


def _pooled(y: np.ndarray) -> np.ndarray:
    """``(H, W) float32`` -> ``(H // 2, W // 2) float32`` means of 2x2 blocks (odd edge dropped).

    OpenCV's area resize by exactly 2 averages each 2x2 block; on integer luma the sums and the
    product by 0.25 are exact in float32, so this equals ``avg_pool2d(y, 2)``.
    """
    h, w = y.shape[0] // 2, y.shape[1] // 2
    return cv2.resize(y[:2 * h, :2 * w], (w, h), interpolation=cv2.INTER_AREA)


def _prewitt_magnitude3(p: np.ndarray) -> np.ndarray:
    """3x the Prewitt gradient magnitude of the pooled luma ``p``.

    Args:
        p: ``(h, w) float32`` pooled luma (multiples of 0.25 in 0..255).

    Returns:
        ``(h, w) float64`` ``sqrt(Sx^2 + Sy^2)`` where ``Sx``, ``Sy`` are the correlations with
        ``[[1, 0, -1]] * 3`` and its transpose, zero padding; pyiqa's kernels carry ``1 / 3``, so
        its gradient magnitude is this / 3. The ``1e-12`` pyiqa adds under the square root is
        left out: it changes a GMS value by at most ``1e-12 / T`` (~6e-15).
    """
    # Kernels of +-1 on multiples of 0.25 below 256: every partial sum is exact in float64.
    sx = cv2.sepFilter2D(p, cv2.CV_64F, _DIFF3, _SUM3, borderType=cv2.BORDER_CONSTANT)
    sy = cv2.sepFilter2D(p, cv2.CV_64F, _SUM3, _DIFF3, borderType=cv2.BORDER_CONSTANT)
    return cv2.magnitude(sx, sy)


def pooled_luma(rgb: np.ndarray, chunk_rows: int = _CHUNK_ROWS) -> np.ndarray:
    """``(H, W, 3) uint8`` -> ``(H // 2, W // 2) float32`` 2x2 means of :func:`pyiqa_luma255`.

    Runs over bands of ``chunk_rows`` image rows so the float32 intermediates stay in the CPU
    cache (2.5x faster at 4K than whole-image passes); the result does not depend on the band.
    """
    if not isinstance(chunk_rows, int) or chunk_rows < 2 or chunk_rows % 2:
        raise ValueError(f"chunk_rows must be an even int >= 2 (bands hold whole 2x2 blocks), got {chunk_rows!r}")
    h, w = rgb.shape[0] // 2, rgb.shape[1] // 2
    out = np.empty((h, w), dtype=np.float32)
    for r0 in range(0, 2 * h, chunk_rows):
        r1 = min(2 * h, r0 + chunk_rows)
        out[r0 // 2:r1 // 2] = _pooled(pyiqa_luma255(rgb[r0:r1]))
    return out


def _deficit_bands(sr: np.ndarray, hr: np.ndarray, t: float,
                   band_rows: int = _CHUNK_ROWS // 2) -> Iterator[np.ndarray]:
    """``1 - GMS`` (see :func:`gms_deficit`) in bands of ``band_rows`` rows of the pooled map."""
    p1, p2 = pooled_luma(sr), pooled_luma(hr)
    h = p1.shape[0]
    for b0 in range(0, h, band_rows):
        b1 = min(h, b0 + band_rows)
        # One halo row on each side inside the image (zero padding only at the true borders);
        # the filtered halo rows are dropped.
        a0, a1 = max(0, b0 - 1), min(h, b1 + 1)
        g1 = _prewitt_magnitude3(p1[a0:a1])[b0 - a0:b1 - a0]
        g2 = _prewitt_magnitude3(p2[a0:a1])[b0 - a0:b1 - a0]
        den = g1 * g1
        den += g2 * g2
        den += 9.0 * t
        g1 -= g2
        g1 *= g1
        g1 /= den
        yield g1


def gms_deficit(sr: np.ndarray, hr: np.ndarray, t: float = 170.0) -> np.ndarray:
    """``1 - GMS`` map of two ``(H, W, 3) uint8`` images (GMS = gradient magnitude similarity).

    ``GMS = (2 g1 g2 + T) / (g1^2 + g2^2 + T)``, so ``1 - GMS = (g1 - g2)^2 / (g1^2 + g2^2 + T)``:
    the same values without the cancellation of subtracting numbers near 1 (GMSD is often
    ~1e-3 or less). With ``g = G / 3`` (:func:`_prewitt_magnitude3` returns ``G``) this is
    ``(G1 - G2)^2 / (G1^2 + G2^2 + 9 T)``.

    Returns:
        ``(H // 2, W // 2) float64`` in ``[0, 1)`` (0 where the gradients agree).
    """
    check_pair(sr, hr)
    if sr.shape[0] < 2 or sr.shape[1] < 2:
        raise ValueError(f"the 2x2-pooled map of a {sr.shape[1]}x{sr.shape[0]} image is empty")
    return np.concatenate(list(_deficit_bands(sr, hr, t)), axis=0)


def gms_map(sr: np.ndarray, hr: np.ndarray, t: float = 170.0) -> np.ndarray:
    """Gradient magnitude similarity map, ``(H // 2, W // 2) float64`` in ``(0, 1]``."""
    return 1.0 - gms_deficit(sr, hr, t)


class GMSD(Metric):
    """GMSD, lower is better (0 for identical images); pyiqa's ``gmsd`` without torch.

    Args:
        name: name in records.
        t: stability constant on the 0..255 scale (paper and pyiqa: 170).
        regions: regions it is computed on.

    ``compute(sr, hr)`` takes two ``(H, W, 3) uint8`` images of at least 2x2 pixels whose
    2x2-pooled map has at least 2 values (the deviation needs two); ``mask`` is not supported
    (module docstring).
    """

    supports_mask = False

    def __init__(self, *, name: str = "gmsd", t: float = 170.0,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned"),
                 device: str = "cpu") -> None:
        super().__init__(name=name, kind="fr", lower_better=True, score_range=(0.0, None),
                         regions=regions, device=device)
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
            raise ValueError(f"t must be a positive number, got {t!r}")
        self.t = float(t)

    def config(self) -> dict[str, Any]:
        return {"t": self.t, "color": "y", "color_space": "yiq", "round_y": True, "pool": 2,
                "std_ddof": 1}

    def convention(self) -> dict[str, Any]:
        return {"color": "y", "color_space": "yiq", "crop_border": 0}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        if mask is not None:
            raise ValueError(f"{self.name} is a deviation over the whole map and cannot restrict itself "
                             "to a mask; pass where(mask, sr, hr) instead")
        check_pair(sr, hr)
        h, w = sr.shape[:2]
        if (h // 2) * (w // 2) < 2:
            raise ValueError(f"{self.name}: image {w}x{h} is too small; the 2x2-pooled map needs at least "
                             "2 values (e.g. 4x2 pixels)")
        # Standard deviation with Bessel's correction (torch.std's default) of 1 - GMS (the same
        # as that of GMS), merged over bands from per-band two-pass moments (Chan et al.), so
        # the map never leaves the cache and no sum of squares loses precision.
        count, mean, m2 = 0, 0.0, 0.0
        for band in _deficit_bands(sr, hr, self.t):
            n_b = band.size
            mean_b = float(band.mean())
            band -= mean_b
            m2_b = float(np.einsum("ij,ij->", band, band))  # not BLAS: no idle-thread spinning
            delta = mean_b - mean
            total = count + n_b
            mean += delta * n_b / total
            m2 += m2_b + delta * delta * count * n_b / total
            count = total
        return math.sqrt(m2 / (count - 1))
