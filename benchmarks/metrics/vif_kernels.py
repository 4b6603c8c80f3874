"""Compiled (numba) float64 kernels of the VIF metric: pyramid filters, covariance, block sums.

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

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - numba is a core dependency
    raise ImportError("the vif metric compiles its kernels with numba; install it with `pip install 'numba>=0.59'` "
                      "(a core dependency of portraitsr4k)") from err

__all__ = ["lo0_filter", "lo_filter_stride2", "band_pair", "neighbourhood_cov", "subband_sums"]

_JIT = {"cache": True, "nogil": True, "fastmath": False}


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
def _fold_rows(img: np.ndarray, r: int, half: int, plus: np.ndarray, minus: np.ndarray, with_minus: bool) -> None:
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
        acc = out[r]
        for c in range(w):
            total = 0.0
            for i in range(3):
                for j in range(2):
                    total += kernel[i, j] * (plus[i, c + j] + plus[i, c + 4 - j])
                total += kernel[i, 2] * plus[i, c + 2]
            acc[c] = total


@njit(**_JIT)
def lo_filter_stride2(img: np.ndarray, kernel: np.ndarray, out: np.ndarray) -> None:
    """pyiqa's ``corrDn(step=2)`` with a 9x9 kernel symmetric in both axes, reflect-101.

    ``img``: ``(H, W) float64``; ``out``: ``(ceil(H / 2), ceil(W / 2))``, the 'same' correlation at even rows and
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
                    total += kernel[i, j] * (phases[i, j % 2, c + j // 2] + phases[i, (8 - j) % 2, c + (8 - j) // 2])
                total += kernel[i, 4] * phases[i, 0, c + 2]
            acc[c] = total


@njit(**_JIT)
def _band_row(plus: np.ndarray, minus: np.ndarray, b0: np.ndarray, acc0: np.ndarray, acc3: np.ndarray) -> None:
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
def band_pair(lo: np.ndarray, b0: np.ndarray, out0: np.ndarray, out3: np.ndarray) -> None:
    """Orientation-0 and -3 band images of a low-pass level into ``out0, out3`` (``(H, W) float64``).

    ``b0``: ``(7, 7)`` band filter, symmetric in rows and antisymmetric in columns; the
    orientation-3 filter is ``-b0.T`` (checked by the caller). 'same' reflect-101 correlation.
    """
    h, w = lo.shape
    plus = np.empty((4, w + 6))  # lo[r + i - 3] + lo[r + 3 - i]; last row: lo[r]
    minus = np.empty((3, w + 6))  # lo[r + i - 3] - lo[r + 3 - i]
    for r in range(h):
        _fold_rows(lo, r, 3, plus, minus, True)
        _band_row(plus, minus, b0, out0[r], out3[r])


@njit(**_JIT)
def neighbourhood_cov(band: np.ndarray) -> np.ndarray:
    """9x9 covariance of the 3x3 neighbourhoods of ``band`` (``(H, W) float64``, H, W >= 4).

    Component ``a = 3k + j`` is the pixel at offset ``(k, j)`` of a neighbourhood; all
    ``(H - 2)(W - 2)`` positions, mean removed, divided by their count. The 45 entries share 13
    lags ``(dk, dj)``: per lag the products ``band[r, c] band[r + dk, c + dj]`` are summed down
    the columns (rows 2 .. H - 3, which every entry covers, plus the 4 edge rows kept apart), and
    each entry then adds the columns and edge rows of its own window.
    """
    h, w = band.shape
    h2, w2 = h - 2, w - 2
    count = float(h2 * w2)
    lags = np.empty((13, 2), np.int64)
    n_lags = 0
    for dk in range(3):
        for dj in range(-2, 3):
            if dk == 0 and dj < 0:
                continue
            lags[n_lags, 0], lags[n_lags, 1] = dk, dj
            n_lags += 1
    mid = np.zeros((n_lags, w))  # column sums over rows [2, h - 2), at the column of band[r, c]
    edge = np.zeros((n_lags, 4, w))  # rows 0, 1, h - 2, h - 1 (where r + dk < h)
    edge_rows = (0, 1, h - 2, h - 1)
    for r in range(2, h - 2):  # all lags per row: the 3 rows involved stay in cache
        for lag in range(n_lags):
            dk, dj = lags[lag, 0], lags[lag, 1]
            c_lo, c_hi = max(0, -dj), min(w, w - dj)
            a, b = band[r, c_lo:c_hi], band[r + dk, c_lo + dj:c_hi + dj]
            acc = mid[lag, c_lo:c_hi]
            for c in range(c_hi - c_lo):
                acc[c] += a[c] * b[c]
    for e in range(4):
        r = edge_rows[e]
        for lag in range(n_lags):
            dk, dj = lags[lag, 0], lags[lag, 1]
            if r + dk < h:
                c_lo, c_hi = max(0, -dj), min(w, w - dj)
                a, b = band[r, c_lo:c_hi], band[r + dk, c_lo + dj:c_hi + dj]
                out = edge[lag, e, c_lo:c_hi]
                for c in range(c_hi - c_lo):
                    out[c] = a[c] * b[c]
    col_mid = np.zeros(w)
    for r in range(2, h - 2):
        row = band[r]
        for c in range(w):
            col_mid[c] += row[c]
    means = np.empty(9)
    for a in range(9):
        k, j = a // 3, a % 3
        total = 0.0
        for c in range(j, j + w2):
            s = col_mid[c]
            for e in range(4):
                r = edge_rows[e]
                if k <= r < k + h2:
                    s += band[r, c]
            total += s
        means[a] = total / count
    cov = np.empty((9, 9))
    for a in range(9):
        k, j = a // 3, a % 3
        for b in range(a, 9):
            dk, dj = b // 3 - k, b % 3 - j
            lag = 0
            while lags[lag, 0] != dk or lags[lag, 1] != dj:
                lag += 1
            total = 0.0
            for c in range(j, j + w2):
                s = mid[lag, c]
                for e in range(4):
                    r = edge_rows[e]
                    if k <= r < k + h2:
                        s += edge[lag, e, c]
                total += s
            cov[a, b] = cov[b, a] = (total - count * means[a] * means[b]) / count
    return cov


@njit(**_JIT)
def _column_sums(ref: np.ndarray, dist: np.ndarray, r0: int, n_rows: int, sums: np.ndarray) -> None:
    """``sums[:, c]`` = sums of ``x, y, x^2, y^2, xy`` over rows ``[r0, r0 + n_rows)``, every column.

    Direct sums (never a running sum with subtractions, whose rounding would leave a flat
    window a variance above pyiqa's ``tol``); three rows per pass over the columns.
    """
    w = ref.shape[1]
    sums[:] = 0.0
    r = r0
    while r < r0 + n_rows:
        if r + 3 <= r0 + n_rows:
            x0, x1, x2 = ref[r], ref[r + 1], ref[r + 2]
            y0, y1, y2 = dist[r], dist[r + 1], dist[r + 2]
            for c in range(w):
                sums[0, c] += x0[c] + x1[c] + x2[c]
                sums[1, c] += y0[c] + y1[c] + y2[c]
                sums[2, c] += x0[c] * x0[c] + x1[c] * x1[c] + x2[c] * x2[c]
                sums[3, c] += y0[c] * y0[c] + y1[c] * y1[c] + y2[c] * y2[c]
                sums[4, c] += x0[c] * y0[c] + x1[c] * y1[c] + x2[c] * y2[c]
            r += 3
        else:
            x0, y0 = ref[r], dist[r]
            for c in range(w):
                sums[0, c] += x0[c]
                sums[1, c] += y0[c]
                sums[2, c] += x0[c] * x0[c]
                sums[3, c] += y0[c] * y0[c]
                sums[4, c] += x0[c] * y0[c]
            r += 1


@njit(**_JIT)
def _window_sums(cols: np.ndarray, c_first: int, window: int, n_blocks: int, groups: np.ndarray,
                 out: np.ndarray) -> None:
    """``out[q, b]`` = sum of ``cols[q, c_first + 3b : c_first + 3b + window]``, ``b < n_blocks``.

    Column triples are summed once (``groups``) and shared by the overlapping windows; the
    window's first and last columns that do not fill a triple are added alone.
    """
    left = (3 - c_first % 3) % 3  # columns before the first whole triple
    n_groups = (window - left) // 3
    right = window - left - 3 * n_groups
    g_first = (c_first + left) // 3  # index of the first whole triple (triple m: columns 3m .. 3m + 2)
    n_triples = g_first + n_blocks - 1 + n_groups
    for q in range(5):
        col, grp = cols[q], groups[q]
        for m in range(n_triples):
            grp[m] = col[3 * m] + col[3 * m + 1] + col[3 * m + 2]
        acc = out[q]
        acc[:n_blocks] = 0.0
        for t in range(left):
            for b in range(n_blocks):
                acc[b] += col[c_first + t + 3 * b]
        for d in range(n_groups):
            g = grp[g_first + d:g_first + d + n_blocks]
            for b in range(n_blocks):
                acc[b] += g[b]
        for t in range(right):
            for b in range(n_blocks):
                acc[b] += col[c_first + window - right + t + 3 * b]


@njit(**_JIT)
def subband_sums(ref: np.ndarray, dist: np.ndarray, window: int, basis: np.ndarray, weights: np.ndarray,
                 coeffs: np.ndarray, sigma_nsq: float, tol: float) -> tuple[float, float]:
    """(numerator, denominator) of VIF over the kept 3x3 blocks of one subband.

    ``ref, dist``: ``(h, w) float64`` bands cropped to multiples of 3. Per block ``(i, c)``
    (centred on pixel ``(3i + 1, 3c + 1)``, blocks within ``ceil((window // 2) / 3)`` of the
    border dropped, so every window lies inside the band): box sums of ``x, y, x^2, y^2, xy``
    over the ``window x window`` neighbourhood -> gain ``g`` and distortion variance ``vv``
    with pyiqa's ``tol`` cases; ``s = sum_e weights[e] (v . basis[:, e])^2`` of the block's 9
    values ``v`` (``basis``: ``(9, 9)``, ``weights``: ``(9,)``); then ``log2(prod_j (1 + a
    lambda_j))`` as ``log2 sum_k coeffs[k] a^k`` (``coeffs``: ``(10,)``, the elementary symmetric
    polynomials of the eigenvalues, ``coeffs[0] = 1``) at ``a = g^2 s / (vv + sigma_nsq)`` and
    at ``a = s / sigma_nsq``. The numbers are computed for a whole row of blocks at a time
    (loops over blocks, which LLVM vectorizes); only the logs are per block.
    """
    h, w = ref.shape
    pad = window // 2
    hb, wb = h // 3, w // 3
    off = (pad + 2) // 3
    nb = wb - 2 * off
    n = float(window * window)
    cols = np.empty((5, w))
    groups = np.empty((5, w // 3 + 1))
    box = np.empty((5, nb))
    v = np.empty((9, nb))
    s = np.empty(nb)
    p_num = np.empty(nb)
    p_den = np.empty(nb)
    num = 0.0
    den = 0.0
    for i in range(off, hb - off):
        _column_sums(ref, dist, 3 * i + 1 - pad, window, cols)
        _window_sums(cols, 3 * off + 1 - pad, window, nb, groups, box)
        for k in range(3):
            row = ref[3 * i + k]
            for j in range(3):
                vj = v[3 * k + j]
                for b in range(nb):
                    vj[b] = row[3 * (off + b) + j]
        for b in range(nb):
            acc = 0.0
            for e in range(9):
                p = 0.0
                for a in range(9):
                    p += v[a, b] * basis[a, e]
                acc += p * p * weights[e]
            s[b] = acc
        for b in range(nb):
            bx, by, bxx, byy, bxy = box[0, b], box[1, b], box[2, b], box[3, b], box[4, b]
            cov = bxy - bx * by / n
            ss_x = max(bxx - bx * bx / n, 0.0)
            ss_y = max(byy - by * by / n, 0.0)
            g = cov / (ss_x + tol)
            vv = (ss_y - g * cov) / n
            if ss_x < tol:
                g = 0.0
                vv = ss_y
            if ss_y < tol:
                g = 0.0
                vv = 0.0
            if g < 0:
                vv = ss_y
                g = 0.0
            if vv < tol:
                vv = tol
            a_num = g * g * s[b] / (vv + sigma_nsq)
            a_den = s[b] / sigma_nsq
            pn = coeffs[9]
            pd = coeffs[9]
            for k in range(8, -1, -1):  # Horner
                pn = pn * a_num + coeffs[k]
                pd = pd * a_den + coeffs[k]
            p_num[b] = pn
            p_den[b] = pd
        # sum of log2 == log2 of the product: one log per ~1e150 of product instead of one per block.
        prod_num = 1.0
        prod_den = 1.0
        # Factors above 1e150 are logged alone and products flushed above 1e150: no overflow.
        for b in range(nb):
            if p_num[b] > 1e150:
                num += math.log2(p_num[b])
            else:
                prod_num *= p_num[b]
                if prod_num > 1e150:
                    num += math.log2(prod_num)
                    prod_num = 1.0
            if p_den[b] > 1e150:
                den += math.log2(p_den[b])
            else:
                prod_den *= p_den[b]
                if prod_den > 1e150:
                    den += math.log2(prod_den)
                    prod_den = 1.0
        num += math.log2(prod_num)
        den += math.log2(prod_den)
    return num, den
