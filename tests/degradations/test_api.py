"""The public contract of ``degradations`` (issue 2 "Must show" and the API rules)."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
import torch

import degradations
from degradations import DegradationParams


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_realesrgan_512_gives_128_on_the_8bit_grid(astronaut: torch.Tensor) -> None:
    deg = degradations.build("realesrgan", scale=4)
    lq, params = deg(astronaut, _gen(0))
    assert lq.shape == (3, 128, 128) and lq.dtype == torch.float32
    assert float(lq.min()) >= 0.0 and float(lq.max()) <= 1.0
    assert torch.equal(lq, torch.round(lq * 255) / 255)
    assert isinstance(params, DegradationParams) and params.preset == "realesrgan" and params.scale == 4


def test_same_seed_same_params_and_lq_other_seed_differs(astronaut: torch.Tensor) -> None:
    deg = degradations.build("realesrgan", scale=4)
    lq1, p1 = deg(astronaut, _gen(7))
    lq2, p2 = deg(astronaut, _gen(7))
    lq3, p3 = deg(astronaut, _gen(8))
    assert p1 == p2 and torch.equal(lq1, lq2)
    assert p1 != p3 and not torch.equal(lq1, lq3)


@pytest.mark.parametrize("preset", sorted(degradations.PRESETS))
def test_record_replays_bit_exactly_through_json(preset: str, hr_image) -> None:
    hr = hr_image(96, 128, seed=3)
    deg = degradations.build(preset, scale=4)
    for seed in range(4):
        lq, params = deg(hr, _gen(seed))
        text = json.dumps(params.to_dict())
        restored = DegradationParams.from_dict(json.loads(text))
        assert restored == params
        assert torch.equal(deg.apply(hr, DegradationParams.from_dict(params.to_dict())), lq)
        assert torch.equal(degradations.replay(hr, json.loads(text)), lq)


def test_record_is_self_contained_without_the_preset(hr_image) -> None:
    """A record drawn from a heavily overridden config replays with no access to that config."""
    hr = hr_image(64, 64)
    custom = degradations.build(
        "realesrgan",
        scale=2,
        kernel_scale=1.7,
        first={"noise": {"gaussian_prob": 0.0}},
        second={"blur_prob": 1.0},
    )
    lq, params = custom(hr, _gen(1))
    record = json.loads(json.dumps(params.to_dict()))
    assert record["kernel_scale"] == 1.7 and record["first"]["noise"]["kind"] == "poisson"
    assert torch.equal(degradations.replay(hr, record), lq)
    assert lq.shape == (3, 32, 32)


def test_one_sample_alone_equals_the_same_sample_in_a_batch(hr_image) -> None:
    deg = degradations.build("realesrgan", scale=4)
    batch = torch.stack([hr_image(64, 96, seed=s) for s in range(3)])
    params = [deg.sample_params(_gen(10 + i)) for i in range(3)]
    lq_batch = deg.apply(batch, params)
    assert lq_batch.shape == (3, 3, 16, 24)
    for i in range(3):
        assert torch.equal(deg.apply(batch[i], params[i]), lq_batch[i])
    # the middle sample alone inside a different batch: still identical
    other = deg.apply(batch[[1, 0]], [params[1], params[0]])
    assert torch.equal(other[0], lq_batch[1])


def test_apply_is_pure_and_takes_non_contiguous_views(hr_image) -> None:
    wide = hr_image(64, 96, seed=9)
    view = wide[:, :, 16:80]  # (3, 64, 64), not contiguous
    before = wide.clone()
    deg = degradations.build("realesrgan")
    params = deg.sample_params(_gen(3))
    lq = deg.apply(view, params)
    assert torch.equal(wide, before)
    assert torch.equal(lq, deg.apply(view.contiguous(), params))


def test_inputs_that_require_grad_are_accepted(hr_image) -> None:
    hr = hr_image(32, 32).requires_grad_()
    lq, params = degradations.build("realesrgan")(hr, _gen(0))
    assert not lq.requires_grad and torch.equal(lq, degradations.replay(hr.detach(), params.to_dict()))


def test_call_on_a_batch_draws_one_record_per_sample(hr_image) -> None:
    deg = degradations.build("osediff", scale=4)
    batch = torch.stack([hr_image(64, 64, seed=s) for s in range(3)])
    lq, params = deg(batch, _gen(5))
    assert (
        isinstance(params, list) and len(params) == 3 and len({json.dumps(p.to_dict()) for p in params}) == 3
    )
    generator = _gen(5)
    expected = [deg.sample_params(generator, hr_size=(64, 64)) for _ in range(3)]
    assert params == expected
    assert torch.equal(lq, deg.apply(batch, params))


def test_no_global_rng_is_touched(monkeypatch: pytest.MonkeyPatch, hr_image) -> None:
    hr = hr_image(64, 64)
    states = (random.getstate(), np.random.get_state(), torch.get_rng_state())

    def forbidden(*_args, **_kwargs):
        raise AssertionError("global RNG used")

    for name in ("random", "uniform", "choice", "choices", "randint", "seed", "shuffle", "gauss"):
        monkeypatch.setattr(random, name, forbidden)
    for name in ("rand", "randn", "random", "uniform", "choice", "randint", "poisson", "normal", "seed"):
        monkeypatch.setattr(np.random, name, forbidden)
    monkeypatch.setattr(np.random, "default_rng", forbidden)
    for name in ("manual_seed", "seed", "set_rng_state"):
        monkeypatch.setattr(torch, name, forbidden)
    monkeypatch.setattr(torch.random, "manual_seed", forbidden)
    for preset in degradations.PRESETS:
        deg = degradations.build(preset, scale=4)
        for seed in range(3):
            lq, params = deg(hr, _gen(seed))
            degradations.replay(hr, params.to_dict())
    monkeypatch.undo()
    after = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    assert states[0] == after[0]
    assert all(np.array_equal(a, b) for a, b in zip(states[1][1:], after[1][1:], strict=True))
    assert torch.equal(states[2], after[2])


def test_bicubic_draws_nothing_and_is_antialiased_bicubic(hr_image) -> None:
    hr = hr_image(64, 64)
    generator = _gen(0)
    before = generator.get_state()
    lq, _ = degradations.build("bicubic", scale=4)(hr, generator)
    assert torch.equal(generator.get_state(), before)
    expected = torch.nn.functional.interpolate(
        hr[None], size=(16, 16), mode="bicubic", align_corners=False, antialias=True
    )[0]
    assert torch.equal(lq, torch.clamp(torch.round(expected * 255), 0, 255) / 255)


def test_sizes_not_multiple_of_scale_are_rejected_with_the_sizes() -> None:
    deg = degradations.build("realesrgan", scale=4)
    with pytest.raises(ValueError, match=r"HR size 66x64 .* not a multiple of scale 4"):
        deg(torch.rand(3, 66, 64), _gen(0))
    with pytest.raises(ValueError, match="64x63"):
        deg.apply(torch.rand(3, 64, 63), deg.sample_params(_gen(0)))


def test_unknown_preset_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="Did you mean 'realesrgan'"):
        degradations.build("realesrgn")
    with pytest.raises(ValueError, match="Did you mean 'codeformer_face'"):
        degradations.build("codeformer")


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((3, 8, 8), np.float32), TypeError, "torch.Tensor"),
        (torch.zeros(3, 8, 8, dtype=torch.float64), TypeError, "float32"),
        (torch.zeros(4, 8, 8), ValueError, r"\(3, H, W\)"),
        (torch.full((3, 8, 8), 1.5), ValueError, r"in \[0, 1\]"),
        (torch.full((3, 8, 8), float("nan")), ValueError, "finite"),
    ],
)
def test_bad_inputs_get_clear_errors(bad, error, match) -> None:
    deg = degradations.build("bicubic", scale=4)
    with pytest.raises(error, match=match):
        deg(bad, _gen(0))


def test_apply_checks_params_against_the_input() -> None:
    deg = degradations.build("osediff", scale=4)
    params = deg.sample_params(_gen(0))
    with pytest.raises(ValueError, match="2 images but 1 parameter records"):
        deg.apply(torch.rand(2, 3, 16, 16), [params])
    with pytest.raises(TypeError, match="list of 2"):
        deg.apply(torch.rand(2, 3, 16, 16), params)
    with pytest.raises(TypeError, match="from_dict"):
        deg.apply(torch.rand(3, 16, 16), params.to_dict())
    with pytest.raises(ValueError, match="scale 4"):
        degradations.build("osediff", scale=2).apply(torch.rand(3, 16, 16), params)
    with pytest.raises(TypeError, match="torch.Generator"):
        deg.sample_params(np.random.default_rng(0))


def test_records_are_validated_on_load() -> None:
    record = degradations.build("realesrgan").sample_params(_gen(2)).to_dict()
    broken = json.loads(json.dumps(record))
    broken["final"]["jpeg_quality"] = 101
    with pytest.raises(ValueError, match="jpeg quality"):
        DegradationParams.from_dict(broken)
    broken = json.loads(json.dumps(record))
    broken["first"]["kernel"]["kind"] = "gausian"
    with pytest.raises(ValueError, match="kernel kind"):
        DegradationParams.from_dict(broken)
    broken = json.loads(json.dumps(record))
    broken["first"]["noize"] = broken["first"].pop("noise")
    with pytest.raises(ValueError, match="Did you mean 'noise'"):
        DegradationParams.from_dict(broken)
    with pytest.raises(ValueError, match="format"):
        DegradationParams.from_dict({k: v for k, v in record.items() if k != "format"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        DegradationParams.from_dict(record).scale = 2  # type: ignore[misc]
