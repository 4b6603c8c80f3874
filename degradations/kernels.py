"""Blur kernels with Real-ESRGAN's parameterisation (computed in float64 on the CPU).

All kernels are ``(k, k)`` float64 tensors that sum to 1, on a grid centred at 0 where
``x`` runs along columns and ``y`` along rows. With ``Sigma = R diag(sx^2, sy^2) R^T``
(``R`` the rotation by ``theta``) and ``q = [x y] Sigma^-1 [x y]^T``:

* Gaussian: ``exp(-q / 2)``
* generalized Gaussian: ``exp(-q^beta / 2)`` (beta = 1 is the Gaussian)
* plateau: ``1 / (1 + q^beta)``
* circular low-pass (sinc): ``cutoff * J1(cutoff * r) / (2 pi r)``, centre ``cutoff^2 / (4 pi)``.
"""

from __future__ import annotations

import math

import torch

from degradations.params import KernelParams


def mesh_grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(xx, yy)``, each ``(size, size)`` float64, coordinates ``-(size // 2) .. size // 2``."""
    ax = torch.arange(size, dtype=torch.float64) - (size // 2)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    return xx, yy


def sigma_matrix(sigma_x: float, sigma_y: float, theta: float) -> torch.Tensor:
    """Covariance ``R diag(sigma_x^2, sigma_y^2) R^T`` as a ``(2, 2)`` float64 tensor."""
    c, s = math.cos(theta), math.sin(theta)
    rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    diag = torch.diag(torch.tensor([sigma_x**2, sigma_y**2], dtype=torch.float64))
    return rot @ diag @ rot.T


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> torch.Tensor:
    xx, yy = mesh_grid(size)
    inv = torch.linalg.inv(sigma_matrix(sigma_x, sigma_y, theta))
    return inv[0, 0] * xx * xx + (inv[0, 1] + inv[1, 0]) * xx * yy + inv[1, 1] * yy * yy


def _normalised(kernel: torch.Tensor) -> torch.Tensor:
    return kernel / kernel.sum()


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float, theta: float) -> torch.Tensor:
    """Bivariate (an)isotropic Gaussian, ``(size, size)`` float64, sums to 1."""
    return _normalised(torch.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta)))


def generalized_gaussian_kernel(
    size: int, sigma_x: float, sigma_y: float, theta: float, beta: float
) -> torch.Tensor:
    """Bivariate generalized Gaussian ``exp(-q^beta / 2)``, ``(size, size)`` float64."""
    return _normalised(torch.exp(-0.5 * torch.pow(_quadratic_form(size, sigma_x, sigma_y, theta), beta)))


def plateau_kernel(size: int, sigma_x: float, sigma_y: float, theta: float, beta: float) -> torch.Tensor:
    """Bivariate plateau ``1 / (1 + q^beta)``, ``(size, size)`` float64."""
    return _normalised(torch.reciprocal(torch.pow(_quadratic_form(size, sigma_x, sigma_y, theta), beta) + 1))


def circular_lowpass_kernel(size: int, cutoff: float) -> torch.Tensor:
    """2-D circular low-pass (sinc) kernel, ``(size, size)`` float64; ``cutoff`` in radians."""
    xx, yy = mesh_grid(size)
    r = torch.sqrt(xx * xx + yy * yy)
    centre = size // 2
    r_safe = r.clone()
    r_safe[centre, centre] = 1.0  # the centre value is the analytic limit, set below
    kernel = cutoff * torch.special.bessel_j1(cutoff * r_safe) / (2 * math.pi * r_safe)
    kernel[centre, centre] = cutoff**2 / (4 * math.pi)
    return _normalised(kernel)


def make_kernel(params: KernelParams) -> torch.Tensor:
    """The ``(size, size)`` float64 kernel described by ``params``."""
    if params.kind == "sinc":
        return circular_lowpass_kernel(params.size, params.cutoff)
    args = (params.size, params.sigma_x, params.sigma_y, params.theta)
    if params.kind in ("iso", "aniso"):
        return gaussian_kernel(*args)
    if params.kind.startswith("generalized"):
        return generalized_gaussian_kernel(*args, params.beta)
    return plateau_kernel(*args, params.beta)


def separable_factor(params: KernelParams) -> torch.Tensor | None:
    """The 1-D factor ``g`` with ``outer(g, g) == make_kernel(params)`` for axis-aligned
    isotropic Gaussians, else ``None``. Filtering with it costs ``2k`` instead of ``k^2``
    multiplies per pixel (the two agree to ~1e-7 in float32)."""
    if params.kind != "iso":
        return None
    ax = torch.arange(params.size, dtype=torch.float64) - (params.size // 2)
    return _normalised(torch.exp(-0.5 * ax * ax / params.sigma_x**2))
