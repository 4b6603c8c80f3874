"""The degradation pipeline: draw parameters per sample, then apply them with a pure function.

Order of operations (Real-ESRGAN ``RealESRGANModel.feed_data``, every draw per sample):

0. optional unsharp mask of the HR (the ``realesrgan`` preset; see ``Degradation``);
1. first stage: blur -> resize (relative to the current size) -> noise -> JPEG;
2. second stage: blur (p) -> resize (relative to the LQ size) -> noise [-> JPEG];
3. final step: [resize to ``(H // scale, W // scale)`` + sinc] and JPEG, in the drawn order;
4. round to the 8-bit grid and clamp to [0, 1].

Every sample is processed on its own with the same op shapes it would have alone, so a
sample's LQ never depends on its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from degradations import sampling
from degradations._validate import check_images, check_int, did_you_mean
from degradations.config import DegradationConfig, with_overrides
from degradations.filtering import filter2d
from degradations.jpeg import jpeg_compress
from degradations.kernels import make_kernel, separable_factor
from degradations.noise import add_noise
from degradations.params import DegradationParams, FinalParams, KernelParams, ResizeParams, StageParams
from degradations.presets import PRESETS
from degradations.resize import resize
from degradations.sharpen import usm_sharpen

logger = logging.getLogger(__name__)


def _blur(img: torch.Tensor, params: KernelParams) -> torch.Tensor:
    return filter2d(img, make_kernel(params), separable_factor(params))


def _resize(img: torch.Tensor, params: ResizeParams, hr_size: tuple[int, int], scale: int) -> torch.Tensor:
    if params.relative_to == "input":
        height, width = (int(n * params.scale) for n in img.shape[-2:])
    else:
        height, width = (int(n / scale * params.scale) for n in hr_size)
    return resize(img, (max(1, height), max(1, width)), params.mode, params.antialias)


def _stage(img: torch.Tensor, params: StageParams, hr_size: tuple[int, int], scale: int) -> torch.Tensor:
    if params.kernel is not None:
        img = _blur(img, params.kernel)
    img = _resize(img, params.resize, hr_size, scale)
    if params.noise is not None:
        img = add_noise(img, params.noise)
    if params.jpeg_quality is not None:
        img = jpeg_compress(img, params.jpeg_quality)
    return img


def _final(img: torch.Tensor, params: FinalParams, hr_size: tuple[int, int], scale: int) -> torch.Tensor:
    def resize_and_sinc(x: torch.Tensor) -> torch.Tensor:
        x = _resize(x, params.resize, hr_size, scale)
        return _blur(x, params.sinc) if params.sinc is not None else x

    if params.order == "resize_then_jpeg":
        img = resize_and_sinc(img)
        return jpeg_compress(img, params.jpeg_quality) if params.jpeg_quality is not None else img
    if params.jpeg_quality is not None:
        img = jpeg_compress(img, params.jpeg_quality)
    return resize_and_sinc(img)


def _degrade_one(hr: torch.Tensor, params: DegradationParams) -> torch.Tensor:
    hr_size = (int(hr.shape[-2]), int(hr.shape[-1]))
    img = hr.detach()  # the CPU path hands memory to OpenCV, which needs tensors without autograd
    if params.usm is not None:
        img = usm_sharpen(img, params.usm.radius, params.usm.weight, params.usm.threshold)
    for stage in (params.first, params.second):
        if stage is not None:
            img = _stage(img, stage, hr_size, params.scale)
    img = _final(img, params.final, hr_size, params.scale)
    return torch.clamp(torch.round(img * 255.0), 0, 255) / 255.0


def apply_params(hr: torch.Tensor, params: DegradationParams | Sequence[DegradationParams]) -> torch.Tensor:
    """Degrade with given parameters (pure: no randomness beyond the seeds in ``params``).

    Args:
        hr: ``(3, H, W)`` or ``(B, 3, H, W)`` float32 in [0, 1], H and W multiples of the
            record's ``scale``, on any device.
        params: one record for ``(3, H, W)``, a list of B records for a batch.

    Returns:
        LQ ``(3, H // s, W // s)`` or ``(B, 3, H // s, W // s)`` float32 on the 8-bit grid
        in [0, 1], on ``hr``'s device.
    """
    records = [params] if isinstance(params, DegradationParams) else params
    if (
        isinstance(records, (str, bytes, Mapping))
        or not isinstance(records, Sequence)
        or not all(isinstance(p, DegradationParams) for p in records)
    ):
        raise TypeError(
            "params must be a DegradationParams or a list of them (use "
            f"DegradationParams.from_dict for stored records), got {type(params).__name__}"
        )
    scales = {p.scale for p in records}
    if len(scales) != 1:
        raise ValueError(f"all records in a batch must share one scale, got {sorted(scales)}")
    batch, batched = check_images(hr, scales.pop())
    if not batched and isinstance(params, Sequence):
        raise TypeError("a single (3, H, W) image takes one DegradationParams, not a list")
    if batched and isinstance(params, DegradationParams):
        raise TypeError(
            f"a batch of {batch.shape[0]} images takes a list of {batch.shape[0]} DegradationParams"
        )
    if len(records) != batch.shape[0]:
        raise ValueError(f"got {batch.shape[0]} images but {len(records)} parameter records")
    with torch.no_grad():
        outs = [_degrade_one(batch[i], p) for i, p in enumerate(records)]
    return torch.stack(outs) if batched else outs[0]


def replay(hr: torch.Tensor, record: Mapping[str, Any]) -> torch.Tensor:
    """Rebuild the LQ of ``hr`` from a stored ``DegradationParams.to_dict()`` record alone."""
    return apply_params(hr, DegradationParams.from_dict(record))


class Degradation:
    """A degradation preset bound to a scale: ``sample_params`` draws, ``apply`` is pure.

    The ``realesrgan`` preset sharpens the HR with an unsharp mask before degrading it, as
    ``RealESRGANModel.feed_data`` degrades ``gt_usm``: the LQ derives from the sharpened HR,
    while the HR stored next to it stays the original. (Real-ESRGAN also uses the sharpened
    HR as its L1/perceptual target; a trainer wanting that calls ``degradations.usm_sharpen``.)

    Args:
        config: the preset (see ``degradations.PRESETS``).
        scale: super-resolution factor; LQ is ``(H // scale, W // scale)``.
    """

    def __init__(self, *, config: DegradationConfig, scale: int = 4) -> None:
        if not isinstance(config, DegradationConfig):
            raise TypeError(f"config must be a DegradationConfig, got {type(config).__name__}")
        self.config = config
        self.scale = check_int("scale", scale, low=1)

    def __repr__(self) -> str:
        return f"Degradation(preset={self.config.name!r}, scale={self.scale})"

    def kernel_factor(self, hr_size: tuple[int, int] | None = None) -> float:
        """The 4K kernel factor for an HR of ``hr_size = (H, W)`` (see ``DegradationConfig``)."""
        factor = self.config.kernel_scale
        if self.config.reference_resolution is not None:
            if hr_size is None:
                raise ValueError(
                    "this degradation scales its kernels by image size "
                    f"(reference_resolution={self.config.reference_resolution}); "
                    "pass sample_params(generator, hr_size=(H, W))"
                )
            factor *= max(1.0, min(hr_size) / self.config.reference_resolution)
        return factor

    def sample_params(
        self, generator: torch.Generator, *, hr_size: tuple[int, int] | None = None
    ) -> DegradationParams:
        """Draw one sample's parameters from ``generator`` (the only source of randomness).

        ``hr_size`` ``(H, W)`` is needed only when ``reference_resolution`` is set.
        """
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        factor = self.kernel_factor(hr_size)
        cfg = self.config
        return DegradationParams(
            preset=cfg.name,
            scale=self.scale,
            kernel_scale=factor,
            usm=sampling.usm_params(cfg.usm),
            first=sampling.sample_stage(cfg.first, generator, factor) if cfg.first is not None else None,
            second=sampling.sample_stage(cfg.second, generator, factor) if cfg.second is not None else None,
            final=sampling.sample_final(cfg.final, generator, factor),
        )

    def apply(
        self, hr: torch.Tensor, params: DegradationParams | Sequence[DegradationParams]
    ) -> torch.Tensor:
        """Pure application of drawn parameters; see :func:`apply_params` for shapes."""
        records = [params] if isinstance(params, DegradationParams) else params
        for p in records if isinstance(records, Sequence) else ():
            if isinstance(p, DegradationParams) and p.scale != self.scale:
                raise ValueError(
                    f"params were drawn for scale {p.scale}, this degradation has scale {self.scale}"
                )
        return apply_params(hr, params)

    def __call__(
        self, hr: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, DegradationParams | list[DegradationParams]]:
        """Draw (one record per sample, in batch order) and apply.

        Returns ``(lq, params)``: a record for ``(3, H, W)``, a list of B records for a batch.
        """
        batch, batched = check_images(hr, self.scale)
        hr_size = (int(batch.shape[-2]), int(batch.shape[-1]))
        records = [self.sample_params(generator, hr_size=hr_size) for _ in range(batch.shape[0])]
        lq = apply_params(hr, records if batched else records[0])
        return lq, (records if batched else records[0])


def build(preset: str, scale: int = 4, **overrides: Any) -> Degradation:
    """A :class:`Degradation` for a named preset, with optional field overrides.

    ``overrides`` replace :class:`DegradationConfig` fields; nested parts take mappings, e.g.
    ``build("realesrgan", usm=None, first={"noise": {"sigma_range": (1, 10)}},
    reference_resolution=512)``.
    """
    if not isinstance(preset, str) or preset not in PRESETS:
        hint = did_you_mean(preset, PRESETS) if isinstance(preset, str) else ""
        raise ValueError(f"unknown degradation preset {preset!r}; expected one of {sorted(PRESETS)}.{hint}")
    config = with_overrides(PRESETS[preset], overrides) if overrides else PRESETS[preset]
    logger.debug("built degradation %s (scale %d, overrides %s)", preset, scale, sorted(overrides))
    return Degradation(config=config, scale=scale)
