"""Kernels and filtering: parity with basicsr 1.4.2 and independent formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from degradations import KernelConfig, KernelParams, filtering, kernels, sampling

CASES = [  # (size, sigma_x, sigma_y, theta, beta)
    (7, 0.2, 0.2, 0.0, 0.5),
    (11, 1.3, 2.9, 0.7, 1.7),
    (21, 3.0, 0.4, -2.5, 3.9),
    (15, 2.2, 2.2, math.pi, 1.0),
    (41, 12.0, 4.0, 1.1, 0.6),
]


@pytest.mark.parametrize(("size", "sx", "sy", "theta", "beta"), CASES)
def test_gaussian_family_matches_basicsr(basicsr, size, sx, sy, theta, beta) -> None:
    bd = basicsr.data.degradations
    for iso in (True, False):
        sy_ = sx if iso else sy
        th = 0.0 if iso else theta
        ref = bd.bivariate_Gaussian(size, sx, sy_, th, isotropic=iso)
        assert np.abs(kernels.gaussian_kernel(size, sx, sy_, th).numpy() - ref).max() < 1e-6
        ref = bd.bivariate_generalized_Gaussian(size, sx, sy_, th, beta, isotropic=iso)
        assert np.abs(kernels.generalized_gaussian_kernel(size, sx, sy_, th, beta).numpy() - ref).max() < 1e-6
        ref = bd.bivariate_plateau(size, sx, sy_, th, beta, isotropic=iso)
        assert np.abs(kernels.plateau_kernel(size, sx, sy_, th, beta).numpy() - ref).max() < 1e-6


@pytest.mark.parametrize("size", [7, 9, 13, 21])
@pytest.mark.parametrize("cutoff", [math.pi / 5, math.pi / 3, 2.0, math.pi])
def test_circular_lowpass_matches_basicsr(basicsr, size, cutoff) -> None:
    ref = basicsr.data.degradations.circular_lowpass_kernel(cutoff, size, pad_to=0)
    assert np.abs(kernels.circular_lowpass_kernel(size, cutoff).numpy() - ref).max() < 1e-6


def test_make_kernel_dispatches_every_kind(basicsr) -> None:
    bd = basicsr.data.degradations
    pairs = {
        KernelParams("iso", 9, 1.5, 1.5, 0.0): bd.bivariate_Gaussian(9, 1.5, 1.5, 0, isotropic=True),
        KernelParams("aniso", 9, 1.5, 0.5, 0.3): bd.bivariate_Gaussian(9, 1.5, 0.5, 0.3, isotropic=False),
        KernelParams("generalized_iso", 9, 1.5, 1.5, 0.0, beta=2.0): bd.bivariate_generalized_Gaussian(
            9, 1.5, 1.5, 0, 2.0, isotropic=True
        ),
        KernelParams("generalized_aniso", 9, 1.5, 0.5, 0.3, beta=2.0): bd.bivariate_generalized_Gaussian(
            9, 1.5, 0.5, 0.3, 2.0, isotropic=False
        ),
        KernelParams("plateau_iso", 9, 1.5, 1.5, 0.0, beta=1.5): bd.bivariate_plateau(
            9, 1.5, 1.5, 0, 1.5, isotropic=True
        ),
        KernelParams("plateau_aniso", 9, 1.5, 0.5, 0.3, beta=1.5): bd.bivariate_plateau(
            9, 1.5, 0.5, 0.3, 1.5, isotropic=False
        ),
        KernelParams("sinc", 9, cutoff=1.0): bd.circular_lowpass_kernel(1.0, 9),
    }
    for params, ref in pairs.items():
        assert np.abs(kernels.make_kernel(params).numpy() - ref).max() < 1e-6, params.kind


def test_kernels_sum_to_one_and_anisotropic_moments_match_the_covariance() -> None:
    """Independent check: a wide-support Gaussian kernel's second moments equal R diag(sx^2, sy^2) R^T."""
    sx, sy, theta = 2.0, 0.8, 0.6
    kernel = kernels.gaussian_kernel(41, sx, sy, theta)
    assert abs(float(kernel.sum()) - 1.0) < 1e-12
    xx, yy = kernels.mesh_grid(41)
    moments = torch.tensor(
        [
            [(kernel * xx * xx).sum(), (kernel * xx * yy).sum()],
            [(kernel * yy * xx).sum(), (kernel * yy * yy).sum()],
        ],
        dtype=torch.float64,
    )
    c, s = math.cos(theta), math.sin(theta)
    expected = torch.tensor(
        [
            [sx**2 * c * c + sy**2 * s * s, (sx**2 - sy**2) * c * s],
            [(sx**2 - sy**2) * c * s, sx**2 * s * s + sy**2 * c * c],
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(moments, expected, atol=1e-6)
    for params in (
        KernelParams("plateau_aniso", 21, 2.0, 1.0, 0.4, beta=1.3),
        KernelParams("sinc", 21, cutoff=1.2),
    ):
        assert abs(float(kernels.make_kernel(params).sum()) - 1.0) < 1e-12
    # beta = 1 generalized Gaussian is the Gaussian
    assert torch.allclose(
        kernels.generalized_gaussian_kernel(15, 2.0, 1.0, 0.4, 1.0),
        kernels.gaussian_kernel(15, 2.0, 1.0, 0.4),
        atol=1e-15,
    )


def test_separable_factor_reproduces_the_isotropic_kernel() -> None:
    params = KernelParams("iso", 17, 2.5, 2.5, 0.0)
    factor = kernels.separable_factor(params)
    assert torch.allclose(torch.outer(factor, factor), kernels.make_kernel(params), atol=1e-15)
    assert kernels.separable_factor(KernelParams("aniso", 17, 2.5, 1.0, 0.2)) is None


def test_sampled_kernels_follow_realesrgan_rules() -> None:
    config = KernelConfig(sinc_prob=0.3)
    generator = torch.Generator().manual_seed(0)
    drawn = [sampling.sample_kernel(config, generator) for _ in range(600)]
    kinds = {k.kind for k in drawn}
    assert kinds == {
        "iso",
        "aniso",
        "generalized_iso",
        "generalized_aniso",
        "plateau_iso",
        "plateau_aniso",
        "sinc",
    }
    assert {k.size for k in drawn} == set(range(7, 22, 2))
    for k in drawn:
        if k.kind == "sinc":
            low = math.pi / 3 if k.size < 13 else math.pi / 5
            assert low <= k.cutoff <= math.pi
        else:
            assert 0.2 <= k.sigma_x <= 3.0 and 0.2 <= k.sigma_y <= 3.0 and -math.pi <= k.theta <= math.pi
        if k.kind.startswith("generalized"):
            assert 0.5 <= k.beta <= 4.0
        if k.kind.startswith("plateau"):
            assert 1.0 <= k.beta <= 2.0
    share_iso = sum(k.kind == "iso" for k in drawn) / sum(k.kind != "sinc" for k in drawn)
    assert abs(share_iso - 0.45) < 0.07


def test_kernel_scale_stretches_sizes_and_sigmas() -> None:
    config = KernelConfig(sinc_prob=0.0, kinds=("iso",), probs=(1.0,))
    base = sampling.sample_kernel(config, torch.Generator().manual_seed(3))
    scaled = sampling.sample_kernel(config, torch.Generator().manual_seed(3), factor=4.0)
    assert scaled.sigma_x == pytest.approx(4 * base.sigma_x)
    assert scaled.size == 2 * (base.size * 4 // 2) + 1
    sinc = sampling.sample_kernel(KernelConfig(sinc_prob=1.0), torch.Generator().manual_seed(3), factor=2.0)
    sinc1 = sampling.sample_kernel(KernelConfig(sinc_prob=1.0), torch.Generator().manual_seed(3))
    assert sinc.cutoff == pytest.approx(sinc1.cutoff / 2)


@pytest.mark.parametrize("kind", ["iso", "aniso", "sinc"])
@pytest.mark.parametrize("shape", [(3, 40, 56), (3, 5, 4)])
def test_filter2d_cpu_and_torch_paths_match_basicsr(basicsr, kind, shape) -> None:
    """cv2 (CPU) and conv2d (CUDA) paths agree with basicsr's filter2D; tiny images fold borders."""
    params = {
        "iso": KernelParams("iso", 21, 2.0, 2.0, 0.0),
        "aniso": KernelParams("aniso", 13, 2.0, 0.7, 0.5),
        "sinc": KernelParams("sinc", 9, cutoff=1.3),
    }[kind]
    img = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    kernel = kernels.make_kernel(params)
    factor = kernels.separable_factor(params)
    cpu = filtering.filter2d(img, kernel, factor)
    via_torch = filtering.filter_conv2d(img, kernel, factor)
    assert torch.allclose(cpu, via_torch, atol=2e-6)
    if min(shape[1:]) > params.size // 2:  # basicsr's F.pad(reflect) needs pad < size
        ref = basicsr.utils.img_process_util.filter2D(img[None], kernel.float()[None])[0]
        assert torch.allclose(cpu, ref, atol=2e-6)


def test_reflect101_indices_match_numpy_reflect() -> None:
    for length, pad in ((10, 3), (4, 10), (2, 5), (1, 4)):
        expected = (
            np.pad(np.arange(length), pad, mode="reflect") if length > 1 else np.zeros(length + 2 * pad)
        )
        assert np.array_equal(
            filtering.reflect101_indices(length, pad, torch.device("cpu")).numpy(), expected
        )
