"""Gaussian and Poisson noise, reproducible from a stored seed (basicsr ``*_noise_pt`` maths).

The noise field comes from a fresh ``torch.Generator`` on the image's device seeded with
``params.seed``, so a stored record regenerates the same field on the same device. Unlike
basicsr (which draws one gray field for the whole batch), every sample has its own field.

Poisson noise (basicsr): round the image to 8 bits, ``L = 2 ** ceil(log2(#distinct values))``,
``noise = scale * (Poisson(L * img) / L - img)``. The counts are drawn by the record's sampler:
``inverse_cdf`` (default for new records; :mod:`degradations.poisson_table`: one table per 8-bit
level, compiled inversion of a float64 uniform stream seeded with ``params.seed``, on the CPU
whatever the image's device) or ``torch`` (``torch.poisson`` on the image's device, ~65 ns per
value on one CPU thread; the sampler of earlier records). The distinct values are counted with
a 256-bin histogram instead of basicsr's ``torch.unique``.
"""

from __future__ import annotations

import math

import torch

from degradations.params import NoiseParams

# ITU-R 601 luma weights, as torchvision's rgb_to_grayscale used by basicsr's Poisson noise.
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _generator(seed: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def _shot_noise(img: torch.Tensor, seed: int, sampler: str) -> torch.Tensor:
    """Unscaled Poisson noise of ``img`` (any channel count), as basicsr's ``generate_poisson_noise_pt``."""
    codes_f = torch.mul(img, 255.0).round_().clamp_(0, 255)
    rounded = codes_f / 255.0
    codes = codes_f.to(torch.int32)
    del codes_f
    distinct = int(torch.count_nonzero(torch.bincount(codes.view(-1), minlength=256)))
    levels = float(2 ** math.ceil(math.log2(distinct))) if distinct > 1 else 1.0
    if sampler == "torch":
        del codes
        noise = torch.poisson(rounded.mul(levels), generator=_generator(seed, img.device))
    else:
        # Imported here: numba (and the scipy it loads) stays out of `import degradations`.
        from degradations.poisson_table import poisson_counts

        # The same float32 rates torch would see (code / 255 * L), one per 8-bit level.
        rates = (torch.arange(256, dtype=torch.float32) / 255.0).mul(levels).numpy()
        counts = poisson_counts(codes.to(device="cpu", dtype=torch.uint8).numpy(), rates, seed)
        del codes
        noise = torch.from_numpy(counts).to(img.device)
    noise.div_(levels).sub_(rounded)
    return noise


def make_noise(img: torch.Tensor, params: NoiseParams) -> torch.Tensor:
    """The additive noise field for one image.

    Args:
        img: ``(3, H, W)`` float32 in [0, 1] (Poisson noise depends on its values).
        params: kind, strength, gray flag and seed.

    Returns:
        ``(3, H, W)`` float32 noise (a gray field is expanded over the channels).
    """
    channels, height, width = img.shape
    if params.kind == "gaussian":
        generator = _generator(params.seed, img.device)
        field_channels = 1 if params.gray else channels
        noise = torch.randn(
            (field_channels, height, width), generator=generator, device=img.device, dtype=torch.float32
        )
        noise.mul_(params.sigma / 255.0)
    else:
        if params.gray:
            weights = torch.tensor(_GRAY_WEIGHTS, dtype=img.dtype, device=img.device).view(3, 1, 1)
            source = (img * weights).sum(dim=0, keepdim=True)
        else:
            source = img
        noise = _shot_noise(source, params.seed, params.sampler).mul_(params.poisson_scale)
    return noise.expand(channels, height, width)


def add_noise(img: torch.Tensor, params: NoiseParams) -> torch.Tensor:
    """``clamp(img + noise, 0, 1)`` for one ``(3, H, W)`` float32 image (basicsr ``clip=True``)."""
    noise = make_noise(img, params)
    # A full-size colour field is ours to overwrite: adding in place saves a 4K allocation.
    out = noise.add_(img) if noise.shape == img.shape and noise.is_contiguous() else noise + img
    return out.clamp_(0.0, 1.0)
