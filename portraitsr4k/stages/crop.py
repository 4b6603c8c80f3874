"""Crop: choose the HR window of a photo and produce HR bytes without lossy re-encoding.

Window: with ``enabled``, photos larger than the target (3840x2160, turned to portrait for
portrait photos) are cut to the target size around the union of the kept faces (each box grown
by ``margin`` of its size), so every kept face stays whole; when the faces do not fit, the whole
photo is kept. The window's offset is snapped to ``align`` px (the JPEG MCU, 16) whenever the
faces stay inside, so a lossless JPEG crop remains possible.

Scale multiple: ``LQ = HR / scale`` exactly needs HR sides divisible by ``scale``. The window
loses ``side % scale`` (at most ``scale - 1``) px at its *right and bottom* edges. This departs
from a centred trim on purpose: a centred trim moves the offset by up to 1 px, which breaks
MCU alignment and forces a PNG re-encode of photos that could keep their source bytes.

HR bytes, cheapest first:
1. ``source``: the window is the whole photo and decoding changed no sample value
   (``image_io.source_bytes_if_unchanged``): the original file, byte for byte;
2. ``png`` (``compress_level`` 1, ~0.5-0.8 s per 4K frame, reference B1) for everything else.
A lossless JPEG crop (``jpegtran -crop``/TurboJPEG ``tjTransform``) is not offered: PyTurboJPEG
is on PyPI but loads the system ``libturbojpeg`` (an apt package, not installable with pip), and
``jpegtran-cffi`` (2015) must be compiled against libjpeg headers; neither installs from PyPI
alone on this project's machines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CropSettings", "Window", "crop_window"]


@dataclass(frozen=True)
class CropSettings:
    """Settings of the crop stage (see module docstring)."""

    enabled: bool = False
    width: int = 3840
    height: int = 2160
    margin: float = 0.25
    align: int = 16
    png_level: int = 1

    def __post_init__(self) -> None:
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
