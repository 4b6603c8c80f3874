"""Encoders for decoded images: lossless PNG, or the original bytes when nothing changed."""

from __future__ import annotations

import numpy as np

from portraitsr4k.image_io.decode import source_digest
from portraitsr4k.image_io.status import DecodedImage

__all__ = ["PASS_THROUGH_FORMATS", "encode_png", "source_bytes_if_unchanged"]

# Formats whose bytes can be stored as the dataset's HR image as they are (HF `datasets` Image
# and every viewer decode them).
PASS_THROUGH_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG"})


def encode_png(rgb: np.ndarray, *, compress_level: int = 1) -> bytes:
    """Encode an image as a lossless PNG with no metadata; equal input gives equal bytes.

    Encoded with OpenCV's libpng using the Paeth filter and zlib's run-length strategy
    (``Z_RLE``), chosen by measurement on 3840 x 2160 frames (one core, CPU time, median of 3;
    ``python -m portraitsr4k.image_io.timing --encode``): a synthetic photo-like frame took
    Pillow level 1 881 ms -> 12.9 MB, Pillow level 6 5236 ms -> 11.5 MB, OpenCV level 1 with
    default strategy 763 ms -> 12.6 MB, this encoder 514 ms -> 11.4 MB; an upscaled real photo
    took OpenCV level 6 2821 ms -> 7.47 MB and this encoder 506 ms -> 7.48 MB. With ``Z_RLE``
    the level changes little beyond 0.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB (or ``(H, W)`` uint8 gray), values 0..255, any strides.
        compress_level: zlib level 0 (stored, no compression) .. 9.

    Returns:
        The PNG file's bytes (8-bit RGB or gray, no text/time chunks).
    """
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"rgb must be a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"rgb must be uint8, got {rgb.dtype}")
    if not (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] == 3)) or min(rgb.shape[:2]) < 1:
        raise ValueError(f"rgb must have shape (H, W, 3) or (H, W) with H, W >= 1, got {rgb.shape}")
    if (
        isinstance(compress_level, bool)
        or not isinstance(compress_level, int)
        or not 0 <= compress_level <= 9
    ):
        raise ValueError(f"compress_level must be an int in 0..9, got {compress_level!r}")
    import cv2  # imported here: reading images never needs OpenCV

    pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else np.ascontiguousarray(rgb)
    ok, encoded = cv2.imencode(
        ".png",
        pixels,
        [
            cv2.IMWRITE_PNG_COMPRESSION,
            compress_level,
            cv2.IMWRITE_PNG_STRATEGY,
            cv2.IMWRITE_PNG_STRATEGY_RLE,
            cv2.IMWRITE_PNG_FILTER,
            cv2.IMWRITE_PNG_FILTER_PAETH,
        ],
    )
    if not ok:  # libpng failed on a valid uint8 array: out of memory, not a data problem
        raise MemoryError(f"OpenCV could not encode a {rgb.shape} PNG")
    return encoded.tobytes()


def source_bytes_if_unchanged(source_bytes: bytes, decoded: DecodedImage) -> bytes | None:
    """The original bytes, untouched, when they decode to exactly ``decoded.rgb``; else None.

    True when ``decoded`` is ok, decoding applied no pixel transform
    (:attr:`DecodedImage.pixels_unchanged`: full size, orientation 1, no ICC conversion, 8-bit
    RGB/gray, no alpha, one frame), the format is JPEG or PNG, and ``source_bytes`` are the
    very bytes that were decoded (checked by digest). The caller encodes (e.g.
    :func:`encode_png`) when this returns None.
    """
    if not isinstance(source_bytes, (bytes, bytearray, memoryview)):
        raise TypeError(f"source_bytes must be bytes, got {type(source_bytes).__name__}")
    if not isinstance(decoded, DecodedImage):
        raise TypeError(f"decoded must be a DecodedImage, got {type(decoded).__name__}")
    if not decoded.pixels_unchanged or decoded.info.format not in PASS_THROUGH_FORMATS:
        return None
    data = bytes(source_bytes)
    if (
        decoded.source_digest is None
        or len(data) != decoded.info.file_size
        or source_digest(data) != decoded.source_digest
    ):
        return None
    return data
