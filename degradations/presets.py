"""Named presets (plain :class:`DegradationConfig` values) with their sources.

* ``realesrgan``: Real-ESRGAN x4plus (``options/train_realesrgan_x4plus.yml``): USM of the HR,
  two stages, final [resize + sinc] / JPEG in random order.
* ``osediff``: OSEDiff's ``params_realesrgan.yml``: the same ranges, USM off (colour jitter
  and grayscale conversion are off there too; we have neither).
* ``stablesr``: StableSR's milder ranges (``v2-finetune_text_T_512.yaml``). Its
  ``blur_kernel_size2: 11`` is read but unused by the Real-ESRGAN-style dataset code (sizes
  stay 7-21); with sigma <= 1 the kernel is < 1e-4 beyond 7 px anyway. Its
  ``no_degradation_prob`` (1 % of training pairs left clean) is a training-loop choice and
  not part of this preset.
* ``codeformer_face``: CodeFormer stage 2 (``options/CodeFormer_stage2.yml``): one stage
  (41 px iso/aniso Gaussian 50/50 with sigma in [1, 15], bilinear down-sampling by a factor
  drawn in [4, 30], colour Gaussian noise sigma in [0, 20], JPEG 30-80), then a bilinear
  resize to exactly ``(H // scale, W // scale)``. CodeFormer resizes back to the HR size
  instead; we keep the pair at the requested scale.
* ``bicubic``: antialiased bicubic down-sampling by ``1 / scale``, no random draws.
"""

from __future__ import annotations

import math

from degradations.config import (
    DegradationConfig,
    FinalConfig,
    KernelConfig,
    NoiseConfig,
    ResizeConfig,
    StageConfig,
    UsmConfig,
)

_REALESRGAN_FIRST = StageConfig(
    kernel=KernelConfig(
        sigma_range=(0.2, 3.0), betag_range=(0.5, 4.0), betap_range=(1.0, 2.0), sinc_prob=0.1
    ),
    blur_prob=1.0,
    resize=ResizeConfig(probs=(0.2, 0.7, 0.1), scale_range=(0.15, 1.5), relative_to="input"),
    noise=NoiseConfig(
        gaussian_prob=0.5, sigma_range=(1.0, 30.0), poisson_scale_range=(0.05, 3.0), gray_prob=0.4
    ),
    jpeg_range=(30, 95),
)
_REALESRGAN_SECOND = StageConfig(
    kernel=KernelConfig(
        sigma_range=(0.2, 1.5), betag_range=(0.5, 4.0), betap_range=(1.0, 2.0), sinc_prob=0.1
    ),
    blur_prob=0.8,
    resize=ResizeConfig(probs=(0.3, 0.4, 0.3), scale_range=(0.3, 1.2), relative_to="target"),
    noise=NoiseConfig(
        gaussian_prob=0.5, sigma_range=(1.0, 25.0), poisson_scale_range=(0.05, 2.5), gray_prob=0.4
    ),
    jpeg_range=None,  # the second JPEG belongs to the final step
)
_REALESRGAN_FINAL = FinalConfig(
    resize_first_prob=0.5,
    sinc_prob=0.8,
    sinc_sizes=(7, 21),
    sinc_cutoff=(math.pi / 3, math.pi),
    jpeg_range=(30, 95),
)

REALESRGAN = DegradationConfig(
    name="realesrgan",
    usm=UsmConfig(radius=50, weight=0.5, threshold=10.0),
    first=_REALESRGAN_FIRST,
    second=_REALESRGAN_SECOND,
    final=_REALESRGAN_FINAL,
)

OSEDIFF = DegradationConfig(
    name="osediff",
    usm=None,
    first=_REALESRGAN_FIRST,
    second=_REALESRGAN_SECOND,
    final=_REALESRGAN_FINAL,
)

STABLESR = DegradationConfig(
    name="stablesr",
    usm=None,
    first=StageConfig(
        kernel=KernelConfig(
            sigma_range=(0.2, 1.5), betag_range=(0.5, 2.0), betap_range=(1.0, 1.5), sinc_prob=0.1
        ),
        blur_prob=1.0,
        resize=ResizeConfig(probs=(0.2, 0.7, 0.1), scale_range=(0.3, 1.5), relative_to="input"),
        noise=NoiseConfig(
            gaussian_prob=0.5, sigma_range=(1.0, 15.0), poisson_scale_range=(0.05, 2.0), gray_prob=0.4
        ),
        jpeg_range=(60, 95),
    ),
    second=StageConfig(
        kernel=KernelConfig(
            sigma_range=(0.2, 1.0), betag_range=(0.5, 2.0), betap_range=(1.0, 1.5), sinc_prob=0.1
        ),
        blur_prob=0.5,
        resize=ResizeConfig(probs=(0.3, 0.4, 0.3), scale_range=(0.6, 1.2), relative_to="target"),
        noise=NoiseConfig(
            gaussian_prob=0.5, sigma_range=(1.0, 12.0), poisson_scale_range=(0.05, 1.0), gray_prob=0.4
        ),
        jpeg_range=None,
    ),
    final=FinalConfig(resize_first_prob=0.5, sinc_prob=0.8, jpeg_range=(60, 100)),
)

CODEFORMER_FACE = DegradationConfig(
    name="codeformer_face",
    usm=None,
    first=StageConfig(
        kernel=KernelConfig(
            kinds=("iso", "aniso"), probs=(0.5, 0.5), sizes=(41, 41), sigma_range=(1.0, 15.0), sinc_prob=0.0
        ),
        blur_prob=1.0,
        resize=ResizeConfig(
            probs=(0.0, 1.0, 0.0),
            scale_range=(1 / 30, 1 / 4),
            modes=("bilinear",),
            relative_to="input",
            down_uniform_in="factor",
        ),
        noise=NoiseConfig(gaussian_prob=1.0, sigma_range=(0.0, 20.0), gray_prob=0.0),
        jpeg_range=(30, 80),
    ),
    second=None,
    final=FinalConfig(resize_first_prob=1.0, resize_modes=("bilinear",), sinc_prob=0.0, jpeg_range=None),
)

BICUBIC = DegradationConfig(
    name="bicubic",
    usm=None,
    first=None,
    second=None,
    final=FinalConfig(
        resize_first_prob=1.0, resize_modes=("bicubic",), antialias=True, sinc_prob=0.0, jpeg_range=None
    ),
)

#: Every preset by name (the Hydra configs in ``conf/degradation/`` name the same presets).
PRESETS: dict[str, DegradationConfig] = {
    c.name: c for c in (REALESRGAN, OSEDIFF, STABLESR, CODEFORMER_FACE, BICUBIC)
}
