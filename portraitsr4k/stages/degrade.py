"""Degrade: make the LQ image from the stored HR pixels with a seeded ``degradations`` preset.

The generator of sample ``id`` is ``torch.Generator().manual_seed(sample_seed(build seed, id,
"degrade"))`` (SHA-256 based, :mod:`portraitsr4k.build.seeds`), so the LQ depends on neither
worker count nor input order. ``params.to_dict()`` (preset and every drawn parameter) is stored
as JSON; ``degradations.replay(hr, record)`` reproduces the LQ bit-exactly from the HR bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from portraitsr4k.build.seeds import sample_seed

__all__ = ["DegradeResult", "degrade_sample", "to_tensor", "to_uint8"]


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).to(torch.float32).div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [0, 1] (on the 8-bit grid) -> (H, W, 3) uint8."""
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) tensor, got shape {tuple(image.shape)}")
    return image.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


@dataclass
class DegradeResult:
    """LQ pixels ((h, w, 3) uint8), the JSON record, preset name, seed and seconds."""

    lq: np.ndarray
    record: str
    preset: str
    seed: int
    seconds: float


def degrade_sample(hr_rgb: np.ndarray, sample_id: str, build_seed: int,
                   degradation_factory: Callable[[], Any], *, degradation: Any | None = None) -> DegradeResult:
    """Degrade one HR image ((H, W, 3) uint8, sides divisible by the degradation's scale)."""
    start = time.perf_counter()
    deg = degradation if degradation is not None else degradation_factory()
    seed = sample_seed(build_seed, sample_id, "degrade")
    # hr_size lets a degradation with ``reference_resolution`` (4K-aware kernels) scale itself.
    params = deg.sample_params(torch.Generator().manual_seed(seed), hr_size=hr_rgb.shape[:2])
    with torch.no_grad():
        lq = deg.apply(to_tensor(hr_rgb), params)
    record = params.to_dict()
    preset = str(record.get("preset", getattr(deg, "name", "unknown"))) if isinstance(record, dict) else "unknown"
    return DegradeResult(
        lq=to_uint8(lq),
        record=json.dumps(record, sort_keys=True, separators=(",", ":")),
        preset=preset,
        seed=seed,
        seconds=time.perf_counter() - start,
    )
