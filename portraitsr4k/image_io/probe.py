"""Read an image header (format, size, EXIF orientation, ICC, frames) without decoding pixels.

The gates of the dataset builder run on :func:`probe` before any full decode. Safety rules:

- only allow-listed formats are tried: ``Image.open(fp, formats=[...])`` and only their plugins
  are imported (a renamed EPS/PDF/FITS file never reaches its parser);
- the decompression-bomb limit is per call (``max_pixels``) and checked by us on the header
  size; Pillow's global ``Image.MAX_IMAGE_PIXELS`` guard is never changed. Pillow's own
  ``DecompressionBombWarning`` (above 89.5 MP) is caught and decided by the per-call limit;
  its ``DecompressionBombError`` (above 2x its limit, 179 MP) always stands, so ``max_pixels``
  above that cannot loosen it;
- ``ImageFile.LOAD_TRUNCATED_IMAGES`` is never touched; truncation is also detected by walking
  the container (JPEG EOI, PNG IEND, RIFF/ISO-BMFF sizes), so a cut file fails at the probe.

Notes: ``Image.open`` itself imports Pillow's "preinit" plugins (BMP, GIF, JPEG, PPM, PNG) on
its first call; the allow-list keeps GIF/PPM from ever being *tried*. Pillow warnings are
recorded with ``warnings.catch_warnings``, which swaps process-wide filters: use processes,
not threads, to read images in parallel (the builder's executors already do).
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Union

from PIL import Image, ImageFile, features

from portraitsr4k.image_io.colour import icc_description
from portraitsr4k.image_io.containers import png_bit_depth, png_exif_chunk, truncation_reason
from portraitsr4k.image_io.errors import classify_exception
from portraitsr4k.image_io.status import (
    ERROR_BOMB,
    ERROR_COLOUR,
    ERROR_CORRUPT,
    ERROR_EMPTY,
    ERROR_IO,
    ERROR_TRUNCATED,
    ERROR_UNSUPPORTED_FORMAT,
    OK,
    ImageInfo,
)

__all__ = ["ALLOWED_FORMATS", "DEFAULT_MAX_PIXELS", "Source", "probe"]

logger = logging.getLogger(__name__)

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]

# The Pillow plugin module of every format we know how to allow. Importing only these keeps
# every other parser (and its CVE history) out of the process.
_PLUGINS: dict[str, str] = {
    "JPEG": "PIL.JpegImagePlugin",
    "MPO": "PIL.MpoImagePlugin",
    "PNG": "PIL.PngImagePlugin",
    "WEBP": "PIL.WebPImagePlugin",
    "TIFF": "PIL.TiffImagePlugin",
    "BMP": "PIL.BmpImagePlugin",
    "AVIF": "PIL.AvifImagePlugin",
    "GIF": "PIL.GifImagePlugin",
}

ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "MPO") + (
    ("AVIF",) if features.check_module("avif") else ()
)
"""Default format allow-list (AVIF only when this Pillow build has the AVIF codec)."""

DEFAULT_MAX_PIXELS: int = 120_000_000
"""Default per-call decompression-bomb limit on ``width * height`` of the header.

Covers 100 MP medium-format photos (11648 x 8736 = 101.8 MP) with margin; decoding such an
image needs ~360 MB as 8-bit RGB. Pillow's global error at 178,956,970 px still applies above.
"""

# Compressed images are far smaller than their pixels; a file bigger than 8 bytes per allowed
# pixel (16-bit RGBA, uncompressed) plus room for trailers is refused before it is read.
_FILE_BYTES_PER_PIXEL = 8
_FILE_SLACK_BYTES = 64 * 1024 * 1024

_EXIF_ORIENTATION = 0x0112
_warned_truncated_flag = False  # log the LOAD_TRUNCATED_IMAGES warning once per process
_TIFF_IMAGE_WIDTH = 256
_TIFF_IMAGE_LENGTH = 257
_TIFF_BITS_PER_SAMPLE = 258


def validate_formats(formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Upper-case ``formats``, import their plugins, and refuse names Pillow cannot open.

    Raises:
        TypeError: ``formats`` is not a list/tuple of str.
        ValueError: a name is neither a known plugin nor registered with Pillow (e.g. HEIF
            without ``pillow_heif.register_heif_opener()``).
    """
    if (
        isinstance(formats, str)
        or not isinstance(formats, (tuple, list))
        or not all(isinstance(f, str) for f in formats)
    ):
        raise TypeError(f"formats must be a tuple of format names such as ('JPEG', 'PNG'), got {formats!r}")
    names = tuple(f.upper() for f in formats)
    if not names:
        raise ValueError("formats must name at least one format, got an empty sequence")
    for name in names:
        if name in Image.OPEN or (name == "MPO" and "MPO" in Image.SAVE):
            continue
        module = _PLUGINS.get(name)
        if module is not None:
            try:
                importlib.import_module(module)
            except ImportError as exc:  # e.g. AVIF on a Pillow built without libavif
                raise ValueError(f"format {name!r} is not available in this Pillow build ({exc})") from exc
        if name not in Image.OPEN and not (name == "MPO" and "MPO" in Image.SAVE):
            known = sorted(set(_PLUGINS) | set(Image.OPEN))
            raise ValueError(f"unknown image format {name!r}; expected one of {known}")
    if "MPO" in names:
        importlib.import_module(_PLUGINS["JPEG"])
    return names


def _pillow_formats(names: tuple[str, ...]) -> list[str]:
    # MPO has no opener of its own: the JPEG opener returns an MpoImageFile when the file has
    # an MP index. Naming "MPO" to Image.open would make Pillow import *every* plugin.
    pillow = [name for name in names if name != "MPO"]
    if "MPO" in names and "JPEG" not in pillow:
        pillow.append("JPEG")
    return pillow


def validate_max_pixels(max_pixels: int) -> int:
    """Return ``max_pixels`` after checking it is a positive int."""
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int):
        raise TypeError(f"max_pixels must be an int, got {type(max_pixels).__name__}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    return max_pixels


def read_source(source: Source, max_pixels: int) -> tuple[bytes, None] | tuple[None, ImageInfo]:
    """The source's bytes, or ``(None, error ImageInfo)`` for an empty/unreadable/huge file.

    ``bytes``-like sources are data; ``str``/``os.PathLike`` are paths.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            return None, ImageInfo(status=ERROR_EMPTY, message="zero bytes")
        return data, None
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be bytes or a path (str/os.PathLike), got {type(source).__name__}")
    path = os.fspath(source)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return None, ImageInfo(status=ERROR_EMPTY, message=f"{path}: zero bytes")
            limit = _FILE_BYTES_PER_PIXEL * max_pixels + _FILE_SLACK_BYTES
            if size > limit:
                return None, ImageInfo(
                    status=ERROR_BOMB,
                    file_size=size,
                    message=(
                        f"{path}: {size} bytes is more than an image of max_pixels={max_pixels} can "
                        f"need ({limit} bytes)"
                    ),
                )
            data = fh.read()
    except OSError as exc:  # missing, a directory, permission, I/O error
        return None, ImageInfo(status=ERROR_IO, message=f"cannot read {path!r}: {exc}")
    if not data:
        return None, ImageInfo(status=ERROR_EMPTY, message=f"{path}: zero bytes")
    return data, None


def _bits_per_sample(image: Image.Image, data: bytes) -> int:
    if image.format == "PNG":
        depth = png_bit_depth(data)
        if depth is not None:
            return depth
    if image.format == "TIFF":
        tag = getattr(image, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE)
        if isinstance(tag, tuple) and tag:
            return int(max(tag))
        if isinstance(tag, int):
            return tag
    if image.mode.startswith("I;16"):
        return 16
    if image.mode in ("I", "F"):
        return 32
    if image.mode == "1":
        return 1
    return 8


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as stored in the file.

    Pillow's TIFF plugin (13.x) reports ``size`` already swapped for orientations 5-8 and
    transposes while loading; its IFD tags still hold the stored sides.
    """
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        width, height = tags.get(_TIFF_IMAGE_WIDTH), tags.get(_TIFF_IMAGE_LENGTH)
        if isinstance(width, int) and isinstance(height, int):
            return width, height
    return image.size


def _orientation(image: Image.Image, data: bytes, notes: list[str]) -> int:
    try:
        if image.format == "PNG":  # PngImageFile.getexif() would decode the pixels
            raw = png_exif_chunk(data)
            exif = Image.Exif()
            if raw is not None:
                exif.load(raw)
        else:
            exif = image.getexif()
        value = exif.get(_EXIF_ORIENTATION)
    except Exception as exc:  # noqa: BLE001  corrupt EXIF must not cost the image
        notes.append(f"EXIF unreadable, orientation taken as 1 ({type(exc).__name__}: {exc})")
        return 1
    # exif_transpose ignores values outside 1..8; so do we.
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


@dataclass
class OpenedImage:
    """An opened (header-only) Pillow image plus its checked header record. Close ``image``."""

    data: bytes
    image: Image.Image
    info: ImageInfo
    notes: list[str] = field(default_factory=list)


def _fail(status: str, message: str, data: bytes, fmt: str | None = None) -> ImageInfo:
    return ImageInfo(status=status, message=message, format=fmt, file_size=len(data))


def open_checked(data: bytes, *, max_pixels: int, formats: tuple[str, ...]) -> OpenedImage | ImageInfo:
    """Open ``data`` lazily with the allow-list and run every header check.

    Returns an :class:`OpenedImage` (caller closes ``image``) or an error :class:`ImageInfo`.
    Must be called inside ``warnings.catch_warnings(record=True)`` (see :func:`probe`).
    """
    image: Image.Image | None = None
    fmt: str | None = None
    notes: list[str] = []
    try:
        image = Image.open(io.BytesIO(data), formats=_pillow_formats(formats))
        fmt = image.format
        if fmt not in formats:
            image.close()
            return _fail(
                ERROR_UNSUPPORTED_FORMAT, f"{fmt} data; allowed formats are {', '.join(formats)}", data, fmt
            )
        stored_w, stored_h = _stored_size(image)
        if stored_w < 1 or stored_h < 1 or stored_w * stored_h > max_pixels:
            image.close()
            status = ERROR_BOMB if stored_w * stored_h > max_pixels else ERROR_CORRUPT
            return _fail(
                status,
                f"header size {stored_w}x{stored_h} = {stored_w * stored_h} px; "
                f"allowed 1..{max_pixels} px (max_pixels)",
                data,
                fmt,
            )
        reason = truncation_reason(data, fmt)
        if reason is not None:
            image.close()
            return _fail(ERROR_TRUNCATED, reason, data, fmt)
        orientation = _orientation(image, data, notes)
        n_frames = int(getattr(image, "n_frames", 1))
        icc_bytes = image.info.get("icc_profile") or None
        description = None
        if icc_bytes is not None:
            try:
                description = icc_description(icc_bytes)
            except Exception as exc:  # noqa: BLE001  any parse failure of the profile
                image.close()
                return _fail(
                    ERROR_COLOUR,
                    f"embedded ICC profile ({len(icc_bytes)} bytes) is "
                    f"unreadable: {type(exc).__name__}: {exc}",
                    data,
                    fmt,
                )
        swap = orientation >= 5
        info = ImageInfo(
            status=OK,
            message="",
            format=fmt,
            width=stored_h if swap else stored_w,
            height=stored_w if swap else stored_h,
            stored_width=stored_w,
            stored_height=stored_h,
            orientation=orientation,
            mode=image.mode,
            bits_per_sample=_bits_per_sample(image, data),
            icc=icc_bytes is not None,
            icc_description=description,
            n_frames=max(1, n_frames),
            file_size=len(data),
        )
        return OpenedImage(data=data, image=image, info=info, notes=notes)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001  every codec failure becomes a status
        if image is not None:
            image.close()
        status, message = classify_exception(exc, data, fmt, formats, "opening")
        return _fail(status, message, data, fmt)


def warning_notes(caught: list[warnings.WarningMessage]) -> list[str]:
    """Distinct warning texts recorded while reading, in order."""
    seen: dict[str, None] = {}
    for item in caught:
        seen.setdefault(f"{item.category.__name__}: {item.message}", None)
    return list(seen)


def check_truncated_flag() -> None:
    """Log loudly (once) when some library switched ``ImageFile.LOAD_TRUNCATED_IMAGES`` on.

    We never change it back (it is process-wide and not ours), but our own container checks
    still refuse cut JPEG/PNG/WebP/AVIF files.
    """
    global _warned_truncated_flag
    if ImageFile.LOAD_TRUNCATED_IMAGES and not _warned_truncated_flag:
        _warned_truncated_flag = True
        logger.warning(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True in this process: Pillow will "
            "fill truncated images with gray; image_io still rejects truncated "
            "JPEG/PNG/WebP/AVIF by their container structure"
        )


def probe(
    source: Source, *, max_pixels: int = DEFAULT_MAX_PIXELS, formats: tuple[str, ...] = ALLOWED_FORMATS
) -> ImageInfo:
    """Read the header of one image: format, display size, orientation, ICC, frames.

    No pixel data is decoded (cost: tens of microseconds plus reading the file).

    Args:
        source: encoded bytes, or a path (``str`` / ``os.PathLike``).
        max_pixels: refuse headers with ``stored_width * stored_height`` above this
            (``error:bomb``).
        formats: Pillow format names to allow (default :data:`ALLOWED_FORMATS`).

    Returns:
        :class:`ImageInfo`; never raises for bad data (statuses ``error:empty``,
        ``error:truncated``, ``error:bomb``, ``error:unsupported_format``, ``error:corrupt``,
        ``error:io``, ``error:colour``).

    Raises:
        TypeError, ValueError: for invalid arguments only.
    """
    names = validate_formats(formats)
    validate_max_pixels(max_pixels)
    data, failure = read_source(source, max_pixels)
    if data is None:
        return failure  # type: ignore[return-value]
    check_truncated_flag()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opened = open_checked(data, max_pixels=max_pixels, formats=names)
        if isinstance(opened, ImageInfo):
            return opened
        opened.image.close()
    notes = opened.notes + warning_notes(caught)
    if notes:
        return replace(opened.info, message="; ".join(notes))
    return opened.info
