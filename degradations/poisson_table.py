"""Poisson counts for 8-bit images by table inversion: torch.poisson's distribution, ~6x cheaper.

Real-ESRGAN's shot noise draws ``Poisson(lam)`` for every pixel with ``lam = code / 255 * L``:
``code`` is the pixel's 8-bit level and ``L <= 256`` is fixed per image, so an image has at
most 256 distinct rates. ``torch.poisson`` treats every value as a new rate (a transformed-
rejection sampler, ~65 ns per value on one CPU core; 2.3 s for a 12 MP colour image). Here the
cumulative distribution of each rate is tabulated once (float64, up to ``lam + 10 sqrt(lam) +
20``, beyond which the tail mass is < 1e-20) with a guide table (Chen and Asau 1974), and every
pixel inverts one float64 uniform: ``count = min{k : CDF(k) > u}``. The guide table starts the
search at most one step or two below the answer, so a value costs a few ns.

This is exact inversion: the counts follow the Poisson law up to the 2^-53 resolution of the
uniforms (a tail event rarer than that cannot be drawn; torch's sampler has its own float
limits). It is a *different random stream* from ``torch.poisson``, so records say which
sampler made their noise (``NoiseParams.sampler``), and replay uses the same one. The uniforms
come from ``numpy.random.Generator(PCG64(seed))``, whose stream NumPy keeps stable across
versions and platforms, in chunks (the stream does not depend on the chunking), so the field
is the same on every machine and independent of the torch device.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - numba is a core dependency
    raise ImportError("the inverse-CDF Poisson sampler compiles with numba; install it with "
                      "`pip install 'numba>=0.59'` (a core dependency of portraitsr4k)") from err

__all__ = ["poisson_counts", "poisson_tables"]

_CHUNK = 1 << 20  # uniforms per chunk: 8 MB of float64


def poisson_tables(rates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inverse-CDF tables of the Poisson laws with the given rates.

    Args:
        rates: ``(R,)`` float rates ``>= 0`` (here R = 256, one per 8-bit code).

    Returns:
        ``(cdf, cdf_start, guide, guide_start)``: flat float64 CDFs (the last entry of each
        forced to 1.0, so a search always ends), their start offsets ``(R + 1,)``, flat int64
        guide tables (``guide[g]`` = smallest ``k`` with ``CDF(k) > g / G``, ``G`` = the CDF's
        length) and their offsets ``(R + 1,)``.
    """
    rates = np.asarray(rates, np.float64)
    if rates.ndim != 1 or not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError(f"rates must be a 1-D array of finite values >= 0, got {rates!r}")
    cdfs, guides = [], []
    for lam in rates:
        n = int(math.ceil(lam + 10.0 * math.sqrt(lam) + 20.0)) + 1
        pmf = np.empty(n)
        pmf[0] = math.exp(-lam)
        for k in range(1, n):
            pmf[k] = pmf[k - 1] * lam / k
        cdf = np.cumsum(pmf)
        cdf[-1] = 1.0
        guide = np.searchsorted(cdf, np.arange(n) / n, side="right")
        cdfs.append(cdf)
        guides.append(guide.astype(np.int64))
    starts = np.concatenate([[0], np.cumsum([len(c) for c in cdfs])]).astype(np.int64)
    return np.concatenate(cdfs), starts, np.concatenate(guides), starts.copy()


@njit(cache=True, nogil=True)
def _invert(codes: np.ndarray, uniforms: np.ndarray, cdf: np.ndarray, cdf_start: np.ndarray,
            guide: np.ndarray, guide_start: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = min{k : CDF_codes[i](k) > uniforms[i]}`` (as float32)."""
    for i in range(codes.shape[0]):
        c = codes[i]
        u = uniforms[i]
        base = cdf_start[c]
        size = cdf_start[c + 1] - base
        k = guide[guide_start[c] + int(u * size)]
        while cdf[base + k] <= u:
            k += 1
        out[i] = np.float32(k)


def poisson_counts(codes: np.ndarray, rates: np.ndarray, seed: int) -> np.ndarray:
    """Poisson counts with rate ``rates[code]`` for every pixel code.

    Args:
        codes: uint8 array of any shape (the 8-bit level of each value).
        rates: ``(256,)`` rates, ``rates[c]`` the Poisson mean for code ``c``.
        seed: seeds ``numpy.random.Generator(PCG64(seed))``; uniforms are drawn in ``codes``'
            C order.

    Returns:
        float32 array of ``codes``' shape with the counts.
    """
    if codes.dtype != np.uint8:
        raise TypeError(f"codes must be uint8 8-bit levels, got {codes.dtype}")
    rates = np.asarray(rates)
    if rates.shape != (256,):
        raise ValueError(f"rates must have shape (256,), one per 8-bit code, got {rates.shape}")
    tables = poisson_tables(rates)
    flat = np.ascontiguousarray(codes).reshape(-1)
    out = np.empty(flat.shape[0], np.float32)
    generator = np.random.Generator(np.random.PCG64(seed))
    uniforms = np.empty(min(_CHUNK, flat.shape[0]))
    for start in range(0, flat.shape[0], _CHUNK):
        stop = min(start + _CHUNK, flat.shape[0])
        u = uniforms[: stop - start]
        generator.random(out=u)
        _invert(flat[start:stop], u, *tables, out[start:stop])
    return out.reshape(codes.shape)
