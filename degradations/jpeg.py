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

import cv2
import numpy as np
import torch
from PIL import Image

# float32(code) / 255 in float32, exactly what ``torch.round(x * 255) / 255`` produces.
_CODE_TO_FLOAT = (np.arange(256, dtype=np.float32) / np.float32(255.0)).reshape(1, 256)


def to_uint8_hwc(img: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float32 -> ``(H, W, 3)`` uint8 ``clamp(round(255 * img), 0, 255)`` on the CPU.

    OpenCV's saturating conversion rounds half to even like ``torch.round`` and is several
    times faster than the torch expression on one thread at 4K.
    """
    planes = img.detach().to("cpu", torch.float32).contiguous().numpy()
    work = np.empty_like(planes[0])
    codes = []
    for plane in planes:
        np.maximum(plane, 0.0, out=work)  # convertScaleAbs takes |x|: drop negatives first
        codes.append(cv2.convertScaleAbs(work, alpha=255.0))
    return cv2.merge(codes)


def from_uint8_hwc(pixels: np.ndarray, device: torch.device) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, H, W)`` float32 ``code / 255`` on ``device``."""
    planes = np.empty((3, *pixels.shape[:2]), dtype=np.float32)
    for c, plane in enumerate(cv2.split(pixels)):
        cv2.LUT(plane, _CODE_TO_FLOAT, dst=planes[c])  # one table look-up per pixel
    return torch.from_numpy(planes).to(device)


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
    Image.fromarray(to_uint8_hwc(img)).save(
        buffer, format="JPEG", quality=quality, subsampling="4:2:0", optimize=False
    )
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        pixels = np.asarray(decoded.convert("RGB"))
    return from_uint8_hwc(pixels, img.device)
