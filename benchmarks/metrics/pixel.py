"""PSNR and SSIM computed exactly in float64 over row tiles, with explicit pixel conventions.

Why our own code rather than ``pyiqa.create_metric("psnr")``: pyiqa works on one float32 tensor
of the whole image (a 3840x2160 pair is ~200 MB of float32 per copy, more for SSIM's five
filtered maps) and its float32 mean of squared errors drifts by ~1e-5 dB at 4K. Here the
squared error is summed in float64 over row tiles (exact up to float64 rounding), and SSIM
filters each tile with a halo of ``window - 1`` rows so the tiled SSIM map is the untiled map.
The conventions are pyiqa's or BasicSR's exactly (tests compare against both libraries):

==============  ====================================  ====================================
convention      pyiqa (``psnr``/``psnry``/``ssim``)   BasicSR (``calculate_psnr/ssim``)
==============  ====================================  ====================================
Y channel       BT.601 ``16 + 65.481R + 128.553G +    same formula (``bgr2ycbcr``)
                24.966B`` (ycbcr) or YIQ's Y
PSNR MSE        ``10 log10(1 / (mse + 1e-8))``        ``10 log10(255^2 / mse)`` (no eps)
                on [0, 1]
SSIM input      Y*255 rounded to integers             Y*255 unrounded
SSIM cs term    clamped at 0 (``relu``)               not clamped
window          11x11 Gaussian, sigma 1.5, 'valid'    same
==============  ====================================  ====================================
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair

__all__ = ["PSNR", "SSIM", "to_luma", "ssim_map"]

_YCBCR = np.array([65.481, 128.553, 24.966]) / 255.0  # on RGB in [0, 1]; + 16/255 offset
_YIQ = np.array([0.299, 0.587, 0.114])


def to_luma(rgb01: np.ndarray, color_space: str) -> np.ndarray:
    """``(H, W, 3) float64 in [0, 1]`` -> ``(H, W) float64`` Y in [0, 1] (ycbcr Y in [16/255, 235/255])."""
    if color_space == "ycbcr":
        return rgb01 @ _YCBCR + 16.0 / 255.0
    if color_space == "yiq":
        return rgb01 @ _YIQ
    raise ValueError(f"color_space must be 'ycbcr' or 'yiq', got {color_space!r}")


def _crop(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img


def _validate_common(color: str, color_space: str, crop_border: int, tile_rows: int) -> None:
    if color not in ("rgb", "y"):
        raise ValueError(f"color must be 'rgb' or 'y', got {color!r}")
    if color_space not in ("ycbcr", "yiq"):
        raise ValueError(f"color_space must be 'ycbcr' or 'yiq', got {color_space!r}")
    if not isinstance(crop_border, int) or crop_border < 0:
        raise ValueError(f"crop_border must be an int >= 0, got {crop_border!r}")
    if not isinstance(tile_rows, int) or tile_rows < 16:
        raise ValueError(f"tile_rows must be an int >= 16, got {tile_rows!r}")


class PSNR(Metric):
    """Peak signal-to-noise ratio in dB, float64 and exact at any size.

    Args:
        color: ``rgb`` (mean over the 3 channels) or ``y`` (luma of ``color_space``).
        color_space: ``ycbcr`` (BT.601, OSEDiff/BasicSR) or ``yiq``.
        crop_border: pixels removed on each side before comparing (BasicSR: = scale).
        eps: added to the MSE on the [0, 1] scale (pyiqa: ``1e-8``; BasicSR: ``0``).
        tile_rows: rows per tile (memory bound only; the value does not depend on it).

    ``compute(sr, hr, mask)`` takes ``(H, W, 3) uint8`` images; ``mask`` ``(H, W) bool`` restricts
    the mean to the masked pixels. Identical images with ``eps=0`` give ``inf``.
    """

    supports_mask = True

    def __init__(self, *, name: str = "psnr", color: str = "rgb", color_space: str = "ycbcr",
                 crop_border: int = 0, eps: float = 1e-8, tile_rows: int = 512,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned", "seam"),
                 device: str = "cpu") -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, None),
                         regions=regions, device=device)
        _validate_common(color, color_space, crop_border, tile_rows)
        if not isinstance(eps, (int, float)) or eps < 0:
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        self.color, self.color_space, self.crop_border = color, color_space, crop_border
        self.eps, self.tile_rows = float(eps), tile_rows

    def config(self) -> dict[str, Any]:
        return {"color": self.color, "color_space": self.color_space if self.color == "y" else None,
                "crop_border": self.crop_border, "eps": self.eps, "data_range": 1.0}

    def convention(self) -> dict[str, Any]:
        return self.config()

    def squared_error(self, sr: np.ndarray, hr: np.ndarray, mask: np.ndarray | None = None) -> tuple[float, int]:
        """(sum of squared errors on the [0, 1] scale in float64, number of values summed)."""
        check_pair(sr, hr, mask)
        sr, hr = _crop(sr, self.crop_border), _crop(hr, self.crop_border)
        if mask is not None:
            mask = _crop(mask.astype(bool), self.crop_border)
        total, count = 0.0, 0
        weights = _YCBCR if self.color_space == "ycbcr" else _YIQ
        for r0 in range(0, sr.shape[0], self.tile_rows):
            # Differences of uint8 values are exact in int16; the luma offset (16/255) cancels.
            d = sr[r0:r0 + self.tile_rows].astype(np.int16) - hr[r0:r0 + self.tile_rows].astype(np.int16)
            if mask is not None:
                d = d[mask[r0:r0 + self.tile_rows]]  # (n, 3)
            d = d.reshape(-1, 3).astype(np.float64) / 255.0
            diff = d @ weights if self.color == "y" else d.ravel()
            total += float(np.dot(diff, diff))  # float64 sum of squares (BLAS, one pass)
            count += diff.size
        return total, count

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        total, count = self.squared_error(sr, hr, mask)
        if count == 0:
            raise ValueError(f"{self.name}: no pixels to compare (empty crop or mask)")
        mse = total / count + self.eps
        return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def ssim_map(x: np.ndarray, y: np.ndarray, *, data_range: float = 255.0, clamp_cs: bool = True,
             window: int = 11, sigma: float = 1.5) -> np.ndarray:
    """SSIM map ('valid' window positions) of two ``(H, W) float64`` planes on ``[0, data_range]``.

    Returns ``(H - window + 1, W - window + 1) float64``. The Gaussian window is separable, so
    two 1-D passes replace the 11x11 2-D filter (identical up to float64 rounding).
    """
    g = _gaussian_1d(window, sigma)
    half = window // 2
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2

    def filt(img: np.ndarray) -> np.ndarray:
        out = cv2.sepFilter2D(img, cv2.CV_64F, g, g, borderType=cv2.BORDER_REFLECT)
        return out[half:img.shape[0] - half, half:img.shape[1] - half]

    mu1, mu2 = filt(x), filt(y)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = filt(x * x) - mu1_sq
    s2 = filt(y * y) - mu2_sq
    s12 = filt(x * y) - mu1_mu2
    cs = (2.0 * s12 + c2) / (s1 + s2 + c2)
    if clamp_cs:
        cs = np.maximum(cs, 0.0)
    return (2.0 * mu1_mu2 + c1) / (mu1_sq + mu2_sq + c1) * cs


class SSIM(Metric):
    """Structural similarity (Wang et al. 2004), 11x11 Gaussian window, sigma 1.5, on 0..255.

    Args:
        color: ``y`` (luma) or ``rgb`` (mean of per-channel SSIM).
        color_space: luma definition, ``ycbcr`` or ``yiq`` (pyiqa's ``ssim`` default is ``yiq``).
        crop_border: pixels removed on each side first.
        round_y: round luma*255 to integers first (pyiqa: yes, like MATLAB; BasicSR: no).
        clamp_cs: clamp the contrast-structure term at 0 (pyiqa: yes; BasicSR: no).
        tile_rows: output rows per tile; tiles overlap by ``window - 1`` input rows, so the
            value equals the untiled one up to float64 summation order.

    With ``mask`` the mean runs over masked window centres only.
    """

    supports_mask = True

    def __init__(self, *, name: str = "ssim", color: str = "y", color_space: str = "yiq",
                 crop_border: int = 0, round_y: bool = True, clamp_cs: bool = True,
                 tile_rows: int = 512,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned", "seam"),
                 device: str = "cpu") -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        _validate_common(color, color_space, crop_border, tile_rows)
        self.color, self.color_space, self.crop_border = color, color_space, crop_border
        self.round_y, self.clamp_cs, self.tile_rows = bool(round_y), bool(clamp_cs), tile_rows

    def config(self) -> dict[str, Any]:
        return {"color": self.color, "color_space": self.color_space if self.color == "y" else None,
                "crop_border": self.crop_border, "round_y": self.round_y, "clamp_cs": self.clamp_cs,
                "window": 11, "sigma": 1.5}

    def convention(self) -> dict[str, Any]:
        return {k: self.config()[k] for k in ("color", "color_space", "crop_border")}

    def _planes(self, img: np.ndarray) -> list[np.ndarray]:
        f = img.astype(np.float64) / 255.0
        if self.color == "y":
            y = to_luma(f, self.color_space) * 255.0
            return [np.round(y) if self.round_y else y]
        return [np.ascontiguousarray(f[..., c] * 255.0) for c in range(3)]

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        check_pair(sr, hr, mask)
        sr, hr = _crop(sr, self.crop_border), _crop(hr, self.crop_border)
        h, w = sr.shape[:2]
        win, half = 11, 5
        if h < win or w < win:
            raise ValueError(f"{self.name}: image {w}x{h} is smaller than the 11x11 SSIM window")
        if mask is not None:
            mask = _crop(mask.astype(bool), self.crop_border)[half:h - half, half:w - half]
        out_rows = h - win + 1
        totals = np.zeros(1 if self.color == "y" else 3)
        count = 0
        for o0 in range(0, out_rows, self.tile_rows):
            o1 = min(out_rows, o0 + self.tile_rows)
            # Output rows [o0, o1) need input rows [o0, o1 + win - 1): a halo of win - 1 rows.
            a_planes, b_planes = self._planes(sr[o0:o1 + win - 1]), self._planes(hr[o0:o1 + win - 1])
            m = mask[o0:o1] if mask is not None else None
            for c, (a, b) in enumerate(zip(a_planes, b_planes)):
                smap = ssim_map(a, b, clamp_cs=self.clamp_cs)
                vals = smap[m] if m is not None else smap
                totals[c] += float(vals.sum(dtype=np.float64))
            count += int(m.sum()) if m is not None else (o1 - o0) * (w - win + 1)
        if count == 0:
            raise ValueError(f"{self.name}: no window centres inside the mask")
        return float(np.mean(totals / count))
