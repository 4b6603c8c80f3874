"""Compiled (numba) float64 kernel of SSIM's window sums on one tile (SSIM and MS-SSIM).

One call filters a tile's four planes ``u = x + y``, ``v = x - y``, ``u^2``, ``v^2`` with the
separable 11-tap Gaussian (rows first, then columns; the taps are exactly symmetric, so they
are folded: ``g_k (a + b)`` instead of ``g_k a + g_k b``), forms the contrast-structure and SSIM
maps row by row and sums them. No image-sized temporaries: the row-filtered planes live in a
caller-owned scratch array that each thread reuses (at 4K a fresh multi-MB array per tile costs
more in page faults than the filtering). Like the VIF kernels: no ``fastmath`` (it would reorder
sums), inner loops over contiguous columns without reductions, so LLVM vectorizes them.

The maps are those of ``pixel.ssim_map`` up to float64 rounding (~1e-13 relative on the
variances of 0..510 data; the tests compare the sums with the five-filter reference).
"""

from __future__ import annotations

import numpy as np
from benchmarks.metrics.jit import JIT_OPTIONS as _JIT
from benchmarks.metrics.jit import njit

__all__ = ["WINDOW", "ssim_tile_sums"]

WINDOW = 11
_HALF = 5


@njit(**_JIT)
def _fold_filter(src: np.ndarray, g: np.ndarray, dst: np.ndarray) -> None:
    """``dst[c] = sum_k g[k] src[c + k]`` for ``c < len(dst)``, symmetric taps folded (1-D views).

    All 11 taps in one pass (one store per output; six passes of ``+=`` cost twice as much).
    """
    g0, g1, g2, g3, g4, g5 = g[0], g[1], g[2], g[3], g[4], g[5]
    for c in range(dst.shape[0]):
        dst[c] = (g5 * src[c + 5] + g4 * (src[c + 4] + src[c + 6]) + g3 * (src[c + 3] + src[c + 7])
                  + g2 * (src[c + 2] + src[c + 8]) + g1 * (src[c + 1] + src[c + 9])
                  + g0 * (src[c] + src[c + 10]))


@njit(**_JIT)
def _fold_columns(top: np.ndarray, g: np.ndarray, i: int, dst: np.ndarray) -> None:
    """``dst[c] = sum_k g[k] top[i + k, c]``: the column pass of one output row (folded taps)."""
    g0, g1, g2, g3, g4, g5 = g[0], g[1], g[2], g[3], g[4], g[5]
    r0, r1, r2, r3, r4, r5 = top[i], top[i + 1], top[i + 2], top[i + 3], top[i + 4], top[i + 5]
    r6, r7, r8, r9, r10 = top[i + 6], top[i + 7], top[i + 8], top[i + 9], top[i + 10]
    for c in range(dst.shape[0]):
        dst[c] = (g5 * r5[c] + g4 * (r4[c] + r6[c]) + g3 * (r3[c] + r7[c]) + g2 * (r2[c] + r8[c])
                  + g1 * (r1[c] + r9[c]) + g0 * (r0[c] + r10[c]))


@njit(**_JIT)
def _sum4(a: np.ndarray) -> float:
    """Sum of a 1-D array with four interleaved accumulators (a fixed order, so deterministic;
    one serial chain of additions is bound by the adder's latency, four are not)."""
    n = a.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    c = 0
    while c + 4 <= n:
        s0 += a[c]
        s1 += a[c + 1]
        s2 += a[c + 2]
        s3 += a[c + 3]
        c += 4
    while c < n:
        s0 += a[c]
        c += 1
    return (s0 + s1) + (s2 + s3)


@njit(**_JIT)
def ssim_tile_sums(x: np.ndarray, y: np.ndarray, g: np.ndarray, c1: float, c2: float, clamp_cs: bool,
                   luminance: bool, mask: np.ndarray, use_mask: bool, scratch: np.ndarray,
                   row: np.ndarray, maps: np.ndarray) -> tuple[float, float, int]:
    """(sum of cs, sum of SSIM, count) over the 'valid' window centres of one tile.

    Args:
        x, y: ``(h, w)`` tiles, ``h, w >= 11``, any real dtype holding the exact values (uint8,
            float32 or float64 on the ``0..data_range`` scale).
        g: ``(11,)`` float64 Gaussian taps (symmetric, summing to 1).
        c1, c2: SSIM's stabilizing constants for the data range.
        clamp_cs: clamp the cs term at 0 (pyiqa's ``relu``) before the product with luminance.
        luminance: also sum the SSIM map (else the second sum is 0.0).
        mask: ``(h - 10, w - 10) bool`` window centres that count, read when ``use_mask``.
        scratch: ``(4, h, w - 10)`` C-contiguous float64 work space (contents undefined).
        row: ``(4, w)`` C-contiguous float64 work space.
        maps: ``(6, w - 10)`` C-contiguous float64 work space.

    The work spaces have exactly these shapes so that every row the loops touch is a
    contiguous 1-D array type to numba (a sliced view is strided to the compiler and its
    loops stay scalar, 3x slower).
    """
    h, w = x.shape
    ho, wo = h - 2 * _HALF, w - 2 * _HALF
    u, v, uu, vv = row[0], row[1], row[2], row[3]
    for r in range(h):
        xr, yr = x[r], y[r]
        for c in range(w):
            u[c] = np.float64(xr[c]) + np.float64(yr[c])
        for c in range(w):
            v[c] = np.float64(xr[c]) - np.float64(yr[c])
        for c in range(w):
            uu[c] = u[c] * u[c]
        for c in range(w):
            vv[c] = v[c] * v[c]
        for p in range(4):
            _fold_filter(row[p], g, scratch[p, r])
    mu_u, mu_v, e_uu, e_vv = maps[0], maps[1], maps[2], maps[3]
    cs_row, ssim_row = maps[4], maps[5]
    cs_sum = 0.0
    ssim_sum = 0.0
    count = 0
    two_c1, two_c2 = 2.0 * c1, 2.0 * c2
    floor = 0.0 if clamp_cs else -np.inf
    for i in range(ho):
        _fold_columns(scratch[0], g, i, mu_u)
        _fold_columns(scratch[1], g, i, mu_v)
        _fold_columns(scratch[2], g, i, e_uu)
        _fold_columns(scratch[3], g, i, e_vv)
        # A = var(u), B = var(v): 2 s12 = (A - B) / 2 and s1 + s2 = (A + B) / 2, so
        # cs = (A - B + 2 C2) / (A + B + 2 C2), l = (mu_u^2 - mu_v^2 + 2 C1) / (mu_u^2 + mu_v^2 + 2 C1).
        for c in range(wo):
            a = e_uu[c] - mu_u[c] * mu_u[c]
            b = e_vv[c] - mu_v[c] * mu_v[c]
            cs_row[c] = max((a - b + two_c2) / (a + b + two_c2), floor)
        if luminance:
            for c in range(wo):
                mu_u2 = mu_u[c] * mu_u[c]
                mu_v2 = mu_v[c] * mu_v[c]
                ssim_row[c] = (mu_u2 - mu_v2 + two_c1) / (mu_u2 + mu_v2 + two_c1) * cs_row[c]
        if use_mask:
            mrow = mask[i]
            for c in range(wo):
                if mrow[c]:
                    cs_sum += cs_row[c]
                    ssim_sum += ssim_row[c] if luminance else 0.0
                    count += 1
        else:
            cs_sum += _sum4(cs_row)
            if luminance:
                ssim_sum += _sum4(ssim_row)
            count += wo
    return cs_sum, ssim_sum, count
