"""Noise, JPEG, unsharp mask and resize against basicsr 1.4.2 and torch, with stated tolerances."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from degradations import NoiseParams, noise, resize, sharpen, usm_sharpen
from degradations.jpeg import jpeg_compress


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1.0 / torch.mean((a.double() - b.double()) ** 2)))


@pytest.mark.parametrize("gray", [False, True])
def test_gaussian_noise_sigma_and_gray_flag(gray: bool) -> None:
    img = torch.full((3, 256, 256), 0.5)
    field = noise.make_noise(img, NoiseParams(kind="gaussian", gray=gray, seed=11, sigma=20.0))
    # 196k (or 65k) samples: the std estimate is within 1 % of sigma / 255 with margin.
    assert float(field.std()) == pytest.approx(20.0 / 255, rel=0.01)
    assert abs(float(field.mean())) < 1e-3
    assert torch.equal(field[0], field[1]) == gray and torch.equal(field[1], field[2]) == gray
    again = noise.make_noise(img, NoiseParams(kind="gaussian", gray=gray, seed=11, sigma=20.0))
    assert torch.equal(field, again)


@pytest.mark.parametrize("scale", [0.5, 2.0])
@pytest.mark.parametrize("gray", [False, True])
def test_poisson_noise_variance_matches_basicsr(basicsr, hr_image, scale: float, gray: bool) -> None:
    """Same maths as basicsr's generate_poisson_noise_pt: the noise variance of each 8-bit level
    matches basicsr's (pooled over the image) within 5 %, and grows with scale**2."""
    img = hr_image(256, 256, seed=4)
    ours = noise.make_noise(img, NoiseParams(kind="poisson", gray=gray, seed=3, poisson_scale=scale))
    torch.manual_seed(0)  # basicsr draws from the global torch RNG
    ref = basicsr.data.degradations.generate_poisson_noise_pt(
        img[None], scale=scale, gray_noise=torch.tensor([1.0 if gray else 0.0])
    )[0]
    assert float(ours.var()) == pytest.approx(float(ref.var()), rel=0.05)
    assert abs(float(ours.mean())) < 2e-3
    # Poisson: Var[count / L] = img / L, so the pooled variance is scale^2 * mean(img) / L (L = 256 here)
    source = (
        img if not gray else (img * torch.tensor([0.2989, 0.587, 0.114]).view(3, 1, 1)).sum(0, keepdim=True)
    )
    assert float(ours.var()) == pytest.approx(scale**2 * float(source.mean()) / 256, rel=0.05)
    if gray:
        assert torch.equal(ours[0], ours[2])


def test_poisson_levels_follow_the_distinct_value_count() -> None:
    """basicsr scales counts by 2**ceil(log2(#distinct 8-bit values)): a 3-level image uses 4."""
    img = torch.tensor([0.0, 100 / 255, 200 / 255]).repeat(3, 64, 22)[:, :, :64].contiguous()
    field = noise.make_noise(img, NoiseParams(kind="poisson", gray=False, seed=1, poisson_scale=1.0))
    steps = torch.unique(torch.round((field + img) * 4 * 1e4) / 1e4)
    assert torch.allclose(steps, torch.round(steps)), "noisy values must sit on multiples of 1/4"


@pytest.mark.parametrize("quality", [30, 60, 95])
def test_jpeg_matches_basicsr_cv2_path(basicsr, astronaut, quality: int) -> None:
    """Pillow and OpenCV both wrap libjpeg(-turbo) with 4:2:0 subsampling; their decoded outputs
    differ only by codec details: PSNR between them > 40 dB, and their PSNR to the source
    within 0.5 dB."""
    ours = jpeg_compress(astronaut, quality)
    bgr = astronaut.permute(1, 2, 0).numpy()[:, :, ::-1].copy()
    ref_bgr = basicsr.data.degradations.add_jpg_compression(bgr, quality)
    ref = torch.from_numpy(ref_bgr[:, :, ::-1].copy()).permute(2, 0, 1)
    assert _psnr(ours, ref) > 40
    assert _psnr(ours, astronaut) == pytest.approx(_psnr(ref, astronaut), abs=0.5)
    assert torch.equal(ours, torch.round(ours * 255) / 255)


def test_jpeg_rejects_bad_quality() -> None:
    with pytest.raises(ValueError, match=r"\[1, 100\]"):
        jpeg_compress(torch.zeros(3, 8, 8), 0)


def test_usm_matches_basicsr_usmsharp(basicsr, astronaut) -> None:
    """Separable OpenCV blur + in-place arithmetic vs basicsr's dense 51x51 conv2d: < 1e-5."""
    ref = basicsr.utils.img_process_util.USMSharp()(astronaut[None])[0]
    ours = usm_sharpen(astronaut)
    assert float((ours - ref).abs().max()) < 1e-5
    assert float((ours - astronaut).abs().max()) > 0.05  # it does sharpen


def test_usm_conv2d_path_matches_opencv_path(astronaut) -> None:
    """The device code path (two 1-D convolutions), run here on the CPU, agrees with OpenCV's."""
    crop = astronaut[:, :96, :128].contiguous()
    assert float((sharpen._usm_conv2d(crop, 51, 0.5, 10.0) - usm_sharpen(crop)).abs().max()) < 1e-5


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("size", [(37, 50), (96, 130), (13, 9)])
def test_cpu_resize_matches_torch_interpolate(mode: str, size: tuple[int, int]) -> None:
    """cv2.resize quantises its weights: within 5e-4 (an eighth of an 8-bit step) of torch."""
    img = torch.rand(3, 64, 80, generator=torch.Generator().manual_seed(1))
    ref = F.interpolate(img[None], size=size, mode=mode, align_corners=False)[0]
    assert float((resize.resize(img, size, mode) - ref).abs().max()) < 5e-4


@pytest.mark.parametrize("size", [(37, 50), (96, 130), (64, 80), (9, 13), (1, 1)])
def test_cpu_area_resize_is_torch_adaptive_pooling(size: tuple[int, int]) -> None:
    img = torch.rand(3, 64, 80, generator=torch.Generator().manual_seed(2))
    ref = F.interpolate(img[None], size=size, mode="area")[0]
    assert torch.allclose(resize.resize(img, size, "area"), ref, atol=1e-6)


def test_opencv_threads_do_not_change_results(astronaut) -> None:
    """OpenCV splits work over threads; results must not depend on how many."""
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        one = usm_sharpen(astronaut)
        cv2.setNumThreads(2)
        two = usm_sharpen(astronaut)
    finally:
        cv2.setNumThreads(before)
    assert torch.equal(one, two)


def test_jpeg_pixel_conversions_match_the_torch_expressions() -> None:
    """The OpenCV conversions equal clamp(round(255 x)) (half to even) and code / 255 exactly."""
    from degradations.jpeg import from_uint8_hwc, to_uint8_hwc

    x = torch.rand(3, 41, 29, generator=torch.Generator().manual_seed(0)) * 1.4 - 0.2
    x[0, 0, :3] = torch.tensor([0.5, 1.5, 2.5]) / 255  # near ties
    expected = torch.clamp(torch.round(x * 255), 0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    codes = to_uint8_hwc(x)
    assert codes.dtype == np.uint8 and np.array_equal(codes, expected)
    assert torch.equal(
        from_uint8_hwc(codes, x.device), torch.from_numpy(expected).permute(2, 0, 1).float() / 255
    )
