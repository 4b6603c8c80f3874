"""Unsharp masking (basicsr ``USMSharp``, used by Real-ESRGAN on the HR before degrading).

``blur = G * img`` with a ``radius x radius`` Gaussian (sigma by OpenCV's rule for sigma=0,
8.3 px for radius 51), ``residual = img - blur``, ``mask = G * [|residual| * 255 > threshold]``,
``out = mask * clip(img + weight * residual, 0, 1) + (1 - mask) * img``.

basicsr runs the 51x51 Gaussian as a dense ``conv2d`` (2601 multiplies per pixel, ~22 s on
a 4K image); it is separable, so we run two 51-tap passes: ``cv2.GaussianBlur`` per channel
with in-place NumPy arithmetic on the CPU (no large temporaries: at 4K each fresh float32
plane costs more to allocate than to compute), two 1-D convolutions elsewhere. Borders are
reflect-101 as in basicsr's ``filter2D``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from degradations.filtering import filter_conv2d


def gaussian_factor(radius: int) -> torch.Tensor:
    """The 1-D Gaussian of ``radius`` taps (odd) that basicsr's ``USMSharp`` squares into its
    2-D kernel: ``cv2.getGaussianKernel(radius, 0)``, ``(radius,)`` float64."""
    return torch.from_numpy(cv2.getGaussianKernel(radius, 0)[:, 0].copy())


def _usm_cpu(img: torch.Tensor, radius: int, weight: float, threshold: float) -> torch.Tensor:
    src = img.contiguous().numpy()
    out = np.empty_like(src)
    blur = np.empty_like(src[0])
    work = np.empty_like(src[0])
    for c in range(src.shape[0]):
        x = src[c]
        cv2.GaussianBlur(x, (radius, radius), 0, dst=blur, borderType=cv2.BORDER_REFLECT_101)
        np.subtract(x, blur, out=blur)  # blur now holds the residual
        np.abs(blur, out=work)
        np.multiply(work, 255, out=work)
        cv2.threshold(work, threshold, 1.0, cv2.THRESH_BINARY, dst=work)  # 1 where |res|*255 > t
        mask = cv2.GaussianBlur(work, (radius, radius), 0, borderType=cv2.BORDER_REFLECT_101)
        np.multiply(blur, weight, out=blur)
        np.add(blur, x, out=blur)
        np.clip(blur, 0.0, 1.0, out=blur)  # sharp
        np.subtract(blur, x, out=blur)
        np.multiply(blur, mask, out=blur)
        np.add(x, blur, out=out[c])  # img + mask * (sharp - img)
    return torch.from_numpy(out)


def usm_sharpen(
    img: torch.Tensor, radius: int = 51, weight: float = 0.5, threshold: float = 10.0
) -> torch.Tensor:
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
    if img.device.type == "cpu":
        return _usm_cpu(img, radius, float(weight), float(threshold))
    return _usm_conv2d(img, radius, float(weight), float(threshold))


def _usm_conv2d(img: torch.Tensor, radius: int, weight: float, threshold: float) -> torch.Tensor:
    """The same maths with two 1-D convolutions per blur (any device; used off the CPU)."""
    factor = gaussian_factor(radius)
    kernel = torch.outer(factor, factor)
    blur = filter_conv2d(img, kernel, factor)
    residual = img - blur
    mask = (torch.abs(residual) * 255 > threshold).to(img.dtype)
    soft_mask = filter_conv2d(mask, kernel, factor)
    sharp = torch.clamp(img + weight * residual, 0.0, 1.0)
    return img + soft_mask * (sharp - img)
