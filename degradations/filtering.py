"""2-D filtering of one image with reflect-101 borders (basicsr ``filter2D`` semantics).

CPU tensors go through OpenCV per channel (``cv2.filter2D``, which switches to a DFT for
large kernels, or ``cv2.sepFilter2D`` for separable kernels): both are deterministic and run
on the tensor's memory without a layout change. Other devices use ``conv2d``. Both compute a
correlation, as basicsr's ``F.conv2d`` does (all our kernels are point-symmetric anyway).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def reflect101_indices(length: int, pad: int, device: torch.device) -> torch.Tensor:
    """Source indices for padding ``length`` samples by ``pad`` on each side with OpenCV's
    BORDER_REFLECT_101 (``dcb|abcd|cba``), folding repeatedly so any ``pad`` works."""
    idx = torch.arange(-pad, length + pad, device=device)
    if length == 1:
        return torch.zeros_like(idx)
    period = 2 * length - 2
    idx = torch.remainder(idx, period)
    return torch.where(idx >= length, period - idx, idx)


def _pad_reflect101(img: torch.Tensor, pad_y: int, pad_x: int) -> torch.Tensor:
    height, width = img.shape[-2:]
    rows = reflect101_indices(height, pad_y, img.device)
    cols = reflect101_indices(width, pad_x, img.device)
    return img.index_select(-2, rows).index_select(-1, cols)


def filter_opencv(img: torch.Tensor, kernel: torch.Tensor, factor: torch.Tensor | None) -> torch.Tensor:
    """CPU path of :func:`filter2d` (OpenCV per channel)."""
    src = img.contiguous().numpy()
    out = np.empty_like(src)
    if factor is not None:
        k1 = factor.to(torch.float32).numpy()
        for c in range(src.shape[0]):
            cv2.sepFilter2D(src[c], -1, k1, k1, dst=out[c], borderType=cv2.BORDER_REFLECT_101)
    else:
        k2 = kernel.to(torch.float32).numpy()
        for c in range(src.shape[0]):
            cv2.filter2D(src[c], -1, k2, dst=out[c], borderType=cv2.BORDER_REFLECT_101)
    return torch.from_numpy(out)


def filter_conv2d(img: torch.Tensor, kernel: torch.Tensor, factor: torch.Tensor | None) -> torch.Tensor:
    """Device path of :func:`filter2d` (depthwise ``conv2d`` after reflect-101 padding)."""
    channels = img.shape[0]
    size = kernel.shape[-1]
    padded = _pad_reflect101(img, size // 2, size // 2).unsqueeze(0)
    if factor is not None:
        k1 = factor.to(device=img.device, dtype=img.dtype)
        out = F.conv2d(
            padded, k1.view(1, 1, size, 1).expand(channels, 1, size, 1).contiguous(), groups=channels
        )
        out = F.conv2d(out, k1.view(1, 1, 1, size).expand(channels, 1, 1, size).contiguous(), groups=channels)
    else:
        k2 = kernel.to(device=img.device, dtype=img.dtype)
        out = F.conv2d(
            padded, k2.view(1, 1, size, size).expand(channels, 1, size, size).contiguous(), groups=channels
        )
    return out[0]


def filter2d(img: torch.Tensor, kernel: torch.Tensor, factor: torch.Tensor | None = None) -> torch.Tensor:
    """Filter one image with reflect-101 borders.

    Args:
        img: ``(C, H, W)`` float32 on any device.
        kernel: ``(k, k)`` float tensor (any device/dtype), ``k`` odd.
        factor: optional ``(k,)`` 1-D factor with ``outer(factor, factor) == kernel``; when
            given the filter runs as two 1-D passes.

    Returns:
        ``(C, H, W)`` float32 on ``img``'s device.
    """
    if kernel.shape[-1] == 1:
        return img * kernel.reshape(()).to(img)
    if img.device.type == "cpu":
        return filter_opencv(img, kernel, factor)
    return filter_conv2d(img, kernel, factor)
