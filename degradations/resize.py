"""Resizing one image with ``torch.nn.functional.interpolate`` semantics (as Real-ESRGAN).

Modes: ``area`` (adaptive average pooling: each output pixel averages the input pixels whose
index range ``[floor(i * in / out), ceil((i + 1) * in / out))`` it covers), ``bilinear`` and
``bicubic`` (half-pixel centres, ``align_corners=False``, cubic a = -0.75), optionally
antialiased. On the CPU, bilinear/bicubic without antialias go through ``cv2.resize``, which
computes the same interpolation about 10x faster on one thread (it quantises its weights, so
results differ from torch by at most ~4e-4, a tenth of an 8-bit step; a test pins this).
``area`` and antialiased modes, and every mode on other devices, call ``F.interpolate``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

_CV2_MODES = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}


def resize(img: torch.Tensor, size: tuple[int, int], mode: str, antialias: bool = False) -> torch.Tensor:
    """Resize one image.

    Args:
        img: ``(C, H, W)`` float32 on any device.
        size: output ``(height, width)``, each >= 1.
        mode: ``area``, ``bilinear`` or ``bicubic``.
        antialias: low-pass before downscaling (bilinear/bicubic only; Real-ESRGAN uses none).

    Returns:
        ``(C, height, width)`` float32 (not clamped: bicubic may overshoot [0, 1]).
    """
    height, width = size
    if (height, width) == tuple(img.shape[-2:]):
        return img
    if img.device.type == "cpu" and not antialias:
        if mode in _CV2_MODES:
            src = img.contiguous().numpy()
            out = np.empty((src.shape[0], height, width), dtype=np.float32)
            for c in range(src.shape[0]):
                cv2.resize(src[c], (width, height), dst=out[c], interpolation=_CV2_MODES[mode])
            return torch.from_numpy(out)
    kwargs = {} if mode == "area" else {"align_corners": False, "antialias": antialias}
    return F.interpolate(img.unsqueeze(0), size=(height, width), mode=mode, **kwargs)[0]
