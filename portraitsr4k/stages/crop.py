"""Crop: choose the HR window of a photo and produce HR bytes without lossy re-encoding.

Window: with ``enabled``, photos larger than the target (3840x2160, turned to portrait for
portrait photos) are cut to the target size around the union of the kept faces (each box grown
by ``margin`` of its size), so every kept face stays whole; when the faces do not fit, the whole
photo is kept. The window's offset is snapped to ``align`` px (the JPEG iMCU of 4:2:0 files,
16) whenever the faces stay inside, so a lossless JPEG crop remains possible.

Scale multiple: ``LQ = HR / scale`` exactly needs HR sides divisible by ``scale``. The window
loses ``side % scale`` (at most ``scale - 1``) px at its *right and bottom* edges. This departs
from a centred trim on purpose: a centred trim moves the offset by up to 1 px, which breaks
iMCU alignment and forces a PNG re-encode of photos that could keep their DCT blocks.

HR bytes, cheapest first; ``hr_format`` in the dataset row says which:
1. ``jpeg_crop`` (:func:`jpeg_crop_hr`, tried first when the window is not the whole photo):
   the source is a JPEG whose decode applies no pixel transform (orientation 1, no ICC
   conversion, 8-bit YCbCr/gray/RGB, one frame), the window's top-left corner is a multiple
   of the file's iMCU (16x16 for 4:2:0, 8x8 for 4:4:4) and the ``_jpegcrop`` extension is
   built: ``image_io.lossless_jpeg_crop`` copies the window's DCT blocks, no re-quantisation.
   Only the crop is decoded, never the full photo. Its pixels are the crop's own decode, not
   the crop of the full decode: chroma upsampling (4:2:0, 4:2:2) has no neighbour beyond the
   new edges, which changes the outermost pixel row/column by a few levels, and the LQ must be
   made from the pixels the stored HR bytes decode to;
2. ``source`` (:func:`decoded_hr`): the window is the whole photo and decoding changed no
   sample value (``image_io.source_bytes_if_unchanged``): the original file, byte for byte;
3. ``png`` (:func:`decoded_hr`, ``png_level``) for everything else: other formats,
   EXIF-rotated or colour-converted photos, offsets off the iMCU grid (``align`` not a
   multiple of the file's iMCU, or faces that only fit an unsnapped window), a file libjpeg
   refuses, or no extension (``lossless_jpeg: false`` forces this route). The reason the
   cheaper routes were not taken is kept in :attr:`HrImage.note`.

Cost per 4K window of a 12 MP q92 photo on one core (CPU ms, median of 5, two runs;
``python -m portraitsr4k.image_io.jpeg_crop_timing``): ``jpeg_crop`` = crop 87-102 + decode of
the crop 70-93, 1.67 MB; ``png`` = full decode 117-151 + PNG level 1 455-495, 11.4 MB.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from portraitsr4k.image_io import DecodedImage, ImageInfo

__all__ = ["HR_FORMATS", "SOURCE_FORMATS", "CropSettings", "HrImage", "Window", "crop_window", "decoded_hr",
           "jpeg_crop_hr"]

logger = logging.getLogger(__name__)

#: Values of the ``hr_format`` column, cheapest route first (see the module docstring).
HR_FORMATS: tuple[str, ...] = ("source", "jpeg_crop", "png")

#: Formats whose original bytes may be stored as HR (``hr_format == "source"``).
SOURCE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


@dataclass(frozen=True)
class CropSettings:
    """Settings of the crop stage (see module docstring)."""

    enabled: bool = False
    width: int = 3840
    height: int = 2160
    margin: float = 0.25
    align: int = 16
    png_level: int = 1
    lossless_jpeg: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.lossless_jpeg, bool):
            raise TypeError(f"lossless_jpeg must be a bool, got {type(self.lossless_jpeg).__name__}")
        if self.width < 1 or self.height < 1:
            raise ValueError(f"crop size must be positive, got {self.width}x{self.height}")
        if not 0.0 <= self.margin <= 2.0:
            raise ValueError(f"margin must be in [0, 2] (fraction of the face size), got {self.margin}")
        if self.align < 1:
            raise ValueError(f"align must be >= 1 px, got {self.align}")
        if not 0 <= self.png_level <= 9:
            raise ValueError(f"png_level must be in [0, 9], got {self.png_level}")


@dataclass(frozen=True)
class Window:
    """HR window ``[x0, x1) x [y0, y1)`` in full-resolution pixels; ``reason`` says why."""

    x0: int
    y0: int
    x1: int
    y1: int
    reason: str

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def is_full(self, width: int, height: int) -> bool:
        return (self.x0, self.y0, self.x1, self.y1) == (0, 0, width, height)


def _place(lo: float, hi: float, size: int, limit: int, align: int) -> int | None:
    """Offset of a ``size`` window inside ``[0, limit)`` that covers ``[lo, hi)``, snapped to
    ``align`` when that still covers it; None when it cannot cover it."""
    if hi - lo > size:
        return None
    centre = (lo + hi) / 2.0
    start = int(round(min(max(centre - size / 2.0, 0.0), limit - size)))
    for candidate in (start - start % align, start - start % align + align):
        if 0 <= candidate <= limit - size and candidate <= lo and candidate + size >= hi:
            return candidate
    return start


def crop_window(width: int, height: int, faces: Sequence[dict[str, Any]], settings: CropSettings,
                scale: int) -> Window:
    """The HR window of a ``width`` x ``height`` photo with kept ``faces`` (``Face.to_dict`` items)."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    if width < scale or height < scale:
        raise ValueError(f"a {width}x{height} photo is smaller than one {scale}x{scale} LQ pixel")
    x0, y0, x1, y1, reason = 0, 0, width, height, "full photo"
    if settings.enabled and faces:
        tw, th = (settings.width, settings.height) if width >= height else (settings.height, settings.width)
        if width >= tw and height >= th and (width, height) != (tw, th):
            boxes = []
            for face in faces:
                bx1, by1, bx2, by2 = face["bbox"]
                mx, my = (bx2 - bx1) * settings.margin, (by2 - by1) * settings.margin
                boxes.append((max(bx1 - mx, 0.0), max(by1 - my, 0.0), min(bx2 + mx, width), min(by2 + my, height)))
            ux1, uy1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
            ux2, uy2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
            ox, oy = _place(ux1, ux2, tw, width, settings.align), _place(uy1, uy2, th, height, settings.align)
            if ox is not None and oy is not None:
                x0, y0, x1, y1, reason = ox, oy, ox + tw, oy + th, f"{tw}x{th} crop around {len(faces)} faces"
            else:
                reason = "faces do not fit one crop: full photo"
        else:
            reason = "photo not larger than the crop: full photo"
    # Trim to a multiple of the scale at the right/bottom (see module docstring).
    x1 -= (x1 - x0) % scale
    y1 -= (y1 - y0) % scale
    return Window(x0, y0, x1, y1, reason)


@dataclass(frozen=True)
class HrImage:
    """The HR image of one sample.

    Attributes:
        data: the encoded bytes stored in the dataset's ``hr`` column.
        rgb: ``(H, W, 3)`` uint8 RGB, values 0..255: exactly what ``image_io.decode(data).rgb``
            gives, so the LQ made from it replays from the stored bytes.
        format: one of :data:`HR_FORMATS`.
        note: why a cheaper route than ``format`` was not taken (``""`` when none applied).
    """

    data: bytes
    rgb: np.ndarray
    format: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.format not in HR_FORMATS:
            raise ValueError(f"format must be one of {HR_FORMATS}, got {self.format!r}")
        if not isinstance(self.rgb, np.ndarray) or self.rgb.dtype != np.uint8 or self.rgb.ndim != 3:
            got = getattr(self.rgb, "shape", type(self.rgb).__name__)
            raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got {got!r}")


def jpeg_crop_hr(data: bytes, info: ImageInfo, window: Window,
                 settings: CropSettings) -> tuple[HrImage | None, str]:
    """The ``jpeg_crop`` HR image of ``window``, or None and the reason it is not possible
    (``""`` when the window is the whole photo, which is no crop at all).

    Needs only the header (``info = image_io.probe(data)``): the source is never decoded, only
    the crop is, and the crop's own decode decides (:attr:`DecodedImage.pixels_unchanged`). The
    crop keeps the source's ICC profile and EXIF, so its decode applies exactly the
    conversions the source's would; cheap header checks first skip files that cannot qualify.

    Args:
        data: the source file's bytes.
        info: the source's header record (``ok``).
        window: the HR window in display pixels (equal to stored pixels at orientation 1).
        settings: ``lossless_jpeg`` switches this route off.
    """
    from portraitsr4k import image_io

    if not settings.lossless_jpeg:
        return None, "lossless_jpeg is off"
    if window.is_full(info.width, info.height):
        return None, ""  # not a crop: the source bytes route applies
    if info.format != "JPEG":
        return None, f"{info.format} source"
    plain = info.orientation == 1 and info.n_frames == 1 and info.bits_per_sample == 8
    if not plain or info.mode not in ("RGB", "L"):
        return None, (f"decoding changes pixels (orientation {info.orientation}, {info.n_frames} frames, "
                      f"{info.bits_per_sample}-bit {info.mode})")
    if not image_io.lossless_jpeg_crop_available():
        return None, "lossless JPEG crop extension not built"
    try:
        imcu_w, imcu_h = image_io.jpeg_imcu_size(data)
        if window.x0 % imcu_w or window.y0 % imcu_h:
            return None, f"offset ({window.x0}, {window.y0}) is not on the file's {imcu_w}x{imcu_h} iMCU grid"
        cropped = image_io.lossless_jpeg_crop(data, window.x0, window.y0, window.width, window.height)
    except image_io.JpegCropError as exc:
        logger.info("lossless JPEG crop refused, storing PNG: %s", exc)
        return None, f"lossless JPEG crop refused: {exc}"
    hr = image_io.decode(cropped)
    if not hr.ok:
        # libjpeg wrote it from valid blocks, so this is a bug, not bad input: say so loudly.
        logger.warning("a lossless JPEG crop did not decode (%s: %s); storing PNG", hr.status, hr.message)
        return None, f"lossless JPEG crop did not decode ({hr.status})"
    if not hr.pixels_unchanged:
        return None, f"decoding changes pixels ({', '.join(hr.conversions)})"
    if hr.rgb.shape[:2] != (window.height, window.width):
        raise RuntimeError(f"a {window.width}x{window.height} lossless JPEG crop decoded to "
                           f"{hr.rgb.shape[:2]}")
    return HrImage(data=cropped, rgb=hr.rgb, format="jpeg_crop"), ""


def decoded_hr(data: bytes, decoded: DecodedImage, window: Window, settings: CropSettings, *,
               note: str = "") -> HrImage:
    """The HR image of ``window`` from a full decode: the source bytes when the window is the
    whole photo and decoding changed nothing, else a PNG of the decoded window.

    Args:
        data: the source file's bytes.
        decoded: ``image_io.decode(data)`` at full resolution (``ok``).
        window: the HR window in ``decoded.rgb``'s (display) pixels.
        settings: ``png_level`` is used.
        note: why :func:`jpeg_crop_hr` was not possible (kept in :attr:`HrImage.note`).
    """
    from portraitsr4k import image_io

    if not decoded.ok:
        raise ValueError(f"decoded must be an ok DecodedImage, got status {decoded.status!r}")
    height, width = decoded.rgb.shape[:2]
    if not (0 <= window.x0 < window.x1 <= width and 0 <= window.y0 < window.y1 <= height):
        raise ValueError(f"window {window} is not inside the {width}x{height} image")
    notes = [note] if note else []
    # Source bytes only for formats a dataset viewer shows and that stay small (not BMP/MPO).
    if window.is_full(width, height) and decoded.info.format in SOURCE_FORMATS:
        source = image_io.source_bytes_if_unchanged(data, decoded)
        if source is not None:
            return HrImage(data=source, rgb=decoded.rgb, format="source")
        notes.append(f"source bytes: decoding changes pixels ({', '.join(decoded.conversions)})")
    rgb = decoded.rgb[window.y0:window.y1, window.x0:window.x1]
    png = image_io.encode_png(rgb, compress_level=settings.png_level)
    return HrImage(data=png, rgb=rgb, format="png", note="; ".join(notes))
