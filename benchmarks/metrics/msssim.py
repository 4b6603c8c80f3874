"""MS-SSIM exactly as pyiqa's ``ms_ssim`` computes it, in float64 on small tiles.

pyiqa (``pyiqa/archs/ssim_arch.py``, ``ms_ssim`` with its default options ``downsample=False,
test_y_channel=True, is_prod=True, color_space='yiq'``) does, on RGB in [0, 1]:

1. luma: Y of YIQ (``0.299R + 0.587G + 0.114B``) times 255, rounded to integers, as float64;
2. five scales; at each one the SSIM maps with an 11x11 Gaussian window (sigma 1.5, 'valid'
   positions only, ``C1 = (0.01*255)^2``, ``C2 = (0.03*255)^2``), the contrast-structure map
   clamped at 0 (``relu``); it keeps ``mean(cs)`` at every scale and ``mean(l*cs)`` at the last;
3. between scales ``avg_pool2d(kernel 2, stride 2, padding=(H % 2, W % 2))``: an odd side gets a
   zero row/column in front and that first output row/column is divided by 4 all the same
   (``count_include_pad``), the zero padding behind is never read;
4. ``prod(mcs[:4] ** w[:4]) * ssim[4] ** w[4]`` with ``w = (0.0448, 0.2856, 0.3001, 0.2363,
   0.1333)`` stored as float32 (so the float32 values of those decimals are used).

Here the same maths runs with separable filters on 2-D tiles with a 10-pixel halo (each tile's
map equals the untiled map). Luma is exact (integer arithmetic, ties to even; pyiqa rounds a
float32 approximation and can flip an exact ``.5`` tie). Pooled levels are exact in float32
(sums of four values that are multiples of ``4^-k`` below 256). pyiqa's 11x11 window is the
float32 rounding of the Gaussian; ours is the float64 Gaussian: the two differ by < 1e-7
relative per tap; with the tie flips the scores differ by <= 2.2e-7 relative (measured on
photos and a 1080p synthetic pair; tests compare at 5e-7).

The smallest side pyiqa accepts is 161 px: after four poolings ``ceil(161 / 16) = 11`` rows
remain for the 11x11 window at the fifth scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.metrics.base import Metric, check_unmasked_pair
from benchmarks.metrics.parallel import ordered_map, resolve_threads
from benchmarks.metrics.pixel import TILES_PER_TASK, luma255, ssim_sums, window_tiles

__all__ = ["MSSSIM", "MIN_SIDE", "avg_pool2"]

# float32 values of pyiqa's weights (``torch.FloatTensor([...])`` then cast to float64).
WEIGHTS = tuple(float(np.float32(w)) for w in (0.0448, 0.2856, 0.3001, 0.2363, 0.1333))
MIN_SIDE = 161
_WIN = 11


def avg_pool2(plane: np.ndarray) -> np.ndarray:
    """pyiqa's ``avg_pool2d(kernel_size=2, padding=(H % 2, W % 2))`` of one plane.

    ``(H, W)`` uint8 or float32 -> ``(ceil(H / 2), ceil(W / 2)) float32``. An odd side is padded
    with one zero row/column in front (the one behind is never read); every output is the
    4-value sum / 4, zeros included. Exact in float32 for MS-SSIM's inputs (see module doc).
    """
    h, w = plane.shape
    p = plane.astype(np.float32)
    if h % 2 or w % 2:
        p = np.pad(p, ((h % 2, 0), (w % 2, 0)))
    out = p[0::2, 0::2] + p[1::2, 0::2]
    out += p[0::2, 1::2]
    out += p[1::2, 1::2]
    out *= np.float32(0.25)
    return out


class MSSSIM(Metric):
    """Multi-scale SSIM (Wang, Simoncelli, Bovik 2003) with pyiqa's ``ms_ssim`` conventions.

    Args:
        name: name in records (``ms_ssim``).
        color_space: luma definition, ``yiq`` (pyiqa's default) or ``ycbcr``.
        min_side: smallest region side scored; smaller regions raise ``ValueError`` (recorded
            by the runner as an error row). At least :data:`MIN_SIDE` (161), the smallest size
            the five-scale 11x11 pyramid is defined for.
        tile_rows, tile_cols: output block per tile; the value does not depend on them.
        threads: CPU threads for the tiles (``None``: torch's thread count); the value does
            not depend on it.
        regions: regions it is computed on.

    ``compute(sr, hr)`` takes ``(H, W, 3) uint8`` images and returns a float in [0, 1] (1 for
    identical images). ``supports_mask`` is False: pyiqa's MS-SSIM averages each scale's maps
    over the whole pooled image, so a mask has no exact meaning; the runner passes
    ``where(mask, sr, hr)`` instead. Peak memory at 3840x2160: about 65 MB (tracemalloc): two uint8
    luma planes, the pooling temporaries and second-scale float32 planes, < 3 MB of tiles.
    """

    supports_mask = False

    def __init__(self, *, name: str = "ms_ssim", color_space: str = "yiq", min_side: int = MIN_SIDE,
                 tile_rows: int = 128, tile_cols: int = 256,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned"),
                 device: str = "cpu", threads: int | None = None) -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        self.threads = None if threads is None else resolve_threads(threads)
        if color_space not in ("yiq", "ycbcr"):
            raise ValueError(f"color_space must be 'yiq' or 'ycbcr', got {color_space!r}")
        if not isinstance(min_side, int) or min_side < MIN_SIDE:
            raise ValueError(f"min_side must be an int >= {MIN_SIDE} (five scales of an 11x11 window), "
                             f"got {min_side!r}")
        for what, value in (("tile_rows", tile_rows), ("tile_cols", tile_cols)):
            if not isinstance(value, int) or value < 16:
                raise ValueError(f"{what} must be an int >= 16, got {value!r}")
        self.color_space, self.min_side = color_space, min_side
        self.tile_rows, self.tile_cols = tile_rows, tile_cols

    def config(self) -> dict[str, Any]:
        return {"color_space": self.color_space, "weights": list(WEIGHTS), "window": _WIN, "sigma": 1.5,
                "pool": "avg2_zero_front_pad", "clamp_cs": True, "round_y": True}

    def convention(self) -> dict[str, Any]:
        return {"color": "y", "color_space": self.color_space, "crop_border": 0}

    def _scale_means(self, x: np.ndarray, y: np.ndarray, luminance: bool) -> tuple[float, float]:
        """(mean cs, mean SSIM) of one scale; ``x, y`` ``(h, w)`` uint8/float32 on 0..255."""
        h, w = x.shape
        tiles = list(window_tiles(h, w, self.tile_rows, self.tile_cols, _WIN))

        def band_sums(band: list[tuple[int, int, int, int]]) -> tuple[float, float, int]:
            cs_total, ssim_total, count = 0.0, 0.0, 0
            for r0, r1, c0, c1 in band:
                a, b = x[r0:r1 + _WIN - 1, c0:c1 + _WIN - 1], y[r0:r1 + _WIN - 1, c0:c1 + _WIN - 1]
                cs_sum, ssim_sum, n = ssim_sums(a, b, clamp_cs=True, luminance=luminance)
                cs_total += cs_sum
                ssim_total += ssim_sum
                count += n
            return cs_total, ssim_total, count

        bands = [tiles[i:i + TILES_PER_TASK] for i in range(0, len(tiles), TILES_PER_TASK)]
        cs_total, ssim_total, count = 0.0, 0.0, 0
        for cs_sum, ssim_sum, n in ordered_map(band_sums, bands, resolve_threads(self.threads)):
            cs_total += cs_sum  # in band order: the value does not depend on the thread count
            ssim_total += ssim_sum
            count += n
        return cs_total / count, ssim_total / count

    def _luma(self, rgb: np.ndarray) -> np.ndarray:
        """``(H, W, 3) uint8`` -> ``(H, W) uint8`` exactly rounded luma, in row bands."""
        out = np.empty(rgb.shape[:2], np.uint8)
        for r0 in range(0, rgb.shape[0], 64):
            out[r0:r0 + 64] = luma255(rgb[r0:r0 + 64], self.color_space, rounded=True)
        return out

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        check_unmasked_pair(self.name, sr, hr, mask, self.min_side,
                            "MS-SSIM needs (five scales of an 11x11 window)")
        x: np.ndarray = self._luma(sr)
        y: np.ndarray = self._luma(hr)
        score = 1.0
        for level, weight in enumerate(WEIGHTS):
            last = level == len(WEIGHTS) - 1
            cs, ssim = self._scale_means(x, y, luminance=last)
            score *= (ssim if last else cs) ** weight
            if not last:
                x, y = avg_pool2(x), avg_pool2(y)
        return float(score)
