"""Decode one untrusted image to an ``(H, W, 3)`` uint8 sRGB array, full size or reduced.

Order of operations (the same for every path, so every path agrees on geometry):

1. read + header checks (:mod:`.probe`): allow-list, bomb limit, truncation, ICC readable;
2. frame 0 (multi-frame files record ``frame0_of_N``);
3. JPEG/MPO reduced decode via ``draft`` (libjpeg DCT scaling, 2-3x cheaper than a full decode)
   *before* anything loads pixels; other formats load fully;
4. colour normalisation to 8-bit sRGB (:mod:`.colour`);
5. ``Image.reduce`` for non-JPEG reductions (box filter), on the normalised image;
6. EXIF orientation applied last with the same transposes as ``ImageOps.exif_transpose``
   (on the smaller image; ``exif_transpose`` itself would force a full ``load()`` first,
   defeating ``draft``).
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import replace

import numpy as np
from PIL import Image

from portraitsr4k.image_io.colour import UnsupportedModeError, to_srgb, validate_background
from portraitsr4k.image_io.errors import classify_exception
from portraitsr4k.image_io.probe import (
    ALLOWED_FORMATS,
    DEFAULT_MAX_PIXELS,
    OpenedImage,
    Source,
    check_truncated_flag,
    open_checked,
    read_source,
    validate_formats,
    validate_max_pixels,
    warning_notes,
)
from portraitsr4k.image_io.status import (
    ERROR_UNSUPPORTED_FORMAT,
    OK,
    DecodedImage,
    ImageInfo,
)

__all__ = ["REDUCTIONS", "decode", "reduction_for_max_side", "source_digest"]

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112

REDUCTIONS: tuple[int, ...] = (1, 2, 4, 8)
"""Integer reductions libjpeg can do in the DCT (and ``Image.reduce`` for other formats)."""

# Orientation -> transpose, exactly the table of PIL.ImageOps.exif_transpose.
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def source_digest(data: bytes) -> str:
    """SHA-256 hex digest identifying a source's exact bytes (~1.7 ms for 2.6 MB here)."""
    return hashlib.sha256(data).hexdigest()


def reduction_for_max_side(long_side: int, max_side: int) -> int:
    """Largest factor in :data:`REDUCTIONS` whose reduced long side stays ``>= max_side``.

    The reduced side is ``ceil(long_side / factor)`` (what libjpeg and ``Image.reduce`` give).
    """
    best = 1
    for factor in REDUCTIONS:
        if -(-long_side // factor) >= max_side:
            best = factor
    return best


def _validate_reduce(reduce: int, max_side: int | None) -> None:
    if isinstance(reduce, bool) or not isinstance(reduce, int) or reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    if max_side is not None:
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 1:
            raise ValueError(f"max_side must be a positive int or None, got {max_side!r}")
        if reduce != 1:
            raise ValueError(
                f"give either reduce or max_side, not both (got reduce={reduce}, max_side={max_side})"
            )


def _failed(info: ImageInfo) -> DecodedImage:
    # Debug level: a batch reports its per-status counts; individual failures are in the rows.
    logger.debug("decode failed with %s: %s", info.status, info.message)
    return DecodedImage(status=info.status, message=info.message, rgb=None, info=info)


def _decode_opened(
    opened: OpenedImage,
    factor: int,
    background: tuple[int, int, int],
    conversions: list[str],
    notes: list[str],
) -> Image.Image:
    image, info = opened.image, opened.info
    if info.n_frames > 1:
        image.seek(0)
        conversions.append(f"frame0_of_{info.n_frames}")
    # Never reduce a side below one pixel.
    factor = max(f for f in REDUCTIONS if f <= factor and f <= min(info.stored_width, info.stored_height))
    reduced_by = 1
    if factor > 1 and info.format in ("JPEG", "MPO"):
        # draft must run before load(): request the mode we already have (so no colour change)
        # and the floor size, which makes Pillow pick exactly `factor` (see JpegImageFile.draft).
        image.draft(image.mode, (info.stored_width // factor, info.stored_height // factor))
        if image.size != (info.stored_width, info.stored_height):
            reduced_by = factor
            conversions.append(f"draft_1/{factor}")
    image.load()
    oriented_by_pillow = _oriented_while_loading(image, info.orientation)
    icc = image.info.get("icc_profile") or None
    rgb_image, colour_steps, colour_notes = to_srgb(
        image, icc=icc, bits_per_sample=info.bits_per_sample, background=background
    )
    conversions.extend(colour_steps)
    notes.extend(colour_notes)
    if factor > reduced_by:
        rgb_image = rgb_image.reduce(factor // reduced_by)
        conversions.append(f"reduce_{factor // reduced_by}")
    if info.orientation != 1:
        # A plugin that transposed while loading (TIFF) already gave display-oriented pixels.
        if not oriented_by_pillow:
            rgb_image = rgb_image.transpose(_TRANSPOSE[info.orientation])
        conversions.append("exif_transpose")
    return rgb_image


def _oriented_while_loading(image: Image.Image, orientation: int) -> bool:
    """True when the plugin applied the EXIF orientation itself during ``load()``.

    Pillow's TIFF plugin (13.x) calls ``exif_transpose(in_place=True)`` in ``load_end`` and
    drops the tag; other plugins keep the tag and leave the pixels as stored.
    """
    if orientation == 1:
        return False
    try:
        return image.getexif().get(_EXIF_ORIENTATION) != orientation
    except Exception:  # noqa: BLE001  unreadable EXIF now: nothing was applied from it
        return False


def decode(
    source: Source,
    *,
    reduce: int = 1,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    formats: tuple[str, ...] = ALLOWED_FORMATS,
    background: tuple[int, int, int] = (255, 255, 255),
) -> DecodedImage:
    """Decode an image to 8-bit sRGB in display orientation.

    Args:
        source: encoded bytes, or a path (``str`` / ``os.PathLike``).
        reduce: integer reduction 1, 2, 4 or 8: JPEG draft (DCT scaling) for JPEG/MPO,
            ``Image.reduce`` (box average) for other formats. The decoded size is
            ``ceil(side / reduce)``.
        max_side: instead of ``reduce``: the largest power-of-two reduction (up to 8) that keeps
            the long side ``>= max_side`` (e.g. ``max_side=1000`` for a face detector).
        max_pixels: decompression-bomb limit on the header's ``width * height``.
        formats: allowed Pillow format names (default :data:`ALLOWED_FORMATS`).
        background: ``(R, G, B)`` colour composited under transparent pixels.

    Returns:
        :class:`DecodedImage` with ``rgb`` an ``(H, W, 3)`` uint8 C-contiguous writeable array
        in sRGB, values 0..255, or an error status and message (never raises for bad data).

    Raises:
        TypeError, ValueError: for invalid arguments only.
    """
    _validate_reduce(reduce, max_side)
    names = validate_formats(formats)
    validate_max_pixels(max_pixels)
    bg = validate_background(background)
    data, failure = read_source(source, max_pixels)
    if data is None:
        return _failed(failure)  # type: ignore[arg-type]
    check_truncated_flag()
    conversions: list[str] = []
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opened = open_checked(data, max_pixels=max_pixels, formats=names)
        if isinstance(opened, ImageInfo):
            return _failed(opened)
        info = opened.info
        factor = (
            reduce if max_side is None else reduction_for_max_side(max(info.width, info.height), max_side)
        )
        try:
            with opened.image:
                rgb_image = _decode_opened(opened, factor, bg, conversions, notes)
                rgb = np.array(rgb_image, dtype=np.uint8, order="C")  # one writeable copy
        except (KeyboardInterrupt, SystemExit):
            raise
        except UnsupportedModeError as exc:
            return _failed(replace(info, status=ERROR_UNSUPPORTED_FORMAT, message=str(exc)))
        except BaseException as exc:  # noqa: BLE001  every codec failure becomes a status
            status, message = classify_exception(exc, opened.data, info.format, names, "decoding")
            return _failed(replace(info, status=status, message=message))
    message = "; ".join(opened.notes + notes + warning_notes(caught))
    height, width = rgb.shape[:2]
    result = DecodedImage(
        status=OK,
        message=message,
        rgb=rgb,
        info=info,
        scale_x=info.width / width,
        scale_y=info.height / height,
        conversions=tuple(conversions),
    )
    if result.pixels_unchanged:
        result = replace(result, source_digest=source_digest(opened.data))
    return result
