"""CUDA code paths (skipped without a GPU): same contract as on the CPU."""

from __future__ import annotations

import pytest
import torch

import degradations

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("preset", sorted(degradations.PRESETS))
def test_cuda_replay_is_bit_exact_and_batch_independent(preset: str, hr_image) -> None:
    batch = torch.stack([hr_image(128, 96, seed=s) for s in range(3)]).cuda()
    deg = degradations.build(preset, scale=4)
    lq, params = deg(batch, torch.Generator(device="cuda").manual_seed(0))
    assert lq.device.type == "cuda" and lq.shape == (3, 3, 32, 24)
    for i in range(3):
        assert torch.equal(degradations.replay(batch[i], params[i].to_dict()), lq[i])


def test_cuda_and_cpu_draw_the_same_kind_of_degradation(hr_image) -> None:
    """Same record on both devices: not bit-identical (different noise generators, conv vs
    OpenCV), but the same degradation: mean absolute difference below 3 8-bit steps."""
    hr = hr_image(128, 128, seed=1)
    deg = degradations.build("osediff", scale=4, first={"noise_prob": 0.0}, second={"noise_prob": 0.0})
    params = deg.sample_params(torch.Generator().manual_seed(2))
    cpu = deg.apply(hr, params)
    gpu = deg.apply(hr.cuda(), params).cpu()
    assert float((cpu - gpu).abs().mean()) < 3 / 255
