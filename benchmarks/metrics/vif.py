"""VIF exactly as pyiqa's ``vif`` computes it (wavelet-domain VIF), in float64, without pyiqa's cost.

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
   block ``s = v^T C^+ v / 9``;
5. blocks within ``ceil(((w - 1) / 2) / 3)`` of the border dropped, then
   ``VIF = sum log2(1 + g^2 s lambda / (vv + 0.4)) / (sum log2(1 + s lambda / 0.4) + 1e-12)``
   over subbands, blocks and eigenvalues (``sigma_nsq = 0.4``).

Here: the pyramid filters (taken from pyiqa, the published ``sp5`` values) are exactly low-rank
(ranks 3, 3 and 5; the remaining singular values are ~1e-17), so each is applied as a short sum
of separable 1-D passes (OpenCV); box sums use OpenCV's box filter; ``C``'s 45 entries come from
13 lag products; the sum of 9 logs per block is the log of a product. Everything is float64.
pyiqa computes all of it in float32, so it differs from this exact value by its own rounding
(measured ~1e-6 relative on real photos, see the tests).

Peak memory: about 14 float64 planes of the image size (~930 MB at 3840x2160, mostly the two
full-resolution level-0 subbands of both images and their statistics); the band pyramid is
not tiled because the covariance ``C`` couples every position of a subband.
"""

from __future__ import annotations

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


def _separable(kernel: np.ndarray, tol: float = 1e-12) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(kx, ky)`` 1-D pairs with ``sum ky kx^T == kernel`` (SVD; drops singular values < tol*max)."""
    u, s, vt = np.linalg.svd(kernel)
    return [(np.ascontiguousarray(vt[k] * s[k]), np.ascontiguousarray(u[:, k]))
            for k in range(len(s)) if s[k] > tol * s[0]]


@lru_cache(maxsize=1)
def _filters() -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """The separable forms of pyiqa's ``sp5`` filters that VIF uses (loaded once from pyiqa)."""
    try:
        from pyiqa.archs.vif_arch import sp5_filters
    except ImportError as err:  # pragma: no cover - pyiqa is installed with the benchmark
        raise ImportError("the vif metric reads the steerable-pyramid filters from pyiqa; install it with "
                          "`pip install --no-deps pyiqa==0.1.16` (see the Makefile)") from err
    f = sp5_filters()
    size = int(np.sqrt(f["bfilts"].shape[0]))
    # pyiqa: ``filt = bfilts[:, b].reshape(size, size).T`` used by F.conv2d (a correlation).
    bands = {b: np.asarray(f["bfilts"][:, b], np.float64).reshape(size, size).T for b in (0, 3)}
    return {"lo0": _separable(np.asarray(f["lo0filt"], np.float64)),
            "lo": _separable(np.asarray(f["lofilt"], np.float64)),
            "b0": _separable(bands[0]), "b3": _separable(bands[3])}


def _correlate(img: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """'same' correlation with reflect-101 borders of a filter given as separable parts."""
    out = None
    for kx, ky in parts:
        r = cv2.sepFilter2D(img, cv2.CV_64F, kx, ky, borderType=_BORDER)
        out = r if out is None else cv2.add(out, r, dst=out)
    return out


def _correlate_stride2(img: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """pyiqa's ``corrDn(step=2)``: the 'same' correlation sampled at even rows and columns.

    Rows are filtered at full resolution, then only even columns are kept before the column
    pass, which runs on half the columns and keeps even rows: the same values as the full
    2-D output sampled at ``[::2, ::2]``.
    """
    one = np.ones(1)
    out = None
    for kx, ky in parts:
        rows = cv2.sepFilter2D(img, cv2.CV_64F, kx, one, borderType=_BORDER)
        half = np.ascontiguousarray(rows[:, ::2])
        r = cv2.sepFilter2D(half, cv2.CV_64F, one, ky, borderType=_BORDER)[::2]
        out = r.copy() if out is None else np.add(out, r, out=out)
    return out


def steerable_bands(luma: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """The subbands VIF uses: ``{(level, orientation): (h_l, w_l) float64}`` of a luma plane.

    ``luma``: ``(H, W) float64`` on 0..255. Level ``l`` has ``ceil(H / 2^l)`` rows.
    """
    filters = _filters()
    lo = _correlate(luma, filters["lo0"])
    out = {}
    for level in range(LEVELS):
        out[(level, 0)] = _correlate(lo, filters["b0"])
        out[(level, 3)] = _correlate(lo, filters["b3"])
        if level < LEVELS - 1:
            lo = _correlate_stride2(lo, filters["lo"])
    return out


def _box_at_blocks(plane: np.ndarray, w: int) -> np.ndarray:
    """Sums over ``w x w`` windows (reflect-101 borders) centred on the 3x3 block centres."""
    return cv2.boxFilter(plane, cv2.CV_64F, (w, w), normalize=False, borderType=_BORDER)[1::M, 1::M]


def _channel_params(ref: np.ndarray, dist: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """pyiqa's ``vifsub_est_M``: gain ``g`` and distortion variance ``vv`` per 3x3 block."""
    n = float(w * w)
    sx, sy = _box_at_blocks(ref, w), _box_at_blocks(dist, w)
    sxy = _box_at_blocks(ref * dist, w)
    sxx = _box_at_blocks(ref * ref, w)
    syy = _box_at_blocks(dist * dist, w)
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

    Component ``a = 3k + j`` is the pixel at offset ``(k, j)``; the mean is removed and the sum
    divided by the number of positions ``(H - 2)(W - 2)``. Each entry is a sum of
    ``band[p + s_a] * band[p + s_b]``: the 45 entries share 13 lags ``s_b - s_a``; for each lag
    the row-wise products are summed once over the widest column range and the few columns
    outside each entry's window are subtracted.
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
    sums = np.empty((9, 9))
    by_lag: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for a in range(9):
        for b in range(a, 9):
            lag = (offsets[b][0] - offsets[a][0], offsets[b][1] - offsets[a][1])
            by_lag.setdefault(lag, []).append((a, b))
    for (dk, dj), pairs in by_lag.items():
        # Products band[r, c] * band[r + dk, c + dj] for r in [r_lo, r_hi), c in [c_lo, c_hi).
        r_lo, r_hi = max(0, -dk), min(h, h - dk)
        c_lo, c_hi = max(0, -dj), min(w, w - dj)
        first = band[r_lo:r_hi, c_lo:c_hi]
        second = band[r_lo + dk:r_hi + dk, c_lo + dj:c_hi + dj]
        row_dots = np.einsum("ij,ij->i", first, second)
        for a, b in pairs:
            k, j = offsets[a]
            # Entry (a, b): rows [k, k + h2), columns [j, j + w2) of the product plane.
            left = slice(c_lo, j) if j > c_lo else None
            right = slice(j + w2, c_hi) if j + w2 < c_hi else None
            dots = row_dots.copy()
            for cols in (left, right):
                if cols is not None:
                    dots -= np.einsum("ij,ij->i", band[r_lo:r_hi, cols],
                                      band[r_lo + dk:r_hi + dk, cols.start + dj:cols.stop + dj])
            sums[a, b] = sums[b, a] = dots[k - r_lo:k - r_lo + h2].sum()
    return (sums - count * np.outer(means, means)) / count


def _block_vectors(band: np.ndarray) -> np.ndarray:
    """``(H, W)`` with sides multiple of 3 -> ``(H/3 * W/3, 9)``, component ``3k + j``."""
    h, w = band.shape
    return band.reshape(h // M, M, w // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)


def _subband_terms(ref: np.ndarray, dist: np.ndarray, w: int) -> tuple[float, float]:
    """(numerator, denominator) sums of one subband."""
    h, wd = (ref.shape[0] // M) * M, (ref.shape[1] // M) * M
    ref, dist = ref[:h, :wd], dist[:h, :wd]
    g, vv = _channel_params(ref, dist, w)
    cov = _neighbourhood_cov(ref)
    lam = np.linalg.eigvalsh(cov)
    pinv = np.linalg.pinv(cov, rcond=1e-15, hermitian=True)  # torch.pinverse's default rcond
    vecs = _block_vectors(ref)
    s = np.einsum("ij,ij->i", vecs @ pinv, vecs).reshape(h // M, wd // M) / (M * M)
    off = int(np.ceil(((w - 1) / 2) / M))
    hb, wb = g.shape
    crop = (slice(off, hb - off), slice(off, wb - off))
    g, vv, s = g[crop], vv[crop], s[crop]
    a_num = g * g * s / (vv + SIGMA_NSQ)
    a_den = s / SIGMA_NSQ
    # sum_j log2(1 + a * lambda_j) == log2(prod_j (1 + a * lambda_j)): 2 logs per block, not 18.
    p_num, p_den = np.ones_like(a_num), np.ones_like(a_den)
    for lj in lam:
        p_num *= 1.0 + a_num * lj
        p_den *= 1.0 + a_den * lj
    return float(np.log2(p_num).sum()), float(np.log2(p_den).sum())


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
        dist_bands = steerable_bands(luma255(sr, "yiq", rounded=True))
        ref_bands = steerable_bands(luma255(hr, "yiq", rounded=True))
        num = den = 0.0
        for level, orientation, window in SUBBANDS:
            n, d = _subband_terms(ref_bands[(level, orientation)], dist_bands[(level, orientation)], window)
            num += n
            den += d
        return num / (den + 1e-12)
