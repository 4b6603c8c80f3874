"""Normalise any decoded Pillow image to 8-bit sRGB ``RGB``.

Pillow's ``convert("RGB")`` is wrong for several inputs a photo dataset meets
(reference: reliability-and-performance.md A1, A5 rows 8-11), so each case is explicit here:

- ICC-tagged images (Display-P3 phones, Adobe RGB, CMYK with a press profile) go through
  LittleCMS (``PIL.ImageCms``) to sRGB with the profile's own rendering intent (relative
  colorimetric when the profile has no table for it). A profile that maps every colour to
  itself within one level (an sRGB profile under any name) is left alone, so plain sRGB photos
  keep their exact pixels.
- CMYK without a profile: Pillow already undoes Adobe's inverted CMYK/YCCK; we then apply the
  generic device conversion ``R = (255 - C) * (255 - K) / 255`` (same for G/M, B/Y), rounded.
  It is not colour-managed (no press profile is known) and is recorded as
  ``cmyk_to_rgb_generic``.
- 16-bit samples are scaled, never clamped: ``v8 = round(v * 255 / (2**bits - 1))`` for
  ``I;16``/``I;16B``/``I`` gray (a 16-bit ramp keeps all 256 levels). 16-bit RGB(A) PNGs are
  opened by Pillow as 8-bit keeping the 8 most significant bits (``v >> 8``), which differs
  from rounding by at most one level; both are recorded as ``16bit_to_8bit``.
- alpha (RGBA, LA, PA, P + tRNS) is composited over a fixed background colour after the colour
  conversion, in 8-bit sRGB: ``out = round((c * a + bg * (255 - a)) / 255)``.
- gray stays gray until the end and is then repeated into three channels (exact).
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageCms

__all__ = ["UnsupportedModeError", "icc_description", "to_srgb", "validate_background"]

# A transform that moves no colour of a 17^3 grid by more than this is treated as identity.
_SRGB_EQUIVALENT_TOLERANCE = 1
_PROFILE_SPACE_FOR_MODE = {"RGB": "RGB ", "L": "GRAY", "CMYK": "CMYK"}


class UnsupportedModeError(ValueError):
    """The pixels are in a mode with no defined display mapping (e.g. float or 32-bit int)."""


def validate_background(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Return ``background`` as a tuple of three ints in 0..255, else raise ValueError/TypeError."""
    if not isinstance(background, (tuple, list)) or len(background) != 3:
        raise TypeError(f"background must be an (R, G, B) tuple, got {background!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in background):
        raise ValueError(f"background values must be ints in 0..255, got {background!r}")
    return (int(background[0]), int(background[1]), int(background[2]))


@functools.lru_cache(maxsize=64)
def _profile(icc: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


@functools.lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def icc_description(icc: bytes) -> str | None:
    """The description tag of an ICC profile (``"Display P3"``); raises if unparsable."""
    text = ImageCms.getProfileDescription(_profile(icc)).strip()
    return text or None


def _intent(profile: ImageCms.ImageCmsProfile) -> ImageCms.Intent:
    intent = ImageCms.Intent(ImageCms.getDefaultIntent(profile))
    if ImageCms.isIntentSupported(profile, intent, ImageCms.Direction.INPUT):
        return intent
    return ImageCms.Intent.RELATIVE_COLORIMETRIC


@functools.lru_cache(maxsize=32)
def _transform(icc: bytes, in_mode: str) -> ImageCms.ImageCmsTransform:
    # Building a LUT transform for a press CMYK profile takes tens of ms; photos from one
    # camera or agency share a profile, so transforms are cached by the profile bytes.
    profile = _profile(icc)
    return ImageCms.buildTransform(profile, _srgb(), in_mode, "RGB", renderingIntent=_intent(profile))


@functools.lru_cache(maxsize=64)
def _is_srgb_equivalent(icc: bytes) -> bool:
    levels = np.linspace(0, 255, 17).round().astype(np.uint8)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(1, -1, 3)
    out = ImageCms.applyTransform(Image.fromarray(np.ascontiguousarray(grid), "RGB"), _transform(icc, "RGB"))
    diff = np.abs(np.asarray(out, dtype=np.int16) - grid.astype(np.int16))
    return int(diff.max()) <= _SRGB_EQUIVALENT_TOLERANCE


def _scale_to_8bit(image: Image.Image, bits: int) -> Image.Image:
    bits = bits if 1 <= bits <= 16 else 16
    max_value = (1 << bits) - 1
    samples = np.asarray(image)
    if samples.dtype.kind == "i":  # mode I is signed 32-bit; negative samples are black
        samples = np.clip(samples, 0, max_value)
    # uint32 holds 65535 * 255 + 32767; astype also turns I;16B's big-endian words native.
    samples = np.minimum(samples.astype(np.uint32), max_value)
    scaled = (samples * 255 + max_value // 2) // max_value
    return Image.fromarray(scaled.astype(np.uint8), "L")


def _cmyk_generic(image: Image.Image) -> Image.Image:
    cmyk = np.asarray(image, dtype=np.uint16)
    white = 255 - cmyk[..., :3]
    keep = 255 - cmyk[..., 3:4]
    rgb = (white * keep + 127) // 255
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def _composite(image: Image.Image, alpha: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    colour = np.asarray(image, dtype=np.uint32)
    a = np.asarray(alpha, dtype=np.uint32)[..., None]
    bg = np.asarray(background, dtype=np.uint32)
    out = (colour * a + bg * (255 - a) + 127) // 255
    return Image.fromarray(out.astype(np.uint8), "RGB")


def to_srgb(
    image: Image.Image, *, icc: bytes | None, bits_per_sample: int, background: tuple[int, int, int]
) -> tuple[Image.Image, list[str], list[str]]:
    """Convert a loaded Pillow image to 8-bit sRGB.

    Args:
        image: a loaded image in any Pillow mode (size unchanged by this function).
        icc: the embedded ICC profile bytes, or None.
        bits_per_sample: stored bits per sample from the header (16 for 16-bit PNG/TIFF).
        background: ``(R, G, B)`` uint8 colour under transparent pixels.

    Returns:
        ``(rgb_image, conversions, notes)``: an ``RGB`` image, the conversion tags applied in
        order, and notes for the message (e.g. an ignored profile of the wrong colour space).

    Raises:
        UnsupportedModeError: float / 32-bit integer / LAB / HSV pixels.
        ImageCms.PyCMSError: the profile cannot be turned into a transform.
    """
    conversions: list[str] = []
    notes: list[str] = []
    mode = image.mode
    if mode == "1":
        image = image.convert("L")
        conversions.append("bilevel_to_gray")
    elif mode.startswith("I;16") or mode == "I":
        if mode == "I" and bits_per_sample > 16:
            raise UnsupportedModeError(
                f"32-bit integer samples (mode I, {bits_per_sample} bits) have no defined display range"
            )
        image = _scale_to_8bit(image, min(bits_per_sample, 16))
        conversions.append("16bit_to_8bit")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
        conversions.append("palette_to_rgb")
    elif mode in ("RGBa", "La", "RGBX", "YCbCr"):
        image = image.convert({"RGBa": "RGBA", "La": "LA"}.get(mode, "RGB"))
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        raise UnsupportedModeError(f"pixel mode {mode} has no supported conversion to sRGB")
    if bits_per_sample == 16 and mode in ("RGB", "RGBA", "LA", "L"):
        conversions.append("16bit_to_8bit")  # Pillow kept the 8 most significant bits

    alpha = None
    if image.mode in ("RGBA", "LA"):
        alpha = image.getchannel("A")
        image = image.convert("RGB" if image.mode == "RGBA" else "L")

    if icc is not None and image.mode in _PROFILE_SPACE_FOR_MODE:
        space = _profile(icc).profile.xcolor_space
        if space != _PROFILE_SPACE_FOR_MODE[image.mode]:
            notes.append(f"ignored an ICC profile for colour space {space.strip()!r} on {image.mode} pixels")
            icc = None
    if image.mode == "CMYK":
        if icc is not None:
            image = ImageCms.applyTransform(image, _transform(icc, "CMYK"))
            conversions.append("icc_to_srgb")
        else:
            image = _cmyk_generic(image)
            conversions.append("cmyk_to_rgb_generic")
    elif icc is not None and (image.mode == "L" or not _is_srgb_equivalent(icc)):
        image = ImageCms.applyTransform(image, _transform(icc, image.mode))
        conversions.append("icc_to_srgb")

    if image.mode == "L":
        image = image.convert("RGB")
        conversions.append("gray_to_rgb")
    if alpha is not None:
        image = _composite(image, alpha, background)
        conversions.append("alpha_composite")
    return image, conversions, notes
