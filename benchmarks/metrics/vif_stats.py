"""Compiled (numba) float64 kernels of the VIF metric's statistics: covariance ``C``, block sums.

Like ``vif_pyramid``: whole-row loops over contiguous columns without reductions, so LLVM
vectorizes them without ``fastmath``; every sum is direct (no running sums with subtractions).
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.metrics.jit import JIT_OPTIONS as _JIT
from benchmarks.metrics.jit import njit

__all__ = ["cov_accumulate", "cov_finish", "neighbourhood_cov", "subband_sums"]


@njit(**_JIT)
def _lags() -> np.ndarray:
    """The 13 lags ``(dk, dj)`` between the 9 neighbourhood components with ``dk >= 0``."""
    lags = np.empty((13, 2), np.int64)
    n_lags = 0
    for dk in range(3):
        for dj in range(-2, 3):
            if dk == 0 and dj < 0:
                continue
            lags[n_lags, 0], lags[n_lags, 1] = dk, dj
            n_lags += 1
    return lags


@njit(**_JIT)
def cov_accumulate(rows: np.ndarray, r_first: int, n_rows: int, h: int, w: int, mid: np.ndarray,
                   edge: np.ndarray, col_mid: np.ndarray, edge_band: np.ndarray) -> None:
    """Add band rows ``[r_first, r_first + n_rows)`` to the running sums of ``cov_finish``.

    ``rows[k]`` is band row ``r_first + k``, with the 2 rows after the range when they exist
    (``rows``: ``(>= min(n_rows + 2, h - r_first), >= w) float64``); only columns ``[0, w)`` and
    rows ``[0, h)`` of the band count. State (zeros at the start): ``mid`` ``(13, w)``, per lag
    ``(dk, dj)`` the column sums of ``band[r, c] band[r + dk, c + dj]`` over rows ``[2, h - 2)``
    (which every entry covers); ``edge`` ``(13, 4, w)``, the products of rows ``0, 1, h - 2,
    h - 1`` kept apart; ``col_mid`` ``(w,)`` and ``edge_band`` ``(4, w)``, the same for the values.
    """
    lags = _lags()
    r = r_first
    end = r_first + n_rows
    while r < end:
        is_mid = 2 <= r < h - 2
        if is_mid and r + 4 <= min(end, h - 2):  # 4 rows per pass: 1/4 of the accumulator traffic
            k = r - r_first
            for lag in range(13):
                dk, dj = lags[lag, 0], lags[lag, 1]
                c_lo, c_hi = max(0, -dj), min(w, w - dj)
                acc = mid[lag, c_lo:c_hi]
                a0, b0 = rows[k, c_lo:c_hi], rows[k + dk, c_lo + dj:c_hi + dj]
                a1, b1 = rows[k + 1, c_lo:c_hi], rows[k + 1 + dk, c_lo + dj:c_hi + dj]
                a2, b2 = rows[k + 2, c_lo:c_hi], rows[k + 2 + dk, c_lo + dj:c_hi + dj]
                a3, b3 = rows[k + 3, c_lo:c_hi], rows[k + 3 + dk, c_lo + dj:c_hi + dj]
                for c in range(c_hi - c_lo):
                    acc[c] += a0[c] * b0[c] + a1[c] * b1[c] + a2[c] * b2[c] + a3[c] * b3[c]
            for t in range(4):
                row = rows[k + t]
                for c in range(w):
                    col_mid[c] += row[c]
            r += 4
            continue
        k = r - r_first
        slot = r if r < 2 else (r - h + 4 if r >= h - 2 else -1)
        for lag in range(13):
            dk, dj = lags[lag, 0], lags[lag, 1]
            if r + dk >= h:
                continue
            c_lo, c_hi = max(0, -dj), min(w, w - dj)
            a0, b0 = rows[k, c_lo:c_hi], rows[k + dk, c_lo + dj:c_hi + dj]
            if is_mid:
                acc = mid[lag, c_lo:c_hi]
                for c in range(c_hi - c_lo):
                    acc[c] += a0[c] * b0[c]
            else:
                out = edge[lag, slot, c_lo:c_hi]
                for c in range(c_hi - c_lo):
                    out[c] = a0[c] * b0[c]
        if is_mid:
            row = rows[k]
            for c in range(w):
                col_mid[c] += row[c]
        else:
            edge_band[slot, :] = rows[k, :w]
        r += 1


@njit(**_JIT)
def cov_finish(h: int, w: int, mid: np.ndarray, edge: np.ndarray, col_mid: np.ndarray,
               edge_band: np.ndarray) -> np.ndarray:
    """9x9 neighbourhood covariance from the sums of ``cov_accumulate`` over all ``h`` band rows.

    Each entry ``(a, b)`` (component ``a = 3k + j`` at offset ``(k, j)``) adds the columns
    ``[j, j + w - 2)`` and the edge rows inside ``[k, k + h - 2)`` of its lag's sums.
    """
    lags = _lags()
    h2, w2 = h - 2, w - 2
    count = float(h2 * w2)
    edge_rows = (0, 1, h - 2, h - 1)
    means = np.empty(9)
    for a in range(9):
        k, j = a // 3, a % 3
        total = 0.0
        for c in range(j, j + w2):
            s = col_mid[c]
            for e in range(4):
                if k <= edge_rows[e] < k + h2:
                    s += edge_band[e, c]
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
                    if k <= edge_rows[e] < k + h2:
                        s += edge[lag, e, c]
                total += s
            cov[a, b] = cov[b, a] = (total - count * means[a] * means[b]) / count
    return cov


@njit(**_JIT)
def neighbourhood_cov(band: np.ndarray) -> np.ndarray:
    """9x9 covariance of the 3x3 neighbourhoods of ``band`` (``(H, W) float64``, H, W >= 4).

    Component ``a = 3k + j`` is the pixel at offset ``(k, j)`` of a neighbourhood; all
    ``(H - 2)(W - 2)`` positions, mean removed, divided by their count. The 45 entries share 13
    lags ``(dk, dj)``: per lag the products ``band[r, c] band[r + dk, c + dj]`` are summed down
    the columns once (``cov_accumulate``), and each entry then adds the columns and edge rows of
    its own window (``cov_finish``).
    """
    h, w = band.shape
    mid, edge = np.zeros((13, w)), np.zeros((13, 4, w))
    col_mid, edge_band = np.zeros(w), np.zeros((4, w))
    cov_accumulate(band, 0, h, h, w, mid, edge, col_mid, edge_band)
    return cov_finish(h, w, mid, edge, col_mid, edge_band)


@njit(**_JIT)
def _triple_sums(ref: np.ndarray, dist: np.ndarray, r: int, out: np.ndarray) -> None:
    """``out[:, c]`` = sums of ``x, y, x^2, y^2, xy`` over rows ``r, r + 1, r + 2``, ``c < out.shape[1]``."""
    x0, x1, x2 = ref[r], ref[r + 1], ref[r + 2]
    y0, y1, y2 = dist[r], dist[r + 1], dist[r + 2]
    for c in range(out.shape[1]):
        out[0, c] = x0[c] + x1[c] + x2[c]
        out[1, c] = y0[c] + y1[c] + y2[c]
        out[2, c] = x0[c] * x0[c] + x1[c] * x1[c] + x2[c] * x2[c]
        out[3, c] = y0[c] * y0[c] + y1[c] * y1[c] + y2[c] * y2[c]
        out[4, c] = x0[c] * y0[c] + x1[c] * y1[c] + x2[c] * y2[c]


@njit(**_JIT)
def _add_row(ref: np.ndarray, dist: np.ndarray, r: int, sums: np.ndarray) -> None:
    """``sums[:, c] +=`` ``x, y, x^2, y^2, xy`` of row ``r``."""
    x0, y0 = ref[r], dist[r]
    for c in range(sums.shape[1]):
        sums[0, c] += x0[c]
        sums[1, c] += y0[c]
        sums[2, c] += x0[c] * x0[c]
        sums[3, c] += y0[c] * y0[c]
        sums[4, c] += x0[c] * y0[c]


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
def _block_polynomials(box: np.ndarray, s: np.ndarray, coeffs: np.ndarray, n: float, sigma_nsq: float,
                       tol: float, p_num: np.ndarray, p_den: np.ndarray) -> None:
    """Per block: gain and distortion variance from its box sums, then ``sum_k coeffs[k] a^k`` at the
    numerator's and the denominator's ``a`` (see ``subband_sums``).

    ``box``: ``(5, nb)`` sums of ``x, y, x^2, y^2, xy``; ``s``: ``(nb,)``; ``coeffs``: ``(10,)``.
    Conditionals are written as selects and Horner's rule with literal coefficients, so both
    loops vectorize (the same IEEE operations per block as the scalar form, so the same values).
    """
    nb = s.shape[0]
    x, y, xx, yy, xy = box[0], box[1], box[2], box[3], box[4]
    for b in range(nb):
        bx, by = x[b], y[b]
        cov = xy[b] - bx * by / n
        ss_x = xx[b] - bx * bx / n
        ss_x = ss_x if ss_x > 0.0 else 0.0
        ss_y = yy[b] - by * by / n
        ss_y = ss_y if ss_y > 0.0 else 0.0
        g = cov / (ss_x + tol)
        vv = (ss_y - g * cov) / n
        # pyiqa's tol cases, in its order: flat reference, flat distortion, negative gain.
        flat_x = ss_x < tol
        g = 0.0 if flat_x else g
        vv = ss_y if flat_x else vv
        flat_y = ss_y < tol
        g = 0.0 if flat_y else g
        vv = 0.0 if flat_y else vv
        negative = g < 0.0
        vv = ss_y if negative else vv
        g = 0.0 if negative else g
        vv = tol if vv < tol else vv
        p_num[b] = g * g * s[b] / (vv + sigma_nsq)
        p_den[b] = s[b] / sigma_nsq
    c0, c1, c2, c3, c4 = coeffs[0], coeffs[1], coeffs[2], coeffs[3], coeffs[4]
    c5, c6, c7, c8, c9 = coeffs[5], coeffs[6], coeffs[7], coeffs[8], coeffs[9]
    for b in range(nb):
        a = p_num[b]
        p_num[b] = (((((((((c9 * a + c8) * a + c7) * a + c6) * a + c5) * a + c4) * a + c3) * a + c2) * a + c1)
                    * a + c0)
        a = p_den[b]
        p_den[b] = (((((((((c9 * a + c8) * a + c7) * a + c6) * a + c5) * a + c4) * a + c3) * a + c2) * a + c1)
                    * a + c0)


@njit(**_JIT)
def _add_log2_sum(total: float, factors: np.ndarray, n: int) -> float:
    """``total + sum(log2(factors[:n]))`` (factors >= 1) with one log per ~1e150 of product
    instead of one per factor: factors above 1e150 are logged alone and the running product is
    flushed above 1e150, so nothing overflows."""
    product = 1.0
    for b in range(n):
        if factors[b] > 1e150:
            total += math.log2(factors[b])
        else:
            product *= factors[b]
            if product > 1e150:
                total += math.log2(product)
                product = 1.0
    return total + math.log2(product)


@njit(**_JIT)
def subband_sums(ref: np.ndarray, dist: np.ndarray, row0: int, i_first: int, i_last: int, width: int,
                 window: int, basis: np.ndarray, weights: np.ndarray, coeffs: np.ndarray, sigma_nsq: float,
                 tol: float) -> tuple[float, float]:
    """(numerator, denominator) of VIF over the kept 3x3 blocks of one subband.

    ``ref, dist``: strips of the two bands, ``(n, >= width) float64``, row ``k`` being band row
    ``row0 + k``; block rows ``[i_first, i_last)`` are summed, which need band rows
    ``[3 i_first + 1 - window // 2, 3 i_last - 2 + window // 2]``; ``width``: the band width
    cropped to a multiple of 3. Per block ``(i, c)`` (centred on pixel ``(3i + 1, 3c + 1)``;
    the caller drops the block rows, and this function the block columns, within
    ``ceil((window // 2) / 3)`` of the border, so every window lies inside the band): box sums
    of ``x, y, x^2, y^2, xy``
    over the ``window x window`` neighbourhood -> gain ``g`` and distortion variance ``vv``
    with pyiqa's ``tol`` cases; ``s = sum_e weights[e] (v . basis[:, e])^2`` of the block's 9
    values ``v`` (``basis``: ``(9, 9)``, ``weights``: ``(9,)``); then ``log2(prod_j (1 + a
    lambda_j))`` as ``log2 sum_k coeffs[k] a^k`` (``coeffs``: ``(10,)``, the elementary symmetric
    polynomials of the eigenvalues, ``coeffs[0] = 1``) at ``a = g^2 s / (vv + sigma_nsq)`` and
    at ``a = s / sigma_nsq``. The numbers are computed for a whole row of blocks at a time
    (loops over blocks, which LLVM vectorizes); only the logs are per block.
    """
    w = width
    pad = window // 2
    wb = w // 3
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
    # Window rows of block row i: [3i + 1 - pad, 3i + 1 + pad] = `left` single rows, `n_groups`
    # whole row triples (triple m: rows 3m .. 3m + 2) and `right` single rows. Consecutive block
    # rows share all but one triple, so triple sums live in a ring and each is summed once; all
    # sums are direct (no running sum with subtractions, whose rounding would leave a flat
    # window a variance above pyiqa's ``tol``).
    left = (3 - (1 - pad) % 3) % 3
    n_groups = (window - left) // 3
    right = window - left - 3 * n_groups
    ring = np.empty((n_groups, 5, w))
    for i in range(i_first, i_last):
        r0 = 3 * i + 1 - pad  # band row of the window's first row; strip row r - row0
        g0 = (r0 + left) // 3
        if i == i_first:
            for g in range(g0, g0 + n_groups):
                _triple_sums(ref, dist, 3 * g - row0, ring[g % n_groups])
        else:
            g = g0 + n_groups - 1
            _triple_sums(ref, dist, 3 * g - row0, ring[g % n_groups])
        cols[:] = ring[0]
        for slot in range(1, n_groups):
            src = ring[slot]
            for q in range(5):
                acc, add = cols[q], src[q]
                for c in range(w):
                    acc[c] += add[c]
        for r in range(r0, r0 + left):
            _add_row(ref, dist, r - row0, cols)
        for r in range(r0 + window - right, r0 + window):
            _add_row(ref, dist, r - row0, cols)
        _window_sums(cols, 3 * off + 1 - pad, window, nb, groups, box)
        for k in range(3):
            row = ref[3 * i + k - row0]
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
        _block_polynomials(box, s, coeffs, n, sigma_nsq, tol, p_num, p_den)
        num = _add_log2_sum(num, p_num, nb)
        den = _add_log2_sum(den, p_den, nb)
    return num, den
