"""Compiled (numba) float64 kernels of the VIF metric's steerable pyramid: luma, low-pass, bands.

Every kernel works on whole rows so that its innermost loop runs over contiguous columns
without a reduction: LLVM vectorizes such loops without ``fastmath`` (which would reorder
sums and change values). Borders are reflect-101 (torch's ``F.pad(mode='reflect')``), done by
index arithmetic on rows and on one folded row buffer, never by padding a whole image.

The filters of pyiqa's ``sp5`` pyramid are exactly symmetric: ``lo0`` and ``lofilt`` in both
axes, the orientation-0 band filter symmetric in rows and antisymmetric in columns (orientation
3 is its negated transpose). Folding the symmetric taps first (``a * (x + y)`` instead of
``a * x + a * y``) halves the multiply-adds; the sums are the same up to float64 rounding
(~1e-16 relative; the tests compare with a direct 2-D correlation at 1e-10).

``cache=True`` stores the machine code in ``__pycache__`` beside this file, or, where that is
read-only, in numba's user-wide cache (``NUMBA_CACHE_DIR`` overrides both); the first call in a
fresh environment compiles for a few seconds.
"""

from __future__ import annotations

import numpy as np

from benchmarks.metrics.jit import JIT_OPTIONS as _JIT
from benchmarks.metrics.jit import njit

__all__ = ["luma_yiq255", "lo0_from_rgb", "lo0_filter", "lo_filter_stride2", "band_pair"]


@njit(**_JIT)
def _reflect(i: int, n: int) -> int:
    """Reflect-101 index: ..., 2, 1, [0, 1, ..., n - 1], n - 2, ... (one reflection, |i| < n)."""
    if i < 0:
        return -i
    if i >= n:
        return 2 * n - 2 - i
    return i


@njit(**_JIT)
def _reflect_columns(buf: np.ndarray, pad: int, n: int) -> None:
    """Fill the ``pad`` border columns of rows ``buf[:, pad:pad + n]`` by reflect-101."""
    for r in range(buf.shape[0]):
        for p in range(1, pad + 1):
            buf[r, pad - p] = buf[r, pad + p]
            buf[r, pad + n - 1 + p] = buf[r, pad + n - 1 - p]


@njit(**_JIT)
def _luma_row(src: np.ndarray, dst: np.ndarray) -> None:
    """One row: ``dst[c]`` = round(0.299 R + 0.587 G + 0.114 B) of ``src`` (``(3 W,) uint8``), ties to even.

    The integer sum ``299 R + 587 G + 114 B`` is exact in float64 and its division by 1000 is
    correctly rounded, so an exact ``.5`` stays a tie and ``rint`` rounds every value the right
    way: equal to ``pixel.luma255(rgb, 'yiq', rounded=True)`` (tested on all 2^24 colours).
    """
    for c in range(dst.shape[0]):
        total = 299.0 * src[3 * c] + 587.0 * src[3 * c + 1] + 114.0 * src[3 * c + 2]
        dst[c] = np.rint(total / 1000.0)


@njit(**_JIT)
def luma_yiq255(rgb_rows: np.ndarray, out: np.ndarray) -> None:
    """``out`` (``(H, W) float64``) = YIQ luma x 255 of ``rgb_rows`` (``(H, 3 W) uint8``), rounded."""
    for r in range(out.shape[0]):
        _luma_row(rgb_rows[r], out[r])


@njit(**_JIT)
def _lo0_row(plus: np.ndarray, kernel: np.ndarray, acc: np.ndarray) -> None:
    """One output row of the 5x5 ``lo0`` filter from the 3 folded, column-padded rows in
    ``plus`` (``_fold_rows`` layout, half = 2): ``acc`` ``(W,)``."""
    for c in range(acc.shape[0]):
        total = 0.0
        for i in range(3):
            for j in range(2):
                total += kernel[i, j] * (plus[i, c + j] + plus[i, c + 4 - j])
            total += kernel[i, 2] * plus[i, c + 2]
        acc[c] = total


@njit(**_JIT)
def lo0_from_rgb(rgb_rows: np.ndarray, kernel: np.ndarray, out: np.ndarray) -> None:
    """``out`` = 'same' reflect-101 correlation of the rounded YIQ luma of ``rgb_rows`` with a 5x5
    kernel symmetric in both axes (pyiqa's ``lo0`` step), without storing the luma plane.

    ``rgb_rows``: ``(H, 3 W) uint8``; ``out``: ``(H, W) float64``. Luma rows are made once each,
    into a ring of the 5 rows a filter row needs.
    """
    h, w = out.shape
    ring = np.empty((5, w))
    held = np.full(5, -1, np.int64)  # image row held by each ring slot
    plus = np.empty((3, w + 4))
    for r in range(h):
        for i in range(3):
            top, bottom = _reflect(r + i - 2, h), _reflect(r + 2 - i, h)
            for row in (top, bottom):
                if held[row % 5] != row:
                    _luma_row(rgb_rows[row], ring[row % 5])
                    held[row % 5] = row
            a, b = ring[top % 5], ring[bottom % 5]
            p = plus[i, 2:2 + w]
            if i < 2:
                for c in range(w):
                    p[c] = a[c] + b[c]
            else:
                p[:] = a
        _reflect_columns(plus, 2, w)
        _lo0_row(plus, kernel, out[r])


@njit(**_JIT)
def _fold_rows(img: np.ndarray, r: int, half: int, plus: np.ndarray, minus: np.ndarray,
               with_minus: bool) -> None:
    """Rows ``img[r + i - half] +/- img[r + half - i]`` (i < half) and ``img[r]`` into padded buffers.

    ``plus``: ``(half + 1, W + 2 half)``, ``minus``: ``(half, W + 2 half)``; columns ``[half,
    half + W)`` hold the image columns, the ``half`` border columns on each side are reflected.
    """
    h, w = img.shape
    for i in range(half):
        top, bottom = img[_reflect(r + i - half, h)], img[_reflect(r + half - i, h)]
        p = plus[i, half:half + w]
        if with_minus:
            m = minus[i, half:half + w]
            for c in range(w):
                p[c] = top[c] + bottom[c]
                m[c] = top[c] - bottom[c]
        else:
            for c in range(w):
                p[c] = top[c] + bottom[c]
    plus[half, half:half + w] = img[r]
    _reflect_columns(plus, half, w)
    if with_minus:
        _reflect_columns(minus, half, w)


# The filters below spell their sizes as literals: LLVM then unrolls the tap loops and
# vectorizes the loop over output columns (with run-time sizes it does neither). They write
# into arrays the caller allocates with numpy, which asks the kernel for transparent huge
# pages: first-touch page faults on numba-allocated 66 MB planes cost more than the filtering.


@njit(**_JIT)
def lo0_filter(img: np.ndarray, kernel: np.ndarray, out: np.ndarray) -> None:
    """``out`` = 'same' reflect-101 correlation of ``img`` (``(H, W) float64``) with a 5x5 kernel
    symmetric in both axes."""
    h, w = img.shape
    plus = np.empty((3, w + 4))
    unused = np.empty((1, 1))
    for r in range(h):
        _fold_rows(img, r, 2, plus, unused, False)
        _lo0_row(plus, kernel, out[r])


@njit(**_JIT)
def lo_filter_stride2(img: np.ndarray, kernel: np.ndarray, out: np.ndarray) -> None:
    """pyiqa's ``corrDn(step=2)`` with a 9x9 kernel symmetric in both axes, reflect-101.

    ``img``: ``(H, W) float64``; ``out``: ``(ceil(H / 2), ceil(W / 2))``, the 'same' correlation
    at even rows and
    columns. Each folded row is split into its even and odd columns, so every tap reads a
    contiguous run (padded column ``2 oc + j`` is entry ``oc + j // 2`` of phase ``j % 2``).
    """
    h, w = img.shape
    out_h, out_w = out.shape
    plus = np.empty((5, w + 8))
    unused = np.empty((1, 1))
    n_even = (w + 9) // 2
    phases = np.zeros((5, 2, n_even))
    for orow in range(out_h):
        _fold_rows(img, 2 * orow, 4, plus, unused, False)
        for i in range(5):
            row = plus[i]
            for c in range(n_even):
                phases[i, 0, c] = row[2 * c]
            for c in range(w + 8 - n_even):
                phases[i, 1, c] = row[2 * c + 1]
        acc = out[orow]
        for c in range(out_w):
            total = 0.0
            for i in range(5):
                for j in range(4):
                    mirror = 8 - j
                    near = phases[i, j % 2, c + j // 2]
                    total += kernel[i, j] * (near + phases[i, mirror % 2, c + mirror // 2])
                total += kernel[i, 4] * phases[i, 0, c + 2]
            acc[c] = total


@njit(**_JIT)
def _band_row(plus: np.ndarray, minus: np.ndarray, b0: np.ndarray, acc0: np.ndarray,
              acc3: np.ndarray) -> None:
    """One output row of both bands from the folded rows (see ``band_pair``)."""
    w = acc0.shape[0]
    # b0[i, j] = -b0[i, 6 - j] = b0[6 - i, j] (middle column 0): rows folded with +, columns with -.
    for c in range(w):
        total = 0.0
        for i in range(4):
            for j in range(3):
                total += b0[i, j] * (plus[i, c + j] - plus[i, c + 6 - j])
        acc0[c] = total
    # b3[i, j] = -b0[j, i] (middle row 0): rows folded with -, columns with +, middle column alone.
    for c in range(w):
        total = 0.0
        for i in range(3):
            for j in range(3):
                total += -b0[j, i] * (minus[i, c + j] + minus[i, c + 6 - j])
            total += -b0[3, i] * minus[i, c + 3]
        acc3[c] = total


@njit(**_JIT)
def band_pair(lo: np.ndarray, b0: np.ndarray, r0: int, out0: np.ndarray, out3: np.ndarray) -> None:
    """Rows ``[r0, r0 + len(out0))`` of the orientation-0 and -3 bands of a low-pass level.

    ``lo``: ``(H, W) float64``; ``out0, out3``: ``(n, W) float64``; ``b0``: ``(7, 7)`` band
    filter, symmetric in rows and antisymmetric in columns; the orientation-3 filter is
    ``-b0.T`` (checked by the caller). 'same' reflect-101 correlation of the whole ``lo``, so
    strips of rows equal the rows of the whole band.
    """
    w = lo.shape[1]
    plus = np.empty((4, w + 6))  # lo[r + i - 3] + lo[r + 3 - i]; last row: lo[r]
    minus = np.empty((3, w + 6))  # lo[r + i - 3] - lo[r + 3 - i]
    for k in range(out0.shape[0]):
        _fold_rows(lo, r0 + k, 3, plus, minus, True)
        _band_row(plus, minus, b0, out0[k], out3[k])
