"""Unsharp masking (basicsr ``USMSharp``, used by Real-ESRGAN on the HR before degrading).

``blur = G * img`` with a ``radius x radius`` Gaussian (sigma by OpenCV's rule for sigma=0,
8.3 px for radius 51), ``residual = img - blur``, ``mask = G * [|residual| * 255 > threshold]``,
``out = mask * clip(img + weight * residual, 0, 1) + (1 - mask) * img``.

basicsr runs the 51x51 Gaussian as a dense ``conv2d`` (2601 multiplies per pixel, ~22 s on
a 4K image); it is separable, so we run two 51-tap passes (OpenCV on the CPU, two 1-D
convolutions elsewhere). Borders are reflect-101 as in basicsr's ``filter2D``.
"""

from __future__ import annotations

import cv2
import torch

from degradations.filtering import filter2d


def gaussian_factor(radius: int) -> torch.Tensor:
    """The 1-D Gaussian of ``radius`` taps (odd) that basicsr's ``USMSharp`` squares into its
    2-D kernel: ``cv2.getGaussianKernel(radius, 0)``, ``(radius,)`` float64."""
    return torch.from_numpy(cv2.getGaussianKernel(radius, 0)[:, 0].copy())


def usm_sharpen(img: torch.Tensor, radius: int = 51, weight: float = 0.5, threshold: float = 10.0) -> torch.Tensor:
    """Sharpen one image.

    Args:
        img: ``(3, H, W)`` float32 in [0, 1] on any device.
        radius: Gaussian size (basicsr turns its default 50 into 51; pass the odd size).
        weight: amount of the residual added back.
        threshold: residual level (0-255 units) below which nothing is sharpened.

    Returns:
        ``(3, H, W)`` float32 in [0, 1].
    """
    if radius % 2 == 0:
        raise ValueError(f"usm radius (kernel size) must be odd, got {radius}")
    factor = gaussian_factor(radius)
    kernel = torch.outer(factor, factor)
    blur = filter2d(img, kernel, factor)
    residual = img - blur
    mask = (torch.abs(residual) * 255 > threshold).to(torch.float32)
    soft_mask = filter2d(mask, kernel, factor)
    sharp = torch.clamp(img + weight * residual, 0.0, 1.0)
    return soft_mask * sharp + (1 - soft_mask) * img
