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

Here, all in float64, with compiled kernels (``vif_pyramid``, ``vif_stats``: numba, no ``fastmath``): the
luma is made row by row inside the ``lo0`` filter; every filter folds its exactly symmetric
taps first (the stride-2 step as even/odd column phases); the two bands of a level are filtered
in strips of rows when needed, never stored whole (twice for the reference: once for ``C``,
once for the statistics); ``C``'s 45 entries come from 13 lag products summed down the
columns once; box sums at the block centres are direct sums of row triples (kept in a ring)
and column triples, never running sums with subtractions (whose rounding would lift a flat
window above ``tol``); ``C^+`` and ``lambda`` come from one ``eigh``, and the sum of 9 logs per
block is the log of a polynomial, with one log per ~1e150 of product. The result equals a
direct float64 evaluation to ~1e-14 relative; pyiqa computes all of it in float32 and differs
from the exact value by its own rounding (up to ~7e-4 relative on real photos, see the tests).

Cost of the full 3840x2160 pair (``benchmarks.perf.metrics_speed``): ~0.58 s on
one thread, ~0.32 s on two (the two pyramids, the covariance pass in two fixed row ranges and
the statistics strips run on the metric threads, ``benchmarks.metrics.parallel``); was 1.9 s
with OpenCV/numpy. Peak memory ~180 MB: each image's low-pass levels (66 MB at level 0) and a
few MB of band strips per thread. Whole 4K
band planes were avoided on purpose: first-touch page faults on 4 x 66 MB of fresh memory
cost more than filtering them. The first call in a fresh environment compiles the kernels
(~20 s, then cached in ``__pycache__`` or numba's user cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from benchmarks.metrics.base import Metric, check_unmasked_pair
from benchmarks.metrics.parallel import ordered_map, resolve_threads, thread_buffer
from benchmarks.metrics.vif_pyramid import band_pair, lo0_filter, lo0_from_rgb, lo_filter_stride2
from benchmarks.metrics.vif_stats import cov_accumulate, cov_finish, neighbourhood_cov, subband_sums

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
_STRIP_BLOCKS = 32  # block rows per band strip: ~4 x 3.4 MB of strips at 4K, ~10% halo rows
_COV_CHUNKS = 2  # fixed row ranges of the covariance pass (the split must not follow the threads)
@lru_cache(maxsize=1)
def _filters() -> dict[str, np.ndarray]:
    """pyiqa's ``sp5`` filters that VIF uses, as float64 2-D correlation kernels.

    The kernels rely on their exact symmetries (``lo0``, ``lo`` symmetric in both axes, ``b0``
    symmetric in rows and antisymmetric in columns, ``b3 == -b0.T``); they are checked here so
    a different filter set fails loudly instead of giving wrong bands.
    """
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
    kernels = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in kernels.items()}
    for name, size in (("lo0", 5), ("lo", 9), ("b0", 7), ("b3", 7)):
        k = kernels[name]
        if k.shape != (size, size):
            raise ValueError(f"sp5 filter {name} must be {size}x{size} for vif_pyramid, got {k.shape}")
        if name.startswith("lo") and not (np.array_equal(k, k[::-1]) and np.array_equal(k, k[:, ::-1])):
            raise ValueError(f"sp5 filter {name} is not symmetric in both axes; vif_pyramid needs that")
    b0 = kernels["b0"]
    if not (np.array_equal(b0, b0[::-1]) and np.array_equal(b0, -b0[:, ::-1])
            and np.array_equal(kernels["b3"], -b0.T)):
        raise ValueError("sp5 band filters 0/3 lack the symmetry vif_pyramid.band_pair needs "
                         "(b0 even in rows, "
                         "odd in columns, b3 == -b0.T)")
    return kernels


def _lowpass_levels(image: np.ndarray) -> Iterator[np.ndarray]:
    """The low-pass image of each of the 4 levels, ``(ceil(H / 2^l), ceil(W / 2^l)) float64``.

    ``image``: ``(H, W, 3) uint8`` RGB (its rounded YIQ luma is filtered, never stored) or an
    ``(H, W)`` luma plane. ``lo0`` on the luma, then the stride-2 ``lofilt`` per level. Every
    filter is a 'same' correlation with reflect-101 borders (pyiqa's ``corrDn``); the stride-2
    step keeps the even rows and columns of the full correlation, as ``F.conv2d(stride=2)``
    does. A generator, so only one level per image is alive at a time.
    """
    kernels = _filters()
    h, w = image.shape[:2]
    lo = np.empty((h, w))
    if image.ndim == 3:
        lo0_from_rgb(np.ascontiguousarray(image, dtype=np.uint8).reshape(h, 3 * w), kernels["lo0"], lo)
    else:
        lo0_filter(np.ascontiguousarray(image, dtype=np.float64), kernels["lo0"], lo)
    yield lo
    for _ in range(LEVELS - 1):
        nxt = np.empty(((lo.shape[0] + 1) // 2, (lo.shape[1] + 1) // 2))
        lo_filter_stride2(lo, kernels["lo"], nxt)
        lo = nxt
        yield lo


def _bands(lo: np.ndarray) -> dict[int, np.ndarray]:
    """Orientation 0 and 3 bands of a level's low-pass image (7x7 ``sp5`` band filters), float64.

    float64 on purpose: a float32 pyramid (2-3x faster) leaves ~1e-5 of rounding noise in the
    bands of flat areas, which defeats pyiqa's ``tol = 1e-12`` flat-window rule; it turned a
    flat reference against a noisy copy into VIF = 1.9e7 instead of 0 (tested).
    """
    b0, b3 = np.empty(lo.shape), np.empty(lo.shape)
    band_pair(lo, _filters()["b0"], 0, b0, b3)
    return {0: b0, 3: b3}


def steerable_bands(luma: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """All subbands VIF uses: ``{(level, orientation): (h_l, w_l) float64}`` of a luma plane."""
    return {(level, o): band for level, lo in enumerate(_lowpass_levels(luma))
            for o, band in _bands(lo).items()}


def _neighbourhood_cov(band: np.ndarray) -> np.ndarray:
    """9x9 covariance of the 3x3 neighbourhoods at every dense position (pyiqa's ``cu``).

    ``band``: ``(H, W) float64``, H, W >= 4. Component ``a = 3k + j`` is the pixel at offset
    ``(k, j)``; the mean is removed and the sum divided by the number of positions
    ``(H - 2)(W - 2)`` (see ``vif_stats.neighbourhood_cov``).
    """
    if band.ndim != 2 or min(band.shape) < 4:
        raise ValueError(f"expected a (H, W) band with H, W >= 4, got shape {band.shape}")
    return neighbourhood_cov(np.ascontiguousarray(band, dtype=np.float64))


def _gsm_params(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(basis, weights, coeffs) of a subband from its 9x9 neighbourhood covariance ``C``.

    ``s = v^T C^+ v / 9 = sum_e weights[e] (v . basis[:, e])^2`` with ``C^+ = sum_k e_k e_k^T /
    lambda_k`` over ``|lambda_k|`` above torch.pinverse's cut-off (1e-15 of the largest), and
    ``sum_j log2(1 + a lambda_j) == log2(prod_j (1 + a lambda_j)) == log2(sum_k coeffs[k] a^k)``,
    ``coeffs[k]`` the elementary symmetric polynomials of ``lambda`` (``coeffs[0] = 1``): 2 logs
    and 18 multiply-adds per block instead of 18 logs (``a >= 0`` and ``lambda >= 0``, so
    Horner's sum has no cancellation).
    """
    lam, basis = np.linalg.eigh(cov)
    inv_lam = np.zeros_like(lam)
    keep = np.abs(lam) > 1e-15 * np.abs(lam).max()
    inv_lam[keep] = 1.0 / lam[keep]
    # np.poly(-lam): prod_j (x + lambda_j) = sum_k e_k x^(9 - k), so entry k is e_k.
    return np.ascontiguousarray(basis), inv_lam / (M * M), np.poly(-lam)


def _new_cov_state(wc: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Zeroed running sums of ``vif_stats.cov_accumulate`` for a band ``wc`` columns wide."""
    return np.zeros((13, wc)), np.zeros((13, 4, wc)), np.zeros(wc), np.zeros((4, wc))


def _level_terms(lo_ref: np.ndarray, lo_dist: np.ndarray, window: int,
                 strip_blocks: int = _STRIP_BLOCKS, threads: int = 1) -> tuple[float, float]:
    """(numerator, denominator) sums of a level's two subbands (orientations 0 and 3).

    The bands are never stored whole: strips of rows are filtered from the low-pass images
    when needed, first the reference's (both orientations) for the covariances ``C``, then
    both images' for the block statistics, ``strip_blocks`` block rows per strip (plus the
    window's halo rows). Every strip row equals the row of the whole band, so the result does
    not depend on ``strip_blocks`` (tested). Whole 4K bands (4 x 66 MB) cost more in first-touch
    page faults than in filtering.

    Both passes run on ``threads`` threads: the covariance sums over :data:`_COV_CHUNKS` fixed
    row ranges (each with its own sums, added in range order), the statistics strip by strip
    (partial sums added in strip order), so the value does not depend on ``threads``.
    """
    h, w = lo_ref.shape
    hc, wc = (h // M) * M, (w // M) * M  # pyiqa crops each subband to multiples of M
    pad = window // 2
    off = -(-pad // M)  # blocks dropped at each border: ceil(((window - 1) / 2) / M)
    if wc // M - off <= off or hc // M - off <= off:
        return 0.0, 0.0
    b0 = _filters()["b0"]
    rows = M * strip_blocks + 2 * pad

    def bands(name: str, lo: np.ndarray, r0: int, m: int) -> tuple[np.ndarray, np.ndarray]:
        out0, out3 = thread_buffer(name + "0", (rows, w))[:m], thread_buffer(name + "3", (rows, w))[:m]
        band_pair(lo, b0, r0, out0, out3)
        return out0, out3

    step = rows - 2  # each strip also holds the 2 rows after it, for the lag products
    starts = list(range(0, hc, step))
    groups = [g for g in np.array_split(np.asarray(starts), min(_COV_CHUNKS, len(starts))) if g.size]

    def cov_sums(group: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        states = [_new_cov_state(wc), _new_cov_state(wc)]
        for r0 in group.tolist():
            n = min(step, hc - r0)
            m = min(n + 2, hc - r0)
            for o, band in enumerate(bands("ref", lo_ref, r0, m)):
                cov_accumulate(band, r0, n, hc, wc, *states[o])
        return states

    parts = ordered_map(cov_sums, groups, threads)
    states = parts[0]
    for part in parts[1:]:
        for total, add in zip(states, part):
            for a, b in zip(total, add):
                a += b
    params = [_gsm_params(cov_finish(hc, wc, *state)) for state in states]

    last = hc // M - off

    def strip_sums(i0: int) -> list[tuple[float, float]]:
        i1 = min(last, i0 + strip_blocks)
        row0 = M * i0 + 1 - pad
        m = M * (i1 - 1) + 1 + pad + 1 - row0
        ref_bands, dist_bands = bands("ref", lo_ref, row0, m), bands("dist", lo_dist, row0, m)
        return [subband_sums(ref_bands[o], dist_bands[o], row0, i0, i1, wc, window, *params[o],
                             SIGMA_NSQ, TOL) for o in range(2)]

    num = den = 0.0
    for strip in ordered_map(strip_sums, range(off, last, strip_blocks), threads):
        for n_, d_ in strip:
            num += n_
            den += d_
    return num, den


class VIF(Metric):
    """Visual information fidelity (Sheikh & Bovik 2006) with pyiqa's ``vif`` conventions.

    Args:
        name: name in records (``vif``).
        min_side: smallest region side scored; smaller regions raise ``ValueError``.
        regions: regions it is computed on.
        strip_blocks: 3x3 block rows per band strip (memory/speed only; the value is the same).
        threads: CPU threads (``None``: torch's thread count); the value does not depend on it.

    ``compute(sr, hr)`` takes ``(H, W, 3) uint8`` images (``sr`` distorted, ``hr`` reference)
    and returns a float, 1 for identical images, usually in [0, 1] (contrast enhancement can
    exceed 1). ``supports_mask`` is False: the subband covariance is global, so the runner
    passes ``where(mask, sr, hr)``.
    """

    supports_mask = False

    def __init__(self, *, name: str = "vif", min_side: int = MIN_SIDE,
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned"),
                 device: str = "cpu", strip_blocks: int = _STRIP_BLOCKS, threads: int | None = None) -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        if not isinstance(min_side, int) or min_side < MIN_SIDE:
            raise ValueError(f"min_side must be an int >= {MIN_SIDE}, got {min_side!r}")
        if not isinstance(strip_blocks, int) or strip_blocks < 1:
            raise ValueError(f"strip_blocks must be an int >= 1, got {strip_blocks!r}")
        self.min_side = min_side
        self.strip_blocks = strip_blocks
        self.threads = None if threads is None else resolve_threads(threads)

    def config(self) -> dict[str, Any]:
        return {"variant": "pyiqa_vifvec", "levels": LEVELS, "subbands": [list(s) for s in SUBBANDS],
                "sigma_nsq": SIGMA_NSQ, "M": M, "color_space": "yiq", "round_y": True}

    def convention(self) -> dict[str, Any]:
        return {"color": "y", "color_space": "yiq", "crop_border": 0}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        check_unmasked_pair(self.name, sr, hr, mask, self.min_side, "the 4-level pyramid needs")
        threads = resolve_threads(self.threads)
        windows = {level: window for level, _, window in SUBBANDS}
        num = den = 0.0
        # Both pyramids' low-pass levels at once (one thread each); then level by level, the
        # bands filtered strip by strip (see _level_terms).
        lo_ref, lo_dist = ordered_map(lambda img: list(_lowpass_levels(img)), (hr, sr), threads)
        for level, (ref, dist) in enumerate(zip(lo_ref, lo_dist)):
            n, d = _level_terms(ref, dist, windows[level], self.strip_blocks, threads)
            num += n
            den += d
        return num / (den + 1e-12)
