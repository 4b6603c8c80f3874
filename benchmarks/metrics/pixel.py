"""PSNR and SSIM computed exactly in float64 over row tiles, with explicit pixel conventions.

Why our own code rather than ``pyiqa.create_metric("psnr")``: pyiqa works on one float32 tensor
of the whole image (a 3840x2160 pair is ~200 MB of float32 per copy, more for SSIM's five
filtered maps) and its float32 mean of squared errors drifts by ~1e-5 dB at 4K. Here the
squared error is summed in float64 from exact integer pixel differences over row tiles, and
SSIM filters small 2-D tiles with a halo of ``window - 1`` pixels so the tiled SSIM map is the
untiled map. The conventions are pyiqa's or BasicSR's exactly (tests compare against both libraries):

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

Luma is computed from the integer RGB values in exact integer arithmetic (``299R + 587G +
114B`` is YIQ's ``1000 Y``; ``65481R + 128553G + 24966B`` is ycbcr's ``255000 (Y - 16)``), so
rounded luma is the exactly rounded value (ties to even, like ``torch.round``). pyiqa rounds
a float32 approximation, which can land on the other side of an exact ``.5`` tie (about one
pixel in a thousand for YIQ, one in 10^5 for ycbcr); the tests bound the effect on the scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair
from benchmarks.metrics.parallel import ordered_map, resolve_threads, thread_buffer
from benchmarks.metrics.ssim_kernel import WINDOW, ssim_tile_sums

__all__ = ["PSNR", "SSIM", "TILES_PER_TASK", "to_luma", "luma255", "ssim_map", "ssim_sums", "window_tiles"]

_YCBCR = np.array([65.481, 128.553, 24.966]) / 255.0  # on RGB in [0, 1]; + 16/255 offset
_YIQ = np.array([0.299, 0.587, 0.114])
# Integer forms: YIQ 1000*Y*255 and ycbcr 255000*(Y*255 - 16) on integer RGB in 0..255.
_YIQ_INT = np.array([[299.0, 587.0, 114.0]], np.float32)  # every partial sum < 2^24: exact in float32
_YCBCR_INT = np.array([[65481.0, 128553.0, 24966.0]])  # partial sums < 2^26: exact in float64


def to_luma(rgb01: np.ndarray, color_space: str) -> np.ndarray:
    """``(H, W, 3) float64 in [0, 1]`` -> ``(H, W) float64`` Y in [0, 1] (ycbcr Y in [16/255, 235/255])."""
    if color_space == "ycbcr":
        return rgb01 @ _YCBCR + 16.0 / 255.0
    if color_space == "yiq":
        return rgb01 @ _YIQ
    raise ValueError(f"color_space must be 'ycbcr' or 'yiq', got {color_space!r}")


def luma255(rgb: np.ndarray, color_space: str, rounded: bool) -> np.ndarray:
    """``(H, W, 3) uint8`` RGB -> ``(H, W) float64`` luma on the 0..255 scale, exact.

    ``rounded`` rounds to integers (ties to even); otherwise the result is the float64 nearest
    to the exact rational luma. The integer weighted sum is exact in float32 (YIQ) / float64
    (ycbcr) whatever the summation order, and a division by the integer denominator is
    correctly rounded, so an exact ``.5`` tie stays a tie and every other value rounds the
    right way.
    """
    if color_space == "yiq":
        n = cv2.transform(rgb.astype(np.float32), _YIQ_INT).reshape(rgb.shape[:2])
        if rounded:
            return np.rint(n / np.float32(1000.0)).astype(np.float64)  # n / 1000 < 2^8: tie-exact
        return n.astype(np.float64) / 1000.0
    if color_space == "ycbcr":
        n = cv2.transform(rgb.astype(np.float64), _YCBCR_INT).reshape(rgb.shape[:2])
        y = np.divide(n, 255000.0, out=n)
        y += 16.0
        return np.rint(y, out=y) if rounded else y
    raise ValueError(f"color_space must be 'ycbcr' or 'yiq', got {color_space!r}")


def _crop(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img


def window_tiles(h: int, w: int, tile_rows: int, tile_cols: int,
                 window: int = 11) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(r0, r1, c0, c1)`` blocks of 'valid' window centres covering an ``(h, w)`` image.

    Output block ``[r0, r1) x [c0, c1)`` (in valid-map coordinates) needs input
    ``[r0, r1 + window - 1) x [c0, c1 + window - 1)``: a halo of ``window - 1`` pixels, so
    tiled maps equal the untiled map exactly.
    """
    out_h, out_w = h - window + 1, w - window + 1
    for r0 in range(0, out_h, tile_rows):
        for c0 in range(0, out_w, tile_cols):
            yield r0, min(out_h, r0 + tile_rows), c0, min(out_w, c0 + tile_cols)


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
    """Peak signal-to-noise ratio in dB, exact at any size.

    Args:
        color: ``rgb`` (mean over the 3 channels) or ``y`` (luma of ``color_space``).
        color_space: ``ycbcr`` (BT.601, OSEDiff/BasicSR) or ``yiq``.
        crop_border: pixels removed on each side before comparing (BasicSR: = scale).
        eps: added to the MSE on the [0, 1] scale (pyiqa: ``1e-8``; BasicSR: ``0``).
        tile_rows: rows per tile (memory bound only; the value does not depend on it).

    ``compute(sr, hr, mask)`` takes ``(H, W, 3) uint8`` images; ``mask`` ``(H, W) bool`` restricts
    the mean to the masked pixels. Identical images with ``eps=0`` give ``inf``.

    The RGB differences are exact integers; for ``rgb`` their squares are summed exactly (an
    integer sum below 2^53 for images up to ~4.6e10 values), for ``y`` the luma differences
    (one OpenCV ``transform``) are squared and summed in float64. Memory: ``tile_rows * W * 3``
    float64 (6 MB at 4K with 64 rows).
    """

    supports_mask = True

    def __init__(self, *, name: str = "psnr", color: str = "rgb", color_space: str = "ycbcr",
                 crop_border: int = 0, eps: float = 1e-8, tile_rows: int = 64,
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

    def squared_error(self, sr: np.ndarray, hr: np.ndarray,
                      mask: np.ndarray | None = None) -> tuple[float, int]:
        """(sum of squared errors on the [0, 1] scale in float64, number of values summed)."""
        check_pair(sr, hr, mask)
        sr, hr = _crop(sr, self.crop_border), _crop(hr, self.crop_border)
        if mask is not None:
            mask = _crop(mask.astype(bool), self.crop_border)
        # Luma-difference weights on integer RGB differences (the 16/255 offset cancels).
        weights = ((_YCBCR if self.color_space == "ycbcr" else _YIQ) / 255.0)[None]
        total, count = 0.0, 0
        for r0 in range(0, sr.shape[0], self.tile_rows):
            # uint8 differences are exact in float64 (one OpenCV pass, no int16 intermediate).
            d = cv2.subtract(sr[r0:r0 + self.tile_rows], hr[r0:r0 + self.tile_rows], dtype=cv2.CV_64F)
            e = cv2.transform(d, weights) if self.color == "y" else d  # (rows, W) or (rows, W, 3)
            e = e[mask[r0:r0 + self.tile_rows]] if mask is not None else e
            e = e.ravel()
            total += float(np.dot(e, e))  # rgb: an integer sum < 2^53, exact
            count += e.size
        return (total if self.color == "y" else total / 255.0**2), count

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


_G11 = _gaussian_1d(11, 1.5)
# Tiles per thread-pool task (SSIM, MS-SSIM): a fixed grouping, so the order of the float64
# additions, and with it the value, does not depend on the thread count. 8 tiles of 128x256
# amortize the pool's ~50 us per task.
TILES_PER_TASK = 8
_NO_MASK = np.ones((1, 1), bool)  # placeholder argument of the kernel when no mask is given


def ssim_map(x: np.ndarray, y: np.ndarray, *, data_range: float = 255.0, clamp_cs: bool = True,
             window: int = 11, sigma: float = 1.5) -> np.ndarray:
    """SSIM map ('valid' window positions) of two ``(H, W) float64`` planes on ``[0, data_range]``.

    Returns ``(H - window + 1, W - window + 1) float64``. The Gaussian window is separable, so
    two 1-D passes replace the 11x11 2-D filter (identical up to float64 rounding). Reference
    implementation (five filtered maps); :func:`ssim_sums` is the fast path the metrics use.
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


def ssim_sums(x: np.ndarray, y: np.ndarray, *, data_range: float = 255.0, clamp_cs: bool = True,
              luminance: bool = True, mask: np.ndarray | None = None) -> tuple[float, float, int]:
    """Sums of the contrast-structure map and of the SSIM map over 'valid' 11x11 window centres.

    Args:
        x, y: ``(h, w)`` planes on ``[0, data_range]``, ``h, w >= 11``: float64, or uint8/float32
            holding exact values (converted to float64 inside the kernel).
        clamp_cs: clamp the cs term at 0 (pyiqa's ``relu``) before the product with luminance.
        luminance: also return the SSIM (luminance x cs) sum; ``nan`` when False (MS-SSIM's
            finer scales need only cs).
        mask: optional ``(h - 10, w - 10) bool`` selecting the window centres that count.

    Returns ``(sum_cs, sum_ssim, count)``. Same maps as :func:`ssim_map`, with four filtered
    planes instead of five: with ``u = x + y`` and ``v = x - y``, ``A = var(u)`` and
    ``B = var(v)`` give ``2 s12 = (A - B) / 2`` and ``s1 + s2 = (A + B) / 2``. Runs the compiled
    kernel :func:`benchmarks.metrics.ssim_kernel.ssim_tile_sums` on per-thread scratch space
    (``4 h (w - 10)`` float64: ~1.1 MB for a 138x266 tile), so it is safe to call from threads.
    """
    if x.shape != y.shape or x.ndim != 2 or min(x.shape) < WINDOW:
        raise ValueError(f"expected two (h, w) planes of the same shape with h, w >= {WINDOW}, "
                         f"got {x.shape} and {y.shape}")
    h, w = x.shape
    if mask is not None and mask.shape != (h - WINDOW + 1, w - WINDOW + 1):
        raise ValueError(f"mask must have shape {(h - WINDOW + 1, w - WINDOW + 1)}, got {mask.shape}")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    scratch = thread_buffer("ssim_scratch", (4, h, w - WINDOW + 1))
    row = thread_buffer("ssim_row", (4, w))
    maps = thread_buffer("ssim_maps", (6, w - WINDOW + 1))
    use_mask = mask is not None
    m = mask if use_mask else _NO_MASK
    cs_sum, ssim_sum, count = ssim_tile_sums(x, y, _G11, c1, c2, clamp_cs, luminance, m, use_mask,
                                             scratch, row, maps)
    return float(cs_sum), (float(ssim_sum) if luminance else math.nan), int(count)


class SSIM(Metric):
    """Structural similarity (Wang et al. 2004), 11x11 Gaussian window, sigma 1.5, on 0..255.

    Args:
        color: ``y`` (luma) or ``rgb`` (mean of per-channel SSIM).
        color_space: luma definition, ``ycbcr`` or ``yiq`` (pyiqa's ``ssim`` default is ``yiq``).
        crop_border: pixels removed on each side first.
        round_y: round luma*255 to integers first (pyiqa: yes, like MATLAB; BasicSR: no).
        clamp_cs: clamp the contrast-structure term at 0 (pyiqa: yes; BasicSR: no).
        tile_rows, tile_cols: output rows/columns per tile; tiles overlap by ``window - 1``
            input pixels, so the value equals the untiled one up to float64 summation order.
        threads: CPU threads for the tiles (``None``: torch's thread count). Tiles are summed
            in groups of a fixed size, in order, so the value does not depend on it.

    With ``mask`` the mean runs over masked window centres only. Memory per thread: the
    kernel's scratch, 4 float64 planes of ``(tile_rows + 10, tile_cols)`` (~1.1 MB with the
    defaults, at any image size), which keeps the working set in the CPU caches. Cost of a
    3840x2160 Y-channel pair: ~0.12 s on one thread (~15 ns per window centre).
    """

    supports_mask = True

    def __init__(self, *, name: str = "ssim", color: str = "y", color_space: str = "yiq",
                 crop_border: int = 0, round_y: bool = True, clamp_cs: bool = True,
                 tile_rows: int = 128, tile_cols: int = 256,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned", "seam"),
                 device: str = "cpu", threads: int | None = None) -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        _validate_common(color, color_space, crop_border, tile_rows)
        self.threads = None if threads is None else resolve_threads(threads)
        if not isinstance(tile_cols, int) or tile_cols < 16:
            raise ValueError(f"tile_cols must be an int >= 16, got {tile_cols!r}")
        self.color, self.color_space, self.crop_border = color, color_space, crop_border
        self.round_y, self.clamp_cs = bool(round_y), bool(clamp_cs)
        self.tile_rows, self.tile_cols = tile_rows, tile_cols

    def config(self) -> dict[str, Any]:
        return {"color": self.color, "color_space": self.color_space if self.color == "y" else None,
                "crop_border": self.crop_border, "round_y": self.round_y, "clamp_cs": self.clamp_cs,
                "window": 11, "sigma": 1.5}

    def convention(self) -> dict[str, Any]:
        return {k: self.config()[k] for k in ("color", "color_space", "crop_border")}

    def _planes(self, img: np.ndarray) -> list[np.ndarray]:
        if self.color == "y":
            return [luma255(img, self.color_space, self.round_y)]
        return [img[..., c].astype(np.float64) for c in range(3)]

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        check_pair(sr, hr, mask)
        sr, hr = _crop(sr, self.crop_border), _crop(hr, self.crop_border)
        h, w = sr.shape[:2]
        win, half = 11, 5
        if h < win or w < win:
            raise ValueError(f"{self.name}: image {w}x{h} is smaller than the 11x11 SSIM window")
        if mask is not None:
            mask = _crop(mask.astype(bool), self.crop_border)[half:h - half, half:w - half]
        tiles = list(window_tiles(h, w, self.tile_rows, self.tile_cols, win))
        bands = [tiles[i:i + TILES_PER_TASK] for i in range(0, len(tiles), TILES_PER_TASK)]

        def band_sums(band: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, int]:
            sums, n_centres = np.zeros(1 if self.color == "y" else 3), 0
            for r0, r1, c0, c1 in band:
                m = mask[r0:r1, c0:c1] if mask is not None else None
                if m is not None and not m.any():
                    continue  # no window centre of this tile counts (most of a seam ring's box)
                a_planes = self._planes(sr[r0:r1 + win - 1, c0:c1 + win - 1])
                b_planes = self._planes(hr[r0:r1 + win - 1, c0:c1 + win - 1])
                for c, (a, b) in enumerate(zip(a_planes, b_planes)):
                    _, ssim_sum, n = ssim_sums(a, b, clamp_cs=self.clamp_cs, mask=m)
                    sums[c] += ssim_sum
                n_centres += n
            return sums, n_centres

        totals = np.zeros(1 if self.color == "y" else 3)
        count = 0
        for sums, n_centres in ordered_map(band_sums, bands, resolve_threads(self.threads)):
            totals += sums  # in band order: the value does not depend on the thread count
            count += n_centres
        if count == 0:
            raise ValueError(f"{self.name}: no window centres inside the mask")
        return float(np.mean(totals / count))
