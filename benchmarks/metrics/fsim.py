"""FSIM / FSIMc (Zhang et al. 2011) equal to pyiqa's ``fsim``, in numpy/scipy, fast at 4K.

pyiqa's ``fsim`` (``pyiqa/archs/fsim_arch.py``, default ``chromatic=True``) on ``(1, 3, H, W)``
float32 in [0, 1], and where this module does the same:

1. scale to 0..255 and average-pool with kernel = stride = ``max(1, round(min(H, W) / 256))``
   (Python's ``round``: half to even, so a 640-pixel side pools by 2, not 3);
   here: exact integer block sums of the uint8 image, divided in float64;
2. YIQ (``Y = 0.299 R + 0.587 G + 0.114 B``, I, Q rows of pyiqa's ``rgb2yiq``), not rounded;
3. phase congruency of each luma (:func:`phase_congruency`, Kovesi's PC_2 with pyiqa's choices:
   4 log-Gabor scales from wavelength 6 by factor 2, sigma_f 0.55, 4 orientations with angular
   sigma ``pi / (4 * 1.2)``, a Butterworth low-pass (cutoff 0.45, order 15), noise from the lower
   median of the smallest scale's squared amplitude, k = 2, threshold / 1.7);
4. gradient magnitude with Scharr kernels / 16, zero padding, ``sqrt(gx^2 + gy^2 + eps)``;
5. ``S = PC_sim(T1 = 0.85) * GM_sim(T2 = 160) * [|I_sim(T3 = 200) * Q_sim(T4 = 200)| ^ 0.03]``,
   each ``(2 a b + T) / (a^2 + b^2 + T + eps)``; FSIM = ``sum(S * PCm) / sum(PCm)`` with
   ``PCm = max(PC1, PC2)``.

``eps`` is float32's machine epsilon (1.19e-7) wherever pyiqa uses it, because it is part of
the definition (it decides PC in flat areas, where both sums vanish). One consequence:
identical images give ``1 - O(eps)`` (about 1 - 1e-7), as in pyiqa, not exactly 1.

Precision: pyiqa runs everything in float32. Here pooling, colour, filters, noise constants,
gradients and similarities are float64; the 16 complex filter responses per image (inverse
FFTs and per-pixel sums, most of the cost) are complex64 by default (``precision="single"``)
or complex128 (``"double"``, 1.3-1.7x slower). The two differ by ~1e-10 on photos; both
agree with pyiqa to its float32 accuracy (measured |ours - pyiqa| <= 3e-7, tests allow 2e-6).

Speed at 4K (one 3840x2160 pair pooled by 8 to 480x270): the pooling streams over the image in
bands that stay in cache; the filter bank of a size is cached (a benchmark repeats sizes) and
costs six exponentials per frequency (two for the four scales, one per orientation); the
noise constants pyiqa gets from 16 inverse FFTs of the filters come from Parseval sums in the
frequency domain instead.

Masks are not honoured (``supports_mask = False``): the phase congruency of a pixel depends on
its neighbourhood through the log-Gabor filters and the noise threshold on the whole image, so
a masked FSIM is not defined by the paper; the runner passes ``where(mask, sr, hr)`` instead.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import scipy.fft

from benchmarks.metrics.base import Metric, check_pair
from benchmarks.metrics.parallel import ordered_map, resolve_threads

__all__ = ["FSIM", "FilterBank", "filter_bank", "phase_congruency", "pool_factor", "pooled_yiq"]

EPS32 = float(np.finfo(np.float32).eps)  # pyiqa's EPS (its tensors are float32)
_YIQ = np.array([[0.299, 0.587, 0.114],
                 [0.5959, -0.2746, -0.3213],
                 [0.2115, -0.5227, 0.3112]])
_SCHARR_SMOOTH = np.array([3.0, 10.0, 3.0]) / 16.0
_SCHARR_DIFF = np.array([-1.0, 0.0, 1.0])
# Phase congruency parameters (pyiqa and Kovesi's defaults for FSIM).
SCALES, ORIENTATIONS, MIN_WAVELENGTH, MULT = 4, 4, 6.0, 2.0
SIGMA_F, DELTA_THETA, NOISE_K = 0.55, 1.2, 2.0
T1, T2, T3, T4, LAMBDA = 0.85, 160.0, 200.0, 200.0, 0.03
_BAND_ROWS = 128  # image rows per pooling band (~1.5 MB of uint16 at 4K width)


def pool_factor(height: int, width: int) -> int:
    """pyiqa's average-pooling factor ``max(1, round(min(H, W) / 256))`` (round half to even)."""
    return max(1, round(min(height, width) / 256))


def pooled_yiq(rgb: np.ndarray, k: int) -> np.ndarray:
    """``(H, W, 3) uint8`` -> ``(3, H // k, W // k) float64`` YIQ of the k x k block means on 0..255.

    Block sums of uint8 are exact integers; the mean and the colour matrix are linear, so
    pooling first (pyiqa pools the RGB image, then converts) costs one pass over the image.
    """
    h, w = rgb.shape[0] // k, rgb.shape[1] // k
    if k == 1:
        pooled = rgb.astype(np.float64)
    else:
        # Integer block sums, exact, in a type wide enough for k * k * 255 (uint16 up to k = 16).
        acc_type = np.uint16 if k * k * 255 <= np.iinfo(np.uint16).max else np.uint32
        sums = np.empty((h, w, 3), dtype=acc_type)
        band = max(1, _BAND_ROWS // k)  # output rows per band: intermediates stay in cache
        for o0 in range(0, h, band):
            o1 = min(h, o0 + band)
            img = rgb[o0 * k:o1 * k, :w * k]
            # Add the k rows of each block (strided views of whole rows), then its k columns.
            rows = img[0::k].astype(acc_type)
            for i in range(1, k):
                rows += img[i::k]
            blocks = rows.reshape(o1 - o0, w, k, 3)
            out = sums[o0:o1]
            np.copyto(out, blocks[:, :, 0])
            for j in range(1, k):
                out += blocks[:, :, j]
        pooled = sums.astype(np.float64)
        pooled /= k * k
    # Plain numpy arithmetic, not a BLAS matmul: a multithreaded BLAS spins its threads on
    # these small products (10x the CPU time of the arithmetic).
    planes = [np.ascontiguousarray(pooled[..., c]) for c in range(3)]
    yiq = np.empty((3, h, w))
    for i in range(3):
        np.multiply(planes[0], _YIQ[i, 0], out=yiq[i])
        yiq[i] += planes[1] * _YIQ[i, 1]
        yiq[i] += planes[2] * _YIQ[i, 2]
    return yiq


def _centred_grid(n: int) -> np.ndarray:
    """pyiqa's ``get_meshgrid`` axis: normalised frequencies, zero in the middle."""
    if n % 2:
        return np.arange(-(n - 1) / 2, n / 2) / (n - 1)
    return np.arange(-n / 2, n / 2) / n


@dataclass(frozen=True)
class FilterBank:
    """Log-Gabor filters of one image size and the noise constants that depend only on them.

    The filter of orientation ``o`` and scale ``s`` is ``spread[o] * log_gabor[s]`` (pyiqa builds
    the 16 products; keeping the factors halves the memory and the set-up time).

    Attributes:
        spread: ``(ORIENTATIONS, H, W) float64`` angular factors in (0, 1], zero frequency at ``[0, 0]``.
        log_gabor: ``(SCALES, H, W) float64`` radial factors (low-passed, 0 at ``[0, 0]``).
        em_n: ``(ORIENTATIONS,)`` sum of the squared smallest-scale filter.
        sum_an2: ``(ORIENTATIONS,)`` sum over scales and pixels of the squared spatial even filters.
        sum_ai_aj: ``(ORIENTATIONS,)`` sum over scale pairs s < t and pixels of their products.
    """

    spread: np.ndarray
    log_gabor: np.ndarray
    em_n: np.ndarray
    sum_an2: np.ndarray
    sum_ai_aj: np.ndarray

    def __post_init__(self) -> None:
        if self.spread.ndim != 3 or self.spread.shape[0] != ORIENTATIONS:
            raise ValueError(f"spread must be ({ORIENTATIONS}, H, W), got {self.spread.shape}")
        if self.log_gabor.shape != (SCALES,) + self.spread.shape[1:]:
            raise ValueError(f"log_gabor must be ({SCALES}, {self.spread.shape[1]}, {self.spread.shape[2]}), "
                             f"got {self.log_gabor.shape}")
        for name in ("em_n", "sum_an2", "sum_ai_aj"):
            if getattr(self, name).shape != (ORIENTATIONS,):
                raise ValueError(f"{name} must have shape ({ORIENTATIONS},), got {getattr(self, name).shape}")

    def filters(self) -> np.ndarray:
        """The 16 transfer functions, ``(ORIENTATIONS, SCALES, H, W) float64`` (pyiqa's layout)."""
        return self.spread[:, None] * self.log_gabor[None]


def _flip(x: np.ndarray) -> np.ndarray:
    """``x(-k mod N)`` over the last two axes (frequency negation in FFT order)."""
    return np.roll(x[..., ::-1, ::-1], 1, axis=(-2, -1))


@functools.lru_cache(maxsize=4)
def filter_bank(height: int, width: int) -> FilterBank:
    """The :class:`FilterBank` for ``(height, width)`` (cached: a benchmark repeats sizes)."""
    if height < 2 or width < 2:
        raise ValueError(f"phase congruency needs at least 2x2 pixels, got {width}x{height}")
    gx, gy = np.meshgrid(_centred_grid(height), _centred_grid(width), indexing="ij")
    radius_c = np.sqrt(gx * gx + gy * gy)
    radius = np.fft.ifftshift(radius_c)
    theta = np.fft.ifftshift(np.arctan2(-gy, gx))
    radius[0, 0] = 1.0  # log(0) avoided; the DC value is zeroed below
    # Butterworth low-pass 1 / (1 + (r / 0.45)^(2 * 15)); the power by repeated squaring.
    x2 = np.square(radius_c / 0.45)
    x4 = x2 * x2
    x8 = x4 * x4
    x30 = x8 * x8
    x30 *= x8
    x30 *= x4
    x30 *= x2
    x30 += 1.0
    lowpass = np.fft.ifftshift(1.0 / x30)
    # log_gabor_s = exp(-a (ln r - ln w_s)^2) * lowpass, with ln w_s = ln w_0 - s ln(MULT) and
    # a = 1 / (2 ln(SIGMA_F)^2). Expanding the square, log_gabor_s = base * ratio^s * c_s with
    # base = exp(-a u^2), ratio = exp(-2 a ln(MULT) u), u = ln r - ln w_0, c_s = exp(-a (s ln MULT)^2):
    # two exponentials instead of one per scale (exp dominates this set-up).
    a = 1.0 / (2.0 * math.log(SIGMA_F) ** 2)
    u = np.log(radius)
    u -= math.log(1.0 / MIN_WAVELENGTH)
    base = np.exp(-a * u * u)
    base *= lowpass
    base[0, 0] = 0.0  # no DC response
    ratio = np.exp((-2.0 * a * math.log(MULT)) * u)
    log_gabor = np.empty((SCALES, height, width))
    log_gabor[0] = base
    for s in range(1, SCALES):
        np.multiply(log_gabor[s - 1], ratio, out=log_gabor[s])
    for s in range(1, SCALES):
        log_gabor[s] *= math.exp(-a * (s * math.log(MULT)) ** 2)
    theta_sigma = math.pi / (ORIENTATIONS * DELTA_THETA)
    spread = np.empty((ORIENTATIONS, height, width))
    for o in range(ORIENTATIONS):
        # Angular distance to the filter orientation, wrapped to [-pi, pi] (pyiqa: atan2 of the
        # sine and cosine differences, the same angle). theta is in [-pi, pi] and the
        # orientation in [0, pi), so one turn added below -pi suffices.
        d_theta = theta - o * math.pi / ORIENTATIONS
        d_theta += (d_theta < -math.pi) * (2.0 * math.pi)
        d_theta *= d_theta
        d_theta *= -1.0 / (2.0 * theta_sigma ** 2)
        np.exp(d_theta, out=spread[o])
    # The spatial even filter is real(ifft2(F)) * sqrt(H W) = ifft2(E) * sqrt(H W) with E the
    # Hermitian part (F(k) + F(-k)) / 2; by Parseval its pixel sums of products are the
    # frequency sums of E_s * E_t, so no inverse FFT of the filters is needed. The radial
    # factor is even (|f(-k)| = |f(k)| on pyiqa's grids), so E_os = log_gabor_s * spread_even_o.
    spread_even = spread + _flip(spread)
    spread_even *= 0.5
    q = spread_even * spread_even  # (O, H, W)
    lg_sq = np.einsum("shw,shw->hw", log_gabor, log_gabor)  # sum_s LG_s^2
    lg_sum = log_gabor.sum(axis=0)
    lg_pairs = lg_sum * lg_sum  # (sum_s LG_s)^2 = sum_s LG_s^2 + 2 sum_{s<t} LG_s LG_t
    lg_pairs -= lg_sq
    lg_pairs *= 0.5
    sum_an2 = np.einsum("ohw,hw->o", q, lg_sq)
    sum_ai_aj = np.einsum("ohw,hw->o", q, lg_pairs)
    em_n = np.einsum("ohw,hw->o", spread * spread, log_gabor[0] * log_gabor[0])
    return FilterBank(spread=spread, log_gabor=log_gabor, em_n=em_n, sum_an2=sum_an2, sum_ai_aj=sum_ai_aj)


def _lower_median(values: np.ndarray) -> float:
    """``torch.median`` of a flat array: the lower of the two middle values for even sizes."""
    k = (values.size - 1) // 2
    return float(np.partition(values, k)[k])


PRECISIONS = ("single", "double")


def phase_congruency(luma: np.ndarray, precision: str = "single") -> np.ndarray:
    """Phase congruency maps of a batch of luma planes.

    Args:
        luma: ``(N, H, W) float64`` on 0..255 (any range works; the noise threshold adapts).
        precision: ``single``: the 16 filter responses per image (inverse FFTs and the
            per-pixel sums over them, ~2/3 of FSIM's cost) in complex64/float32, like pyiqa;
            ``double``: everything in float64 (1.3-1.7x slower; the reference the tests compare
            the single path with).

    Returns:
        ``(N, H, W) float64`` in ``[0, 1]`` (about 1 where all scales agree in phase).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    n, h, w = luma.shape
    bank = filter_bank(h, w)
    single = precision == "single"
    spread = bank.spread.astype(np.float32) if single else bank.spread
    log_gabor = bank.log_gabor.astype(np.float32) if single else bank.log_gabor
    spectrum = scipy.fft.fft2(luma, workers=1)  # (N, H, W) complex128
    if single:
        spectrum = spectrum.astype(np.complex64)
    real_type = np.float32 if single else np.float64
    energy_all = np.zeros((n, h, w), dtype=real_type)
    amplitude_all = np.zeros((n, h, w), dtype=real_type)
    for o in range(ORIENTATIONS):
        # Even (real) and odd (imaginary) responses of every image at every scale.
        eo = (spectrum * spread[o])[:, None] * log_gabor[None]  # (N, S, H, W)
        eo = scipy.fft.ifft2(eo, workers=1, overwrite_x=True)
        amplitude = np.abs(eo)
        amplitude_all += amplitude.sum(axis=1)
        total = eo.sum(axis=1)  # (N, H, W): summed response, its direction = mean phase
        # Sum over scales of A_s (cos(dphi_s) - |sin(dphi_s)|) = e.me + o.mo - |e.mo - o.me|, with
        # the mean-phase vector m = total / (|total| + eps): Re(eo_s conj m) summed over scales is
        # |total|^2 / (|total| + eps) and |e.mo - o.me| = |Im(eo_s conj total)| / (|total| + eps),
        # so the division by the positive |total| + eps is done once, after the sums.
        total_sq = np.square(total.real)
        total_sq += np.square(total.imag)
        eo *= np.conj(total)[:, None]
        energy = total_sq - np.abs(eo.imag).sum(axis=1)
        np.sqrt(total_sq, out=total_sq)
        total_sq += real_type(EPS32)
        energy /= total_sq
        for i in range(n):
            # Noise power from the smallest scale: the median of |eo|^2 (a Rayleigh/chi-square
            # statistic) gives its mean as median / ln 2; divided by the filter's energy.
            median = _lower_median(np.square(amplitude[i, 0]).ravel())  # float32 in single, as pyiqa
            noise_power = (-median / math.log(0.5)) / bank.em_n[o]
            noise_energy2 = 2.0 * noise_power * bank.sum_an2[o] + 4.0 * noise_power * bank.sum_ai_aj[o]
            tau = math.sqrt(noise_energy2 / 2.0)  # Rayleigh parameter of the noise energy
            threshold = (tau * math.sqrt(math.pi / 2.0) + NOISE_K * math.sqrt(2.0 - math.pi / 2.0) * tau) / 1.7
            energy[i] -= real_type(threshold)
            energy_all[i] += np.maximum(energy[i], 0.0)
    pc = energy_all.astype(np.float64)
    pc += EPS32
    pc /= amplitude_all + EPS32
    return pc


def _gradient_magnitude(plane: np.ndarray) -> np.ndarray:
    """Scharr gradient magnitude of ``(H, W) float64``, zero padding, as pyiqa's ``gradient_map``."""
    gx = cv2.sepFilter2D(plane, cv2.CV_64F, _SCHARR_DIFF, _SCHARR_SMOOTH, borderType=cv2.BORDER_CONSTANT)
    gy = cv2.sepFilter2D(plane, cv2.CV_64F, _SCHARR_SMOOTH, _SCHARR_DIFF, borderType=cv2.BORDER_CONSTANT)
    mag2 = gx * gx
    mag2 += gy * gy
    mag2 += EPS32
    return np.sqrt(mag2, out=mag2)


def _similarity(a: np.ndarray, b: np.ndarray, c: float) -> np.ndarray:
    return (2.0 * a * b + c) / (a * a + b * b + c + EPS32)


class FSIM(Metric):
    """FSIM (``chromatic=False``) or FSIMc (default), higher is better, at most ~1.

    Args:
        name: name in records.
        chromatic: include the I/Q chrominance similarity (FSIMc; pyiqa's default).
        precision: ``single`` (default, fast) or ``double`` arithmetic for the phase-congruency
            filter responses (:func:`phase_congruency`); both equal pyiqa to ~1e-6.
        regions: regions it is computed on.
        threads: CPU threads (``None``: torch's thread count); the two images' maps are
            computed on two of them. The value does not depend on it.

    ``compute(sr, hr)`` takes two ``(H, W, 3) uint8`` images whose pooled size (module
    docstring) is at least 2x2; ``mask`` is not supported (module docstring).
    """

    supports_mask = False

    def __init__(self, *, name: str = "fsim", chromatic: bool = True, precision: str = "single",
                 regions: tuple[str, ...] | list[str] = ("full", "face", "face_aligned"),
                 device: str = "cpu", threads: int | None = None) -> None:
        super().__init__(name=name, kind="fr", lower_better=False, score_range=(0.0, 1.0),
                         regions=regions, device=device)
        self.threads = None if threads is None else resolve_threads(threads)
        if not isinstance(chromatic, bool):
            raise TypeError(f"chromatic must be a bool, got {chromatic!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.chromatic, self.precision = chromatic, precision

    def config(self) -> dict[str, Any]:
        return {"chromatic": self.chromatic, "precision": self.precision, "scales": SCALES,
                "orientations": ORIENTATIONS, "min_wavelength": MIN_WAVELENGTH, "mult": MULT, "sigma_f": SIGMA_F,
                "delta_theta": DELTA_THETA, "k": NOISE_K, "pool": "round(min_side/256)"}

    def convention(self) -> dict[str, Any]:
        return {"color": "rgb" if self.chromatic else "y", "color_space": "yiq", "crop_border": 0}

    def compute(self, sr: np.ndarray, hr: np.ndarray | None = None, mask: np.ndarray | None = None) -> float:
        if mask is not None:
            raise ValueError(f"{self.name} depends on each pixel's neighbourhood and a whole-image noise "
                             "threshold and cannot restrict itself to a mask; pass where(mask, sr, hr) instead")
        check_pair(sr, hr)
        h, w = sr.shape[:2]
        k = pool_factor(h, w)
        if h // k < 2 or w // k < 2:
            raise ValueError(f"{self.name}: image {w}x{h} is too small; FSIM needs at least 2x2 pixels")

        def features(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """(pooled YIQ, phase congruency, gradient magnitude) of one image."""
            yiq = pooled_yiq(rgb, k)
            return yiq, phase_congruency(yiq[0][None], self.precision)[0], _gradient_magnitude(yiq[0])

        # One image per thread: each image's maps do not depend on the other's (the noise
        # threshold is per image), so this equals the batched computation.
        (yiq_sr, pc_sr, gm_sr), (yiq_hr, pc_hr, gm_hr) = ordered_map(features, (sr, hr),
                                                                     resolve_threads(self.threads))
        pc_max = np.maximum(pc_sr, pc_hr)
        score = _similarity(pc_sr, pc_hr, T1)
        score *= _similarity(gm_sr, gm_hr, T2)
        score *= pc_max
        if self.chromatic:
            chroma = _similarity(yiq_sr[1], yiq_hr[1], T3) * _similarity(yiq_sr[2], yiq_hr[2], T4)
            score *= np.abs(chroma) ** LAMBDA
        return float(score.sum() / pc_max.sum())
