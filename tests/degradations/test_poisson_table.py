"""The inverse-CDF Poisson sampler: the Poisson law, a reproducible stream, and records that say
which sampler made their noise (old records keep replaying with torch.poisson)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import degradations
from degradations import NoiseParams, noise
from degradations import poisson_table as pt
from degradations.config import NoiseConfig


@pytest.mark.parametrize("rate", [0.0, 0.37, 3.2, 17.0, 101.6, 256.0])
def test_counts_follow_the_poisson_law(rate: float) -> None:
    """Chi-square goodness of fit on 200k draws per rate (fixed seeds: deterministic)."""
    rates = np.zeros(256)
    rates[7] = rate
    counts = pt.poisson_counts(np.full(200_000, 7, np.uint8), rates, seed=5).astype(np.int64)
    if rate == 0.0:
        assert not counts.any()
        return
    assert counts.mean() == pytest.approx(rate, abs=4 * math.sqrt(rate / counts.size))
    lo, hi = int(stats.poisson.ppf(1e-4, rate)), int(stats.poisson.ppf(1 - 1e-4, rate))
    observed = np.array([(counts <= lo).sum(), *[(counts == k).sum() for k in range(lo + 1, hi)],
                         (counts >= hi).sum()])
    expected = counts.size * np.array([stats.poisson.cdf(lo, rate),
                                       *[stats.poisson.pmf(k, rate) for k in range(lo + 1, hi)],
                                       stats.poisson.sf(hi - 1, rate)])
    keep = expected >= 5
    chi2 = float((((observed - expected) ** 2) / expected)[keep].sum())
    p_value = stats.chi2.sf(chi2, keep.sum() - 1)
    assert p_value > 1e-3, (rate, chi2, keep.sum())


def test_stream_is_seeded_and_independent_of_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (3, 70, 90)).astype(np.uint8)
    rates = np.arange(256) / 255.0 * 128
    first = pt.poisson_counts(codes, rates, seed=11)
    assert first.shape == codes.shape and first.dtype == np.float32
    assert np.array_equal(first, pt.poisson_counts(codes, rates, seed=11))
    assert not np.array_equal(first, pt.poisson_counts(codes, rates, seed=12))
    monkeypatch.setattr(pt, "_CHUNK", 1000)
    assert np.array_equal(first, pt.poisson_counts(codes, rates, seed=11))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="uint8"):
        pt.poisson_counts(np.zeros(4, np.int32), np.ones(256), seed=0)
    with pytest.raises(ValueError, match="256"):
        pt.poisson_counts(np.zeros(4, np.uint8), np.ones(10), seed=0)
    with pytest.raises(ValueError, match="rates"):
        pt.poisson_tables(np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="sampler"):
        NoiseParams(kind="gaussian", gray=False, seed=1, sigma=3.0, sampler="inverse_cdf")
    with pytest.raises(ValueError, match="noise sampler"):
        NoiseParams(kind="poisson", gray=False, seed=1, poisson_scale=1.0, sampler="table")
    with pytest.raises(ValueError, match="poisson_sampler"):
        NoiseConfig(poisson_sampler="numpy")


@pytest.mark.parametrize("gray", [False, True])
def test_inverse_cdf_noise_has_basicsr_variance(basicsr, hr_image, gray: bool) -> None:
    """The same noise statistics as basicsr's generate_poisson_noise_pt (and as our torch path)."""
    img = hr_image(256, 256, seed=4)
    ours = noise.make_noise(img, NoiseParams(kind="poisson", gray=gray, seed=3, poisson_scale=2.0,
                                             sampler="inverse_cdf"))
    torch.manual_seed(0)
    ref = basicsr.data.degradations.generate_poisson_noise_pt(
        img[None], scale=2.0, gray_noise=torch.tensor([1.0 if gray else 0.0]))[0]
    assert float(ours.var()) == pytest.approx(float(ref.var()), rel=0.05)
    assert abs(float(ours.mean())) < 2e-3
    if gray:
        assert torch.equal(ours[0], ours[2])
    else:  # noise / scale + rounded image = counts / L: integer counts (L = 256 for this image)
        rounded = torch.round(img * 255.0) / 255.0
        counts = (ours / 2.0 + rounded) * 256.0
        assert float((counts - torch.round(counts)).abs().max()) < 1e-3


def test_records_name_their_sampler_and_replay(hr_image) -> None:
    hr = hr_image(96, 128, seed=2)
    deg = degradations.build("realesrgan", scale=4)
    seen = set()
    for seed in range(12):
        generator = torch.Generator().manual_seed(seed)
        lq, params = deg(hr, generator)
        record = params.to_dict()
        for stage in ("first", "second"):
            noise_record = record[stage]["noise"] if record[stage] else None
            if noise_record and noise_record["kind"] == "poisson":
                assert noise_record["sampler"] == "inverse_cdf"
                seen.add(stage)
        assert torch.equal(degradations.replay(hr, record), lq)
    assert seen, "no Poisson stage drawn in 12 seeds"


def test_a_record_without_a_sampler_key_replays_with_torch_poisson(hr_image) -> None:
    """Records written before the inverse-CDF sampler existed keep their meaning."""
    img = hr_image(64, 64, seed=1)
    old = NoiseParams(kind="poisson", gray=False, seed=9, poisson_scale=1.0)
    assert old.sampler == "torch"
    field = noise.make_noise(img, old)
    # torch.poisson with a generator seeded like the record, by hand:
    codes = torch.mul(img, 255.0).round_().clamp_(0, 255)
    levels = float(2 ** math.ceil(math.log2(int(torch.unique(codes).numel()))))
    rounded = codes / 255.0
    counts = torch.poisson(rounded * levels, generator=torch.Generator().manual_seed(9))
    assert torch.equal(field, (counts / levels - rounded) * 1.0)
    new = noise.make_noise(img, NoiseParams(kind="poisson", gray=False, seed=9, poisson_scale=1.0,
                                            sampler="inverse_cdf"))
    assert not torch.equal(field, new)
