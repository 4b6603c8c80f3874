"""Drawing parameters from a config with the caller's ``torch.Generator`` (nothing global).

Draws whose outcome is certain (probability 0 or 1, a single choice, an empty range) consume
nothing from the generator, so deterministic presets leave it untouched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from degradations.config import FinalConfig, KernelConfig, NoiseConfig, ResizeConfig, StageConfig, UsmConfig
from degradations.params import (
    MAX_SEED,
    FinalParams,
    KernelParams,
    NoiseParams,
    ResizeParams,
    StageParams,
    UsmParams,
)


def _rand(generator: torch.Generator) -> float:
    return float(torch.rand((), generator=generator, dtype=torch.float64, device=generator.device))


def uniform(generator: torch.Generator, low: float, high: float) -> float:
    """``U(low, high)``; no draw when ``low == high``."""
    return low if low == high else low + (high - low) * _rand(generator)


def bernoulli(generator: torch.Generator, p: float) -> bool:
    """True with probability ``p``; no draw when ``p`` is 0 or 1."""
    if p <= 0.0 or p >= 1.0:
        return p >= 1.0
    return _rand(generator) < p


def choice(generator: torch.Generator, probs: Sequence[float]) -> int:
    """Index drawn with the given probabilities; no draw when only one is non-zero."""
    nonzero = [i for i, p in enumerate(probs) if p > 0]
    if len(nonzero) == 1:
        return nonzero[0]
    u, total = _rand(generator), 0.0
    for i, p in enumerate(probs):
        total += p
        if u < total:
            return i
    return nonzero[-1]  # u within float rounding of 1


def randint(generator: torch.Generator, low: int, high: int) -> int:
    """Integer uniform in ``[low, high]`` (both included); no draw when they are equal."""
    if low == high:
        return low
    return int(torch.randint(low, high + 1, (), generator=generator, device=generator.device))


def seed(generator: torch.Generator) -> int:
    """A fresh seed in ``[0, 2**63 - 1)`` for a per-sample noise generator."""
    return int(torch.randint(0, MAX_SEED, (), generator=generator, device=generator.device))


def odd_size(generator: torch.Generator, sizes: tuple[int, int]) -> int:
    """Odd size drawn uniformly from ``sizes[0], sizes[0] + 2, ..., sizes[1]``."""
    return sizes[0] + 2 * randint(generator, 0, (sizes[1] - sizes[0]) // 2)


def scaled_size(size: int, factor: float) -> int:
    """Odd kernel size for a kernel stretched by ``factor`` (``size`` itself when factor is 1)."""
    return size if factor == 1.0 else 2 * int(math.floor(size * factor / 2)) + 1


def sample_kernel(config: KernelConfig, generator: torch.Generator, factor: float = 1.0) -> KernelParams:
    """A blur kernel as in Real-ESRGAN's dataset, stretched by ``factor`` (4K scaling)."""
    size = odd_size(generator, config.sizes)
    if bernoulli(generator, config.sinc_prob):
        cutoff_range = (
            config.sinc_cutoff_small if size < config.sinc_small_below else config.sinc_cutoff_large
        )
        cutoff = uniform(generator, *cutoff_range)
        return KernelParams(kind="sinc", size=scaled_size(size, factor), cutoff=min(math.pi, cutoff / factor))
    kind = config.kinds[choice(generator, config.probs)]
    sigma_x = uniform(generator, *config.sigma_range)
    if kind.endswith("aniso"):
        sigma_y = uniform(generator, *config.sigma_range)
        theta = uniform(generator, *config.rotation_range)
    else:
        sigma_y, theta = sigma_x, 0.0
    beta = None
    if kind.startswith(("generalized", "plateau")):
        low, high = config.betag_range if kind.startswith("generalized") else config.betap_range
        beta = uniform(generator, low, 1.0) if bernoulli(generator, 0.5) else uniform(generator, 1.0, high)
    return KernelParams(
        kind=kind,
        size=scaled_size(size, factor),
        sigma_x=sigma_x * factor,
        sigma_y=sigma_y * factor,
        theta=theta,
        beta=beta,
    )


def sample_final_sinc(
    config: FinalConfig, generator: torch.Generator, factor: float = 1.0
) -> KernelParams | None:
    """The final sinc kernel (Real-ESRGAN: p=0.8, size 7-21, cut-off U(pi/3, pi)) or None."""
    if not bernoulli(generator, config.sinc_prob):
        return None
    size = odd_size(generator, config.sinc_sizes)
    cutoff = uniform(generator, *config.sinc_cutoff)
    return KernelParams(kind="sinc", size=scaled_size(size, factor), cutoff=min(math.pi, cutoff / factor))


def sample_resize(config: ResizeConfig, generator: torch.Generator) -> ResizeParams:
    """Direction (up/down/keep), factor and mode of a random resize."""
    low, high = config.scale_range
    direction = choice(generator, config.probs)
    if direction == 0:
        scale = uniform(generator, 1.0, high)
    elif direction == 1 and config.down_uniform_in == "factor":
        scale = 1.0 / uniform(generator, 1.0 / min(high, 1.0), 1.0 / low)
    elif direction == 1:
        scale = uniform(generator, low, min(high, 1.0))
    else:
        scale = 1.0
    mode = config.modes[choice(generator, [1.0 / len(config.modes)] * len(config.modes))]
    return ResizeParams(mode=mode, scale=scale, relative_to=config.relative_to)


def sample_noise(config: NoiseConfig, generator: torch.Generator) -> NoiseParams:
    """Gaussian or Poisson noise, its strength, the gray flag and the field's seed."""
    if bernoulli(generator, config.gaussian_prob):
        kind, sigma, poisson_scale = "gaussian", uniform(generator, *config.sigma_range), None
    else:
        kind, sigma, poisson_scale = "poisson", None, uniform(generator, *config.poisson_scale_range)
    gray = bernoulli(generator, config.gray_prob)
    sampler = config.poisson_sampler if kind == "poisson" else "torch"
    return NoiseParams(kind=kind, gray=gray, seed=seed(generator), sigma=sigma, poisson_scale=poisson_scale,
                       sampler=sampler)


def sample_stage(config: StageConfig, generator: torch.Generator, factor: float = 1.0) -> StageParams:
    """One blur -> resize -> noise -> JPEG stage."""
    kernel = (
        sample_kernel(config.kernel, generator, factor) if bernoulli(generator, config.blur_prob) else None
    )
    resize = sample_resize(config.resize, generator)
    noise = sample_noise(config.noise, generator) if bernoulli(generator, config.noise_prob) else None
    quality = randint(generator, *config.jpeg_range) if config.jpeg_range is not None else None
    return StageParams(kernel=kernel, resize=resize, noise=noise, jpeg_quality=quality)


def sample_final(config: FinalConfig, generator: torch.Generator, factor: float = 1.0) -> FinalParams:
    """Order, resize mode, sinc and JPEG quality of the final step."""
    order = "resize_then_jpeg" if bernoulli(generator, config.resize_first_prob) else "jpeg_then_resize"
    modes = config.resize_modes
    mode = modes[choice(generator, [1.0 / len(modes)] * len(modes))]
    sinc = sample_final_sinc(config, generator, factor)
    quality = randint(generator, *config.jpeg_range) if config.jpeg_range is not None else None
    resize = ResizeParams(mode=mode, scale=1.0, relative_to="target", antialias=config.antialias)
    return FinalParams(order=order, resize=resize, sinc=sinc, jpeg_quality=quality)


def usm_params(config: UsmConfig | None) -> UsmParams | None:
    """Fixed USM settings (basicsr makes an even radius odd by adding 1)."""
    if config is None:
        return None
    radius = config.radius + 1 if config.radius % 2 == 0 else config.radius
    return UsmParams(radius=radius, weight=config.weight, threshold=config.threshold)
