"""Lossless JPEG crop: cut a window out of a JPEG without decoding or re-encoding its pixels.

What ``jpegtran -crop`` does, through the small C extension ``_jpegcrop`` linked with the
system libjpeg (libjpeg-turbo): the quantised DCT coefficients of the source are read, the
8x8 blocks of the window are copied, and the result is entropy-coded again with the source's
quantisation tables and sampling factors. Every block of the crop is bit-identical to the
source's block, so there is no generation loss. Decoded pixels equal the source's decoded
window except in the outermost row/column at the new edges, where chroma upsampling (4:2:0,
4:2:2) has no neighbour beyond the crop any more (measured: up to 4 levels; 4:4:4 and gray
crops decode identically everywhere); code that needs the crop's exact pixels decodes the
crop's bytes (the builder does).

Rules:
- the window's top-left offset must be a multiple of the iMCU (:func:`jpeg_imcu_size`:
  16x16 for 4:2:0, 16x8 for 4:2:2, 8x8 for 4:4:4 and grayscale); right and bottom edges are
  free (partial edge blocks are kept, as in jpegtran);
- coordinates are in the file's STORED orientation (EXIF orientation is not applied);
- 8-bit baseline, extended or progressive JPEGs (Huffman or arithmetic coded) in gray,
  YCbCr or RGB; the output is baseline Huffman (optimised tables by default), no restart
  markers, with the source's ICC profile (APP2) and EXIF (APP1) kept and other APPn/COM
  markers (XMP, MPF, thumbnails in APP0 extensions) dropped; a JFIF APP0 is written only when
  the source had one;
- damaged data (truncation, bad entropy codes, anything libjpeg warns about) is refused
  rather than patched with the grey blocks libjpeg would substitute.

Measured with ``python -m portraitsr4k.image_io.jpeg_crop_timing`` (synthetic photo-like
4000x3000 JPEG, q92 4:2:0, 2.60 MB, cropped to 3840x2160 at (80, 416); one thread, median of 5
after a warm-up; process-CPU ms, two runs on the shared 2-core machine of this project):

==========================================  ==========  ========
operation                                   CPU ms      output
==========================================  ==========  ========
lossless_jpeg_crop, optimised Huffman       87 / 102    1.67 MB
lossless_jpeg_crop, plain Huffman           47 / 55     1.80 MB
decode of the crop (image_io.decode)        70 / 93
decode of the source (image_io.decode)      117 / 151
encode_png level 1 of the decoded window    455 / 495   11.43 MB
==========================================  ==========  ========

The crop is not the ~10 ms reference B7 estimated: libjpeg must entropy-decode the whole
source to reach the window's coefficients (32 ms CPU for this file: the cost of a 16x16 crop)
and entropy-code the crop again;
optimised tables add a second pass over the coefficients (~45 ms for 7 % fewer bytes). Per
builder sample the crop route (crop + its decode, ~160-195 ms) replaces a full decode + PNG
(~570-650 ms) and stores 6.8x fewer bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from portraitsr4k.image_io.probe import DEFAULT_MAX_PIXELS

try:
    from portraitsr4k.image_io import _jpegcrop
except ImportError as _exc:  # the optional extension was not built (see setup.py)
    _jpegcrop = None
    _UNAVAILABLE_REASON = f"{type(_exc).__name__}: {_exc}"
else:
    _UNAVAILABLE_REASON = ""

__all__ = [
    "JpegComponent",
    "JpegCropAlignmentError",
    "JpegCropDataError",
    "JpegCropError",
    "JpegCropUnavailableError",
    "JpegCropUnsupportedError",
    "JpegHeader",
    "jpeg_dct_coefficients",
    "jpeg_header",
    "jpeg_imcu_size",
    "lossless_jpeg_crop",
    "lossless_jpeg_crop_available",
]

logger = logging.getLogger(__name__)

_HOW_TO_BUILD = (
    "the C extension portraitsr4k.image_io._jpegcrop was not built: install the libjpeg headers "
    "(Debian/Ubuntu: apt install libjpeg-dev) and a C compiler, then reinstall portraitsr4k "
    "(pip install -e . --no-build-isolation, or make test)"
)
_logged_unavailable = False


class JpegCropError(ValueError):
    """The data cannot be cropped losslessly (base class; a ``ValueError``)."""


class JpegCropDataError(JpegCropError):
    """The data is not a readable JPEG: empty, not a JPEG, truncated, corrupt, or over the
    pixel limit."""


class JpegCropUnsupportedError(JpegCropError):
    """A valid JPEG this transcoder does not handle: 12/16-bit, lossless or hierarchical
    process, CMYK/YCCK, height given by a DNL marker."""


class JpegCropAlignmentError(JpegCropError):
    """The window's top-left offset is not a multiple of the file's iMCU size."""


class JpegCropUnavailableError(ImportError):
    """The ``_jpegcrop`` extension is not installed (see :func:`lossless_jpeg_crop_available`)."""


@dataclass(frozen=True)
class JpegHeader:
    """What a JPEG's header says, as libjpeg reads it.

    Attributes:
        width, height: stored size in pixels (no EXIF orientation applied).
        components: number of colour components (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK).
        colour_space: ``"gray"``, ``"ycbcr"``, ``"rgb"``, ``"cmyk"``, ``"ycck"`` or ``"unknown"``.
        precision: bits per sample (8 for every file this module can crop).
        progressive, arithmetic: coding process flags.
        jfif, adobe: whether a JFIF APP0 / Adobe APP14 marker was seen.
        sampling: ``(h, v)`` sampling factors per component, e.g. ``((2, 2), (1, 1), (1, 1))``
            for 4:2:0.
        imcu: ``(width, height)`` in pixels of the iMCU, the unit a lossless crop offset must
            be a multiple of.
    """

    width: int
    height: int
    components: int
    colour_space: str
    precision: int
    progressive: bool
    arithmetic: bool
    jfif: bool
    adobe: bool
    sampling: tuple[tuple[int, int], ...]
    imcu: tuple[int, int]

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"a JPEG header needs a positive size, got {self.width}x{self.height}")
        if len(self.sampling) != self.components:
            raise ValueError(f"sampling has {len(self.sampling)} entries for {self.components} components")
        if self.imcu[0] < 8 or self.imcu[1] < 8 or self.imcu[0] % 8 or self.imcu[1] % 8:
            raise ValueError(f"imcu must be positive multiples of 8 px, got {self.imcu}")

    @property
    def pixels(self) -> int:
        """``width * height``."""
        return self.width * self.height


@dataclass(frozen=True)
class JpegComponent:
    """The quantised DCT coefficients of one component (:func:`jpeg_dct_coefficients`).

    Attributes:
        component_id: the id byte from the frame header.
        sampling: ``(h, v)`` sampling factors.
        quant: ``(8, 8)`` uint16 quantisation table, natural (row-major) order.
        blocks: ``(rows, cols, 8, 8)`` int16 quantised coefficients of the component's real
            blocks (no padding blocks), natural order: ``blocks[r, c, 0, 0]`` is the DC value.
    """

    component_id: int
    sampling: tuple[int, int]
    quant: np.ndarray
    blocks: np.ndarray

    def __post_init__(self) -> None:
        if self.quant.shape != (8, 8) or self.quant.dtype != np.uint16:
            raise ValueError(f"quant must be an (8, 8) uint16 array, got {self.quant.dtype} "
                             f"{self.quant.shape}")
        if self.blocks.ndim != 4 or self.blocks.shape[2:] != (8, 8) or self.blocks.dtype != np.int16:
            raise ValueError(f"blocks must be a (rows, cols, 8, 8) int16 array, got "
                             f"{self.blocks.dtype} {self.blocks.shape}")


def lossless_jpeg_crop_available() -> bool:
    """True when the ``_jpegcrop`` extension is installed; else False, with the reason logged
    once per process at WARNING (callers then fall back to a lossless re-encode)."""
    global _logged_unavailable
    if _jpegcrop is not None:
        return True
    if not _logged_unavailable:
        logger.warning("lossless JPEG crop unavailable (%s): %s", _UNAVAILABLE_REASON, _HOW_TO_BUILD)
        _logged_unavailable = True
    return False


def _extension():
    if _jpegcrop is None:
        raise JpegCropUnavailableError(
            f"lossless JPEG crop unavailable ({_UNAVAILABLE_REASON}): {_HOW_TO_BUILD}")
    return _jpegcrop


def _as_bytes(data: object) -> bytes | bytearray | memoryview:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, bytearray or memoryview, got {type(data).__name__}")
    if len(data) == 0:
        raise JpegCropDataError("data is empty (0 bytes)")
    return data


def _translate(exc: Exception) -> Exception:
    """The typed error for an ``_jpegcrop.Error(kind, message)``."""
    kind, message = exc.args if len(exc.args) == 2 else ("corrupt", str(exc))
    if kind == "unsupported":
        return JpegCropUnsupportedError(message)
    if kind == "argument":  # the Python checks make this unreachable unless they are wrong
        return ValueError(message)
    return JpegCropDataError(message)


def jpeg_header(data: bytes | bytearray | memoryview) -> JpegHeader:
    """Read a JPEG's header (markers up to the first scan; no entropy decoding).

    Raises:
        TypeError: ``data`` is not bytes-like.
        JpegCropDataError: empty, not a JPEG, or a damaged header.
        JpegCropUnsupportedError: a header libjpeg refuses (e.g. 12-bit, lossless process).
        JpegCropUnavailableError: the extension is not installed.
    """
    ext = _extension()
    buffer = _as_bytes(data)
    try:
        fields = ext.header(buffer)
    except ext.Error as exc:
        raise _translate(exc) from None
    return JpegHeader(**fields)


def jpeg_imcu_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """``(width, height)`` in pixels of the file's iMCU: a lossless crop's offset must be a
    multiple of it (``8 * max sampling factor`` per axis; 8x8 for one-component files).
    Raises as :func:`jpeg_header`."""
    return jpeg_header(data).imcu


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_pixels(header: JpegHeader, max_pixels: int) -> None:
    if header.pixels > max_pixels:
        raise JpegCropDataError(f"the header claims {header.width}x{header.height} = {header.pixels} pixels, "
                                f"more than max_pixels={max_pixels}")


def lossless_jpeg_crop(
    data: bytes | bytearray | memoryview,
    x0: int,
    y0: int,
    width: int,
    height: int,
    *,
    keep_icc: bool = True,
    keep_exif: bool = True,
    optimize: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """Crop ``[x0, x0 + width) x [y0, y0 + height)`` out of a JPEG without re-encoding.

    Args:
        data: the JPEG file's bytes.
        x0, y0: top-left corner in stored pixels; multiples of :func:`jpeg_imcu_size`.
        width, height: window size in pixels (any positive size inside the image).
        keep_icc: copy the ICC profile (APP2 ``ICC_PROFILE`` chunks, in order).
        keep_exif: copy the EXIF block (APP1 ``Exif``) unchanged; its orientation, thumbnail
            and pixel-dimension tags still describe the source photo.
        optimize: compute optimal Huffman tables (a second pass over the coefficients; ~7%
            smaller files for ~45 ms CPU at 4K, see the module docstring).
        max_pixels: refuse sources whose header claims more pixels (decompression bombs).

    Returns:
        The cropped JPEG's bytes: the same 8x8 DCT blocks as the window of the source, so the
        same quantisation and no generation loss. Equal input gives equal bytes.

    Raises:
        TypeError: wrong argument types.
        ValueError: a non-positive size or a window not inside the image.
        JpegCropAlignmentError: ``(x0, y0)`` is not a multiple of the iMCU size.
        JpegCropDataError: empty, not a JPEG, truncated, corrupt, or over ``max_pixels``.
        JpegCropUnsupportedError: not an 8-bit gray/YCbCr/RGB JPEG libjpeg can transcode.
        JpegCropUnavailableError: the extension is not installed.
    """
    ext = _extension()
    buffer = _as_bytes(data)
    x0, y0 = _check_int("x0", x0, 0), _check_int("y0", y0, 0)
    width, height = _check_int("width", width, 1), _check_int("height", height, 1)
    max_pixels = _check_int("max_pixels", max_pixels, 1)
    for name, flag in (("keep_icc", keep_icc), ("keep_exif", keep_exif), ("optimize", optimize)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    header = jpeg_header(buffer)
    _check_pixels(header, max_pixels)
    if header.colour_space not in ("gray", "ycbcr", "rgb"):
        raise JpegCropUnsupportedError(f"colour space {header.colour_space} is not supported (gray, YCbCr or "
                                       "RGB only)")
    if x0 + width > header.width or y0 + height > header.height:
        raise ValueError(f"window x0={x0} y0={y0} {width}x{height} is not inside the "
                         f"{header.width}x{header.height} image")
    imcu_w, imcu_h = header.imcu
    if x0 % imcu_w or y0 % imcu_h:
        raise JpegCropAlignmentError(f"offset ({x0}, {y0}) is not a multiple of the file's {imcu_w}x{imcu_h} "
                                     f"iMCU (sampling {header.sampling})")
    try:
        return ext.crop(buffer, x0, y0, width, height, keep_icc, keep_exif, optimize)
    except ext.Error as exc:
        raise _translate(exc) from None


def jpeg_dct_coefficients(data: bytes | bytearray | memoryview, *,
                          max_pixels: int = DEFAULT_MAX_PIXELS) -> list[JpegComponent]:
    """The quantised DCT coefficients and quantisation tables of every component, as libjpeg
    decodes them (entropy decoding only, no IDCT): the ground truth for checking that a crop
    kept every block. Raises as :func:`jpeg_header`, and :class:`JpegCropDataError` for a
    header over ``max_pixels``."""
    ext = _extension()
    buffer = _as_bytes(data)
    _check_pixels(jpeg_header(buffer), _check_int("max_pixels", max_pixels, 1))
    try:
        raw = ext.coefficients(buffer)
    except ext.Error as exc:
        raise _translate(exc) from None
    components = []
    for component_id, h, v, rows, cols, quant, blocks in raw:
        components.append(JpegComponent(
            component_id=int(component_id),
            sampling=(int(h), int(v)),
            quant=np.frombuffer(quant, dtype=np.uint16).reshape(8, 8).copy(),
            blocks=np.frombuffer(blocks, dtype=np.int16).reshape(rows, cols, 8, 8).copy(),
        ))
    return components
