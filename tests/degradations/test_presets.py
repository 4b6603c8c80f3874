"""Every preset: runs at small and medium sizes, is ordered by strength, has a Hydra config."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import degradations

PRESETS = sorted(degradations.PRESETS)


def test_presets_named_in_the_issue_exist() -> None:
    assert {"realesrgan", "osediff", "stablesr", "codeformer_face", "bicubic"} <= set(degradations.PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("size", [64, 256])
def test_every_preset_runs_and_keeps_its_contract(preset: str, size: int, hr_image) -> None:
    hr = hr_image(size, size, seed=size)
    deg = degradations.build(preset, scale=4)
    for seed in range(3):
        lq, params = deg(hr, torch.Generator().manual_seed(seed))
        assert lq.shape == (3, size // 4, size // 4)
        assert torch.isfinite(lq).all() and float(lq.min()) >= 0 and float(lq.max()) <= 1
        assert torch.equal(lq, torch.round(lq * 255) / 255)
        assert params.preset == preset


def _mean_psnr(preset: str, hr: torch.Tensor, seeds: range) -> float:
    deg = degradations.build(preset, scale=4)
    values = []
    for seed in seeds:
        lq, _ = deg(hr, torch.Generator().manual_seed(seed))
        up = F.interpolate(lq[None], size=hr.shape[-2:], mode="bicubic", align_corners=False)[0].clamp(0, 1)
        values.append(float(10 * torch.log10(1 / torch.mean((up - hr) ** 2))))
    return sum(values) / len(values)


def test_stronger_presets_degrade_more(astronaut: torch.Tensor) -> None:
    """PSNR of the bicubic-upsampled LQ against the HR, averaged over 6 seeds."""
    hr = astronaut[:, 128:384, 128:384].contiguous()
    psnr = {p: _mean_psnr(p, hr, range(6)) for p in ("bicubic", "stablesr", "realesrgan")}
    assert psnr["bicubic"] > psnr["stablesr"] > psnr["realesrgan"], psnr


def test_realesrgan_sharpens_the_hr_and_osediff_does_not() -> None:
    assert degradations.build("realesrgan").sample_params(torch.Generator()).usm is not None
    assert degradations.build("osediff").sample_params(torch.Generator()).usm is None


def test_codeformer_face_draws_cover_its_ranges() -> None:
    deg = degradations.build("codeformer_face", scale=4)
    generator = torch.Generator().manual_seed(0)
    drawn = [deg.sample_params(generator) for _ in range(200)]
    factors = [1 / p.first.resize.scale for p in drawn]
    assert 4 <= min(factors) < 6 and 28 < max(factors) <= 30
    assert {p.first.kernel.kind for p in drawn} == {"iso", "aniso"} and {
        p.first.kernel.size for p in drawn
    } == {41}
    assert all(1 <= p.first.kernel.sigma_x <= 15 and 30 <= p.first.jpeg_quality <= 80 for p in drawn)
    assert all(p.first.noise.kind == "gaussian" and not p.first.noise.gray for p in drawn)
    assert all(p.second is None and p.final.sinc is None and p.final.jpeg_quality is None for p in drawn)


def test_realesrgan_draw_frequencies_follow_the_x4plus_options() -> None:
    deg = degradations.build("realesrgan", scale=4)
    generator = torch.Generator().manual_seed(1)
    drawn = [deg.sample_params(generator) for _ in range(2000)]

    def share(pred) -> float:
        return sum(1 for p in drawn if pred(p)) / len(drawn)

    assert share(lambda p: p.second.kernel is not None) == pytest.approx(0.8, abs=0.04)
    assert share(lambda p: p.final.sinc is not None) == pytest.approx(0.8, abs=0.04)
    assert share(lambda p: p.final.order == "resize_then_jpeg") == pytest.approx(0.5, abs=0.04)
    assert share(lambda p: p.first.resize.scale > 1) == pytest.approx(0.2, abs=0.03)
    assert share(lambda p: p.first.resize.scale == 1) == pytest.approx(0.1, abs=0.03)
    assert share(lambda p: p.first.noise.kind == "gaussian") == pytest.approx(0.5, abs=0.04)
    assert share(lambda p: p.first.noise.gray) == pytest.approx(0.4, abs=0.04)
    assert share(lambda p: p.first.kernel.kind == "sinc") == pytest.approx(0.1, abs=0.03)
    assert all(0.15 <= p.first.resize.scale <= 1.5 and 0.3 <= p.second.resize.scale <= 1.2 for p in drawn)
    assert all(1 <= p.first.noise.sigma <= 30 for p in drawn if p.first.noise.kind == "gaussian")
    assert all(0.05 <= p.second.noise.poisson_scale <= 2.5 for p in drawn if p.second.noise.kind == "poisson")
    qualities = {p.first.jpeg_quality for p in drawn} | {p.final.jpeg_quality for p in drawn}
    assert min(qualities) == 30 and max(qualities) == 95


def test_overrides_are_nested_and_checked() -> None:
    deg = degradations.build(
        "realesrgan", usm=None, first={"noise": {"sigma_range": [1, 2], "gaussian_prob": 1.0}}
    )
    assert deg.config.usm is None and deg.config.first.noise.sigma_range == (1.0, 2.0)
    params = deg.sample_params(torch.Generator().manual_seed(0))
    assert params.usm is None and 1 <= params.first.noise.sigma <= 2
    with pytest.raises(ValueError, match="Did you mean 'kernel_scale'"):
        degradations.build("realesrgan", kernel_scal=2.0)
    with pytest.raises(ValueError, match="Did you mean 'sigma_range'"):
        degradations.build("realesrgan", first={"noise": {"sigma_rang": (1, 2)}})
    with pytest.raises(ValueError, match="must sum to 1"):
        degradations.build("realesrgan", first={"resize": {"probs": (0.5, 0.5, 0.5)}})


def test_reference_resolution_scales_kernels_by_image_size(hr_image) -> None:
    deg = degradations.build("realesrgan", reference_resolution=32)
    with pytest.raises(ValueError, match="hr_size"):
        deg.sample_params(torch.Generator())
    small = deg.sample_params(torch.Generator().manual_seed(4), hr_size=(32, 48))
    large = deg.sample_params(torch.Generator().manual_seed(4), hr_size=(128, 256))
    assert small.kernel_scale == 1.0 and large.kernel_scale == 4.0
    assert large.first.resize == small.first.resize and large.first.noise == small.first.noise
    if small.first.kernel.kind != "sinc":
        assert large.first.kernel.sigma_x == pytest.approx(4 * small.first.kernel.sigma_x)
    else:
        assert large.first.kernel.cutoff == pytest.approx(small.first.kernel.cutoff / 4)
    hr = hr_image(128, 256)
    lq, params = deg(hr, torch.Generator().manual_seed(4))
    assert params.kernel_scale == 4.0 and lq.shape == (3, 32, 64)
    assert torch.equal(degradations.replay(hr, params.to_dict()), lq)


@pytest.mark.parametrize("preset", PRESETS)
def test_hydra_config_composes_and_instantiates(preset: str, hr_image) -> None:
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        cfg = compose(overrides=[f"+degradation={preset}"])
    deg = instantiate(cfg.degradation)
    assert isinstance(deg, degradations.Degradation) and deg.config.name == preset and deg.scale == 4
    lq, _ = deg(hr_image(32, 32), torch.Generator().manual_seed(0))
    assert lq.shape == (3, 8, 8)


def test_hydra_override_reaches_the_config() -> None:
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        cfg = compose(
            overrides=[
                "+degradation=realesrgan",
                "degradation.scale=2",
                "degradation.reference_resolution=512",
                "+degradation.usm=null",
            ]
        )
    deg = instantiate(cfg.degradation)
    assert deg.scale == 2 and deg.config.reference_resolution == 512 and deg.config.usm is None


def test_importing_degradations_pulls_in_no_other_project_package() -> None:
    code = (
        "import sys, degradations; bad = [m for m in ('torchvision', 'portraitsr4k', 'benchmarks', "
        "'headsup_model', 'scipy', 'basicsr') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
