"""VIF exactly as pyiqa's ``vif`` computes it (wavelet-domain VIF): float64 statistics, far less cost.

pyiqa 0.1.16's ``vif`` (``pyiqa/archs/vif_arch.py``, a port of Sheikh & Bovik's MATLAB
``vifvec``) is the *steerable-pyramid* VIF, not the pixel-domain ``vifp`` (Gaussian windows,
``sigma_nsq = 2``). What it computes on ``(dist, ref)`` RGB in [0, 1]:

1. luma: Y of YIQ times 255, rounded to integers;
2. a steerable pyramid (``sp5`` filters, 4 levels, 6 orientations) of each image: ``lo0``
   (5x5) on the image, then per level the 7x7 band filters on the low-pass and the 9x9
   ``lofilt`` with stride 2 for the next level; every filter is a cross-correlation on
   reflect-101 padding of the same size. Only 8 subbands are used: orientations 0 and 3 of
   each level (``subbands = [4, 7, ..., 25]`` on the reversed pyramid list);
3. per subband, cropped to multiples of ``M = 3``: box statistics over ``w x w`` windows
   (``w`` = 3, 3, 5, 5, 9, 9, 17, 17 from the coarsest subband to the finest) at the centres of
   the 3x3 blocks, on reflect-101 padding: the gain ``g = cov / var_ref`` and the distortion
   variance ``vv``, with pyiqa's ``tol = 1e-12`` special cases;
4. per subband the 9x9 covariance ``C`` of the reference's 3x3 neighbourhoods (all dense
   positions, mean removed, divided by their count), its eigenvalues ``lambda``, and per
   block ``s = v^T C^+ v / 9`` (``v`` the block's 9 values);
5. blocks within ``ceil(((w - 1) / 2) / 3)`` of the border dropped, then
   ``VIF = sum log2(1 + g^2 s lambda / (vv + 0.4)) / (sum log2(1 + s lambda / 0.4) + 1e-12)``
   over subbands, blocks and eigenvalues (``sigma_nsq = 0.4``).

Here, all in float64: the pyramid is filtered with OpenCV (the stride-2 step as four polyphase
correlations), the statistics run on cache-sized tiles of blocks (box sums at the block
centres only), ``C``'s 45 entries
come from 13 lag products summed once, ``C^+`` and ``lambda`` from one ``eigh``, and the sum of
9 logs per block is the log of a product. pyiqa computes all of it in float32 and differs
from the exact value by its own rounding (up to ~7e-4 relative on real photos, see the tests).

Peak memory at 3840x2160: ~400 MB (tracemalloc): each image's level-0 low-pass and one
full-resolution subband (66 MB each), the polyphase temporaries and the luma; levels and
bands are made one at a time. The pyramid is not tiled because ``C`` couples every position
of a subband.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from benchmarks.metrics.base import Metric, check_pair
from benchmarks.metrics.pixel import luma255

__all__ = ["VIF", "MIN_SIDE", "steerable_bands"]

M = 3  # block size of the GSM neighbourhoods
SIGMA_NSQ = 0.4
TOL = 1e-12
LEVELS = 4
# (level, orientation, box window) of the 8 subbands pyiqa uses, coarsest first.
SUBBANDS = ((3, 3, 3), (3, 0, 3), (2, 3, 5), (2, 0, 5), (1, 3, 9), (1, 0, 9), (0, 3, 17), (0, 0, 17))
# Smallest side with at least one block left in every subband after the border crop: level 3
# has ceil(H / 8) rows, cropped to a multiple of 3, and loses one block on each side, so
# ceil(H / 8) >= 9. (pyiqa accepts smaller images and silently drops the empty subbands.)
MIN_SIDE = 65
_BORDER = cv2.BORDER_REFLECT_101  # torch's F.pad(mode='reflect')


_COV_CHUNK_PIXELS = 1 << 15  # row chunk of the covariance sums: a few cached rows for all 13 lags
_TILE_BLOCKS = (32, 96)  # 3x3 blocks per statistics tile: ~112 x 304 px with the largest window


@lru_cache(maxsize=1)
def _filters() -> dict[str, np.ndarray]:
    """pyiqa's ``sp5`` filters that VIF uses, as float64 2-D correlation kernels."""
    try:
        from pyiqa.archs.vif_arch import sp5_filters
    except ImportError as err:  # pragma: no cover - pyiqa is installed with the benchmark
        raise ImportError("the vif metric reads the steerable-pyramid filters from pyiqa; install it with "
                          "`pip install --no-deps pyiqa==0.1.16` (see the Makefile)") from err
    f = sp5_filters()
    size = int(np.sqrt(f["bfilts"].shape[0]))
    # pyiqa: ``filt = bfilts[:, b].reshape(size, size).T`` used by F.conv2d (a correlation).
    kernels = {"lo0": f["lo0filt"], "lo": f["lofilt"],
               "b0": f["bfilts"][:, 0].reshape(size, size).T, "b3": f["bfilts"][:, 3].reshape(size, size).T}
    return {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in kernels.items()}


def _correlate_stride2(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """pyiqa's ``corrDn(step=2)``: the 'same' reflect-101 correlation at even rows and columns.

    ``out[i, j] = sum_ab padded[2i + a, 2j + b] K[a, b]`` splits into four correlations of the
    padded image's polyphase components ``padded[p::2, q::2]`` with ``K[p::2, q::2]``: a quarter
    of the multiply-adds of filtering everything and keeping one sample in four.
    """
    pad = kernel.shape[0] // 2
    out_h, out_w = (img.shape[0] + 1) // 2, (img.shape[1] + 1) // 2
    padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, _BORDER)
    out = np.zeros((out_h, out_w))
    for p in (0, 1):
        for q in (0, 1):
            part = cv2.filter2D(np.ascontiguousarray(padded[p::2, q::2]), cv2.CV_64F,
                                np.ascontiguousarray(kernel[p::2, q::2]), anchor=(0, 0),
                                borderType=cv2.BORDER_CONSTANT)  # only in-range taps are kept below
            out += part[:out_h, :out_w]
    return out


def _lowpass_levels(luma: np.ndarray) -> Iterator[np.ndarray]:
    """The low-pass image of each of the 4 levels, ``(ceil(H / 2^l), ceil(W / 2^l)) float64``.

    ``lo0`` on the luma, then the stride-2 ``lofilt`` per level. Every filter is a 'same'
    correlation with reflect-101 borders (pyiqa's ``corrDn``); the stride-2 step keeps the even
    rows and columns of the full correlation, as ``F.conv2d(stride=2)`` does. A generator, so
    only one level per image is alive at a time.
    """
    kernels = _filters()
    lo = cv2.filter2D(luma.astype(np.float64), cv2.CV_64F, kernels["lo0"], borderType=_BORDER)
    yield lo
    for _ in range(LEVELS - 1):
        lo = _correlate_stride2(lo, kernels["lo"])
        yield lo


def _band(lo: np.ndarray, orientation: int) -> np.ndarray:
    """Orientation 0 or 3 band of a level's low-pass image (7x7 ``sp5`` band filter), float64.

    float64 on purpose: a float32 pyramid (2-3x faster) leaves ~1e-5 of rounding noise in the
    bands of flat areas, which defeats pyiqa's ``tol = 1e-12`` flat-window rule; it turned a
    flat reference against a noisy copy into VIF = 1.9e7 instead of 0 (tested).
    """
    return cv2.filter2D(lo, cv2.CV_64F, _filters()[f"b{orientation}"], borderType=_BORDER)


def steerable_bands(luma: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """All subbands VIF uses: ``{(level, orientation): (h_l, w_l) float64}`` of a luma plane."""
    return {(level, o): _band(lo, o) for level, lo in enumerate(_lowpass_levels(luma)) for o in (0, 3)}


def _reflected(img: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """``img[r0:r1, c0:c1]`` where indices outside the image reflect (reflect-101, like pyiqa's pad).

    A view for windows inside the image; border windows are padded from the clipped view, which
    then starts/ends at the image edge and holds more rows/columns than the padding.
    """
    h, w = img.shape
    top, bottom, left, right = max(0, -r0), max(0, r1 - h), max(0, -c0), max(0, c1 - w)
    view = img[max(0, r0):min(h, r1), max(0, c0):min(w, c1)]
    if top or bottom or left or right:
        return cv2.copyMakeBorder(view, top, bottom, left, right, _BORDER)
    return view


def _box_sums(strip: np.ndarray, w: int, n_rows: int, n_cols: int) -> np.ndarray:
    """Sums over ``w x w`` windows starting every 3 rows/columns of ``strip``: ``(n_rows, n_cols)``.

    Horizontal window sums everywhere, then only every third column is summed vertically.
    """
    rows = cv2.boxFilter(strip, cv2.CV_64F, (w, 1), normalize=False, anchor=(0, 0), borderType=_BORDER)
    cols = np.ascontiguousarray(rows[:, 0:M * n_cols:M])
    full = cv2.boxFilter(cols, cv2.CV_64F, (1, w), normalize=False, anchor=(0, 0), borderType=_BORDER)
    return full[0:M * n_rows:M]


def _channel_params(ref: np.ndarray, dist: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """pyiqa's ``vifsub_est_M`` on windows ``ref, dist`` holding whole ``w x w`` neighbourhoods.

    ``ref, dist``: ``(3 n_rows + w - 3, 3 n_cols + w - 3) float64`` whose ``w x w`` windows at
    every third row/column are the block neighbourhoods. Returns the gain ``g`` and distortion
    variance ``vv`` per block, ``(n_rows, n_cols) float64``, with pyiqa's ``tol`` special cases.
    """
    n_rows, n_cols = (ref.shape[0] - w) // M + 1, (ref.shape[1] - w) // M + 1
    n = float(w * w)
    sx, sy = _box_sums(ref, w, n_rows, n_cols), _box_sums(dist, w, n_rows, n_cols)
    sxy = _box_sums(ref * dist, w, n_rows, n_cols)
    sxx = _box_sums(ref * ref, w, n_rows, n_cols)
    syy = _box_sums(dist * dist, w, n_rows, n_cols)
    cov = sxy - sx * sy / n
    ss_x = np.maximum(sxx - sx * sx / n, 0.0)
    ss_y = np.maximum(syy - sy * sy / n, 0.0)
    g = cov / (ss_x + TOL)
    vv = (ss_y - g * cov) / n
    flat_ref = ss_x < TOL
    g[flat_ref] = 0.0
    vv[flat_ref] = ss_y[flat_ref]
    flat_dist = ss_y < TOL
    g[flat_dist] = 0.0
    vv[flat_dist] = 0.0
    negative = g < 0
    vv[negative] = ss_y[negative]
    np.maximum(g, 0.0, out=g)
    vv[vv < TOL] = TOL
    return g, vv


def _neighbourhood_cov(band: np.ndarray) -> np.ndarray:
    """9x9 covariance of the 3x3 neighbourhoods at every dense position (pyiqa's ``cu``).

    ``band``: ``(H, W) float64``. Component ``a = 3k + j`` is the pixel at offset ``(k, j)``; the
    mean is removed and the sum divided by the number of positions ``(H - 2)(W - 2)``. Each
    entry is a sum of ``band[p + s_a] * band[p + s_b]``: the 45 entries share 13 lags
    ``s_b - s_a``; per lag the row-wise products are summed once over the widest column range
    (in row chunks, so the 13 lags reuse cached rows) and the few columns outside each
    entry's window are subtracted.
    """
    h, w = band.shape
    h2, w2 = h - 2, w - 2
    count = float(h2 * w2)
    offsets = [(k, j) for k in range(M) for j in range(M)]
    rows_total = band.sum(axis=1)
    means = np.empty(9)
    for a, (k, j) in enumerate(offsets):
        outside = band[:, :j].sum(axis=1) + band[:, j + w2:].sum(axis=1)
        means[a] = (rows_total - outside)[k:k + h2].sum() / count
    by_lag: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a in range(9):
        for b in range(a, 9):  # b > a has dk >= 0
            lag = (offsets[b][0] - offsets[a][0], offsets[b][1] - offsets[a][1])
            by_lag.setdefault(lag, []).append((a, b))
    row_dots = {lag: np.empty(h - lag[0]) for lag in by_lag}
    chunk = max(8, _COV_CHUNK_PIXELS // (2 * w))
    for r0 in range(0, h, chunk):
        for (dk, dj), dots in row_dots.items():
            r1 = min(h - dk, r0 + chunk)
            if r1 <= r0:
                continue
            c_lo, c_hi = max(0, -dj), min(w, w - dj)
            dots[r0:r1] = np.einsum("ij,ij->i", band[r0:r1, c_lo:c_hi],
                                    band[r0 + dk:r1 + dk, c_lo + dj:c_hi + dj])
    sums = np.empty((9, 9))
    for (dk, dj), pairs in by_lag.items():
        c_lo, c_hi = max(0, -dj), min(w, w - dj)
        for a, b in pairs:
            k, j = offsets[a]
            # Entry (a, b): rows [k, k + h2), columns [j, j + w2) of the lag's product plane.
            dots = row_dots[(dk, dj)][k:k + h2].copy()
            for c0, c1 in ((c_lo, j), (j + w2, c_hi)):
                if c1 > c0:
                    dots -= np.einsum("ij,ij->i", band[k:k + h2, c0:c1],
                                      band[k + dk:k + dk + h2, c0 + dj:c1 + dj])
            sums[a, b] = sums[b, a] = dots.sum()
    return (sums - count * np.outer(means, means)) / count


def _poly(coeffs: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``sum_k coeffs[k] * a^k`` (Horner) for an array ``a``."""
    out = np.full_like(a, coeffs[-1])
    for c in coeffs[-2::-1]:
        out *= a
        out += c
    return out


def _block_vectors(band: np.ndarray) -> np.ndarray:
    """``(H, W)`` with sides multiple of 3 -> ``(H/3 * W/3, 9)``, component ``3k + j``."""
    h, w = band.shape
    return band.reshape(h // M, M, w // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)


def _subband_terms(ref: np.ndarray, dist: np.ndarray, w: int) -> tuple[float, float]:
    """(numerator, denominator) sums of one subband; ``ref, dist`` ``(h, w)`` float64 bands."""
    h, wd = (ref.shape[0] // M) * M, (ref.shape[1] // M) * M
    ref = np.ascontiguousarray(ref[:h, :wd])
    dist = dist[:h, :wd]
    cov = _neighbourhood_cov(ref)
    lam, basis = np.linalg.eigh(cov)
    # s = v^T C^+ v / 9 with C^+ = sum_k e_k e_k^T / lambda_k over |lambda_k| above torch.pinverse's
    # cut-off (1e-15 of the largest): squares of the projections onto the eigenvectors, weighted.
    inv_lam = np.zeros_like(lam)
    keep = np.abs(lam) > 1e-15 * np.abs(lam).max()
    inv_lam[keep] = 1.0 / lam[keep]
    weights = inv_lam / (M * M)
    # sum_j log2(1 + a lambda_j) == log2(prod_j (1 + a lambda_j)) == log2(sum_k e_k a^k), e_k the
    # elementary symmetric polynomials of lambda: 2 logs and 18 multiply-adds per block instead
    # of 18 logs (a >= 0 and lambda >= 0, so Horner's sum has no cancellation).
    coeffs = np.poly(-lam)  # prod_j (x + lambda_j) = sum_k e_k x^(9 - k): coeffs[k] = e_k, e_0 = 1
    pad = w // 2
    hb, wb = h // M, wd // M
    off = int(np.ceil(((w - 1) / 2) / M))  # blocks dropped at each border (pyiqa's offset)
    c0, c1 = off, wb - off
    if c1 <= c0 or hb - off <= off:
        return 0.0, 0.0
    # Block (i, c) is centred on pixel (3i + 1, 3c + 1): its window starts at (3i + 1 - pad, 3c + 1 - pad).
    # Tiles of blocks keep every temporary in the CPU caches (measured ~2x faster than strips).
    num = den = 0.0
    for i0 in range(off, hb - off, _TILE_BLOCKS[0]):
        i1 = min(hb - off, i0 + _TILE_BLOCKS[0])
        r0, r1 = M * i0 + 1 - pad, M * i1 + pad - 1
        for j0 in range(c0, c1, _TILE_BLOCKS[1]):
            j1 = min(c1, j0 + _TILE_BLOCKS[1])
            q0, q1 = M * j0 + 1 - pad, M * j1 + pad - 1
            g, vv = _channel_params(_reflected(ref, r0, r1, q0, q1), _reflected(dist, r0, r1, q0, q1), w)
            proj = _block_vectors(ref[M * i0:M * i1, M * j0:M * j1]) @ basis
            np.multiply(proj, proj, out=proj)
            s = (proj @ weights).reshape(i1 - i0, j1 - j0)
            a_num = g * g * s / (vv + SIGMA_NSQ)
            a_den = s / SIGMA_NSQ
            num += float(np.log2(_poly(coeffs, a_num)).sum())
            den += float(np.log2(_poly(coeffs, a_den)).sum())
    return num, den


class VIF(Metric):
    """Visual information fidelity (Sheikh & Bovik 2006) with pyiqa's ``vif`` conventions.

    Args:
        name: name in records (``vif``).
        min_side: smallest region side scored; smaller regions raise ``ValueError``.
        regions: regions it is computed on.

    ``compute(sr, hr)`` takes ``(H, W, 3) uint8`` images (``sr`` distorted, ``hr`` reference)
    and returns a float, 1 for identical images, usually in [0, 1] (contrast enhancement can
    exceed 1). ``supports_mask`` is False: the subband covariance is global, so the runner
    passes ``where(mask, sr, hr)``.
    """

    supports_mask = False

    def __init__(self, *, name: str = "vif", min_side: int = MIN_SIDE,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned"),
                 device: str = "cpu") -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        if not isinstance(min_side, int) or min_side < MIN_SIDE:
            raise ValueError(f"min_side must be an int >= {MIN_SIDE}, got {min_side!r}")
        self.min_side = min_side

    def config(self) -> dict[str, Any]:
        return {"variant": "pyiqa_vifvec", "levels": LEVELS, "subbands": [list(s) for s in SUBBANDS],
                "sigma_nsq": SIGMA_NSQ, "M": M, "color_space": "yiq", "round_y": True}

    def convention(self) -> dict[str, Any]:
        return {"color": "y", "color_space": "yiq", "crop_border": 0}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        if mask is not None:
            raise ValueError(f"{self.name} cannot restrict itself to a mask; pass where(mask, sr, hr)")
        check_pair(sr, hr)
        h, w = sr.shape[:2]
        if min(h, w) < self.min_side:
            raise ValueError(f"{self.name}: region {w}x{h} is smaller than the {self.min_side}px the "
                             f"4-level pyramid needs")
        windows = {level: window for level, _, window in SUBBANDS}
        num = den = 0.0
        # Level by level and band by band, so at most two subbands per image are alive.
        levels = zip(_lowpass_levels(luma255(hr, "yiq", rounded=True)),
                     _lowpass_levels(luma255(sr, "yiq", rounded=True)))
        for level, (lo_ref, lo_dist) in enumerate(levels):
            for orientation in (3, 0):
                n, d = _subband_terms(_band(lo_ref, orientation), _band(lo_dist, orientation), windows[level])
                num += n
                den += d
        return num / (den + 1e-12)
