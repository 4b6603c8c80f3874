"""The degrade stage passes the HR size, so 4K-aware presets (reference_resolution) work."""

from __future__ import annotations

import json

import numpy as np
import torch

import degradations
from portraitsr4k.stages.degrade import degrade_sample


def test_reference_resolution_preset_degrades_and_replays() -> None:
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (256, 192, 3), dtype=np.uint8)
    factory = lambda: degradations.build("osediff", scale=4, reference_resolution=64)  # noqa: E731
    result = degrade_sample(hr, "abc", 0, factory)
    record = json.loads(result.record)
    assert record["kernel_scale"] == 3.0  # min(H, W) / reference_resolution
    assert result.lq.shape == (64, 48, 3)
    hr_t = torch.from_numpy(hr.copy()).permute(2, 0, 1).float() / 255
    replayed = degradations.replay(hr_t, record)
    assert np.array_equal((replayed * 255).round().byte().permute(1, 2, 0).numpy(), result.lq)
