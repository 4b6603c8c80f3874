"""JPEG compression through a real encoder (Pillow's libjpeg), on the CPU.

Real-ESRGAN trains with ``DiffJPEG``, a torch re-implementation whose output depends on the
device and batch padding; a dataset should carry artefacts of the codec people actually
use, decoded bit-exactly everywhere, so we encode with Pillow (baseline, 4:2:0 chroma
subsampling, no optimisation: the defaults of both Pillow and OpenCV). A CUDA tensor is
copied to the CPU for this step and the result copied back (a few ms per image; it also
synchronises the stream).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def to_uint8_hwc(img: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float in [0, 1] -> ``(H, W, 3)`` uint8 (rounded, clamped) on the CPU."""
    codes = torch.clamp(torch.round(img.detach() * 255.0), 0, 255).to(torch.uint8)
    return codes.permute(1, 2, 0).contiguous().cpu().numpy()


def jpeg_compress(img: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode one image as JPEG.

    Args:
        img: ``(3, H, W)`` float32 in [0, 1] on any device (values are rounded to 8 bits).
        quality: libjpeg quality, 1-100.

    Returns:
        ``(3, H, W)`` float32 on the 8-bit grid, on ``img``'s device.
    """
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"jpeg quality must be an int in [1, 100], got {quality!r}")
    buffer = io.BytesIO()
    Image.fromarray(to_uint8_hwc(img)).save(buffer, format="JPEG", quality=quality,
                                            subsampling="4:2:0", optimize=False)
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        pixels = np.asarray(decoded.convert("RGB"))
    out = torch.from_numpy(pixels.transpose(2, 0, 1).astype(np.float32)) / 255.0
    return out.to(img.device)
